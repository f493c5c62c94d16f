//! Time buckets that metrics group by. The grid itself (bucket boundaries as instants) is
//! computed in tally-metrics; this is the vocabulary shared with the CLI and reports.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketKind {
    Hour,
    Day,
    /// ISO week, starting Monday.
    Week,
    Month,
    Quarter,
    /// The library's fiscal year, named by the calendar year it ends in.
    FiscalYear,
    /// One bucket: the whole period asked for.
    All,
}

impl BucketKind {
    pub const ALL: [BucketKind; 7] = [
        BucketKind::Hour,
        BucketKind::Day,
        BucketKind::Week,
        BucketKind::Month,
        BucketKind::Quarter,
        BucketKind::FiscalYear,
        BucketKind::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BucketKind::Hour => "hour",
            BucketKind::Day => "day",
            BucketKind::Week => "week",
            BucketKind::Month => "month",
            BucketKind::Quarter => "quarter",
            BucketKind::FiscalYear => "fy",
            BucketKind::All => "all",
        }
    }
}

impl FromStr for BucketKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hour" => Ok(BucketKind::Hour),
            "day" => Ok(BucketKind::Day),
            "week" => Ok(BucketKind::Week),
            "month" => Ok(BucketKind::Month),
            "quarter" => Ok(BucketKind::Quarter),
            "fy" | "fiscal-year" | "fiscal_year" | "year" => Ok(BucketKind::FiscalYear),
            "all" | "period" => Ok(BucketKind::All),
            other => Err(format!(
                "unknown bucket \"{other}\"; expected one of: hour, day, week, month, quarter, fy, all"
            )),
        }
    }
}

/// The fiscal year `date` falls in, named by the calendar year it ends in (FY2026 of a
/// July year is 2025-07-01 to 2026-06-30; of a January year, the calendar year 2026).
/// The one definition of the fiscal year: docs/metrics.md.
pub fn fiscal_year_of(date: chrono::NaiveDate, start_month: u32) -> i32 {
    use chrono::Datelike;
    if start_month == 1 || date.month() < start_month {
        date.year()
    } else {
        date.year() + 1
    }
}

/// Fiscal year `fy` as local days [first, end), or `None` outside the calendar.
pub fn fiscal_year_days(
    fy: i32,
    start_month: u32,
) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let first = if start_month == 1 { fy } else { fy - 1 };
    Some((
        chrono::NaiveDate::from_ymd_opt(first, start_month, 1)?,
        chrono::NaiveDate::from_ymd_opt(first + 1, start_month, 1)?,
    ))
}

#[cfg(test)]
mod fiscal_tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn a_fiscal_year_is_named_by_the_year_it_ends_in() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(fiscal_year_of(d("2025-06-30"), 7), 2025);
        assert_eq!(fiscal_year_of(d("2025-07-01"), 7), 2026);
        assert_eq!(fiscal_year_of(d("2025-12-31"), 1), 2025);
        assert_eq!(
            fiscal_year_days(2026, 7),
            Some((d("2025-07-01"), d("2026-07-01")))
        );
        assert_eq!(
            fiscal_year_days(2026, 1),
            Some((d("2026-01-01"), d("2027-01-01")))
        );
        for start in 1..=12 {
            for day in [d("2024-01-01"), d("2024-06-15"), d("2024-12-31")] {
                let (a, b) = fiscal_year_days(fiscal_year_of(day, start), start).unwrap();
                assert!(a <= day && day < b, "{day} in FY from month {start}");
            }
        }
    }
}
