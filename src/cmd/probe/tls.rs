//! `probe --tls`: a handshake on every open TCP port, on the probe's own connection, stepped
//! by the engine's poller like the connect itself (so handshakes run concurrently, bounded by
//! the same window). The verdict: the certificate verified (or `--insecure`, or it matched
//! `--pin`) and has at least `--min-days` left.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use std::io::Write as _;

use rustls::ClientConnection;

use super::attempt::{AttemptSpec, Flight, Step};
use super::check::{Check, Conversation, Turn};
use super::outcome::{Outcome, PortState, Reason};
use super::plan::HostEntry;
use crate::cli::TlsArgs;
use crate::error::Error;
use crate::net::tls::{
    Handshake, Policy, Progress, TlsClient, TlsFacts, TlsFailure, TlsIo, TlsJson, TrustSource, date,
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
        if !args.tls {
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
        self.client.session(&host).map_err(|err| TlsFailure {
            reason: err.message,
            hint: err.hint,
            cert: None,
        })
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
                "{} until {} ({} days)",
                cert.short_subject(),
                date(cert.not_after),
                cert.days_left(now)
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

/// What an attempt's step needs of the engine: the spec, the poller, the token, the start.
pub type Engine<'a> = (&'a AttemptSpec, &'a Registry, Token, Instant);

/// A finished handshake with a check still to run over it.
#[derive(Debug)]
pub struct Session {
    conn: ClientConnection,
    outcome: TlsOutcome,
}

/// Connected with `--tls`: start the handshake on the probe's own socket.
pub fn start(
    mut stream: TcpStream,
    peer: SocketAddr,
    rtt: Duration,
    (tls, check): (&Arc<ProbeTls>, Option<Arc<Check>>),
    engine: Engine<'_>,
) -> Step {
    let began = Instant::now();
    let handshake = match tls.begin(peer) {
        Ok(handshake) => Box::new(handshake),
        Err(failure) => return done(rtt, tls, Err(failure), began),
    };
    let (_, registry, token, _) = engine;
    if let Err(err) =
        registry.reregister(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
    {
        return done(rtt, tls, Err(socket_failure(&err)), began);
    }
    match step(stream, rtt, handshake, began, (tls.clone(), check), engine) {
        // A new phase with its own deadline: the handshake gets a whole timeout.
        Step::Waiting(flight) => Step::Rearmed(flight),
        other => other,
    }
}

/// Moves a handshake on after its socket reported readiness.
pub fn step(
    mut stream: TcpStream,
    rtt: Duration,
    mut handshake: Box<Handshake>,
    began: Instant,
    (tls, check): (Arc<ProbeTls>, Option<Arc<Check>>),
    engine: Engine<'_>,
) -> Step {
    let (_, registry, token, _) = engine;
    match handshake.step(&mut stream) {
        Progress::Done(Ok(facts)) => match check {
            Some(check) => {
                let session = Box::new(Session {
                    conn: handshake.into_connection(),
                    outcome: tls.judge(Ok(facts), began.elapsed()),
                });
                match start_check(stream, rtt, session, check, engine) {
                    // The check gets a whole timeout of its own, as it does without TLS.
                    Step::Waiting(flight) => Step::Rearmed(flight),
                    other => other,
                }
            }
            None => {
                handshake.close(&mut stream);
                done(rtt, &tls, Ok(facts), began)
            }
        },
        Progress::Done(Err(failure)) => done(rtt, &tls, Err(failure), began),
        Progress::Pending { write } => {
            if let Err(err) = registry.reregister(&mut stream, token, interest(write)) {
                return done(rtt, &tls, Err(socket_failure(&err)), began);
            }
            Step::Waiting(Flight::Handshaking {
                stream,
                rtt,
                handshake,
                began,
                tls,
                check,
            })
        }
    }
}

/// TLS is up: begin the check over it.
fn start_check(
    stream: TcpStream,
    rtt: Duration,
    session: Box<Session>,
    check: Arc<Check>,
    engine: Engine<'_>,
) -> Step {
    let peer = match stream.peer_addr() {
        Ok(peer) => peer,
        Err(err) => {
            let failure = socket_failure(&err);
            return Step::Done(Outcome {
                tls: Some(Box::new(TlsOutcome {
                    problem: Some(failure.reason.clone()),
                    ..session.outcome
                })),
                ..Outcome::new(PortState::Open, Reason::SynAck, Some(rtt))
            });
        }
    };
    let talk = check.begin(peer);
    step_check(stream, rtt, session, check, talk, engine)
}

/// Moves a check over TLS on.
pub fn step_check(
    mut stream: TcpStream,
    rtt: Duration,
    mut session: Box<Session>,
    check: Arc<Check>,
    mut talk: Conversation,
    (spec, registry, token, started): Engine<'_>,
) -> Step {
    let mut io = TlsIo {
        conn: &mut session.conn,
        sock: &mut stream,
    };
    let turn = talk.step(&mut io, &check, started.elapsed());
    let pending_write = io.wants_write() || talk.wants_write();
    match turn {
        Turn::Done(result) => {
            let mut io = TlsIo {
                conn: &mut session.conn,
                sock: &mut stream,
            };
            io.conn.send_close_notify();
            let _ = io.flush();
            Step::Done(Outcome {
                tls: Some(Box::new(session.outcome)),
                ..Outcome::checked(rtt, result, spec.banner)
            })
        }
        Turn::More => {
            if registry
                .reregister(&mut stream, token, interest(pending_write))
                .is_err()
            {
                let result = talk.timed_out(&check, started.elapsed());
                return Step::Done(Outcome {
                    tls: Some(Box::new(session.outcome)),
                    ..Outcome::checked(rtt, result, spec.banner)
                });
            }
            Step::Waiting(Flight::CheckingTls {
                stream,
                rtt,
                session,
                check,
                talk,
            })
        }
    }
}

/// The outcome of a check over TLS whose deadline passed.
pub fn check_timed_out(
    rtt: Duration,
    session: &Session,
    check: &Check,
    talk: &Conversation,
    started: Instant,
    banner: bool,
) -> Outcome {
    Outcome {
        tls: Some(Box::new(session.outcome.clone())),
        ..Outcome::checked(rtt, talk.timed_out(check, started.elapsed()), banner)
    }
}

fn interest(write: bool) -> Interest {
    if write {
        Interest::READABLE | Interest::WRITABLE
    } else {
        Interest::READABLE
    }
}

fn socket_failure(err: &std::io::Error) -> TlsFailure {
    TlsFailure {
        reason: err.to_string(),
        hint: None,
        cert: None,
    }
}

/// The outcome of a handshake whose deadline passed.
pub fn timed_out(rtt: Duration, handshake: &Handshake, began: Instant, tls: &ProbeTls) -> Outcome {
    match done(rtt, tls, handshake.deadline(), began) {
        Step::Done(outcome) => outcome,
        _ => Outcome::new(PortState::Open, Reason::SynAck, Some(rtt)),
    }
}

fn done(
    rtt: Duration,
    tls: &ProbeTls,
    result: Result<TlsFacts, TlsFailure>,
    began: Instant,
) -> Step {
    Step::Done(Outcome {
        tls: Some(Box::new(tls.judge(result, began.elapsed()))),
        ..Outcome::new(PortState::Open, Reason::SynAck, Some(rtt))
    })
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
