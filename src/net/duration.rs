//! Durations as users write them: `250ms`, `2s`, `1m30s`, or a bare number of seconds; and
//! deadlines computed from them that can never overflow.

use std::time::{Duration, Instant};

use crate::output::escape::quote_arg;

/// The longest duration any flag accepts: 365 days. Longer is a usage error (exit 2), so that
/// no deadline computed from a flag can overflow the clock.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Parses `250ms`, `2s`, `1m30s`, `1.5` (seconds) or `3` (seconds, as `nc -w 3`), up to
/// [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    // clap's message already names the value.
    let too_long = || "longer than the maximum of 365 days".to_string();
    if text.is_empty() {
        return Err("empty duration".to_string());
    }
    let duration = if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = text
            .parse()
            .map_err(|_| format!("'{}' is not a duration", quote_arg(text)))?;
        if seconds > MAX_DURATION.as_secs_f64() {
            return Err(too_long());
        }
        Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("'{}' is not a valid number of seconds", quote_arg(text)))?
    } else {
        humantime::parse_duration(text).map_err(|err| match err {
            // Also said of a fraction finer than a nanosecond.
            humantime::DurationError::NumberOverflow if !text.contains('.') => too_long(),
            _ => format!(
                "'{}' is not a duration (e.g. 250ms, 2s, 1m30s, or seconds)",
                quote_arg(text)
            ),
        })?
    };
    if duration > MAX_DURATION {
        return Err(too_long());
    }
    Ok(duration)
}

/// [`parse_duration`] for a timeout or an interval, where zero makes no sense.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err("must be longer than 0".to_string());
    }
    Ok(duration)
}

/// `start + duration`, saturating: a deadline beyond what the clock can represent becomes the
/// furthest one it can, so that no computation of a deadline can panic.
pub fn deadline_after(start: Instant, duration: Duration) -> Instant {
    let mut step = duration;
    loop {
        if let Some(deadline) = start.checked_add(step) {
            return deadline;
        }
        // Halving converges: `start + 0` always exists.
        step /= 2;
    }
}

/// [`deadline_after`] for tokio's clock.
pub fn tokio_deadline_after(
    start: tokio::time::Instant,
    duration: Duration,
) -> tokio::time::Instant {
    tokio::time::Instant::from_std(deadline_after(start.into_std(), duration))
}

/// Formats a duration for people: `250ms`, `2s`, `1m 30s`.
pub fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
    } else {
        let seconds = format!("{:.3}", duration.as_secs_f64());
        format!("{}s", seconds.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_contract_form() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["", "-1", "abc", "1..2", "5 parsecs", "1e400"] {
            assert!(parse_duration(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn longer_than_a_year_is_refused() {
        assert_eq!(parse_duration("365d"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("31536000"), Ok(MAX_DURATION));
        assert_eq!(
            parse_duration("300d"),
            Ok(Duration::from_secs(300 * 86_400))
        );
        for huge in ["366d", "31536001", "9999999999999999999", "1000000000y"] {
            let err = parse_duration(huge).unwrap_err();
            assert_eq!(err, "longer than the maximum of 365 days", "{huge}");
        }
    }

    #[test]
    fn a_timeout_is_never_zero() {
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        for zero in ["0", "0s", "0ms", "0.0"] {
            assert!(parse_timeout(zero).is_err(), "{zero} was accepted");
            assert_eq!(parse_duration(zero), Ok(Duration::ZERO));
        }
        assert!(parse_timeout("400d").is_err());
    }

    #[test]
    fn deadlines_saturate() {
        let now = Instant::now();
        assert_eq!(
            deadline_after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert!(deadline_after(now, Duration::MAX) > now + MAX_DURATION);
        assert!(deadline_after(now, MAX_DURATION) >= now);
        let tokio_now = tokio::time::Instant::now();
        assert!(tokio_deadline_after(tokio_now, Duration::MAX) > tokio_now);
    }

    #[test]
    fn long_arguments_are_cut_in_errors() {
        let long = "x".repeat(128 * 1024);
        assert!(parse_duration(&long).unwrap_err().len() < 300);
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m 30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(2250)), "2.25s");
    }

    proptest! {
        #[test]
        fn millis_round_trip(ms in 0u64..10_000_000) {
            let text = format!("{ms}ms");
            prop_assert_eq!(parse_duration(&text), Ok(Duration::from_millis(ms)));
        }

        #[test]
        fn formatted_durations_parse_back(ms in 0u64..100_000_000) {
            let duration = Duration::from_millis(ms);
            let text = format_duration(duration).replace(' ', "");
            prop_assert_eq!(parse_duration(&text), Ok(duration));
        }

        #[test]
        fn never_panics(text in "\\PC{0,30}") {
            let _ = parse_duration(&text);
            let _ = parse_timeout(&text);
        }

        #[test]
        fn numbers_never_panic(text in "[0-9.]{0,40}(ns|us|ms|s|m|h|d|w|y)?") {
            if let Ok(duration) = parse_duration(&text) {
                prop_assert!(duration <= MAX_DURATION);
            }
        }

        #[test]
        fn every_accepted_duration_makes_a_deadline(secs in 0u64..=MAX_DURATION.as_secs()) {
            let now = Instant::now();
            prop_assert!(deadline_after(now, Duration::from_secs(secs)) >= now);
        }
    }
}
