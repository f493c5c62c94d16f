//! Keeping a lake: `tally lake upgrade` (an older format to this tally's, in place and
//! atomically) and `tally lake check` (the ledger against the files).
//!
//! An upgrade writes every converted file under `_staging/upgrade/` first, fsyncs it,
//! then writes `plan.json` (the commit point), renames the files over the old ones and
//! writes `_lake.json` last. A kill before `plan.json` leaves the old lake (the next
//! writer deletes the staging); a kill after it is finished by the next writer or reader
//! that opens the lake for writing ([`finish_interrupted_changes`]). Readers refuse the
//! lake until `_lake.json` says the new format, so none sees half of it.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use tally_model::{LAKE_FORMAT, Lake, LakeMeta, Table};

use crate::IngestError;
use crate::error::io;
use crate::rows::is_pseudonym;
use crate::writer::LakeWriter;

/// What an upgrade did, or would do (`dry_run`).
#[derive(Debug, Clone, Serialize)]
pub struct UpgradeReport {
    pub lake: String,
    pub from_format: u32,
    pub to_format: u32,
    /// Parquet files rewritten (or to rewrite).
    pub files: usize,
    pub rows: u64,
    /// What changes, for people.
    pub changes: Vec<String>,
    pub dry_run: bool,
}

/// The plan of a change that stages its files (`upgrade`, `purge`), written when every
/// file is staged: its commit point.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Plan {
    /// The format an upgrade writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_format: Option<u32>,
    /// The lake's metadata once the change is applied (a purge's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<LakeMeta>,
    /// (staged file, final path relative to the lake root).
    pub moves: Vec<(PathBuf, String)>,
}

/// Finishes a change (upgrade or purge) a kill interrupted after its commit point, or
/// drops one that was interrupted before it. Called with the lake's lock held.
pub(crate) fn finish_interrupted_changes(lake: &Lake) -> Result<(), IngestError> {
    for change in tally_model::PENDING_CHANGES {
        let dir = lake.change_dir(change);
        let plan_path = dir.join("plan.json");
        if plan_path.exists() {
            let bytes = std::fs::read(&plan_path).map_err(io(&plan_path))?;
            let plan: Plan = serde_json::from_slice(&bytes).map_err(|e| IngestError::Io {
                path: plan_path.clone(),
                source: std::io::Error::other(e),
            })?;
            tracing::warn!(lake = %lake.root().display(), change, "finishing an interrupted change of the lake");
            apply(lake, change, &plan)?;
        } else if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
    }
    Ok(())
}

/// Writes `plan.json` (temp, fsync, rename, fsync of the folder): the commit point, from
/// which a kill is finished by the next writer. Then applies it.
pub(crate) fn commit(lake: &Lake, change: &str, plan: &Plan) -> Result<(), IngestError> {
    let dir = lake.change_dir(change);
    let plan_path = dir.join("plan.json");
    let tmp = dir.join("plan.json.tmp");
    let json = serde_json::to_vec_pretty(plan).expect("the plan serialises");
    std::fs::write(&tmp, json).map_err(io(&tmp))?;
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, &plan_path).map_err(io(&plan_path))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io(&dir))?;
    apply(lake, change, plan)
}

/// Renames the staged files into place (those not moved yet), writes the new metadata,
/// and removes the staging folder.
fn apply(lake: &Lake, change: &str, plan: &Plan) -> Result<(), IngestError> {
    for (staged, rel) in &plan.moves {
        let dest = lake.root().join(rel);
        if staged.exists() {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::rename(staged, &dest).map_err(io(&dest))?;
            if let Some(parent) = dest.parent() {
                File::open(parent)
                    .and_then(|d| d.sync_all())
                    .map_err(io(parent))?;
            }
        }
    }
    let mut meta = match &plan.meta {
        Some(meta) => meta.clone(),
        None => lake.meta().map_err(io(lake.root()))?.unwrap_or_default(),
    };
    if let Some(format) = plan.to_format {
        meta.format = format;
    }
    lake.write_meta(&meta).map_err(io(lake.root()))?;
    let dir = lake.change_dir(change);
    std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    let _ = std::fs::remove_dir(lake.staging_dir());
    Ok(())
}

/// Writes `df` as a staged Parquet file (zstd, as ingest writes) and fsyncs it.
pub(crate) fn write_staged(staged: &Path, df: &mut DataFrame) -> Result<(), IngestError> {
    let mut out = File::create(staged).map_err(io(staged))?;
    ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)
        .map_err(|source| IngestError::Parquet {
            path: staged.to_path_buf(),
            source,
        })?;
    out.sync_all().map_err(io(staged))
}

/// A format-1 pseudonym (32 hex digits) as the format-2 number: its first 16 digits,
/// as a signed 64-bit number. The same number an ingest makes now for that identifier.
fn hex_to_key(s: &str) -> Option<i64> {
    let head = s.get(..16)?;
    u64::from_str_radix(head, 16).ok().map(|v| v as i64)
}

/// One Parquet file of the lake in the current layout: pseudonyms as numbers, columns a
/// later layout added as nulls, in the schema's order.
fn convert(df: DataFrame, table: Table, path: &Path) -> Result<DataFrame, IngestError> {
    let bad = |message: String| IngestError::Malformed {
        path: path.to_path_buf(),
        line: 0,
        message,
    };
    let n = df.height();
    let schema = table.schema();
    let mut columns = Vec::with_capacity(schema.len());
    for (name, dtype) in schema.iter() {
        let column = match df.column(name) {
            // Assets written before format 3 are all the inventory's.
            Err(_) if table == Table::Assets && name.as_str() == "origin" => Column::new(
                name.clone(),
                vec![tally_model::tables::assets::INVENTORY; n],
            ),
            Err(_) => Column::full_null(name.clone(), n, dtype),
            Ok(c) if is_pseudonym(name) && c.dtype() == &DataType::String => {
                let values: Vec<Option<i64>> = c
                    .str()
                    .map_err(|e| bad(e.to_string()))?
                    .iter()
                    .map(|v| match v {
                        None => Ok(None),
                        Some(s) => hex_to_key(s)
                            .map(Some)
                            .ok_or_else(|| bad(format!("{name}: {s:?} is not a pseudonym"))),
                    })
                    .collect::<Result<_, _>>()?;
                Column::new(name.clone(), values)
            }
            Ok(c) => c.cast(dtype).map_err(|e| bad(format!("{name}: {e}")))?,
        };
        columns.push(column);
    }
    DataFrame::new(n, columns).map_err(|e| bad(e.to_string()))
}

/// Upgrades the lake to this tally's format, in place. With `dry_run`, only says what it
/// would do. A lake already in this format is left as it is.
pub fn upgrade(
    lake: &Lake,
    dry_run: bool,
    wait: std::time::Duration,
) -> Result<UpgradeReport, IngestError> {
    let _writer = LakeWriter::open_for_maintenance(lake, wait)?;
    let from = lake.format().map_err(io(lake.root()))?;
    let mut report = UpgradeReport {
        lake: lake.root().display().to_string(),
        from_format: from,
        to_format: LAKE_FORMAT,
        files: 0,
        rows: 0,
        changes: Vec::new(),
        dry_run,
    };
    if from > LAKE_FORMAT {
        return Err(IngestError::LakeFormat(
            tally_model::LakeFormatError::Newer {
                lake: lake.root().into(),
                found: from,
            },
        ));
    }
    if from == LAKE_FORMAT {
        if lake.meta().map_err(io(lake.root()))?.is_none() && !dry_run {
            lake.write_meta(&LakeMeta::new()).map_err(io(lake.root()))?;
        }
        return Ok(report);
    }
    if from < 2 {
        report.changes.push(
            "patron_key, item_key and device_key: 32 hex digits become the 64-bit number of their first 16 \
             (the number an ingest now makes for the same identifier and key)"
                .into(),
        );
        report
            .changes
            .push("circulation.automatic is added, empty".into());
    }
    if from < 3 {
        report.changes.push(
            "assets gain origin (inventory), name, serial, manufacturer, os, os_version and last_seen (empty)"
                .into(),
        );
    }
    report.changes.push("_lake.json records the format".into());
    let entries = lake.read_ledger_any_format().map_err(io(lake.root()))?;
    let dir = lake.change_dir("upgrade");
    if !dry_run {
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    }
    let mut plan = Plan {
        to_format: Some(LAKE_FORMAT),
        ..Plan::default()
    };
    for entry in &entries {
        let Some(table) = Table::parse(&entry.summary.table) else {
            continue;
        };
        for rel in &entry.parquet {
            let path = lake.root().join(rel);
            let file = File::open(&path).map_err(io(&path))?;
            let df = ParquetReader::new(file)
                .finish()
                .map_err(|source| IngestError::Parquet {
                    path: path.clone(),
                    source,
                })?;
            // A file already in this format's schema stays as it is.
            if **df.schema() == table.schema() {
                continue;
            }
            report.files += 1;
            report.rows += df.height() as u64;
            if dry_run {
                continue;
            }
            let mut df = convert(df, table, &path)?;
            let staged = dir.join(rel.replace('/', "_"));
            write_staged(&staged, &mut df)?;
            plan.moves.push((staged, rel.clone()));
        }
    }
    if dry_run {
        return Ok(report);
    }
    // The commit point: from here a kill is finished by the next writer.
    commit(lake, "upgrade", &plan)?;
    Ok(report)
}

/// One problem `tally lake check` found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `damage` (the lake does not hold what its ledger says), `leftover` (a file no
    /// ledger entry names: the remains of an interrupted write, deleted by the next
    /// writer) or `pending` (an upgrade or purge committed but not finished: the next
    /// writer finishes it).
    pub kind: &'static str,
    pub path: String,
    pub message: String,
}

/// What `tally lake check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub lake: String,
    pub format: u32,
    pub batches: usize,
    pub files: usize,
    pub rows: u64,
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Whether the lake holds less or other than its ledger says.
    pub fn damaged(&self) -> bool {
        self.findings.iter().any(|f| f.kind == "damage")
    }
}

/// Checks the ledger against the files: every file it names exists, is Parquet of its
/// table's columns, holds only its batch's rows, and the rows add up to what the ledger
/// recorded; every quarantine file it names exists; files no entry names are listed.
/// Reads only the files' metadata and `batch` columns; takes no lock.
pub fn check(lake: &Lake) -> Result<CheckReport, IngestError> {
    let format = lake.format().map_err(io(lake.root()))?;
    let entries = lake.read_ledger_any_format().map_err(io(lake.root()))?;
    let mut report = CheckReport {
        lake: lake.root().display().to_string(),
        format,
        batches: entries.len(),
        files: 0,
        rows: 0,
        findings: Vec::new(),
    };
    let damage = |path: &Path, message: String| Finding {
        kind: "damage",
        path: path.display().to_string(),
        message,
    };
    if let Some(change) = lake.pending_change() {
        report.findings.push(Finding {
            kind: "pending",
            path: lake.change_dir(change).join("plan.json").display().to_string(),
            message: format!(
                "a `tally {change}` was committed but not finished; readers wait for it, and the next \
                 `tally ingest`, `tally run`, `tally purge` or `tally lake upgrade` finishes it"
            ),
        });
    }
    let mut named = std::collections::BTreeSet::new();
    for entry in &entries {
        let table = Table::parse(&entry.summary.table);
        let mut rows = 0u64;
        for rel in &entry.parquet {
            let path = lake.root().join(rel);
            named.insert(path.clone());
            report.files += 1;
            let read = File::open(&path).map_err(|e| e.to_string()).and_then(|f| {
                ParquetReader::new(f)
                    .with_columns(Some(vec!["batch".into()]))
                    .finish()
                    .map_err(|e| e.to_string())
            });
            let df = match read {
                Ok(df) => df,
                Err(e) => {
                    report
                        .findings
                        .push(damage(&path, format!("unreadable: {e}")));
                    continue;
                }
            };
            rows += df.height() as u64;
            let other = df
                .column("batch")
                .ok()
                .and_then(|c| c.str().ok().cloned())
                .map(|c| c.iter().flatten().any(|b| b != entry.batch))
                .unwrap_or(true);
            if other {
                report.findings.push(damage(
                    &path,
                    format!("holds rows of a batch other than {}", entry.batch),
                ));
            }
            if let (Some(table), true) = (table, format == LAKE_FORMAT) {
                let schema = File::open(&path)
                    .ok()
                    .and_then(|f| ParquetReader::new(f).schema().ok());
                let expected: Vec<String> =
                    table.schema().iter_names().map(|n| n.to_string()).collect();
                let found: Option<Vec<String>> =
                    schema.map(|s| s.iter_names().map(|n| n.to_string()).collect());
                if found.as_ref() != Some(&expected) {
                    report.findings.push(damage(
                        &path,
                        format!("columns {found:?}, expected {expected:?}"),
                    ));
                }
            }
        }
        report.rows += rows;
        if entry.rows_stored > 0 && rows != entry.rows_stored {
            report.findings.push(damage(
                &lake.ledger_path(&entry.batch),
                format!(
                    "batch {} records {} rows stored, its files hold {rows}",
                    entry.batch, entry.rows_stored
                ),
            ));
        }
        if let Some(q) = &entry.quarantine {
            let path = lake.root().join(q);
            named.insert(path.clone());
            if !path.exists() {
                report
                    .findings
                    .push(damage(&path, "quarantine file missing".into()));
            }
        }
    }
    // Files no entry names.
    let mut stack: Vec<PathBuf> = Table::ALL.iter().map(|t| lake.table_dir(*t)).collect();
    stack.push(lake.quarantine_dir());
    stack.push(lake.staging_dir());
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for item in read.flatten() {
            let path = item.path();
            if path.is_dir() {
                stack.push(path);
            } else if !named.contains(&path) {
                report.findings.push(Finding {
                    kind: "leftover",
                    path: path.display().to_string(),
                    message: "no ledger entry names it (an interrupted write; the next ingest deletes it)"
                        .into(),
                });
            }
        }
    }
    report
        .findings
        .sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_pseudonyms_become_the_numbers_ingest_makes() {
        let p = crate::Pseudonymiser::new(b"0123456789abcdef").unwrap();
        let old = String::from_utf8(p.pseudonym("21221012345678").hex().to_vec()).unwrap();
        assert_eq!(hex_to_key(&old), Some(p.key_of("21221012345678")));
        assert_eq!(hex_to_key("nothex"), None);
    }
}
