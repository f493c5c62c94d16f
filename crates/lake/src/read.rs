//! Every read of the lake's rows, from a [`Snapshot`]: lazy scans of the files its
//! ledger names, pruned to partition months; windows of months for bounded memory; the
//! current state of the tables where the latest export wins; one file's row keys. And
//! the one way tally writes a whole Parquet file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use tally_model::Table;

use crate::error::{LakeError, io, parquet};
use crate::layout::{Lake, month_start_us, partition_month};
use crate::ledger::Snapshot;

/// How tally compresses the lake's Parquet files.
pub const COMPRESSION: ParquetCompression = ParquetCompression::Zstd(None);

/// Writes `df` as a whole Parquet file at `path` (tally's compression) and fsyncs it.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), LakeError> {
    let mut out = std::fs::File::create(path).map_err(io(path))?;
    ParquetWriter::new(&mut out)
        .with_compression(COMPRESSION)
        .finish(df)
        .map_err(parquet(path))?;
    out.sync_all().map_err(io(path))
}

fn scan_args() -> ScanArgsParquet {
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

/// A lazy scan of exactly these files; of none, an empty frame of `table`'s columns.
fn scan_paths(table: Table, paths: &[PathBuf]) -> Result<LazyFrame, LakeError> {
    if paths.is_empty() {
        return Ok(DataFrame::empty_with_schema(&table.schema()).lazy());
    }
    let sources: Vec<PlRefPath> = paths
        .iter()
        .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
        .collect();
    LazyFrame::scan_parquet_sources(
        ScanSources::Paths(sources.into_iter().collect()),
        scan_args(),
    )
    .map_err(parquet(&paths[0]))
}

impl Snapshot {
    /// A lazy scan of the rows of `table` in the partition months `months` (inclusive, as
    /// year*12 + month-1), or of all of them.
    pub fn scan(&self, table: Table, months: Option<(i32, i32)>) -> Result<LazyFrame, LakeError> {
        scan_paths(table, &self.files(table, months))
    }

    /// As [`Snapshot::scan`], in windows of consecutive month partitions, in time order,
    /// each with the first instant (UTC microseconds) its rows can have (a partition holds
    /// the rows whose time column falls in its UTC month). A window holds as many months
    /// as fit in `max_bytes` of Parquet, at least one (0: a month each).
    pub fn scan_windows(
        &self,
        table: Table,
        months: (i32, i32),
        max_bytes: u64,
    ) -> Result<Vec<(i64, LazyFrame)>, LakeError> {
        let mut by_month: BTreeMap<i64, (u64, Vec<PathBuf>)> = BTreeMap::new();
        for rel in self.rel_files(table, Some(months)) {
            let start = partition_month(rel).map_or(i64::MIN, month_start_us);
            let path = self.root().join(rel);
            let entry = by_month.entry(start).or_default();
            entry.0 += std::fs::metadata(&path).map_or(0, |m| m.len());
            entry.1.push(path);
        }
        let mut windows: Vec<(i64, u64, Vec<PathBuf>)> = Vec::new();
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
            .map(|(start, _, mut paths)| {
                paths.sort();
                Ok((start, scan_paths(table, &paths)?))
            })
            .collect()
    }

    /// Scans of the first and the last month partition of `table` (the rows with the
    /// earliest and the latest times), with no file read but the ledger's; `None` when
    /// the table has no rows.
    pub fn first_and_last(
        &self,
        table: Table,
    ) -> Result<Option<(LazyFrame, LazyFrame)>, LakeError> {
        let months = self.files_by_month(table);
        let (Some(lo), Some(hi)) = (months.keys().next(), months.keys().next_back()) else {
            return Ok(None);
        };
        let scan = |m: &i32| {
            let mut paths: Vec<PathBuf> = months[m].iter().map(|r| self.root().join(r)).collect();
            paths.sort();
            scan_paths(table, &paths)
        };
        Ok(Some((scan(lo)?, scan(hi)?)))
    }

    /// The current rows of a table: where the latest export wins (tickets, assets,
    /// totals), the row of the latest batch (ledger commit order) per thing; for event
    /// tables, every row.
    pub fn scan_current(&self, table: Table) -> Result<LazyFrame, LakeError> {
        let all = self.scan(table, None)?;
        let Some(key) = table.current_key() else {
            return Ok(all);
        };
        let order = self.batch_order();
        let err = parquet(self.root());
        let order = df!(
            "batch" => order.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
            "__seq" => order.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        )
        .map_err(&err)?;
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

    /// One committed file (a path a ledger entry names), whole or only `columns`.
    pub fn read_file(&self, rel: &str, columns: Option<&[&str]>) -> Result<DataFrame, LakeError> {
        self.lake().read_file(rel, columns)
    }
}

impl Lake {
    /// One file of the lake (a path relative to its root that a ledger entry names),
    /// whole or only `columns`.
    pub fn read_file(&self, rel: &str, columns: Option<&[&str]>) -> Result<DataFrame, LakeError> {
        read_file(&self.root().join(rel), columns)
    }

    /// The row keys of one committed file (a path a ledger entry names).
    pub fn row_keys(&self, rel: &str) -> Result<UInt64Chunked, LakeError> {
        let path = self.root().join(rel);
        let df = read_file(&path, Some(&["row_key"]))?;
        df.column("row_key")
            .and_then(|c| c.u64().cloned())
            .map_err(parquet(&path))
    }
}

/// A Parquet file of the lake, whole or only `columns`.
pub(crate) fn read_file(path: &Path, columns: Option<&[&str]>) -> Result<DataFrame, LakeError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    ParquetReader::new(file)
        .with_columns(columns.map(|c| c.iter().map(|s| (*s).into()).collect()))
        .finish()
        .map_err(parquet(path))
}

/// The column names of a Parquet file, from its footer.
pub(crate) fn file_columns(path: &Path) -> Result<Vec<String>, LakeError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let schema = ParquetReader::new(file).schema().map_err(parquet(path))?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}
