//! Lazy scans of the lake, pruned to the months of a period.

use polars::prelude::*;
use tally_model::tables;
use tally_model::{Lake, Table, month_of_us, month_start_us, partition_month};

use crate::request::MetricError;

/// The lake's ledger or files could not be read: the typed error, with the lake's path.
pub(crate) fn lake_io(lake: &Lake) -> impl Fn(std::io::Error) -> MetricError + '_ {
    move |source| MetricError::Lake {
        path: lake.root().to_path_buf(),
        source,
    }
}

/// How far before the period a row of an interval table (a session, a Wi-Fi connection)
/// may start and still overlap it: twice the longest session ingest believes.
const LOOKBACK_US: i64 = 2 * tally_model::MAX_SESSION_US;

/// A lazy scan of the committed Parquet files of `table` whose partitions can hold rows
/// in [start_us - lookback, end_us), or of all of them.
pub fn scan(
    lake: &Lake,
    table: Table,
    range_us: Option<(i64, i64)>,
) -> Result<LazyFrame, MetricError> {
    let months = range_us.map(|(a, b)| (month_of_us(a - LOOKBACK_US), month_of_us(b)));
    let files = lake.parquet_files(table, months).map_err(lake_io(lake))?;
    if files.is_empty() {
        return Ok(DataFrame::empty_with_schema(&table.schema()).lazy());
    }
    let paths: Vec<PlRefPath> = files
        .iter()
        .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
        .collect();
    Ok(LazyFrame::scan_parquet_sources(
        ScanSources::Paths(paths.into_iter().collect()),
        parquet_args(),
    )?)
}

/// How much Parquet (compressed) a window of the sweep metrics reads at most, unless a
/// single month is larger: about a million sessions, a few hundred MB in memory. Their
/// fixed cost per window is a pass for the stations seen and a sweep per site.
pub const SWEEP_WINDOW_BYTES: u64 = 24 << 20;

/// As [`scan`] over [start_us, end_us), in windows of consecutive month partitions, in
/// time order, each with the first instant (UTC microseconds) its rows can have (a
/// partition holds the rows whose time column falls in its UTC month). A window holds
/// as many months as fit in `max_bytes` of Parquet, at least one (0: a month each).
pub fn scan_partitions(
    lake: &Lake,
    table: Table,
    (start_us, end_us): (i64, i64),
    max_bytes: u64,
) -> Result<Vec<(i64, LazyFrame)>, MetricError> {
    let months = (month_of_us(start_us - LOOKBACK_US), month_of_us(end_us));
    let files = lake
        .parquet_files(table, Some(months))
        .map_err(lake_io(lake))?;
    let mut by_month: std::collections::BTreeMap<i64, (u64, Vec<PlRefPath>)> = Default::default();
    for f in &files {
        let rel = f.strip_prefix(lake.root()).unwrap_or(f).to_string_lossy();
        let start = partition_month(&rel).map_or(i64::MIN, month_start_us);
        let entry = by_month.entry(start).or_default();
        entry.0 += std::fs::metadata(f).map_or(0, |m| m.len());
        entry.1.push(PlRefPath::new(f.to_string_lossy().as_ref()));
    }
    let mut windows: Vec<(i64, u64, Vec<PlRefPath>)> = Vec::new();
    for (start, (bytes, paths)) in by_month {
        match windows.last_mut() {
            Some(w) if w.1 + bytes <= max_bytes => {
                w.1 += bytes;
                w.2.extend(paths);
            }
            _ => windows.push((start, bytes, paths)),
        }
    }
    windows
        .into_iter()
        .map(|(start, _, paths)| {
            Ok((
                start,
                LazyFrame::scan_parquet_sources(
                    ScanSources::Paths(paths.into_iter().collect()),
                    parquet_args(),
                )?,
            ))
        })
        .collect()
}

/// Scans of the first and the last month partition of `table` (the rows with the
/// earliest and the latest times), from one read of the ledger and no file metadata;
/// `None` when the table has no rows.
pub fn first_and_last_partitions(
    lake: &Lake,
    table: Table,
) -> Result<Option<(LazyFrame, LazyFrame)>, MetricError> {
    let files = lake.parquet_files(table, None).map_err(lake_io(lake))?;
    let month = |f: &std::path::PathBuf| {
        partition_month(&f.strip_prefix(lake.root()).unwrap_or(f).to_string_lossy())
    };
    let (Some(lo), Some(hi)) = (
        files.iter().filter_map(month).min(),
        files.iter().filter_map(month).max(),
    ) else {
        return Ok(None);
    };
    let scan = |m: i32| -> Result<LazyFrame, MetricError> {
        let paths: Vec<PlRefPath> = files
            .iter()
            .filter(|f| month(f) == Some(m))
            .map(|f| PlRefPath::new(f.to_string_lossy().as_ref()))
            .collect();
        Ok(LazyFrame::scan_parquet_sources(
            ScanSources::Paths(paths.into_iter().collect()),
            parquet_args(),
        )?)
    };
    Ok(Some((scan(lo)?, scan(hi)?)))
}

fn parquet_args() -> ScanArgsParquet {
    // The ledger names the files; the partition folders are not read as columns, so the
    // scan has exactly the canonical columns.
    ScanArgsParquet {
        glob: false,
        hive_options: HiveOptions {
            enabled: Some(false),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The current rows of a table: for tables where the latest export wins, the row of the
/// latest batch (ledger commit order) per thing; for event tables, every row.
pub fn scan_current(lake: &Lake, table: Table) -> Result<LazyFrame, MetricError> {
    let all = scan(lake, table, None)?;
    let Some(key) = table.current_key() else {
        return Ok(all);
    };
    let ledger = lake.read_ledger().map_err(lake_io(lake))?;
    let order = df!(
        "batch" => ledger.iter().map(|e| e.batch.clone()).collect::<Vec<_>>(),
        "__seq" => ledger.iter().map(|e| e.seq).collect::<Vec<_>>(),
    )?;
    let keys: Vec<Expr> = key.iter().map(|k| col(*k)).collect();
    Ok(all
        .join(
            order.lazy(),
            [col("batch")],
            [col("batch")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(
            ["__seq"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .unique_stable_generic(Some(keys), UniqueKeepStrategy::Last)
        .drop(Selector::ByName {
            names: ["__seq".into()].into(),
            strict: true,
        }))
}

pub fn utc_lit(t_us: i64) -> Expr {
    lit(t_us).cast(tables::utc_datetime())
}

/// A datetime column as UTC microseconds.
pub fn micros(df: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.iter().map(|v| v.unwrap_or(i64::MIN)).collect())
}

/// A date column as dates, nulls as `None`.
pub fn dates(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<chrono::NaiveDate>>> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let days = df.column(name)?.cast(&DataType::Int32)?;
    Ok(days
        .i32()?
        .iter()
        .map(|d| d.map(|d| epoch + chrono::Duration::days(i64::from(d))))
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
