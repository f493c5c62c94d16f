//! `tally query`: polars SQL over the lake's tables.

use polars::prelude::*;
use polars::sql::SQLContext;
use tally_lake::Snapshot;
use tally_model::Table;

use crate::base::load::{scan, scan_current};
use crate::base::request::MetricError;

/// Registers every table of the lake; returns their names.
pub fn register_tables(
    lake: &Snapshot,
    ctx: &mut SQLContext,
) -> Result<Vec<&'static str>, MetricError> {
    let mut names = Vec::new();
    // Every table, empty or not, so a query names the canonical columns either way.
    // Where the latest export wins, the table is the current state and `<table>_history`
    // has every exported version.
    for table in Table::ALL {
        ctx.register(table.name(), scan_current(lake, table)?);
        names.push(table.name());
        if table.current_key().is_some() {
            let history: &'static str = match table {
                Table::WorkOrders => "work_orders_history",
                Table::Assets => "assets_history",
                Table::Totals => "totals_history",
                Table::Peers => "peers_history",
                Table::Sessions | Table::Circulation | Table::Wifi | Table::Prints => {
                    unreachable!("event tables keep every row")
                }
            };
            ctx.register(history, scan(lake, table, None)?);
            names.push(history);
        }
    }
    Ok(names)
}

/// Runs one SQL statement over the lake.
pub fn query(lake: &Snapshot, sql: &str) -> Result<DataFrame, MetricError> {
    let mut ctx = SQLContext::new();
    let names = register_tables(lake, &mut ctx)?;
    ctx.execute(sql).and_then(|lf| lf.collect()).map_err(|e| {
        MetricError::Polars(PolarsError::ComputeError(
            format!("{e} (tables in this lake: {})", names.join(", ")).into(),
        ))
    })
}
