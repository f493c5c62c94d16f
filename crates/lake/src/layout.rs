//! The lake's layout, written down once.
//!
//! ```text
//! LAKE/<table>/year=YYYY/month=MM/<batch>.parquet   rows, partitioned by the UTC year and
//!                                                   month of the table's time column
//! LAKE/_ledger/<batch>.json                         one committed batch: its input file,
//!                                                   SHA-256, row counts, Parquet files
//! LAKE/_quarantine/<batch>.csv                      rejected rows with reasons, identifiers masked
//! LAKE/_lake.json                                   the lake's format version, the key's
//!                                                   fingerprint, whether it is a demo lake
//! LAKE/_retention/distinct.parquet                  distinct counts of purged periods
//! LAKE/_support/                                    the OS support cycles and other
//!                                                   reference data `tally support update` wrote
//! LAKE/_lock                                        held by the one writer
//! LAKE/_staging/                                    files being written (never read)
//! ```
//!
//! A batch is committed when its ledger entry exists. Readers in tally take the Parquet
//! files the ledger names; a file with no ledger entry is the remains of an interrupted
//! write and the next writer deletes it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tally_model::Table;

use crate::error::{LakeError, io};

/// The lake layout this tally writes and reads. 1: the first layout (pseudonyms as 32 hex
/// digits, no `_lake.json`); 2: pseudonyms as 64-bit numbers (`tally lake upgrade`
/// converts a format-1 lake in place); 3: assets gain `origin`, `name`, `serial`,
/// `manufacturer`, `os`, `os_version`, `last_seen`. docs/lake.md keeps the history.
pub const LAKE_FORMAT: u32 = 3;

/// What `_lake.json` says about a lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeMeta {
    pub format: u32,
    /// HMAC of a fixed label under the key the lake's pseudonyms were made with (never
    /// the key): a later ingest with another key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    /// A lake made by `tally demo` from synthetic data with the public demo key: real
    /// exports are never ingested into it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    /// Set by `tally purge`: rows before this date hold no patron, item or device keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged: Option<Purged>,
}

/// What a purge cleared, and the calendar its kept counts were made in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    /// Local date in the library's zone: rows that start before its midnight were purged.
    pub before: chrono::NaiveDate,
    /// That midnight as UTC microseconds: the instant ingest and metrics compare with.
    pub before_us: i64,
    /// The library's zone and fiscal year when the counts were kept: buckets of another
    /// calendar cannot be answered from them.
    pub timezone: String,
    pub fiscal_year_start_month: u32,
}

/// Changes that stage their files under `_staging/<name>/` and commit with a
/// `plan.json`: until one is finished, readers refuse the lake.
pub const PENDING_CHANGES: [&str; 2] = ["upgrade", "purge"];

impl LakeMeta {
    pub fn new() -> LakeMeta {
        LakeMeta {
            format: LAKE_FORMAT,
            key_fingerprint: None,
            demo: false,
            purged: None,
        }
    }
}

impl Default for LakeMeta {
    fn default() -> Self {
        LakeMeta::new()
    }
}

/// A lake of a layout this tally does not read as it is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LakeFormatError {
    #[error(
        "{lake}: the lake is in format {found}, written by an older tally; this tally reads format {LAKE_FORMAT}. \
         Run `tally lake upgrade --lake {lake}` (add --dry-run to see what it does first)"
    )]
    Older { lake: PathBuf, found: u32 },
    #[error(
        "{lake}: the lake is in format {found}, written by a newer tally; this tally reads format {LAKE_FORMAT}. \
         Install the newer tally"
    )]
    Newer { lake: PathBuf, found: u32 },
    #[error(
        "{lake}: a `tally {change}` was committed but not finished (interrupted, or still running). \
         The next `tally ingest`, `tally run`, `tally purge` or `tally lake upgrade` on this lake finishes it"
    )]
    Pending { lake: PathBuf, change: String },
}

/// Columns of a quarantine file: the input file, the line the row starts on, the column
/// at fault (empty for the whole row), the reason code, the full reason, and the row with
/// every value of a column its format does not declare safe masked.
pub const QUARANTINE_COLUMNS: [&str; 6] =
    ["file", "line", "column", "code", "reason", "raw_masked"];

#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl Lake {
    pub fn new(root: impl Into<PathBuf>) -> Lake {
        Lake { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn table_dir(&self, table: Table) -> PathBuf {
        self.root.join(table.name())
    }

    /// Relative path (from the lake root) of a batch's Parquet file in one partition.
    pub fn parquet_rel_path(table: Table, year: i32, month: u32, batch: &str) -> String {
        format!(
            "{}/year={year:04}/month={month:02}/{batch}.parquet",
            table.name()
        )
    }

    pub fn ledger_dir(&self) -> PathBuf {
        self.root.join("_ledger")
    }

    pub fn ledger_path(&self, batch: &str) -> PathBuf {
        self.ledger_dir().join(format!("{batch}.json"))
    }

    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("_quarantine")
    }

    pub fn quarantine_rel_path(batch: &str) -> String {
        format!("_quarantine/{batch}.csv")
    }

    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("_staging")
    }

    pub fn lock_path(&self) -> PathBuf {
        self.root.join("_lock")
    }

    pub fn meta_path(&self) -> PathBuf {
        self.root.join("_lake.json")
    }

    /// The distinct counts purges kept (see [`KeptCount`]).
    pub fn kept_path(&self) -> PathBuf {
        self.root.join("_retention").join("distinct.parquet")
    }

    /// Reference data replaced at run time (`tally support update`): endoflife.date's
    /// cycles, and the like; metrics prefer it to the copy built into tally.
    pub fn support_dir(&self) -> PathBuf {
        self.root.join("_support")
    }

    /// The staging folder of a change that commits with a plan (`upgrade`, `purge`).
    pub fn change_dir(&self, change: &str) -> PathBuf {
        self.staging_dir().join(change)
    }

    /// A change committed (its `plan.json` written) but not yet applied.
    pub fn pending_change(&self) -> Option<&'static str> {
        PENDING_CHANGES
            .into_iter()
            .find(|c| self.change_dir(c).join("plan.json").exists())
    }

    /// What `_lake.json` says; `None` when there is none (a new lake, or a format-1 lake).
    pub fn meta(&self) -> Result<Option<LakeMeta>, LakeError> {
        let path = self.meta_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| LakeError::Io {
                    path: path.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The lake's format: its `_lake.json`'s, else 1 when it has a ledger (the first
    /// layout had no `_lake.json`), else the current one (a new lake).
    pub fn format(&self) -> Result<u32, LakeError> {
        if let Some(meta) = self.meta()? {
            return Ok(meta.format);
        }
        let has_ledger = std::fs::read_dir(self.ledger_dir())
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        Ok(if has_ledger { 1 } else { LAKE_FORMAT })
    }

    /// Fails, with what to do, when the lake is not in the format this tally reads.
    pub fn check_format(&self) -> Result<(), LakeError> {
        let found = self.format()?;
        let lake = self.root.clone();
        if let Some(change) = self.pending_change() {
            return Err(LakeFormatError::Pending {
                lake,
                change: change.to_string(),
            }
            .into());
        }
        match found.cmp(&LAKE_FORMAT) {
            std::cmp::Ordering::Equal => Ok(()),
            std::cmp::Ordering::Less => Err(LakeFormatError::Older { lake, found }.into()),
            std::cmp::Ordering::Greater => Err(LakeFormatError::Newer { lake, found }.into()),
        }
    }

    /// Writes `_lake.json` atomically (temporary name, fsync, rename, fsync of the folder).
    pub fn write_meta(&self, meta: &LakeMeta) -> Result<(), LakeError> {
        let mut json = serde_json::to_vec_pretty(meta).expect("lake meta serialises");
        json.push(b'\n');
        crate::fsio::write_atomic(
            &self.root,
            &self.root.join("_lake.json.tmp"),
            &self.meta_path(),
            &json,
        )
    }
}

/// The table a partition file of the lake holds rows of, from its path
/// (`sessions/year=2026/month=03/b.parquet`): one batch may write several tables.
pub fn table_of(rel: &str) -> Option<Table> {
    Table::parse(rel.split('/').next()?)
}

/// The partition month (year*12 + month-1) of a UTC instant in microseconds.
pub fn month_of_us(t_us: i64) -> i32 {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp_micros(t_us)
        .expect("in range")
        .date_naive();
    d.year() * 12 + d.month() as i32 - 1
}

/// The first instant (UTC microseconds) of partition month `m` (year*12 + month-1).
pub fn month_start_us(m: i32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
        .expect("a partition month")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_micros()
}

/// year*12 + month-1 of a partition path such as `sessions/year=2026/month=03/b.parquet`:
/// the one place the partition folders' names are read.
pub fn partition_month(rel: &str) -> Option<i32> {
    let mut year = None;
    let mut month = None;
    for part in rel.split('/') {
        if let Some(y) = part.strip_prefix("year=") {
            year = y.parse::<i32>().ok();
        } else if let Some(m) = part.strip_prefix("month=") {
            month = m.parse::<i32>().ok();
        }
    }
    Some(year? * 12 + month? - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_month_reads_hive_names() {
        assert_eq!(
            partition_month("sessions/year=2026/month=03/x.parquet"),
            Some(2026 * 12 + 2)
        );
        assert_eq!(partition_month("x.parquet"), None);
        assert_eq!(
            table_of("prints/year=2026/month=03/x.parquet"),
            Some(Table::Prints)
        );
    }
}
