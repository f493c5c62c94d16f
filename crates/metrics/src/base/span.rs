//! What the lake's data covers: the local days each table spans (a metric's default
//! period), and how much of each bucket a figure covers (docs/metrics.md, "Partial
//! buckets"), written into every metric table with buckets.

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::calendar::local_day;
use tally_model::{BucketKind, Sites, Table};

use crate::base::frame::{micros, strings};
use crate::base::grid::Grid;
use crate::base::request::{MetricError, Output};
use crate::catalogue::{Engine, Metric};

/// The columns every metric frame with buckets ends with (docs/metrics.md, "Partial
/// buckets").
pub const COVERAGE_COLUMNS: [&str; 3] = ["partial", "days_covered", "bucket_days"];

/// A span of local days: the first, and the day after the last.
pub type Days = (NaiveDate, NaiveDate);

/// The local days the rows of `table` span in the lake: (first day, day after the last),
/// by the table's time column (sessions' start, circulation's time, tickets' opening,
/// Wi-Fi's start, assets' purchase, totals' period); `None` for a table the lake lacks.
/// The default period of a metric is its own table's span.
pub fn data_range(
    lake: &Snapshot,
    sites: &Sites,
    table: Table,
) -> Result<Option<(NaiveDate, NaiveDate)>, MetricError> {
    span(lake, sites, table, false)
}

/// As [`data_range`]; with `to_the_end`, for sessions and Wi-Fi the span runs to the end
/// of the last one (a session reaches past its start's day), as partial buckets count it.
fn span(
    lake: &Snapshot,
    sites: &Sites,
    table: Table,
    to_the_end: bool,
) -> Result<Option<(NaiveDate, NaiveDate)>, MetricError> {
    // A partition holds the rows whose time falls in its month: the first is in the
    // first partition, the last in the last; the months between need not be read.
    let Some((first, last)) = lake.first_and_last(table)? else {
        return Ok(None);
    };
    let (first, last) = (&first, &last);
    let column = table.partition_column();
    let tz = sites.library.timezone;
    let is_date = matches!(table, Table::Assets | Table::Totals);
    // As UTC microseconds; a date column as its midnight.
    let bound = |lf: &LazyFrame, e: Expr| -> Result<Option<i64>, MetricError> {
        let e = if is_date {
            e.cast(DataType::Int32).cast(DataType::Int64) * lit(86_400_000_000i64)
        } else {
            e.cast(DataType::Int64)
        };
        let t = micros(&lf.clone().select([e.alias("t")]).collect()?, "t")?;
        Ok(t.first().copied().filter(|&t| t != i64::MIN))
    };
    let lo = bound(first, col(column).min())?;
    let mut hi = bound(last, col(column).max())?;
    if to_the_end && matches!(table, Table::Sessions | Table::Wifi) {
        hi = hi.max(bound(last, col("end").max())?);
    }
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(None);
    };
    let day = |t: i64| {
        if is_date {
            local_day(t, chrono_tz::UTC)
        } else {
            local_day(t, tz)
        }
    };
    Ok(Some((day(lo), day(hi) + chrono::Duration::days(1))))
}

/// The days every table of the lake spans together, with the tables it has: the period
/// `all` of a pipeline, whose metrics read several tables.
pub fn lake_range(
    lake: &Snapshot,
    sites: &Sites,
) -> Result<(Option<Days>, Vec<Table>), MetricError> {
    let mut span: Option<(NaiveDate, NaiveDate)> = None;
    let mut present = Vec::new();
    for table in [
        Table::Sessions,
        Table::Circulation,
        Table::WorkOrders,
        Table::Wifi,
    ] {
        if let Some((a, b)) = data_range(lake, sites, table)? {
            present.push(table);
            span = Some(span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
    }
    Ok((span, present))
}

/// How much of one bucket a figure covers, in local days: `covered` of the whole
/// calendar bucket's `full` days (a week 7, a month 28 to 31, a fiscal year 365 or 366).
/// `covered` is what the period leaves of the bucket (less than `full` when `--from` or
/// `--to` cuts it) that the lake's data also spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub covered: i64,
    pub full: i64,
}

impl Coverage {
    /// A bucket is partial when the period or the data covers only part of it.
    pub fn is_partial(&self) -> bool {
        self.covered < self.full
    }
}

/// Metrics that add up what happens over a bucket's time: a part of a bucket holds only
/// a part of it. Stocks (assets in service, the backlog, OS support at a bucket's end)
/// and forecasts (the replacement schedule) are never partial.
pub fn is_flow(metric: Metric) -> bool {
    matches!(
        metric.engine(),
        Engine::Events
            | Engine::Interval
            | Engine::CapacityPerWeek
            | Engine::CostPerUse
            | Engine::Trend
    )
}

/// The coverage of each bucket of `grid` (docs/metrics.md, "Partial buckets"): the days
/// the period leaves of each calendar bucket, and of those, the days between the first
/// and the last event of the metric's table in the lake (a trend's past years count
/// from the first totals). `None` for hour buckets and for metrics that are not flows.
pub fn coverage(
    lake: &Snapshot,
    sites: &Sites,
    metric: Metric,
    grid: &Grid,
) -> Result<Vec<Option<Coverage>>, MetricError> {
    if !is_flow(metric) || grid.kind == BucketKind::Hour {
        return Ok(vec![None; grid.buckets.len()]);
    }
    let mut data = span(lake, sites, metric.table(), true)?;
    if metric.engine() == Engine::Trend
        && let Some((first, _)) = data_range(lake, sites, Table::Totals)?
    {
        data = data.map(|(a, b)| (a.min(first), b));
    }
    let fy = sites.library.fiscal_year_start_month;
    Ok(grid
        .buckets
        .iter()
        .map(|b| {
            let (from, to) = b.days?;
            let (start, end) = if grid.kind == BucketKind::All {
                (from, to)
            } else {
                let start = crate::base::grid::bucket_start(from, grid.kind, fy);
                (start, crate::base::grid::next_start(start, grid.kind, fy))
            };
            let days = |a: NaiveDate, b: NaiveDate| (b - a).num_days().max(0);
            let covered = match data {
                Some((first, last)) => days(from.max(first), to.min(last)),
                None => days(from, to),
            };
            Some(Coverage {
                covered,
                full: days(start, end),
            })
        })
        .collect())
}

/// Adds `partial`, `days_covered` and `bucket_days` to a metric's frame, by its bucket
/// label (frames without buckets, the heatmap's, are left as they are).
pub(crate) fn mark_partial(
    out: &mut Output,
    grid: &Grid,
    coverage: &[Option<Coverage>],
) -> Result<(), MetricError> {
    if out.frame.column("bucket").is_err() {
        return Ok(());
    }
    let labels = strings(&out.frame, "bucket")?;
    let by_label: HashMap<&str, Coverage> = grid
        .buckets
        .iter()
        .zip(coverage)
        .filter_map(|(b, c)| Some((b.label.as_str(), (*c)?)))
        .collect();
    let at = |l: &Option<String>| l.as_deref().and_then(|l| by_label.get(l)).copied();
    let cov: Vec<Option<Coverage>> = labels.iter().map(at).collect();
    out.frame.with_column(Column::new(
        "partial".into(),
        cov.iter()
            .map(|c| c.is_some_and(|c| c.is_partial()))
            .collect::<Vec<bool>>(),
    ))?;
    out.frame.with_column(Column::new(
        "days_covered".into(),
        cov.iter().map(|c| c.map(|c| c.covered)).collect::<Vec<_>>(),
    ))?;
    out.frame.with_column(Column::new(
        "bucket_days".into(),
        cov.iter().map(|c| c.map(|c| c.full)).collect::<Vec<_>>(),
    ))?;
    Ok(())
}
