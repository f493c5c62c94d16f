//! `tally lake check`: the ledger against the files.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tally_model::Table;

use crate::error::LakeError;
use crate::layout::{LAKE_FORMAT, Lake};
use crate::read::{file_columns, read_file};

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
pub fn check(lake: &Lake) -> Result<CheckReport, LakeError> {
    let format = lake.format()?;
    let entries = lake.read_ledger_any_format()?;
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
        let mut rows = 0u64;
        for rel in &entry.parquet {
            let table = crate::layout::table_of(rel);
            let path = lake.root().join(rel);
            named.insert(path.clone());
            report.files += 1;
            let df = match read_file(&path, Some(&["batch"])) {
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
                let expected: Vec<String> =
                    table.schema().iter_names().map(|n| n.to_string()).collect();
                let found: Option<Vec<String>> = file_columns(&path).ok();
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
