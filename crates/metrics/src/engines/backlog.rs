//! The ticket backlog: tickets open at each bucket's end.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::{Sites, Table};

use crate::base::frame::{assemble, micros, strings};
use crate::base::grid::Grid;
use crate::base::load::scan_current;
use crate::base::request::{MetricError, Output};
use crate::catalogue::{Dim, Metric};

/// Tickets open at each bucket's end: opened before it, not resolved by it, not
/// cancelled. Each ticket adds one to the buckets whose end falls in (opened, resolved].
pub fn backlog(
    lake: &Snapshot,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let mut select: Vec<Expr> = dims
        .iter()
        .map(|d| col(d.column()).fill_null(lit("(none)")).alias(d.column()))
        .collect();
    select.extend([col("opened"), col("resolved")]);
    let df = scan_current(lake, Table::WorkOrders)?
        .filter(col("status").neq(lit("cancelled")))
        .select(select)
        .collect()?;
    let opened = micros(&df, "opened")?;
    let resolved = micros(&df, "resolved")?;
    let key_cols: Vec<Vec<Option<String>>> = dims
        .iter()
        .map(|d| strings(&df, d.column()))
        .collect::<Result<_, _>>()?;
    let n = grid.buckets.len();
    let ends: Vec<i64> = grid.buckets.iter().map(|b| b.end_us).collect();
    let mut diffs: HashMap<Vec<String>, Vec<i64>> = HashMap::new();
    for row in 0..df.height() {
        let key: Vec<String> = key_cols
            .iter()
            .map(|c| c[row].clone().unwrap_or_default())
            .collect();
        // First bucket whose end is after the opening; first whose end is after the resolution.
        let from = ends.partition_point(|&e| e <= opened[row]);
        let to = if resolved[row] == i64::MIN {
            n
        } else {
            ends.partition_point(|&e| e <= resolved[row]).min(n)
        };
        if from < to {
            let d = diffs.entry(key).or_insert_with(|| vec![0; n + 1]);
            d[from] += 1;
            d[to] -= 1;
        }
    }
    let mut cells: HashMap<(Vec<String>, usize), f64> = HashMap::new();
    let mut groups = BTreeSet::new();
    for (key, d) in diffs {
        let mut running = 0;
        for (b, delta) in d.iter().take(n).enumerate() {
            running += delta;
            cells.insert((key.clone(), b), running as f64);
        }
        groups.insert(key);
    }
    assemble(
        sites,
        Metric::Backlog,
        grid,
        dims,
        groups,
        |key, b| cells.get(&(key.to_vec(), b)).copied(),
        true,
    )
}
