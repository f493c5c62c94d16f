//! What an adapter produces: canonical rows, built column by column per month partition
//! and handed to the part writer in bounded chunks, and the count of every input row's
//! fate, with quarantined rows streamed to the batch's quarantine file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use tally_model::{QUARANTINE_COLUMNS, Table};

use crate::IngestError;
pub use crate::pseudo::Pseudonym;

/// One value of a canonical row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    /// A constant word (an event, a status): no allocation.
    Static(&'static str),
    /// A pseudonym: 32 hex digits, no allocation.
    Key(Pseudonym),
    /// UTC microseconds.
    Time(i64),
    /// Days since 1970-01-01.
    Date(i32),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Value {
    /// A pseudonym, or null.
    pub fn key(k: Option<Pseudonym>) -> Value {
        k.map_or(Value::Null, Value::Key)
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Static(s) => Some(s),
            Value::Key(k) => Some(k.as_str()),
            _ => None,
        }
    }

    /// Text, or null when empty.
    pub fn text(s: &str) -> Value {
        if s.is_empty() {
            Value::Null
        } else {
            Value::Str(s.to_string())
        }
    }

    pub fn date(d: chrono::NaiveDate) -> Value {
        Value::Date(
            (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32,
        )
    }

    /// The partition month (UTC year * 12 + month - 1) of a time or date value.
    pub fn month(&self) -> Option<i32> {
        let days = match self {
            Value::Time(us) => us.div_euclid(86_400_000_000) as i32,
            Value::Date(d) => *d,
            _ => return None,
        };
        let (y, m, _) = civil_from_days(days);
        Some(y * 12 + m as i32 - 1)
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// algorithm): the partition of every row is computed with it, so it must be cheap.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = i64::from(z) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// The content key of a row: xxh3 of the source format and the values, each with a type
/// tag and a length, so different rows cannot run together into one byte string.
pub fn row_key(source: &str, row: &[Value]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(source.as_bytes());
    for v in row {
        match v {
            Value::Null => h.update(&[0]),
            // Every string variant hashes alike: the key depends on the text only.
            Value::Str(_) | Value::Static(_) | Value::Key(_) => {
                let s = v.as_str().expect("a string value");
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

/// One column being built, typed by the table's schema.
enum Buffer {
    Str(StringChunkedBuilder),
    Time(Vec<Option<i64>>),
    Date(Vec<Option<i32>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

impl Buffer {
    fn new(dtype: &DataType) -> Buffer {
        match dtype {
            DataType::String => Buffer::Str(StringChunkedBuilder::new(PlSmallStr::EMPTY, 1024)),
            DataType::Datetime(_, _) => Buffer::Time(Vec::new()),
            DataType::Date => Buffer::Date(Vec::new()),
            DataType::Int64 => Buffer::Int(Vec::new()),
            DataType::Float64 => Buffer::Float(Vec::new()),
            DataType::Boolean => Buffer::Bool(Vec::new()),
            other => unreachable!("canonical schemas use no {other}"),
        }
    }
}

/// The rows of one month partition, column by column.
struct MonthRows {
    buffers: Vec<Buffer>,
    keys: Vec<u64>,
}

/// Canonical rows of one table, in the schema's order (without `row_key`, `source` and
/// `batch`, which are added here), kept per month partition until about `chunk_bytes`
/// are buffered, then taken as frames. Every adapter fills one of these, so the lake's
/// columns and types are defined once, in tally-model.
pub struct Rows {
    table: Table,
    names: Vec<PlSmallStr>,
    dtypes: Vec<DataType>,
    /// Position of the partition column among the row's values.
    partition: usize,
    months: BTreeMap<i32, MonthRows>,
    /// Estimated bytes buffered.
    bytes: usize,
    pub chunk_bytes: usize,
    /// Rows pushed in all.
    pub pushed: u64,
}

impl Rows {
    pub fn new(table: Table, chunk_bytes: usize) -> Rows {
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
        Rows {
            table,
            names,
            dtypes,
            partition,
            months: BTreeMap::new(),
            bytes: 0,
            chunk_bytes: chunk_bytes.max(1),
            pushed: 0,
        }
    }

    /// The position of the partition column in a row of values.
    pub fn partition_index(&self) -> usize {
        self.partition
    }

    /// Appends one row with its key to its month; values in schema order. A value of the
    /// wrong type is a bug in the adapter, caught by the tests.
    pub fn push(&mut self, month: i32, row: Vec<Value>, key: u64) {
        let dtypes = &self.dtypes;
        let part = self.months.entry(month).or_insert_with(|| MonthRows {
            buffers: dtypes.iter().map(Buffer::new).collect(),
            keys: Vec::new(),
        });
        part.keys.push(key);
        let mut bytes = 24;
        let mut n = 0;
        for (buffer, value) in part.buffers.iter_mut().zip(row) {
            bytes += 9;
            match (buffer, value) {
                (Buffer::Str(v), Value::Null) => v.append_null(),
                (Buffer::Str(v), value @ (Value::Str(_) | Value::Static(_) | Value::Key(_))) => {
                    let s = value.as_str().expect("a string value");
                    bytes += s.len() + 16;
                    v.append_value(s)
                }
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
                (_, value) => panic!(
                    "{}.{}: value {value:?} of the wrong type",
                    self.table, self.names[n]
                ),
            }
            n += 1;
        }
        assert_eq!(
            n,
            self.names.len(),
            "{}: a row of {n} values, expected {}",
            self.table,
            self.names.len()
        );
        self.bytes += bytes;
        self.pushed += 1;
    }

    /// Estimated bytes buffered.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_full(&self) -> bool {
        self.bytes >= self.chunk_bytes
    }

    /// Takes the buffered rows as one frame per month, with `row_key`, `source` and
    /// `batch`, in the order they were pushed.
    pub fn take(&mut self, source: &str, batch: &str) -> PolarsResult<Vec<(i32, DataFrame)>> {
        self.bytes = 0;
        let months = std::mem::take(&mut self.months);
        let mut frames = Vec::with_capacity(months.len());
        for (month, part) in months {
            let n = part.keys.len();
            let mut columns: Vec<Column> = Vec::with_capacity(self.names.len() + 3);
            for (name, buffer) in self.names.iter().cloned().zip(part.buffers) {
                columns.push(match buffer {
                    Buffer::Str(v) => v.finish().with_name(name).into_column(),
                    Buffer::Time(v) => Int64Chunked::from_iter_options(name, v.into_iter())
                        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                        .into_column(),
                    Buffer::Date(v) => Int32Chunked::from_iter_options(name, v.into_iter())
                        .into_date()
                        .into_column(),
                    Buffer::Int(v) => Column::new(name, v),
                    Buffer::Float(v) => Column::new(name, v),
                    Buffer::Bool(v) => Column::new(name, v),
                });
            }
            columns.push(Column::new("row_key".into(), part.keys));
            columns.push(StringChunked::full("source".into(), source, n).into_column());
            columns.push(StringChunked::full("batch".into(), batch, n).into_column());
            frames.push((month, DataFrame::new(n, columns)?));
        }
        Ok(frames)
    }
}

/// The quarantine file of a batch, written as rows are rejected (created at the first).
pub struct QuarantineFile {
    path: PathBuf,
    file_name: String,
    writer: Option<csv::Writer<File>>,
}

impl QuarantineFile {
    pub fn new(path: PathBuf, file_name: String) -> QuarantineFile {
        QuarantineFile {
            path,
            file_name,
            writer: None,
        }
    }

    fn write(
        &mut self,
        line: u64,
        column: &str,
        reason: &str,
        raw_masked: &str,
    ) -> Result<(), IngestError> {
        let err = |path: &Path, e: csv::Error| IngestError::Io {
            path: path.into(),
            source: e.into(),
        };
        if self.writer.is_none() {
            let mut w = csv::Writer::from_path(&self.path).map_err(|e| err(&self.path, e))?;
            w.write_record(QUARANTINE_COLUMNS)
                .map_err(|e| err(&self.path, e))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("opened above");
        w.write_record([
            self.file_name.as_str(),
            &line.to_string(),
            column,
            reason,
            raw_masked,
        ])
        .map_err(|e| err(&self.path, e))
    }

    /// Flushes and fsyncs; the path when anything was written.
    pub fn finish(self) -> Result<Option<PathBuf>, IngestError> {
        let Some(w) = self.writer else {
            return Ok(None);
        };
        let f = w.into_inner().map_err(|e| IngestError::Io {
            path: self.path.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(|source| IngestError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(Some(self.path))
    }
}

/// The fate of every input row of one file.
pub struct Tally {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub excluded: BTreeMap<String, u64>,
    pub quarantined: BTreeMap<String, u64>,
    pub unknown_sites: BTreeSet<String>,
    pub notes: BTreeMap<String, u64>,
    quarantine_file: Option<QuarantineFile>,
    /// Quarantined rows of a tally with no file (a helper thread's), until absorbed.
    held: Vec<(u64, String, String, String)>,
    /// The first error writing the quarantine file; the file fails with it.
    pub error: Option<IngestError>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new(None)
    }
}

impl Tally {
    pub fn new(quarantine_file: Option<QuarantineFile>) -> Tally {
        Tally {
            rows_read: 0,
            rows_accepted: 0,
            rows_quarantined: 0,
            excluded: BTreeMap::new(),
            quarantined: BTreeMap::new(),
            unknown_sites: BTreeSet::new(),
            notes: BTreeMap::new(),
            quarantine_file,
            held: Vec::new(),
            error: None,
        }
    }

    /// Adds a helper's tally (rows it read after this one's, in the file) to this one,
    /// writing its quarantined rows after this one's.
    pub fn absorb(&mut self, other: &mut Tally) {
        self.rows_read += std::mem::take(&mut other.rows_read);
        self.rows_accepted += std::mem::take(&mut other.rows_accepted);
        self.rows_quarantined += std::mem::take(&mut other.rows_quarantined);
        for (k, n) in std::mem::take(&mut other.excluded) {
            *self.excluded.entry(k).or_default() += n;
        }
        for (k, n) in std::mem::take(&mut other.quarantined) {
            *self.quarantined.entry(k).or_default() += n;
        }
        for (k, n) in std::mem::take(&mut other.notes) {
            *self.notes.entry(k).or_default() += n;
        }
        self.unknown_sites.append(&mut other.unknown_sites);
        for (line, column, reason, raw) in other.held.drain(..) {
            self.write_quarantined(line, &column, &reason, &raw);
        }
    }

    fn write_quarantined(&mut self, line: u64, column: &str, reason: &str, raw_masked: &str) {
        match self.quarantine_file.as_mut() {
            Some(q) => {
                if self.error.is_none()
                    && let Err(e) = q.write(line, column, reason, raw_masked)
                {
                    self.error = Some(e);
                }
            }
            None => self.held.push((
                line,
                column.to_string(),
                reason.to_string(),
                raw_masked.to_string(),
            )),
        }
    }

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
        let kind = reason.split(':').next().unwrap_or(&reason);
        match self.quarantined.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.quarantined.insert(kind.to_string(), 1);
            }
        }
        self.rows_quarantined += 1;
        self.write_quarantined(line, column, &reason, &raw_masked);
    }

    pub fn note(&mut self, note: &str) {
        match self.notes.get_mut(note) {
            Some(n) => *n += 1,
            None => {
                self.notes.insert(note.to_string(), 1);
            }
        }
    }

    pub fn rows_quarantined(&self) -> u64 {
        self.rows_quarantined
    }

    pub fn rows_excluded(&self) -> u64 {
        self.excluded.values().sum()
    }

    pub fn take_quarantine_file(&mut self) -> Option<QuarantineFile> {
        self.quarantine_file.take()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let days = (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32;
        assert_eq!(civil_from_days(days), (2026, 3, 8));
        assert_eq!(Value::Date(days).month(), Some(2026 * 12 + 2));
        assert_eq!(Value::Time(-1).month(), Some(1969 * 12 + 11));
    }
}
