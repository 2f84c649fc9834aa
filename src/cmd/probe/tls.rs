//! `probe --tls`: a handshake on every open TCP port, on the probe's own connection, stepped
//! by the engine's poller like the connect itself (so handshakes run concurrently, bounded by
//! the same window; see `tls_flight`). The verdict: the certificate verified (or `--insecure`, or it matched
//! `--pin`) and has at least `--min-days` left.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use super::plan::HostEntry;
use crate::cli::TlsArgs;
use crate::cmd::tls_failure::setup_as_handshake;
use crate::error::Error;
use crate::net::tls::{
    Handshake, Policy, TlsClient, TlsFacts, TlsFailure, TlsJson, TrustSource, date,
};
use crate::output::notes;

/// What every TLS probe of the run shares.
#[derive(Debug, Clone)]
pub struct ProbeTls {
    client: TlsClient,
    min_days: Option<u64>,
    /// How the user named each address (the SNI and the name verified).
    names: HashMap<IpAddr, String>,
}

/// One port's handshake, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOutcome {
    /// The session's facts, or why the handshake failed.
    pub result: Result<TlsFacts, TlsFailure>,
    /// How long the handshake took (after the TCP connect).
    pub elapsed: Duration,
    /// Why the port fails its TLS check; `None` when it passes.
    pub problem: Option<String>,
}

impl ProbeTls {
    /// The TLS settings from the flags; `None` without `--tls`.
    pub fn from_args(args: &TlsArgs, min_days: Option<u64>) -> Result<Option<ProbeTls>, Error> {
        if !args.enabled() {
            return Ok(None);
        }
        Ok(Some(ProbeTls {
            client: TlsClient::from_args(args, Policy::Record)?,
            min_days,
            names: HashMap::new(),
        }))
    }

    /// Remembers how the user named each host: a name is sent as SNI and verified.
    pub fn learn_hosts<'a>(&mut self, hosts: impl IntoIterator<Item = &'a HostEntry>) {
        for host in hosts.into_iter().filter(|host| host.is_name) {
            for ip in &host.ips {
                self.names.entry(*ip).or_insert_with(|| host.name.clone());
            }
        }
    }

    /// Starts the handshake with `peer`.
    pub fn begin(&self, peer: SocketAddr) -> Result<Handshake, TlsFailure> {
        let ip = peer.ip().to_canonical();
        let host = self
            .names
            .get(&ip)
            .cloned()
            .unwrap_or_else(|| ip.to_string());
        self.client.session(&host).map_err(setup_as_handshake)
    }

    /// Judges a finished (or failed) handshake.
    pub fn judge(&self, result: Result<TlsFacts, TlsFailure>, elapsed: Duration) -> TlsOutcome {
        let problem = match &result {
            Err(failure) => Some(failure.reason.clone()),
            Ok(facts) => self.problem(facts, SystemTime::now()),
        };
        TlsOutcome {
            result,
            elapsed,
            problem,
        }
    }

    fn problem(&self, facts: &TlsFacts, now: SystemTime) -> Option<String> {
        if let Some(reason) = &facts.verify_error {
            let accepted = match self.client.pin() {
                Some(_) => facts.pinned,
                None => self.client.insecure(),
            };
            if !accepted {
                return Some(reason.clone());
            }
        }
        let (Some(min), Some(cert)) = (self.min_days, &facts.cert) else {
            return None;
        };
        let left = cert.days_left(now);
        (left < i64::try_from(min).unwrap_or(i64::MAX)).then(|| {
            format!(
                "{left} {} left, fewer than --min-days {min}",
                if left == 1 { "day" } else { "days" }
            )
        })
    }
}

impl TlsOutcome {
    /// The handshake completed and the certificate passes.
    pub fn passes(&self) -> bool {
        self.problem.is_none()
    }

    /// The contract's `tls` object.
    pub fn json(&self) -> TlsJson {
        let now = SystemTime::now();
        match &self.result {
            Ok(facts) => facts.json(now),
            Err(failure) => TlsJson::failed(&failure.reason, failure.cert.as_deref(), now),
        }
    }

    /// The text line's part: `TLSv1.3 CN=… until DATE (N days) verified|REASON`.
    pub fn text(&self) -> String {
        let now = SystemTime::now();
        let facts = match &self.result {
            Ok(facts) => facts,
            Err(failure) => return crate::output::escape::escape_text(&failure.reason),
        };
        let verdict = match (&self.problem, &facts.verify_error) {
            (Some(problem), _) => problem.clone(),
            (None, None) => "verified".to_string(),
            (None, Some(_)) if facts.pinned => "pinned".to_string(),
            (None, Some(reason)) => format!("unverified: {reason}"),
        };
        let cert = match &facts.cert {
            Some(cert) => format!(
                "{} until {} ({})",
                cert.short_subject(),
                date(cert.not_after),
                cert.days_left_phrase(now)
            ),
            None => "no certificate".to_string(),
        };
        crate::output::escape::escape_text(&format!("{} {cert} {verdict}", facts.version))
    }

    /// The certificate's end of validity (Unix seconds), when one was seen.
    pub fn not_after(&self) -> Option<i64> {
        match &self.result {
            Ok(facts) => facts.cert.as_ref().map(|cert| cert.not_after),
            Err(failure) => failure.cert.as_ref().map(|cert| cert.not_after),
        }
    }

    /// `-v`'s two lines (or the failure).
    pub fn verbose_lines(&self) -> Vec<String> {
        let now = SystemTime::now();
        match &self.result {
            Ok(facts) => {
                let mut lines = vec![facts.session_line(), facts.certificate_line(now)];
                if let (Some(_), Some(hint)) = (&self.problem, &facts.verify_hint) {
                    lines.push(format!("hint: {hint}"));
                }
                lines
            }
            Err(failure) => {
                let mut lines = vec![format!(
                    "tls: handshake failed: {}",
                    crate::output::escape::escape_text(&failure.reason)
                )];
                if let Some(hint) = &failure.hint {
                    lines.push(format!("hint: {hint}"));
                }
                lines
            }
        }
    }
}

/// `-v`: which roots were trusted, then the contract's two lines for every reported port that
/// had a handshake (after `HOST:PORT` when there are several).
pub fn print_verbose(reports: &[super::report::PortReport], tls: Option<&ProbeTls>) {
    let Some(tls) = tls else {
        return;
    };
    let trust = match tls.client.trust {
        TrustSource::CaFile => "the certificates of --ca",
        TrustSource::System => "the system's certificate store",
        TrustSource::Mozilla => "the built-in Mozilla roots (the system has none)",
    };
    notes::verbose(format_args!("tls: trusting {trust}"));
    let with_tls: Vec<_> = reports
        .iter()
        .filter(|report| !report.tls_verbose.is_empty())
        .collect();
    let several = with_tls.len() > 1;
    for report in with_tls {
        for line in &report.tls_verbose {
            if several {
                notes::verbose(format_args!("{}: {line}", report.endpoint));
            } else {
                notes::verbose(format_args!("{line}"));
            }
        }
    }
}
