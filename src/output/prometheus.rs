//! The Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` once per
//! metric, then one sample a line, label values escaped as the format asks.

use std::fmt::Write as _;
use std::io::{self, Write};

/// One metric family: its name, help text, type and samples.
#[derive(Debug, Clone)]
pub struct Metric {
    /// `sockx_probe_up`, …
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// `gauge`, `counter`, …
    pub kind: &'static str,
    /// The samples, each with its labels.
    pub samples: Vec<Sample>,
}

/// One sample: label names and values, and the value.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Label names and (unescaped) values, in order.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

/// Writes every metric family; one with no sample is left out whole.
pub fn write(out: &mut dyn Write, metrics: &[Metric]) -> io::Result<()> {
    let mut text = String::new();
    for metric in metrics.iter().filter(|m| !m.samples.is_empty()) {
        let _ = writeln!(text, "# HELP {} {}", metric.name, escape_help(metric.help));
        let _ = writeln!(text, "# TYPE {} {}", metric.name, metric.kind);
        for sample in &metric.samples {
            text.push_str(metric.name);
            if !sample.labels.is_empty() {
                let labels: Vec<String> = sample
                    .labels
                    .iter()
                    .map(|(name, value)| format!("{name}=\"{}\"", escape_label(value)))
                    .collect();
                let _ = write!(text, "{{{}}}", labels.join(","));
            }
            let _ = writeln!(text, " {}", format_value(sample.value));
        }
    }
    out.write_all(text.as_bytes())
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A help text: backslash and line feed escaped.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_format() {
        let metrics = [
            Metric {
                name: "x_up",
                help: "Whether it is up.",
                kind: "gauge",
                samples: vec![Sample {
                    labels: vec![("host", "a\"b\\c\nd".into()), ("port", "80".into())],
                    value: 1.0,
                }],
            },
            Metric {
                name: "x_empty",
                help: "Never written.",
                kind: "gauge",
                samples: vec![],
            },
            Metric {
                name: "x_seconds",
                help: "Time.",
                kind: "gauge",
                samples: vec![Sample {
                    labels: vec![],
                    value: 0.000125,
                }],
            },
        ];
        let mut out = Vec::new();
        write(&mut out, &metrics).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP x_up Whether it is up.\n# TYPE x_up gauge\n\
             x_up{host=\"a\\\"b\\\\c\\nd\",port=\"80\"} 1\n\
             # HELP x_seconds Time.\n# TYPE x_seconds gauge\nx_seconds 0.000125\n"
        );
    }
}
