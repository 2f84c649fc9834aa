//! The relay engine shared by `connect` and `listen`: stdin to the socket and the socket to
//! stdout at the same time, binary-safe, with half-close.
//!
//! The two directions end independently (the contract's "End of session"). Peer to stdout ends
//! at the peer's FIN: everything received is written, then stdout is closed so that its reader
//! sees EOF. Stdin to peer ends at stdin's EOF: the write side is shut down (unless
//! `no_shutdown`). The session ends when both have ended, so no byte of stdin is dropped
//! whatever pauses the input has; a terminal on stdin, or `recv_only`, ends it with the peer's
//! direction instead (see [`Input::ends_with_peer`]). The idle timeout and [`Stopper`] end any
//! session. On Linux both directions use `splice(2)` through a kernel pipe when no
//! transformation needs to see the data.
//!
//! Each direction runs on its own thread with blocking I/O: the socket-to-stdout direction on
//! the caller's thread, stdin-to-socket on a helper thread that is left behind when the session
//! ends while it still waits for stdin (a terminal, a timeout, Ctrl-C).
//!
//! Over TLS ([`tls::TlsStream`], a [`Stream::Tls`]) the same two threads copy through the
//! session with large buffers; shutting down the write side sends `close_notify` before the
//! FIN, and the peer's `close_notify` (or a bare FIN, see
//! [`tls::TlsStream::closed_without_notify`]) ends its direction.

pub mod pump;
pub mod tls;
pub mod tune;

use std::io::{self, IsTerminal};
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

pub use pump::{PumpError, pump};

pub use crate::net::stats::{RelayEnd, RelayStats};
use crate::net::stream::Stream;
use crate::net::traffic::Traffic;
use crate::net::transform::{Flow, Transform};
use pump::{FdReader, FdWriter};

/// How a relay session behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct RelayConfig {
    /// Keep the write side open after the input ends (`--no-shutdown`).
    pub no_shutdown: bool,
    /// End the session after this long without traffic either way.
    pub idle_timeout: Option<Duration>,
    /// LF to CRLF on the data sent (`--crlf`).
    pub crlf: bool,
    /// Hex dump of both directions on stderr (`--hex`).
    pub hex: bool,
    /// Never read the input; the session ends with the peer's direction (`--recv-only`).
    pub recv_only: bool,
}

/// What is sent to the peer.
#[derive(Debug)]
pub enum Input {
    /// Everything read from this descriptor (usually a duplicate of stdin).
    Fd(OwnedFd),
    /// These bytes (`connect --send`).
    Bytes(Vec<u8>),
    /// Nothing: the write side is shut down at once (unless `no_shutdown`).
    Nothing,
}

impl Input {
    /// A duplicate of this process's stdin; `Nothing` when stdin is closed.
    pub fn stdin() -> Input {
        match io::stdin().as_fd().try_clone_to_owned() {
            Ok(fd) => Input::Fd(fd),
            Err(_) => Input::Nothing,
        }
    }

    /// True when the session should not wait for this input's end once the peer is done: a
    /// terminal (a person typing, as `nc -l > file` ends when the sender is done).
    pub fn ends_with_peer(&self) -> bool {
        matches!(self, Input::Fd(fd) if fd.is_terminal())
    }
}

/// Why a session failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading from or writing to the peer failed (reset, vanished).
    #[error("connection lost")]
    Peer(#[source] io::Error),
    /// Reading the input (stdin) failed.
    #[error("reading the input failed")]
    Input(#[source] io::Error),
    /// Writing the output (stdout) failed; a broken pipe is the reader going away.
    #[error("writing the output failed")]
    Output(#[source] io::Error),
}

/// Where a session stands, shared by its threads; the caller's thread waits on it for the
/// upload's end (or a stop or timeout) once the peer's direction has ended.
#[derive(Debug, Default)]
struct Progress {
    state: Mutex<ProgressState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct ProgressState {
    upload_done: bool,
    upload_error: Option<RelayError>,
    stopped: bool,
    timed_out: bool,
}

impl Progress {
    fn lock(&self) -> MutexGuard<'_, ProgressState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state and wakes the waiting thread.
    fn update(&self, change: impl FnOnce(&mut ProgressState)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }

    /// Blocks until the upload has ended or the session was stopped or timed out.
    fn wait_for_upload(&self) {
        let mut state = self.lock();
        while !(state.upload_done || state.stopped || state.timed_out) {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Ends a running session from another thread (Ctrl-C): the relay returns its stats with
/// [`RelayEnd::Stopped`].
#[derive(Debug, Clone)]
pub struct Stopper {
    stream: Arc<Stream>,
    progress: Arc<Progress>,
}

impl Stopper {
    /// Stops the session: both directions of the socket are shut down.
    pub fn stop(&self) {
        self.progress.update(|state| state.stopped = true);
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// The idle timeout passed: the same as [`Stopper::stop`], reported as a timeout.
    fn time_out(&self) {
        self.progress.update(|state| state.timed_out = true);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// One relay session over a connected stream.
#[derive(Debug)]
pub struct Relay {
    stream: Arc<Stream>,
    config: RelayConfig,
    progress: Arc<Progress>,
}

impl Relay {
    /// A session over `stream`.
    pub fn new(stream: Stream, config: RelayConfig) -> Relay {
        if let Some(tcp) = stream.tcp() {
            tune::tune(tcp);
        }
        Relay {
            stream: Arc::new(stream),
            config,
            progress: Arc::new(Progress::default()),
        }
    }

    /// The stream, for what the caller asks of it after the session (how a TLS peer closed).
    pub fn stream(&self) -> Arc<Stream> {
        Arc::clone(&self.stream)
    }

    /// A handle that can end the session from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            stream: Arc::clone(&self.stream),
            progress: Arc::clone(&self.progress),
        }
    }

    /// Sends `input` to the peer and writes what the peer sends to this process's stdout
    /// until both directions have ended (see the module's documentation). Stdout is closed
    /// (fd 1 included) as soon as the peer's direction has ended.
    pub fn run_stdio(self, input: Input) -> Result<RelayStats, RelayError> {
        let output = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(RelayError::Output)?;
        let traffic = Arc::new(Traffic::new());
        let finished = Arc::new(AtomicBool::new(false));
        let ends_with_peer = self.config.recv_only || input.ends_with_peer();

        if let Some(limit) = self.config.idle_timeout {
            spawn_watchdog(
                limit,
                self.stopper(),
                Arc::clone(&traffic),
                Arc::clone(&finished),
            );
        }
        if self.config.recv_only {
            // Stdin is never read, and the write side stays open until the session ends.
            drop(input);
        } else {
            spawn_upload(
                input,
                Arc::clone(&self.stream),
                self.config,
                Arc::clone(&traffic),
                Arc::clone(&self.progress),
            );
        }

        let download = receive(
            &self.stream,
            output.as_fd(),
            Transform::new(Flow::Received, false, self.config.hex),
            &traffic,
        );
        if download.is_ok() {
            // The peer's direction is over: its reader sees EOF now, while the upload goes on.
            drop(output);
            let _ = crate::os::stdio::close_stdout();
            if !ends_with_peer {
                self.progress.wait_for_upload();
            }
        }
        finished.store(true, Ordering::SeqCst);
        let mut state = self.progress.lock();
        let stats = traffic.stats(if state.stopped {
            RelayEnd::Stopped
        } else if state.timed_out {
            RelayEnd::IdleTimeout
        } else {
            RelayEnd::PeerClosed
        });
        // Our own shutdown (idle timeout, stop) surfaces as errors on both sides: not failures.
        if stats.end != RelayEnd::PeerClosed {
            return Ok(stats);
        }
        match download {
            Ok(()) => {}
            Err(PumpError::Read(err)) => return Err(RelayError::Peer(err)),
            Err(PumpError::Write(err)) => return Err(RelayError::Output(err)),
        }
        // A reset while sending is as much a failure as one while receiving, even when the
        // download side then only saw the end of the stream.
        match state.upload_error.take() {
            Some(err) => Err(err),
            None => Ok(stats),
        }
    }
}

/// The stdin-to-socket direction, on its own thread; its end (and error) go to `progress`.
fn spawn_upload(
    input: Input,
    stream: Arc<Stream>,
    config: RelayConfig,
    traffic: Arc<Traffic>,
    progress: Arc<Progress>,
) {
    let progress_for_spawn_failure = Arc::clone(&progress);
    let body = move || {
        let transform = Transform::new(Flow::Sent, config.crlf, config.hex);
        let outcome = match input {
            Input::Fd(fd) => send(fd.as_fd(), &stream, transform, &traffic),
            Input::Bytes(bytes) => send_bytes(&bytes, transform, &stream, &traffic),
            Input::Nothing => Ok(()),
        };
        let error = match outcome {
            Ok(()) => {
                if !config.no_shutdown {
                    let _ = stream.shutdown(Shutdown::Write);
                }
                None
            }
            Err(PumpError::Read(err)) => Some(RelayError::Input(err)),
            Err(PumpError::Write(err)) => Some(RelayError::Peer(peer_write_error(err))),
        };
        progress.update(|state| {
            state.upload_done = true;
            state.upload_error = error;
        });
    };
    // A small stack: the thread only moves data through fixed buffers on the heap.
    let spawned = thread::Builder::new()
        .name("upload".into())
        .stack_size(128 * 1024)
        .spawn(body);
    if let Err(err) = spawned {
        progress_for_spawn_failure.update(|state| {
            state.upload_done = true;
            state.upload_error = Some(RelayError::Input(err));
        });
    }
}

/// A write to a connected socket that fails with EPIPE met a connection the peer reset (our
/// own shutdowns are not reported): say so, as the contract words it.
fn peer_write_error(err: io::Error) -> io::Error {
    if err.kind() == io::ErrorKind::BrokenPipe {
        io::ErrorKind::ConnectionReset.into()
    } else {
        err
    }
}

fn send_bytes(
    bytes: &[u8],
    mut transform: Transform,
    mut stream: &Stream,
    traffic: &Traffic,
) -> Result<(), PumpError> {
    transform.pass(bytes, |data| {
        io::Write::write_all(&mut stream, data).map_err(PumpError::Write)?;
        traffic.sent(data.len());
        Ok(())
    })
}

/// The peer to `output`: spliced when the stream has a descriptor, copied otherwise.
fn receive(
    stream: &Stream,
    output: BorrowedFd<'_>,
    mut transform: Transform,
    traffic: &Traffic,
) -> Result<(), PumpError> {
    match stream.fd() {
        Some(fd) => pump(fd, output, transform, traffic),
        None => {
            // A pipe of a few large writes rather than of many 64 KiB ones.
            #[cfg(target_os = "linux")]
            crate::os::splice::grow_pipe(output);
            pump::copy_io(
                &mut { stream },
                &mut FdWriter(output),
                &mut transform,
                traffic,
            )
        }
    }
}

/// `input` to the peer: spliced when the stream has a descriptor, copied otherwise.
fn send(
    input: BorrowedFd<'_>,
    stream: &Stream,
    mut transform: Transform,
    traffic: &Traffic,
) -> Result<(), PumpError> {
    match stream.fd() {
        Some(fd) => pump(input, fd, transform, traffic),
        None => {
            // Whole relay buffers per read from a pipe (a 64 KiB pipe hands out at most that).
            #[cfg(target_os = "linux")]
            crate::os::splice::grow_pipe(input);
            pump::copy_io(
                &mut FdReader(input),
                &mut { stream },
                &mut transform,
                traffic,
            )
        }
    }
}

/// Ends the session once nothing has moved for `limit`.
fn spawn_watchdog(
    limit: Duration,
    stopper: Stopper,
    traffic: Arc<Traffic>,
    finished: Arc<AtomicBool>,
) {
    let body = move || {
        loop {
            let idle = traffic.idle_for();
            if finished.load(Ordering::SeqCst) {
                return;
            }
            if idle >= limit {
                stopper.time_out();
                return;
            }
            thread::sleep((limit - idle).max(Duration::from_millis(10)));
        }
    };
    // Without the watchdog the session still works, just without the idle limit.
    let _ = thread::Builder::new()
        .name("idle".into())
        .stack_size(64 * 1024)
        .spawn(body);
}
