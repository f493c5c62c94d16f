//! Local wall-clock times to UTC microseconds, with the DST rules of FORMATS.md: an
//! ambiguous time (the repeated hour in November) is read as the earliest instant; a
//! time that does not exist (the skipped hour in March) is an error the caller
//! quarantines.

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// The formats vendor exports write local times in, tried in order.
const LOCAL_FORMATS: [&str; 8] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
];

/// Parses a local timestamp in one of the known layouts.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    LOCAL_FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

pub const DST_GAP: &str = "local time does not exist (skipped by the DST change)";

/// Local time in `tz` to UTC microseconds since the epoch.
pub fn local_to_utc_us(local: NaiveDateTime, tz: Tz) -> Result<i64, &'static str> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(t.timestamp_micros()),
        chrono::LocalResult::Ambiguous(earliest, _) => Ok(earliest.timestamp_micros()),
        chrono::LocalResult::None => Err(DST_GAP),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Chicago;

    #[test]
    fn dst_rules() {
        let gap = parse_local("2026-03-08 02:30:00").unwrap();
        assert_eq!(local_to_utc_us(gap, Chicago), Err(DST_GAP));
        // 01:30 on 2026-11-01 happens twice; the first (CDT, UTC-5) is taken.
        let twice = parse_local("2026-11-01 01:30:00").unwrap();
        let utc = local_to_utc_us(twice, Chicago).unwrap();
        assert_eq!(utc, parse_local("2026-11-01 06:30:00").unwrap().and_utc().timestamp_micros());
        assert!(parse_local("6/21/2025 16:14").is_some());
        assert!(parse_local("2025-06-21 16:14:00.000").is_some());
    }
}
