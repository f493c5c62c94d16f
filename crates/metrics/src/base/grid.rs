//! The bucket grid: the period cut into local calendar buckets, as UTC instants.
//!
//! Buckets are calendar buckets (local hour, day, ISO week from Monday, month, quarter,
//! fiscal year) intersected with the period [from, to): a period that starts mid-week
//! has a first week bucket that starts at `from`. Every instant in the period falls in
//! exactly one bucket.

use chrono::{Datelike, Duration, NaiveDate};
use chrono_tz::Tz;
use tally_model::calendar::local_time;
pub use tally_model::calendar::midnight_us;
use tally_model::{BucketKind, Sites, fiscal_year_days, fiscal_year_of};

use crate::base::request::Request;
use crate::catalogue::Metric;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// UTC microseconds, inclusive.
    pub start_us: i64,
    /// UTC microseconds, exclusive.
    pub end_us: i64,
    pub label: String,
    /// Local days [first, end) the bucket covers; `None` for an hour.
    pub days: Option<(NaiveDate, NaiveDate)>,
}

#[derive(Debug, Clone)]
pub struct Grid {
    pub buckets: Vec<Bucket>,
    pub kind: BucketKind,
    pub tz: Tz,
}

impl Grid {
    /// Buckets of `kind` over local dates [from, to) in `tz`. `fy_start` is the first
    /// month of the fiscal year.
    pub fn new(from: NaiveDate, to: NaiveDate, kind: BucketKind, tz: Tz, fy_start: u32) -> Grid {
        let mut buckets = Vec::new();
        let end_us = midnight_us(to, tz);
        match kind {
            BucketKind::Hour => {
                let mut t = midnight_us(from, tz);
                while t < end_us {
                    let next = (t + 3_600_000_000).min(end_us);
                    let local = local_time(t, tz);
                    buckets.push(Bucket {
                        start_us: t,
                        end_us: next,
                        label: local.format("%Y-%m-%dT%H:%M%:z").to_string(),
                        days: None,
                    });
                    t = next;
                }
            }
            BucketKind::All => {
                if from < to {
                    buckets.push(Bucket {
                        start_us: midnight_us(from, tz),
                        end_us,
                        label: format!("{from}..{to}"),
                        days: Some((from, to)),
                    });
                }
            }
            _ => {
                let mut d = from;
                while d < to {
                    let next = next_start(d, kind, fy_start).min(to);
                    buckets.push(Bucket {
                        start_us: midnight_us(d, tz),
                        end_us: midnight_us(next, tz),
                        label: label(d, kind, fy_start),
                        days: Some((d, next)),
                    });
                    d = next;
                }
            }
        }
        Grid { buckets, kind, tz }
    }

    pub fn start_us(&self) -> i64 {
        self.buckets.first().map_or(0, |b| b.start_us)
    }

    pub fn end_us(&self) -> i64 {
        self.buckets.last().map_or(0, |b| b.end_us)
    }

    /// The bucket an instant falls in.
    pub fn index_of(&self, t_us: i64) -> Option<usize> {
        if t_us < self.start_us() || t_us >= self.end_us() {
            return None;
        }
        Some(self.buckets.partition_point(|b| b.end_us <= t_us))
    }
}

/// The first day of the calendar bucket `d` is in.
pub fn bucket_start(d: NaiveDate, kind: BucketKind, fy_start: u32) -> NaiveDate {
    let first_of = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).expect("valid month");
    match kind {
        BucketKind::Day | BucketKind::Hour | BucketKind::All => d,
        BucketKind::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        BucketKind::Month => first_of(d.year(), d.month()),
        BucketKind::Quarter => first_of(d.year(), (d.month() - 1) / 3 * 3 + 1),
        BucketKind::FiscalYear => {
            fiscal_year_days(fiscal_year_of(d, fy_start), fy_start)
                .expect("a date in the calendar")
                .0
        }
    }
}

/// The calendar buckets whose distinct counts a purge keeps.
pub const KEPT_KINDS: [BucketKind; 5] = [
    BucketKind::Day,
    BucketKind::Week,
    BucketKind::Month,
    BucketKind::Quarter,
    BucketKind::FiscalYear,
];

/// Whether local days [from, to) are one whole day, ISO week, month, quarter or fiscal
/// year: the buckets a purge keeps distinct counts for.
pub fn is_kept_bucket(from: NaiveDate, to: NaiveDate, fy_start: u32) -> bool {
    KEPT_KINDS
        .iter()
        .any(|&k| bucket_start(from, k, fy_start) == from && next_start(from, k, fy_start) == to)
}

/// The first day of the calendar bucket after the one `d` is in.
pub fn next_start(d: NaiveDate, kind: BucketKind, fy_start: u32) -> NaiveDate {
    let first_of = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).expect("valid month");
    let add_months = |y: i32, m: u32, k: u32| {
        let idx = y * 12 + (m as i32 - 1) + k as i32;
        first_of(idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1)
    };
    match kind {
        BucketKind::Day | BucketKind::Hour | BucketKind::All => d + Duration::days(1),
        BucketKind::Week => d + Duration::days(7 - i64::from(d.weekday().num_days_from_monday())),
        BucketKind::Month => add_months(d.year(), d.month(), 1),
        BucketKind::Quarter => add_months(d.year(), (d.month() - 1) / 3 * 3 + 1, 3),
        BucketKind::FiscalYear => {
            fiscal_year_days(fiscal_year_of(d, fy_start), fy_start)
                .expect("a date in the calendar")
                .1
        }
    }
}

fn label(d: NaiveDate, kind: BucketKind, fy_start: u32) -> String {
    match kind {
        BucketKind::Day | BucketKind::Hour | BucketKind::All => d.to_string(),
        BucketKind::Week => {
            let w = d.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        BucketKind::Month => d.format("%Y-%m").to_string(),
        BucketKind::Quarter => format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
        BucketKind::FiscalYear => format!("FY{}", fiscal_year_of(d, fy_start)),
    }
}

/// The bucket grid of a request, in the library's zone and fiscal year.
pub fn for_request(req: &Request, sites: &Sites) -> Grid {
    let every = if req.metric == Metric::Heatmap {
        BucketKind::Hour
    } else {
        req.every
    };
    Grid::new(
        req.from,
        req.to,
        every,
        sites.library.timezone,
        sites.library.fiscal_year_start_month,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Chicago;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn dst_days_have_23_and_25_hours() {
        let spring = Grid::new(
            date("2026-03-08"),
            date("2026-03-09"),
            BucketKind::Hour,
            Chicago,
            1,
        );
        assert_eq!(spring.buckets.len(), 23);
        let fall = Grid::new(
            date("2026-11-01"),
            date("2026-11-02"),
            BucketKind::Hour,
            Chicago,
            1,
        );
        assert_eq!(fall.buckets.len(), 25);
        assert_eq!(fall.buckets[1].label, "2026-11-01T01:00-05:00");
        assert_eq!(fall.buckets[2].label, "2026-11-01T01:00-06:00");
    }

    #[test]
    fn calendar_buckets_clip_to_period() {
        let weeks = Grid::new(
            date("2026-10-01"),
            date("2026-10-15"),
            BucketKind::Week,
            Chicago,
            1,
        );
        let labels: Vec<_> = weeks.buckets.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["2026-W40", "2026-W41", "2026-W42"]);
        let fy = Grid::new(
            date("2025-01-01"),
            date("2026-01-01"),
            BucketKind::FiscalYear,
            Chicago,
            7,
        );
        let labels: Vec<_> = fy.buckets.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["FY2025", "FY2026"]);
        let q = Grid::new(
            date("2025-02-10"),
            date("2025-07-01"),
            BucketKind::Quarter,
            Chicago,
            1,
        );
        let labels: Vec<_> = q.buckets.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["2025-Q1", "2025-Q2"]);
        assert_eq!(q.index_of(q.buckets[1].start_us), Some(1));
        assert_eq!(q.index_of(q.buckets[1].start_us - 1), Some(0));
        assert_eq!(q.index_of(q.end_us()), None);
    }
}
