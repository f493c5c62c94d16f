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
use crate::rows::{Pseudonym, Rows, Tally, Value, row_key};
use crate::sink::PartSink;

/// Where emitted rows go, in file order: the identity rules, the lake's keys, the row
/// builder and the part writer. Only the adapter's own thread holds it.
pub struct Store<'a> {
    /// The batch the rows go to.
    pub batch: String,
    /// The keys of the rows the lake already has for this table, by month.
    pub lake: &'a mut LakeIndex,
    /// What this file has shown so far.
    pub index: FileIndex,
    /// Canonical rows of the format's table, handed to `sink` a chunk at a time.
    pub rows: Rows,
    pub sink: PartSink,
    /// The first error of the lake index or the part writer: the file fails with it.
    pub error: Option<IngestError>,
    /// The most bytes buffered at once (rows being built and not yet written).
    pub peak_buffered: usize,
}

/// One record's rows as an adapter emitted them, with the keys that need no memory of
/// the file: the record key, and each row's content key.
struct Emitted {
    identity: Kind,
    record: u64,
    keys: Vec<u64>,
    rows: Vec<Vec<Value>>,
    input_rows: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Record,
    State,
    Content,
}

/// What an adapter works with while it reads one file.
pub struct Ctx<'a> {
    pub sites: &'a Sites,
    /// The format's name: the `source` of its rows, and part of their keys.
    pub source: &'static str,
    /// `--tz`: the zone of every local time in the file, overriding the sites' zones.
    pub tz_override: Option<Tz>,
    pub pseudo: PseudoCache<'a>,
    pub envisionware_time: TimestampMeans,
    pub tally: Tally,
    /// The file's store; a helper context (mapping part of a batch on another thread)
    /// has none and keeps what it emits in `out` until the store takes it, in order.
    pub store: Option<Store<'a>>,
    out: Vec<Emitted>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        sites: &'a Sites,
        source: &'static str,
        pseudo: PseudoCache<'a>,
        tally: Tally,
        store: Option<Store<'a>>,
    ) -> Ctx<'a> {
        Ctx {
            sites,
            source,
            tz_override: None,
            pseudo,
            envisionware_time: TimestampMeans::Start,
            tally,
            store,
            out: Vec::new(),
        }
    }

    /// A context for mapping records on another thread: the same settings, its own
    /// pseudonym cache and tally, no store.
    fn helper(&self) -> Ctx<'a> {
        Ctx {
            sites: self.sites,
            source: self.source,
            tz_override: self.tz_override,
            pseudo: self.pseudo.fresh(),
            envisionware_time: self.envisionware_time,
            tally: Tally::new(None),
            store: None,
            out: Vec::new(),
        }
    }

    /// Takes what a helper context read, in the helper's order: its counts, its
    /// quarantined rows and its records.
    fn absorb(&mut self, helper: &mut Ctx<'_>) {
        self.tally.absorb(&mut helper.tally);
        for e in std::mem::take(&mut helper.out) {
            self.store_emitted(e);
        }
    }

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
        let (kind, record) = match identity {
            Identity::Record(k) => (Kind::Record, record_hash(self.source, k)),
            Identity::State(k) => (Kind::State, record_hash(self.source, k)),
            Identity::Content => (Kind::Content, 0),
        };
        let keys = match kind {
            Kind::Record => (0..rows.len() as u64).map(|i| nth(record, i)).collect(),
            Kind::State | Kind::Content => rows.iter().map(|r| row_key(self.source, r)).collect(),
        };
        let e = Emitted {
            identity: kind,
            record,
            keys,
            rows,
            input_rows,
        };
        if self.store.is_some() {
            self.store_emitted(e);
        } else {
            self.out.push(e);
        }
    }

    /// `emit` for the common case of one canonical row.
    pub fn emit_row(&mut self, identity: Identity<'_>, row: Vec<Value>, input_rows: u64) {
        self.emit(identity, vec![row], input_rows);
    }

    fn store_emitted(&mut self, e: Emitted) {
        let store = self
            .store
            .as_mut()
            .expect("the file's context has the store");
        if matches!(e.identity, Kind::Record | Kind::State) && !store.index.first_record(e.record) {
            self.tally
                .exclude_n("duplicate record key in this file", e.input_rows);
            return;
        }
        let (mut fresh, mut in_lake) = (false, false);
        let partition = store.rows.partition_index();
        for (row, key) in e.rows.into_iter().zip(e.keys) {
            let key = match e.identity {
                Kind::Content => nth(key, store.index.copies_before(key)),
                Kind::Record | Kind::State => key,
            };
            let month = row[partition]
                .month()
                .expect("the partition column is a time or date, never null");
            match store.lake.contains(month, key) {
                Ok(true) => in_lake = true,
                Ok(false) => {
                    store.rows.push(month, row, key);
                    fresh = true;
                }
                Err(err) => {
                    store.error.get_or_insert(err);
                }
            }
        }
        if fresh {
            self.tally.rows_accepted += e.input_rows;
        } else if in_lake {
            self.tally
                .exclude_n("already in the lake (overlapping export)", e.input_rows);
        }
        if store.rows.is_full() {
            store.flush(self.source);
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

impl Store<'_> {
    /// Hands the rows built so far to the part writer.
    pub fn flush(&mut self, source: &str) {
        let buffered = self.rows.bytes() + self.sink.in_flight();
        self.peak_buffered = self.peak_buffered.max(buffered);
        if self.error.is_some() {
            // The file fails: drop what was built.
            let _ = self.rows.take(source, &self.batch);
            return;
        }
        match self.rows.take(source, &self.batch) {
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
}

/// Batches smaller than this are mapped on one thread.
const PARALLEL_MIN: usize = 256;

/// The loop of a one-record-one-row adapter: find the columns, then for each record
/// count it read and call `row`, which pushes a row, counts an exclusion, or returns the
/// column and reason to quarantine it with (the `private` columns masked). Each batch of
/// records is mapped on two threads (the first half here, the second on a helper
/// context), and the helper's rows are stored after this thread's: the file's order.
pub fn each_record(
    input: &mut CsvInput,
    ctx: &mut Ctx<'_>,
    format: &str,
    (required, optional): (&[&'static str], &[&'static str]),
    private: &[usize],
    row: impl Fn(&csv::ByteRecord, &Columns, &mut Ctx<'_>) -> Result<(), Reject> + Sync,
) -> Result<(), IngestError> {
    let cols = input.columns(format, required, optional)?;
    let delimiter = input.delimiter;
    let private: Vec<Option<usize>> = private.iter().map(|&i| cols.get(i)).collect();
    let one = |ctx: &mut Ctx<'_>, line: u64, rec: &csv::ByteRecord| {
        ctx.tally.rows_read += 1;
        let result = cols.check_width(rec).and_then(|()| row(rec, &cols, ctx));
        if let Err((column, reason)) = result {
            ctx.tally
                .quarantine(line, column, reason, mask_record(rec, delimiter, &private));
        }
    };
    let mut helper = ctx.helper();
    input.for_each_batch(|lines, records| {
        if records.len() < PARALLEL_MIN {
            for (line, rec) in lines.iter().zip(records) {
                one(ctx, *line, rec);
            }
            return;
        }
        let half = records.len() / 2;
        std::thread::scope(|scope| {
            let (one, helper) = (&one, &mut helper);
            let (lines_b, records_b) = (&lines[half..], &records[half..]);
            scope.spawn(move || {
                for (line, rec) in lines_b.iter().zip(records_b) {
                    one(helper, *line, rec);
                }
            });
            for (line, rec) in lines[..half].iter().zip(&records[..half]) {
                one(ctx, *line, rec);
            }
        });
        ctx.absorb(&mut helper);
    })
}

/// `each_record` for adapters that keep state across records (they see them in order,
/// on one thread).
pub fn each_record_in_order(
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
    user_type: &'static str,
    patron_key: Option<Pseudonym>,
) -> Vec<Value> {
    vec![
        Value::Str(site),
        Value::text(station),
        Value::Time(start),
        Value::Time(end),
        Value::Int((end - start) / 1_000_000),
        Value::Static(user_type),
        Value::key(patron_key),
    ]
}

/// A canonical `circulation` row with no item type, collection, location or category
/// (the formats that have those build the row themselves).
pub fn circulation_row(
    time: i64,
    site: String,
    event: &'static str,
    patron_key: Option<Pseudonym>,
    item_key: Option<Pseudonym>,
    automatic: Option<bool>,
) -> Vec<Value> {
    vec![
        Value::Time(time),
        Value::Str(site),
        Value::Static(event),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::key(patron_key),
        Value::key(item_key),
        automatic.map_or(Value::Null, Value::Bool),
    ]
}
