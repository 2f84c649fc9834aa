//! `connect -u`: stdin chunks (or `--send` pieces) go out as datagrams; replies go to
//! stdout. After the input ends, replies are awaited until the idle timeout (default 2s)
//! passes without one.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::ConnectConfig;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::relay::pump::write_all;
use crate::net::relay::{Activity, CrlfTranslator, Flow, HexDumper, RelayEnd, RelayStats};
use crate::net::socket::{Proto, new_socket};
use crate::net::{HostPort, resolve};
use crate::os::interrupt::Interrupt;
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
    let addrs = resolve(&peer.host, peer.port, config.family)?;
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
    if context.verbose() {
        let local = socket
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        notes::verbose(format_args!("sending to {addr} (udp) from {local}"));
    }
    let socket = Arc::new(socket);
    let shared = Arc::new(Shared::default());
    let stop = Arc::clone(&shared);
    interrupt.on_interrupt(move || stop.stopped.store(true, Ordering::SeqCst));
    spawn_sender(config, Arc::clone(&socket), Arc::clone(&shared));

    let outcome = receive(&socket, config, &shared);
    let stats = RelayStats {
        sent: shared.sent.load(Ordering::Relaxed),
        received: shared.received.load(Ordering::Relaxed),
        duration: shared.activity.start().elapsed(),
        end: match &outcome {
            Ok(end) => *end,
            Err(_) => RelayEnd::PeerClosed,
        },
    };
    notes::verbose(format_args!("{addr} (udp): {stats}"));
    match outcome {
        Ok(RelayEnd::Stopped) => Ok(Status::Interrupted),
        Ok(_) => Ok(Status::Success),
        Err(Failure::Output(err)) => Err(err.into()),
        Err(Failure::Peer(err)) => {
            let cause = if err.kind() == io::ErrorKind::ConnectionRefused {
                "port unreachable (nothing listening)".to_string()
            } else {
                describe(&err)
            };
            Err(Error::failure(format!("no answer from {addr} (udp): {cause}")).into())
        }
        Err(Failure::Input(err)) => {
            Err(Error::failure(format!("cannot read stdin: {}", describe(&err))).into())
        }
    }
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
    let mut crlf = config.relay.crlf.then(CrlfTranslator::new);
    let mut translated = Vec::new();
    for piece in pieces {
        let size = match crlf.as_mut() {
            Some(crlf) => {
                translated.clear();
                crlf.translate(piece, &mut translated);
                translated.len()
            }
            None => piece.len(),
        };
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
    activity: Activity,
    sent: AtomicU64,
    received: AtomicU64,
    input_done: AtomicBool,
    stopped: AtomicBool,
    error: Mutex<Option<Failure>>,
}

#[derive(Debug)]
enum Failure {
    Peer(io::Error),
    Input(io::Error),
    Output(io::Error),
}

/// Sends the input, one datagram per `--send` piece or per read from stdin.
fn spawn_sender(config: &ConnectConfig, socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let pieces = config.send.clone();
    let crlf = config.relay.crlf;
    let hex = config.relay.hex;
    let on_failure = Arc::clone(&shared);
    let body = move || {
        let mut sender = Sender {
            socket: &socket,
            shared: &shared,
            crlf: crlf.then(CrlfTranslator::new),
            hex: hex.then(|| HexDumper::new(Flow::Sent)),
            translated: Vec::new(),
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
        shared.activity.touch();
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
    socket: &'a UdpSocket,
    shared: &'a Shared,
    crlf: Option<CrlfTranslator>,
    hex: Option<HexDumper>,
    translated: Vec<u8>,
}

impl Sender<'_> {
    fn send(&mut self, data: &[u8]) -> Result<(), Failure> {
        let data = match self.crlf.as_mut() {
            Some(crlf) => {
                self.translated.clear();
                crlf.translate(data, &mut self.translated);
                &self.translated[..]
            }
            None => data,
        };
        self.socket.send(data).map_err(Failure::Peer)?;
        self.shared
            .sent
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.shared.activity.touch();
        if let Some(hex) = self.hex.as_mut() {
            let _ = hex.dump(data);
        }
        Ok(())
    }

    fn send_stdin(&mut self) -> Result<(), Failure> {
        let stdin = io::stdin();
        let fd = stdin.as_fd();
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        loop {
            match nix::unistd::read(fd, &mut buffer) {
                Ok(0) => return Ok(()),
                Ok(got) => self.send(&buffer[..got])?,
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    wait(fd, Duration::from_secs(1)).map_err(Failure::Input)?;
                }
                Err(errno) => return Err(Failure::Input(errno.into())),
            }
        }
    }
}

/// Prints replies until the input is done and the idle timeout passed without traffic, or
/// `--idle-timeout` passed at any time, or Ctrl-C.
fn receive(
    socket: &UdpSocket,
    config: &ConnectConfig,
    shared: &Shared,
) -> Result<RelayEnd, Failure> {
    let stdout = io::stdout();
    let out = stdout.as_fd();
    let mut hex = config.relay.hex.then(|| HexDumper::new(Flow::Received));
    let mut buffer = vec![0u8; 65_536];
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
        let idle = shared.activity.idle_for();
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
        if !wait(socket.as_fd(), wait_for).map_err(Failure::Peer)? {
            continue;
        }
        match socket.recv(&mut buffer) {
            Ok(got) => {
                write_all(out, &buffer[..got]).map_err(Failure::Output)?;
                shared.received.fetch_add(got as u64, Ordering::Relaxed);
                shared.activity.touch();
                if let Some(hex) = hex.as_mut() {
                    let _ = hex.dump(&buffer[..got]);
                }
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(err) => return Err(Failure::Peer(err)),
        }
    }
}

/// Waits up to `timeout` for `fd` to be readable; true when it is.
fn wait(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    let millis = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
    match poll(
        &mut fds,
        PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
    ) {
        Ok(ready) => Ok(ready > 0),
        Err(Errno::EINTR) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}
