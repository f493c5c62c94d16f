//! Running totals: a metric's cells added up over the period's buckets, in order, per
//! group (the cumulative cost of a five-year replacement plan).

use std::collections::HashMap;

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::frame::strings;
use crate::base::request::{MetricError, Output, Request};
use crate::catalogue::Metric;
use crate::engines::answer;

/// The metric a running total adds up.
fn of(metric: Metric) -> Metric {
    match metric {
        Metric::ReplacementCostCumulative => Metric::ReplacementCost,
        other => unreachable!("{} is not a running total", other.name()),
    }
}

/// The cells of the metric it adds up, each replaced by its sum with every earlier
/// bucket's of the same group (an empty cell adds nothing).
pub fn cumulative(lake: &Snapshot, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    let base = of(req.metric);
    let out = answer(
        lake,
        sites,
        &Request {
            metric: base,
            ..req.clone()
        },
    )?;
    let df = &out.frame;
    let dims: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .filter(|c| c != "bucket" && *c != base.name())
        .collect();
    let keys: Vec<Vec<Option<String>>> = dims
        .iter()
        .map(|d| strings(df, d))
        .collect::<Result<_, _>>()?;
    let values: Vec<Option<f64>> = df
        .column(base.name())?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect();
    // Rows come group by group, buckets in order: a running sum per group.
    let mut running: HashMap<Vec<Option<String>>, f64> = HashMap::new();
    let totals: Vec<f64> = (0..df.height())
        .map(|i| {
            let key: Vec<Option<String>> = keys.iter().map(|k| k[i].clone()).collect();
            let total = running.entry(key).or_default();
            *total += values[i].unwrap_or(0.0);
            *total
        })
        .collect();
    let mut frame = df.drop(base.name())?;
    frame.with_column(Column::new(req.metric.name().into(), totals))?;
    Ok(Output {
        frame,
        value_column: req.metric.name().into(),
        warnings: out.warnings,
    })
}
