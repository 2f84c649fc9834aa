//! `-u/--udp` listen: datagrams from any peer go to stdout, each written whole; stdin goes to
//! the most recent peer (nothing is read from stdin before the first datagram names one);
//! `--echo` answers each datagram to its sender instead (stdin unread, stdout unused).
//!
//! UDP has no end of session: the listener runs until Ctrl-C, or with `-w DUR` until DUR
//! passes without a datagram (exit 0). `--allow`/`--deny` drop datagrams from refused peers.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use super::access::AccessList;
use super::server::{canonical, say};
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::Status;
use crate::net::cause::describe;
use crate::net::relay::{CrlfTranslator, Flow, HexDumper};

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// The most stdin sent in one datagram: small enough not to be fragmented much off loopback.
const STDIN_DATAGRAM: usize = 8 * 1024;

/// Peers remembered for the `-v` "new peer" line before the memory is reset.
const REMEMBERED_PEERS: usize = 65_536;

/// The peer that stdin goes to, and a wake-up for the stdin thread when it changes.
#[derive(Debug, Default)]
struct LastPeer {
    addr: Mutex<Option<SocketAddr>>,
    known: Condvar,
}

impl LastPeer {
    fn set(&self, addr: SocketAddr) {
        *self.addr.lock().unwrap_or_else(PoisonError::into_inner) = Some(addr);
        self.known.notify_all();
    }

    fn wait(&self) -> SocketAddr {
        let mut addr = self.addr.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(addr) = *addr {
                return addr;
            }
            addr = self
                .known
                .wait(addr)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Serves a bound UDP socket.
pub fn run(socket: UdpSocket, args: &ListenArgs, context: &Context) -> anyhow::Result<Status> {
    let socket = Arc::new(socket);
    let last_peer = Arc::new(LastPeer::default());
    if !args.echo && !args.recv_only {
        let socket = Arc::clone(&socket);
        let last_peer = Arc::clone(&last_peer);
        let (crlf, hex) = (args.crlf, args.hex);
        std::thread::spawn(move || send_stdin(&socket, &last_peer, crlf, hex));
    }
    socket.set_read_timeout(args.idle_timeout)?;
    let access = AccessList::new(&args.allow, &args.deny);
    let verbose = context.verbose();
    let mut seen: HashSet<SocketAddr> = HashSet::new();
    let mut refused: HashSet<SocketAddr> = HashSet::new();
    let mut hex = args.hex.then(|| HexDumper::new(Flow::Received));
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    let mut stdout = io::stdout().lock();
    loop {
        let (n, from) = match socket.recv_from(&mut buffer) {
            Ok(received) => received,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if verbose {
                    say(format_args!(
                        "idle timeout: no datagram for {}",
                        crate::net::format_duration(args.idle_timeout.unwrap_or_default())
                    ));
                }
                return Ok(Status::Success);
            }
            // An ICMP error for an earlier datagram of ours, or a signal: not the listener's end.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionReset
                ) =>
            {
                continue;
            }
            Err(err) => return Err(anyhow::Error::new(err).context("cannot receive a datagram")),
        };
        let shown = canonical(from);
        if !access.permits(shown.ip()) {
            if verbose && remember(&mut refused, from) {
                say(format_args!(
                    "refused {shown}: not permitted by --allow/--deny"
                ));
            }
            continue;
        }
        if verbose && remember(&mut seen, from) {
            say(format_args!("datagram from {shown} (new peer)"));
        }
        let datagram = &buffer[..n];
        if let Some(dumper) = hex.as_mut() {
            dumper.dump(datagram)?;
        }
        if args.echo {
            if let Err(err) = socket.send_to(datagram, from)
                && verbose
            {
                say(format_args!("cannot answer {shown}: {}", describe(&err)));
            }
            continue;
        }
        stdout.write_all(datagram)?;
        stdout.flush()?;
        last_peer.set(from);
    }
}

/// Adds `addr` to a bounded memory of peers; true when it was new.
fn remember(memory: &mut HashSet<SocketAddr>, addr: SocketAddr) -> bool {
    if memory.len() >= REMEMBERED_PEERS {
        memory.clear();
    }
    memory.insert(addr)
}

/// Stdin to the most recent peer, one datagram per read. Ends quietly at stdin's end.
fn send_stdin(socket: &UdpSocket, last_peer: &LastPeer, crlf: bool, hex: bool) {
    let mut stdin = io::stdin().lock();
    let mut buffer = vec![0u8; STDIN_DATAGRAM];
    let mut translator = crlf.then(CrlfTranslator::new);
    let mut dumper = hex.then(|| HexDumper::new(Flow::Sent));
    let mut translated = Vec::new();
    // Nothing is read before a peer is known, so that nothing is lost.
    last_peer.wait();
    loop {
        let n = match stdin.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let datagram = match translator.as_mut() {
            Some(translator) => {
                translated.clear();
                translator.translate(&buffer[..n], &mut translated);
                &translated[..]
            }
            None => &buffer[..n],
        };
        if let Some(dumper) = dumper.as_mut() {
            let _ = dumper.dump(datagram);
        }
        // A datagram that cannot go (the peer's network vanished) is lost, as UDP is.
        let _ = socket.send_to(datagram, last_peer.wait());
    }
}
