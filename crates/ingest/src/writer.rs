//! The one writer of a lake: a lock, recovery from an interrupted batch, and the commit
//! protocol that makes each input file all-or-nothing.
//!
//! Commit of one batch: Parquet and quarantine files are written under `_staging/` while
//! the input is read (by the engine), fsynced, renamed into place, and the ledger entry
//! is written (temp, fsync, rename, fsync of the folder) last. The ledger entry is the commit: tally reads only files a
//! ledger entry names, and the next writer deletes files that no entry names.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tally_model::{FileSummary, Lake, LakeMeta, LedgerEntry, Table};

use crate::IngestError;
use crate::error::io;
use crate::sink::StagedPart;

/// Holds the lake's lock for as long as it lives.
pub struct LakeWriter {
    lake: Lake,
    _lock: File,
    /// The commit order of the next batch (the ledger is read once, at open).
    next_seq: std::cell::Cell<u64>,
}

/// A ledger that cannot be read: a lake of another format says so, with what to do.
fn format_error(lake: &Lake, e: std::io::Error) -> IngestError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<tally_model::LakeFormatError>())
    {
        Some(found) => IngestError::LakeFormat(found.clone()),
        None => IngestError::Ledger {
            lake: lake.root().into(),
            source: e,
        },
    }
}

fn sync_dir(dir: &Path) -> Result<(), IngestError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl LakeWriter {
    /// Takes the lock (waiting up to `wait`), finishes an interrupted upgrade or purge, checks the
    /// lake's format, then cleans up after any interrupted batch.
    pub fn open(lake: &Lake, wait: Duration) -> Result<LakeWriter, IngestError> {
        let writer = LakeWriter::lock(lake, wait)?;
        crate::maintain::finish_interrupted_changes(lake)?;
        // A lake of another format is neither cleaned up nor written to.
        lake.check_format().map_err(|e| format_error(lake, e))?;
        if lake.meta().map_err(io(lake.root()))?.is_none() {
            lake.write_meta(&LakeMeta::new()).map_err(io(lake.root()))?;
        }
        writer.recover()?;
        let last = writer.ledger()?.iter().map(|e| e.seq).max().unwrap_or(0);
        writer.next_seq.set(last + 1);
        Ok(writer)
    }

    /// The lock for a lake of any format (`tally lake upgrade`), with an interrupted
    /// upgrade finished; nothing else is touched.
    pub fn open_for_maintenance(lake: &Lake, wait: Duration) -> Result<LakeWriter, IngestError> {
        let writer = LakeWriter::lock(lake, wait)?;
        crate::maintain::finish_interrupted_changes(lake)?;
        Ok(writer)
    }

    fn lock(lake: &Lake, wait: Duration) -> Result<LakeWriter, IngestError> {
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
                    return Err(IngestError::Locked {
                        lake: lake.root().into(),
                        lock: lock_path,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(IngestError::Io {
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

    fn ledger(&self) -> Result<Vec<LedgerEntry>, IngestError> {
        self.lake
            .read_ledger()
            .map_err(|e| format_error(&self.lake, e))
    }

    /// The lake's `_lake.json`.
    pub fn meta(&self) -> Result<LakeMeta, IngestError> {
        Ok(self
            .lake
            .meta()
            .map_err(io(self.lake.root()))?
            .unwrap_or_default())
    }

    /// Marks a new lake as a demo lake (synthetic data under the public demo key).
    pub fn mark_demo(&self) -> Result<(), IngestError> {
        let mut meta = self.meta()?;
        meta.demo = true;
        self.lake.write_meta(&meta).map_err(io(self.lake.root()))
    }

    /// Records the key's fingerprint in the lake, once: its first ingest of identifiers.
    pub fn remember_key(&self, fingerprint: &str) -> Result<(), IngestError> {
        let mut meta = self.meta()?;
        if meta.key_fingerprint.is_none() {
            meta.key_fingerprint = Some(fingerprint.to_string());
            self.lake.write_meta(&meta).map_err(io(self.lake.root()))?;
        }
        Ok(())
    }

    /// Deletes what an interrupted batch left: the staging folder, and Parquet or
    /// quarantine files that no ledger entry names.
    fn recover(&self) -> Result<(), IngestError> {
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
    pub fn committed(&self) -> Result<HashMap<String, LedgerEntry>, IngestError> {
        Ok(self
            .ledger()?
            .into_iter()
            .map(|e| (e.summary.sha256.clone(), e))
            .collect())
    }

    /// A clean staging folder for one batch: the engine writes its Parquet parts and its
    /// quarantine file there while it reads the input.
    pub fn stage(&self, batch: &str) -> Result<PathBuf, IngestError> {
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

    /// Commits one staged batch all-or-nothing and returns its ledger entry: every part
    /// (already fsynced) is renamed into its partition, then the ledger entry is written.
    pub fn commit(
        &self,
        batch: &str,
        parts: &[StagedPart],
        quarantine: Option<&Path>,
        summary: FileSummary,
        rows_stored: u64,
    ) -> Result<LedgerEntry, IngestError> {
        if !summary.is_balanced() {
            return Err(IngestError::Unbalanced {
                path: summary.file.clone().into(),
                read: summary.rows_read,
                accepted: summary.rows_accepted,
                quarantined: summary.rows_quarantined,
                excluded: summary.rows_excluded,
            });
        }
        let root = self.lake.root();
        let staging = self.lake.staging_dir().join(batch);
        let mut moves: Vec<(PathBuf, String)> = parts
            .iter()
            .filter(|p| p.rows > 0)
            .map(|p| (p.tmp.clone(), p.rel.clone()))
            .collect();
        let quarantine_rel = quarantine.map(|q| {
            let rel = Lake::quarantine_rel_path(batch);
            moves.push((q.to_path_buf(), rel.clone()));
            rel
        });
        for (tmp, rel) in &moves {
            let dest = root.join(rel);
            let parent = dest.parent().expect("lake paths have a parent");
            std::fs::create_dir_all(parent).map_err(io(parent))?;
            std::fs::rename(tmp, &dest).map_err(io(&dest))?;
            sync_dir(parent)?;
        }
        let seq = self.next_seq.get();
        let entry = LedgerEntry {
            batch: batch.to_string(),
            seq,
            summary,
            rows_stored,
            parquet: moves
                .iter()
                .filter(|(_, rel)| rel.ends_with(".parquet"))
                .map(|(_, rel)| rel.clone())
                .collect(),
            quarantine: quarantine_rel,
            quarantine_deleted: None,
            tally_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let ledger_dir = self.lake.ledger_dir();
        std::fs::create_dir_all(&ledger_dir).map_err(io(&ledger_dir))?;
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        let tmp = staging.join("ledger.json");
        let mut json = serde_json::to_vec_pretty(&entry).expect("ledger entries serialise");
        json.push(b'\n');
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&json)
            .and_then(|()| f.sync_all())
            .map_err(io(&tmp))?;
        let dest = self.lake.ledger_path(batch);
        std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
        sync_dir(&ledger_dir)?;
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
    pub fn rewrite_entry(&self, entry: &LedgerEntry) -> Result<(), IngestError> {
        let staging = self.lake.staging_dir();
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        let tmp = staging.join(format!("{}.json", entry.batch));
        let mut json = serde_json::to_vec_pretty(entry).expect("ledger entries serialise");
        json.push(b'\n');
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&json)
            .and_then(|()| f.sync_all())
            .map_err(io(&tmp))?;
        let dest = self.lake.ledger_path(&entry.batch);
        std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
        sync_dir(&self.lake.ledger_dir())?;
        let _ = std::fs::remove_dir(&staging);
        Ok(())
    }

    /// Every committed batch, in commit order.
    pub fn entries(&self) -> Result<Vec<LedgerEntry>, IngestError> {
        self.ledger()
    }
}
