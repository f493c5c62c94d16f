//! What an adapter produces: canonical rows written straight into typed column builders
//! (a [`Chunk`] of a few thousand rows, never a value per allocation), with each row's
//! key and partition month; and the count of every input row's fate ([`Tally`]), with
//! quarantined rows streamed to the batch's quarantine file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use tally_lake::{QUARANTINE_COLUMNS, ReasonCount};

pub use tally_lake::{Cell, Layout, Pseudonym, is_pseudonym, row_key, without_keys};

use crate::IngestError;
use crate::reason::{Code, Fate, Reject, mask_value};

/// One column being built, typed by the table's schema.
enum Col {
    Str(StringChunkedBuilder),
    Time(PrimitiveChunkedBuilder<Int64Type>),
    Date(PrimitiveChunkedBuilder<Int32Type>),
    Int(PrimitiveChunkedBuilder<Int64Type>),
    Float(PrimitiveChunkedBuilder<Float64Type>),
    Bool(BooleanChunkedBuilder),
    Key(PrimitiveChunkedBuilder<Int64Type>),
}

/// How the rows of one record are told apart from other records' (see
/// [`crate::identity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The export's own key.
    Record,
    /// The current state of the thing an id names.
    State,
    /// No key: the content, with multiplicity.
    Content,
}

/// One record as emitted: how many rows it made (they follow in the chunk), how many input
/// rows it stands for, and its key.
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta {
    pub kind: Kind,
    /// The record key (or the thing's id), hashed; 0 for content identity.
    pub hash: u64,
    pub rows: u32,
    pub input_rows: u32,
}

/// Canonical rows of one table, column by column, in the order they were emitted, with
/// each row's key (its content key, or its record key and place) and partition month,
/// and each record's identity. The keeper decides which rows are stored.
pub struct Chunk {
    layout: std::sync::Arc<Layout>,
    cols: Vec<Col>,
    pub keys: Vec<u64>,
    pub months: Vec<i32>,
    /// Rows of a purged period: stored without keys, identified by their content with
    /// multiplicity whatever their record's kind (as `tally purge` re-keyed the rows it
    /// cleared).
    pub anonymous: Vec<bool>,
    pub records: Vec<RecordMeta>,
    bytes: usize,
}

const CHUNK_CAPACITY: usize = 4096;

impl Chunk {
    pub fn new(layout: std::sync::Arc<Layout>) -> Chunk {
        let cols = layout
            .names()
            .iter()
            .zip(layout.dtypes())
            .map(|(name, dtype)| {
                let name = name.clone();
                match dtype {
                    DataType::String => Col::Str(StringChunkedBuilder::new(name, CHUNK_CAPACITY)),
                    DataType::Datetime(_, _) => {
                        Col::Time(PrimitiveChunkedBuilder::new(name, CHUNK_CAPACITY))
                    }
                    DataType::Date => Col::Date(PrimitiveChunkedBuilder::new(name, CHUNK_CAPACITY)),
                    DataType::Int64 if is_pseudonym(&name) => {
                        Col::Key(PrimitiveChunkedBuilder::new(name, CHUNK_CAPACITY))
                    }
                    DataType::Int64 => Col::Int(PrimitiveChunkedBuilder::new(name, CHUNK_CAPACITY)),
                    DataType::Float64 => {
                        Col::Float(PrimitiveChunkedBuilder::new(name, CHUNK_CAPACITY))
                    }
                    DataType::Boolean => {
                        Col::Bool(BooleanChunkedBuilder::new(name, CHUNK_CAPACITY))
                    }
                    other => unreachable!("canonical schemas use no {other}"),
                }
            })
            .collect();
        Chunk {
            layout,
            cols,
            keys: Vec::with_capacity(CHUNK_CAPACITY),
            months: Vec::with_capacity(CHUNK_CAPACITY),
            anonymous: Vec::new(),
            records: Vec::new(),
            bytes: 0,
        }
    }

    /// An empty chunk of the same table.
    pub fn fresh(&self) -> Chunk {
        Chunk::new(self.layout.clone())
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Estimated bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends one record's rows, keyed by `source` and `kind` (see [`Kind`]). A value of
    /// the wrong type or a row of the wrong width is a bug in the adapter, caught by the
    /// tests.
    pub fn push_record(
        &mut self,
        source: &str,
        kind: Kind,
        hash: u64,
        rows: &[&[Cell<'_>]],
        input_rows: u32,
    ) {
        for (i, row) in rows.iter().enumerate() {
            if self.layout.purged(row) {
                let cleared = without_keys(row);
                let key = row_key(source, &cleared);
                self.push_row(&cleared, key);
                self.mark_anonymous(true);
                continue;
            }
            let key = match kind {
                Kind::Record => crate::identity::nth(hash, i as u64),
                Kind::State | Kind::Content => row_key(source, row),
            };
            self.push_row(row, key);
            self.mark_anonymous(false);
        }
        self.records.push(RecordMeta {
            kind,
            hash,
            rows: rows.len() as u32,
            input_rows,
        });
    }

    /// Records whether the row just pushed is anonymous; the list is kept only once a
    /// chunk has such a row (most lakes are never purged).
    fn mark_anonymous(&mut self, anonymous: bool) {
        if anonymous && self.anonymous.len() < self.keys.len() {
            self.anonymous.resize(self.keys.len() - 1, false);
        }
        if anonymous || !self.anonymous.is_empty() {
            self.anonymous.push(anonymous);
        }
    }

    /// Whether row `r` is anonymous (see [`Chunk::anonymous`]).
    pub fn is_anonymous(&self, r: usize) -> bool {
        self.anonymous.get(r).copied().unwrap_or(false)
    }

    fn push_row(&mut self, row: &[Cell<'_>], key: u64) {
        let layout = &self.layout;
        assert_eq!(
            row.len(),
            layout.width(),
            "{}: a row of {} values, expected {}",
            layout.table,
            row.len(),
            layout.width()
        );
        let month = row[layout.partition]
            .month()
            .expect("the partition column is a time or date, never null");
        let mut bytes = 16 + 9 * row.len();
        for (i, (col, cell)) in self.cols.iter_mut().zip(row).enumerate() {
            match (col, *cell) {
                (Col::Str(b), Cell::Null) => b.append_null(),
                (Col::Str(b), Cell::Str(s)) => {
                    bytes += s.len() + 16;
                    b.append_value(s)
                }
                (Col::Key(b), Cell::Key(k)) => b.append_value(k.value()),
                (Col::Key(b), Cell::Null) => b.append_null(),
                (Col::Time(b), Cell::Time(x)) | (Col::Int(b), Cell::Int(x)) => b.append_value(x),
                (Col::Time(b) | Col::Int(b), Cell::Null) => b.append_null(),
                (Col::Date(b), Cell::Date(x)) => b.append_value(x),
                (Col::Date(b), Cell::Null) => b.append_null(),
                (Col::Float(b), Cell::Float(x)) => b.append_value(x),
                (Col::Float(b), Cell::Null) => b.append_null(),
                (Col::Bool(b), Cell::Bool(x)) => b.append_value(x),
                (Col::Bool(b), Cell::Null) => b.append_null(),
                (_, cell) => panic!(
                    "{}.{}: value {cell:?} of the wrong type",
                    layout.table,
                    layout.names()[i]
                ),
            }
        }
        self.keys.push(key);
        self.months.push(month);
        self.bytes += bytes;
    }

    /// The rows as one frame, with `row_key` (from `keys`: the keeper's final keys),
    /// `source` and `batch`, in the order they were emitted.
    pub fn into_frame(self, keys: Vec<u64>, source: &str, batch: &str) -> PolarsResult<DataFrame> {
        let n = keys.len();
        let mut columns: Vec<Column> = Vec::with_capacity(self.cols.len() + 3);
        for col in self.cols {
            columns.push(match col {
                Col::Str(b) => b.finish().into_column(),
                Col::Time(b) => b
                    .finish()
                    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                    .into_column(),
                Col::Date(b) => b.finish().into_date().into_column(),
                Col::Int(b) => b.finish().into_column(),
                Col::Float(b) => b.finish().into_column(),
                Col::Bool(b) => b.finish().into_column(),
                Col::Key(b) => b.finish().into_column(),
            });
        }
        columns.push(UInt64Chunked::from_vec("row_key".into(), keys).into_column());
        columns.push(StringChunked::full("source".into(), source, n).into_column());
        columns.push(StringChunked::full("batch".into(), batch, n).into_column());
        DataFrame::new(n, columns)
    }
}

/// An owned value, for the one adapter whose rows are built from a mapping at run time
/// (`generic`); [`Value::cell`] borrows it as a [`Cell`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    Key(Pseudonym),
    Time(i64),
    Date(i32),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Value {
    pub fn cell(&self) -> Cell<'_> {
        match self {
            Value::Null => Cell::Null,
            Value::Str(s) => Cell::Str(s),
            Value::Key(k) => Cell::Key(*k),
            Value::Time(t) => Cell::Time(*t),
            Value::Date(d) => Cell::Date(*d),
            Value::Int(i) => Cell::Int(*i),
            Value::Float(f) => Cell::Float(*f),
            Value::Bool(b) => Cell::Bool(*b),
        }
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

    fn write(&mut self, q: &Quarantined) -> Result<(), IngestError> {
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
            &q.line.to_string(),
            &q.column,
            q.code.as_str(),
            &q.reason,
            &q.raw_masked,
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

/// One quarantined row, as the quarantine file has it.
struct Quarantined {
    line: u64,
    column: String,
    code: Code,
    reason: String,
    raw_masked: String,
}

/// Details kept per code; more are counted under "(others)", so an export full of
/// strange words cannot grow the ledger without end.
const MAX_DETAILS: usize = 64;

/// The fate of every input row of one file.
pub struct Tally {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub rows_excluded: u64,
    /// Rows per code and detail.
    reasons: BTreeMap<Code, BTreeMap<Box<str>, u64>>,
    pub unknown_sites: BTreeSet<String>,
    pub notes: BTreeMap<String, u64>,
    quarantine_file: Option<QuarantineFile>,
    /// Quarantined rows of a tally with no file (a helper thread's), until absorbed.
    held: Vec<Quarantined>,
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
            rows_excluded: 0,
            reasons: BTreeMap::new(),
            unknown_sites: BTreeSet::new(),
            notes: BTreeMap::new(),
            quarantine_file,
            held: Vec::new(),
            error: None,
        }
    }

    fn count(&mut self, code: Code, detail: &str, n: u64) {
        let details = self.reasons.entry(code).or_default();
        if let Some(c) = details.get_mut(detail) {
            *c += n;
        } else if details.len() < MAX_DETAILS {
            details.insert(detail.into(), n);
        } else {
            *details.entry("(others)".into()).or_default() += n;
        }
    }

    /// Adds a helper's tally (rows it read after this one's, in the file) to this one,
    /// writing its quarantined rows after this one's.
    pub fn absorb(&mut self, other: &mut Tally) {
        self.rows_read += std::mem::take(&mut other.rows_read);
        self.rows_accepted += std::mem::take(&mut other.rows_accepted);
        self.rows_quarantined += std::mem::take(&mut other.rows_quarantined);
        self.rows_excluded += std::mem::take(&mut other.rows_excluded);
        for (code, details) in std::mem::take(&mut other.reasons) {
            for (detail, n) in details {
                self.count(code, &detail, n);
            }
        }
        for (k, n) in std::mem::take(&mut other.notes) {
            *self.notes.entry(k).or_default() += n;
        }
        self.unknown_sites.append(&mut other.unknown_sites);
        for q in std::mem::take(&mut other.held) {
            self.write_quarantined(q);
        }
    }

    fn write_quarantined(&mut self, q: Quarantined) {
        match self.quarantine_file.as_mut() {
            Some(file) => {
                if self.error.is_none()
                    && let Err(e) = file.write(&q)
                {
                    self.error = Some(e);
                }
            }
            None => self.held.push(q),
        }
    }

    /// Counts one input row excluded by a rule; `detail` is the vendor's word that
    /// triggered it (a Koha type, a Symphony command), or "".
    pub fn exclude(&mut self, code: Code, detail: &str) {
        self.exclude_n(code, detail, 1);
    }

    pub fn exclude_n(&mut self, code: Code, detail: &str, n: u64) {
        debug_assert_eq!(code.fate(), Fate::Excluded, "{code} is not an exclusion");
        if n == 0 {
            return;
        }
        self.rows_excluded += n;
        self.count(code, detail, n);
    }

    /// Quarantines one input row. `show_value` says whether the value the reason quotes
    /// may be written as is (its column is one the format declares safe).
    pub fn quarantine(&mut self, line: u64, reject: Reject, show_value: bool, raw_masked: String) {
        self.rows_quarantined += 1;
        self.count(reject.code, &reject.column, 1);
        let reason = reject.text(show_value);
        self.write_quarantined(Quarantined {
            line,
            column: reject.column.into_owned(),
            code: reject.code,
            reason,
            raw_masked,
        });
    }

    pub fn note(&mut self, note: &str) {
        match self.notes.get_mut(note) {
            Some(n) => *n += 1,
            None => {
                self.notes.insert(note.to_string(), 1);
            }
        }
    }

    /// Rows per code, of one fate.
    pub fn by_code(&self, fate: Fate) -> BTreeMap<String, u64> {
        self.reasons
            .iter()
            .filter(|(c, _)| c.fate() == fate)
            .map(|(c, d)| (c.as_str().to_string(), d.values().sum()))
            .collect()
    }

    /// Every code and detail with its rows, quarantines first.
    pub fn reasons(&self) -> Vec<ReasonCount> {
        let mut out: Vec<ReasonCount> = self
            .reasons
            .iter()
            .flat_map(|(code, details)| {
                details.iter().map(|(detail, n)| ReasonCount {
                    fate: code.fate().as_str().to_string(),
                    code: code.as_str().to_string(),
                    detail: detail.to_string(),
                    rows: *n,
                    message: code.prose().to_string(),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (a.fate != "quarantined", &a.code, &a.detail).cmp(&(
                b.fate != "quarantined",
                &b.code,
                &b.detail,
            ))
        });
        out
    }

    pub fn take_quarantine_file(&mut self) -> Option<QuarantineFile> {
        self.quarantine_file.take()
    }
}

/// The longest field a quarantine file shows, in bytes; the rest is cut and counted.
const SHOWN_FIELD_BYTES: usize = 200;

/// The raw record as the quarantine file keeps it: fields at the `safe` positions as
/// written, every other field masked (length and shape kept, see [`mask_value`]), any
/// field longer than 200 bytes cut short. Columns a format does not declare safe (names,
/// e-mail addresses, free text, custom fields) never reach the lake as written.
pub fn mask_record(record: &csv::ByteRecord, delimiter: u8, safe: &[bool]) -> String {
    let mut out = String::new();
    for (i, f) in record.iter().enumerate() {
        if i > 0 {
            out.push(delimiter as char);
        }
        let text = String::from_utf8_lossy(&f[..f.len().min(SHOWN_FIELD_BYTES)]);
        if safe.get(i).copied().unwrap_or(false) {
            out.push_str(&text);
        } else {
            out.push_str(&mask_value(&text));
        }
        if f.len() > SHOWN_FIELD_BYTES {
            out.push_str(&format!("...[{} bytes]", f.len()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_records_keep_only_safe_fields() {
        let mut rec = csv::ByteRecord::new();
        rec.push_field(b"Jane Doe");
        rec.push_field(b"2026-06-10 10:00");
        let m = mask_record(&rec, b',', &[false, true]);
        assert_eq!(m, "Xxxx Xxx,2026-06-10 10:00");
    }
}
