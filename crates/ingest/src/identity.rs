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
//! Rows the lake already has are found in the partitions the file's rows fall in only:
//! the keys of a month are read from the Parquet files the ledger names for it, once,
//! when a row of that month first appears.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use polars::prelude::*;
use tally_model::{Lake, LedgerEntry, Table, partition_month};

use crate::IngestError;

/// How the rows of one input record are told apart from every other record's.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    /// The export's own key for the record.
    Record(&'a str),
    /// The current state of the thing this id names.
    State(&'a str),
    /// No key: the content, with multiplicity.
    Content,
}

/// A hasher for keys that are already xxh3 hashes.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type KeySet = HashSet<u64, BuildHasherDefault<KeyHasher>>;
type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// The key of a record key (or a thing's id) of a format.
pub fn record_hash(source: &str, record: &str) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(source.as_bytes());
    h.update(&[0xff]);
    h.update(record.as_bytes());
    h.digest()
}

/// The key of the `n`-th row of a record, or of the `n`-th copy of a row.
pub fn nth(base: u64, n: u64) -> u64 {
    if n == 0 {
        base
    } else {
        xxhash_rust::xxh3::xxh3_64(&[base.to_le_bytes(), n.to_le_bytes()].concat())
    }
}

/// What one file has shown so far: its record keys, and how often each row content
/// occurred.
#[derive(Default)]
pub struct FileIndex {
    records: KeySet,
    seen: KeySet,
    /// Contents seen more than once, with the copies seen.
    repeats: KeyMap<u64>,
}

impl FileIndex {
    /// Whether this record key is new in the file (and remembers it).
    pub fn first_record(&mut self, key: u64) -> bool {
        self.records.insert(key)
    }

    /// How many copies of this content the file had before this one.
    pub fn copies_before(&mut self, base: u64) -> u64 {
        if self.seen.insert(base) {
            return 0;
        }
        let n = self.repeats.entry(base).or_insert(1);
        *n += 1;
        *n - 1
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
        if entry.summary.table != self.table.name() {
            return;
        }
        for rel in &entry.parquet {
            if let Some(m) = partition_month(rel) {
                self.files.entry(m).or_default().push(rel.clone());
            }
        }
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
                let path = self.lake.root().join(rel);
                let file = std::fs::File::open(&path).map_err(|source| IngestError::Io {
                    path: path.clone(),
                    source,
                })?;
                let df = ParquetReader::new(file)
                    .with_columns(Some(vec!["row_key".into()]))
                    .finish()
                    .map_err(|source| IngestError::Parquet {
                        path: path.clone(),
                        source,
                    })?;
                let col = df
                    .column("row_key")
                    .and_then(|c| c.u64().cloned())
                    .map_err(|source| IngestError::Parquet {
                        path: path.clone(),
                        source,
                    })?;
                keys.extend(col.into_no_null_iter());
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_counted_per_content() {
        let mut f = FileIndex::default();
        assert_eq!(f.copies_before(7), 0);
        assert_eq!(f.copies_before(8), 0);
        assert_eq!(f.copies_before(7), 1);
        assert_eq!(f.copies_before(7), 2);
        assert!(f.first_record(1));
        assert!(!f.first_record(1));
        assert_ne!(nth(5, 1), nth(5, 2));
        assert_eq!(nth(5, 0), 5);
    }
}
