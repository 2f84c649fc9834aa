//! Ctrl-C without `unsafe`: SIGINT is blocked in every thread and taken by one waiting
//! thread with `sigwait`, which runs the action registered for it (e.g. end a relay so that
//! `-v` can print its summary). With no action registered, the process exits with 130.
//!
//! Children started with `std::process::Command` get an empty signal mask again (std resets
//! it), so they still see Ctrl-C normally.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use nix::sys::signal::{SigSet, Signal};

type Action = Box<dyn Fn() + Send>;

/// The Ctrl-C handler of this process.
#[derive(Clone)]
pub struct Interrupt {
    fired: Arc<AtomicBool>,
    action: Arc<Mutex<Option<Action>>>,
}

impl Interrupt {
    /// Takes over SIGINT. Call it before starting any other thread: the block only reaches
    /// threads started after it.
    pub fn install() -> io::Result<Interrupt> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.thread_block()?;
        let interrupt = Interrupt {
            fired: Arc::new(AtomicBool::new(false)),
            action: Arc::new(Mutex::new(None)),
        };
        let waiter = interrupt.clone();
        thread::Builder::new()
            .name("sigint".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                loop {
                    if set.wait().is_err() {
                        continue;
                    }
                    let first = !waiter.fired.swap(true, Ordering::SeqCst);
                    let action = waiter.action.lock().ok();
                    match action.as_ref().and_then(|slot| slot.as_ref()) {
                        Some(action) if first => action(),
                        // Nothing to wind down, or a second Ctrl-C: stop now.
                        _ => std::process::exit(130),
                    }
                }
            })?;
        Ok(interrupt)
    }

    /// Runs `action` on the next Ctrl-C instead of exiting.
    pub fn on_interrupt(&self, action: impl Fn() + Send + 'static) {
        if let Ok(mut slot) = self.action.lock() {
            *slot = Some(Box::new(action));
        }
    }
}
