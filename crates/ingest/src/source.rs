//! One input file as a stream of UTF-8 text. Nothing here holds a file whole.
//!
//! A file is read twice. The first pass ([`Source::probe`]) hashes the bytes on disk
//! (SHA-256: the ledger's identity of the file, so a file already ingested is known
//! before it is parsed) and learns how to read them: Unix compress (.Z), a byte-order
//! mark, UTF-8 or not (then Windows-1252, which agrees with ISO-8859-1 on every
//! printable character). The second pass ([`Source::open`]) streams the decoded text.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::IngestError;
use crate::decode::{Encoding, UnixUncompress, Windows1252, is_unix_compress};
use crate::error::io;

/// How a file is compressed, told by its first bytes (not its name: a Symphony `.hist.Z`
/// may be Unix compress or gzip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    /// Unix `compress` (LZW, magic 1F 9D).
    Unix,
    /// gzip (magic 1F 8B).
    Gzip,
}

/// What the first pass learnt of a file.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    /// SHA-256 of the bytes on disk.
    pub sha256: String,
    /// Size on disk.
    pub bytes: u64,
    pub encoding: Encoding,
    pub compression: Compression,
    /// The read buffer of the second pass (the budget's read-ahead, at most 1 MiB).
    pub buffer: usize,
}

const CHUNK: usize = 1 << 20;

/// Reads `r` to the end in chunks, calling `f` with each.
fn each_chunk(mut r: impl Read, mut f: impl FnMut(&[u8])) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        f(&buf[..n]);
    }
}

/// Checks UTF-8 validity chunk by chunk, carrying a sequence cut by a chunk's end.
#[derive(Default)]
struct Utf8Check {
    carry: Vec<u8>,
    valid: bool,
    started: bool,
}

impl Utf8Check {
    fn feed(&mut self, chunk: &[u8]) {
        if self.started && !self.valid {
            return;
        }
        self.started = true;
        self.valid = true;
        let mut joined;
        let data = if self.carry.is_empty() {
            chunk
        } else {
            joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(chunk);
            &joined[..]
        };
        match std::str::from_utf8(data) {
            Ok(_) => self.carry.clear(),
            // An incomplete sequence at the end: keep it for the next chunk.
            Err(e) if e.error_len().is_none() => self.carry = data[e.valid_up_to()..].to_vec(),
            Err(_) => self.valid = false,
        }
    }

    fn finish(&self) -> bool {
        !self.started || (self.valid && self.carry.is_empty())
    }
}

impl Source {
    /// The first pass: hash, compression, encoding; an empty or binary file fails here.
    pub fn probe(path: &Path) -> Result<Source, IngestError> {
        let file = File::open(path).map_err(io(path))?;
        let mut sha = Sha256::new();
        let mut head = Vec::new();
        each_chunk(&file, |c| {
            sha.update(c);
            if head.len() < 3 {
                head.extend_from_slice(&c[..c.len().min(3 - head.len())]);
            }
        })
        .map_err(io(path))?;
        let sha256 = hex::encode(sha.finalize());
        let compression = if is_unix_compress(&head) {
            Compression::Unix
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else {
            Compression::None
        };
        // The plain text: checked for UTF-8, a BOM, NUL bytes and emptiness.
        let mut check = Utf8Check::default();
        let (mut plain_head, mut nul, mut blank, mut bom) = (0usize, false, true, None);
        let mut inspect = |c: &[u8]| {
            let c = match bom {
                None => {
                    let has = c.starts_with(b"\xEF\xBB\xBF");
                    bom = Some(has);
                    if has { &c[3..] } else { c }
                }
                Some(_) => c,
            };
            if plain_head < 8192 {
                let n = c.len().min(8192 - plain_head);
                nul |= c[..n].contains(&0);
                plain_head += n;
            }
            blank = blank && c.iter().all(u8::is_ascii_whitespace);
            check.feed(c);
        };
        let reader = BufReader::new(File::open(path).map_err(io(path))?);
        if compression == Compression::Gzip {
            let z = flate2::read::MultiGzDecoder::new(reader);
            each_chunk(z, &mut inspect).map_err(|e| IngestError::Malformed {
                path: path.into(),
                line: 0,
                message: format!("not a readable gzip stream: {e}"),
            })?;
        } else if compression == Compression::Unix {
            let z = UnixUncompress::new(reader).map_err(|e| IngestError::Malformed {
                path: path.into(),
                line: 0,
                message: e.to_string(),
            })?;
            each_chunk(z, &mut inspect).map_err(|e| IngestError::Malformed {
                path: path.into(),
                line: 0,
                message: e.to_string(),
            })?;
        } else {
            each_chunk(reader, &mut inspect).map_err(io(path))?;
        }
        if nul {
            return Err(IngestError::Malformed {
                path: path.into(),
                line: 1,
                message: "binary data (NUL bytes), not a text export".into(),
            });
        }
        if blank {
            return Err(IngestError::Empty { path: path.into() });
        }
        let encoding = match (bom == Some(true), check.finish()) {
            (true, _) => Encoding::Utf8Bom,
            (false, true) => Encoding::Utf8,
            (false, false) => Encoding::Windows1252,
        };
        Ok(Source {
            path: path.into(),
            sha256,
            bytes: std::fs::metadata(path).map_err(io(path))?.len(),
            encoding,
            compression,
            buffer: CHUNK,
        })
    }

    /// The second pass: the text as UTF-8 without a byte-order mark, as a stream.
    pub fn open(&self) -> Result<Box<dyn Read + Send>, IngestError> {
        let path = &self.path;
        let file =
            BufReader::with_capacity(self.buffer.max(16), File::open(path).map_err(io(path))?);
        let plain: Box<dyn Read + Send> = if self.compression == Compression::Gzip {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else if self.compression == Compression::Unix {
            Box::new(
                UnixUncompress::new(file).map_err(|e| IngestError::Malformed {
                    path: path.clone(),
                    line: 0,
                    message: e.to_string(),
                })?,
            )
        } else {
            Box::new(file)
        };
        Ok(match self.encoding {
            Encoding::Utf8 => plain,
            Encoding::Utf8Bom => Box::new(SkipBom {
                inner: plain,
                checked: false,
            }),
            Encoding::Windows1252 => Box::new(Windows1252::new(plain)),
        })
    }

    /// How the bytes were read, for the ledger.
    pub fn describe(&self) -> String {
        let enc = match self.encoding {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8 with BOM",
            Encoding::Windows1252 => "windows-1252",
        };
        format!(
            "{enc}{}",
            match self.compression {
                Compression::Unix => ", unix-compressed",
                Compression::Gzip => ", gzip",
                Compression::None => "",
            }
        )
    }
}

/// Drops the 3-byte UTF-8 byte-order mark at the start of a stream.
struct SkipBom<R> {
    inner: R,
    checked: bool,
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let mut bom = [0u8; 3];
            let mut got = 0;
            while got < 3 {
                let n = self.inner.read(&mut bom[got..])?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            if bom[..got] != *b"\xEF\xBB\xBF" {
                // Not a BOM after all (the probe said so; be safe): hand the bytes back.
                let n = got.min(dst.len());
                dst[..n].copy_from_slice(&bom[..n]);
                if n < got {
                    return Err(std::io::Error::other("read buffer smaller than 3 bytes"));
                }
                return Ok(n);
            }
        }
        self.inner.read(dst)
    }
}

/// Non-blank lines of a stream with their 1-based numbers, without line endings, read in
/// bounded pieces: the line-shaped formats (Symphony's history log) use this.
pub struct Lines<R> {
    inner: std::io::BufReader<R>,
    line: u64,
    buf: Vec<u8>,
}

impl<R: Read> Lines<R> {
    pub fn new(inner: R) -> Self {
        Lines::with_capacity(CHUNK, inner)
    }

    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        Lines {
            inner: std::io::BufReader::with_capacity(capacity.max(16), inner),
            line: 0,
            buf: Vec::new(),
        }
    }

    /// The next non-blank line (lossily UTF-8: the stream is already decoded).
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, String)>> {
        use std::io::BufRead;
        loop {
            self.buf.clear();
            if self.inner.read_until(b'\n', &mut self.buf)? == 0 {
                return Ok(None);
            }
            self.line += 1;
            let mut l = &self.buf[..];
            if let Some(s) = l.strip_suffix(b"\n") {
                l = s;
            }
            if let Some(s) = l.strip_suffix(b"\r") {
                l = s;
            }
            if l.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some((self.line, String::from_utf8_lossy(l).into_owned())));
        }
    }
}

/// The first non-blank line of a file's text (format detection).
pub fn first_line(source: &Source) -> Result<Option<String>, IngestError> {
    let mut lines = Lines::new(source.open()?.take(1 << 20));
    lines
        .next_line()
        .map(|l| l.map(|(_, s)| s))
        .map_err(io(&source.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_checked_across_chunk_ends() {
        let text = "Café Müller ".repeat(100_000);
        let bytes = text.as_bytes();
        let mut check = Utf8Check::default();
        for piece in bytes.chunks(7) {
            check.feed(piece);
        }
        assert!(check.finish());
        let mut bad = Utf8Check::default();
        bad.feed(b"Caf\xe9 ok");
        assert!(!bad.finish());
    }
}
