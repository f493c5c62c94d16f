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
pub use crate::request::{MetricError, Output, Request};

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
        .filter(|c| c != "bucket" && *c != now.value_column)
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
    let current = value(&now.frame)?;
    let (mut previous, mut change) = (Vec::new(), Vec::new());
    for (pos, v) in positions(&now.frame)?.into_iter().zip(current) {
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
    // A partition holds the rows whose time falls in its month: the first is in the
    // first partition, the last in the last; the months between need not be read.
    let parts = crate::load::scan_partitions(lake, table, (i64::MIN / 2, i64::MAX / 2), 0)?;
    let (Some((_, first)), Some((_, last))) = (parts.first(), parts.last()) else {
        return Ok(None);
    };
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
    let hi = bound(last, col(column).max())?;
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
    let every = if req.metric == Metric::Heatmap {
        BucketKind::Hour
    } else {
        req.every
    };
    let grid = Grid::new(
        req.from,
        req.to,
        every,
        sites.library.timezone,
        sites.library.fiscal_year_start_month,
    );
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
    Ok(out)
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
