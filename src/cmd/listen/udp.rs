//! `-u/--udp` listen, over UDP or a Unix datagram socket: datagrams from any peer go to
//! stdout, each written whole; stdin goes to the most recent peer that can be answered (nothing
//! is read from stdin before the first datagram names one); `--echo` answers each datagram to
//! its sender instead (stdin unread, stdout unused). A Unix sender that never bound an address
//! is heard but cannot be answered (`-v` says so once).
//!
//! Datagrams have no end of session: the listener runs until Ctrl-C (exit 130), or with `-w DUR`
//! until DUR passes without a datagram (exit 0); `-v` prints a summary at either end.
//! `--allow`/`--deny` drop datagrams from refused peers; `--echo` answers no datagram that
//! could start a loop (see [`echo_guard`](super::echo_guard)).

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use super::ListenConfig;
use super::echo_guard;
use super::server::canonical;
use crate::cmd::Context;
use crate::error::Status;
use crate::net::cause::describe;
use crate::net::datagram::{DatagramPeer, DatagramSocket};
use crate::net::format_duration;
use crate::net::stats::Bytes;
use crate::net::transform::{Flow, Transform};
use crate::os::interrupt::Interrupt;
use crate::output::notes;

/// The most stdin sent in one datagram: small enough not to be fragmented much off loopback.
const STDIN_DATAGRAM: usize = 8 * 1024;

/// Peers remembered for the `-v` "new peer" line before the memory is reset.
const REMEMBERED_PEERS: usize = 65_536;

/// The peer that stdin goes to, and a wake-up for the stdin thread when it changes.
#[derive(Debug, Default)]
struct LastPeer {
    addr: Mutex<Option<DatagramPeer>>,
    known: Condvar,
}

impl LastPeer {
    fn set(&self, addr: &DatagramPeer) {
        let mut last = self.addr.lock().unwrap_or_else(PoisonError::into_inner);
        if last.as_ref() != Some(addr) {
            *last = Some(addr.clone());
        }
        drop(last);
        self.known.notify_all();
    }

    fn wait(&self) -> DatagramPeer {
        let mut addr = self.addr.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(addr) = addr.as_ref() {
                return addr.clone();
            }
            addr = self
                .known
                .wait(addr)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// What the listener carried, for the `-v` summary (atomics: the stdin thread counts too).
#[derive(Debug)]
struct Counters {
    started: Instant,
    received: AtomicU64,
    received_bytes: AtomicU64,
    sent: AtomicU64,
    sent_bytes: AtomicU64,
    unanswered: AtomicU64,
}

impl Counters {
    fn new() -> Counters {
        Counters {
            started: Instant::now(),
            received: AtomicU64::new(0),
            received_bytes: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            sent_bytes: AtomicU64::new(0),
            unanswered: AtomicU64::new(0),
        }
    }

    fn count(datagrams: &AtomicU64, bytes: &AtomicU64, n: usize) {
        datagrams.fetch_add(1, Ordering::Relaxed);
        bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// `received 3 datagrams (12 B), sent 3 datagrams (12 B) in 1.2s[; 1 not answered …]`.
    fn summary(&self, echo: bool) -> String {
        let plural = |n: u64| if n == 1 { "datagram" } else { "datagrams" };
        let received = self.received.load(Ordering::Relaxed);
        let sent = self.sent.load(Ordering::Relaxed);
        let mut line = format!(
            "received {received} {} ({}), sent {sent} {} ({}) in {}",
            plural(received),
            Bytes(self.received_bytes.load(Ordering::Relaxed)),
            plural(sent),
            Bytes(self.sent_bytes.load(Ordering::Relaxed)),
            format_duration(self.started.elapsed()),
        );
        if echo {
            let unanswered = self.unanswered.load(Ordering::Relaxed);
            line.push_str(&format!(
                "; {unanswered} not answered (from our own address or a reflector port)"
            ));
        }
        line
    }
}

/// Serves a bound datagram socket. `interrupt` (the run's Ctrl-C) ends it on Ctrl-C with
/// exit 130.
pub fn run(
    socket: DatagramSocket,
    config: &ListenConfig,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let socket = Arc::new(socket);
    let local = socket.local_addr()?;
    let kind = socket.kind();
    let counters = Arc::new(Counters::new());
    let stopped = Arc::new(AtomicBool::new(false));
    {
        let (socket, stopped) = (Arc::clone(&socket), Arc::clone(&stopped));
        interrupt.on_interrupt(move || {
            stopped.store(true, Ordering::SeqCst);
            // Wakes the receive below (a shut-down socket reads as empty at once).
            let _ = socket.shutdown_read();
        });
    }
    let last_peer = Arc::new(LastPeer::default());
    if !config.echo && !config.recv_only {
        let socket = Arc::clone(&socket);
        let last_peer = Arc::clone(&last_peer);
        let counters = Arc::clone(&counters);
        let (crlf, hex) = (config.crlf, config.hex);
        std::thread::spawn(move || send_stdin(&socket, &last_peer, &counters, crlf, hex));
    }
    socket.set_read_timeout(config.idle_timeout)?;
    let access = &config.access;
    let verbose = context.verbose();
    let summary = |status: Status| {
        notes::verbose(format_args!("{kind}: {}", counters.summary(config.echo)));
        Ok(status)
    };
    let mut seen: HashSet<DatagramPeer> = HashSet::new();
    let mut refused: HashSet<DatagramPeer> = HashSet::new();
    let mut unanswered: HashSet<DatagramPeer> = HashSet::new();
    let mut received_flow = Transform::new(Flow::Received, false, config.hex);
    let mut echoed_flow = Transform::new(Flow::Sent, false, config.hex);
    let mut buffer = vec![0u8; socket.max_datagram()];
    let mut stdout = io::stdout().lock();
    loop {
        let received = socket.recv_from(&mut buffer);
        if stopped.load(Ordering::SeqCst) {
            return summary(Status::Interrupted);
        }
        let (n, from) = match received {
            Ok(received) => received,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                notes::verbose(format_args!(
                    "idle timeout: no datagram for {}",
                    format_duration(config.idle_timeout.unwrap_or_default())
                ));
                return summary(Status::Success);
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
        let from = match from {
            DatagramPeer::Ip(addr) => DatagramPeer::Ip(canonical(addr)),
            other => other,
        };
        if let DatagramPeer::Ip(addr) = &from
            && !access.permits(addr.ip())
        {
            if verbose && remember(&mut refused, &from) {
                notes::verbose(format_args!(
                    "refused {from}: not permitted by --allow/--deny"
                ));
            }
            continue;
        }
        Counters::count(&counters.received, &counters.received_bytes, n);
        if verbose && remember(&mut seen, &from) {
            if from.can_be_answered() {
                notes::verbose(format_args!("datagram from {from} (new peer)"));
            } else {
                notes::verbose(format_args!(
                    "datagram from {from}: received, but it cannot be answered \
                     (the sender did not bind an address)"
                ));
            }
        }
        let datagram = &buffer[..n];
        if config.echo {
            // Seen (and dumped) whether or not it is answered.
            received_flow.pass(datagram, |_| Ok::<_, io::Error>(()))?;
            if let Err(why) = echo_guard::check_peer(&from, &local) {
                counters.unanswered.fetch_add(1, Ordering::Relaxed);
                if verbose && remember(&mut unanswered, &from) {
                    notes::verbose(format_args!("not answering {from}: {why}"));
                }
                continue;
            }
            match echoed_flow.pass(datagram, |data| socket.send_to(data, &from)) {
                Ok(sent) => Counters::count(&counters.sent, &counters.sent_bytes, sent),
                Err(err) => {
                    notes::verbose(format_args!("cannot answer {from}: {}", describe(&err)));
                }
            }
            continue;
        }
        received_flow.pass(datagram, |data| {
            stdout.write_all(data)?;
            stdout.flush()
        })?;
        if from.can_be_answered() {
            last_peer.set(&from);
        }
    }
}

/// Adds `addr` to a bounded memory of peers; true when it was new.
pub fn remember(memory: &mut HashSet<DatagramPeer>, addr: &DatagramPeer) -> bool {
    if memory.contains(addr) {
        return false;
    }
    if memory.len() >= REMEMBERED_PEERS {
        memory.clear();
    }
    memory.insert(addr.clone())
}

/// Stdin to the most recent peer, one datagram per read. Ends quietly at stdin's end.
fn send_stdin(
    socket: &DatagramSocket,
    last_peer: &LastPeer,
    counters: &Counters,
    crlf: bool,
    hex: bool,
) {
    let mut stdin = io::stdin().lock();
    let mut buffer = vec![0u8; STDIN_DATAGRAM];
    let mut transform = Transform::new(Flow::Sent, crlf, hex);
    // Nothing is read before a peer is known, so that nothing is lost.
    last_peer.wait();
    loop {
        let n = match stdin.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        // A datagram that cannot go (the peer's network vanished) is lost, as UDP is.
        if let Ok(sent) =
            transform.pass(&buffer[..n], |data| socket.send_to(data, &last_peer.wait()))
        {
            Counters::count(&counters.sent, &counters.sent_bytes, sent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_datagrams_bytes_and_what_echo_left_unanswered() {
        let counters = Counters::new();
        Counters::count(&counters.received, &counters.received_bytes, 4);
        Counters::count(&counters.received, &counters.received_bytes, 6);
        Counters::count(&counters.sent, &counters.sent_bytes, 6);
        counters.unanswered.fetch_add(1, Ordering::Relaxed);
        let plain = counters.summary(false);
        assert!(
            plain.starts_with("received 2 datagrams (10 B), sent 1 datagram (6 B) in "),
            "{plain}"
        );
        assert!(!plain.contains("not answered"));
        assert!(
            counters
                .summary(true)
                .ends_with("; 1 not answered (from our own address or a reflector port)")
        );
    }
}
