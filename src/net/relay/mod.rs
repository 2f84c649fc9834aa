//! The relay engine shared by `connect` and `listen`: stdin to the socket and the socket to
//! stdout at the same time, binary-safe, with half-close.
//!
//! The session ends once the peer has closed its side and everything it sent is written
//! out, even when stdin is still open (as `nc -l > file` ends when the sender is done). On
//! stdin EOF the write side is shut down (unless `no_shutdown`) and reading goes on. One
//! refinement: when the peer only half-closed while our input is still streaming (a file
//! or pipe being uploaded), the upload is finished first; an input that is open but idle
//! (a terminal) does not hold the session ([`UPLOAD_GRACE`]). On Linux both directions use
//! `splice(2)` through a kernel pipe when no transformation needs to see the data.
//!
//! Each direction runs on its own thread with blocking I/O: the socket-to-stdout direction on
//! the caller's thread (it decides the end), stdin-to-socket on a helper thread that is left
//! behind when the session ends while stdin is still open.

pub mod crlf;
pub mod hexdump;
pub mod pump;
pub mod stats;
pub mod tune;

use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

pub use crlf::CrlfTranslator;
pub use hexdump::{Flow, HexDumper};
pub use pump::{Activity, PumpError, Transform, pump};
pub use stats::{RelayEnd, RelayStats};

/// After the peer closed its side, the upload goes on for as long as it makes progress
/// within every such window; an idle input ends the session after one window.
pub const UPLOAD_GRACE: Duration = Duration::from_millis(100);

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

/// Ends a running session from another thread (Ctrl-C): the relay returns its stats with
/// [`RelayEnd::Stopped`].
#[derive(Debug, Clone)]
pub struct Stopper {
    stream: Arc<TcpStream>,
    stopped: Arc<AtomicBool>,
}

impl Stopper {
    /// Stops the session: both directions of the socket are shut down.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// One relay session over a connected TCP stream.
#[derive(Debug)]
pub struct Relay {
    stream: Arc<TcpStream>,
    config: RelayConfig,
    stopped: Arc<AtomicBool>,
}

impl Relay {
    /// A session over `stream`.
    pub fn new(stream: TcpStream, config: RelayConfig) -> Relay {
        tune::tune(&stream);
        Relay {
            stream: Arc::new(stream),
            config,
            stopped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A handle that can end the session from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            stream: Arc::clone(&self.stream),
            stopped: Arc::clone(&self.stopped),
        }
    }

    /// Relays this process's stdin and stdout.
    pub fn run_stdio(self) -> Result<RelayStats, RelayError> {
        let output = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(RelayError::Output)?;
        self.run(Input::stdin(), output)
    }

    /// Sends `input` to the peer and writes what the peer sends to `output`, until the peer
    /// closes its side (or the idle timeout passes, or the session is stopped).
    pub fn run(self, input: Input, output: OwnedFd) -> Result<RelayStats, RelayError> {
        let activity = Arc::new(Activity::new());
        let sent = Arc::new(AtomicU64::new(0));
        let received = AtomicU64::new(0);
        let upload_error: Arc<Mutex<Option<RelayError>>> = Arc::new(Mutex::new(None));
        let finished = Arc::new(AtomicBool::new(false));
        let timed_out = Arc::new(AtomicBool::new(false));

        if let Some(limit) = self.config.idle_timeout {
            spawn_watchdog(
                limit,
                self.stopper(),
                Arc::clone(&activity),
                Arc::clone(&finished),
                Arc::clone(&timed_out),
            );
        }
        let upload_done = spawn_upload(
            input,
            Arc::clone(&self.stream),
            self.config,
            Arc::clone(&sent),
            Arc::clone(&activity),
            Arc::clone(&upload_error),
        );

        let download = pump(
            self.stream.as_fd(),
            output.as_fd(),
            Transform::new(Flow::Received, false, self.config.hex),
            &received,
            &activity,
        );
        if download.is_ok() {
            finish_upload(&upload_done, &sent);
        }
        finished.store(true, Ordering::SeqCst);
        let stats = RelayStats {
            sent: sent.load(Ordering::Relaxed),
            received: received.load(Ordering::Relaxed),
            duration: activity.start().elapsed(),
            end: if self.stopped.load(Ordering::SeqCst) {
                RelayEnd::Stopped
            } else if timed_out.load(Ordering::SeqCst) {
                RelayEnd::IdleTimeout
            } else {
                RelayEnd::PeerClosed
            },
        };
        match download {
            Ok(()) => {}
            // Our own shutdown (idle timeout, stop) can surface as an error: not a failure.
            Err(_) if stats.end != RelayEnd::PeerClosed => {}
            Err(PumpError::Read(err)) => return Err(RelayError::Peer(err)),
            Err(PumpError::Write(err)) => return Err(RelayError::Output(err)),
        }
        // The peer closed cleanly; a failed write towards it is moot then, but a failure to
        // read stdin is worth reporting.
        if let Ok(mut slot) = upload_error.lock()
            && let Some(err @ RelayError::Input(_)) = slot.take()
        {
            return Err(err);
        }
        Ok(stats)
    }
}

/// Lets a streaming upload complete after the peer's EOF (its last chunk counted and
/// dumped too); returns as soon as the upload ends or stalls for [`UPLOAD_GRACE`].
fn finish_upload(upload_done: &mpsc::Receiver<()>, sent: &AtomicU64) {
    loop {
        let before = sent.load(Ordering::Relaxed);
        match upload_done.recv_timeout(UPLOAD_GRACE) {
            Err(mpsc::RecvTimeoutError::Timeout) if sent.load(Ordering::Relaxed) != before => {}
            _ => return,
        }
    }
}

/// The stdin-to-socket direction, on its own thread.
fn spawn_upload(
    input: Input,
    stream: Arc<TcpStream>,
    config: RelayConfig,
    sent: Arc<AtomicU64>,
    activity: Arc<Activity>,
    error: Arc<Mutex<Option<RelayError>>>,
) -> mpsc::Receiver<()> {
    let (done, upload_done) = mpsc::channel();
    let slot_for_spawn_failure = Arc::clone(&error);
    let body = move || {
        let transform = Transform::new(Flow::Sent, config.crlf, config.hex);
        let outcome = match input {
            Input::Fd(fd) => pump(fd.as_fd(), stream.as_fd(), transform, &sent, &activity),
            Input::Bytes(bytes) => send_bytes(&bytes, transform, &stream, &sent, &activity),
            Input::Nothing => Ok(()),
        };
        match outcome {
            Ok(()) => {
                if !config.no_shutdown {
                    let _ = stream.shutdown(Shutdown::Write);
                }
            }
            Err(err) => {
                let err = match err {
                    PumpError::Read(err) => RelayError::Input(err),
                    PumpError::Write(err) => RelayError::Peer(err),
                };
                if let Ok(mut slot) = error.lock() {
                    *slot = Some(err);
                }
            }
        }
        let _ = done.send(());
    };
    // A small stack: the thread only moves data through fixed buffers on the heap.
    let spawned = thread::Builder::new()
        .name("upload".into())
        .stack_size(128 * 1024)
        .spawn(body);
    if let Err(err) = spawned
        && let Ok(mut slot) = slot_for_spawn_failure.lock()
    {
        *slot = Some(RelayError::Input(err));
    }
    upload_done
}

fn send_bytes(
    bytes: &[u8],
    mut transform: Transform,
    stream: &TcpStream,
    sent: &AtomicU64,
    activity: &Activity,
) -> Result<(), PumpError> {
    let mut translated = Vec::new();
    let data = match transform.crlf.as_mut() {
        Some(crlf) => {
            crlf.translate(bytes, &mut translated);
            &translated[..]
        }
        None => bytes,
    };
    pump::write_all(stream.as_fd(), data).map_err(PumpError::Write)?;
    sent.fetch_add(data.len() as u64, Ordering::Relaxed);
    activity.touch();
    if let Some(hex) = transform.hex.as_mut() {
        let _ = hex.dump(data);
    }
    Ok(())
}

/// Ends the session once nothing has moved for `limit`.
fn spawn_watchdog(
    limit: Duration,
    stopper: Stopper,
    activity: Arc<Activity>,
    finished: Arc<AtomicBool>,
    timed_out: Arc<AtomicBool>,
) {
    let body = move || {
        loop {
            let idle = activity.idle_for();
            if finished.load(Ordering::SeqCst) {
                return;
            }
            if idle >= limit {
                timed_out.store(true, Ordering::SeqCst);
                let _ = stopper.stream.shutdown(Shutdown::Both);
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

impl RelayError {
    /// The user-facing failure for a session with `peer`. A broken stdout stays a plain
    /// broken pipe (a quiet, successful end); everything else is one line with exit 1.
    pub fn into_report(self, peer: std::net::SocketAddr) -> anyhow::Error {
        use crate::error::Error;
        use crate::net::cause::describe;
        match self {
            RelayError::Output(err) if err.kind() == io::ErrorKind::BrokenPipe => err.into(),
            RelayError::Peer(err) => {
                Error::failure(format!("connection with {peer} lost: {}", describe(&err))).into()
            }
            RelayError::Input(err) => {
                Error::failure(format!("cannot read stdin: {}", describe(&err))).into()
            }
            RelayError::Output(err) => {
                Error::failure(format!("cannot write to stdout: {}", describe(&err))).into()
            }
        }
    }
}
