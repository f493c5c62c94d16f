//! Record identity: what makes two rows of an export two records, and how a row the lake
//! already holds is recognised. The rules (docs/lake.md says them for users):
//!
//! - A format whose export has a key of its own declares it ([`Identity::Record`]):
//!   EnvisionWare's pcrKey, Libki's session_id, Koha's issue_id, Evergreen's circulation
//!   id, a Windows Logon ID. Its rows are keyed by that key and their place within the
//!   record; a key repeated within one file is a duplicate, and nothing else is.
//! - A table that holds the current state of a thing (tickets, assets, totals) keys each
//!   row by its content ([`Identity::State`]): a re-export with the same state is
//!   already in the lake, a changed one is a new row and the latest batch wins when
//!   read. The thing's own id repeated within one file is a duplicate.
//! - Where the export has no key ([`Identity::Content`]), identity is the row's content
//!   with multiplicity: the n-th copy of a row within a file gets its own key, the same
//!   in every export, so k copies are k records and an overlapping export adds only the
//!   copies the lake does not have.
//!
//! Both the file's own keys and the lake's are kept per partition month (a record's
//! month is its first row's): a key repeated within one month of a file is a duplicate.
//!
//! Rows the lake already has are found in the partitions the file's rows fall in only:
//! the keys of a month are read from the Parquet files the ledger names for it, once,
//! when a row of that month first appears.

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;
pub use tally_lake::{KeyMap, KeySet, nth, record_hash};
use tally_lake::{Lake, LedgerEntry};
use tally_model::Table;

use crate::IngestError;

/// How the rows of one input record are told apart from every other record's.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    /// The export's own key for the record.
    Record(&'a str),
    /// The export's key made of several fields (joined by U+001F when hashed).
    RecordOf(&'a [&'a str]),
    /// The current state of the thing this id names.
    State(&'a str),
    /// The same, with an id made of several fields.
    StateOf(&'a [&'a str]),
    /// No key: the content, with multiplicity.
    Content,
}

/// What one month of a file has shown so far: its record keys, and how often each row
/// content occurred.
#[derive(Default)]
struct MonthIndex {
    records: KeySet,
    seen: KeySet,
    /// Contents seen more than once, with the copies seen.
    repeats: KeyMap<u64>,
    last_used: u64,
}

impl MonthIndex {
    fn len(&self) -> usize {
        self.records.len() + self.seen.len() + self.repeats.len()
    }

    fn write(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        for (set, tag) in [(&self.records, 0u8), (&self.seen, 1u8)] {
            w.write_all(&[tag])?;
            w.write_all(&(set.len() as u64).to_le_bytes())?;
            for k in set {
                w.write_all(&k.to_le_bytes())?;
            }
        }
        w.write_all(&(self.repeats.len() as u64).to_le_bytes())?;
        for (k, n) in &self.repeats {
            w.write_all(&k.to_le_bytes())?;
            w.write_all(&n.to_le_bytes())?;
        }
        w.flush()
    }

    fn read(path: &std::path::Path) -> std::io::Result<MonthIndex> {
        let bytes = std::fs::read(path)?;
        let mut at = 0usize;
        let u64_at = |at: &mut usize| -> std::io::Result<u64> {
            let b = bytes
                .get(*at..*at + 8)
                .ok_or_else(|| std::io::Error::other("identity spill file cut short"))?;
            *at += 8;
            Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
        };
        let mut m = MonthIndex::default();
        for set in [&mut m.records, &mut m.seen] {
            at += 1;
            let n = u64_at(&mut at)? as usize;
            set.reserve(n);
            for _ in 0..n {
                set.insert(u64_at(&mut at)?);
            }
        }
        let n = u64_at(&mut at)? as usize;
        for _ in 0..n {
            let k = u64_at(&mut at)?;
            m.repeats.insert(k, u64_at(&mut at)?);
        }
        Ok(m)
    }
}

/// What one file has shown so far, per partition month: a record's identity is its key
/// within its month (as the lake's keys are looked up per month). At most `max_keys`
/// keys are held; past that the months least recently used are written to the batch's
/// staging folder and read back if the file returns to them (an export in time order
/// never does), so memory does not grow with the file.
pub struct FileIndex {
    months: HashMap<i32, MonthIndex>,
    spilled: HashSet<i32>,
    spill_dir: std::path::PathBuf,
    held: usize,
    max_keys: usize,
    clock: u64,
}

impl FileIndex {
    pub fn new(spill_dir: std::path::PathBuf, max_keys: usize) -> FileIndex {
        FileIndex {
            months: HashMap::new(),
            spilled: HashSet::new(),
            spill_dir,
            held: 0,
            max_keys: max_keys.max(1),
            clock: 0,
        }
    }

    fn spill_path(&self, month: i32) -> std::path::PathBuf {
        self.spill_dir.join(format!("identity-{month}.bin"))
    }

    fn month(&mut self, month: i32) -> std::io::Result<&mut MonthIndex> {
        self.clock += 1;
        if !self.months.contains_key(&month) {
            let m = if self.spilled.remove(&month) {
                let path = self.spill_path(month);
                let m = MonthIndex::read(&path)?;
                let _ = std::fs::remove_file(&path);
                m
            } else {
                MonthIndex::default()
            };
            self.held += m.len();
            self.months.insert(month, m);
            self.evict(month)?;
        }
        let m = self.months.get_mut(&month).expect("inserted above");
        m.last_used = self.clock;
        Ok(m)
    }

    /// Writes the least recently used months (never `keep`) to disk while over the cap.
    fn evict(&mut self, keep: i32) -> std::io::Result<()> {
        while self.held > self.max_keys {
            let Some((&oldest, _)) = self
                .months
                .iter()
                .filter(|(m, _)| **m != keep)
                .min_by_key(|(_, m)| m.last_used)
            else {
                return Ok(());
            };
            let m = self.months.remove(&oldest).expect("present");
            std::fs::create_dir_all(&self.spill_dir)?;
            m.write(&self.spill_path(oldest))?;
            self.held -= m.len();
            self.spilled.insert(oldest);
        }
        Ok(())
    }

    /// Whether this record key is new in its month of the file (and remembers it).
    pub fn first_record(&mut self, month: i32, key: u64) -> std::io::Result<bool> {
        let fresh = self.month(month)?.records.insert(key);
        if fresh {
            self.grew(month)?;
        }
        Ok(fresh)
    }

    /// How many copies of this content the file had before this one (in its month: the
    /// same content has the same time, so the same month).
    pub fn copies_before(&mut self, month: i32, base: u64) -> std::io::Result<u64> {
        let m = self.month(month)?;
        if m.seen.insert(base) {
            self.grew(month)?;
            return Ok(0);
        }
        let n = match m.repeats.get_mut(&base) {
            Some(n) => {
                *n += 1;
                *n - 1
            }
            None => {
                m.repeats.insert(base, 2);
                self.grew(month)?;
                1
            }
        };
        Ok(n)
    }

    fn grew(&mut self, month: i32) -> std::io::Result<()> {
        self.held += 1;
        if self.held > self.max_keys {
            self.evict(month)?;
        }
        Ok(())
    }

    /// Keys held in memory.
    pub fn held(&self) -> usize {
        self.held
    }
}

/// The keys of the rows the lake holds, per month partition of one table, read when a
/// month is first asked for. At most `max_keys` are held; past that the cache starts over.
pub struct LakeIndex {
    lake: Lake,
    table: Table,
    /// Committed Parquet files per month, from the ledger.
    files: BTreeMap<i32, Vec<String>>,
    /// Per month: how many of its files were read, and their keys.
    loaded: HashMap<i32, (usize, KeySet)>,
    held: usize,
    max_keys: usize,
}

impl LakeIndex {
    pub fn new(lake: &Lake, table: Table, ledger: &[LedgerEntry], max_keys: usize) -> LakeIndex {
        let mut index = LakeIndex {
            lake: lake.clone(),
            table,
            files: BTreeMap::new(),
            loaded: HashMap::new(),
            held: 0,
            max_keys: max_keys.max(1),
        };
        for e in ledger {
            index.add(e);
        }
        index
    }

    /// A newly committed batch: its files join their months (read when next asked).
    pub fn add(&mut self, entry: &LedgerEntry) {
        for rel in entry.files_of(self.table) {
            if let Some(m) = tally_lake::partition_month(rel) {
                self.files.entry(m).or_default().push(rel.to_string());
            }
        }
    }

    /// The row keys of one committed Parquet file.
    fn file_keys(&self, rel: &str) -> Result<UInt64Chunked, IngestError> {
        Ok(self.lake.row_keys(rel)?)
    }

    /// Whether the lake holds a row with this key in this month.
    pub fn contains(&mut self, month: i32, key: u64) -> Result<bool, IngestError> {
        let Some(files) = self.files.get(&month) else {
            return Ok(false);
        };
        let loaded = self.loaded.get(&month).map_or(0, |(n, _)| *n);
        if loaded < files.len() {
            let mut keys = Vec::new();
            for rel in &files[loaded..] {
                keys.extend(self.file_keys(rel)?.into_no_null_iter());
            }
            if self.held + keys.len() > self.max_keys {
                // Past the share of the budget: forget the other months (read again
                // if asked for), keep this one.
                let keep = self.loaded.remove(&month);
                self.loaded.clear();
                self.held = keep.as_ref().map_or(0, |(_, k)| k.len());
                if let Some(keep) = keep {
                    self.loaded.insert(month, keep);
                }
            }
            self.held += keys.len();
            let n = files.len();
            let entry = self
                .loaded
                .entry(month)
                .or_insert_with(|| (0, KeySet::default()));
            entry.0 = n;
            entry.1.extend(keys);
        }
        Ok(self
            .loaded
            .get(&month)
            .is_some_and(|(_, k)| k.contains(&key)))
    }

    /// Which of `keys` the lake holds in this month, streaming the month's row keys past
    /// them without keeping them: what a small file (a night's export) costs is its own
    /// keys and one read of the month's key column, however big the month has grown.
    pub fn probe(&self, month: i32, keys: &KeySet) -> Result<KeySet, IngestError> {
        let mut found = KeySet::default();
        if let Some((_, loaded)) = self.loaded.get(&month) {
            found.extend(keys.iter().filter(|k| loaded.contains(k)));
        }
        let done = self.loaded.get(&month).map_or(0, |(n, _)| *n);
        for rel in self.files.get(&month).map_or(&[][..], |f| &f[done..]) {
            for k in self.file_keys(rel)?.into_no_null_iter() {
                if keys.contains(&k) {
                    found.insert(k);
                }
            }
        }
        Ok(found)
    }

    /// Whether the lake has committed files in this month.
    pub fn has_month(&self, month: i32) -> bool {
        self.files.contains_key(&month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_counted_per_content() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = FileIndex::new(dir.path().into(), 1 << 20);
        assert_eq!(f.copies_before(1, 7).unwrap(), 0);
        assert_eq!(f.copies_before(1, 8).unwrap(), 0);
        assert_eq!(f.copies_before(1, 7).unwrap(), 1);
        assert_eq!(f.copies_before(1, 7).unwrap(), 2);
        assert!(f.first_record(1, 1).unwrap());
        assert!(!f.first_record(1, 1).unwrap());
        assert_ne!(nth(5, 1), nth(5, 2));
        assert_eq!(nth(5, 0), 5);
    }

    #[test]
    fn months_over_the_cap_spill_and_come_back_exact() {
        let dir = tempfile::tempdir().unwrap();
        // Three keys at most in memory: every new month pushes the older ones to disk.
        let mut f = FileIndex::new(dir.path().into(), 3);
        for month in 0..10 {
            assert!(f.first_record(month, 100).unwrap());
            assert_eq!(f.copies_before(month, 200).unwrap(), 0);
            assert_eq!(f.copies_before(month, 200).unwrap(), 1);
        }
        assert!(f.held() <= 4, "held {}", f.held());
        for month in (0..10).rev() {
            assert!(!f.first_record(month, 100).unwrap(), "month {month}");
            assert_eq!(f.copies_before(month, 200).unwrap(), 2, "month {month}");
            assert!(f.first_record(month, 101).unwrap());
        }
    }
}
