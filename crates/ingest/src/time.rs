//! Local wall-clock times to UTC microseconds, with the DST rules of FORMATS.md: an
//! ambiguous time (the repeated hour in November) is read as the earliest instant; a
//! time that does not exist (the skipped hour in March) is an error the caller
//! quarantines.

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// The formats vendor exports write local times in, tried in order. Month-first
/// numeric dates (US) come before day-first ones; [`parse_local_dmy`] reads a file whose
/// dates are day-first.
const LOCAL_FORMATS: [&str; 17] = [
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
    // German Windows: 27.10.2021 12:28:26
    "%d.%m.%Y %H:%M:%S",
    // Jira, 24-hour: 24/Jun/26 17:39
    "%d/%b/%y %H:%M",
    // RT's default format: Tue Mar 05 14:22:10 2024
    "%a %b %d %H:%M:%S %Y",
    // Two-digit years (an importer's sample, Excel): 1/23/23 14:00
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
];

const DAY_FIRST_FORMATS: [&str; 4] = [
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
];

/// Parses a local timestamp in one of the known layouts.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Some(t) = fast_iso(text.as_bytes()) {
        return Some(t);
    }
    LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            DAY_FIRST_FORMATS
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        })
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
}

/// Parses a day-first local timestamp (`19/07/2026 09:58`), for files whose dates are
/// known to be day-first; otherwise as [`parse_local`].
pub fn parse_local_dmy(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    DAY_FIRST_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| parse_local(text))
}

/// Whether numeric dates in these samples are day-first: some first component is over 12.
pub fn looks_day_first<'a>(samples: impl IntoIterator<Item = &'a str>) -> bool {
    samples.into_iter().any(|s| {
        let first = s.trim().split(['/', '-', '.']).next().unwrap_or("");
        first.len() <= 2 && first.parse::<u32>().is_ok_and(|d| d > 12)
    })
}

/// `YYYY-MM-DD HH:MM[:SS[.fff]]` (or with `T`), the layout most exports use, read
/// without the format machinery: the hot path of every adapter. Anything else is `None`
/// and goes to the general formats.
fn fast_iso(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (y, mo, d, h, mi) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
    );
    let (s, nanos) = match b.len() {
        16 => (0, 0),
        19 if b[16] == b':' => (num(17..19)?, 0),
        n if n > 20 && b[16] == b':' && b[19] == b'.' && n <= 29 => {
            let frac = &b[20..];
            let digits = num(20..n)?;
            (num(17..19)?, digits * 10u32.pow(9 - frac.len() as u32))
        }
        _ => return None,
    };
    chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_hms_nano_opt(h, mi, s, nanos)
}

pub const DST_GAP: &str = "local time does not exist (skipped by the DST change)";

thread_local! {
    /// Per zone and local hour: the UTC offset when the whole hour has one (most hours of
    /// most zones), else `None` (an hour with a DST change in it, computed every time).
    static OFFSETS: std::cell::RefCell<std::collections::HashMap<(Tz, i64), Option<i64>>> = Default::default();
}

/// Local time in `tz` to UTC microseconds since the epoch. An ambiguous time (the repeated
/// hour) is the earliest instant; a time the DST change skips is an error.
pub fn local_to_utc_us(local: NaiveDateTime, tz: Tz) -> Result<i64, &'static str> {
    let local_us = local.and_utc().timestamp_micros();
    let hour = local_us.div_euclid(3_600_000_000);
    let cached = OFFSETS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 200_000 {
            c.clear();
        }
        *c.entry((tz, hour))
            .or_insert_with(|| uniform_offset(tz, hour))
    });
    match cached {
        Some(offset_us) => Ok(local_us - offset_us),
        None => exact(local, tz),
    }
}

fn exact(local: NaiveDateTime, tz: Tz) -> Result<i64, &'static str> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(t.timestamp_micros()),
        chrono::LocalResult::Ambiguous(earliest, _) => Ok(earliest.timestamp_micros()),
        chrono::LocalResult::None => Err(DST_GAP),
    }
}

/// The offset (local minus UTC, microseconds) shared by every instant of a local hour,
/// if its first and last second map to single instants with the same offset.
fn uniform_offset(tz: Tz, hour: i64) -> Option<i64> {
    let first = chrono::DateTime::from_timestamp(hour * 3600, 0)?.naive_utc();
    let last = first + chrono::Duration::seconds(3599);
    match (
        tz.from_local_datetime(&first),
        tz.from_local_datetime(&last),
    ) {
        (chrono::LocalResult::Single(a), chrono::LocalResult::Single(b)) => {
            let (oa, ob) = (
                a.naive_local() - a.naive_utc(),
                b.naive_local() - b.naive_utc(),
            );
            (oa == ob).then(|| oa.num_microseconds()).flatten()
        }
        _ => None,
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
        // Every minute of the two DST days, through the cache, as chrono reads it.
        for day in ["2026-03-08", "2026-11-01", "2026-07-04"] {
            let d: chrono::NaiveDate = day.parse().unwrap();
            for m in 0..1440 {
                let t = d.and_hms_opt(m / 60, m % 60, 30).unwrap();
                assert_eq!(local_to_utc_us(t, Chicago), exact(t, Chicago), "{t}");
            }
        }
        assert_eq!(
            utc,
            parse_local("2026-11-01 06:30:00")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        );
        assert!(parse_local("6/21/2025 16:14").is_some());
        assert!(parse_local("2025-06-21 16:14:00.000").is_some());
        assert_eq!(
            parse_local("14/Jul/25 3:42 PM"),
            parse_local("2025-07-14 15:42:00")
        );
        assert_eq!(
            parse_local("19-07-2026 09:58:57"),
            parse_local("2026-07-19 09:58:57")
        );
        assert_eq!(
            parse_local_dmy("01/07/2026 09:58"),
            parse_local("2026-07-01 09:58:00")
        );
        assert_eq!(
            parse_local("01/07/2026 09:58"),
            parse_local("2026-01-07 09:58:00"),
            "US order by default"
        );
        assert!(looks_day_first(["01/02/2026 10:00", "19/07/2026 09:58"]));
        assert_eq!(
            fast_iso(b"2026-06-10 10:01:02.5"),
            chrono::NaiveDate::from_ymd_opt(2026, 6, 10)
                .unwrap()
                .and_hms_milli_opt(10, 1, 2, 500)
        );
        assert_eq!(fast_iso(b"2026-13-10 10:01:02"), None);
        assert_eq!(fast_iso(b"6/10/2026 10:01"), None);
        assert!(!looks_day_first(["01/02/2026 10:00", "12/07/2026 09:58"]));
    }
}
