//! What a caller tells ingest: the table, format and format settings, the lock wait, and
//! the memory budget that bounds every buffer of the engine.

use std::time::Duration;

use chrono_tz::Tz;
use tally_model::Table;

use crate::Format;

/// The default memory budget of one ingest: 1 GiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 1 << 30;

/// How the memory budget is shared between the engine's buffers, so that peak memory
/// does not grow with the file: the records read ahead (three batches of 1/32), the
/// chunks of rows between the adapter and the keeper (a few of 1/32), the frames pending
/// per month partition (1/8, written a row group of 1/16 at a time), and the keys held to
/// tell records apart: the file's own (1/8) and the lake's for the months the file
/// touches (1/8), each about 16 bytes a key. Past their share, the file's keys of the
/// months least recently seen go to disk; the lake's are read again when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            bytes: DEFAULT_MEMORY_BUDGET,
        }
    }
}

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        Budget {
            bytes: bytes.max(1 << 10),
        }
    }

    /// Raw record bytes per batch read ahead.
    pub fn read_ahead_bytes(self) -> usize {
        (self.bytes / 32).min(8 << 20)
    }

    /// Estimated bytes of canonical rows per chunk sent to the keeper.
    pub fn chunk_bytes(self) -> usize {
        (self.bytes / 32).min(16 << 20)
    }

    /// Bytes of one month's pending rows that make a row group.
    pub fn row_group_bytes(self) -> usize {
        (self.bytes / 16).min(64 << 20)
    }

    /// Bytes pending over all months before the largest is written.
    pub fn pending_bytes(self) -> usize {
        self.bytes / 8
    }

    /// Keys of the lake's partitions held at once to recognise rows already there.
    pub fn lake_keys(self) -> usize {
        self.bytes / 128
    }

    /// A file this small (on disk) is held whole and checked against the lake at its end:
    /// its cost then does not grow with the lake.
    pub fn small_file_bytes(self) -> u64 {
        (self.bytes / 64) as u64
    }

    /// Keys of the file's own records held at once (per month; the rest on disk).
    pub fn file_keys(self) -> usize {
        self.bytes / 128
    }
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The table the files are for; a format for another table fails the file.
    pub table: Option<Table>,
    /// `None` detects the format from each file's header.
    pub format: Option<Format>,
    /// The zone of the files' local times, overriding the sites' zones.
    pub tz: Option<Tz>,
    /// How long to wait for another writer to finish; zero refuses at once.
    pub lock_wait: Duration,
    /// The site of a file that covers one site and does not name it (a Meraki network,
    /// a Windows machine's log), and of rows whose site columns are empty.
    pub site: Option<String>,
    /// The column that holds the site (`--site-column`), instead of the format's list.
    pub site_column: Option<String>,
    /// The formats' own settings by name (`strip-prefix`, `envisionware-time`,
    /// `os-column`, `measure`, `year`, `station`): each format declares the ones it reads
    /// (`FormatSpec::settings`) and reads them through `Ctx::setting`.
    pub settings: std::collections::BTreeMap<String, String>,
    /// The column mapping for `generic` files.
    pub mapping: Option<crate::adapters::generic::Mapping>,
    /// The memory budget (default 1 GiB).
    pub budget: Budget,
    /// Synthetic data under the public demo key (`tally demo`): written only to a lake
    /// marked as a demo lake, which takes nothing else.
    pub demo: bool,
    /// Set by ingest from the lake, not by callers: the instant (UTC microseconds) before
    /// which the lake was purged. Rows before it are stored without patron, item or device
    /// keys, as the purge left the rows it cleared (docs/privacy.md).
    pub purged_before_us: Option<i64>,
}

/// The settings that were given, by name, from (name, value if given) pairs: how the
/// command line and pipeline files fill [`IngestOptions::settings`].
pub fn given_settings<'a>(
    pairs: impl IntoIterator<Item = (&'a str, Option<String>)>,
) -> std::collections::BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}
