//! Application checks on an open TCP port, on the probe's own connection: `--send DATA`
//! and/or `--expect REGEX` (the reply read until the regex matches, EOF, 64 KiB or the
//! timeout), or `--http [PATH]` (a GET whose status must be in `--http-status`).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use regex::bytes::Regex;
use serde::Serialize;

use super::http::{self, Head, HttpInfo, StatusList};
use super::plan::HostEntry;
use crate::net::Host;
use crate::output::escape::escape_bytes;

/// Most bytes of a reply read before the check gives up.
pub const REPLY_MAX: usize = 64 * 1024;
/// Most bytes of a reply quoted in a failed check's detail.
const DETAIL_MAX: usize = 200;

/// What to check.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// Send `send` (maybe nothing), then read until `expect` matches (without a regex, any
    /// reply passes).
    Expect {
        /// What to send first.
        send: Vec<u8>,
        /// What the reply must match.
        expect: Option<Regex>,
    },
    /// An HTTP/1.1 GET of `path`.
    Http {
        /// The request path.
        path: String,
        /// The statuses that pass.
        statuses: StatusList,
    },
}

/// A check with the host names the HTTP `Host` header needs.
#[derive(Debug, Clone)]
pub struct Check {
    /// What to check.
    pub kind: CheckKind,
    /// The host as the user named it, by address (IPv6 bracketed).
    hosts: HashMap<IpAddr, String>,
}

impl Check {
    /// A check of `kind`; addresses are named by themselves until [`Check::learn_hosts`].
    pub fn new(kind: CheckKind) -> Check {
        Check {
            kind,
            hosts: HashMap::new(),
        }
    }

    /// Remembers how the user named each host, for the `Host` header.
    pub fn learn_hosts<'a>(&mut self, hosts: impl IntoIterator<Item = &'a HostEntry>) {
        for host in hosts {
            for ip in &host.ips {
                self.hosts.entry(*ip).or_insert_with(|| host.shown.clone());
            }
        }
    }

    /// What `-v` says about the check.
    pub fn describe(&self) -> String {
        match &self.kind {
            CheckKind::Expect { send, expect } => {
                let mut parts = Vec::new();
                if !send.is_empty() {
                    parts.push(format!("send \"{}\"", escape_bytes(send)));
                }
                match expect {
                    Some(regex) => parts.push(format!("expect /{}/", regex.as_str())),
                    None => parts.push("expect any reply".to_string()),
                }
                format!("check: {}", parts.join(", "))
            }
            CheckKind::Http { path, statuses } => {
                format!("check: HTTP GET {path}, status {}", statuses.as_str())
            }
        }
    }

    /// A conversation with the service at `addr`.
    pub fn begin(&self, addr: SocketAddr) -> Conversation {
        self.begin_with(addr, 80)
    }

    /// A conversation over TLS (`--tls`): HTTPS, whose default port is 443.
    pub fn begin_tls(&self, addr: SocketAddr) -> Conversation {
        self.begin_with(addr, 443)
    }

    /// A conversation over a Unix socket: HTTP's `Host` is `localhost`, as `curl
    /// --unix-socket` sends it (Docker and most servers on a socket ignore it).
    pub fn begin_unix(&self) -> Conversation {
        self.conversation("localhost", 80, 80)
    }

    fn begin_with(&self, addr: SocketAddr, default_port: u16) -> Conversation {
        let host = self
            .hosts
            .get(&addr.ip())
            .cloned()
            .unwrap_or_else(|| Host::Ip(addr.ip()).to_string());
        self.conversation(&host, addr.port(), default_port)
    }

    fn conversation(&self, host: &str, port: u16, default_port: u16) -> Conversation {
        let request = match &self.kind {
            CheckKind::Expect { send, .. } => send.clone(),
            CheckKind::Http { path, .. } => http::request(path, host, port, default_port),
        };
        Conversation {
            request,
            sent: 0,
            received: Vec::new(),
        }
    }
}

/// How a check ended (`check` and `http` in JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The check holds.
    pub ok: bool,
    /// Why it failed, in a few words (the text line).
    pub cause: Option<String>,
    /// Why it failed and what came back, escaped and cut (JSON, `-v`).
    pub detail: Option<String>,
    /// The response head, for `--http`.
    pub http: Option<HttpInfo>,
    /// From the connect to the verdict: what `--count` times.
    pub elapsed: Duration,
    /// The reply's first bytes (for `--banner`).
    pub first_bytes: Vec<u8>,
}

/// `check` in JSON.
#[derive(Debug, Clone, Serialize)]
pub struct CheckJson {
    /// The check holds.
    pub ok: bool,
    /// What came back when it failed; null when it holds.
    pub detail: Option<String>,
}

impl CheckResult {
    /// The JSON object.
    pub fn json(&self) -> CheckJson {
        CheckJson {
            ok: self.ok,
            detail: self.detail.clone(),
        }
    }

    /// The text line's part: `HTTP 200 OK (nginx)`, `check ok`, `check failed: CAUSE`, and
    /// with `verbose` what came back.
    pub fn text(&self, verbose: bool) -> String {
        let mut text = match &self.http {
            Some(info) => {
                let mut head = format!("HTTP {} {}", info.status, info.reason);
                if let Some(server) = &info.server {
                    head.push_str(&format!(" ({server})"));
                }
                head
            }
            None if self.ok => "check ok".to_string(),
            None => String::new(),
        };
        if !self.ok {
            let why = if verbose {
                self.detail.as_deref()
            } else {
                self.cause.as_deref()
            };
            if !text.is_empty() {
                text.push_str("  ");
            }
            text.push_str("check failed: ");
            text.push_str(why.unwrap_or("?"));
        }
        text
    }
}

/// Why the reading stopped without a verdict.
enum End {
    Eof,
    Full,
    Timeout,
    Error(io::Error),
}

/// A check under way: what is left to send, what came back.
#[derive(Debug)]
pub struct Conversation {
    request: Vec<u8>,
    sent: usize,
    received: Vec<u8>,
}

/// Where a check stands after a step.
#[derive(Debug)]
pub enum Turn {
    /// Waiting for the socket.
    More,
    /// Decided.
    Done(CheckResult),
}

impl Conversation {
    /// Whether part of the request is still to be sent.
    pub fn wants_write(&self) -> bool {
        self.sent < self.request.len()
    }

    /// Sends what it can, reads what is there, and decides when it can.
    pub fn step(&mut self, stream: &mut impl ReadWrite, check: &Check, elapsed: Duration) -> Turn {
        while self.wants_write() {
            match stream.write(&self.request[self.sent..]) {
                Ok(0) => return Turn::Done(self.give_up(check, End::Eof, elapsed)),
                Ok(n) => self.sent += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => return Turn::Done(self.give_up(check, End::Error(err), elapsed)),
            }
        }
        let mut buf = [0u8; 8192];
        loop {
            let room = REPLY_MAX - self.received.len();
            if room == 0 {
                return Turn::Done(self.give_up(check, End::Full, elapsed));
            }
            let want = room.min(buf.len());
            match stream.read(&mut buf[..want]) {
                Ok(0) => return Turn::Done(self.give_up(check, End::Eof, elapsed)),
                Ok(n) => {
                    self.received.extend_from_slice(&buf[..n]);
                    if let Some(result) = self.judge(check, elapsed) {
                        return Turn::Done(result);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Turn::More,
                Err(err) => return Turn::Done(self.give_up(check, End::Error(err), elapsed)),
            }
        }
    }

    /// The verdict when the timeout ends the check.
    pub fn timed_out(&self, check: &Check, elapsed: Duration) -> CheckResult {
        self.give_up(check, End::Timeout, elapsed)
    }

    /// A verdict from what came back so far, if there is one yet.
    fn judge(&self, check: &Check, elapsed: Duration) -> Option<CheckResult> {
        match &check.kind {
            CheckKind::Expect { expect, .. } => {
                let matched = match expect {
                    Some(regex) => regex.is_match(&self.received),
                    None => !self.wants_write() && !self.received.is_empty(),
                };
                matched.then(|| self.result(None, None, elapsed))
            }
            CheckKind::Http { statuses, .. } => match http::parse_head(&self.received) {
                Head::Partial => None,
                Head::Complete(info) if statuses.contains(info.status) => {
                    Some(self.result(None, Some(info), elapsed))
                }
                Head::Complete(info) => {
                    let cause = format!(
                        "HTTP {} {} not in {}",
                        info.status,
                        info.reason,
                        statuses.as_str()
                    );
                    Some(self.result(Some(cause), Some(info), elapsed))
                }
                Head::Invalid => {
                    Some(self.result(Some("not an HTTP response".to_string()), None, elapsed))
                }
            },
        }
    }

    /// The failed verdict when reading stopped before a decision.
    fn give_up(&self, check: &Check, end: End, elapsed: Duration) -> CheckResult {
        let wanted = match &check.kind {
            CheckKind::Expect {
                expect: Some(_), ..
            } => "no match",
            CheckKind::Expect { expect: None, .. } => "no reply",
            CheckKind::Http { .. } => "no complete HTTP response head",
        };
        let cause = match end {
            End::Eof => format!("{wanted} before the connection closed"),
            End::Full => format!("{wanted} in the first {} KiB", REPLY_MAX / 1024),
            End::Timeout => format!("{wanted} before the timeout"),
            End::Error(err) => format!("{wanted}: {err}"),
        };
        self.result(Some(cause), None, elapsed)
    }

    fn result(
        &self,
        cause: Option<String>,
        http: Option<HttpInfo>,
        elapsed: Duration,
    ) -> CheckResult {
        let detail = cause.as_ref().map(|cause| {
            if self.received.is_empty() {
                format!("{cause}; nothing came back")
            } else {
                format!("{cause}; got \"{}\"", quoted(&self.received))
            }
        });
        CheckResult {
            ok: cause.is_none(),
            cause,
            detail,
            http,
            elapsed,
            first_bytes: self.received[..self.received.len().min(1024)].to_vec(),
        }
    }
}

/// A stream the conversation can use (a `mio` TCP or Unix stream; a test double in tests).
pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// The reply escaped and cut after [`DETAIL_MAX`] bytes with `…` and the full length.
fn quoted(reply: &[u8]) -> String {
    if reply.len() <= DETAIL_MAX {
        return escape_bytes(reply);
    }
    format!(
        "{}… ({} bytes)",
        escape_bytes(&reply[..DETAIL_MAX]),
        reply.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A peer that accepts writes and hands out scripted reads, then EOF or WouldBlock.
    struct Script {
        written: Vec<u8>,
        reads: VecDeque<Vec<u8>>,
        then_eof: bool,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.reads.pop_front() {
                Some(mut chunk) => {
                    let n = chunk.len().min(buf.len());
                    buf[..n].copy_from_slice(&chunk[..n]);
                    if n < chunk.len() {
                        self.reads.push_front(chunk.split_off(n));
                    }
                    Ok(n)
                }
                None if self.then_eof => Ok(0),
                None => Err(io::ErrorKind::WouldBlock.into()),
            }
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn script(reads: &[&[u8]], then_eof: bool) -> Script {
        Script {
            written: Vec::new(),
            reads: reads.iter().map(|r| r.to_vec()).collect(),
            then_eof,
        }
    }

    fn expect(send: &[u8], regex: &str) -> Check {
        Check::new(CheckKind::Expect {
            send: send.to_vec(),
            expect: Some(Regex::new(regex).unwrap()),
        })
    }

    fn run(check: &Check, peer: &mut Script) -> Turn {
        let addr: SocketAddr = "127.0.0.1:6379".parse().unwrap();
        check.begin(addr).step(peer, check, Duration::ZERO)
    }

    #[test]
    fn a_reply_split_over_reads_matches() {
        let check = expect(b"PING\r\n", r"^\+PONG");
        let mut peer = script(&[b"+PO", b"NG\r\n"], false);
        let Turn::Done(result) = run(&check, &mut peer) else {
            panic!("no verdict");
        };
        assert!(result.ok && result.detail.is_none());
        assert_eq!(peer.written, b"PING\r\n");
    }

    #[test]
    fn a_wrong_reply_fails_with_what_came_back() {
        let check = expect(b"PING\r\n", r"^\+PONG");
        let mut peer = script(&[b"-ERR \x1b[31m\r\n"], true);
        let Turn::Done(result) = run(&check, &mut peer) else {
            panic!("no verdict");
        };
        assert!(!result.ok);
        assert_eq!(
            result.detail.as_deref(),
            Some("no match before the connection closed; got \"-ERR \\x1b[31m\\r\\n\"")
        );
        let mut waiting = check.begin("127.0.0.1:1".parse().unwrap());
        assert!(matches!(
            waiting.step(&mut script(&[], false), &check, Duration::ZERO),
            Turn::More
        ));
        let late = waiting.timed_out(&check, Duration::ZERO);
        assert_eq!(
            late.detail.as_deref(),
            Some("no match before the timeout; nothing came back")
        );
    }

    #[test]
    fn a_long_reply_is_cut_in_the_detail() {
        let check = expect(b"", "never");
        let long = vec![b'a'; REPLY_MAX];
        let mut peer = script(&[&long], false);
        let Turn::Done(result) = run(&check, &mut peer) else {
            panic!("no verdict");
        };
        let detail = result.detail.unwrap();
        assert!(detail.starts_with("no match in the first 64 KiB; got \"aaaa"));
        assert!(detail.ends_with("… (65536 bytes)\""), "{detail}");
    }

    #[test]
    fn http_status_decides() {
        let mut check = Check::new(CheckKind::Http {
            path: "/health".into(),
            statuses: StatusList::default(),
        });
        let mut peer = script(&[b"HTTP/1.1 503 Service Unavailable\r\n\r\n"], false);
        let Turn::Done(result) = run(&check, &mut peer) else {
            panic!("no verdict");
        };
        assert!(!result.ok);
        assert_eq!(result.http.as_ref().unwrap().status, 503);
        assert_eq!(
            result.text(false),
            "HTTP 503 Service Unavailable  check failed: HTTP 503 Service Unavailable not in 200-399"
        );
        assert!(String::from_utf8_lossy(&peer.written).contains("Host: 127.0.0.1:6379\r\n"));

        check.learn_hosts([&HostEntry {
            name: "localhost".into(),
            shown: "localhost".into(),
            is_name: true,
            ips: vec!["127.0.0.1".parse().unwrap()],
        }]);
        let mut peer = script(&[b"HTTP/1.1 200 OK\r\nServer: x\r\n", b"\r\n"], false);
        let Turn::Done(result) = run(&check, &mut peer) else {
            panic!("no verdict");
        };
        assert!(result.ok);
        assert_eq!(result.text(false), "HTTP 200 OK (x)");
        assert!(String::from_utf8_lossy(&peer.written).contains("Host: localhost:6379\r\n"));
    }
}
