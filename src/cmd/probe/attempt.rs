//! One probe attempt on one socket: start it, and move it on when its socket has news.
//! TCP: a non-blocking connect (then, with `--banner`, a short read); UDP: a connected socket
//! that sends one datagram and waits for a reply or an ICMP error.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Registry, Token};

use super::check::{self, Check};
use super::outcome::{Outcome, PortState, Reason, is_self_connect, shortage_reason};
use super::plan::HostEntry;
use super::tls::ProbeTls;
use super::udp_payloads;
#[cfg(any(target_os = "linux", target_os = "android"))]
use socket2::{Domain, Protocol, Type};
use socket2::{SockRef, Socket};

use crate::net::socket::Proto;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
use crate::net::socket::{SocketOptions, new_socket};

/// Most bytes kept of a banner.
pub const BANNER_MAX: usize = 1024;

/// What the engine needs to know to run attempts.
#[derive(Debug, Clone)]
pub struct AttemptSpec {
    /// TCP or UDP.
    pub proto: Proto,
    /// What to send in each UDP datagram (`--payload`); without it, the port's service
    /// request from [`udp_payloads`], or an empty datagram.
    pub payload: Option<Vec<u8>>,
    /// Read a banner after a TCP connect.
    pub banner: bool,
    /// Close connections with a reset (SO_LINGER 0) rather than a FIN: for large scans,
    /// which must leave no TIME_WAIT behind; a handful of probes closes politely.
    pub reset_on_close: bool,
    /// The application check run on every open TCP port.
    pub check: Option<Arc<Check>>,
    /// `--tls`: a handshake on every open TCP port.
    pub tls: Option<Arc<ProbeTls>>,
}

impl AttemptSpec {
    /// Tells the check how the user named each host (the HTTP `Host` header).
    pub fn learn_hosts<'a>(&mut self, hosts: impl IntoIterator<Item = &'a HostEntry>) {
        let hosts: Vec<&HostEntry> = hosts.into_iter().collect();
        if let Some(check) = &mut self.check {
            Arc::make_mut(check).learn_hosts(hosts.iter().copied());
        }
        // The TLS probe sends a name as SNI and verifies it.
        if let Some(tls) = &mut self.tls {
            Arc::make_mut(tls).learn_hosts(hosts.iter().copied());
        }
    }
}

/// A socket with an attempt in progress.
#[derive(Debug)]
pub enum Flight {
    /// TCP connect sent, waiting for the handshake or an error.
    Connecting(TcpStream),
    /// Connected; waiting for the service's first bytes.
    ReadingBanner {
        /// The connected stream.
        stream: TcpStream,
        /// The connect's round-trip time.
        rtt: Duration,
        /// What arrived so far.
        received: Vec<u8>,
    },
    /// UDP datagram sent, waiting for a reply or an ICMP error.
    Datagram(UdpSocket),
    /// Connected; the TLS handshake is under way (`--tls`).
    Handshaking {
        /// The connected stream.
        stream: TcpStream,
        /// The connect's round-trip time.
        rtt: Duration,
        /// The handshake.
        handshake: Box<crate::net::tls::Handshake>,
        /// When the handshake began.
        began: Instant,
        /// The run's TLS settings.
        tls: Arc<ProbeTls>,
        /// The check to run over the session once it is up.
        check: Option<Arc<Check>>,
    },
    /// TLS is up; the application check is talking through it (`--tls --http`, ...).
    CheckingTls {
        /// The connected stream.
        stream: TcpStream,
        /// The connect's round-trip time.
        rtt: Duration,
        /// The TLS session and the handshake's verdict.
        session: Box<super::tls_flight::Session>,
        /// The check and how far it is.
        check: Arc<Check>,
        talk: check::Conversation,
    },
    /// Connected; the application check is talking to the service.
    Checking {
        /// The connected stream.
        stream: TcpStream,
        /// The connect's round-trip time.
        rtt: Duration,
        /// The check and how far it is.
        check: Arc<Check>,
        talk: check::Conversation,
    },
}

/// Where an attempt stands after a step.
#[derive(Debug)]
pub enum Step {
    /// Still in progress; keep the socket registered.
    Waiting(Flight),
    /// Connected, now waiting for the banner: a new phase with its own deadline.
    Rearmed(Flight),
    /// Finished with an answer.
    Done(Outcome),
    /// The socket connected to itself (loopback, ephemeral port): probe again.
    SelfConnect,
    /// This host ran out of sockets, buffers or ports (which one: the reason): back off and
    /// probe again.
    Shortage(Reason),
}

/// Starts an attempt on `addr`, registering its socket under `token`.
pub fn start(
    spec: &AttemptSpec,
    addr: SocketAddr,
    registry: &Registry,
    token: Token,
    started: Instant,
    spares: &mut Spares,
) -> Step {
    let result = match spec.proto {
        Proto::Tcp => start_tcp(addr, registry, token, started, spares),
        Proto::Udp => start_udp(spec, addr, registry, token, started),
    };
    result.unwrap_or_else(|err| classify(&err, spec.proto, started))
}

fn start_tcp(
    addr: SocketAddr,
    registry: &Registry,
    token: Token,
    started: Instant,
    spares: &mut Spares,
) -> io::Result<Step> {
    let socket = match spares.take(&addr) {
        Some(socket) => socket,
        None => nonblocking_socket(&addr, Proto::Tcp)?,
    };
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(err) if is_in_progress(&err) => {}
        Err(err) => return Ok(classify(&err, Proto::Tcp, started)),
    }
    // On loopback the reset from a closed port has usually been processed before connect
    // returns: take the answer now and skip the poller for most closed ports.
    match early_answer(&socket, &addr)? {
        Some(err) => {
            let step = classify(&err, Proto::Tcp, started);
            if err.kind() == io::ErrorKind::ConnectionRefused {
                spares.put(&addr, socket);
            }
            Ok(step)
        }
        None => {
            let mut stream = TcpStream::from_std(socket.into());
            registry.register(&mut stream, token, Interest::WRITABLE)?;
            Ok(Step::Waiting(Flight::Connecting(stream)))
        }
    }
}

/// The error a connect already ended with, if any. On Linux a second connect() both reports
/// it and returns the socket to the unconnected state, so that it can be reused for the next
/// port: a refused port then costs two system calls and no socket allocation. (While the
/// SYN is unanswered it only says EALREADY; once connected it returns success.)
#[cfg(target_os = "linux")]
fn early_answer(socket: &Socket, addr: &SocketAddr) -> io::Result<Option<io::Error>> {
    match socket.connect(&(*addr).into()) {
        Ok(()) => Ok(None),
        Err(err) if err.raw_os_error() == Some(nix::libc::EALREADY) => Ok(None),
        Err(err) if is_in_progress(&err) => Ok(None),
        Err(err) => Ok(Some(err)),
    }
}

/// The error a connect already ended with, if any (SO_ERROR).
#[cfg(not(target_os = "linux"))]
fn early_answer(socket: &Socket, _addr: &SocketAddr) -> io::Result<Option<io::Error>> {
    socket.take_error()
}

/// Sockets whose connect was refused, reset and ready for the next port (Linux only).
#[derive(Debug, Default)]
pub struct Spares {
    v4: Vec<Socket>,
    v6: Vec<Socket>,
}

impl Spares {
    /// A handful is enough: a refused socket is reused by the very next attempt.
    const KEEP: usize = 8;

    fn take(&mut self, addr: &SocketAddr) -> Option<Socket> {
        self.pool(addr).pop()
    }

    fn put(&mut self, addr: &SocketAddr, socket: Socket) {
        if cfg!(target_os = "linux") {
            let pool = self.pool(addr);
            if pool.len() < Self::KEEP {
                pool.push(socket);
            }
        }
    }

    fn pool(&mut self, addr: &SocketAddr) -> &mut Vec<Socket> {
        if addr.is_ipv4() {
            &mut self.v4
        } else {
            &mut self.v6
        }
    }
}

fn start_udp(
    spec: &AttemptSpec,
    addr: SocketAddr,
    registry: &Registry,
    token: Token,
    started: Instant,
) -> io::Result<Step> {
    let socket = nonblocking_socket(&addr, Proto::Udp)?;
    socket.connect(&addr.into())?;
    let mut socket = UdpSocket::from_std(socket.into());
    registry.register(&mut socket, token, Interest::READABLE)?;
    let sent = match &spec.payload {
        Some(payload) => socket.send(payload),
        None => {
            socket.send(&udp_payloads::for_port(addr.port()).map_or_else(Vec::new, |p| (p.build)()))
        }
    };
    if let Err(err) = sent {
        return Ok(classify(&err, Proto::Udp, started));
    }
    Ok(Step::Waiting(Flight::Datagram(socket)))
}

/// A non-blocking socket for `addr`. On Linux SOCK_NONBLOCK is set at creation: one system
/// call instead of three per probe, which shows on a 65,535-port scan. SO_LINGER is set only
/// once a connection is established (see [`connected`]): a socket closed while its SYN is
/// unanswered, or after a reset, leaves no TIME_WAIT anyway.
fn nonblocking_socket(addr: &SocketAddr, proto: Proto) -> io::Result<Socket> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let (kind, protocol) = match proto {
            Proto::Tcp => (Type::STREAM, Protocol::TCP),
            Proto::Udp => (Type::DGRAM, Protocol::UDP),
        };
        Socket::new(
            Domain::for_address(*addr),
            kind.nonblocking(),
            Some(protocol),
        )
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let socket = new_socket(addr, proto, &SocketOptions::default())?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// Moves an attempt on after its socket reported readiness.
pub fn advance(
    flight: Flight,
    spec: &AttemptSpec,
    registry: &Registry,
    token: Token,
    started: Instant,
) -> Step {
    match flight {
        Flight::Connecting(stream) => connected(stream, spec, registry, token, started),
        Flight::ReadingBanner {
            mut stream,
            rtt,
            mut received,
        } => match read_banner(&mut stream, &mut received) {
            BannerRead::More => Step::Waiting(Flight::ReadingBanner {
                stream,
                rtt,
                received,
            }),
            BannerRead::Finished => Step::Done(open_with_banner(rtt, &received)),
        },
        Flight::Handshaking {
            stream,
            rtt,
            handshake,
            began,
            tls,
            check,
        } => super::tls_flight::step(
            stream,
            rtt,
            handshake,
            began,
            (tls, check),
            (spec, registry, token, started),
        ),
        Flight::CheckingTls {
            stream,
            rtt,
            session,
            check,
            talk,
        } => super::tls_flight::step_check(
            stream,
            rtt,
            session,
            check,
            talk,
            (spec, registry, token, started),
        ),
        Flight::Checking {
            mut stream,
            rtt,
            check,
            mut talk,
        } => match talk.step(&mut stream, &check, started.elapsed()) {
            check::Turn::More => Step::Waiting(Flight::Checking {
                stream,
                rtt,
                check,
                talk,
            }),
            check::Turn::Done(result) => Step::Done(Outcome::checked(rtt, result, spec.banner)),
        },
        Flight::Datagram(socket) => {
            let mut buf = [0u8; 1];
            match socket.recv(&mut buf) {
                Ok(_) => Step::Done(Outcome::new(
                    PortState::Open,
                    Reason::UdpResponse,
                    Some(started.elapsed()),
                )),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    Step::Waiting(Flight::Datagram(socket))
                }
                Err(err) => classify(&err, Proto::Udp, started),
            }
        }
    }
}

/// What a TCP socket's readiness means: connected, refused, or nothing yet.
fn connected(
    mut stream: TcpStream,
    spec: &AttemptSpec,
    registry: &Registry,
    token: Token,
    started: Instant,
) -> Step {
    let rtt = started.elapsed();
    match stream.take_error() {
        Ok(Some(err)) | Err(err) => return classify(&err, Proto::Tcp, started),
        Ok(None) => {}
    }
    let peer = match stream.peer_addr() {
        Ok(peer) => peer,
        // Not connected yet (a spurious wake-up): keep waiting.
        Err(err) if err.kind() == io::ErrorKind::NotConnected => {
            return Step::Waiting(Flight::Connecting(stream));
        }
        Err(err) => return classify(&err, Proto::Tcp, started),
    };
    // SO_LINGER 0: closing sends a reset, so a large scan leaves no TIME_WAIT behind. A few
    // probes close with a FIN, so that the service sees an ordinary end (a one-shot
    // `sockx listen` exits 0, a daemon logs no reset).
    if spec.reset_on_close {
        let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    }
    if stream
        .local_addr()
        .is_ok_and(|local| is_self_connect(local, peer))
    {
        return Step::SelfConnect;
    }
    if let Some(tls) = &spec.tls {
        let check = spec.check.clone();
        return super::tls_flight::start(
            stream,
            peer,
            rtt,
            (tls, check),
            (spec, registry, token, started),
        );
    }
    if let Some(check) = &spec.check {
        return start_check(stream, peer, rtt, check, spec, registry, token, started);
    }
    if !spec.banner {
        return Step::Done(Outcome::new(PortState::Open, Reason::SynAck, Some(rtt)));
    }
    let mut received = Vec::new();
    if registry
        .reregister(&mut stream, token, Interest::READABLE)
        .is_err()
    {
        return Step::Done(open_with_banner(rtt, &received));
    }
    match read_banner(&mut stream, &mut received) {
        BannerRead::Finished => Step::Done(open_with_banner(rtt, &received)),
        BannerRead::More => Step::Rearmed(Flight::ReadingBanner {
            stream,
            rtt,
            received,
        }),
    }
}

/// Connected with a check to run: send its request and read the reply as it comes.
#[allow(clippy::too_many_arguments)]
fn start_check(
    mut stream: TcpStream,
    peer: SocketAddr,
    rtt: Duration,
    check: &Arc<Check>,
    spec: &AttemptSpec,
    registry: &Registry,
    token: Token,
    started: Instant,
) -> Step {
    let mut talk = check.begin(peer);
    let interest = if talk.wants_write() {
        Interest::READABLE | Interest::WRITABLE
    } else {
        Interest::READABLE
    };
    if let Err(err) = registry.reregister(&mut stream, token, interest) {
        return classify(&err, Proto::Tcp, started);
    }
    match talk.step(&mut stream, check, started.elapsed()) {
        check::Turn::Done(result) => Step::Done(Outcome::checked(rtt, result, spec.banner)),
        check::Turn::More => Step::Rearmed(Flight::Checking {
            stream,
            rtt,
            check: check.clone(),
            talk,
        }),
    }
}

/// Where reading a banner stands.
pub enum BannerRead {
    /// Nothing yet: wait for the socket.
    More,
    /// Done: something came, the peer closed, or the buffer is full.
    Finished,
}

/// Reads what is there; finished once something arrived (and nothing more is waiting), the
/// peer closed, or the buffer is full.
pub fn read_banner(stream: &mut impl Read, received: &mut Vec<u8>) -> BannerRead {
    let mut buf = [0u8; BANNER_MAX];
    loop {
        let room = BANNER_MAX - received.len();
        if room == 0 {
            return BannerRead::Finished;
        }
        match stream.read(&mut buf[..room]) {
            Ok(0) => return BannerRead::Finished,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                return if received.is_empty() {
                    BannerRead::More
                } else {
                    BannerRead::Finished
                };
            }
            Err(_) => return BannerRead::Finished,
        }
    }
}

/// The outcome of an attempt whose banner or check phase ended by its deadline.
pub fn banner_deadline(flight: &Flight, started: Instant, banner: bool) -> Option<Outcome> {
    match flight {
        Flight::ReadingBanner { rtt, received, .. } => Some(open_with_banner(*rtt, received)),
        Flight::Handshaking {
            rtt,
            handshake,
            began,
            tls,
            ..
        } => Some(super::tls_flight::timed_out(*rtt, handshake, *began, tls)),
        Flight::CheckingTls {
            rtt,
            session,
            check,
            talk,
            ..
        } => Some(super::tls_flight::check_timed_out(
            *rtt, session, check, talk, started, banner,
        )),
        Flight::Checking {
            rtt, check, talk, ..
        } => Some(Outcome::checked(
            *rtt,
            talk.timed_out(check, started.elapsed()),
            banner,
        )),
        _ => None,
    }
}

fn open_with_banner(rtt: Duration, received: &[u8]) -> Outcome {
    Outcome {
        banner: (!received.is_empty()).then(|| received.to_vec()),
        ..Outcome::new(PortState::Open, Reason::SynAck, Some(rtt))
    }
}

fn classify(err: &io::Error, proto: Proto, started: Instant) -> Step {
    match Outcome::from_error(err, proto == Proto::Udp, started.elapsed()) {
        Some(outcome) => Step::Done(outcome),
        None => Step::Shortage(shortage_reason(err).unwrap_or(Reason::Error)),
    }
}

/// A non-blocking connect under way. (EAGAIN from a TCP connect on Linux means "no free
/// local port", a shortage, so only EINPROGRESS counts on Unix.)
fn is_in_progress(err: &io::Error) -> bool {
    #[cfg(unix)]
    return err.raw_os_error() == Some(nix::libc::EINPROGRESS);
    #[cfg(not(unix))]
    return err.kind() == io::ErrorKind::WouldBlock;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use mio::{Events, Poll};
    use std::net::TcpListener;

    fn tcp() -> AttemptSpec {
        AttemptSpec {
            proto: Proto::Tcp,
            payload: None,
            banner: false,
            reset_on_close: true,
            check: None,
            tls: None,
        }
    }

    #[test]
    fn a_refused_socket_is_reused_for_the_next_port() {
        let mut poll = Poll::new().unwrap();
        let mut spares = Spares::default();
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let step = start(
            &tcp(),
            closed,
            poll.registry(),
            Token(0),
            Instant::now(),
            &mut spares,
        );
        match step {
            Step::Done(outcome) => assert_eq!(outcome.reason, Reason::ConnRefused),
            other => panic!("{other:?}"),
        }
        assert_eq!(spares.v4.len(), 1);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let started = Instant::now();
        let step = start(
            &tcp(),
            open,
            poll.registry(),
            Token(1),
            started,
            &mut spares,
        );
        assert!(spares.v4.is_empty());
        let Step::Waiting(mut flight) = step else {
            panic!("{step:?}");
        };
        let mut events = Events::with_capacity(8);
        for _ in 0..50 {
            poll.poll(&mut events, Some(Duration::from_millis(100)))
                .unwrap();
            if events.is_empty() {
                continue;
            }
            match advance(flight, &tcp(), poll.registry(), Token(1), started) {
                Step::Done(outcome) => {
                    assert_eq!(
                        (outcome.state, outcome.reason),
                        (PortState::Open, Reason::SynAck)
                    );
                    return;
                }
                Step::Waiting(again) => flight = again,
                other => panic!("{other:?}"),
            }
        }
        panic!("no answer from an open port");
    }
}
