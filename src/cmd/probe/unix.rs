//! Unix sockets as probe targets (`unix:/run/app.sock`, `unix:@name`, a path; datagram sockets
//! with `-u`): each is
//! connected to once per round, on a thread of its own (they are local and few, so the
//! engine's thousands of sockets in flight are not needed), and reported beside the TCP ports.
//!
//! States: `open` (`connected`: a listener queued the connection), `closed` (`conn-refused`:
//! a socket file nobody listens on; `no-such-file`; `not-a-socket`; `wrong-type`: a socket of
//! the other type, stream or datagram), `filtered`
//! (`permission-denied`; `timeout`: the listener's accept queue stayed full). An open socket
//! gets the run's check (`--send`/`--expect`, `--http`) or `--banner` over the connection.

use std::io;
use std::time::{Duration, Instant};

use mio::net::UnixStream;
use mio::{Events, Interest, Poll, Token};

use super::attempt::{AttemptSpec, BannerRead, read_banner};
use super::check::{Check, Turn};
use super::outcome::{Outcome, PortState, Reason};
use super::report::{PortReport, ReportProto};
use crate::net::endpoint::UnixAddr;
use crate::net::socket::Proto;
use crate::net::unix_connect::connect_unix;

/// Most Unix sockets probed at the same time (one thread each).
const AT_ONCE: usize = 64;

/// Probes every target once, up to [`AT_ONCE`] at the same time; the outcomes in the
/// targets' order.
pub fn probe_all(targets: &[UnixAddr], spec: &AttemptSpec, timeout: Duration) -> Vec<Outcome> {
    if let [only] = targets {
        return vec![probe(only, spec, timeout)];
    }
    let mut outcomes = Vec::with_capacity(targets.len());
    for batch in targets.chunks(AT_ONCE) {
        std::thread::scope(|scope| {
            let probes: Vec<_> = batch
                .iter()
                .map(|target| scope.spawn(move || probe(target, spec, timeout)))
                .collect();
            outcomes.extend(probes.into_iter().map(|probe| {
                probe
                    .join()
                    .unwrap_or_else(|_| Outcome::new(PortState::Filtered, Reason::Error, None))
            }));
        });
    }
    outcomes
}

/// Probes `addr` once: the connect waits at most `timeout` for room in the accept queue,
/// and the check or banner that follows has `timeout` more.
pub fn probe(addr: &UnixAddr, spec: &AttemptSpec, timeout: Duration) -> Outcome {
    if spec.proto == Proto::Udp {
        return probe_datagram(addr);
    }
    let started = Instant::now();
    let stream = match connect_unix(addr, Some(timeout)) {
        Ok(stream) => stream,
        Err(err) => return Outcome::from_unix_error(&err, addr.file(), started.elapsed()),
    };
    let rtt = started.elapsed();
    let open = Outcome::new(PortState::Open, Reason::Connected, Some(rtt));
    if spec.check.is_none() && !spec.banner {
        return open;
    }
    let deadline = crate::net::duration::deadline_after(Instant::now(), timeout);
    let mut conversation = match Conversation::new(stream) {
        Ok(conversation) => conversation,
        Err(err) => return Outcome::from_unix_error(&err, None, rtt),
    };
    match &spec.check {
        Some(check) => conversation.check(check, started, deadline, rtt, spec.banner),
        None => Outcome {
            banner: Some(conversation.banner(deadline)).filter(|banner| !banner.is_empty()),
            ..open
        },
    }
}

/// Probes the datagram socket `addr` (`-u`): connect() says at once whether a datagram
/// socket is bound there (nothing is sent; there is no reply to wait for).
fn probe_datagram(addr: &UnixAddr) -> Outcome {
    let started = Instant::now();
    let connected = std::os::unix::net::UnixDatagram::unbound().and_then(|socket| {
        socket.connect_addr(&addr.to_socket_addr()?)?;
        Ok(socket)
    });
    match connected {
        Ok(_) => Outcome::new(PortState::Open, Reason::Connected, Some(started.elapsed())),
        Err(err) => Outcome::from_unix_error(&err, addr.file(), started.elapsed()),
    }
}

/// A connected socket and the poller that waits for it.
struct Conversation {
    stream: UnixStream,
    poll: Poll,
    events: Events,
}

impl Conversation {
    fn new(stream: std::os::unix::net::UnixStream) -> io::Result<Conversation> {
        stream.set_nonblocking(true)?;
        let mut stream = UnixStream::from_std(stream);
        let poll = Poll::new()?;
        poll.registry().register(
            &mut stream,
            Token(0),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(Conversation {
            stream,
            poll,
            events: Events::with_capacity(4),
        })
    }

    /// Waits for news on the socket until `deadline`; false when the time is up.
    fn wait(&mut self, deadline: Instant) -> bool {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.poll.poll(&mut self.events, Some(left)) {
                Ok(()) if self.events.is_empty() => {}
                Ok(()) => return true,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Runs `check` over the connection until its verdict or `deadline`.
    fn check(
        &mut self,
        check: &Check,
        started: Instant,
        deadline: Instant,
        rtt: Duration,
        banner: bool,
    ) -> Outcome {
        let mut talk = check.begin_unix();
        let result = loop {
            match talk.step(&mut self.stream, check, started.elapsed()) {
                Turn::Done(result) => break result,
                Turn::More if self.wait(deadline) => {}
                Turn::More => break talk.timed_out(check, started.elapsed()),
            }
        };
        Outcome {
            reason: Reason::Connected,
            ..Outcome::checked(rtt, result, banner)
        }
    }

    /// What the service says first, until `deadline`.
    fn banner(&mut self, deadline: Instant) -> Vec<u8> {
        let mut received = Vec::new();
        while let BannerRead::More = read_banner(&mut self.stream, &mut received) {
            if !self.wait(deadline) {
                break;
            }
        }
        received
    }
}

/// The report of `addr` probed with `outcome`: `host` is the target as written
/// (`unix:/run/app.sock`), `addr` the path (or `@name`), `port` null, `proto` `unix`.
pub fn report(addr: &UnixAddr, outcome: &Outcome, spec: &AttemptSpec) -> PortReport {
    PortReport::unix(addr, ReportProto::unix(spec.proto), outcome, spec.banner)
        .with_check(spec.check.as_deref(), outcome)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::net::socket::Proto;
    use std::os::unix::net::UnixListener;

    fn plain() -> AttemptSpec {
        AttemptSpec {
            proto: Proto::Tcp,
            payload: None,
            banner: false,
            reset_on_close: false,
            check: None,
            tls: None,
        }
    }

    #[test]
    fn states_of_a_socket_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        let addr = UnixAddr::Path(path.clone());
        let timeout = Duration::from_secs(5);
        let state = |outcome: Outcome| (outcome.state, outcome.reason);
        assert_eq!(
            state(probe(&addr, &plain(), timeout)),
            (PortState::Closed, Reason::NoSuchFile)
        );
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            state(probe(&addr, &plain(), timeout)),
            (PortState::Open, Reason::Connected)
        );
        drop(listener);
        assert_eq!(
            state(probe(&addr, &plain(), timeout)),
            (PortState::Closed, Reason::ConnRefused)
        );
        let file = UnixAddr::Path(dir.path().join("plain"));
        std::fs::write(dir.path().join("plain"), b"").unwrap();
        assert_eq!(
            state(probe(&file, &plain(), timeout)),
            (PortState::Closed, Reason::NotASocket)
        );
    }

    #[test]
    fn a_datagram_socket_is_open_with_dash_u_and_the_wrong_type_without() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let addr = UnixAddr::Path(path.clone());
        let _socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let datagram = AttemptSpec {
            proto: Proto::Udp,
            ..plain()
        };
        let state = |outcome: Outcome| (outcome.state, outcome.reason);
        let timeout = Duration::from_secs(5);
        assert_eq!(
            state(probe(&addr, &datagram, timeout)),
            (PortState::Open, Reason::Connected)
        );
        assert_eq!(
            state(probe(&addr, &plain(), timeout)),
            (PortState::Closed, Reason::WrongType)
        );
    }
}
