//! Ctrl-C as a flag: probing loops check it and stop cleanly, so that latency mode can still
//! print its summary and a scan can clear its progress bar.

use crate::net::duration::deadline_after;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set once SIGINT arrives.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
}

impl Interrupt {
    /// Catches SIGINT from now on. If the handler cannot be installed, Ctrl-C keeps its
    /// default effect (the process ends with status 130), which is still a clean stop.
    pub fn catch() -> Interrupt {
        let interrupt = Interrupt::default();
        #[cfg(unix)]
        let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.flag.clone());
        interrupt
    }

    /// Whether Ctrl-C was pressed.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Sleeps for `duration` or until Ctrl-C, whichever comes first; true when interrupted.
    pub fn sleep(&self, duration: Duration) -> bool {
        let end = deadline_after(Instant::now(), duration);
        loop {
            if self.is_set() {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_stops_when_set() {
        let interrupt = Interrupt::default();
        assert!(!interrupt.sleep(Duration::from_millis(1)));
        interrupt.flag.store(true, Ordering::Relaxed);
        assert!(interrupt.sleep(Duration::from_secs(60)));
        // A pause beyond what the clock can hold saturates instead of panicking.
        assert!(interrupt.sleep(Duration::MAX));
    }
}
