//! `connect -u`, over UDP or a Unix datagram socket: stdin chunks (or `--send` pieces) go out
//! as datagrams; replies go to stdout. After the input ends, replies are awaited until the
//! idle timeout (default 2s) passes without one.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::PollFlags;

use super::ConnectConfig;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::datagram::{self, DatagramPeer, DatagramSocket};
use crate::net::endpoint::UnixAddr;
use crate::net::relay::pump::write_all;
use crate::net::relay::{RelayEnd, RelayError, RelayStats};
use crate::net::socket::{Proto, new_socket};
use crate::net::traffic::Traffic;
use crate::net::transform::{Flow, Transform};
use crate::net::{HostPort, resolve};
use crate::os::interrupt::Interrupt;
use crate::os::poll::wait;
use crate::output::notes;

/// How long to wait for replies after the input ended, unless `--idle-timeout` says.
pub const DEFAULT_UDP_IDLE: Duration = Duration::from_secs(2);

/// The largest UDP payload over IPv4: 65,535 less the IPv4 and UDP headers.
const MAX_DATAGRAM: usize = 65_507;

/// The largest UDP payload over IPv6 (without jumbograms): 65,535 less the UDP header.
const MAX_DATAGRAM_V6: usize = 65_527;

/// Runs a UDP session.
pub fn run(
    config: &ConnectConfig,
    peer: &HostPort,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let addrs = resolve(&peer.host, peer.port, config.family).map_err(Error::from)?;
    if context.verbose() {
        let list: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
        notes::verbose(format_args!("{peer} resolves to {}", list.join(", ")));
    }
    // No handshake to race: the first address is the peer.
    let addr = addrs[0];
    check_datagram_sizes(config, addr)?;
    let socket = open(addr, config).map_err(|err| {
        Error::failure(format!("cannot send to {addr} (udp): {}", describe(&err)))
    })?;
    let socket = DatagramSocket::Udp(socket);
    session(socket, &DatagramPeer::Ip(addr), config, context, interrupt)
}

/// Runs a session with a Unix datagram socket, from a socket bound to an address of its own
/// (so that replies come back), which goes when the session ends.
pub fn run_unix(
    config: &ConnectConfig,
    peer: &UnixAddr,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let (socket, name) = datagram::unix_client(peer).map_err(|err| {
        let error = Error::failure(format!(
            "cannot send to {peer} (unix-dgram): {}",
            describe(&err)
        ));
        if err.raw_os_error() == Some(nix::libc::EPROTOTYPE) {
            error.with_hint("it is a stream socket: drop -u")
        } else {
            error
        }
    })?;
    let outcome = session(
        socket,
        &DatagramPeer::Unix(peer.clone()),
        config,
        context,
        interrupt,
    );
    drop(name);
    outcome
}

/// Sends the input to `peer` and prints its replies (the module's documentation).
fn session(
    socket: DatagramSocket,
    peer: &DatagramPeer,
    config: &ConnectConfig,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let kind = socket.kind();
    if context.verbose() {
        let local = socket
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        notes::verbose(format_args!("sending to {peer} ({kind}) from {local}"));
    }
    let socket = Arc::new(socket);
    let shared = Arc::new(Shared::default());
    let stop = Arc::clone(&shared);
    interrupt.on_interrupt(move || stop.stopped.store(true, Ordering::SeqCst));
    spawn_sender(config, Arc::clone(&socket), Arc::clone(&shared));

    let outcome = receive(&socket, config, &shared);
    let stats: RelayStats = shared.traffic.stats(match &outcome {
        Ok(end) => *end,
        Err(_) => RelayEnd::PeerClosed,
    });
    notes::verbose(format_args!("{peer} ({kind}): {stats}"));
    match outcome {
        Ok(RelayEnd::Stopped) => Ok(Status::Interrupted),
        Ok(_) => Ok(Status::Success),
        Err(RelayError::Output(err)) => Err(err.into()),
        Err(RelayError::Peer(err)) => Err(peer_failure(&err, peer, kind).into()),
        Err(RelayError::Input(err)) => {
            Err(Error::failure(format!("cannot read stdin: {}", describe(&err))).into())
        }
    }
}

/// What a failed send or receive says: nothing listening, a datagram too long, or the cause.
fn peer_failure(err: &io::Error, peer: &DatagramPeer, kind: &str) -> Error {
    let unix = matches!(peer, DatagramPeer::Unix(_));
    if err.raw_os_error() == Some(nix::libc::EMSGSIZE) {
        return Error::failure(format!(
            "cannot send to {peer} ({kind}): the datagram is too long for the socket"
        ));
    }
    let cause = match err.kind() {
        io::ErrorKind::ConnectionRefused if unix => {
            "nothing receives on it any more (connection refused)".to_string()
        }
        io::ErrorKind::ConnectionRefused => "port unreachable (nothing listening)".to_string(),
        _ => describe(err),
    };
    Error::failure(format!("no answer from {peer} ({kind}): {cause}"))
}

/// Each `--send` piece is one datagram: one larger than UDP allows towards `addr`'s family
/// (65,507 bytes over IPv4, 65,527 over IPv6) is invalid input, said before anything is sent.
fn check_datagram_sizes(config: &ConnectConfig, addr: SocketAddr) -> Result<(), Error> {
    let Some(pieces) = &config.send else {
        return Ok(());
    };
    let (limit, family) = if addr.ip().to_canonical().is_ipv4() {
        (MAX_DATAGRAM, "IPv4")
    } else {
        (MAX_DATAGRAM_V6, "IPv6")
    };
    // With --crlf a piece grows as the sender translates it.
    let mut transform = Transform::new(Flow::Sent, config.relay.crlf, false);
    for piece in pieces {
        let size = transform.translate(piece).len();
        if size > limit {
            return Err(Error::usage(format!(
                "a --send piece of {size} bytes does not fit in one UDP datagram \
                 (at most {limit} bytes over {family})"
            ))
            .with_hint("split the data into several --send pieces, one datagram each"));
        }
    }
    Ok(())
}

/// A connected UDP socket with the source address and options applied.
fn open(addr: SocketAddr, config: &ConnectConfig) -> io::Result<UdpSocket> {
    let mut options = config.socket;
    options.reuse_addr = config.source.port != 0;
    let socket = new_socket(&addr, Proto::Udp, &options)?;
    let local = config.source.local_for(&addr)?.unwrap_or_else(|| {
        let any: std::net::IpAddr = if addr.is_ipv4() {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        };
        SocketAddr::new(any, 0)
    });
    socket.bind(&local.into())?;
    socket.connect(&addr.into())?;
    Ok(socket.into())
}

#[derive(Debug, Default)]
struct Shared {
    traffic: Traffic,
    input_done: AtomicBool,
    stopped: AtomicBool,
    error: Mutex<Option<RelayError>>,
}

/// Sends the input, one datagram per `--send` piece or per read from stdin.
fn spawn_sender(config: &ConnectConfig, socket: Arc<DatagramSocket>, shared: Arc<Shared>) {
    let pieces = config.send.clone();
    let crlf = config.relay.crlf;
    let hex = config.relay.hex;
    let on_failure = Arc::clone(&shared);
    let body = move || {
        let mut sender = Sender {
            socket: &socket,
            shared: &shared,
            transform: Transform::new(Flow::Sent, crlf, hex),
        };
        let outcome = match pieces {
            Some(pieces) => pieces.iter().try_for_each(|piece| sender.send(piece)),
            None => sender.send_stdin(),
        };
        if let Err(err) = outcome
            && let Ok(mut slot) = shared.error.lock()
        {
            *slot = Some(err);
        }
        shared.traffic.touch();
        shared.input_done.store(true, Ordering::SeqCst);
    };
    let spawned = thread::Builder::new()
        .name("udp-send".into())
        .stack_size(256 * 1024)
        .spawn(body);
    if spawned.is_err() {
        // Without a sender there is nothing to wait for.
        on_failure.input_done.store(true, Ordering::SeqCst);
    }
}

struct Sender<'a> {
    socket: &'a DatagramSocket,
    shared: &'a Shared,
    transform: Transform,
}

impl Sender<'_> {
    fn send(&mut self, data: &[u8]) -> Result<(), RelayError> {
        let (socket, shared) = (self.socket, self.shared);
        self.transform.pass(data, |data| {
            socket.send(data).map_err(RelayError::Peer)?;
            shared.traffic.sent(data.len());
            Ok(())
        })
    }

    fn send_stdin(&mut self) -> Result<(), RelayError> {
        let stdin = io::stdin();
        let fd = stdin.as_fd();
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        loop {
            match nix::unistd::read(fd, &mut buffer) {
                Ok(0) => return Ok(()),
                Ok(got) => self.send(&buffer[..got])?,
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    wait(fd, PollFlags::POLLIN, Some(Duration::from_secs(1)))
                        .map_err(RelayError::Input)?;
                }
                Err(errno) => return Err(RelayError::Input(errno.into())),
            }
        }
    }
}

/// Prints replies until the input is done and the idle timeout passed without traffic, or
/// `--idle-timeout` passed at any time, or Ctrl-C.
fn receive(
    socket: &DatagramSocket,
    config: &ConnectConfig,
    shared: &Shared,
) -> Result<RelayEnd, RelayError> {
    let stdout = io::stdout();
    let out = stdout.as_fd();
    let mut transform = Transform::new(Flow::Received, false, config.relay.hex);
    let mut buffer = vec![0u8; socket.max_datagram()];
    let after_input = config.idle_timeout.unwrap_or(DEFAULT_UDP_IDLE);
    loop {
        if shared.stopped.load(Ordering::SeqCst) {
            return Ok(RelayEnd::Stopped);
        }
        if let Ok(mut slot) = shared.error.lock()
            && let Some(err) = slot.take()
        {
            return Err(err);
        }
        let idle = shared.traffic.idle_for();
        let limit = if shared.input_done.load(Ordering::SeqCst) {
            Some(after_input)
        } else {
            config.idle_timeout
        };
        if let Some(limit) = limit
            && idle >= limit
        {
            return Ok(RelayEnd::IdleTimeout);
        }
        // Wake up at least every 100ms to notice the input ending or Ctrl-C.
        let wait_for = limit
            .map_or(Duration::from_millis(100), |l| l - idle)
            .min(Duration::from_millis(100));
        if !wait(socket.as_fd(), PollFlags::POLLIN, Some(wait_for)).map_err(RelayError::Peer)? {
            continue;
        }
        match socket.recv(&mut buffer) {
            Ok(got) => transform.pass(&buffer[..got], |data| {
                write_all(out, data).map_err(RelayError::Output)?;
                shared.traffic.received(data.len());
                Ok(())
            })?,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(err) => return Err(RelayError::Peer(err)),
        }
    }
}
