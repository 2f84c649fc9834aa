//! What a session has carried so far, and when it last carried anything: the byte counts for
//! `-v` and the clock for the idle timeouts. One type for the relay's threads, `-u`'s sender
//! and receiver and the served modes' tasks (atomics, so it is shared by reference).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::net::duration::tokio_deadline_after;
use crate::net::stats::{RelayEnd, RelayStats};
use crate::net::transform::Flow;

/// Byte counters and the last-activity clock of one session. The clock is tokio's, which is
/// the system's monotonic clock outside a runtime (and a test's paused clock inside one).
#[derive(Debug)]
pub struct Traffic {
    started: Instant,
    /// Nanoseconds after `started` of the last byte in either direction.
    last_nanos: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Default for Traffic {
    fn default() -> Traffic {
        Traffic::new()
    }
}

impl Traffic {
    /// A connection starting now.
    pub fn new() -> Traffic {
        Traffic {
            started: Instant::now(),
            last_nanos: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        }
    }

    /// `n` bytes arrived from the peer.
    pub fn received(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        self.touch();
    }

    /// `n` bytes went to the peer.
    pub fn sent(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        self.touch();
    }

    /// `n` bytes went `flow`'s way.
    pub fn carried(&self, flow: Flow, n: usize) {
        match flow {
            Flow::Sent => self.sent(n),
            Flow::Received => self.received(n),
        }
    }

    /// Records traffic now (a read that is still to be written counts as activity).
    pub fn touch(&self) {
        let nanos = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_nanos.fetch_max(nanos, Ordering::Relaxed);
    }

    /// How long nothing has moved.
    pub fn idle_for(&self) -> Duration {
        Instant::now().saturating_duration_since(self.last_activity())
    }

    fn last_activity(&self) -> Instant {
        self.started + Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed))
    }

    /// Resolves once the connection has carried nothing for `limit`; never with `None`.
    pub async fn idle(&self, limit: Option<Duration>) {
        let Some(limit) = limit else {
            return std::future::pending().await;
        };
        loop {
            let deadline = tokio_deadline_after(self.last_activity(), limit);
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }

    /// The counts so far, for the `-v` summary, as the relay reports its own.
    pub fn stats(&self, end: RelayEnd) -> RelayStats {
        RelayStats {
            sent: self.bytes_out.load(Ordering::Relaxed),
            received: self.bytes_in.load(Ordering::Relaxed),
            duration: self.started.elapsed(),
            end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_both_directions() {
        let traffic = Traffic::new();
        traffic.received(10);
        traffic.carried(Flow::Received, 5);
        traffic.carried(Flow::Sent, 7);
        let stats = traffic.stats(RelayEnd::PeerClosed);
        assert_eq!((stats.received, stats.sent), (15, 7));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_silence_after_the_last_byte() {
        let traffic = Traffic::new();
        let limit = Some(Duration::from_secs(5));
        tokio::time::advance(Duration::from_secs(3)).await;
        traffic.sent(1);
        let started = tokio::time::Instant::now();
        traffic.idle(limit).await;
        // Five seconds after the byte, not after the start.
        assert!(started.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_for_counts_from_the_last_byte() {
        let traffic = Traffic::new();
        tokio::time::advance(Duration::from_secs(3)).await;
        traffic.touch();
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(traffic.idle_for(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_limit_beyond_the_clock_saturates_instead_of_panicking() {
        let traffic = Traffic::new();
        traffic.sent(1);
        let idle = traffic.idle(Some(Duration::MAX));
        let fired = tokio::time::timeout(Duration::from_secs(3600), idle).await;
        assert!(fired.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn no_limit_never_fires() {
        let traffic = Traffic::new();
        let fired = tokio::time::timeout(Duration::from_secs(3600), traffic.idle(None)).await;
        assert!(fired.is_err());
    }
}
