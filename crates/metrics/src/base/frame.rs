//! A metric's table as columns: reading a frame's columns into plain vectors, and
//! [`assemble`], the one place a metric's rows are laid out (every group x every bucket,
//! in order; zeros where nothing happened; small cells suppressed).

use std::collections::BTreeSet;

use polars::prelude::*;
use tally_model::{Sites, Table};

use crate::base::grid::Grid;
use crate::base::request::{MetricError, Output};
use crate::catalogue::{Dim, Metric};

/// A datetime column as UTC microseconds (nulls as `i64::MIN`).
pub fn micros(df: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.iter().map(|v| v.unwrap_or(i64::MIN)).collect())
}

/// A date column as dates, nulls as `None`.
pub fn dates(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<chrono::NaiveDate>>> {
    let days = df.column(name)?.cast(&DataType::Int32)?;
    Ok(days
        .i32()?
        .iter()
        .map(|d| d.map(tally_model::calendar::date_of_days))
        .collect())
}

/// A string column, nulls as `None`.
pub fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Whether a cell of this breakdown is a count of patrons' doings small enough to single
/// one out, and so is suppressed below the minimum cell size.
pub fn suppressible(metric: Metric, dims: &[Dim]) -> bool {
    let patron_table = matches!(
        metric.table(),
        Table::Sessions | Table::Circulation | Table::Prints
    );
    match metric {
        Metric::DistinctUsers => !dims.is_empty(),
        _ => patron_table && dims.iter().any(|d| d.is_personal()),
    }
}

/// One row per group and bucket, in order; counts are 0 where nothing happened, other
/// values empty; small cells suppressed where the breakdown could single a patron out.
/// A value of NaN is "not known" (a purged bucket no kept count answers): empty.
pub fn assemble(
    sites: &Sites,
    metric: Metric,
    grid: &Grid,
    dims: &[Dim],
    mut groups: BTreeSet<Vec<String>>,
    value: impl Fn(&[String], usize) -> Option<f64>,
    integral: bool,
) -> Result<Output, MetricError> {
    if dims.is_empty() {
        groups.insert(Vec::new());
    }
    let min_cell = sites.library.min_cell_size as f64;
    let suppress = suppressible(metric, dims);
    let mut suppressed = 0usize;
    let mut out_keys: Vec<Vec<String>> = vec![Vec::new(); dims.len()];
    let mut labels = Vec::new();
    let mut ints: Vec<Option<i64>> = Vec::new();
    let mut floats: Vec<Option<f64>> = Vec::new();
    for key in &groups {
        for (b, bucket) in grid.buckets.iter().enumerate() {
            for (i, k) in key.iter().enumerate() {
                out_keys[i].push(k.clone());
            }
            labels.push(bucket.label.clone());
            let v = value(key, b);
            if v.is_some_and(f64::is_nan) {
                if integral {
                    ints.push(None);
                } else {
                    floats.push(None);
                }
                continue;
            }
            if integral {
                let v = v.unwrap_or(0.0);
                if suppress && v > 0.0 && v < min_cell {
                    suppressed += 1;
                    ints.push(None);
                } else {
                    ints.push(Some(v as i64));
                }
            } else {
                floats.push(v);
            }
        }
    }
    let mut warnings = Vec::new();
    if suppressed > 0 {
        warnings.push(format!(
            "{suppressed} cell(s) below the minimum cell size of {} are suppressed (shown empty) to protect privacy",
            sites.library.min_cell_size
        ));
    }
    let mut columns: Vec<Column> = dims
        .iter()
        .zip(out_keys)
        .map(|(d, v)| Column::new(d.column().into(), v))
        .collect();
    columns.push(Column::new("bucket".into(), labels));
    columns.push(if integral {
        Column::new(metric.name().into(), ints)
    } else {
        Column::new(metric.name().into(), floats)
    });
    Ok(Output {
        frame: DataFrame::new_infer_height(columns)?,
        value_column: metric.name().into(),
        warnings,
    })
}
