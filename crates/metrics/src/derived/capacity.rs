//! Minutes at capacity per week: the turn-away signal, put per week.

use std::collections::HashMap;

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::frame::strings;
use crate::base::grid::Grid;
use crate::base::request::{MetricError, Output};
use crate::catalogue::{Dim, Metric};

/// Minutes at capacity per week of each bucket: time at capacity over the bucket's local
/// days / 7. The one place the turn-away signal is put per week (station advice and the
/// usage report read it).
pub fn capacity_per_week(
    lake: &Snapshot,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let mut out =
        crate::engines::intervals::intervals(lake, sites, Metric::TimeAtCapacity, grid, dims)?;
    let weeks: HashMap<&str, f64> = grid
        .buckets
        .iter()
        .map(|b| {
            let days = ((b.end_us - b.start_us) as f64 / 86_400_000_000.0).round();
            (b.label.as_str(), days / 7.0)
        })
        .collect();
    let labels = strings(&out.frame, "bucket")?;
    let minutes: Vec<Option<f64>> = out
        .frame
        .column("time_at_capacity")?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect();
    let per_week: Vec<Option<f64>> = labels
        .iter()
        .zip(minutes)
        .map(|(l, m)| {
            let w = l.as_deref().and_then(|l| weeks.get(l)).copied()?;
            m.filter(|_| w > 0.0).map(|m| m / w)
        })
        .collect();
    out.frame = out.frame.drop("time_at_capacity")?;
    out.frame.with_column(Column::new(
        Metric::CapacityMinutesPerWeek.name().into(),
        per_week,
    ))?;
    out.value_column = Metric::CapacityMinutesPerWeek.name().into();
    Ok(out)
}
