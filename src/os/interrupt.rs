//! The one Ctrl-C of a run, on signal-hook: installed once ([`Interrupt::handler`] in
//! `cmd::run`, before any mode starts), usable from blocking and from async code.
//!
//! SIGINT's handler sets a flag at once (so a loop woken by `EINTR` sees it) and wakes one
//! small thread, which does what the running mode asked for:
//! - nothing (the default): remove the socket files registered with [`Interrupt::remove_at_exit`]
//!   and exit with 130 — waiting for a peer, a watch, a prompt have nothing to wind down;
//! - [`Interrupt::on_interrupt`]: run an action (end a relay so that `-v` prints its summary);
//! - [`Interrupt::observe`]: only record it; blocking code checks [`Interrupt::is_set`] or
//!   waits in [`Interrupt::sleep`], async code awaits [`Interrupt::fired`].
//!
//! A second Ctrl-C always ends the run with 130 (after the same file cleanup), so a wind-down
//! that hangs never holds the terminal. SIGTERM and SIGHUP remove the socket files too, then
//! end the run by the signal itself. Children get the defaults back when they exec.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::error::Status;
use crate::net::duration::deadline_after;

type Action = Box<dyn Fn() + Send>;

/// What the first Ctrl-C does.
enum Handling {
    Exit,
    Run(Action),
    Observe,
}

struct State {
    /// Set by the signal handler itself.
    fired: Arc<AtomicBool>,
    handling: Mutex<Handling>,
    /// Socket files to remove before exiting on Ctrl-C.
    files: Mutex<Vec<PathBuf>>,
    /// Blocking waiters ([`Interrupt::sleep`]) wait on this.
    told: Mutex<bool>,
    wake: Condvar,
    /// Async waiters ([`Interrupt::fired`]) subscribe to this.
    announced: tokio::sync::watch::Sender<bool>,
}

/// The Ctrl-C handler of this process (a handle: copies share it).
#[derive(Clone, Copy)]
pub struct Interrupt {
    state: &'static State,
}

static STATE: OnceLock<State> = OnceLock::new();
static INSTALL: Mutex<()> = Mutex::new(());

/// A lock that a panic elsewhere does not poison for us: the data stays usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Interrupt {
    /// The run's Ctrl-C handler: the first call (`cmd::run`'s, before any mode starts) takes
    /// over SIGINT, later ones return the same handler. Threads started before or after are
    /// all covered (a signal handler is process-wide).
    ///
    /// Where it cannot be taken over (no descriptor left for the wake-up pipe, no thread),
    /// Ctrl-C keeps its default effect: the process ends by SIGINT, which a shell reports as
    /// 130 too; nothing then waits for a Ctrl-C that cannot come.
    pub fn handler() -> Interrupt {
        let _once = lock(&INSTALL);
        if let Some(state) = STATE.get() {
            return Interrupt { state };
        }
        let state = STATE.get_or_init(|| State {
            fired: Arc::new(AtomicBool::new(false)),
            handling: Mutex::new(Handling::Exit),
            files: Mutex::new(Vec::new()),
            told: Mutex::new(false),
            wake: Condvar::new(),
            announced: tokio::sync::watch::channel(false).0,
        });
        let interrupt = Interrupt { state };
        let _ = interrupt.take_over();
        interrupt
    }

    /// Registers the handlers: first the wake-up (the only part that needs descriptors and
    /// a thread), then the flag, so that a failure leaves SIGINT's default in place.
    fn take_over(self) -> io::Result<()> {
        // A signal ignored when sockx started (SIGHUP under `nohup`) stays ignored.
        let ignored = ignored_signals();
        let caught = [SIGINT, SIGTERM, SIGHUP]
            .into_iter()
            .filter(|signal| *signal == SIGINT || !ignored.contains(signal));
        let mut signals = Signals::new(caught)?;
        let handle = signals.handle();
        let started = thread::Builder::new()
            .name("sigint".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut count = 0u32;
                for signal in signals.forever() {
                    if signal != SIGINT {
                        self.terminate(signal);
                    }
                    count += 1;
                    self.deliver(count);
                }
            });
        if let Err(err) = started {
            handle.close();
            return Err(err);
        }
        signal_hook::flag::register(SIGINT, Arc::clone(&self.state.fired))?;
        Ok(())
    }

    fn deliver(&self, count: u32) {
        let state = self.state;
        state.fired.store(true, Ordering::SeqCst);
        *lock(&state.told) = true;
        state.wake.notify_all();
        state.announced.send_replace(true);
        let handling = lock(&state.handling);
        match &*handling {
            Handling::Run(action) if count == 1 => action(),
            Handling::Observe if count == 1 => {}
            // Nothing to wind down, or a second Ctrl-C: stop now.
            _ => {
                drop(handling);
                self.exit()
            }
        }
    }

    /// Removes the registered socket files and exits with 130.
    pub fn exit(&self) -> ! {
        self.remove_files();
        std::process::exit(i32::from(Status::Interrupted.code()))
    }

    /// SIGTERM or SIGHUP (`kill`, `timeout`, a service manager, a closed terminal): removes
    /// the registered socket files, then ends by `signal` as if it had not been caught, so
    /// that the parent still sees what ended the run.
    fn terminate(&self, signal: i32) {
        self.remove_files();
        let _ = signal_hook::low_level::emulate_default_handler(signal);
    }

    fn remove_files(&self) {
        for path in lock(&self.state.files).drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Runs `action` (on the signal's thread) on the next Ctrl-C instead of exiting.
    pub fn on_interrupt(&self, action: impl Fn() + Send + 'static) {
        *lock(&self.state.handling) = Handling::Run(Box::new(action));
    }

    /// Ctrl-C only sets the flag and wakes [`Interrupt::sleep`] and [`Interrupt::fired`]: the
    /// caller winds down by itself.
    pub fn observe(&self) {
        *lock(&self.state.handling) = Handling::Observe;
    }

    /// Whether Ctrl-C was pressed.
    pub fn is_set(&self) -> bool {
        self.state.fired.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration` or until Ctrl-C, whichever comes first; true when interrupted.
    pub fn sleep(&self, duration: Duration) -> bool {
        let end = deadline_after(Instant::now(), duration);
        let mut told = lock(&self.state.told);
        loop {
            if *told {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            told = match self.state.wake.wait_timeout(told, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Resolves once Ctrl-C has been pressed (at once if it already was).
    pub async fn fired(&self) {
        let mut announced = self.state.announced.subscribe();
        let _ = announced.wait_for(|fired| *fired).await;
    }

    /// `path` (a socket file this run created) is removed when Ctrl-C ends the run; dropping
    /// the guard forgets it again (and is where the caller removes the file itself).
    pub fn remove_at_exit(&self, path: &Path) -> RemoveAtExit {
        lock(&self.state.files).push(path.to_path_buf());
        RemoveAtExit {
            interrupt: *self,
            path: path.to_path_buf(),
        }
    }
}

/// The signals this process ignores (inherited from its parent, as `nohup` sets SIGHUP):
/// the `SigIgn` mask of /proc/self/status, bit N-1 for signal N. Elsewhere none are known.
fn ignored_signals() -> Vec<i32> {
    let status = if cfg!(target_os = "linux") {
        std::fs::read_to_string("/proc/self/status").unwrap_or_default()
    } else {
        String::new()
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .map(|mask| {
            (1..=64)
                .filter(|signal| mask & (1u64 << (signal - 1)) != 0)
                .collect()
        })
        .unwrap_or_default()
}

/// A file registered with [`Interrupt::remove_at_exit`].
pub struct RemoveAtExit {
    interrupt: Interrupt,
    path: PathBuf,
}

impl Drop for RemoveAtExit {
    fn drop(&mut self) {
        let mut files = lock(&self.interrupt.state.files);
        if let Some(index) = files.iter().position(|path| *path == self.path) {
            files.swap_remove(index);
        }
    }
}

impl std::fmt::Debug for RemoveAtExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RemoveAtExit").field(&self.path).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_ignored_signals_are_read_from_proc() {
        // Rust's runtime ignores SIGPIPE in every program it starts, this test binary too.
        assert!(ignored_signals().contains(&signal_hook::consts::SIGPIPE));
        assert!(!ignored_signals().contains(&SIGTERM));
    }

    // One handler per process: the tests share it and never raise SIGINT themselves.
    #[test]
    fn sleep_ends_at_its_deadline_and_at_ctrl_c() {
        let interrupt = Interrupt::handler();
        assert!(std::ptr::eq(Interrupt::handler().state, interrupt.state));
        interrupt.observe();
        assert!(!interrupt.sleep(Duration::from_millis(1)));
        let waiter = thread::spawn(move || interrupt.sleep(Duration::MAX));
        interrupt.deliver(1);
        assert!(waiter.join().unwrap());
        assert!(interrupt.is_set());
        assert!(interrupt.sleep(Duration::from_secs(60)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(interrupt.fired());
    }

    #[test]
    fn a_dropped_guard_forgets_its_file() {
        let interrupt = Interrupt::handler();
        let guard = interrupt.remove_at_exit(Path::new("/nonexistent/a.sock"));
        assert!(lock(&interrupt.state.files).contains(&PathBuf::from("/nonexistent/a.sock")));
        drop(guard);
        assert!(!lock(&interrupt.state.files).contains(&PathBuf::from("/nonexistent/a.sock")));
    }
}
