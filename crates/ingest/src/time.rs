//! Local wall-clock times to UTC microseconds, with the DST rules of FORMATS.md: an
//! ambiguous time (the repeated hour in November) is read as the earliest instant; a
//! time that does not exist (the skipped hour in March) is an error the caller
//! quarantines.

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// The formats vendor exports write local times in, tried in order. Month-first
/// numeric dates (US) come before day-first ones; [`parse_local_dmy`] reads a file whose
/// dates are day-first.
const LOCAL_FORMATS: [&str; 12] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    // Jira: 14/Jul/25 3:42 PM
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d.%m.%Y %H:%M",
];

const DAY_FIRST_FORMATS: [&str; 4] = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M"];

/// Parses a local timestamp in one of the known layouts.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| DAY_FIRST_FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(text, f).ok()))
        .or_else(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| d.and_time(chrono::NaiveTime::MIN)))
}

/// Parses a day-first local timestamp (`19/07/2026 09:58`), for files whose dates are
/// known to be day-first; otherwise as [`parse_local`].
pub fn parse_local_dmy(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    DAY_FIRST_FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(text, f).ok()).or_else(|| parse_local(text))
}

/// Whether numeric dates in these samples are day-first: some first component is over 12.
pub fn looks_day_first<'a>(samples: impl IntoIterator<Item = &'a str>) -> bool {
    samples.into_iter().any(|s| {
        let first = s.trim().split(['/', '-', '.']).next().unwrap_or("");
        first.len() <= 2 && first.parse::<u32>().is_ok_and(|d| d > 12)
    })
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
        assert_eq!(parse_local("14/Jul/25 3:42 PM"), parse_local("2025-07-14 15:42:00"));
        assert_eq!(parse_local("19-07-2026 09:58:57"), parse_local("2026-07-19 09:58:57"));
        assert_eq!(parse_local_dmy("01/07/2026 09:58"), parse_local("2026-07-01 09:58:00"));
        assert_eq!(parse_local("01/07/2026 09:58"), parse_local("2026-01-07 09:58:00"), "US order by default");
        assert!(looks_day_first(["01/02/2026 10:00", "19/07/2026 09:58"]));
        assert!(!looks_day_first(["01/02/2026 10:00", "12/07/2026 09:58"]));
    }
}
