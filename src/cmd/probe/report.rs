//! What `probe` prints: a line per reported port (or a JSON object), and the summary line.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::check::{Check, CheckJson, CheckKind};
use super::http::HttpInfo;
use super::outcome::{Outcome, PortState, Reason};
use super::plan::Record;
use crate::net::format_duration;
use crate::net::socket::Proto;
use crate::output::Colors;
use crate::output::color::paint;

/// One reported port, as the JSON contract names its fields.
#[derive(Debug, Clone, Serialize)]
pub struct PortReport {
    /// The host as the user named it.
    pub host: String,
    /// The address probed.
    pub addr: String,
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// `open`, `closed`, `filtered`, `open|filtered`.
    pub state: PortState,
    /// `syn-ack`, `conn-refused`, `timeout`, ...
    pub reason: Reason,
    /// Round-trip time in milliseconds; null when nothing answered.
    pub rtt_ms: Option<f64>,
    /// The service's first bytes, escaped; only with `--banner` (null when it said nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<Option<String>>,
    /// The application check's verdict; only with a check (null when the port is not open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Option<CheckJson>>,
    /// The HTTP response head; only with `--http` (null when none came back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Option<HttpInfo>>,
    /// The attempt number in latency mode (from 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// `HOST:PORT` for people (not serialised).
    #[serde(skip)]
    pub endpoint: String,
    /// The check's part of the text line (not serialised).
    #[serde(skip)]
    pub check_text: Option<String>,
}

impl PortReport {
    /// The report of `record` probed at `addr` with `outcome`.
    pub fn new(
        record: &Record,
        addr: SocketAddr,
        outcome: &Outcome,
        proto: Proto,
        with_banner: bool,
    ) -> PortReport {
        let mut endpoint = record.endpoint();
        if record.host.is_name {
            endpoint.push_str(&format!(" ({})", addr.ip()));
        }
        PortReport {
            host: record.host.name.clone(),
            addr: addr.ip().to_string(),
            port: record.port,
            proto,
            state: outcome.state,
            reason: outcome.reason,
            rtt_ms: outcome.rtt.map(millis),
            banner: with_banner.then(|| outcome.banner.clone()),
            check: None,
            http: None,
            seq: None,
            endpoint,
            check_text: None,
        }
    }

    /// Adds the verdict of `check` (the run's check, if any) from `outcome`.
    pub fn with_check(mut self, check: Option<&Check>, outcome: &Outcome) -> PortReport {
        let Some(check) = check else {
            return self;
        };
        let result = outcome.check.as_ref();
        self.check = Some(result.map(|result| result.json()));
        if matches!(check.kind, CheckKind::Http { .. }) {
            self.http = Some(result.and_then(|result| result.http.clone()));
        }
        self.check_text = result.map(|result| result.text(crate::output::notes::is_verbose()));
        self
    }
}

/// Milliseconds with microsecond precision.
pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// Formats milliseconds for people: `0.12ms`, `12.3ms`, `123ms`.
pub fn format_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2}ms")
    } else if ms < 100.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.0}ms")
    }
}

/// Writes `reports` to stdout (JSON lines or aligned human lines) and flushes it.
pub fn print_reports(reports: &[PortReport], json: bool, colors: Colors) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    write_reports(&mut stdout, reports, json, colors)?;
    stdout.flush()
}

/// Writes `reports` as JSON lines or as human lines aligned on their widest cells.
fn write_reports(
    out: &mut dyn Write,
    reports: &[PortReport],
    json: bool,
    colors: Colors,
) -> io::Result<()> {
    if json {
        return crate::output::json::write_lines(out, reports);
    }
    let width = |f: fn(&PortReport) -> usize| reports.iter().map(f).max().unwrap_or(0);
    let endpoint_width = width(|r| r.endpoint.chars().count());
    let state_width = width(|r| r.state.as_str().len());
    let reason_width = width(|r| r.reason.as_str().len());
    for report in reports {
        write_line(
            out,
            report,
            [endpoint_width, state_width, reason_width],
            colors,
        )?;
    }
    Ok(())
}

/// Writes one human line: `127.0.0.1:22  open  syn-ack  0.12ms  [banner]`.
pub fn write_line(
    out: &mut dyn Write,
    report: &PortReport,
    widths: [usize; 3],
    colors: Colors,
) -> io::Result<()> {
    let state = report.state.as_str();
    let painted = paint(state, state_color(report.state), colors.stdout);
    let pad = widths[1].saturating_sub(state.len());
    let rtt = report.rtt_ms.map_or_else(|| "-".to_string(), format_ms);
    let mut line = format!(
        "{:<ew$}  {painted}{:pad$}  {:<rw$}  ",
        report.endpoint,
        "",
        report.reason.as_str(),
        ew = widths[0],
        rw = widths[2],
    );
    if let Some(seq) = report.seq {
        line.push_str(&format!("seq={seq}  "));
    }
    line.push_str(&rtt);
    if let Some(check) = &report.check_text {
        line.push_str("  ");
        line.push_str(check);
    }
    if let Some(Some(banner)) = &report.banner {
        line.push_str("  ");
        line.push_str(banner);
    }
    writeln!(out, "{}", line.trim_end())
}

fn state_color(state: PortState) -> &'static str {
    match state {
        PortState::Open => "32",
        PortState::Closed => "31",
        PortState::Filtered => "33",
        PortState::OpenFiltered => "36",
    }
}

/// Counts per state, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: [usize; 4],
}

impl Tally {
    /// Counts one port.
    pub fn add(&mut self, state: PortState) {
        self.counts[state_index(state)] += 1;
    }

    /// How many ports are in `state`.
    pub fn count(&self, state: PortState) -> usize {
        self.counts[state_index(state)]
    }

    /// How many ports were counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// `65535 ports on 1 host in 1.02s: 1 open, 65534 closed`; states with no port are left
    /// out, except `open`.
    pub fn summary(&self, hosts: usize, elapsed: Duration) -> String {
        let total = self.total();
        let counts: Vec<String> = PortState::ALL
            .into_iter()
            .filter(|&state| state == PortState::Open || self.count(state) > 0)
            .map(|state| format!("{} {}", self.count(state), state.as_str()))
            .collect();
        format!(
            "{total} {} on {hosts} {} in {}: {}",
            plural(total, "port", "ports"),
            plural(hosts, "host", "hosts"),
            format_elapsed(elapsed),
            counts.join(", ")
        )
    }
}

/// `2.31ms` under a second, `1.502s` or `1m 3s` above.
fn format_elapsed(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format_ms(millis(elapsed))
    } else {
        format_duration(elapsed)
    }
}

fn state_index(state: PortState) -> usize {
    PortState::ALL
        .iter()
        .position(|&s| s == state)
        .unwrap_or_default()
}

/// `one` when `n` is 1, `many` otherwise.
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::probe::plan::HostEntry;
    use std::sync::Arc;

    fn record(port: u16) -> Record {
        Record {
            host: Arc::new(HostEntry {
                name: "127.0.0.1".into(),
                shown: "127.0.0.1".into(),
                is_name: false,
                ips: vec!["127.0.0.1".parse().unwrap()],
            }),
            port,
            result: None,
        }
    }

    #[test]
    fn human_lines_are_aligned() {
        let addr: SocketAddr = "127.0.0.1:22".parse().unwrap();
        let open = Outcome::new(
            PortState::Open,
            Reason::SynAck,
            Some(Duration::from_micros(120)),
        );
        let closed = Outcome::new(PortState::Closed, Reason::ConnRefused, None);
        let reports = [
            PortReport::new(&record(22), addr, &open, Proto::Tcp, false),
            PortReport::new(&record(8080), addr, &closed, Proto::Tcp, false),
        ];
        let mut out = Vec::new();
        write_reports(&mut out, &reports, false, Colors::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "127.0.0.1:22    open    syn-ack       0.12ms\n127.0.0.1:8080  closed  conn-refused  -\n"
        );
    }

    #[test]
    fn json_has_exactly_the_contract_fields() {
        let addr: SocketAddr = "127.0.0.1:22".parse().unwrap();
        let timeout = Outcome::timed_out(false);
        let report = PortReport::new(&record(22), addr, &timeout, Proto::Tcp, false);
        let value = serde_json::to_value(&report).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["addr", "host", "port", "proto", "reason", "rtt_ms", "state"]
        );
        assert!(value["rtt_ms"].is_null());
        let with_banner = PortReport::new(&record(22), addr, &timeout, Proto::Tcp, true);
        assert!(serde_json::to_value(&with_banner).unwrap()["banner"].is_null());
    }

    #[test]
    fn summary_counts() {
        let mut tally = Tally::default();
        tally.add(PortState::Open);
        tally.add(PortState::Closed);
        tally.add(PortState::Closed);
        assert_eq!(
            tally.summary(1, Duration::from_millis(1500)),
            "3 ports on 1 host in 1.5s: 1 open, 2 closed"
        );
        assert_eq!(format_ms(0.123), "0.12ms");
        assert_eq!(format_ms(12.34), "12.3ms");
        assert_eq!(millis(Duration::from_micros(1234)), 1.234);
    }
}
