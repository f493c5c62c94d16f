//! When a site is open, as UTC intervals.

use chrono::{Datelike, Duration, NaiveDate};
use chrono_tz::Tz;
use tally_model::{Site, Sites};

use tally_model::calendar::{local_day, local_us, midnight_us};

/// The site's open intervals (UTC microseconds, sorted, disjoint) that overlap
/// [start_us, end_us), clipped to it. Holidays (library-wide or the site's) are closed.
pub fn open_intervals(
    sites: &Sites,
    site: &Site,
    tz: Tz,
    start_us: i64,
    end_us: i64,
) -> Vec<(i64, i64)> {
    let first = local_day(start_us, tz);
    let last = local_day(end_us, tz);
    let mut out = Vec::new();
    let mut d: NaiveDate = first - Duration::days(1);
    while d <= last {
        if !sites.is_holiday(site, d) {
            for &(open, close) in site.hours.day(d.weekday()).ranges() {
                let a = local_us(d.and_time(open), tz);
                let b = match close {
                    Some(c) => local_us(d.and_time(c), tz),
                    None => midnight_us(d + Duration::days(1), tz),
                };
                let (a, b) = (a.max(start_us), b.min(end_us));
                if a < b {
                    out.push((a, b));
                }
            }
        }
        d += Duration::days(1);
    }
    out
}
