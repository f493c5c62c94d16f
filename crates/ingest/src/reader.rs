//! The reader core every CSV-shaped adapter shares: bytes and their SHA-256, BOM, the
//! delimiter, header matching (case- and space-insensitive), and records with their line
//! numbers. An adapter only maps fields; it never loops over bytes itself.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::IngestError;
use crate::decode::{Encoding, is_unix_compress, to_utf8, unix_uncompress};

/// One input file, read whole (exports are daily or monthly: megabytes, not gigabytes),
/// uncompressed if it is a `.Z` file and decoded to UTF-8.
pub struct Source {
    pub path: PathBuf,
    /// SHA-256 of the bytes on disk: the ledger's identity of the file.
    pub sha256: String,
    /// The text as UTF-8, without a byte-order mark.
    text: Vec<u8>,
    pub encoding: Encoding,
    pub compressed: bool,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, IngestError> {
        let bytes = std::fs::read(path).map_err(|source| IngestError::Io { path: path.into(), source })?;
        Source::from_bytes(path, bytes)
    }

    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Source, IngestError> {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let (plain, compressed) = if is_unix_compress(&bytes) {
            let plain = unix_uncompress(&bytes)
                .map_err(|message| IngestError::Malformed { path: path.into(), line: 0, message })?;
            (plain, true)
        } else {
            (bytes, false)
        };
        if plain.iter().take(8192).filter(|&&b| b == 0).count() > 0 {
            return Err(IngestError::Malformed {
                path: path.into(),
                line: 1,
                message: "binary data (NUL bytes), not a text export".into(),
            });
        }
        let (text, encoding) = to_utf8(&plain);
        let text = text.into_owned();
        Ok(Source { path: path.into(), sha256, text, encoding, compressed })
    }

    /// The text, UTF-8 without a byte-order mark.
    pub fn body(&self) -> &[u8] {
        &self.text
    }

    /// Non-blank lines with their 1-based numbers, without line endings.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &str)> {
        let text = std::str::from_utf8(&self.text).expect("decoded to UTF-8");
        text.split('\n')
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)))
            .filter(|(_, l)| !l.trim().is_empty())
    }

    pub fn first_line(&self) -> &[u8] {
        let body = self.body();
        let end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
        body[..end].strip_suffix(b"\r").unwrap_or(&body[..end])
    }
}

/// The header as written and as matched.
pub fn normalize_header(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// The delimiter of the first line: whichever of `,` `;` tab occurs most.
pub fn sniff_delimiter(first_line: &[u8]) -> u8 {
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    [b',', b';', b'\t'].into_iter().max_by_key(|&d| (count(d), d == b',')).unwrap_or(b',')
}

/// A CSV file opened for an adapter: header indices resolved, records to iterate.
pub struct CsvInput<'a> {
    pub path: &'a Path,
    pub delimiter: u8,
    /// Headers as written (trimmed).
    pub header: Vec<String>,
    reader: csv::Reader<&'a [u8]>,
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

/// Why a record is quarantined: the column (empty for the whole row) and the reason.
pub type Reject = (&'static str, String);

impl Columns {
    pub fn get(&self, i: usize) -> Option<usize> {
        self.idx[i]
    }

    /// A record whose field count differs from the header's is shifted or truncated:
    /// none of its fields can be trusted.
    pub fn check_width(&self, record: &csv::ByteRecord) -> Result<(), Reject> {
        if record.len() != self.width {
            return Err(("", format!("wrong number of fields: expected {}, found {} (truncated or shifted row)", self.width, record.len())));
        }
        // No export value is this long; a runaway quote or a pasted document is.
        if let Some((i, f)) = record.iter().enumerate().find(|(_, f)| f.len() > MAX_FIELD_BYTES) {
            let column = self.idx.iter().position(|j| *j == Some(i)).map_or("", |k| self.names[k]);
            return Err((column, format!("field too long: {} bytes (at most {MAX_FIELD_BYTES}); a runaway quote?", f.len())));
        }
        Ok(())
    }

    /// Field `i` (the adapter's index) as trimmed text; "" when the column is absent.
    pub fn text<'r>(&self, record: &'r csv::ByteRecord, i: usize) -> Result<&'r str, Reject> {
        match self.idx[i].and_then(|j| record.get(j)) {
            None => Ok(""),
            Some(bytes) => std::str::from_utf8(bytes).map(str::trim).map_err(|_| (self.names[i], format!("not valid UTF-8 in {}", self.names[i]))),
        }
    }
}

impl<'a> CsvInput<'a> {
    pub fn open(source: &'a Source) -> Result<CsvInput<'a>, IngestError> {
        let body = source.body();
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(IngestError::Empty { path: source.path.clone() });
        }
        let delimiter = sniff_delimiter(source.first_line());
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).has_headers(true).from_reader(body);
        let header = reader
            .headers()
            .map_err(|e| IngestError::Malformed { path: source.path.clone(), line: 1, message: format!("header: {e}") })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        Ok(CsvInput { path: &source.path, delimiter, header, reader })
    }

    /// Finds the adapter's columns; a missing required one fails the file, naming all.
    pub fn columns(&self, format: &str, required: &[&'static str], optional: &[&'static str]) -> Result<Columns, IngestError> {
        let normalized: Vec<String> = self.header.iter().map(|h| normalize_header(h)).collect();
        let find = |name: &str| normalized.iter().position(|h| *h == normalize_header(name));
        let missing: Vec<String> = required.iter().filter(|n| find(n).is_none()).map(|n| n.to_string()).collect();
        if !missing.is_empty() {
            return Err(IngestError::MissingColumns {
                path: self.path.into(),
                format: format.into(),
                missing,
                expected: required.iter().map(|s| s.to_string()).collect(),
                found: self.header.clone(),
            });
        }
        for (h, n) in self.header.iter().zip(&normalized) {
            if !required.iter().chain(optional).any(|c| normalize_header(c) == *n) {
                tracing::warn!(file = %self.path.display(), column = %h, "extra column ignored");
            }
        }
        Ok(Columns {
            idx: required.iter().chain(optional).map(|n| find(n)).collect(),
            names: required.iter().chain(optional).copied().collect(),
            width: self.header.len(),
        })
    }

    /// Calls `f` with each record and the line it starts on.
    pub fn for_each_record(&mut self, mut f: impl FnMut(u64, &csv::ByteRecord)) -> Result<(), IngestError> {
        let mut record = csv::ByteRecord::new();
        loop {
            match self.reader.read_byte_record(&mut record) {
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    f(line, &record);
                }
                Ok(false) => return Ok(()),
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(IngestError::Malformed { path: self.path.into(), line, message: e.to_string() });
                }
            }
        }
    }
}
