//! The ledger: one JSON entry per committed batch (`_ledger/<batch>.json`), and the
//! [`Snapshot`] every read of the lake goes through: the batches committed when the
//! ledger was read, in commit order, and the Parquet files they name. Nothing is found
//! by listing folders or by a glob, so a file an interrupted write left is never read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tally_model::Table;

use crate::error::{LakeError, io};
use crate::layout::{Lake, partition_month, table_of};

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

impl LedgerEntry {
    /// The Parquet files of this batch that hold rows of `table`.
    pub fn files_of(&self, table: Table) -> impl Iterator<Item = &str> {
        self.parquet
            .iter()
            .map(String::as_str)
            .filter(move |rel| table_of(rel) == Some(table))
    }
}

impl Lake {
    /// Every committed batch, in commit order. A missing ledger is an empty lake. A lake
    /// of another format is an error that says what to do ([`crate::LakeFormatError`]).
    pub fn read_ledger(&self) -> Result<Vec<LedgerEntry>, LakeError> {
        self.check_format()?;
        self.read_ledger_any_format()
    }

    /// The ledger whatever the lake's format (for `tally lake upgrade` and `check`).
    pub fn read_ledger_any_format(&self) -> Result<Vec<LedgerEntry>, LakeError> {
        let dir = self.ledger_dir();
        let mut entries = Vec::new();
        let read_dir = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(entries),
            Err(e) => return Err(io(&dir)(e)),
        };
        for item in read_dir {
            let path = item.map_err(io(&dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).map_err(io(&path))?;
                let entry: LedgerEntry =
                    serde_json::from_slice(&bytes).map_err(|e| LakeError::Malformed {
                        path: path.clone(),
                        message: format!("not a ledger entry: {e}"),
                    })?;
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| (a.seq, &a.batch).cmp(&(b.seq, &b.batch)));
        Ok(entries)
    }

    /// The lake as of now: one read of the ledger.
    pub fn snapshot(&self) -> Result<Snapshot, LakeError> {
        Ok(Snapshot {
            lake: self.clone(),
            entries: Arc::new(self.read_ledger()?),
        })
    }
}

/// What went into the lake, read from its ledger: per table and format the files and
/// their rows (read = accepted + quarantined + excluded), their sum, and the rows set
/// aside per fate and reason code. The usage report's "Data received" and the explorer's
/// lake page show it as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Intake {
    pub by_format: Vec<IntakeRow>,
    /// Every batch together.
    pub total: IntakeRow,
    /// (fate: `quarantined` or `excluded`, reason code, rows), in that order.
    pub by_reason: Vec<(String, String, u64)>,
}

/// The files of one table and format, and their rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntakeRow {
    pub table: String,
    pub format: String,
    pub files: u64,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub rows_excluded: u64,
}

impl IntakeRow {
    fn add(&mut self, s: &FileSummary) {
        self.files += 1;
        self.rows_read += s.rows_read;
        self.rows_accepted += s.rows_accepted;
        self.rows_quarantined += s.rows_quarantined;
        self.rows_excluded += s.rows_excluded;
    }
}

/// One version of the lake: the batches its ledger held when it was read, in commit
/// order. Every file a read takes is one these entries name, so an answer computed from
/// a snapshot reads one version of the lake, whatever is committed meanwhile. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Snapshot {
    lake: Lake,
    entries: Arc<Vec<LedgerEntry>>,
}

/// Which version of a lake a snapshot is: the number of batches and the last commit's
/// order and batch id. A new batch, and every change that rewrites a ledger entry or
/// files (`purge`, `upgrade`), gives another version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Version {
    pub batches: usize,
    pub last_seq: u64,
    pub last_batch: String,
    /// `_lake.json` as written (a purge changes it, not the ledger's length).
    pub meta: String,
}

impl Snapshot {
    /// A snapshot of given entries (tests; a ledger read elsewhere).
    pub fn of(lake: &Lake, entries: Vec<LedgerEntry>) -> Snapshot {
        Snapshot {
            lake: lake.clone(),
            entries: Arc::new(entries),
        }
    }

    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    pub fn root(&self) -> &Path {
        self.lake.root()
    }

    /// The committed batches, in commit order.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Which version of the lake this is.
    pub fn version(&self) -> Result<Version, LakeError> {
        let last = self.entries.last();
        let meta = match std::fs::read_to_string(self.lake.meta_path()) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(&self.lake.meta_path())(e)),
        };
        Ok(Version {
            batches: self.entries.len(),
            last_seq: last.map_or(0, |e| e.seq),
            last_batch: last.map(|e| e.batch.clone()).unwrap_or_default(),
            meta,
        })
    }

    /// The committed Parquet files (relative to the lake root) of `table` whose partition
    /// (UTC year, month) lies in `months` (inclusive, as year*12 + month-1), or all of
    /// them for `None`, in commit order.
    pub fn rel_files(&self, table: Table, months: Option<(i32, i32)>) -> Vec<&str> {
        let mut files = Vec::new();
        for entry in self.entries.iter() {
            for rel in entry.files_of(table) {
                if let Some((lo, hi)) = months
                    && let Some(m) = partition_month(rel)
                    && (m < lo || m > hi)
                {
                    continue;
                }
                files.push(rel);
            }
        }
        files
    }

    /// As [`Snapshot::rel_files`], as paths, sorted by path.
    pub fn files(&self, table: Table, months: Option<(i32, i32)>) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self
            .rel_files(table, months)
            .into_iter()
            .map(|rel| self.lake.root().join(rel))
            .collect();
        files.sort();
        files
    }

    /// The files of `table` per partition month (year*12 + month-1), each month's in
    /// commit order.
    pub fn files_by_month(&self, table: Table) -> BTreeMap<i32, Vec<&str>> {
        let mut months: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
        for rel in self.rel_files(table, None) {
            if let Some(m) = partition_month(rel) {
                months.entry(m).or_default().push(rel);
            }
        }
        months
    }

    /// What went into the lake ([`Intake`]).
    pub fn intake(&self) -> Intake {
        let mut by_format: BTreeMap<(String, String), IntakeRow> = BTreeMap::new();
        let mut by_reason: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut total = IntakeRow::default();
        for e in self.entries.iter() {
            let s = &e.summary;
            by_format
                .entry((s.table.clone(), s.format.clone()))
                .or_insert_with(|| IntakeRow {
                    table: s.table.clone(),
                    format: s.format.clone(),
                    ..IntakeRow::default()
                })
                .add(s);
            total.add(s);
            for (fate, counts) in [("quarantined", &s.quarantined), ("excluded", &s.excluded)] {
                for (code, rows) in counts {
                    *by_reason
                        .entry((fate.to_string(), code.clone()))
                        .or_default() += rows;
                }
            }
        }
        Intake {
            by_format: by_format.into_values().collect(),
            total,
            by_reason: by_reason
                .into_iter()
                .map(|((fate, code), rows)| (fate, code, rows))
                .collect(),
        }
    }

    /// Each batch with its commit order: where the latest export wins (tickets, assets,
    /// totals), the row of the batch with the highest order is current.
    pub fn batch_order(&self) -> Vec<(&str, u64)> {
        self.entries
            .iter()
            .map(|e| (e.batch.as_str(), e.seq))
            .collect()
    }
}
