//! The lake's rows as metrics need them, through a [`Snapshot`] (tally-lake): scans
//! pruned to the partition months a period can reach, windows of months for bounded
//! memory, and the current state of the tables where the latest export wins.

use polars::prelude::*;
use tally_lake::{Snapshot, month_of_us};
use tally_model::{Table, tables};

use crate::base::request::MetricError;

/// How far before the period a row of an interval table (a session, a Wi-Fi connection)
/// may start and still overlap it: twice the longest session ingest believes.
const LOOKBACK_US: i64 = 2 * tally_model::MAX_SESSION_US;

/// The partition months (year*12 + month-1, inclusive) whose rows can fall in
/// [start_us - lookback, end_us).
fn months((start_us, end_us): (i64, i64)) -> (i32, i32) {
    (month_of_us(start_us - LOOKBACK_US), month_of_us(end_us))
}

/// A lazy scan of the rows of `table` whose partitions can hold rows in
/// [start_us - lookback, end_us), or of all of them.
pub fn scan(
    lake: &Snapshot,
    table: Table,
    range_us: Option<(i64, i64)>,
) -> Result<LazyFrame, MetricError> {
    Ok(lake.scan(table, range_us.map(months))?)
}

/// How much Parquet (compressed) a window of the sweep metrics reads at most, unless a
/// single month is larger: about a million sessions, a few hundred MB in memory. Their
/// fixed cost per window is a pass for the stations seen and a sweep per site.
pub const SWEEP_WINDOW_BYTES: u64 = 24 << 20;

/// As [`scan`] over [start_us, end_us), in windows of consecutive month partitions, in
/// time order, each with the first instant (UTC microseconds) its rows can have. A window
/// holds as many months as fit in `max_bytes` of Parquet, at least one (0: a month each).
pub fn scan_partitions(
    lake: &Snapshot,
    table: Table,
    range_us: (i64, i64),
    max_bytes: u64,
) -> Result<Vec<(i64, LazyFrame)>, MetricError> {
    Ok(lake.scan_windows(table, months(range_us), max_bytes)?)
}

/// The current rows of a table: for tables where the latest export wins, the row of the
/// latest batch (ledger commit order) per thing; for event tables, every row.
pub fn scan_current(lake: &Snapshot, table: Table) -> Result<LazyFrame, MetricError> {
    Ok(lake.scan_current(table)?)
}

pub fn utc_lit(t_us: i64) -> Expr {
    lit(t_us).cast(tables::utc_datetime())
}
