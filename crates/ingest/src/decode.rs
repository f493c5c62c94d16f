//! Bytes to text: Unix `compress` (.Z, as Symphony keeps old history logs) and the
//! encodings exports come in (UTF-8 with or without BOM, Windows-1252, ISO-8859-1).

use std::io::Read;

/// Is this a Unix `compress` stream (magic 1F 9D)?
pub fn is_unix_compress(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x9d])
}

/// Decompresses a Unix `compress` (.Z) stream as it is read: LZW with 9- to 16-bit codes
/// read least-significant bit first. No maintained crate reads this format, so it is
/// written out here after ncompress's decoder, including its quirk: codes come in groups
/// of eight, and when the code width grows or the table is cleared the rest of the
/// current group is skipped. Memory is the code table (a few hundred KB) and one read
/// buffer, whatever the file's size.
pub struct UnixUncompress<R: Read> {
    inner: R,
    /// Compressed bytes from absolute offset `buf_start`.
    buf: Vec<u8>,
    buf_start: usize,
    eof: bool,
    /// Absolute bit position of the next code, and of the current group's start.
    pos: usize,
    base: usize,
    n_bits: u32,
    max_bits: u32,
    max_code: u32,
    max_max_code: u32,
    block_mode: bool,
    first: u32,
    free_ent: u32,
    prefix: Vec<u16>,
    suffix: Vec<u8>,
    stack: Vec<u8>,
    old_code: Option<u32>,
    fin_char: u8,
    /// Decoded bytes not yet handed out.
    out: Vec<u8>,
    out_at: usize,
    done: bool,
}

const READ_CHUNK: usize = 1 << 16;

impl<R: Read> UnixUncompress<R> {
    /// Reads the 3-byte header; fails when it is not a compress stream.
    pub fn new(mut inner: R) -> std::io::Result<Self> {
        let mut head = [0u8; 3];
        let mut got = 0;
        while got < 3 {
            let n = inner.read(&mut head[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        if got < 3 || !is_unix_compress(&head) {
            return Err(invalid("not a Unix compress (.Z) stream".into()));
        }
        let flags = head[2];
        let max_bits = u32::from(flags & 0x1f);
        if !(9..=16).contains(&max_bits) {
            return Err(invalid(format!(
                "unsupported .Z code width {max_bits} (expected 9..=16)"
            )));
        }
        let block_mode = flags & 0x80 != 0;
        let mut suffix = vec![0u8; 1 << 16];
        for (i, s) in suffix.iter_mut().enumerate().take(256) {
            *s = i as u8;
        }
        let first = if block_mode { 257 } else { 256 };
        Ok(UnixUncompress {
            inner,
            buf: Vec::with_capacity(READ_CHUNK * 2),
            buf_start: 0,
            eof: false,
            pos: 0,
            base: 0,
            n_bits: 9,
            max_bits,
            max_code: (1 << 9) - 1,
            max_max_code: 1 << max_bits,
            block_mode,
            first,
            free_ent: first,
            prefix: vec![0u16; 1 << 16],
            suffix,
            stack: Vec::with_capacity(1 << 16),
            old_code: None,
            fin_char: 0,
            out: Vec::with_capacity(READ_CHUNK * 4),
            out_at: 0,
            done: false,
        })
    }

    /// Makes the bytes up to absolute offset `end` available if the input has them.
    fn fill_to(&mut self, end: usize) -> std::io::Result<()> {
        while !self.eof && self.buf_start + self.buf.len() < end {
            // Drop what lies before the current group: it is never read again.
            let keep_from = (self.base / 8).min(self.pos / 8);
            if keep_from > self.buf_start {
                let drop = (keep_from - self.buf_start).min(self.buf.len());
                self.buf.drain(..drop);
                self.buf_start += drop;
            }
            let old = self.buf.len();
            self.buf.resize(old + READ_CHUNK, 0);
            let n = self.inner.read(&mut self.buf[old..])?;
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    fn total_bits(&self) -> usize {
        (self.buf_start + self.buf.len()) * 8
    }

    fn byte(&self, at: usize) -> u8 {
        at.checked_sub(self.buf_start)
            .and_then(|i| self.buf.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Skips to the end of the current group of eight codes of `n_bits` each.
    fn align(&mut self) {
        let group = (self.n_bits as usize) * 8;
        let rel = self.pos - self.base;
        self.pos = self.base + rel.div_ceil(group) * group;
        self.base = self.pos;
    }

    /// Decodes codes until some output is ready or the stream ends.
    fn step(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.out_at = 0;
        while self.out.len() < READ_CHUNK {
            self.fill_to(self.pos / 8 + 3)?;
            if self.pos + self.n_bits as usize > self.total_bits() {
                self.done = true;
                return Ok(());
            }
            if self.free_ent > self.max_code && self.n_bits < self.max_bits {
                self.align();
                self.n_bits += 1;
                self.max_code = if self.n_bits == self.max_bits {
                    self.max_max_code
                } else {
                    (1 << self.n_bits) - 1
                };
                continue;
            }
            let byte = self.pos / 8;
            let word = u32::from(self.byte(byte))
                | u32::from(self.byte(byte + 1)) << 8
                | u32::from(self.byte(byte + 2)) << 16;
            let code = (word >> (self.pos % 8)) & ((1 << self.n_bits) - 1);
            self.pos += self.n_bits as usize;
            let Some(old) = self.old_code else {
                if code >= 256 {
                    return Err(invalid(format!(
                        "corrupt .Z stream: first code {code} is not a byte"
                    )));
                }
                self.fin_char = code as u8;
                self.out.push(self.fin_char);
                self.old_code = Some(code);
                continue;
            };
            if code == 256 && self.block_mode {
                // CLEAR: start a new table at 9 bits, from the next group.
                self.free_ent = self.first - 1;
                self.align();
                self.n_bits = 9;
                self.max_code = (1 << 9) - 1;
                continue;
            }
            let in_code = code;
            let mut c = code;
            self.stack.clear();
            if c >= self.free_ent {
                if c > self.free_ent {
                    return Err(invalid(format!(
                        "corrupt .Z stream at byte {}: code {c} beyond the table ({})",
                        byte + 3,
                        self.free_ent
                    )));
                }
                self.stack.push(self.fin_char);
                c = old;
            }
            while c >= 256 {
                self.stack.push(self.suffix[c as usize]);
                c = u32::from(self.prefix[c as usize]);
            }
            self.fin_char = self.suffix[c as usize];
            self.stack.push(self.fin_char);
            self.out.extend(self.stack.iter().rev());
            if self.free_ent < self.max_max_code {
                self.prefix[self.free_ent as usize] = old as u16;
                self.suffix[self.free_ent as usize] = self.fin_char;
                self.free_ent += 1;
            }
            self.old_code = Some(in_code);
        }
        Ok(())
    }
}

impl<R: Read> Read for UnixUncompress<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.out_at >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.step()?;
        }
        let n = dst.len().min(self.out.len() - self.out_at);
        dst[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

/// The whole of a .Z stream in memory (tests).
#[cfg(test)]
pub fn unix_uncompress(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    UnixUncompress::new(data)
        .and_then(|mut r| r.read_to_end(&mut out))
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Windows-1252 bytes in, UTF-8 out, as they are read.
pub struct Windows1252<R: Read> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    input_at: usize,
    eof: bool,
    /// The decoder has been told the input ended and has written all it had: it must not
    /// be called again.
    finished: bool,
}

impl<R: Read> Windows1252<R> {
    pub fn new(inner: R) -> Self {
        Windows1252 {
            inner,
            decoder: encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling(),
            input: vec![0; READ_CHUNK],
            input_at: READ_CHUNK,
            eof: false,
            finished: false,
        }
    }
}

impl<R: Read> Read for Windows1252<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        // A Windows-1252 byte is at most 3 UTF-8 bytes.
        if dst.len() < 4 {
            let mut small = [0u8; 4];
            let n = self.read(&mut small)?;
            let k = n.min(dst.len());
            dst[..k].copy_from_slice(&small[..k]);
            return Ok(k);
        }
        loop {
            if self.finished {
                return Ok(0);
            }
            if self.input_at >= self.input.len() && !self.eof {
                self.input.resize(READ_CHUNK, 0);
                let n = self.inner.read(&mut self.input)?;
                self.input.truncate(n);
                self.input_at = 0;
                self.eof = n == 0;
            }
            let (result, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[self.input_at..], dst, self.eof);
            self.input_at += read;
            self.finished = self.eof && result == encoding_rs::CoderResult::InputEmpty;
            if written > 0 || self.eof {
                return Ok(written);
            }
        }
    }
}

/// What encoding a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    /// Not valid UTF-8: read as Windows-1252, which agrees with ISO-8859-1 on every
    /// printable character (Symphony's logs, Excel's "CSV" on Windows).
    Windows1252,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_becomes_utf8() {
        let mut text = String::new();
        Windows1252::new(&b"Caf\xe9;M\xfcller"[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "Café;Müller");
    }

    #[test]
    fn windows_1252_reads_past_the_end_return_nothing() {
        let mut r = Windows1252::new(&b"Caf\xe9"[..]);
        let mut buf = [0u8; 64];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], "Café".as_bytes());
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn windows_1252_streams_in_small_reads() {
        let bytes: Vec<u8> = b"Caf\xe9;M\xfcller\n"
            .iter()
            .copied()
            .cycle()
            .take(300_000)
            .collect();
        let mut out = String::new();
        Windows1252::new(&bytes[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out.len(), 300_000 + 2 * (300_000 / 12));
        assert!(out.starts_with("Café;Müller\nCafé"));
    }

    #[test]
    fn rejects_what_is_not_compress() {
        assert!(unix_uncompress(b"plain").is_err());
        assert!(
            unix_uncompress(&[0x1f, 0x9d, 0x1f]).is_err(),
            "31-bit codes are not a thing"
        );
    }
}
