//! Keyed pseudonymisation: HMAC-SHA-256 of the identifier under the library's secret key.
//! The same key gives the same pseudonym, so distinct patrons stay countable across files
//! and years; without the key the pseudonym cannot be reversed or recomputed from a
//! guessed card number.

use std::collections::HashMap;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use tally_lake::Pseudonym;

use crate::IngestError;

pub const KEY_ENV: &str = "TALLY_KEY";

#[derive(Clone)]
pub struct Pseudonymiser {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(<key hidden>)")
    }
}

impl Pseudonymiser {
    /// A key must be at least 16 bytes: a short key can be brute-forced together with the
    /// small space of card numbers.
    pub fn new(key: &[u8]) -> Result<Pseudonymiser, String> {
        if key.len() < 16 {
            return Err(format!(
                "the key is {} bytes; use at least 16 (e.g. `openssl rand -hex 32`)",
                key.len()
            ));
        }
        Ok(Pseudonymiser {
            mac: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length"),
        })
    }

    /// From `--key-file`, else the TALLY_KEY environment variable, else `None` (ingest
    /// then asks for a key only when a file has identifiers).
    pub fn optional(key_file: Option<&Path>) -> Result<Option<Pseudonymiser>, IngestError> {
        match Pseudonymiser::from_file_or_env(key_file) {
            Ok(p) => Ok(Some(p)),
            Err(IngestError::NoKey) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// From `--key-file`, else the TALLY_KEY environment variable, else an error.
    pub fn from_file_or_env(key_file: Option<&Path>) -> Result<Pseudonymiser, IngestError> {
        if let Some(path) = key_file {
            let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
                path: path.into(),
                source,
            })?;
            let trimmed = String::from_utf8_lossy(&bytes).trim().as_bytes().to_vec();
            return Pseudonymiser::new(&trimmed).map_err(|message| IngestError::BadKey {
                path: path.into(),
                message,
            });
        }
        match std::env::var(KEY_ENV) {
            Ok(k) if !k.trim().is_empty() => {
                Pseudonymiser::new(k.trim().as_bytes()).map_err(|message| IngestError::BadKey {
                    path: KEY_ENV.into(),
                    message,
                })
            }
            _ => Err(IngestError::NoKey),
        }
    }

    /// The pseudonym of an identifier.
    pub fn pseudonym(&self, id: &str) -> Pseudonym {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        Pseudonym::from_mac(&mac.finalize().into_bytes())
    }

    /// The number the lake stores for an identifier.
    pub fn key_of(&self, id: &str) -> i64 {
        self.pseudonym(id).value()
    }

    /// A fingerprint of the key, kept in the lake so that a second key is refused: the
    /// HMAC of a fixed label (never the key itself), 32 hex digits.
    pub fn fingerprint(&self) -> String {
        String::from_utf8(
            self.pseudonym("tally lake key fingerprint, v1")
                .hex()
                .to_vec(),
        )
        .expect("hex digits")
    }
}

/// Hashes each distinct identifier once (a file has many rows per patron). Card numbers
/// and borrower numbers (up to 17 digits) are looked up as numbers, without hashing text.
pub struct PseudoCache<'a> {
    pseudo: &'a Pseudonymiser,
    cache: HashMap<Box<str>, Pseudonym, xxhash_rust::xxh3::Xxh3DefaultBuilder>,
    numeric: HashMap<u64, Pseudonym, std::hash::BuildHasherDefault<tally_lake::KeyHasher>>,
}

/// A short all-digit identifier as a number that keeps its length ("007" and "7" differ):
/// value * 32 + length, for at most 17 digits.
fn numeric_id(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.is_empty() || b.len() > 17 {
        return None;
    }
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    // Spread the bits: the map's hasher takes the key as its hash.
    Some((v * 32 + b.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl<'a> PseudoCache<'a> {
    pub fn new(pseudo: &'a Pseudonymiser) -> Self {
        PseudoCache {
            pseudo,
            cache: HashMap::default(),
            numeric: HashMap::default(),
        }
    }

    /// An empty cache under the same key (for another thread).
    pub fn fresh(&self) -> PseudoCache<'a> {
        PseudoCache::new(self.pseudo)
    }

    pub fn key_of(&mut self, id: &str) -> Pseudonym {
        if let Some(n) = numeric_id(id) {
            if let Some(k) = self.numeric.get(&n) {
                return *k;
            }
            let k = self.pseudo.pseudonym(id);
            self.numeric.insert(n, k);
            return k;
        }
        if let Some(k) = self.cache.get(id) {
            return *k;
        }
        let k = self.pseudo.pseudonym(id);
        self.cache.insert(id.into(), k);
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_and_stable() {
        let a = Pseudonymiser::new(b"0123456789abcdef").unwrap();
        let b = Pseudonymiser::new(b"fedcba9876543210").unwrap();
        assert_eq!(a.key_of("21221012345678"), a.key_of("21221012345678"));
        assert_ne!(a.key_of("21221012345678"), b.key_of("21221012345678"));
        assert_ne!(a.fingerprint(), b.fingerprint());
        // The stored number is the first 16 of the 32 hex digits the first format kept.
        let p = a.pseudonym("x");
        let hex = String::from_utf8(p.hex().to_vec()).unwrap();
        assert_eq!(
            u64::from_str_radix(&hex[..16], 16).unwrap() as i64,
            p.value()
        );
        assert!(Pseudonymiser::new(b"short").is_err());
        let mut cache = PseudoCache::new(&a);
        for id in [
            "21221012345678",
            "007",
            "7",
            "guest1",
            "00000000000000000001",
        ] {
            assert_eq!(cache.key_of(id).value(), a.key_of(id), "{id}");
            assert_eq!(cache.key_of(id).value(), a.key_of(id), "{id} cached");
        }
        assert_ne!(cache.key_of("007"), cache.key_of("7"));
    }
}
