//! One module per vendor format. Each maps records of the shared reader core to
//! canonical rows, a quarantine reason or an exclusion rule; nothing else.

pub mod assets;
pub mod envisionware;
pub mod generic;
pub mod koha;
pub mod libki;
pub mod loans;
pub mod meraki;
pub mod symphony;
pub mod tickets;
pub mod totals;
pub mod windows;

use std::collections::HashSet;

use chrono_tz::Tz;
use tally_model::Sites;

use crate::IngestError;
use crate::pseudo::PseudoCache;
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::mask_record;
use crate::rows::{Rows, Tally, Value, row_key};
use crate::writer::TimestampMeans;

/// What an adapter works with while it reads one file.
pub struct Ctx<'a> {
    pub sites: &'a Sites,
    /// The format's name: the `source` of its rows, and part of their content keys.
    pub source: &'static str,
    /// Content keys of the rows the lake already has for this table.
    pub known: &'a HashSet<u64>,
    /// Content keys emitted from this file so far.
    pub seen: HashSet<u64>,
    /// `--tz`: the zone of every local time in the file, overriding the sites' zones.
    pub tz_override: Option<Tz>,
    pub pseudo: PseudoCache<'a>,
    pub envisionware_time: TimestampMeans,
    pub tally: Tally,
    /// Canonical rows of the format's table.
    pub rows: Rows,
}

impl Ctx<'_> {
    /// The canonical site code for a code, name or alias, with the zone its local times
    /// are in. A site sites.toml does not know is kept as written and reported.
    pub fn site(&mut self, raw: &str) -> (String, Tz) {
        match self.sites.site(raw) {
            Some(site) => (site.code.clone(), self.tz_override.or(site.timezone).unwrap_or(self.sites.library.timezone)),
            None => {
                if !self.tally.unknown_sites.contains(raw) {
                    self.tally.unknown_sites.insert(raw.to_string());
                }
                (raw.to_string(), self.tz_override.unwrap_or(self.sites.library.timezone))
            }
        }
    }

    /// Emits the canonical rows made from `input_rows` input rows. Rows the lake already
    /// has (an overlapping export) or that this file had before are not stored again; if
    /// none is new, the input rows count as excluded by that rule, else as accepted.
    pub fn emit(&mut self, rows: Vec<Vec<Value>>, input_rows: u64) {
        let (mut fresh, mut in_lake) = (false, false);
        // One input row can stand for identical events (a loan renewed twice, dated at
        // the last renewal): the n-th copy gets its own key, the same in every export.
        // A few rows a call at most, so a list, not a map.
        let mut copies: Vec<(u64, u64)> = Vec::new();
        for row in rows {
            let base = row_key(self.source, &row);
            let n = match copies.iter_mut().find(|(k, _)| *k == base) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    copies.push((base, 1));
                    0
                }
            };
            let key = if n == 0 { base } else { xxhash_rust::xxh3::xxh3_64(&[base.to_le_bytes(), n.to_le_bytes()].concat()) };
            let (f, l) = self.store(row, key);
            fresh |= f;
            in_lake |= l;
        }
        self.count(fresh, in_lake, input_rows);
    }

    /// `emit` for the common case of one canonical row.
    pub fn emit_row(&mut self, row: Vec<Value>, input_rows: u64) {
        let key = row_key(self.source, &row);
        let (fresh, in_lake) = self.store(row, key);
        self.count(fresh, in_lake, input_rows);
    }

    /// Stores a row unless its key is in the lake or was seen in this file; returns
    /// (stored, was in the lake).
    fn store(&mut self, row: Vec<Value>, key: u64) -> (bool, bool) {
        if self.known.contains(&key) {
            (false, true)
        } else if self.seen.insert(key) {
            self.rows.push(row, key);
            (true, false)
        } else {
            (false, false)
        }
    }

    fn count(&mut self, fresh: bool, in_lake: bool, input_rows: u64) {
        if fresh {
            self.tally.rows_accepted += input_rows;
        } else if in_lake {
            self.tally.exclude_n("already in the lake (overlapping export)", input_rows);
        } else {
            self.tally.exclude_n("duplicate of an earlier row in this file", input_rows);
        }
    }

    pub fn is_guest_barcode(&self, id: &str) -> bool {
        self.sites.library.guest_barcode_prefixes.iter().any(|p| !p.is_empty() && id.starts_with(p.as_str()))
    }
}

/// The loop of a one-record-one-row adapter: find the columns, then for each record
/// count it read and call `row`, which pushes a row, counts an exclusion, or returns the
/// column and reason to quarantine it with (the `private` columns masked).
pub fn each_record(
    input: &mut CsvInput<'_>,
    ctx: &mut Ctx<'_>,
    format: &str,
    (required, optional): (&[&'static str], &[&'static str]),
    private: &[usize],
    mut row: impl FnMut(&csv::ByteRecord, &Columns, &mut Ctx<'_>) -> Result<(), Reject>,
) -> Result<(), IngestError> {
    let cols = input.columns(format, required, optional)?;
    let delimiter = input.delimiter;
    let private: Vec<Option<usize>> = private.iter().map(|&i| cols.get(i)).collect();
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let result = cols.check_width(rec).and_then(|()| row(rec, &cols, ctx));
        if let Err((column, reason)) = result {
            ctx.tally.quarantine(line, column, reason, mask_record(rec, delimiter, &private));
        }
    })
}

/// The longest session believed: a day. Longer is a crashed session whose logout was
/// written at the next login (Libki), a machine left logged on, or a clock error.
pub const MAX_SESSION_US: i64 = 24 * 3600 * 1_000_000;

pub const TOO_LONG: &str = "session longer than a day: a crash whose logout came at the next login, or a clock error";

/// A canonical `sessions` row (without the keys the writer adds).
pub fn session_row(site: String, station: &str, start: i64, end: i64, user_type: &str, patron_key: Option<String>) -> Vec<Value> {
    vec![
        Value::Str(site),
        Value::text(station),
        Value::Time(start),
        Value::Time(end),
        Value::Int((end - start) / 1_000_000),
        Value::Str(user_type.into()),
        Value::opt(patron_key),
    ]
}

/// A canonical `circulation` row with no item type, collection, location or category
/// (the formats that have those build the row themselves).
pub fn circulation_row(time: i64, site: String, event: &str, patron_key: Option<String>, item_key: Option<String>, automatic: Option<bool>) -> Vec<Value> {
    vec![
        Value::Time(time),
        Value::Str(site),
        Value::Str(event.into()),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::opt(patron_key),
        Value::opt(item_key),
        automatic.map_or(Value::Null, Value::Bool),
    ]
}
