//! `tally lake upgrade`: a lake of an older format to this tally's, in place and
//! atomically.
//!
//! An upgrade writes every converted file under `_staging/upgrade/` first, fsyncs it,
//! then writes `plan.json` (the commit point), renames the files over the old ones and
//! writes `_lake.json` last. A kill before `plan.json` leaves the old lake (the next
//! writer deletes the staging); a kill after it is finished by the next writer or reader
//! that opens the lake for writing (`change.rs`). Readers refuse the
//! lake until `_lake.json` says the new format, so none sees half of it.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;
use tally_model::Table;

use crate::change::{Plan, commit};
use crate::error::LakeError;
use crate::keys::is_pseudonym;
use crate::layout::{LAKE_FORMAT, Lake, LakeFormatError, LakeMeta};
use crate::read::{read_file, write_parquet};
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

/// A format-1 pseudonym (32 hex digits) as the format-2 number: its first 16 digits,
/// as a signed 64-bit number. The same number an ingest makes now for that identifier.
fn hex_to_key(s: &str) -> Option<i64> {
    let head = s.get(..16)?;
    u64::from_str_radix(head, 16).ok().map(|v| v as i64)
}

/// One Parquet file of the lake in the current layout: pseudonyms as numbers, columns a
/// later layout added as nulls, in the schema's order.
fn convert(df: DataFrame, table: Table, path: &Path) -> Result<DataFrame, LakeError> {
    let bad = |message: String| LakeError::Malformed {
        path: path.to_path_buf(),
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
) -> Result<UpgradeReport, LakeError> {
    let _writer = LakeWriter::open_for_maintenance(lake, wait)?;
    let from = lake.format()?;
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
        return Err(LakeFormatError::Newer {
            lake: lake.root().into(),
            found: from,
        }
        .into());
    }
    if from == LAKE_FORMAT {
        if lake.meta()?.is_none() && !dry_run {
            lake.write_meta(&LakeMeta::new())?;
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
    let entries = lake.read_ledger_any_format()?;
    let dir = lake.change_dir("upgrade");
    if !dry_run {
        std::fs::create_dir_all(&dir).map_err(crate::error::io(&dir))?;
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
            let df = read_file(&path, None)?;
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
            write_parquet(&staged, &mut df)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_pseudonyms_become_the_numbers_ingest_makes() {
        let p = crate::Pseudonym::from_mac(&[0x9c; 32]);
        let old = String::from_utf8(p.hex().to_vec()).unwrap();
        assert_eq!(hex_to_key(&old), Some(p.value()));
        assert_eq!(hex_to_key("nothex"), None);
    }
}
