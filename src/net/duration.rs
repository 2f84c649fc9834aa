//! Durations as users write them: `250ms`, `2s`, `1m30s`, or a bare number of seconds.

use std::time::Duration;

/// Parses `250ms`, `2s`, `1m30s`, `1.5` (seconds) or `3` (seconds, as `nc -w 3`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".to_string());
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = text
            .parse()
            .map_err(|_| format!("'{text}' is not a duration"))?;
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("'{text}' is not a valid number of seconds"));
    }
    humantime::parse_duration(text)
        .map_err(|_| format!("'{text}' is not a duration (e.g. 250ms, 2s, 1m30s, or seconds)"))
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
        }
    }
}
