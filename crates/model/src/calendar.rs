//! Pure calendar arithmetic, the one home of each rule: an instant to its local day or
//! time, a local time to its instant (daylight-saving gaps and repeats decided once),
//! and dates as the day numbers the lake stores. No I/O, no settings.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// 1970-01-01: the day the lake's date columns count from.
pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
}

/// Days since 1970-01-01 (how a date column stores a date).
pub fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// The date `days` after 1970-01-01 (a date column's value as a date).
pub fn date_of_days(days: i32) -> NaiveDate {
    epoch() + Duration::days(i64::from(days))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// algorithm): the partition of every row is computed with it, so it must be cheap.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = i64::from(z) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// An instant (UTC microseconds) as local time in `tz`.
pub fn local_time(t_us: i64, tz: Tz) -> DateTime<Tz> {
    DateTime::from_timestamp_micros(t_us)
        .expect("an instant tally stores is in chrono's range")
        .with_timezone(&tz)
}

/// The local date of an instant (UTC microseconds) in `tz`: the day a librarian would
/// say it happened on.
pub fn local_day(t_us: i64, tz: Tz) -> NaiveDate {
    local_time(t_us, tz).date_naive()
}

/// The local date on which a span that ends (exclusive) at `end_us` has its last
/// instant: the last day a bucket or period covers.
pub fn last_local_day(end_us: i64, tz: Tz) -> NaiveDate {
    local_day(end_us - 1, tz)
}

/// A local wall-clock time as UTC microseconds: the earliest if it happens twice (the
/// hour repeated when clocks go back), and the instant the clocks jump to if it does not
/// exist (the hour skipped when they go forward).
pub fn local_us(t: NaiveDateTime, tz: Tz) -> i64 {
    match tz.from_local_datetime(&t) {
        chrono::LocalResult::Single(x) | chrono::LocalResult::Ambiguous(x, _) => {
            x.timestamp_micros()
        }
        chrono::LocalResult::None => {
            // Walk forward a minute at a time to the first time that exists (DST gaps are
            // at most an hour or two).
            let mut probe = t;
            loop {
                probe += Duration::minutes(1);
                if let Some(x) = tz.from_local_datetime(&probe).earliest() {
                    return x.timestamp_micros();
                }
            }
        }
    }
}

/// Local midnight of `date` in `tz`, as UTC microseconds. Where midnight is skipped by a
/// DST change (some zones), the first instant of the day.
pub fn midnight_us(date: NaiveDate, tz: Tz) -> i64 {
    local_us(date.and_hms_opt(0, 0, 0).expect("midnight"), tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        for d in ["1969-12-31", "1970-01-01", "2000-02-29", "2026-11-01"] {
            let d: NaiveDate = d.parse().unwrap();
            let n = days_since_epoch(d);
            assert_eq!(date_of_days(n), d);
            let (y, m, day) = civil_from_days(n);
            assert_eq!(NaiveDate::from_ymd_opt(y, m, day), Some(d));
        }
    }

    #[test]
    fn local_days_and_dst() {
        let tz = chrono_tz::America::Chicago;
        // 2026-03-08 02:30 does not exist in Chicago: the clocks jump to 03:00 (CDT).
        let gap = NaiveDate::from_ymd_opt(2026, 3, 8)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            local_time(local_us(gap, tz), tz)
                .format("%H:%M")
                .to_string(),
            "03:00"
        );
        // 05:59 UTC on 2026-11-02 is 23:59 on the 1st in Chicago (CST).
        let t = NaiveDate::from_ymd_opt(2026, 11, 2)
            .unwrap()
            .and_hms_opt(5, 59, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        assert_eq!(local_day(t, tz).to_string(), "2026-11-01");
        assert_eq!(
            last_local_day(
                midnight_us(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), tz),
                tz
            )
            .to_string(),
            "2026-11-01"
        );
    }
}
