//! The dispatcher, at the top of the crate's layers: from a request (metric, period,
//! bucket, dimensions) to a table. It checks the request against the catalogue, sends it
//! to the engine that answers the metric (engines/: one per way of counting) or, for a
//! metric built from other metrics, to derived/ (which asks the engines, never this
//! dispatcher), then adds what every table carries: warnings about unknown sites and the
//! partial-bucket columns. Year over year is two answers set side by side.
//!
//! The layers: catalogue.rs and this file at the top; engines/ and derived/ below;
//! base/ (loads, the grid, spans and coverage, frames, the inventory, support cycles,
//! kept counts) at the bottom. Arrows point down only.

use std::collections::HashMap;

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::{Sites, Table};

use crate::base::frame::strings;
use crate::base::grid::for_request;
pub use crate::base::request::{MetricError, Output, PartialBucket, Request, Shape};
use crate::base::span::mark_partial;
pub use crate::base::span::{COVERAGE_COLUMNS, Coverage, coverage, data_range, lake_range};

/// `compute` plus `previous_year` (the same bucket a year earlier) and `change_pct`
/// ((this - previous) / previous x 100; empty when the previous is 0 or empty).
pub fn compute_yoy(lake: &Snapshot, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    let now = compute(lake, sites, req)?;
    let then = compute(lake, sites, &req.year_before()?)?;
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
    let earlier = req.year_before()?;
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

/// Whether each row's bucket is partial because the lake's data stops short of what
/// the period leaves of it (`days_covered` below the bucket's days in `req`'s grid), not
/// only because the period cuts it.
fn data_short(df: &DataFrame, req: &Request, sites: &Sites) -> Result<Vec<bool>, MetricError> {
    let in_period: HashMap<String, i64> = for_request(req, sites)
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

/// Answers one request: the metric's table, with its warnings and partial buckets.
pub fn compute(lake: &Snapshot, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    req.check()?;
    if let Some(out) = crate::answers::table(req) {
        return out;
    }
    let grid = for_request(req, sites);
    let m = req.metric;
    let mut out = if m.engine().is_derived() {
        crate::derived::answer(lake, sites, req)?
    } else {
        crate::engines::answer(lake, sites, req)?
    };
    if m.table() == Table::Sessions && !m.is_interval() {
        let mut w = crate::base::sites::unknown_site_warnings(lake, sites, &grid)?;
        w.append(&mut out.warnings);
        out.warnings = w;
    }
    mark_partial(&mut out, &grid, &coverage(lake, sites, m, &grid)?)?;
    Ok(out)
}

/// A request answered and shaped: the one path from a question to a metric's table.
pub fn ask(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
    shape: &Shape,
) -> Result<Output, MetricError> {
    let mut out = if shape.yoy {
        compute_yoy(lake, sites, req)?
    } else {
        compute(lake, sites, req)?
    };
    if let Some(n) = shape.top {
        out = out.top(n)?;
    }
    if shape.complete_only {
        out = out.complete_only()?;
    }
    Ok(out)
}
