//! The reader core every CSV-shaped adapter shares: bytes and their SHA-256, BOM, the
//! delimiter, header matching (case- and space-insensitive), and records with their line
//! numbers. An adapter only maps fields; it never loops over bytes itself.

use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel};

use crate::IngestError;
use crate::reason::{Code, Reject};
use crate::source::Source;

/// The header as written and as matched.
pub fn normalize_header(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The delimiter of the header line: whichever of `,` `;` tab `|` occurs most.
pub fn sniff_delimiter(first_line: &[u8]) -> u8 {
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|&d| (count(d), d == b','))
        .unwrap_or(b',')
}

/// A CSV file opened for an adapter: header indices resolved, records to iterate.
pub struct CsvInput {
    pub path: PathBuf,
    pub delimiter: u8,
    /// Headers as written (trimmed).
    pub header: Vec<String>,
    reader: csv::Reader<BufReader<Box<dyn Read + Send>>>,
    /// Raw record bytes per batch handed from the reading thread to the adapter.
    batch_bytes: usize,
    /// Lines before the header that the reader skipped (`Format::is_preamble`).
    line_offset: u64,
}

/// Records read ahead by the reading thread: each with the line it starts on.
#[derive(Default)]
struct Batch {
    records: Vec<csv::ByteRecord>,
    lines: Vec<u64>,
    len: usize,
}

/// The column positions an adapter asked for (required first, then optional), with the
/// header's width, so adapters read fields by their own constant indices.
pub struct Columns {
    idx: Vec<Option<usize>>,
    names: Vec<&'static str>,
    width: usize,
}

/// The longest field believed, in bytes.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

impl Columns {
    pub fn get(&self, i: usize) -> Option<usize> {
        self.idx[i]
    }

    /// The header name the adapter asked for at `i` (its reasons name the column).
    pub fn name(&self, i: usize) -> &'static str {
        self.names[i]
    }

    /// Whether the header has the column the adapter asked for at `i`.
    pub fn has(&self, i: usize) -> bool {
        self.idx[i].is_some()
    }

    /// A record whose field count differs from the header's is shifted or truncated:
    /// none of its fields can be trusted.
    pub fn check_width(&self, record: &csv::ByteRecord) -> Result<(), Reject> {
        // One more field, empty, is a trailing delimiter (GLPI writes one on every line).
        let trailing = record.len() == self.width + 1 && record.get(self.width) == Some(b"");
        if record.len() != self.width && !trailing {
            return Err(Reject::new(
                Code::WrongFieldCount,
                "",
                format!(
                    "wrong number of fields: expected {}, found {} (truncated or shifted row)",
                    self.width,
                    record.len()
                ),
            ));
        }
        // No export value is this long; a runaway quote or a pasted document is.
        if let Some((i, f)) = record
            .iter()
            .enumerate()
            .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
        {
            let column = self
                .idx
                .iter()
                .position(|j| *j == Some(i))
                .map_or("", |k| self.names[k]);
            return Err(Reject::new(
                Code::FieldTooLong,
                column,
                format!(
                    "field too long: {} bytes (at most {MAX_FIELD_BYTES}); a runaway quote?",
                    f.len()
                ),
            ));
        }
        Ok(())
    }

    /// Field `i` (the adapter's index) as trimmed text; "" when the column is absent.
    pub fn text<'r>(&self, record: &'r csv::ByteRecord, i: usize) -> Result<&'r str, Reject> {
        match self.idx[i].and_then(|j| record.get(j)) {
            None => Ok(""),
            // Spaces and tabs around a value are trimmed on the bytes; a value that starts or
            // ends with a non-ASCII byte may have Unicode spaces (an Excel re-save's NBSP).
            Some(bytes) => std::str::from_utf8(bytes.trim_ascii())
                .map(|s| {
                    if s.as_bytes().first().is_some_and(|b| !b.is_ascii())
                        || s.as_bytes().last().is_some_and(|b| !b.is_ascii())
                    {
                        s.trim()
                    } else {
                        s
                    }
                })
                .map_err(|_| {
                    Reject::new(
                        Code::NotUtf8,
                        self.names[i],
                        format!("not valid UTF-8 in {}", self.names[i]),
                    )
                }),
        }
    }
}

impl CsvInput {
    /// Opens the text stream of `source`, sniffs the delimiter from its first line and
    /// reads the header. `batch_bytes` bounds the records read ahead.
    pub fn open(source: &Source, batch_bytes: usize) -> Result<CsvInput, IngestError> {
        let path = source.path.clone();
        let first = crate::source::first_line(source)?
            .ok_or_else(|| IngestError::Empty { path: path.clone() })?;
        let mut buffered = BufReader::with_capacity(source.buffer.max(16), source.open()?);
        // A line some exports write above the header: skipped, and counted in line numbers.
        let mut line_offset = 0;
        let header_line = if crate::Format::is_preamble(&first) {
            let mut skipped = Vec::new();
            std::io::BufRead::read_until(&mut buffered, b'\n', &mut skipped).map_err(|e| {
                IngestError::Io {
                    path: path.clone(),
                    source: e,
                }
            })?;
            line_offset = 1;
            let mut next = Vec::new();
            let peek = std::io::BufRead::fill_buf(&mut buffered).map_err(|e| IngestError::Io {
                path: path.clone(),
                source: e,
            })?;
            next.extend_from_slice(
                &peek[..peek.iter().position(|&b| b == b'\n').unwrap_or(peek.len())],
            );
            String::from_utf8_lossy(&next).into_owned()
        } else {
            first
        };
        let delimiter = sniff_delimiter(header_line.as_bytes());
        let buffered: BufReader<Box<dyn Read + Send>> =
            BufReader::with_capacity(source.buffer.max(16), Box::new(buffered));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(buffered);
        let header = reader
            .headers()
            .map_err(|e| IngestError::Malformed {
                path: path.clone(),
                line: 1,
                message: format!("header: {e}"),
            })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        // The csv crate ends a CRLF record at its `\r` and counts the `\n` when the next
        // record is read, so a CRLF file's records report the line before their own:
        // after the header its position is still line 1 (line 2 after an LF header).
        if reader.position().line() == 1 {
            line_offset += 1;
        }
        Ok(CsvInput {
            path,
            delimiter,
            header,
            reader,
            batch_bytes: batch_bytes.max(1),
            line_offset,
        })
    }

    /// The position of a header name (case- and space-insensitive).
    pub fn position(&self, name: &str) -> Option<usize> {
        name.split('|').find_map(|alt| {
            let n = normalize_header(alt);
            self.header.iter().position(|h| normalize_header(h) == n)
        })
    }

    /// Finds the adapter's columns; a missing required one fails the file, naming all.
    /// A name may list the spellings versions and languages use, `|`-separated
    /// (`"renewals_count|renewals"`): the first the header has is taken. A header name that
    /// is neither these nor `also` (the site columns) is warned about.
    pub fn columns(
        &self,
        format: &str,
        required: &[&'static str],
        optional: &[&'static str],
        also: &[&str],
    ) -> Result<Columns, IngestError> {
        let normalized: Vec<String> = self.header.iter().map(|h| normalize_header(h)).collect();
        // The first spelling the header has, with its position.
        let find = |name: &'static str| {
            name.split('|').find_map(|n| {
                let n_norm = normalize_header(n);
                normalized.iter().position(|h| *h == n_norm).map(|i| (i, n))
            })
        };
        let missing: Vec<String> = required
            .iter()
            .filter(|n| find(n).is_none())
            .map(|n| n.replace('|', " or "))
            .collect();
        if !missing.is_empty() {
            return Err(IngestError::MissingColumns {
                path: self.path.clone(),
                format: format.into(),
                missing,
                expected: required.iter().map(|s| s.replace('|', " or ")).collect(),
                found: self.header.clone(),
            });
        }
        let known: Vec<String> = required
            .iter()
            .chain(optional)
            .copied()
            .chain(also.iter().copied())
            .flat_map(|c| c.split('|'))
            .map(normalize_header)
            .collect();
        // One warning a file, naming them all (the survey's national file has a hundred).
        let extra: Vec<&str> = self
            .header
            .iter()
            .zip(&normalized)
            .filter(|(_, n)| !known.contains(n))
            .map(|(h, _)| h.as_str())
            .collect();
        match extra.as_slice() {
            [] => {}
            [one] => {
                tracing::warn!(file = %self.path.display(), column = %one, "extra column ignored")
            }
            many => tracing::warn!(
                file = %self.path.display(),
                columns = %many.join(", "),
                "{} extra columns ignored",
                many.len()
            ),
        }
        let found: Vec<Option<(usize, &'static str)>> =
            required.iter().chain(optional).map(|n| find(n)).collect();
        Ok(Columns {
            idx: found.iter().map(|f| f.map(|(i, _)| i)).collect(),
            names: required
                .iter()
                .chain(optional)
                .zip(&found)
                .map(|(n, f)| f.map_or_else(|| n.split('|').next().unwrap_or(n), |(_, s)| s))
                .collect(),
            width: self.header.len(),
        })
    }

    /// For each header column, whether its values may be shown as written in the
    /// quarantine (its name is in the format's `safe` list).
    pub fn safe_mask(&self, safe: &[&str]) -> Vec<bool> {
        let safe: Vec<String> = safe
            .iter()
            .flat_map(|c| c.split('|'))
            .map(normalize_header)
            .collect();
        self.header
            .iter()
            .map(|h| safe.contains(&normalize_header(h)))
            .collect()
    }

    /// Calls `f` with each record and the line it starts on, until `f` returns false. A
    /// second thread reads and splits the records ahead, in batches of about
    /// `batch_bytes`, at most two batches ahead: the adapter works on one core while the
    /// CSV is parsed on the other.
    pub fn for_each_record(
        &mut self,
        mut f: impl FnMut(u64, &csv::ByteRecord) -> bool,
    ) -> Result<(), IngestError> {
        self.for_each_batch(|lines, records| {
            lines.iter().zip(records).all(|(line, rec)| f(*line, rec))
        })
    }

    /// Calls `f` with each batch of records read ahead, with the lines they start on,
    /// until `f` returns false.
    pub fn for_each_batch(
        &mut self,
        mut f: impl FnMut(&[u64], &[csv::ByteRecord]) -> bool,
    ) -> Result<(), IngestError> {
        let path = self.path.clone();
        let batch_bytes = self.batch_bytes;
        let offset = self.line_offset;
        let reader = &mut self.reader;
        std::thread::scope(|scope| {
            let (full_tx, full_rx) = sync_channel::<Result<Batch, IngestError>>(1);
            let (empty_tx, empty_rx) = channel::<Batch>();
            scope.spawn(move || {
                loop {
                    let mut batch = empty_rx.try_recv().unwrap_or_default();
                    let mut n = 0;
                    batch.len = 0;
                    let mut bytes = 0;
                    let mut failed = None;
                    while bytes < batch_bytes {
                        if batch.records.len() <= n {
                            batch.records.push(csv::ByteRecord::new());
                            batch.lines.push(0);
                        }
                        match reader.read_byte_record(&mut batch.records[n]) {
                            Ok(true) => {
                                let rec = &batch.records[n];
                                batch.lines[n] = rec.position().map_or(0, |p| p.line()) + offset;
                                bytes += rec.as_slice().len() + 8 * rec.len() + 16;
                                n += 1;
                            }
                            Ok(false) => break,
                            Err(e) => {
                                let line = e.position().map_or(0, |p| p.line()) + offset;
                                failed = Some(IngestError::Malformed {
                                    path: path.clone(),
                                    line,
                                    message: e.to_string(),
                                });
                                break;
                            }
                        }
                    }
                    batch.len = n;
                    let last = n == 0 || bytes < batch_bytes || failed.is_some();
                    if n > 0 && full_tx.send(Ok(batch)).is_err() {
                        return;
                    }
                    if let Some(e) = failed {
                        let _ = full_tx.send(Err(e));
                        return;
                    }
                    if last {
                        return;
                    }
                }
            });
            for batch in full_rx {
                let batch = batch?;
                if !f(&batch.lines[..batch.len], &batch.records[..batch.len]) {
                    // Dropping the receiver stops the reading thread at its next send.
                    return Ok(());
                }
                let _ = empty_tx.send(batch);
            }
            Ok(())
        })
    }
}
