//! What an adapter produces: canonical rows, and the count of every input row's fate.

use std::collections::BTreeMap;

use polars::prelude::*;
use tally_model::Table;

/// One value of a canonical row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    /// UTC microseconds.
    Time(i64),
    /// Days since 1970-01-01.
    Date(i32),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Value {
    /// Text, or null when empty.
    pub fn text(s: &str) -> Value {
        if s.is_empty() { Value::Null } else { Value::Str(s.to_string()) }
    }

    pub fn opt(s: Option<String>) -> Value {
        s.map_or(Value::Null, Value::Str)
    }

    pub fn date(d: chrono::NaiveDate) -> Value {
        Value::Date((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32)
    }
}

/// One column being built, typed by the table's schema.
enum Buffer {
    Str(Vec<Option<String>>),
    Time(Vec<Option<i64>>),
    Date(Vec<Option<i32>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

/// Canonical rows of one table, column by column, in the schema's order (without
/// `source` and `batch`, which the writer adds). Every adapter fills one of these, so the
/// lake's columns and types are defined once, in tally-model.
pub struct Rows {
    table: Table,
    names: Vec<PlSmallStr>,
    buffers: Vec<Buffer>,
    keys: Vec<u64>,
    len: usize,
}

/// The content key of a row: xxh3 of the source format and the values, each with a type
/// tag and a length, so different rows cannot run together into one byte string.
pub fn row_key(source: &str, row: &[Value]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(source.as_bytes());
    for v in row {
        match v {
            Value::Null => h.update(&[0]),
            Value::Str(s) => {
                h.update(&[1]);
                h.update(&(s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            Value::Time(t) => {
                h.update(&[2]);
                h.update(&t.to_le_bytes());
            }
            Value::Date(d) => {
                h.update(&[3]);
                h.update(&d.to_le_bytes());
            }
            Value::Int(i) => {
                h.update(&[4]);
                h.update(&i.to_le_bytes());
            }
            Value::Float(f) => {
                h.update(&[5]);
                h.update(&f.to_bits().to_le_bytes());
            }
            Value::Bool(b) => h.update(&[6, u8::from(*b)]),
        }
    }
    h.digest()
}

impl Rows {
    pub fn new(table: Table) -> Rows {
        let schema = table.schema();
        let (mut names, mut buffers) = (Vec::new(), Vec::new());
        for (name, dtype) in schema.iter() {
            if name == "source" || name == "batch" || name == "row_key" {
                continue;
            }
            names.push(name.clone());
            buffers.push(match dtype {
                DataType::String => Buffer::Str(Vec::new()),
                DataType::Datetime(_, _) => Buffer::Time(Vec::new()),
                DataType::Date => Buffer::Date(Vec::new()),
                DataType::Int64 => Buffer::Int(Vec::new()),
                DataType::Float64 => Buffer::Float(Vec::new()),
                DataType::Boolean => Buffer::Bool(Vec::new()),
                other => unreachable!("canonical schemas use no {other}"),
            });
        }
        Rows { table, names, buffers, keys: Vec::new(), len: 0 }
    }


    /// Appends one row with its content key; values in schema order. A value of the wrong
    /// type is a bug in the adapter, caught by the tests.
    pub fn push(&mut self, row: impl IntoIterator<Item = Value>, key: u64) {
        self.keys.push(key);
        let mut n = 0;
        for (buffer, value) in self.buffers.iter_mut().zip(row) {
            match (buffer, value) {
                (Buffer::Str(v), Value::Str(x)) => v.push(Some(x)),
                (Buffer::Str(v), Value::Null) => v.push(None),
                (Buffer::Time(v), Value::Time(x)) => v.push(Some(x)),
                (Buffer::Time(v), Value::Null) => v.push(None),
                (Buffer::Date(v), Value::Date(x)) => v.push(Some(x)),
                (Buffer::Date(v), Value::Null) => v.push(None),
                (Buffer::Int(v), Value::Int(x)) => v.push(Some(x)),
                (Buffer::Int(v), Value::Null) => v.push(None),
                (Buffer::Float(v), Value::Float(x)) => v.push(Some(x)),
                (Buffer::Float(v), Value::Null) => v.push(None),
                (Buffer::Bool(v), Value::Bool(x)) => v.push(Some(x)),
                (Buffer::Bool(v), Value::Null) => v.push(None),
                (_, value) => panic!("{}.{}: value {value:?} of the wrong type", self.table, self.names[n]),
            }
            n += 1;
        }
        assert_eq!(n, self.buffers.len(), "{}: a row of {n} values, expected {}", self.table, self.buffers.len());
        self.len += 1;
    }

    /// The frame to store, in the order of the table's time column (ties keep the file's
    /// order), so a batch's bytes depend on its input only.
    pub fn into_frame(self, source: &str, batch: &str) -> PolarsResult<DataFrame> {
        let n = self.len;
        let mut columns: Vec<Column> = Vec::with_capacity(self.buffers.len() + 2);
        for (name, buffer) in self.names.into_iter().zip(self.buffers) {
            columns.push(match buffer {
                Buffer::Str(v) => Column::new(name, v),
                Buffer::Time(v) => Int64Chunked::from_iter_options(name, v.into_iter())
                    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                    .into_column(),
                Buffer::Date(v) => Int32Chunked::from_iter_options(name, v.into_iter()).into_date().into_column(),
                Buffer::Int(v) => Column::new(name, v),
                Buffer::Float(v) => Column::new(name, v),
                Buffer::Bool(v) => Column::new(name, v),
            });
        }
        columns.push(Column::new("row_key".into(), self.keys));
        columns.push(Column::new("source".into(), vec![source; n]));
        columns.push(Column::new("batch".into(), vec![batch; n]));
        let df = DataFrame::new(n, columns)?;
        df.sort([self.table.partition_column()], SortMultipleOptions::default().with_maintain_order(true))
    }
}

/// One quarantined input row.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub line: u64,
    pub column: String,
    pub reason: String,
    pub raw_masked: String,
}

/// The fate of every input row of one file.
#[derive(Default)]
pub struct Tally {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub excluded: BTreeMap<String, u64>,
    pub quarantined: BTreeMap<String, u64>,
    pub quarantine: Vec<Quarantined>,
    pub unknown_sites: std::collections::BTreeSet<String>,
    pub notes: BTreeMap<String, u64>,
}

impl Tally {
    pub fn exclude(&mut self, rule: &str) {
        self.exclude_n(rule, 1);
    }

    /// Counts `n` input rows excluded by `rule` (the key is allocated only the first time).
    pub fn exclude_n(&mut self, rule: &str, n: u64) {
        match self.excluded.get_mut(rule) {
            Some(count) => *count += n,
            None => {
                self.excluded.insert(rule.to_string(), n);
            }
        }
    }

    pub fn quarantine(&mut self, line: u64, column: &str, reason: String, raw_masked: String) {
        // Reasons are counted by their kind (the text before the first colon), so the
        // summary groups them; the quarantine file keeps the whole text.
        let kind = reason.split(':').next().unwrap_or(&reason).to_string();
        *self.quarantined.entry(kind).or_default() += 1;
        self.quarantine.push(Quarantined { line, column: column.into(), reason, raw_masked });
    }

    pub fn note(&mut self, note: &str) {
        *self.notes.entry(note.to_string()).or_default() += 1;
    }

    pub fn rows_quarantined(&self) -> u64 {
        self.quarantine.len() as u64
    }

    pub fn rows_excluded(&self) -> u64 {
        self.excluded.values().sum()
    }
}

/// The raw record with the identifier columns replaced by `***`, and any field longer
/// than 200 bytes cut short, so a quarantine file stays readable.
pub fn mask_record(record: &csv::ByteRecord, delimiter: u8, private: &[Option<usize>]) -> String {
    let mut out = String::new();
    for (i, f) in record.iter().enumerate() {
        if i > 0 {
            out.push(delimiter as char);
        }
        if private.contains(&Some(i)) && !f.is_empty() {
            out.push_str("***");
        } else if f.len() > 200 {
            out.push_str(&String::from_utf8_lossy(&f[..200]));
            out.push_str(&format!("...[{} bytes]", f.len()));
        } else {
            out.push_str(&String::from_utf8_lossy(f));
        }
    }
    out
}
