//! The slow-client rule of `-k`: a client that has stdin pending for it and takes none of it
//! for [`SLOW_CLIENT_GRACE`] is disconnected.
//!
//! "Pending" is a chunk sockx is still writing, or bytes in the socket's send queue that the
//! client's kernel has not acknowledged. Watching sockx's own queue alone is not enough: the
//! kernel's send buffer absorbs megabytes, so a client that stopped reading leaves that queue
//! empty for as long as stdin fits in the buffer. What the client's kernel accepted (written
//! minus still unacknowledged) stops growing once the client stops reading and its receive
//! buffer is full; that is the progress measured here.

use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::os::send_queue::unsent_bytes;

pub use super::hub::SLOW_CLIENT_GRACE;

/// How often a client's progress is looked at.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// What one client's write side has done so far (atomics, so the task stays `Send`).
#[derive(Debug, Default)]
pub struct SendProgress {
    written: AtomicU64,
    writing: AtomicBool,
}

impl SendProgress {
    /// A chunk starts or stops being written.
    pub fn set_writing(&self, writing: bool) {
        self.writing.store(writing, Ordering::Relaxed);
    }

    /// `n` bytes were handed to the kernel.
    pub fn wrote(&self, n: usize) {
        self.written.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Resolves once the client on `socket` has had data pending and taken none of it for
    /// `grace`; never while nothing is pending. Without the socket (a stream that cannot reach
    /// it) only the chunk sockx is writing counts as pending.
    pub async fn stalled(&self, socket: Option<BorrowedFd<'_>>, grace: Duration) {
        let mut last_taken = 0;
        let mut since = Instant::now();
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let written = self.written.load(Ordering::Relaxed);
            // Nothing written yet (most clients of a quiet stdin): no system call. An
            // unreadable queue counts as empty: only sockx's own pending chunk is judged.
            let unsent = match socket {
                Some(socket) if written > 0 => unsent_bytes(socket).unwrap_or(0) as u64,
                _ => 0,
            };
            let pending = unsent > 0 || self.writing.load(Ordering::Relaxed);
            let taken = written.saturating_sub(unsent);
            if !pending || taken != last_taken {
                last_taken = taken;
                since = Instant::now();
            } else if since.elapsed() >= grace {
                return;
            }
        }
    }
}
