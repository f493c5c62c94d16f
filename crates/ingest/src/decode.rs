//! Bytes to text: Unix `compress` (.Z, as Symphony keeps old history logs) and the
//! encodings exports come in (UTF-8 with or without BOM, Windows-1252, ISO-8859-1).

use std::borrow::Cow;

/// Is this a Unix `compress` stream (magic 1F 9D)?
pub fn is_unix_compress(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x9d])
}

/// Decompresses a Unix `compress` (.Z) stream: LZW with 9- to 16-bit codes read
/// least-significant bit first. No maintained crate reads this format, so it is written
/// out here after ncompress's decoder, including its quirk: codes come in groups of
/// eight, and when the code width grows or the table is cleared the rest of the current
/// group is skipped.
pub fn unix_uncompress(data: &[u8]) -> Result<Vec<u8>, String> {
    if data.len() < 3 || !is_unix_compress(data) {
        return Err("not a Unix compress (.Z) stream".into());
    }
    let flags = data[2];
    let max_bits = u32::from(flags & 0x1f);
    let block_mode = flags & 0x80 != 0;
    if !(9..=16).contains(&max_bits) {
        return Err(format!("unsupported .Z code width {max_bits} (expected 9..=16)"));
    }
    let input = &data[3..];
    let total_bits = input.len() * 8;
    let max_max_code: u32 = 1 << max_bits;
    let mut n_bits: u32 = 9;
    let mut max_code: u32 = (1 << n_bits) - 1;
    let first: u32 = if block_mode { 257 } else { 256 };
    let mut free_ent = first;
    let mut prefix = vec![0u16; 1 << 16];
    let mut suffix = vec![0u8; 1 << 16];
    for (i, s) in suffix.iter_mut().enumerate().take(256) {
        *s = i as u8;
    }
    let mut out = Vec::with_capacity(input.len() * 3);
    let mut stack: Vec<u8> = Vec::with_capacity(1 << 16);
    let (mut pos, mut base) = (0usize, 0usize);
    let mut old_code: Option<u32> = None;
    let mut fin_char: u8 = 0;
    // Skips to the end of the current group of eight codes of `n_bits` each.
    let align = |pos: usize, base: usize, n_bits: u32| {
        let group = (n_bits as usize) * 8;
        let rel = pos - base;
        base + rel.div_ceil(group) * group
    };
    while pos + n_bits as usize <= total_bits {
        if free_ent > max_code && n_bits < max_bits {
            pos = align(pos, base, n_bits);
            base = pos;
            n_bits += 1;
            max_code = if n_bits == max_bits { max_max_code } else { (1 << n_bits) - 1 };
            continue;
        }
        let byte = pos / 8;
        let mut word: u32 = 0;
        for k in 0..3 {
            word |= u32::from(*input.get(byte + k).unwrap_or(&0)) << (8 * k);
        }
        let code = (word >> (pos % 8)) & ((1 << n_bits) - 1);
        pos += n_bits as usize;
        let Some(old) = old_code else {
            if code >= 256 {
                return Err(format!("corrupt .Z stream: first code {code} is not a byte"));
            }
            fin_char = code as u8;
            out.push(fin_char);
            old_code = Some(code);
            continue;
        };
        if code == 256 && block_mode {
            // CLEAR: start a new table at 9 bits, from the next group.
            free_ent = first - 1;
            pos = align(pos, base, n_bits);
            base = pos;
            n_bits = 9;
            max_code = (1 << n_bits) - 1;
            continue;
        }
        let in_code = code;
        let mut c = code;
        stack.clear();
        if c >= free_ent {
            if c > free_ent {
                return Err(format!("corrupt .Z stream at byte {}: code {c} beyond the table ({free_ent})", byte + 3));
            }
            stack.push(fin_char);
            c = old;
        }
        while c >= 256 {
            stack.push(suffix[c as usize]);
            c = u32::from(prefix[c as usize]);
        }
        fin_char = suffix[c as usize];
        stack.push(fin_char);
        out.extend(stack.iter().rev());
        if free_ent < max_max_code {
            prefix[free_ent as usize] = old as u16;
            suffix[free_ent as usize] = fin_char;
            free_ent += 1;
        }
        old_code = Some(in_code);
    }
    Ok(out)
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

/// The file's text as UTF-8 bytes.
pub fn to_utf8(bytes: &[u8]) -> (Cow<'_, [u8]>, Encoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
        return (Cow::Borrowed(rest), Encoding::Utf8Bom);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return (Cow::Borrowed(bytes), Encoding::Utf8);
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    (Cow::Owned(text.into_owned().into_bytes()), Encoding::Windows1252)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_becomes_utf8() {
        let (text, enc) = to_utf8(b"Caf\xe9;M\xfcller");
        assert_eq!(enc, Encoding::Windows1252);
        assert_eq!(std::str::from_utf8(&text).unwrap(), "Café;Müller");
        let (text, enc) = to_utf8("\u{feff}a,b".as_bytes());
        assert_eq!((&*text, enc), (b"a,b".as_slice(), Encoding::Utf8Bom));
    }

    #[test]
    fn rejects_what_is_not_compress() {
        assert!(unix_uncompress(b"plain").is_err());
        assert!(unix_uncompress(&[0x1f, 0x9d, 0x1f]).is_err(), "31-bit codes are not a thing");
    }
}
