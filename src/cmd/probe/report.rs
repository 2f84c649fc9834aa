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
use crate::output::escape::escape_bytes;
use crate::output::lines::{self, Cell, Line};

/// One reported port, as the JSON contract names its fields.
#[derive(Debug, Clone, Serialize)]
pub struct PortReport {
    /// The host as the user named it.
    pub host: String,
    /// The address probed (a Unix socket's path, or `@name`).
    pub addr: String,
    /// The port; null for a Unix socket.
    pub port: Option<u16>,
    /// `tcp`, `udp`, `unix` or `unix-dgram`.
    pub proto: ReportProto,
    /// `open`, `closed`, `filtered`, `open|filtered`.
    pub state: PortState,
    /// `syn-ack`, `conn-refused`, `timeout`, ...
    pub reason: Reason,
    /// Round-trip time in milliseconds; null when nothing answered.
    pub rtt_ms: Option<f64>,
    /// The service's first bytes as text (the JSON encoder escapes them); only with
    /// `--banner` (null when it said nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<Option<String>>,
    /// The banner escaped for a terminal (not serialised).
    #[serde(skip)]
    pub banner_shown: Option<String>,
    /// The application check's verdict; only with a check (null when the port is not open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Option<CheckJson>>,
    /// The HTTP response head; only with `--http` (null when none came back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Option<HttpInfo>>,
    /// The TLS handshake's facts; only with `--tls` (null when the port is not open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Option<crate::net::tls::TlsJson>>,
    /// The attempt number in latency mode (from 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// `HOST:PORT` for people (not serialised).
    #[serde(skip)]
    pub endpoint: String,
    /// The check's part of the text line (not serialised).
    #[serde(skip)]
    pub check_text: Option<String>,
    /// The TLS part of the text line (not serialised).
    #[serde(skip)]
    pub tls_text: Option<String>,
    /// `-v`'s lines about the handshake (not serialised).
    #[serde(skip)]
    pub tls_verbose: Vec<String>,
    /// Whether the TLS check held (not serialised).
    #[serde(skip)]
    pub tls_passes: Option<bool>,
    /// The certificate's end of validity, Unix seconds (for `--prometheus`; not serialised).
    #[serde(skip)]
    pub tls_not_after: Option<i64>,
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
        let place = Place {
            host: record.host.name.clone(),
            addr: addr.ip().to_string(),
            port: Some(record.port),
            proto: proto.into(),
            endpoint,
        };
        PortReport::at(place, outcome, with_banner)
    }

    /// The report of the Unix socket `addr` probed with `outcome`: `host` is the target as
    /// written (`unix:/run/app.sock`), `addr` the path (or `@name`).
    pub fn unix(
        addr: &crate::net::endpoint::UnixAddr,
        proto: ReportProto,
        outcome: &Outcome,
        with_banner: bool,
    ) -> PortReport {
        let shown = addr.to_string();
        let place = Place {
            addr: shown.strip_prefix("unix:").unwrap_or(&shown).to_string(),
            endpoint: crate::output::escape::escape_text(&shown),
            host: shown,
            port: None,
            proto,
        };
        PortReport::at(place, outcome, with_banner)
    }

    fn at(place: Place, outcome: &Outcome, with_banner: bool) -> PortReport {
        let Place {
            host,
            addr,
            port,
            proto,
            endpoint,
        } = place;
        PortReport {
            host,
            addr,
            port,
            proto,
            state: outcome.state,
            reason: outcome.reason,
            rtt_ms: outcome.rtt.map(millis),
            banner: with_banner.then(|| {
                outcome
                    .banner
                    .as_deref()
                    .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            }),
            banner_shown: outcome.banner.as_deref().map(escape_bytes),
            check: None,
            http: None,
            seq: None,
            endpoint,
            check_text: None,
            tls: None,
            tls_text: None,
            tls_verbose: Vec::new(),
            tls_not_after: None,
            tls_passes: None,
        }
    }

    /// Adds the TLS handshake's facts from `outcome` when the run has `--tls`.
    pub fn with_tls(mut self, enabled: bool, outcome: &Outcome) -> PortReport {
        if enabled {
            let tls = outcome.tls.as_deref();
            self.tls = Some(tls.map(|tls| tls.json()));
            self.tls_text = tls.map(|tls| tls.text());
            self.tls_verbose = tls.map(|tls| tls.verbose_lines()).unwrap_or_default();
            self.tls_not_after = tls.and_then(|tls| tls.not_after());
            self.tls_passes = tls.map(|tls| tls.passes());
        }
        self
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

/// What a report is about.
struct Place {
    host: String,
    addr: String,
    port: Option<u16>,
    proto: ReportProto,
    endpoint: String,
}

/// `proto` in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportProto {
    /// A TCP port.
    Tcp,
    /// A UDP port.
    Udp,
    /// A Unix stream socket.
    Unix,
    /// A Unix datagram socket (`-u`).
    #[serde(rename = "unix-dgram")]
    UnixDgram,
}

impl ReportProto {
    /// A Unix socket probed as `proto` says: a datagram socket with `-u`.
    pub fn unix(proto: Proto) -> ReportProto {
        match proto {
            Proto::Tcp => ReportProto::Unix,
            Proto::Udp => ReportProto::UnixDgram,
        }
    }
}

impl From<Proto> for ReportProto {
    fn from(proto: Proto) -> ReportProto {
        match proto {
            Proto::Tcp => ReportProto::Tcp,
            Proto::Udp => ReportProto::Udp,
        }
    }
}

impl std::fmt::Display for ReportProto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReportProto::Tcp => "tcp",
            ReportProto::Udp => "udp",
            ReportProto::Unix => "unix",
            ReportProto::UnixDgram => "unix-dgram",
        })
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
    lines::write_all(&mut stdout, reports, json, colors)?;
    stdout.flush()
}

/// Writes `reports` to stdout in the Prometheus text format: `sockx_probe_up` and
/// `sockx_probe_rtt_seconds` per reported port, `sockx_probe_duration_seconds` for the run.
pub fn print_prometheus(reports: &[PortReport], elapsed: Duration) -> io::Result<()> {
    use crate::output::prometheus::{Metric, Sample};
    let labels = |r: &PortReport| {
        vec![
            ("host", r.host.clone()),
            ("addr", r.addr.clone()),
            (
                "port",
                r.port.map(|port| port.to_string()).unwrap_or_default(),
            ),
            ("proto", r.proto.to_string()),
        ]
    };
    let metrics = [
        Metric {
            name: "sockx_probe_up",
            help: "Whether the port is open (1) or not (0).",
            kind: "gauge",
            samples: reports
                .iter()
                .map(|r| Sample {
                    labels: labels(r),
                    value: f64::from(u8::from(r.state == PortState::Open)),
                })
                .collect(),
        },
        Metric {
            name: "sockx_probe_rtt_seconds",
            help: "Time from the connect (or datagram) to the answer.",
            kind: "gauge",
            samples: reports
                .iter()
                .filter_map(|r| {
                    r.rtt_ms.map(|ms| Sample {
                        labels: labels(r),
                        // Whole microseconds over 1e6: the shortest decimal, not 7.1999e-5.
                        value: (ms * 1000.0).round() / 1e6,
                    })
                })
                .collect(),
        },
        Metric {
            name: "sockx_probe_check_ok",
            help: "Whether the application check (--send/--expect, --http, --tls) holds (1) or not (0).",
            kind: "gauge",
            samples: reports
                .iter()
                .filter_map(|r| {
                    if r.check.is_none() && r.tls.is_none() {
                        return None;
                    }
                    let check_ok = r
                        .check
                        .as_ref()
                        .is_none_or(|check| check.as_ref().is_some_and(|c| c.ok));
                    let tls_ok = r.tls.as_ref().is_none_or(|_| r.tls_passes == Some(true));
                    Some(Sample {
                        labels: labels(r),
                        value: f64::from(u8::from(check_ok && tls_ok)),
                    })
                })
                .collect(),
        },
        Metric {
            name: "sockx_tls_cert_not_after_timestamp_seconds",
            help: "When the TLS certificate expires (Unix time; --tls).",
            kind: "gauge",
            samples: reports
                .iter()
                .filter_map(|r| {
                    Some(Sample {
                        labels: labels(r),
                        value: r.tls_not_after? as f64,
                    })
                })
                .collect(),
        },
        Metric {
            name: "sockx_probe_duration_seconds",
            help: "How long the whole probe run took.",
            kind: "gauge",
            samples: vec![Sample {
                labels: Vec::new(),
                value: elapsed.as_secs_f64(),
            }],
        },
    ];
    let mut stdout = io::stdout().lock();
    crate::output::prometheus::write(&mut stdout, &metrics)?;
    stdout.flush()
}

/// A human line: `127.0.0.1:22  open  syn-ack  0.12ms  [banner]`; `seq=N` before the time
/// in latency mode.
impl Line for PortReport {
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::plain(self.endpoint.clone()),
            Cell::colored(self.state.as_str(), state_color(self.state)),
            Cell::plain(self.reason.as_str()),
        ]
    }

    fn tail(&self) -> Vec<String> {
        let mut tail = Vec::new();
        if let Some(seq) = self.seq {
            tail.push(format!("seq={seq}"));
        }
        tail.push(self.rtt_ms.map_or_else(|| "-".to_string(), format_ms));
        if let Some(tls) = &self.tls_text {
            tail.push(tls.clone());
        }
        if let Some(check) = &self.check_text {
            tail.push(check.clone());
        }
        if let Some(banner) = &self.banner_shown {
            tail.push(banner.clone());
        }
        tail
    }
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
    /// How many of them are Unix sockets.
    unix: usize,
}

impl Tally {
    /// Counts one port.
    pub fn add(&mut self, state: PortState) {
        self.counts[state_index(state)] += 1;
    }

    /// Counts one Unix socket.
    pub fn add_unix(&mut self, state: PortState) {
        self.add(state);
        self.unix += 1;
    }

    /// How many ports are in `state`.
    pub fn count(&self, state: PortState) -> usize {
        self.counts[state_index(state)]
    }

    /// How many ports were counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// `65535 ports on 1 host in 1.02s: 1 open, 65534 closed` (with Unix sockets, `2 ports
    /// on 1 host and 1 Unix socket`); states with no port are left out, except `open`.
    pub fn summary(&self, hosts: usize, elapsed: Duration) -> String {
        let ports = self.total() - self.unix;
        let counts: Vec<String> = PortState::ALL
            .into_iter()
            .filter(|&state| state == PortState::Open || self.count(state) > 0)
            .map(|state| format!("{} {}", self.count(state), state.as_str()))
            .collect();
        let on_hosts = format!(
            "{ports} {} on {hosts} {}",
            plural(ports, "port", "ports"),
            plural(hosts, "host", "hosts"),
        );
        let sockets = format!(
            "{} Unix {}",
            self.unix,
            plural(self.unix, "socket", "sockets")
        );
        let what = match (ports, self.unix) {
            (_, 0) => on_hosts,
            (0, _) => sockets,
            _ => format!("{on_hosts} and {sockets}"),
        };
        format!(
            "{what} in {}: {}",
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
        lines::write_all(&mut out, &reports, false, Colors::default()).unwrap();
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
    fn banners_are_raw_in_json_and_escaped_in_text() {
        let addr: SocketAddr = "127.0.0.1:22".parse().unwrap();
        let open = Outcome {
            banner: Some(b"SSH-2.0-x\r\n\x1b".to_vec()),
            ..Outcome::new(PortState::Open, Reason::SynAck, None)
        };
        let report = PortReport::new(&record(22), addr, &open, Proto::Tcp, true);
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains(r#""banner":"SSH-2.0-x\r\n\u001b""#), "{json}");
        let mut out = Vec::new();
        lines::write_all(&mut out, &[report], false, Colors::default()).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("SSH-2.0-x\\r\\n\\x1b\n"),
            "escaped in text"
        );
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
        tally.add_unix(PortState::Open);
        assert_eq!(
            tally.summary(1, Duration::from_millis(1500)),
            "3 ports on 1 host and 1 Unix socket in 1.5s: 2 open, 2 closed"
        );
        let mut unix = Tally::default();
        unix.add_unix(PortState::Closed);
        assert_eq!(
            unix.summary(0, Duration::from_millis(1500)),
            "1 Unix socket in 1.5s: 0 open, 1 closed"
        );
        assert_eq!(format_ms(0.123), "0.12ms");
        assert_eq!(format_ms(12.34), "12.3ms");
        assert_eq!(millis(Duration::from_micros(1234)), 1.234);
    }
}
