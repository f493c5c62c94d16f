//! From a request (metric, period, bucket, dimensions) to a table.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use tally_model::tables::sessions as s;
use tally_model::{BucketKind, Lake, Sites, Table};

use crate::catalogue::{Engine, Metric};
use crate::grid::Grid;
use crate::intervals::intervals;
use crate::load::{micros, strings, utc_lit};
pub use crate::request::{MetricError, Output, PartialBucket, Request};

/// The same request a year earlier, for year-over-year columns.
fn year_before(req: &Request) -> Result<Request, MetricError> {
    if !matches!(
        req.every,
        BucketKind::Month | BucketKind::Quarter | BucketKind::FiscalYear | BucketKind::All
    ) {
        return Err(MetricError::Invalid(format!(
            "year over year compares months, quarters, fiscal years or the whole period, not {}s (their count differs from year to year)",
            req.every.as_str()
        )));
    }
    let back = |d: NaiveDate| {
        d.with_year(d.year() - 1)
            .unwrap_or_else(|| d - chrono::Duration::days(365))
    };
    Ok(Request {
        from: back(req.from),
        to: back(req.to),
        ..req.clone()
    })
}

/// `compute` plus `previous_year` (the same bucket a year earlier) and `change_pct`
/// ((this - previous) / previous x 100; empty when the previous is 0 or empty).
pub fn compute_yoy(lake: &Lake, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    let now = compute(lake, sites, req)?;
    let then = compute(lake, sites, &year_before(req)?)?;
    let dims: Vec<String> = now
        .frame
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .filter(|c| {
            c != "bucket" && *c != now.value_column && !COVERAGE_COLUMNS.contains(&c.as_str())
        })
        .collect();
    // Buckets pair by their position within a group: the n-th month of the period with
    // the n-th month of the period a year before.
    let positions = |df: &DataFrame| -> Result<Vec<(Vec<String>, usize)>, MetricError> {
        let keys: Vec<Vec<Option<String>>> = dims
            .iter()
            .map(|d| strings(df, d))
            .collect::<Result<_, _>>()?;
        let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
        Ok((0..df.height())
            .map(|i| {
                let k: Vec<String> = keys
                    .iter()
                    .map(|c| c[i].clone().unwrap_or_default())
                    .collect();
                let n = seen.entry(k.clone()).or_default();
                *n += 1;
                (k, *n - 1)
            })
            .collect())
    };
    let value = |df: &DataFrame| -> Result<Vec<Option<f64>>, MetricError> {
        Ok(df
            .column(&now.value_column)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let before: HashMap<(Vec<String>, usize), Option<f64>> = positions(&then.frame)?
        .into_iter()
        .zip(value(&then.frame)?)
        .collect();
    // A bucket whose data stops short (a month in progress) is not compared: the same
    // bucket a year before holds the whole of it. One the period cuts is: the year
    // before is cut on the same days.
    let earlier = year_before(req)?;
    let short_before: HashMap<(Vec<String>, usize), bool> = positions(&then.frame)?
        .into_iter()
        .zip(data_short(&then.frame, &earlier, sites)?)
        .collect();
    let current = value(&now.frame)?;
    let labels = strings(&now.frame, "bucket")?;
    let (mut previous, mut change) = (Vec::new(), Vec::new());
    let mut left_out = std::collections::BTreeSet::new();
    for (((pos, v), short_now), label) in positions(&now.frame)?
        .into_iter()
        .zip(current)
        .zip(data_short(&now.frame, req, sites)?)
        .zip(labels)
    {
        if short_now || short_before.get(&pos).copied().unwrap_or(false) {
            left_out.insert(label.unwrap_or_default());
            previous.push(None);
            change.push(None);
            continue;
        }
        let p = before.get(&pos).copied().flatten();
        previous.push(p);
        change.push(match (v, p) {
            (Some(v), Some(p)) if p != 0.0 => Some((v - p) / p * 100.0),
            _ => None,
        });
    }
    let mut frame = now.frame;
    frame.with_column(Column::new("previous_year".into(), previous))?;
    frame.with_column(Column::new("change_pct".into(), change))?;
    let mut warnings = now.warnings;
    if !left_out.is_empty() {
        warnings.push(format!(
            "not compared with the year before, where the lake's data covers only part of the bucket or of the same bucket a year before: {}",
            left_out.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    warnings.extend(
        then.warnings
            .into_iter()
            .filter(|w| !w.contains("suppressed")),
    );
    Ok(Output {
        frame,
        value_column: now.value_column,
        warnings,
    })
}

/// The columns every metric frame with buckets ends with (docs/metrics.md, "Partial
/// buckets").
pub const COVERAGE_COLUMNS: [&str; 3] = ["partial", "days_covered", "bucket_days"];

/// Whether each row's bucket is partial because the lake's data stops short of what
/// the period leaves of it (`days_covered` below the bucket's days in `req`'s grid), not
/// only because the period cuts it.
fn data_short(df: &DataFrame, req: &Request, sites: &Sites) -> Result<Vec<bool>, MetricError> {
    let in_period: HashMap<String, i64> = grid_of(req, sites)
        .buckets
        .into_iter()
        .filter_map(|b| b.days.map(|(a, e)| (b.label, (e - a).num_days())))
        .collect();
    let covered = df.column("days_covered")?.cast(&DataType::Int64)?;
    Ok(strings(df, "bucket")?
        .iter()
        .zip(covered.i64()?.iter())
        .map(|(l, c)| {
            let p = l.as_ref().and_then(|l| in_period.get(l));
            matches!((c, p), (Some(c), Some(p)) if c < *p)
        })
        .collect())
}

/// The bucket grid of a request, in the library's zone and fiscal year.
fn grid_of(req: &Request, sites: &Sites) -> Grid {
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

/// A span of local days: the first, and the day after the last.
pub type Days = (NaiveDate, NaiveDate);

/// The local days the rows of `table` span in the lake: (first day, day after the last),
/// by the table's time column (sessions' start, circulation's time, tickets' opening,
/// Wi-Fi's start, assets' purchase, totals' period); `None` for a table the lake lacks.
/// The default period of a metric is its own table's span.
pub fn data_range(
    lake: &Lake,
    sites: &Sites,
    table: Table,
) -> Result<Option<(NaiveDate, NaiveDate)>, MetricError> {
    span(lake, sites, table, false)
}

/// As [`data_range`]; with `to_the_end`, for sessions and Wi-Fi the span runs to the end
/// of the last one (a session reaches past its start's day), as partial buckets count it.
fn span(
    lake: &Lake,
    sites: &Sites,
    table: Table,
    to_the_end: bool,
) -> Result<Option<(NaiveDate, NaiveDate)>, MetricError> {
    // A partition holds the rows whose time falls in its month: the first is in the
    // first partition, the last in the last; the months between need not be read.
    let Some((first, last)) = crate::load::first_and_last_partitions(lake, table)? else {
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
        let utc = chrono::DateTime::from_timestamp_micros(t).expect("in range");
        if is_date {
            utc.date_naive()
        } else {
            utc.with_timezone(&tz).date_naive()
        }
    };
    Ok(Some((day(lo), day(hi) + chrono::Duration::days(1))))
}

/// The days every table of the lake spans together, with the tables it has: the period
/// `all` of a pipeline, whose metrics read several tables.
pub fn lake_range(lake: &Lake, sites: &Sites) -> Result<(Option<Days>, Vec<Table>), MetricError> {
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

pub fn compute(lake: &Lake, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    if req.from >= req.to {
        return Err(MetricError::Invalid(format!(
            "--from {} must be before --to {} (--to is exclusive)",
            req.from, req.to
        )));
    }
    let mut dims = req.by.clone();
    dims.sort();
    dims.dedup();
    let grid = grid_of(req, sites);
    if let Some(d) = dims.iter().find(|d| !req.metric.dims().contains(d)) {
        return Err(MetricError::Invalid(format!(
            "{} cannot be broken down by {}; it can by {}",
            req.metric.name(),
            d.column(),
            req.metric
                .dims()
                .iter()
                .map(|d| d.column())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let m = req.metric;
    let mut out = match m.engine() {
        Engine::Interval => intervals(lake, sites, m, &grid, &dims)?,
        Engine::Backlog => crate::events::backlog(lake, sites, &grid, &dims)?,
        Engine::Replacement => crate::fleet::replacement(lake, sites, m, &grid, &dims)?,
        Engine::PublicComputers => crate::fleet::public_computers(sites, &grid, &dims)?,
        Engine::Assets => crate::fleet::assets_in_service(lake, sites, &grid, &dims)?,
        Engine::Trend => crate::trends::trend(lake, sites, m, req, &grid, &dims)?,
        Engine::StationAdvice => crate::fleet::station_advice(lake, sites, req)?,
        Engine::CostPerUse => crate::fleet::cost_per_use(lake, sites, req, &grid, &dims)?,
        Engine::CapacityPerWeek => crate::fleet::capacity_per_week(lake, sites, &grid, &dims)?,
        Engine::OsSupport => crate::devices::os_support(lake, sites, &grid, &dims)?,
        Engine::StaleDevices => crate::devices::stale_devices(lake, sites, &grid, &dims)?,
        Engine::ReplacementPlan => {
            crate::devices::replacement_plan(lake, sites, &grid, &dims, req.budget)?
        }
        Engine::Events => crate::events::event_metric(lake, sites, m, &grid, &dims)?,
    };
    if req.metric.table() == Table::Sessions && !req.metric.is_interval() {
        let mut w = unknown_site_warnings(lake, sites, &grid)?;
        w.append(&mut out.warnings);
        out.warnings = w;
    }
    mark_partial(&mut out, &grid, &coverage(lake, sites, m, &grid)?)?;
    Ok(out)
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
fn is_flow(metric: Metric) -> bool {
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
    lake: &Lake,
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
                let start = crate::grid::bucket_start(from, grid.kind, fy);
                (start, crate::grid::next_start(start, grid.kind, fy))
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
fn mark_partial(
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

/// Warnings for sessions at sites sites.toml does not know.
fn unknown_site_warnings(
    lake: &Lake,
    sites: &Sites,
    grid: &Grid,
) -> Result<Vec<String>, MetricError> {
    // A month at a time: the site column of ten million sessions is big, its values few.
    let (a, b) = (grid.start_us(), grid.end_us());
    let mut names = std::collections::BTreeSet::new();
    for (_, part) in crate::load::scan_partitions(lake, Table::Sessions, (a, b), 0)? {
        let df = part
            .filter(
                col(s::START)
                    .gt_eq(utc_lit(a))
                    .and(col(s::START).lt(utc_lit(b))),
            )
            .select([col(s::SITE)])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        names.extend(
            strings(&df, s::SITE)?
                .into_iter()
                .flatten()
                .filter(|n| sites.site(n).is_none()),
        );
    }
    Ok(names
        .into_iter()
        .map(|n| fallback_warning(sites, &n))
        .collect())
}

pub(crate) fn fallback_warning(sites: &Sites, site: &str) -> String {
    format!(
        "site \"{site}\" is not in sites.toml: using time zone {}, the stations seen in the data and round-the-clock opening",
        sites.library.timezone
    )
}
