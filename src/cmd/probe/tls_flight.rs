//! `probe --tls` in the engine: the handshake stepped on the probe's own non-blocking socket
//! (the attempt's `Handshaking` phase), then, with `--http` or `--send`/`--expect`, the check
//! talking through the session (`CheckingTls`).

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::ClientConnection;

use super::attempt::{AttemptSpec, Flight, Step};
use super::check::{Check, Conversation, Turn};
use super::outcome::{Outcome, PortState, Reason};
use super::tls::{ProbeTls, TlsOutcome};
use crate::net::tls::{Handshake, Progress, TlsFacts, TlsFailure, TlsIo};

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
    let talk = check.begin_tls(peer);
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
