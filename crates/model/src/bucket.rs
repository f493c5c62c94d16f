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
