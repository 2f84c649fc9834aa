//! What a session did (the relay, a served or forwarded connection), for `-v`: bytes each way, duration, throughput.

use std::fmt;
use std::time::Duration;

use crate::net::format_duration;

/// Why a relay session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEnd {
    /// The session ended normally: the peer closed its side and everything it sent was
    /// written out, and the input ended too (unless it was a terminal or `--recv-only`).
    PeerClosed,
    /// Nothing moved either way for the idle timeout.
    IdleTimeout,
    /// Stopped from outside (Ctrl-C), see [`crate::net::relay::Stopper`].
    Stopped,
}

/// Counters for one relay session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayStats {
    /// Bytes sent to the peer (after `--crlf` translation).
    pub sent: u64,
    /// Bytes received from the peer.
    pub received: u64,
    /// From the start of the relay to its end.
    pub duration: Duration,
    /// Why it ended.
    pub end: RelayEnd,
}

impl RelayStats {
    /// Bytes per second over the whole session, both directions together.
    pub fn throughput(&self) -> f64 {
        let seconds = self.duration.as_secs_f64();
        if seconds > 0.0 {
            (self.sent + self.received) as f64 / seconds
        } else {
            0.0
        }
    }
}

impl fmt::Display for RelayStats {
    /// `sent 1.0 MiB (1048576 bytes), received 12 B in 1.5s (699.1 KiB/s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sent {}, received {} in {} ({}/s)",
            Bytes(self.sent),
            Bytes(self.received),
            format_duration(self.duration),
            Bytes(self.throughput() as u64)
        )
    }
}

/// A byte count for people: `12 B`, `1.5 KiB`, `3.2 GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_for_people() {
        assert_eq!(Bytes(0).to_string(), "0 B");
        assert_eq!(Bytes(1023).to_string(), "1023 B");
        assert_eq!(Bytes(1536).to_string(), "1.5 KiB");
        assert_eq!(Bytes(4 << 30).to_string(), "4.0 GiB");
    }

    #[test]
    fn summary_line() {
        let stats = RelayStats {
            sent: 1 << 20,
            received: 12,
            duration: Duration::from_millis(1500),
            end: RelayEnd::PeerClosed,
        };
        assert_eq!(
            stats.to_string(),
            "sent 1.0 MiB, received 12 B in 1.5s (682.7 KiB/s)"
        );
    }
}
