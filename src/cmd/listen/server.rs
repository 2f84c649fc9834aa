//! The accept loop shared by the served modes (`-k`, `--echo`, `--exec`): admission
//! (`--allow`/`--deny`, `--max-conns`), one task per connection, `-v` reports, Ctrl-C.

use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::ListenConfig;
use super::access::AccessList;
use crate::cmd::Context;
use crate::error::Status;
use crate::net::async_stream::AsyncStream;
use crate::net::cause::describe;
use crate::net::listener::{AsyncListener, Listener};
use crate::net::relay::RelayEnd;
use crate::net::tls::TlsServer;
use crate::net::traffic::Traffic;
use crate::output::notes;

pub use crate::net::peer::{Peer, canonical};

/// How a served connection ended, for its `-v` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The peer closed its side and the exchange is complete.
    Closed,
    /// `-w`: nothing moved for the idle timeout.
    Idle,
    /// Ctrl-C.
    Interrupted,
    /// Anything else: reset, broken pipe, a client too slow for stdin.
    Other(String),
}

impl Ending {
    /// The ending for a failed connection.
    pub fn error(err: &io::Error) -> Ending {
        Ending::Other(describe(err))
    }

    /// `PEER closed: sent ..., received ... in ... (.../s)`, the one-shot mode's format.
    pub fn report(&self, peer: &Peer, traffic: &Traffic) {
        let (why, end) = match self {
            Ending::Closed => ("closed", RelayEnd::PeerClosed),
            Ending::Idle => ("idle timeout", RelayEnd::IdleTimeout),
            Ending::Interrupted => ("interrupted", RelayEnd::PeerClosed),
            Ending::Other(why) => (why.as_str(), RelayEnd::PeerClosed),
        };
        notes::verbose(format_args!("{peer} {why}: {}", traffic.stats(end)));
    }
}

/// Who gets served: the access rule and the connection limit; and, out of descriptors, when.
#[derive(Debug, Clone)]
pub struct Gate {
    policy: AccessList,
    max_conns: Option<usize>,
    open: Arc<AtomicUsize>,
    verbose: bool,
    resources: Arc<Resources>,
    /// With [`Gate::one_start_at_a_time`]: the next connection is accepted only once the
    /// previous one holds everything it needs ([`Slot::started`]).
    starting: Option<Arc<Semaphore>>,
    /// `--tls`: an admitted connection is served once its handshake is done.
    tls: Option<TlsServer>,
    /// How long a client has for its handshake.
    handshake_limit: Duration,
    /// `-v` prints `connection from PEER` for each admitted connection (off where the mode
    /// prints its own line, see [`Gate::without_arrival_line`]).
    arrival_line: bool,
}

/// What the connections share about the process's descriptors: the once-per-shortage
/// warning, and a wake-up whenever a connection has closed (and so given some back).
///
/// A shortage is over when the listener has caught up: an accept succeeded and no other
/// connection is waiting in the backlog. (Not merely when one accept succeeds: under steady
/// pressure accepts fail and succeed in turn, and that is one shortage.)
#[derive(Debug)]
struct Resources {
    shortage: notes::Once,
    short: AtomicBool,
    closed: Notify,
}

impl Resources {
    fn new() -> Resources {
        Resources {
            shortage: notes::Once::new(),
            short: AtomicBool::new(false),
            closed: Notify::new(),
        }
    }

    fn warn(&self, what: &str) {
        self.short.store(true, Ordering::Release);
        self.shortage
            .warn(format_args!("{what}; waiting for connections to close"));
    }

    /// After a successful accept: the shortage (if any) is over once the backlog is empty.
    fn accepted(&self, listener: &AsyncListener) {
        if self.short.load(Ordering::Acquire) && !has_pending(listener) {
            self.short.store(false, Ordering::Release);
            self.shortage.reset();
        }
    }
}

/// Whether a connection waits in the listener's backlog (a poll that does not block).
fn has_pending(listener: &AsyncListener) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::ZERO).map_or(true, |ready| ready > 0)
}

/// How long a connection waiting for descriptors sleeps when no other connection closes
/// meanwhile (descriptors can also come back from elsewhere).
const SHORTAGE_RETRY: Duration = Duration::from_millis(50);

/// A place among the `--max-conns` open connections, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    open: Arc<AtomicUsize>,
    resources: Arc<Resources>,
    starting: Option<OwnedSemaphorePermit>,
}

impl Slot {
    /// The connection holds everything it needs to be served whole: the listener may accept
    /// the next one (see [`Gate::one_start_at_a_time`]).
    pub fn started(&mut self) {
        self.starting = None;
    }

    /// Out of descriptors (or processes, or memory): warns once per shortage (not with
    /// `-q`), then waits until a connection closes or a short while has passed, for the
    /// caller to try again. The connection is kept, never dropped.
    pub async fn wait_for_resources(&self, what: &str) {
        self.resources.warn(what);
        let _ = tokio::time::timeout(SHORTAGE_RETRY, self.resources.closed.notified()).await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
        self.resources.closed.notify_waiters();
    }
}

impl Gate {
    /// The gate for `config`.
    pub fn new(config: &ListenConfig, context: &Context) -> Gate {
        Gate {
            policy: config.access.clone(),
            max_conns: config.max_conns,
            open: Arc::new(AtomicUsize::new(0)),
            verbose: context.verbose(),
            resources: Arc::new(Resources::new()),
            starting: None,
            tls: config.tls.clone(),
            handshake_limit: config.handshake_limit(),
            arrival_line: true,
        }
    }

    /// No `connection from PEER` line with `-v`: for a mode whose own line names the peer
    /// (`--forward` prints `CLIENT -> TARGET`). Refusals are still printed.
    pub fn without_arrival_line(mut self) -> Gate {
        self.arrival_line = false;
        self
    }

    /// Accepts one connection at a time: the next only after the previous called
    /// [`Slot::started`] (or ended). For modes that need more than the socket to serve a
    /// connection (`--exec` spawns a child): out of descriptors, at most one accepted
    /// connection waits for them, so the accepted ones can never hold every descriptor
    /// while none of them can start.
    pub fn one_start_at_a_time(mut self) -> Gate {
        self.starting = Some(Arc::new(Semaphore::new(1)));
        self
    }

    /// A slot for `peer`, or `None` (reported with `-v`) when the peer is refused or the
    /// limit is reached; the caller then drops the connection, which closes it. The access
    /// rule applies to IP peers (the config refuses it with a Unix address).
    pub fn admit(&self, peer: &Peer) -> Option<Slot> {
        if let Some(Err(refusal)) = peer.ip().map(|ip| self.policy.check(ip)) {
            if self.verbose {
                notes::verbose(format_args!("refused {peer}: {refusal}"));
            }
            return None;
        }
        let limit = self.max_conns.unwrap_or(usize::MAX);
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < limit).then_some(open + 1)
            });
        if taken.is_err() {
            if self.verbose {
                let noun = if limit == 1 {
                    "connection"
                } else {
                    "connections"
                };
                notes::verbose(format_args!(
                    "refused {peer}: {limit} {noun} already open (--max-conns {limit})"
                ));
            }
            return None;
        }
        if self.verbose && self.arrival_line {
            match peer {
                Peer::Unix { local, .. } => {
                    notes::verbose(format_args!("connection from {peer} on {local}"));
                }
                Peer::Inet { .. } => notes::verbose(format_args!("connection from {peer}")),
            }
        }
        Some(Slot {
            open: Arc::clone(&self.open),
            resources: Arc::clone(&self.resources),
            starting: None,
        })
    }
}

impl Gate {
    /// With `--tls`: runs an admitted connection's handshake (in the connection's own task,
    /// so that a slow client never holds up the listener), then gives the session to serve.
    /// A failed handshake is reported with `-v` and the connection dropped: `None`. With
    /// [`Gate::one_start_at_a_time`] the turn to start is taken after the handshake.
    pub async fn secure(
        &self,
        stream: AsyncStream,
        peer: &Peer,
        mut slot: Slot,
    ) -> io::Result<Option<(AsyncStream, Slot)>> {
        let Some(tls) = &self.tls else {
            return Ok(Some((stream, slot)));
        };
        let accepted = tokio::select! {
            accepted = tls.accept(stream, peer, self.handshake_limit) => accepted,
            _ = interrupted() => return Ok(None),
        };
        match accepted {
            Ok((stream, session)) => {
                if self.verbose {
                    session.report(peer);
                }
                if slot.starting.is_none() {
                    slot.starting = self.take_turn().await?;
                }
                Ok(Some((stream, slot)))
            }
            Err(failure) => {
                failure.report(peer);
                Ok(None)
            }
        }
    }

    /// With [`Gate::one_start_at_a_time`]: waits for the turn to start a connection.
    async fn take_turn(&self) -> io::Result<Option<OwnedSemaphorePermit>> {
        match &self.starting {
            Some(one) => Arc::clone(one)
                .acquire_owned()
                .await
                .map(Some)
                .map_err(io::Error::other),
            None => Ok(None),
        }
    }
}

/// Accepts the next connection the gate lets in. Transient accept failures (a client that
/// reset before we got to it, running out of descriptors) are waited out, never fatal.
/// With `--tls` the turn to start ([`Gate::one_start_at_a_time`]) is taken after the
/// handshake instead ([`Gate::secure`]), so that a slow handshake holds up no other client;
/// but during a shortage of descriptors it is taken here as without TLS, so that at most one
/// accepted connection waits for them.
pub async fn accept_admitted(
    listener: &AsyncListener,
    gate: &Gate,
) -> io::Result<(AsyncStream, Peer, Slot)> {
    let starting = if gate.tls.is_none() || gate.resources.short.load(Ordering::Acquire) {
        gate.take_turn().await?
    } else {
        None
    };
    loop {
        match listener.accept().await {
            Ok((stream, mut peer)) => {
                gate.resources.accepted(listener);
                if gate.verbose {
                    peer.name_process();
                }
                if let Some(mut slot) = gate.admit(&peer) {
                    slot.starting = starting;
                    return Ok((stream, peer, slot));
                }
            }
            Err(err) if is_out_of_descriptors(&err) => {
                // Linux takes the descriptor before it looks at the backlog: with none free,
                // accept fails even when nobody waits, and that is no shortage yet.
                if has_pending(listener) {
                    gate.resources
                        .warn(&format!("cannot accept: {}", describe(&err)));
                }
                let _ =
                    tokio::time::timeout(SHORTAGE_RETRY, gate.resources.closed.notified()).await;
            }
            Err(err) if is_transient(&err) => {}
            Err(err) => return Err(err),
        }
    }
}

/// Out of descriptors, memory or processes: a shortage to wait out, not the listener's end.
pub fn is_out_of_descriptors(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(code) if code == nix::libc::EMFILE || code == nix::libc::ENFILE
            || code == nix::libc::ENOBUFS || code == nix::libc::ENOMEM
    )
}

fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || err.raw_os_error() == Some(nix::libc::EPROTO)
}

/// How the served modes run: one connection, or (`-k`) every connection concurrently until
/// Ctrl-C, a fatal error from a connection's task, or `stop` resolves.
///
/// `serve` handles one admitted connection; an `Err` from it is fatal for the listener (a
/// command that cannot be started), so per-connection trouble (resets, timeouts) must be
/// handled inside. Without `-k` the listener is closed once a connection is admitted, and
/// the run's status is the connection's.
pub async fn serve_connections<S, F>(
    listener: Listener,
    gate: Gate,
    keep_open: bool,
    interrupt_grace: Duration,
    stop: impl Future<Output = anyhow::Result<Status>>,
    serve: S,
) -> anyhow::Result<Status>
where
    S: Fn(AsyncStream, Peer, Slot) -> F + Send + Sync + 'static,
    F: Future<Output = anyhow::Result<Status>> + Send + 'static,
{
    let listener = listener.into_async()?;
    // The run's one Ctrl-C: from here on it only tells this loop, which tells every connection.
    let interrupt = crate::os::interrupt::Interrupt::handler();
    interrupt.observe();
    let ctrl_c = interrupt.fired();
    tokio::pin!(stop, ctrl_c);
    if !keep_open {
        // The first client whose handshake (with --tls) succeeds is the one served.
        let (stream, peer, slot) = loop {
            let (stream, peer, slot) = tokio::select! {
                accepted = accept_admitted(&listener, &gate) => accepted?,
                _ = &mut ctrl_c => return Ok(Status::Interrupted),
                status = &mut stop => return status,
            };
            let secured = tokio::select! {
                secured = gate.secure(stream, &peer, slot) => secured?,
                _ = &mut ctrl_c => return Ok(Status::Interrupted),
                status = &mut stop => return status,
            };
            if let Some((stream, slot)) = secured {
                break (stream, peer, slot);
            }
        };
        drop(listener);
        let serving = serve(stream, peer, slot);
        tokio::pin!(serving);
        return tokio::select! {
            // Ctrl-C first: the connection sees it at the same time and ends too.
            biased;
            _ = &mut ctrl_c => {
                // The connection is told, ends and prints its `-v` summary.
                announce_interrupt();
                let _ = tokio::time::timeout(interrupt_grace, &mut serving).await;
                Ok(Status::Interrupted)
            }
            status = &mut serving => status,
            status = &mut stop => status,
        };
    }
    let serve = Arc::new(serve);
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = accept_admitted(&listener, &gate) => {
                let (stream, peer, slot) = accepted?;
                if gate.tls.is_none() {
                    tasks.spawn(serve(stream, peer, slot));
                } else {
                    let (gate, serve) = (gate.clone(), Arc::clone(&serve));
                    tasks.spawn(async move {
                        match gate.secure(stream, &peer, slot).await? {
                            Some((stream, slot)) => serve(stream, peer, slot).await,
                            None => Ok(Status::Success),
                        }
                    });
                }
            }
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                match done {
                    Ok(Ok(_)) => {}
                    Ok(Err(fatal)) => return Err(fatal),
                    Err(join) if join.is_panic() => {
                        return Err(anyhow::anyhow!("a connection task failed: {join}"));
                    }
                    Err(_) => {}
                }
            }
            _ = &mut ctrl_c => {
                // Every connection is told, ends and prints its `-v` summary.
                announce_interrupt();
                let drained = async { while tasks.join_next().await.is_some() {} };
                let _ = tokio::time::timeout(interrupt_grace, drained).await;
                return Ok(Status::Interrupted);
            }
            status = &mut stop => return status,
        }
    }
}

/// How long Ctrl-C waits for open connections that end by themselves on Ctrl-C (echo, the
/// keep-open relay) to report their end: they do so at once, so this bounds only a hung one
/// and never decides whether a summary is printed on a loaded machine.
pub const REPORTING_GRACE: Duration = Duration::from_secs(10);

/// How long Ctrl-C waits for `--exec` connections, whose children get the terminal's SIGINT
/// themselves and are not waited for longer.
pub const CHILD_GRACE: Duration = Duration::from_millis(300);

/// Resolves on Ctrl-C: a served connection ends with it (and says so with `-v`).
///
/// The one Ctrl-C of the served modes is `serve_connections`'s: it tells every connection
/// through one watch channel, so a connection does not depend on a signal listener of its own
/// (with one per connection, an echo connection was seen, rarely and under load, to miss the
/// signal: it printed no summary and held the exit for the whole grace).
pub async fn interrupted() -> Ending {
    let mut told = interrupt_channel().subscribe();
    let _ = told.wait_for(|interrupted| *interrupted).await;
    Ending::Interrupted
}

fn interrupt_channel() -> &'static tokio::sync::watch::Sender<bool> {
    static CHANNEL: std::sync::OnceLock<tokio::sync::watch::Sender<bool>> =
        std::sync::OnceLock::new();
    CHANNEL.get_or_init(|| tokio::sync::watch::channel(false).0)
}

/// Whether Ctrl-C has come (and been announced to the connections).
pub fn was_interrupted() -> bool {
    *interrupt_channel().borrow()
}

/// Tells every connection waiting in [`interrupted`] (and every later one) that Ctrl-C came.
fn announce_interrupt() {
    interrupt_channel().send_replace(true);
}

/// The runtime the served modes run on: a few worker threads are plenty for thousands of
/// connections on a small machine.
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let gate = Gate {
            policy: AccessList::default(),
            max_conns: Some(2),
            open: Arc::new(AtomicUsize::new(0)),
            verbose: false,
            resources: Arc::new(Resources::new()),
            starting: None,
            tls: None,
            handshake_limit: crate::net::tls::HANDSHAKE_TIMEOUT,
            arrival_line: true,
        };
        let peer = Peer::inet(
            "127.0.0.1:1000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        );
        let first = gate.admit(&peer).expect("first slot");
        let _second = gate.admit(&peer).expect("second slot");
        assert!(gate.admit(&peer).is_none(), "a third connection got in");
        drop(first);
        assert!(gate.admit(&peer).is_some(), "a freed slot was not reused");
    }

    #[test]
    fn the_gate_applies_the_access_rule() {
        let gate = Gate {
            policy: AccessList::new(&[], &["127.0.0.0/8".parse().unwrap()]),
            max_conns: None,
            open: Arc::new(AtomicUsize::new(0)),
            verbose: false,
            resources: Arc::new(Resources::new()),
            starting: None,
            tls: None,
            handshake_limit: crate::net::tls::HANDSHAKE_TIMEOUT,
            arrival_line: true,
        };
        let mapped = Peer::inet(
            "[::ffff:127.0.0.1]:1000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        );
        assert!(gate.admit(&mapped).is_none());
        assert_eq!(gate.open.load(Ordering::Acquire), 0);
        let unix = Peer::Unix {
            cred: None,
            local: crate::net::endpoint::UnixAddr::Abstract(b"x".to_vec()),
        };
        assert!(
            gate.admit(&unix).is_some(),
            "the IP rule refused a Unix peer"
        );
    }
}
