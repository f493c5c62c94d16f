//! How rows are stored and told apart: pseudonyms as the lake keeps them, a row's cells,
//! its content key ([`row_key`]), the key of a record's `n`-th row ([`nth`]) and of an
//! export's own record key ([`record_hash`]), and the columns a table's rows fill
//! ([`Layout`]). Ingest keys the rows it writes with these, `tally purge` re-keys the
//! rows it clears with the same, and docs/lake.md states the rules for users. The bytes
//! hashed are those of every lake written since record identity was introduced: changing
//! them makes a re-ingested export look new.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use polars::prelude::*;
use tally_model::Table;

/// A pseudonym: the first 16 bytes of the identifier's HMAC. The lake stores the first
/// eight, big-endian, as a 64-bit number ([`Pseudonym::value`]); content keys hash all 16
/// as 32 hex digits (as the first lake format stored them, so keys stay the same), kept
/// here so that a row's key costs no encoding. The number is signed, as every Parquet
/// reader (Spark too) reads it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pseudonym {
    value: i64,
    hex: [u8; 32],
}

impl Pseudonym {
    /// From the HMAC of an identifier (at least 16 bytes).
    pub fn from_mac(bytes: &[u8]) -> Pseudonym {
        let mut hex = [0u8; 32];
        hex::encode_to_slice(&bytes[..16], &mut hex).expect("32 hex digits for 16 bytes");
        Pseudonym {
            value: i64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")),
            hex,
        }
    }

    /// The number stored in the lake.
    pub fn value(&self) -> i64 {
        self.value
    }

    /// The 32 hex digits of the 16 bytes.
    pub fn hex(&self) -> &[u8; 32] {
        &self.hex
    }
}

impl std::fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.value)
    }
}

/// One value of a canonical row, borrowed from the record it was read from. Adapters
/// build a row as a small array of cells on the stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Str(&'a str),
    /// A pseudonym: stored as its 64-bit number.
    Key(Pseudonym),
    /// UTC microseconds.
    Time(i64),
    /// Days since 1970-01-01.
    Date(i32),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl<'a> Cell<'a> {
    /// Text, or null when empty.
    pub fn text(s: &'a str) -> Cell<'a> {
        if s.is_empty() {
            Cell::Null
        } else {
            Cell::Str(s)
        }
    }

    /// A pseudonym, or null.
    pub fn key(k: Option<Pseudonym>) -> Cell<'a> {
        k.map_or(Cell::Null, Cell::Key)
    }

    pub fn time(t: Option<i64>) -> Cell<'a> {
        t.map_or(Cell::Null, Cell::Time)
    }

    pub fn date(d: chrono::NaiveDate) -> Cell<'a> {
        Cell::Date(tally_model::calendar::days_since_epoch(d))
    }

    pub fn opt_date(d: Option<chrono::NaiveDate>) -> Cell<'a> {
        d.map_or(Cell::Null, Cell::date)
    }

    pub fn int(v: Option<i64>) -> Cell<'a> {
        v.map_or(Cell::Null, Cell::Int)
    }

    pub fn float(v: Option<f64>) -> Cell<'a> {
        v.map_or(Cell::Null, Cell::Float)
    }

    pub fn bool(v: Option<bool>) -> Cell<'a> {
        v.map_or(Cell::Null, Cell::Bool)
    }

    /// The partition month (UTC year * 12 + month - 1) of a time or date value.
    pub fn month(&self) -> Option<i32> {
        let days = match self {
            Cell::Time(us) => us.div_euclid(86_400_000_000) as i32,
            Cell::Date(d) => *d,
            _ => return None,
        };
        let (y, m, _) = tally_model::calendar::civil_from_days(days);
        Some(y * 12 + m as i32 - 1)
    }
}

/// The content key of a row: xxh3 of the source format and the values, each with a type
/// tag and a length, so different rows cannot run together into one byte string. (The
/// bytes hashed are those of every lake written since record identity was introduced.)
pub fn row_key(source: &str, row: &[Cell<'_>]) -> u64 {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.extend_from_slice(source.as_bytes());
        for v in row {
            match v {
                Cell::Null => b.push(0),
                Cell::Str(s) => {
                    b.push(1);
                    b.extend_from_slice(&(s.len() as u64).to_le_bytes());
                    b.extend_from_slice(s.as_bytes());
                }
                // A pseudonym hashes as the 32 hex digits the first lake format stored.
                Cell::Key(k) => {
                    b.push(1);
                    b.extend_from_slice(&32u64.to_le_bytes());
                    b.extend_from_slice(k.hex());
                }
                Cell::Time(t) => {
                    b.push(2);
                    b.extend_from_slice(&t.to_le_bytes());
                }
                Cell::Date(d) => {
                    b.push(3);
                    b.extend_from_slice(&d.to_le_bytes());
                }
                Cell::Int(i) => {
                    b.push(4);
                    b.extend_from_slice(&i.to_le_bytes());
                }
                Cell::Float(f) => {
                    b.push(5);
                    b.extend_from_slice(&f.to_bits().to_le_bytes());
                }
                Cell::Bool(x) => b.extend_from_slice(&[6, u8::from(*x)]),
            }
        }
        xxhash_rust::xxh3::xxh3_64(&b)
    })
}

/// A row with its pseudonyms cleared: what `tally purge` leaves of a row, and the cells
/// its content key is then made of.
pub fn without_keys<'a>(row: &[Cell<'a>]) -> Vec<Cell<'a>> {
    row.iter()
        .map(|c| match c {
            Cell::Key(_) => Cell::Null,
            other => *other,
        })
        .collect()
}

/// Whether a column holds pseudonyms (keyed hashes of identifiers).
pub fn is_pseudonym(column: &str) -> bool {
    column.ends_with("_key") && column != "row_key"
}

/// The columns an adapter fills for one table: the schema without `row_key`, `source`
/// and `batch` (added when a chunk becomes a frame). Defined once, from tally-model.
#[derive(Debug, Clone)]
pub struct Layout {
    pub table: Table,
    names: Vec<PlSmallStr>,
    dtypes: Vec<DataType>,
    /// Position of the partition column among a row's cells.
    pub partition: usize,
    /// Rows whose partition time is before this instant (a purged period) are stored
    /// without keys and identified by their content ([`Chunk::push_record`]).
    anonymise_before: Option<i64>,
}

impl Layout {
    pub fn of(table: Table) -> Layout {
        let schema = table.schema();
        let (mut names, mut dtypes) = (Vec::new(), Vec::new());
        for (name, dtype) in schema.iter() {
            if name == "source" || name == "batch" || name == "row_key" {
                continue;
            }
            names.push(name.clone());
            dtypes.push(dtype.clone());
        }
        let partition = names
            .iter()
            .position(|n| n == table.partition_column())
            .expect("the partition column is in the schema");
        Layout {
            table,
            names,
            dtypes,
            partition,
            anonymise_before: None,
        }
    }

    /// The layout for a lake purged before `instant`: rows before it lose their keys.
    pub fn anonymised_before(mut self, instant: Option<i64>) -> Layout {
        self.anonymise_before = instant.filter(|_| self.has_keys());
        self
    }

    /// Whether the table's rows carry pseudonyms (what a purge clears).
    pub fn has_keys(&self) -> bool {
        self.names.iter().any(|n| is_pseudonym(n))
    }

    /// Whether this row falls in a purged period.
    pub fn purged(&self, row: &[Cell<'_>]) -> bool {
        match (self.anonymise_before, &row[self.partition]) {
            (Some(before), Cell::Time(t)) => *t < before,
            _ => false,
        }
    }

    pub fn width(&self) -> usize {
        self.names.len()
    }

    pub fn names(&self) -> &[PlSmallStr] {
        &self.names
    }

    pub fn dtypes(&self) -> &[DataType] {
        &self.dtypes
    }
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
pub type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// The key of a record key (or a thing's id) of a format: xxh3 of the format's name, a
/// 0xFF byte and the key's parts joined by U+001F.
pub fn record_hash(source: &str, parts: &[&str]) -> u64 {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.extend_from_slice(source.as_bytes());
        b.push(0xff);
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                b.push(0x1f);
            }
            b.extend_from_slice(p.as_bytes());
        }
        xxhash_rust::xxh3::xxh3_64(&b)
    })
}

/// The key of the `n`-th row of a record, or of the `n`-th copy of a row.
pub fn nth(base: u64, n: u64) -> u64 {
    if n == 0 {
        base
    } else {
        xxhash_rust::xxh3::xxh3_64(&[base.to_le_bytes(), n.to_le_bytes()].concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_know_their_partition_month() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let days = tally_model::calendar::days_since_epoch(d);
        assert_eq!(Cell::Date(days).month(), Some(2026 * 12 + 2));
        assert_eq!(Cell::Time(-1).month(), Some(1969 * 12 + 11));
    }

    #[test]
    fn content_keys_are_the_streaming_hash_of_tagged_values() {
        // The bytes of every lake written since record identity: source, then per value
        // a tag, and a length for strings.
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(b"src");
        h.update(&[1]);
        h.update(&3u64.to_le_bytes());
        h.update(b"CEN");
        h.update(&[0]);
        h.update(&[2]);
        h.update(&7i64.to_le_bytes());
        assert_eq!(
            row_key("src", &[Cell::Str("CEN"), Cell::Null, Cell::Time(7)]),
            h.digest()
        );
    }
}
