//! Latency statistics: loss, min/avg/max/stddev and percentiles of the successful attempts.

use serde::Serialize;

/// Attempts and their round-trip times (milliseconds) for one target.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    sent: u64,
    rtts: Vec<f64>,
}

/// The summary of a latency run, as printed and as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Attempts made.
    pub sent: u64,
    /// Attempts that found the port open.
    pub ok: u64,
    /// Failed attempts, in percent of those sent.
    pub loss_pct: f64,
    /// Fastest successful attempt (ms).
    pub min_ms: Option<f64>,
    /// Mean (ms).
    pub avg_ms: Option<f64>,
    /// Slowest (ms).
    pub max_ms: Option<f64>,
    /// Population standard deviation (ms).
    pub stddev_ms: Option<f64>,
    /// Median (ms, nearest rank).
    pub p50_ms: Option<f64>,
    /// 95th percentile (ms, nearest rank).
    pub p95_ms: Option<f64>,
    /// 99th percentile (ms, nearest rank).
    pub p99_ms: Option<f64>,
}

impl Samples {
    /// Records one attempt: its round-trip time when it succeeded.
    pub fn add(&mut self, ok_rtt_ms: Option<f64>) {
        self.sent += 1;
        self.rtts.extend(ok_rtt_ms);
    }

    /// Whether any attempt failed.
    pub fn any_failed(&self) -> bool {
        self.rtts.len() as u64 != self.sent
    }

    /// Attempts made.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The summary.
    pub fn summary(&self) -> LatencySummary {
        let mut sorted = self.rtts.clone();
        sorted.sort_by(f64::total_cmp);
        let ok = sorted.len() as u64;
        let loss_pct = if self.sent == 0 {
            0.0
        } else {
            round3(100.0 * (self.sent - ok) as f64 / self.sent as f64)
        };
        let n = sorted.len() as f64;
        let avg = (!sorted.is_empty()).then(|| sorted.iter().sum::<f64>() / n);
        let stddev =
            avg.map(|avg| (sorted.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / n).sqrt());
        LatencySummary {
            sent: self.sent,
            ok,
            loss_pct,
            min_ms: sorted.first().copied().map(round3),
            avg_ms: avg.map(round3),
            max_ms: sorted.last().copied().map(round3),
            stddev_ms: stddev.map(round3),
            p50_ms: percentile(&sorted, 50.0).map(round3),
            p95_ms: percentile(&sorted, 95.0).map(round3),
            p99_ms: percentile(&sorted, 99.0).map(round3),
        }
    }
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_samples() {
        let mut samples = Samples::default();
        for rtt in [1.0, 2.0, 3.0, 4.0] {
            samples.add(Some(rtt));
        }
        samples.add(None);
        let summary = samples.summary();
        assert_eq!((summary.sent, summary.ok), (5, 4));
        assert_eq!(summary.loss_pct, 20.0);
        assert_eq!(summary.min_ms, Some(1.0));
        assert_eq!(summary.max_ms, Some(4.0));
        assert_eq!(summary.avg_ms, Some(2.5));
        assert_eq!(summary.stddev_ms, Some(1.118));
        assert_eq!(summary.p50_ms, Some(2.0));
        assert_eq!(summary.p95_ms, Some(4.0));
        assert!(samples.any_failed());
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&[], 50.0), None);
        let empty = Samples::default().summary();
        assert_eq!((empty.sent, empty.loss_pct, empty.min_ms), (0, 0.0, None));
    }
}
