//! One file per format. Each declares its [`FormatSpec`] (`SPEC`: name, table, header
//! signature, columns, safe columns, options, identity) and maps records of the shared
//! reader core to canonical rows, a quarantine reason or an exclusion rule; nothing else.
//!
//! The list below is the closed set of formats: adding one is a file in this folder and
//! a line here. What a family of formats shares is a module of its own (`assets.rs`,
//! `tickets.rs`, ...); what formats of different families share is in `shared.rs`, and
//! the site of a row, by the policy each format declares, in `site.rs`. An adapter
//! never borrows from another family's module.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;

use chrono_tz::Tz;
use tally_model::{Sites, Table};

use crate::format::FormatSpec;
use crate::identity::Identity;
use crate::options::IngestOptions;
use crate::pseudo::PseudoCache;
use crate::reader::{Columns, CsvInput, normalize_header};
use crate::reason::Reject;
use crate::rows::{Cell, Chunk, Kind, Layout, Tally, mask_record};
use crate::source::Source;
use crate::{IngestError, Pseudonym};

macro_rules! formats {
    ($($variant:ident => $module:ident,)*) => {
        $(pub mod $module;)*

        /// The formats tally reads. Each variant's declaration is `adapters::<module>::SPEC`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Format {
            $($variant,)*
        }

        impl Format {
            pub const ALL: &'static [Format] = &[$(Format::$variant,)*];

            /// The format's declaration.
            pub fn spec(self) -> &'static FormatSpec {
                match self {
                    $(Format::$variant => &$module::SPEC,)*
                }
            }
        }
    };
}

formats! {
    EnvisionWare => envisionware,
    Libki => libki,
    LibkiHistory => libki_history,
    WindowsEvents => windows_events,
    SymphonyHist => symphony_hist,
    KohaStatistics => koha_statistics,
    KohaOldIssues => koha_old_issues,
    EvergreenCirc => evergreen_circ,
    OsTicket => osticket,
    Rt => rt,
    Glpi => glpi,
    Jira => jira,
    Meraki => meraki,
    SnipeIt => snipe_it,
    Inventory => inventory,
    AdComputers => ad_computers,
    Intune => intune,
    TotalsLong => totals_long,
    TotalsWide => totals_wide,
    Pls => pls,
    PaperCut => papercut,
    Generic => generic,
}

/// Whether an aggregate file's column is one the totals formats skip (a row id).
pub fn totals_ignored(normalized: &str) -> bool {
    totals::IGNORED.contains(&normalized)
}

// Shared by several formats of one family.
mod assets;
mod directory;
mod libki_actions;
mod loans;
mod tickets;
mod totals;

// Shared by every format: the site policies, and helpers several families use.
mod shared;
mod site;

/// The file an adapter reads: its text stream, and the CSV reader when the file is
/// CSV-shaped (opened by the engine, which read its header to detect the format).
pub struct Input<'a> {
    pub source: &'a Source,
    pub csv: Option<CsvInput>,
}

impl Input<'_> {
    /// The CSV reader; a format that needs one and gets a line- or JSON-shaped file fails.
    pub fn csv(&mut self) -> Result<&mut CsvInput, IngestError> {
        let path = self.source.path.clone();
        self.csv.as_mut().ok_or(IngestError::Malformed {
            path,
            line: 1,
            message: "expected a CSV file with a header line".into(),
        })
    }
}

/// Where a file's chunks go (the keeper thread), and how big a chunk grows first.
pub struct Out {
    pub tx: SyncSender<Chunk>,
    pub chunk_bytes: usize,
    /// Bytes of chunks sent and not yet taken apart by the keeper (shared with it).
    pub in_flight: Arc<AtomicUsize>,
    /// The keeper stopped (its error fails the file): reading stops too.
    pub failed: bool,
}

/// What an adapter works with while it reads one file.
pub struct Ctx<'a> {
    pub sites: &'a Sites,
    /// The format's declaration; its name is the `source` of its rows and part of keys.
    pub spec: &'static FormatSpec,
    pub options: &'a IngestOptions,
    /// `--tz`: the zone of every local time in the file, overriding the sites' zones.
    pub tz_override: Option<Tz>,
    /// The key's pseudonyms, cached; `None` when no key was given (formats without
    /// identifiers).
    pseudo: Option<PseudoCache<'a>>,
    pub tally: Tally,
    /// Rows emitted and not yet sent.
    chunk: Chunk,
    /// The file's keeper; a helper context (mapping part of a batch on another thread)
    /// has none: the file's context sends its chunk, in order.
    out: Option<Out>,
    /// Normalised names of the columns whose values a quarantined row may show.
    safe: Vec<String>,
    /// Raw site values seen, with the index of their site in sites.toml.
    seen_sites: Vec<(Box<str>, Option<usize>)>,
    /// Header positions of the columns that may hold the site, in the order tried.
    site_cols: Vec<usize>,
    /// Their names as the header writes them (what a row without a site is told).
    site_column_names: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        sites: &'a Sites,
        spec: &'static FormatSpec,
        table: Table,
        options: &'a IngestOptions,
        pseudo: Option<PseudoCache<'a>>,
        tally: Tally,
        out: Option<Out>,
    ) -> Ctx<'a> {
        Ctx {
            sites,
            spec,
            options,
            tz_override: options.tz,
            pseudo,
            tally,
            chunk: Chunk::new(Arc::new(
                Layout::of(table).anonymised_before(options.purged_before_us),
            )),
            out,
            safe: spec
                .safe
                .iter()
                .flat_map(|c| c.split('|'))
                .map(normalize_header)
                .collect(),
            seen_sites: Vec::new(),
            site_cols: Vec::new(),
            site_column_names: Vec::new(),
        }
    }

    /// A context for mapping records on another thread: the same settings, its own
    /// pseudonym cache, tally and chunk, no keeper.
    fn helper(&self) -> Ctx<'a> {
        Ctx {
            sites: self.sites,
            spec: self.spec,
            options: self.options,
            tz_override: self.tz_override,
            pseudo: self.pseudo.as_ref().map(PseudoCache::fresh),
            tally: Tally::new(None),
            chunk: self.chunk.fresh(),
            out: None,
            safe: self.safe.clone(),
            seen_sites: Vec::new(),
            site_cols: self.site_cols.clone(),
            site_column_names: self.site_column_names.clone(),
        }
    }

    /// The format's name: the `source` of its rows.
    pub fn source(&self) -> &'static str {
        self.spec.name
    }

    /// Adds a column whose values a quarantined row may show (the generic format's
    /// mapped columns).
    pub fn allow(&mut self, column: &str) {
        self.safe.push(normalize_header(column));
    }

    /// Whether the values of this column may be shown as written in the quarantine.
    pub fn is_safe(&self, column: &str) -> bool {
        let n = normalize_header(column);
        self.safe.contains(&n)
    }

    /// Quarantines one input row with its reason and its masked text.
    pub fn reject(&mut self, line: u64, reject: Reject, raw_masked: String) {
        let show = self.is_safe(&reject.column);
        self.tally.quarantine(line, reject, show, raw_masked);
    }

    /// The zone of local times that name no site (a server's log, a help desk): `--tz`,
    /// else the library's.
    pub fn library_tz(&self) -> Tz {
        self.tz_override.unwrap_or(self.sites.library.timezone)
    }

    /// A patron (or device) identifier as its pseudonym: HMAC-SHA-256 under the key.
    pub fn key_of(&mut self, id: &str) -> Pseudonym {
        self.pseudo
            .as_mut()
            .expect("the engine gives a key to every format with identifiers")
            .key_of(id)
    }

    /// Emits the canonical rows made from `input_rows` input rows of one record, told
    /// apart from other records by `identity` (see [`crate::identity`]). The keeper
    /// decides whether they are new (accepted), in the lake already or a duplicate
    /// (excluded).
    pub fn emit(&mut self, identity: Identity<'_>, rows: &[&[Cell<'_>]], input_rows: u64) {
        let source = self.spec.name;
        let (kind, hash) = match identity {
            Identity::Record(k) => (Kind::Record, crate::identity::record_hash(source, &[k])),
            Identity::RecordOf(parts) => {
                (Kind::Record, crate::identity::record_hash(source, parts))
            }
            Identity::State(k) => (Kind::State, crate::identity::record_hash(source, &[k])),
            Identity::StateOf(parts) => (Kind::State, crate::identity::record_hash(source, parts)),
            Identity::Content => (Kind::Content, 0),
        };
        self.chunk
            .push_record(source, kind, hash, rows, input_rows as u32);
        if let Some(out) = &self.out
            && self.chunk.bytes() >= out.chunk_bytes
        {
            self.send();
        }
    }

    /// `emit` for the common case of one canonical row.
    pub fn emit_row(&mut self, identity: Identity<'_>, row: &[Cell<'_>], input_rows: u64) {
        self.emit(identity, &[row], input_rows);
    }

    /// Sends the rows emitted so far to the keeper.
    pub fn send(&mut self) {
        if self.chunk.records.is_empty() {
            return;
        }
        let fresh = self.chunk.fresh();
        let chunk = std::mem::replace(&mut self.chunk, fresh);
        self.send_chunk(chunk);
    }

    fn send_chunk(&mut self, chunk: Chunk) {
        let Some(out) = self.out.as_mut() else {
            unreachable!("only the file's context sends")
        };
        if out.failed || chunk.records.is_empty() {
            return;
        }
        out.in_flight.fetch_add(chunk.bytes(), Ordering::Relaxed);
        if out.tx.send(chunk).is_err() {
            out.failed = true;
        }
    }

    /// The end of the file: the keeper's sender is dropped (so the keeper sees the end),
    /// the tally is what remains.
    pub fn finish(self) -> Tally {
        let Ctx { tally, out, .. } = self;
        drop(out);
        tally
    }

    /// Whether the keeper stopped (the file fails; reading can stop).
    pub fn failed(&self) -> bool {
        self.out.as_ref().is_some_and(|o| o.failed)
    }

    /// Takes what a helper context read, in the helper's order (after this context's
    /// rows): its counts, its quarantined rows and its chunk.
    fn absorb(&mut self, helper: &mut Ctx<'_>) {
        self.send();
        let fresh = helper.chunk.fresh();
        let chunk = std::mem::replace(&mut helper.chunk, fresh);
        self.send_chunk(chunk);
        self.tally.absorb(&mut helper.tally);
    }

    /// A setting of the format (`strip-prefix`, ...), as given.
    pub fn setting(&self, name: &str) -> Option<&'a str> {
        debug_assert!(
            self.spec.settings.iter().any(|s| s.name == name),
            "{} does not declare the setting {name}",
            self.spec.name
        );
        self.options.settings.get(name).map(String::as_str)
    }

    pub fn is_guest_barcode(&self, id: &str) -> bool {
        self.sites
            .library
            .guest_barcode_prefixes
            .iter()
            .any(|p| !p.is_empty() && id.starts_with(p.as_str()))
    }
}

/// Batches smaller than this are mapped on one thread.
const PARALLEL_MIN: usize = 256;

/// The loop of a format whose records are independent (one record, its rows): find the
/// spec's columns, then for each record count it read and call `row`, which emits rows,
/// counts an exclusion, or returns the reason to quarantine it with. Each batch of
/// records is mapped on two threads (the first half here, the second on a helper
/// context), and the helper's rows follow this thread's: the file's order.
pub fn each_record(
    input: &mut Input<'_>,
    ctx: &mut Ctx<'_>,
    row: impl Fn(&csv::ByteRecord, &Columns, &mut Ctx<'_>) -> Result<(), Reject> + Sync,
) -> Result<(), IngestError> {
    let csv = input.csv()?;
    let cols = csv.columns(
        ctx.spec.name,
        ctx.spec.required,
        ctx.spec.optional,
        ctx.spec.site_columns,
    )?;
    ctx.resolve_site_columns(csv)?;
    let safe = csv.safe_mask(ctx.spec.safe);
    let delimiter = csv.delimiter;
    let one = |ctx: &mut Ctx<'_>, line: u64, rec: &csv::ByteRecord| {
        ctx.tally.rows_read += 1;
        if let Err(reject) = cols.check_width(rec).and_then(|()| row(rec, &cols, ctx)) {
            ctx.reject(line, reject, mask_record(rec, delimiter, &safe));
        }
    };
    let mut helper = ctx.helper();
    csv.for_each_batch(|lines, records| {
        if ctx.failed() {
            return false;
        }
        if records.len() < PARALLEL_MIN {
            for (line, rec) in lines.iter().zip(records) {
                one(ctx, *line, rec);
            }
            return true;
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
        true
    })?;
    ctx.send();
    Ok(())
}

/// `each_record` for formats that keep state across records (they see them in order,
/// on one thread).
pub fn each_record_in_order(
    input: &mut Input<'_>,
    ctx: &mut Ctx<'_>,
    mut row: impl FnMut(&csv::ByteRecord, &Columns, &mut Ctx<'_>) -> Result<(), Reject>,
) -> Result<(), IngestError> {
    let csv = input.csv()?;
    let cols = csv.columns(
        ctx.spec.name,
        ctx.spec.required,
        ctx.spec.optional,
        ctx.spec.site_columns,
    )?;
    ctx.resolve_site_columns(csv)?;
    let safe = csv.safe_mask(ctx.spec.safe);
    let delimiter = csv.delimiter;
    csv.for_each_record(|line, rec| {
        if ctx.failed() {
            return false;
        }
        ctx.tally.rows_read += 1;
        if let Err(reject) = cols.check_width(rec).and_then(|()| row(rec, &cols, ctx)) {
            ctx.reject(line, reject, mask_record(rec, delimiter, &safe));
        }
        true
    })?;
    ctx.send();
    Ok(())
}

pub use tally_model::MAX_SESSION_US;

/// What a session longer than [`MAX_SESSION_US`] is, for people.
pub const TOO_LONG: &str = "session longer than a day";

/// A canonical `sessions` row: site, station, start, end, duration, user type, patron.
pub fn session_row<'r>(
    site: &'r str,
    station: &'r str,
    start: i64,
    end: i64,
    user_type: &'static str,
    patron_key: Option<Pseudonym>,
) -> [Cell<'r>; 7] {
    [
        Cell::Str(site),
        Cell::text(station),
        Cell::Time(start),
        Cell::Time(end),
        Cell::Int((end - start) / 1_000_000),
        Cell::Str(user_type),
        Cell::key(patron_key),
    ]
}

/// A canonical `circulation` row with no item type, collection, location or category
/// (the formats that have those build the row themselves).
pub fn circulation_row<'r>(
    time: i64,
    site: &'r str,
    event: &'static str,
    patron_key: Option<Pseudonym>,
    item_key: Option<Pseudonym>,
    automatic: Option<bool>,
) -> [Cell<'r>; 10] {
    [
        Cell::Time(time),
        Cell::Str(site),
        Cell::Str(event),
        Cell::Null,
        Cell::Null,
        Cell::Null,
        Cell::Null,
        Cell::key(patron_key),
        Cell::key(item_key),
        Cell::bool(automatic),
    ]
}
