//! The one writer of a lake: a lock, recovery from an interrupted batch, and the commit
//! protocol that makes each input file all-or-nothing.
//!
//! Commit of one batch: Parquet and quarantine files are written under `_staging/` while
//! the input is read (by the engine), fsynced, renamed into place, and the ledger entry
//! is written (temp, fsync, rename, fsync of the folder) last. The ledger entry is the commit: tally reads only files a
//! ledger entry names, and the next writer deletes files that no entry names.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tally_model::Table;

use crate::error::{LakeError, io};
use crate::fsio::{move_into_place, write_atomic};
use crate::layout::{Lake, LakeMeta};
use crate::ledger::{FileSummary, LedgerEntry};

/// A file a batch wrote in its staging folder, and where it goes when the batch commits.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub tmp: PathBuf,
    /// Its final path, relative to the lake root (from [`Lake::parquet_rel_path`] or
    /// [`Lake::quarantine_rel_path`]).
    pub rel: String,
}

/// Holds the lake's lock for as long as it lives.
pub struct LakeWriter {
    lake: Lake,
    _lock: File,
    /// The commit order of the next batch (the ledger is read once, at open).
    next_seq: std::cell::Cell<u64>,
}

impl LakeWriter {
    /// Takes the lock (waiting up to `wait`), finishes an interrupted upgrade or purge, checks the
    /// lake's format, then cleans up after any interrupted batch.
    pub fn open(lake: &Lake, wait: Duration) -> Result<LakeWriter, LakeError> {
        let writer = LakeWriter::lock(lake, wait)?;
        crate::change::finish_interrupted_changes(lake)?;
        // A lake of another format is neither cleaned up nor written to.
        lake.check_format()?;
        if lake.meta()?.is_none() {
            lake.write_meta(&LakeMeta::new())?;
        }
        writer.recover()?;
        let last = writer.ledger()?.iter().map(|e| e.seq).max().unwrap_or(0);
        writer.next_seq.set(last + 1);
        Ok(writer)
    }

    /// The lock for a lake of any format (`tally lake upgrade`), with an interrupted
    /// upgrade finished; nothing else is touched.
    pub fn open_for_maintenance(lake: &Lake, wait: Duration) -> Result<LakeWriter, LakeError> {
        let writer = LakeWriter::lock(lake, wait)?;
        crate::change::finish_interrupted_changes(lake)?;
        Ok(writer)
    }

    fn lock(lake: &Lake, wait: Duration) -> Result<LakeWriter, LakeError> {
        std::fs::create_dir_all(lake.root()).map_err(io(lake.root()))?;
        let lock_path = lake.lock_path();
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        let deadline = Instant::now() + wait;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(LakeError::Locked {
                        lake: lake.root().into(),
                        lock: lock_path,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(LakeError::Io {
                        path: lock_path,
                        source: e,
                    });
                }
            }
        }
        Ok(LakeWriter {
            lake: lake.clone(),
            _lock: lock,
            next_seq: std::cell::Cell::new(1),
        })
    }

    fn ledger(&self) -> Result<Vec<LedgerEntry>, LakeError> {
        self.lake.read_ledger()
    }

    /// The lake's `_lake.json`.
    pub fn meta(&self) -> Result<LakeMeta, LakeError> {
        Ok(self.lake.meta()?.unwrap_or_default())
    }

    /// Marks a new lake as a demo lake (synthetic data under the public demo key).
    pub fn mark_demo(&self) -> Result<(), LakeError> {
        let mut meta = self.meta()?;
        meta.demo = true;
        self.lake.write_meta(&meta)
    }

    /// Records the key's fingerprint in the lake, once: its first ingest of identifiers.
    pub fn remember_key(&self, fingerprint: &str) -> Result<(), LakeError> {
        let mut meta = self.meta()?;
        if meta.key_fingerprint.is_none() {
            meta.key_fingerprint = Some(fingerprint.to_string());
            self.lake.write_meta(&meta)?;
        }
        Ok(())
    }

    /// Deletes what an interrupted batch left: the staging folder, and Parquet or
    /// quarantine files that no ledger entry names.
    fn recover(&self) -> Result<(), LakeError> {
        let staging = self.lake.staging_dir();
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        let mut named: BTreeSet<PathBuf> = BTreeSet::new();
        for entry in self.ledger()? {
            named.extend(entry.parquet.iter().map(|p| self.lake.root().join(p)));
            named.extend(entry.quarantine.iter().map(|p| self.lake.root().join(p)));
        }
        let mut stack: Vec<PathBuf> = Table::ALL.iter().map(|t| self.lake.table_dir(*t)).collect();
        stack.push(self.lake.quarantine_dir());
        while let Some(dir) = stack.pop() {
            let Ok(read) = std::fs::read_dir(&dir) else {
                continue;
            };
            for item in read {
                let path = item.map_err(io(&dir))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if !named.contains(&path) {
                    tracing::warn!(file = %path.display(), "removing a file left by an interrupted ingest");
                    std::fs::remove_file(&path).map_err(io(&path))?;
                }
            }
        }
        Ok(())
    }

    /// Every committed input file by its SHA-256, with its ledger entry.
    pub fn committed(&self) -> Result<HashMap<String, LedgerEntry>, LakeError> {
        Ok(self
            .ledger()?
            .into_iter()
            .map(|e| (e.summary.sha256.clone(), e))
            .collect())
    }

    /// A clean staging folder for one batch: the engine writes its Parquet parts and its
    /// quarantine file there while it reads the input.
    pub fn stage(&self, batch: &str) -> Result<PathBuf, LakeError> {
        let staging = self.lake.staging_dir().join(batch);
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(staging)
    }

    /// Drops a batch that failed: its staging folder goes, the lake is as it was.
    pub fn discard(&self, batch: &str) {
        let staging = self.lake.staging_dir().join(batch);
        let _ = std::fs::remove_dir_all(&staging);
        let _ = std::fs::remove_dir(self.lake.staging_dir());
    }

    /// Commits one staged batch all-or-nothing and returns its ledger entry: every file
    /// (already fsynced) is renamed into place, then the ledger entry is written. The
    /// files may hold rows of several tables (their paths say which); the quarantine
    /// file, if any, is one of them.
    pub fn commit(
        &self,
        batch: &str,
        files: &[StagedFile],
        summary: FileSummary,
        rows_stored: u64,
    ) -> Result<LedgerEntry, LakeError> {
        if !summary.is_balanced() {
            return Err(LakeError::Unbalanced {
                path: summary.file.clone().into(),
                read: summary.rows_read,
                accepted: summary.rows_accepted,
                quarantined: summary.rows_quarantined,
                excluded: summary.rows_excluded,
            });
        }
        let root = self.lake.root();
        let staging = self.lake.staging_dir().join(batch);
        for file in files {
            move_into_place(&file.tmp, &root.join(&file.rel))?;
        }
        let seq = self.next_seq.get();
        let entry = LedgerEntry {
            batch: batch.to_string(),
            seq,
            summary,
            rows_stored,
            parquet: files
                .iter()
                .filter(|f| f.rel.ends_with(".parquet"))
                .map(|f| f.rel.clone())
                .collect(),
            quarantine: files
                .iter()
                .find(|f| f.rel == Lake::quarantine_rel_path(batch))
                .map(|f| f.rel.clone()),
            quarantine_deleted: None,
            tally_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let mut json = serde_json::to_vec_pretty(&entry).expect("ledger entries serialise");
        json.push(b'\n');
        write_atomic(
            &self.lake.ledger_dir(),
            &staging.join("ledger.json"),
            &self.lake.ledger_path(batch),
            &json,
        )?;
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        // Only this writer uses the staging folder; once empty it goes too.
        let _ = std::fs::remove_dir(self.lake.staging_dir());
        self.next_seq.set(seq + 1);
        Ok(entry)
    }

    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// Replaces a committed batch's ledger entry (temp, fsync, rename, fsync of the
    /// folder): how `tally purge` records a quarantine file it deletes, before deleting it.
    pub fn rewrite_entry(&self, entry: &LedgerEntry) -> Result<(), LakeError> {
        let staging = self.lake.staging_dir();
        let mut json = serde_json::to_vec_pretty(entry).expect("ledger entries serialise");
        json.push(b'\n');
        write_atomic(
            &self.lake.ledger_dir(),
            &staging.join(format!("{}.json", entry.batch)),
            &self.lake.ledger_path(&entry.batch),
            &json,
        )?;
        let _ = std::fs::remove_dir(&staging);
        Ok(())
    }

    /// Every committed batch, in commit order.
    pub fn entries(&self) -> Result<Vec<LedgerEntry>, LakeError> {
        self.ledger()
    }
}
