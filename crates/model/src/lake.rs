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
//! LAKE/_retention/distinct.parquet                   distinct counts of purged periods
//! LAKE/_lock                                        held by the one writer
//! LAKE/_staging/                                    files being written (never read)
//! ```
//!
//! A batch is committed when its ledger entry exists. Readers in tally take the Parquet
//! files the ledger names; a file with no ledger entry is the remains of an interrupted
//! write and the next writer deletes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Table;

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

/// The distinct count a purge took out of one bucket's rows, kept so the bucket's figure
/// stays what it was: the figure is the distinct keys its rows still hold plus `kept`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCount {
    /// `distinct_users` or `wifi_devices`.
    pub metric: String,
    /// The site (as stored, "(none)" for rows without one); `None` for the library as a
    /// whole (not the sum of its sites: a patron may use several).
    pub site: Option<String>,
    /// Local dates [from, to): a day, ISO week, month, quarter or fiscal year.
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub kept: i64,
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

    /// The counts purges kept, empty when the lake was never purged.
    pub fn kept_counts(&self) -> std::io::Result<Vec<KeptCount>> {
        use polars::prelude::*;
        let path = self.kept_path();
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let bad = |e: PolarsError| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        };
        let df = ParquetReader::new(file).finish().map_err(bad)?;
        let metric = df
            .column("metric")
            .and_then(|c| c.str().cloned())
            .map_err(bad)?;
        let site = df
            .column("site")
            .and_then(|c| c.str().cloned())
            .map_err(bad)?;
        let days = |name: &str| {
            df.column(name)
                .and_then(|c| c.cast(&DataType::Int32))
                .and_then(|c| c.i32().cloned())
        };
        let from = days("from").map_err(bad)?;
        let to = days("to").map_err(bad)?;
        let kept = df
            .column("kept")
            .and_then(|c| c.i64().cloned())
            .map_err(bad)?;
        let day = |d: Option<i32>| {
            d.and_then(|d| chrono::NaiveDate::from_num_days_from_ce_opt(d + 719_163))
        };
        let mut out = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let (Some(m), Some(f), Some(t), Some(k)) =
                (metric.get(i), day(from.get(i)), day(to.get(i)), kept.get(i))
            else {
                return Err(bad(PolarsError::ComputeError(
                    format!("row {i} has an empty value").into(),
                )));
            };
            out.push(KeptCount {
                metric: m.to_string(),
                site: site.get(i).map(str::to_string),
                from: f,
                to: t,
                kept: k,
            });
        }
        Ok(out)
    }

    /// Writes kept counts as the Parquet file [`Lake::kept_counts`] reads (to `path`: a
    /// purge stages it before it moves into place), and fsyncs it.
    pub fn write_kept_counts(path: &Path, counts: &[KeptCount]) -> std::io::Result<()> {
        use polars::prelude::*;
        let bad = |e: PolarsError| std::io::Error::other(format!("{}: {e}", path.display()));
        let epoch = |d: chrono::NaiveDate| chrono::Datelike::num_days_from_ce(&d) - 719_163;
        let mut df = DataFrame::new(
            counts.len(),
            vec![
                Column::new(
                    "metric".into(),
                    counts.iter().map(|k| k.metric.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "site".into(),
                    counts.iter().map(|k| k.site.as_deref()).collect::<Vec<_>>(),
                ),
                Int32Chunked::from_vec(
                    "from".into(),
                    counts.iter().map(|k| epoch(k.from)).collect(),
                )
                .into_date()
                .into_column(),
                Int32Chunked::from_vec("to".into(), counts.iter().map(|k| epoch(k.to)).collect())
                    .into_date()
                    .into_column(),
                Column::new(
                    "kept".into(),
                    counts.iter().map(|k| k.kept).collect::<Vec<_>>(),
                ),
            ],
        )
        .map_err(bad)?;
        let mut file = std::fs::File::create(path)?;
        ParquetWriter::new(&mut file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map_err(bad)?;
        file.sync_all()
    }

    /// What `_lake.json` says; `None` when there is none (a new lake, or a format-1 lake).
    pub fn meta(&self) -> std::io::Result<Option<LakeMeta>> {
        match std::fs::read(self.meta_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", self.meta_path().display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The lake's format: its `_lake.json`'s, else 1 when it has a ledger (the first
    /// layout had no `_lake.json`), else the current one (a new lake).
    pub fn format(&self) -> std::io::Result<u32> {
        if let Some(meta) = self.meta()? {
            return Ok(meta.format);
        }
        let has_ledger = std::fs::read_dir(self.ledger_dir())
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        Ok(if has_ledger { 1 } else { LAKE_FORMAT })
    }

    /// Fails, with what to do, when the lake is not in the format this tally reads.
    pub fn check_format(&self) -> std::io::Result<()> {
        let found = self.format()?;
        let lake = self.root.clone();
        if let Some(change) = self.pending_change() {
            return Err(std::io::Error::other(LakeFormatError::Pending {
                lake,
                change: change.to_string(),
            }));
        }
        match found.cmp(&LAKE_FORMAT) {
            std::cmp::Ordering::Equal => Ok(()),
            std::cmp::Ordering::Less => Err(std::io::Error::other(LakeFormatError::Older {
                lake,
                found,
            })),
            std::cmp::Ordering::Greater => Err(std::io::Error::other(LakeFormatError::Newer {
                lake,
                found,
            })),
        }
    }

    /// Writes `_lake.json` atomically (temporary name, fsync, rename, fsync of the folder).
    pub fn write_meta(&self, meta: &LakeMeta) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.root)?;
        let tmp = self.root.join("_lake.json.tmp");
        let mut json = serde_json::to_vec_pretty(meta).expect("lake meta serialises");
        json.push(b'\n');
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.meta_path())?;
        std::fs::File::open(&self.root)?.sync_all()
    }

    /// Every committed batch, in commit order. A missing ledger is an empty lake. A lake
    /// of another format is an error that says what to do ([`LakeFormatError`]).
    pub fn read_ledger(&self) -> std::io::Result<Vec<LedgerEntry>> {
        self.check_format()?;
        self.read_ledger_any_format()
    }

    /// The ledger whatever the lake's format (for `tally lake upgrade` and `check`).
    pub fn read_ledger_any_format(&self) -> std::io::Result<Vec<LedgerEntry>> {
        let dir = self.ledger_dir();
        let mut entries = Vec::new();
        let read_dir = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(entries),
            Err(e) => return Err(e),
        };
        for item in read_dir {
            let path = item?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path)?;
                let entry: LedgerEntry = serde_json::from_slice(&bytes).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {e}", path.display()),
                    )
                })?;
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| (a.seq, &a.batch).cmp(&(b.seq, &b.batch)));
        Ok(entries)
    }

    /// The committed Parquet files of `table` whose partition (UTC year, month) lies in
    /// `months` (inclusive, as year*12 + month-1), or all of them for `None`.
    pub fn parquet_files(
        &self,
        table: Table,
        months: Option<(i32, i32)>,
    ) -> std::io::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for entry in self.read_ledger()? {
            if entry.summary.table != table.name() {
                continue;
            }
            for rel in &entry.parquet {
                if let Some((lo, hi)) = months {
                    match partition_month(rel) {
                        Some(m) if m < lo || m > hi => continue,
                        _ => {}
                    }
                }
                files.push(self.root.join(rel));
            }
        }
        files.sort();
        Ok(files)
    }
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

/// What happened to one input file. `rows_read` always equals the sum of the other three.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub file: String,
    pub sha256: String,
    pub format: String,
    pub table: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub rows_excluded: u64,
    /// Rows excluded by a rule, per reason code (`not_circulation`, `in_lake`, ...).
    pub excluded: BTreeMap<String, u64>,
    /// Rows quarantined, per reason code (`bad_time`, `unknown_value`, ...).
    pub quarantined: BTreeMap<String, u64>,
    /// Per code and detail (the column of a quarantined row, the vendor's word of an
    /// excluded one), the rows and the code's prose.
    #[serde(default)]
    pub reasons: Vec<ReasonCount>,
    /// Site codes in the file that sites.toml does not know (accepted, reported).
    #[serde(default)]
    pub unknown_sites: Vec<String>,
    /// Things noticed that cost no row (a YTD that disagrees with its months, data
    /// codes not read), with how often.
    #[serde(default)]
    pub notes: BTreeMap<String, u64>,
    /// How the bytes were read: "utf-8", "utf-8 with BOM", "windows-1252", plus
    /// ", unix-compressed" for .Z files.
    #[serde(default)]
    pub encoding: String,
}

/// Rows set aside for one reason code and detail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    /// `quarantined` or `excluded`.
    pub fate: String,
    pub code: String,
    /// The column at fault (quarantined) or the vendor's word (excluded), "" for none.
    pub detail: String,
    pub rows: u64,
    /// What the code means, for people.
    pub message: String,
}

impl FileSummary {
    /// Rows set aside with this code and detail.
    pub fn reason_rows(&self, code: &str, detail: &str) -> u64 {
        self.reasons
            .iter()
            .filter(|r| r.code == code && r.detail == detail)
            .map(|r| r.rows)
            .sum()
    }

    pub fn is_balanced(&self) -> bool {
        self.rows_read == self.rows_accepted + self.rows_quarantined + self.rows_excluded
    }
}

/// One committed batch (one input file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub batch: String,
    /// Commit order: 1 for the lake's first batch. Where the latest export wins (work
    /// orders, assets, totals), the row of the batch with the highest seq is current.
    #[serde(default)]
    pub seq: u64,
    /// The file's summary, with the table name.
    #[serde(flatten)]
    pub summary: FileSummary,
    /// Canonical rows stored (a Libki session is two input rows and one stored row).
    #[serde(default)]
    pub rows_stored: u64,
    /// Parquet files relative to the lake root.
    pub parquet: Vec<String>,
    /// Quarantine file relative to the lake root, when rows were quarantined.
    pub quarantine: Option<String>,
    /// The date `tally purge` deleted the quarantine file (older than the retention's
    /// `quarantine_days`); the summary's counts and reasons stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_deleted: Option<chrono::NaiveDate>,
    pub tally_version: String,
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
    }
}
