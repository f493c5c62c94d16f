//! `tally purge`: retention (docs/privacy.md).
//!
//! A purge clears the pseudonyms (`patron_key`, `item_key`, `device_key`) of every row
//! whose partition time is before the purge instant, and deletes quarantine files older
//! than the retention's `quarantine_days`.
//!
//! The rows it clears lose the keys that told records apart, so they are re-keyed by
//! their content with multiplicity, as ingest keys the rows of a purged period that
//! arrive later (tally-ingest's chunks do the same): within a month, in commit order,
//! the `n`-th row with the same cleared content gets `nth(row_key(source, cells), n)`.
//! An export ingested again after the purge then adds nothing.
//!
//! The purge is one atomic change, like an upgrade: the rewritten partition files and the
//! distinct counts kept for the purged periods are staged under `_staging/purge/` and
//! fsynced, `plan.json` (with the lake's new `_lake.json`) is the commit point, and the
//! renames follow. A kill before the plan leaves the lake as it was; one after it is
//! finished by the next writer. Readers refuse the lake while a plan is pending.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;
use tally_model::Table;

use crate::change::{Plan, commit};
use crate::error::{LakeError, io, parquet};
use crate::kept::{KeptCount, write_kept_counts};
use crate::keys::{Cell, Layout, is_pseudonym, nth, row_key};
use crate::layout::{Lake, Purged, month_start_us};
use crate::ledger::{LedgerEntry, Snapshot};
use crate::read::write_parquet;
use crate::writer::LakeWriter;

/// What a purge did, or would do (`dry_run`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PurgeReport {
    pub lake: String,
    /// Keys are cleared from rows before this local date (in the library's zone).
    pub before: Option<NaiveDate>,
    /// The date of the lake's earlier purge, if any.
    pub previous: Option<NaiveDate>,
    /// Parquet files rewritten (or to rewrite).
    pub files: usize,
    /// Rows whose keys were cleared by this purge.
    pub rows_cleared: u64,
    /// Per table, rows whose keys were cleared.
    pub tables: BTreeMap<String, u64>,
    /// Distinct counts kept for purged buckets (after the purge, all purges together).
    pub kept_counts: usize,
    /// Quarantine files deleted (or to delete): those written before this date.
    pub quarantine_before: Option<NaiveDate>,
    pub quarantine_deleted: Vec<String>,
    pub dry_run: bool,
}

/// What to purge.
pub struct PurgeRequest {
    /// Clear keys before this point (None: rows are not touched).
    pub rows_before: Option<Purged>,
    /// Delete quarantine files last written before this date (None: keep them).
    pub quarantine_before: Option<NaiveDate>,
    pub dry_run: bool,
    pub wait: Duration,
}

/// Purges the lake. `kept` computes the distinct counts the purge must keep (tally's
/// metrics do: see `tally_metrics::kept_counts`); it is called with the lake's lock held,
/// so no ingest lands between the counts and the rewrite.
pub fn purge<E: std::fmt::Display>(
    lake: &Lake,
    request: &PurgeRequest,
    kept: impl FnOnce() -> Result<Vec<KeptCount>, E>,
) -> Result<PurgeReport, LakeError> {
    let writer = LakeWriter::open(lake, request.wait)?;
    let meta = writer.meta()?;
    let previous = meta.purged.clone();
    let mut report = PurgeReport {
        lake: lake.root().display().to_string(),
        before: request.rows_before.as_ref().map(|p| p.before),
        previous: previous.as_ref().map(|p| p.before),
        quarantine_before: request.quarantine_before,
        dry_run: request.dry_run,
        ..PurgeReport::default()
    };
    let entries = writer.entries()?;
    let snapshot = Snapshot::of(lake, entries.clone());
    let new = request
        .rows_before
        .as_ref()
        .filter(|p| previous.as_ref().is_none_or(|q| p.before_us > q.before_us));
    if let Some(purged) = new {
        let counts = kept().map_err(|e| LakeError::Purge {
            lake: lake.root().into(),
            message: e.to_string(),
        })?;
        report.kept_counts = counts.len();
        let dir = lake.change_dir("purge");
        if !request.dry_run {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        let mut plan = Plan::default();
        for table in Table::ALL {
            if !Layout::of(table).has_keys() {
                continue;
            }
            let cleared = purge_table(
                &snapshot,
                table,
                purged.before_us,
                previous.as_ref().map(|p| p.before_us),
                (!request.dry_run).then_some(dir.as_path()),
                &mut plan,
                &mut report,
            )?;
            report.rows_cleared += cleared;
            report.tables.insert(table.name().to_string(), cleared);
        }
        if !request.dry_run {
            let staged = dir.join("distinct.parquet");
            write_kept_counts(&staged, &counts)?;
            let rel = lake
                .kept_path()
                .strip_prefix(lake.root())
                .expect("in the lake")
                .to_string_lossy()
                .into_owned();
            plan.moves.push((staged, rel));
            let mut meta = meta.clone();
            meta.purged = Some(purged.clone());
            plan.meta = Some(meta);
            // The commit point: from here a kill is finished by the next writer.
            commit(lake, "purge", &plan)?;
        }
    }
    if let Some(cutoff) = request.quarantine_before {
        delete_quarantine(&writer, &entries, cutoff, &mut report)?;
    }
    Ok(report)
}

/// Deletes the quarantine files last written before `cutoff`: each ledger entry is
/// rewritten first (its counts and reasons stay, with the date of the deletion), so a
/// kill leaves at worst a file no entry names, which the next writer deletes.
fn delete_quarantine(
    writer: &LakeWriter,
    entries: &[LedgerEntry],
    cutoff: NaiveDate,
    report: &mut PurgeReport,
) -> Result<(), LakeError> {
    let lake = writer.lake();
    let today = chrono::Utc::now().date_naive();
    for entry in entries {
        let Some(rel) = &entry.quarantine else {
            continue;
        };
        let path = lake.root().join(rel);
        let written = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(io(&path))?;
        let written = chrono::DateTime::<chrono::Utc>::from(written).date_naive();
        if written >= cutoff {
            continue;
        }
        report.quarantine_deleted.push(rel.clone());
        if report.dry_run {
            continue;
        }
        let mut entry = entry.clone();
        entry.quarantine = None;
        entry.quarantine_deleted = Some(today);
        writer.rewrite_entry(&entry)?;
        std::fs::remove_file(&path).map_err(io(&path))?;
    }
    Ok(())
}

/// One column of a partition file, read for the cells of its rows.
enum View<'a> {
    /// A pseudonym: cleared.
    Cleared,
    Str(Vec<Option<&'a str>>),
    /// UTC microseconds.
    Time(Vec<Option<i64>>),
    Int(Vec<Option<i64>>),
    Date(Vec<Option<i32>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

impl<'a> View<'a> {
    fn of(df: &'a DataFrame, name: &str, dtype: &DataType) -> PolarsResult<View<'a>> {
        if is_pseudonym(name) {
            return Ok(View::Cleared);
        }
        let c = df.column(name)?;
        Ok(match dtype {
            DataType::String => View::Str(c.str()?.iter().collect()),
            DataType::Datetime(..) => View::Time(c.cast(&DataType::Int64)?.i64()?.iter().collect()),
            DataType::Date => View::Date(c.cast(&DataType::Int32)?.i32()?.iter().collect()),
            DataType::Int64 => View::Int(c.i64()?.iter().collect()),
            DataType::Float64 => View::Float(c.f64()?.iter().collect()),
            DataType::Boolean => View::Bool(c.bool()?.iter().collect()),
            other => polars_bail!(ComputeError: "column {name}: unexpected type {other}"),
        })
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        match self {
            View::Cleared => Cell::Null,
            View::Str(v) => v[i].map_or(Cell::Null, Cell::Str),
            View::Time(v) => v[i].map_or(Cell::Null, Cell::Time),
            View::Int(v) => v[i].map_or(Cell::Null, Cell::Int),
            View::Date(v) => v[i].map_or(Cell::Null, Cell::Date),
            View::Float(v) => v[i].map_or(Cell::Null, Cell::Float),
            View::Bool(v) => v[i].map_or(Cell::Null, Cell::Bool),
        }
    }
}

/// Purges one table's months that hold rows before `before_us` and after the previous
/// purge; returns the rows whose keys it cleared. Stages rewritten files in `stage`
/// (None: a dry run).
#[allow(clippy::too_many_arguments)]
fn purge_table(
    snapshot: &Snapshot,
    table: Table,
    before_us: i64,
    previous_us: Option<i64>,
    stage: Option<&Path>,
    plan: &mut Plan,
    report: &mut PurgeReport,
) -> Result<u64, LakeError> {
    // Files per partition month, in commit order.
    let months: BTreeMap<i32, Vec<&str>> = snapshot.files_by_month(table);
    let layout = Layout::of(table);
    let time_column = table.partition_column();
    let key_columns: Vec<&PlSmallStr> = layout.names().iter().filter(|n| is_pseudonym(n)).collect();
    let mut cleared = 0u64;
    for (month, files) in months {
        let (start, end) = (month_start_us(month), month_start_us(month + 1));
        if start >= before_us || previous_us.is_some_and(|p| end <= p) {
            continue;
        }
        // Copies so far of each cleared content in this month.
        let mut copies: HashMap<u64, u64> = HashMap::new();
        for rel in files {
            let path = snapshot.root().join(rel);
            let parquet = parquet(&path);
            let mut df = snapshot.read_file(rel, None)?;
            let n = df.height();
            let times: Vec<Option<i64>> = df
                .column(time_column)
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(&parquet)?
                .i64()
                .map_err(&parquet)?
                .iter()
                .collect();
            let purged: Vec<bool> = times
                .iter()
                .map(|t| t.is_some_and(|t| t < before_us))
                .collect();
            if !purged.iter().any(|p| *p) {
                continue;
            }
            let views: Vec<View> = layout
                .names()
                .iter()
                .zip(layout.dtypes())
                .map(|(name, dtype)| View::of(&df, name, dtype))
                .collect::<PolarsResult<_>>()
                .map_err(&parquet)?;
            let sources: Vec<Option<&str>> = df
                .column("source")
                .and_then(|c| c.str())
                .map_err(&parquet)?
                .iter()
                .collect();
            let mut row_keys: Vec<u64> = df
                .column("row_key")
                .and_then(|c| c.u64().cloned())
                .map_err(&parquet)?
                .iter()
                .map(|k| k.unwrap_or_default())
                .collect();
            let key_values: Vec<Vec<Option<i64>>> = key_columns
                .iter()
                .map(|name| {
                    df.column(name)
                        .and_then(|c| c.i64().cloned())
                        .map(|c| c.iter().collect())
                })
                .collect::<PolarsResult<_>>()
                .map_err(&parquet)?;
            let mut changed = false;
            let mut cells = Vec::with_capacity(views.len());
            for i in (0..n).filter(|&i| purged[i]) {
                if key_values.iter().any(|k| k[i].is_some()) {
                    cleared += 1;
                    changed = true;
                }
                cells.clear();
                cells.extend(views.iter().map(|v| v.cell(i)));
                let base = row_key(sources[i].unwrap_or_default(), &cells);
                let copy = copies.entry(base).or_insert(0);
                let key = nth(base, *copy);
                *copy += 1;
                if row_keys[i] != key {
                    row_keys[i] = key;
                    changed = true;
                }
            }
            if !changed {
                continue;
            }
            report.files += 1;
            let Some(dir) = stage else {
                continue;
            };
            for (name, values) in key_columns.iter().zip(&key_values) {
                let masked: Int64Chunked = values
                    .iter()
                    .zip(&purged)
                    .map(|(v, p)| if *p { None } else { *v })
                    .collect();
                df.with_column(masked.with_name((*name).clone()).into_column())
                    .map_err(&parquet)?;
            }
            df.with_column(UInt64Chunked::from_vec("row_key".into(), row_keys).into_column())
                .map_err(&parquet)?;
            let staged = dir.join(rel.replace('/', "_"));
            write_parquet(&staged, &mut df)?;
            plan.moves.push((staged, rel.to_string()));
        }
    }
    Ok(cleared)
}
