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

use chrono_tz::Tz;
use tally_model::Sites;

use crate::IngestError;
use crate::identity::{FileIndex, Identity, LakeIndex, nth, record_hash};
use crate::options::TimestampMeans;
use crate::pseudo::PseudoCache;
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::mask_record;
use crate::rows::{Rows, Tally, Value, row_key};
use crate::sink::PartSink;

/// What an adapter works with while it reads one file.
pub struct Ctx<'a> {
    pub sites: &'a Sites,
    /// The format's name: the `source` of its rows, and part of their keys.
    pub source: &'static str,
    /// The batch the rows go to.
    pub batch: String,
    /// The keys of the rows the lake already has for this table, by month.
    pub lake: &'a mut LakeIndex,
    /// What this file has shown so far.
    pub index: FileIndex,
    /// `--tz`: the zone of every local time in the file, overriding the sites' zones.
    pub tz_override: Option<Tz>,
    pub pseudo: PseudoCache<'a>,
    pub envisionware_time: TimestampMeans,
    pub tally: Tally,
    /// Canonical rows of the format's table, handed to `sink` a chunk at a time.
    pub rows: Rows,
    pub sink: PartSink,
    /// The first error of the lake index or the part writer: the file fails with it.
    pub error: Option<IngestError>,
    /// The most bytes buffered at once (rows being built and not yet written).
    pub peak_buffered: usize,
}

impl Ctx<'_> {
    /// The canonical site code for a code, name or alias, with the zone its local times
    /// are in. A site sites.toml does not know is kept as written and reported.
    pub fn site(&mut self, raw: &str) -> (String, Tz) {
        match self.sites.site(raw) {
            Some(site) => (
                site.code.clone(),
                self.tz_override
                    .or(site.timezone)
                    .unwrap_or(self.sites.library.timezone),
            ),
            None => {
                if !self.tally.unknown_sites.contains(raw) {
                    self.tally.unknown_sites.insert(raw.to_string());
                }
                (
                    raw.to_string(),
                    self.tz_override.unwrap_or(self.sites.library.timezone),
                )
            }
        }
    }

    /// Emits the canonical rows made from `input_rows` input rows of one record, told
    /// apart from other records by `identity` (see [`crate::identity`]). Rows the lake
    /// already has are not stored again; if none is new, the input rows count as
    /// excluded by that rule, else as accepted.
    pub fn emit(&mut self, identity: Identity<'_>, rows: Vec<Vec<Value>>, input_rows: u64) {
        let record = match identity {
            Identity::Record(k) | Identity::State(k) => {
                let key = record_hash(self.source, k);
                if !self.index.first_record(key) {
                    self.tally
                        .exclude_n("duplicate record key in this file", input_rows);
                    return;
                }
                Some(key)
            }
            Identity::Content => None,
        };
        let (mut fresh, mut in_lake) = (false, false);
        let partition = self.rows.partition_index();
        for (i, row) in rows.into_iter().enumerate() {
            let key = match identity {
                Identity::Record(_) => nth(record.expect("a record key"), i as u64),
                Identity::State(_) => row_key(self.source, &row),
                Identity::Content => {
                    let base = row_key(self.source, &row);
                    nth(base, self.index.copies_before(base))
                }
            };
            let month = row[partition]
                .month()
                .expect("the partition column is a time or date, never null");
            match self.lake.contains(month, key) {
                Ok(true) => in_lake = true,
                Ok(false) => {
                    self.rows.push(month, row, key);
                    fresh = true;
                }
                Err(e) => {
                    self.error.get_or_insert(e);
                }
            }
        }
        if fresh {
            self.tally.rows_accepted += input_rows;
        } else if in_lake {
            self.tally
                .exclude_n("already in the lake (overlapping export)", input_rows);
        }
        if self.rows.is_full() {
            self.flush();
        }
    }

    /// `emit` for the common case of one canonical row.
    pub fn emit_row(&mut self, identity: Identity<'_>, row: Vec<Value>, input_rows: u64) {
        self.emit(identity, vec![row], input_rows);
    }

    /// Hands the rows built so far to the part writer.
    pub fn flush(&mut self) {
        let buffered = self.rows.bytes() + self.sink.in_flight();
        self.peak_buffered = self.peak_buffered.max(buffered);
        if self.error.is_some() {
            // The file fails: drop what was built.
            let _ = self.rows.take(self.source, &self.batch);
            return;
        }
        match self.rows.take(self.source, &self.batch) {
            Ok(frames) => {
                for (month, frame) in frames {
                    if let Err(e) = self.sink.send(month, frame) {
                        self.error.get_or_insert(e);
                        return;
                    }
                }
            }
            Err(source) => {
                self.error.get_or_insert(IngestError::Parquet {
                    path: self.batch.clone().into(),
                    source,
                });
            }
        }
    }

    pub fn is_guest_barcode(&self, id: &str) -> bool {
        self.sites
            .library
            .guest_barcode_prefixes
            .iter()
            .any(|p| !p.is_empty() && id.starts_with(p.as_str()))
    }
}

/// The loop of a one-record-one-row adapter: find the columns, then for each record
/// count it read and call `row`, which pushes a row, counts an exclusion, or returns the
/// column and reason to quarantine it with (the `private` columns masked).
pub fn each_record(
    input: &mut CsvInput,
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
            ctx.tally
                .quarantine(line, column, reason, mask_record(rec, delimiter, &private));
        }
    })
}

/// The longest session believed: a day. Longer is a crashed session whose logout was
/// written at the next login (Libki), a machine left logged on, or a clock error.
pub const MAX_SESSION_US: i64 = 24 * 3600 * 1_000_000;

pub const TOO_LONG: &str =
    "session longer than a day: a crash whose logout came at the next login, or a clock error";

/// A canonical `sessions` row (without the keys the writer adds).
pub fn session_row(
    site: String,
    station: &str,
    start: i64,
    end: i64,
    user_type: &str,
    patron_key: Option<String>,
) -> Vec<Value> {
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
pub fn circulation_row(
    time: i64,
    site: String,
    event: &str,
    patron_key: Option<String>,
    item_key: Option<String>,
    automatic: Option<bool>,
) -> Vec<Value> {
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
