//! The one writer of a lake: a lock, recovery from an interrupted batch, and the commit
//! protocol that makes each input file all-or-nothing.
//!
//! Commit of one batch: Parquet and quarantine files are written under `_staging/`,
//! fsynced, renamed into place, and the ledger entry is written (temp, fsync, rename,
//! fsync of the folder) last. The ledger entry is the commit: tally reads only files a
//! ledger entry names, and the next writer deletes files that no entry names.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use tally_model::{FileSummary, Lake, LedgerEntry, QUARANTINE_COLUMNS, Sites, Table};

use crate::adapters::{self, Ctx};
use crate::decode::Encoding;
use crate::pseudo::{PseudoCache, Pseudonymiser};
use crate::reader::{CsvInput, Source};
use crate::rows::{Quarantined, Rows, Tally};
use crate::{Format, IngestError};

/// What EnvisionWare's pcrDateTime stamps: the session's start (the default) or its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampMeans {
    #[default]
    Start,
    End,
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The table the files are for; a format for another table fails the file.
    pub table: Option<Table>,
    /// `None` detects the format from each file's header.
    pub format: Option<Format>,
    /// The zone of the files' local times, overriding the sites' zones.
    pub tz: Option<Tz>,
    pub envisionware_time: TimestampMeans,
    /// How long to wait for another writer to finish; zero refuses at once.
    pub lock_wait: Duration,
    /// A system prefix to strip from library codes (Symphony's `EPL` in `EPLMNA`).
    pub strip_prefix: Option<String>,
    /// The measure of a totals file, when its columns and name do not say.
    pub measure: Option<String>,
    /// The year of a wide totals file, when its name does not say.
    pub year: Option<i32>,
    /// The site of a file that covers one site and does not name it (a Meraki network,
    /// a Windows machine's log).
    pub site: Option<String>,
    /// The station of a Windows log (else the file's name).
    pub station: Option<String>,
    /// The column mapping for `generic` files.
    pub mapping: Option<adapters::generic::Mapping>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ingested,
    AlreadyIngested,
    Failed,
}

/// What happened to one file, as `tally ingest --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub status: Status,
    pub batch: Option<String>,
    /// Whether the format was detected from the header (`--format auto`).
    pub detected: bool,
    #[serde(flatten)]
    pub summary: FileSummary,
    pub error: Option<String>,
}

/// Holds the lake's lock for as long as it lives.
pub struct LakeWriter {
    lake: Lake,
    _lock: File,
    /// The commit order of the next batch (the ledger is read once, at open).
    next_seq: std::cell::Cell<u64>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io { path: path.to_path_buf(), source }
}

fn sync_dir(dir: &Path) -> Result<(), IngestError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

impl LakeWriter {
    /// Takes the lock (waiting up to `wait`), then cleans up after any interrupted batch.
    pub fn open(lake: &Lake, wait: Duration) -> Result<LakeWriter, IngestError> {
        std::fs::create_dir_all(lake.root()).map_err(io_err(lake.root()))?;
        let lock_path = lake.lock_path();
        let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(io_err(&lock_path))?;
        let deadline = Instant::now() + wait;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(IngestError::Locked { lake: lake.root().into(), lock: lock_path });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(IngestError::Io { path: lock_path, source: e }),
            }
        }
        let writer = LakeWriter { lake: lake.clone(), _lock: lock, next_seq: std::cell::Cell::new(1) };
        writer.recover()?;
        let last = writer.ledger()?.iter().map(|e| e.seq).max().unwrap_or(0);
        writer.next_seq.set(last + 1);
        Ok(writer)
    }

    fn ledger(&self) -> Result<Vec<LedgerEntry>, IngestError> {
        self.lake.read_ledger().map_err(|source| IngestError::Ledger { lake: self.lake.root().into(), source })
    }

    /// Deletes what an interrupted batch left: the staging folder, and Parquet or
    /// quarantine files that no ledger entry names.
    fn recover(&self) -> Result<(), IngestError> {
        let staging = self.lake.staging_dir();
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
        }
        let mut named: BTreeSet<PathBuf> = BTreeSet::new();
        for entry in self.ledger()? {
            named.extend(entry.parquet.iter().map(|p| self.lake.root().join(p)));
            named.extend(entry.quarantine.iter().map(|p| self.lake.root().join(p)));
        }
        let mut stack: Vec<PathBuf> = Table::ALL.iter().map(|t| self.lake.table_dir(*t)).collect();
        stack.push(self.lake.quarantine_dir());
        while let Some(dir) = stack.pop() {
            let Ok(read) = std::fs::read_dir(&dir) else { continue };
            for item in read {
                let path = item.map_err(io_err(&dir))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if !named.contains(&path) {
                    tracing::warn!(file = %path.display(), "removing a file left by an interrupted ingest");
                    std::fs::remove_file(&path).map_err(io_err(&path))?;
                }
            }
        }
        Ok(())
    }

    /// The content keys of every committed row of `table`.
    pub fn row_keys(&self, table: Table) -> Result<HashSet<u64>, IngestError> {
        let pe = |source| IngestError::Parquet { path: self.lake.root().into(), source };
        let files = self.lake.parquet_files(table, None).map_err(|source| IngestError::Ledger { lake: self.lake.root().into(), source })?;
        if files.is_empty() {
            return Ok(HashSet::new());
        }
        let paths: Vec<PlRefPath> = files.iter().map(|p| PlRefPath::new(p.to_string_lossy().as_ref())).collect();
        let args = ScanArgsParquet {
            glob: false,
            hive_options: HiveOptions { enabled: Some(false), ..Default::default() },
            ..Default::default()
        };
        let df = LazyFrame::scan_parquet_sources(ScanSources::Paths(paths.into_iter().collect()), args)
            .and_then(|lf| lf.select([col("row_key")]).collect())
            .map_err(pe)?;
        frame_keys(&df)
    }

    /// Every committed input file by its SHA-256, with its ledger entry.
    pub fn committed(&self) -> Result<HashMap<String, LedgerEntry>, IngestError> {
        Ok(self.ledger()?.into_iter().map(|e| (e.summary.sha256.clone(), e)).collect())
    }

    /// Writes one batch all-or-nothing and returns its ledger entry.
    pub fn commit(
        &self,
        batch: &str,
        table: Table,
        frame: DataFrame,
        quarantine: &[Quarantined],
        summary: FileSummary,
    ) -> Result<LedgerEntry, IngestError> {
        let root = self.lake.root();
        let staging = self.lake.staging_dir().join(batch);
        std::fs::create_dir_all(&staging).map_err(io_err(&staging))?;
        let rows_stored = frame.height() as u64;
        // (staged path, final path relative to the root)
        let mut staged: Vec<(PathBuf, String)> = Vec::new();
        for (year, month, mut part) in partition_by_month(frame, table)? {
            let rel = Lake::parquet_rel_path(table, year, month, batch);
            let tmp = staging.join(rel.replace('/', "_"));
            let file = File::create(&tmp).map_err(io_err(&tmp))?;
            ParquetWriter::new(&file)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(&mut part)
                .map_err(|source| IngestError::Parquet { path: tmp.clone(), source })?;
            file.sync_all().map_err(io_err(&tmp))?;
            staged.push((tmp, rel));
        }
        let quarantine_rel = if quarantine.is_empty() {
            None
        } else {
            let rel = Lake::quarantine_rel_path(batch);
            let tmp = staging.join("quarantine.csv");
            write_quarantine(&tmp, &summary.file, quarantine)?;
            staged.push((tmp, rel.clone()));
            Some(rel)
        };
        for (tmp, rel) in &staged {
            let dest = root.join(rel);
            let parent = dest.parent().expect("lake paths have a parent");
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            std::fs::rename(tmp, &dest).map_err(io_err(&dest))?;
            sync_dir(parent)?;
        }
        let seq = self.next_seq.get();
        let entry = LedgerEntry {
            batch: batch.to_string(),
            seq,
            summary,
            rows_stored,
            parquet: staged.iter().filter(|(_, rel)| rel.ends_with(".parquet")).map(|(_, rel)| rel.clone()).collect(),
            quarantine: quarantine_rel,
            tally_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let ledger_dir = self.lake.ledger_dir();
        std::fs::create_dir_all(&ledger_dir).map_err(io_err(&ledger_dir))?;
        let tmp = staging.join("ledger.json");
        let mut json = serde_json::to_vec_pretty(&entry).expect("ledger entries serialise");
        json.push(b'\n');
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&json).and_then(|()| f.sync_all()).map_err(io_err(&tmp))?;
        let dest = self.lake.ledger_path(batch);
        std::fs::rename(&tmp, &dest).map_err(io_err(&dest))?;
        sync_dir(&ledger_dir)?;
        std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
        // Only this writer uses the staging folder; once empty it goes too.
        let _ = std::fs::remove_dir(self.lake.staging_dir());
        self.next_seq.set(seq + 1);
        Ok(entry)
    }
}

/// Splits a frame by the UTC year and month of the table's time column.
fn partition_by_month(frame: DataFrame, table: Table) -> Result<Vec<(i32, u32, DataFrame)>, IngestError> {
    let pe = |source| IngestError::Parquet { path: table.name().into(), source };
    if frame.height() == 0 {
        return Ok(Vec::new());
    }
    let time = table.partition_column();
    let keyed = frame
        .lazy()
        .with_columns([col(time).dt().year().alias("__year"), col(time).dt().month().alias("__month")])
        .collect()
        .map_err(pe)?;
    let mut parts = Vec::new();
    for part in keyed.partition_by_stable(["__year", "__month"], true).map_err(pe)? {
        let year = part.column("__year").map_err(pe)?.i32().map_err(pe)?.get(0).unwrap_or(0);
        let month = part.column("__month").map_err(pe)?.cast(&DataType::UInt32).map_err(pe)?.u32().map_err(pe)?.get(0).unwrap_or(1);
        let part = part.drop_many(["__year", "__month"]);
        parts.push((year, month, part));
    }
    parts.sort_by_key(|(y, m, _)| (*y, *m));
    Ok(parts)
}

fn write_quarantine(path: &Path, file: &str, rows: &[Quarantined]) -> Result<(), IngestError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| IngestError::Io { path: path.into(), source: e.into() })?;
    let err = |e: csv::Error| IngestError::Io { path: path.into(), source: e.into() };
    w.write_record(QUARANTINE_COLUMNS).map_err(err)?;
    for q in rows {
        w.write_record([file, &q.line.to_string(), &q.column, &q.reason, &q.raw_masked]).map_err(err)?;
    }
    let f = w.into_inner().map_err(|e| IngestError::Io { path: path.into(), source: e.into_error() })?;
    f.sync_all().map_err(io_err(path))
}

/// A file read and mapped, ready to commit.
struct Parsed {
    batch: String,
    table: Table,
    frame: DataFrame,
    quarantine: Vec<Quarantined>,
    summary: FileSummary,
    detected: bool,
}

/// The batch id: table and the first 16 hex digits of the file's SHA-256. The same bytes
/// always make the same batch, so tables are reproducible and a repeat is recognised.
fn batch_id(table: Table, sha256: &str) -> String {
    format!("{}-{}", table.name(), &sha256[..16])
}

fn parse_file(
    source: &Source,
    sites: &Sites,
    pseudo: &Pseudonymiser,
    options: &IngestOptions,
    known: &HashMap<Table, HashSet<u64>>,
) -> Result<Parsed, (IngestError, Option<Format>)> {
    let first_line = source.lines().next().map(|(_, l)| l.to_string()).ok_or((IngestError::Empty { path: source.path.clone() }, options.format))?;
    // Formats read as lines or JSON, not CSV: Symphony, and Meraki's JSON.
    let is_json = first_line.trim_start().starts_with('[');
    let line_format = match options.format {
        Some(Format::SymphonyHist) => Some(Format::SymphonyHist),
        Some(Format::Meraki) if is_json => Some(Format::Meraki),
        Some(_) => None,
        None => Format::detect_line(&first_line),
    };
    let mut input = match line_format {
        Some(_) => None,
        None => Some(CsvInput::open(source).map_err(|e| (e, options.format))?),
    };
    let (format, detected) = match (options.format, line_format, &input) {
        (Some(f), _, _) => (f, false),
        (None, Some(f), _) => (f, true),
        (None, None, Some(csv)) => match Format::detect(&csv.header) {
            Some(f) => (f, true),
            None => {
                return Err((
                    IngestError::UnknownFormat {
                        path: source.path.clone(),
                        header: csv.header.join(", "),
                        known: Format::known_names(),
                    },
                    None,
                ));
            }
        },
        (None, None, None) => unreachable!("a file is read as lines or as CSV"),
    };
    let format_table = match (format, &options.mapping) {
        (Format::Generic, Some(m)) => m.table().map_err(|e| (e, Some(format)))?,
        _ => format.table(),
    };
    if let Some(table) = options.table
        && table != format_table
    {
        let message = format!("format {} holds {format_table} rows, but --table is {table}", format.name());
        return Err((IngestError::Malformed { path: source.path.clone(), line: 1, message }, Some(format)));
    }
    let empty = HashSet::new();
    let mut ctx = Ctx {
        sites,
        source: format.name(),
        known: known.get(&format_table).unwrap_or(&empty),
        seen: HashSet::new(),
        tz_override: options.tz,
        pseudo: PseudoCache::new(pseudo),
        envisionware_time: options.envisionware_time,
        tally: Tally::default(),
        rows: Rows::new(format_table),
    };
    fn csv<'a>(input: &mut Option<CsvInput<'a>>) -> CsvInput<'a> {
        input.take().expect("CSV formats open the file as CSV")
    }
    let read = match format {
        Format::EnvisionWare => adapters::envisionware::read(&mut csv(&mut input), &mut ctx),
        Format::Libki => adapters::libki::read(&mut csv(&mut input), &mut ctx),
        Format::KohaStatistics => adapters::koha::read(&mut csv(&mut input), &mut ctx),
        Format::TotalsLong => adapters::totals::read_long(&mut csv(&mut input), &mut ctx, options.measure.as_deref()),
        Format::TotalsWide => {
            adapters::totals::read_wide(&mut csv(&mut input), &mut ctx, options.measure.as_deref(), options.year)
        }
        Format::SymphonyHist => {
            adapters::symphony::read(source, &mut ctx, options.strip_prefix.as_deref());
            Ok(())
        }
        Format::OsTicket | Format::Rt | Format::Glpi | Format::Jira => {
            let vendor = format.ticket_vendor().expect("a ticket format");
            adapters::tickets::read(&mut csv(&mut input), &mut ctx, vendor)
        }
        Format::Meraki if input.is_none() => adapters::meraki::read_json(source, &mut ctx, options.site.as_deref()),
        Format::Meraki => adapters::meraki::read_csv(&mut csv(&mut input), &mut ctx, options.site.as_deref()),
        Format::SnipeIt => adapters::assets::read_snipe_it(&mut csv(&mut input), &mut ctx),
        Format::Inventory => adapters::assets::read_inventory(&mut csv(&mut input), &mut ctx),
        Format::WindowsEvents => {
            adapters::windows::read(&mut csv(&mut input), &mut ctx, options.site.as_deref(), options.station.as_deref())
        }
        Format::LibkiHistory => adapters::libki::read_history(&mut csv(&mut input), &mut ctx, options.site.as_deref()),
        Format::KohaOldIssues => adapters::loans::read_koha(&mut csv(&mut input), &mut ctx),
        Format::EvergreenCirc => adapters::loans::read_evergreen(&mut csv(&mut input), &mut ctx),
        Format::Generic => match &options.mapping {
            Some(mapping) => adapters::generic::read(&mut csv(&mut input), &mut ctx, mapping),
            None => Err(IngestError::Malformed {
                path: source.path.clone(),
                line: 1,
                message: "--format generic needs a column mapping: --map FILE".into(),
            }),
        },
    };
    read.map_err(|e| (e, Some(format)))?;
    let table = format_table;
    let batch = batch_id(table, &source.sha256);
    let tally = ctx.tally;
    let summary = FileSummary {
        file: source.path.display().to_string(),
        sha256: source.sha256.clone(),
        format: format.name().to_string(),
        table: table.name().to_string(),
        rows_read: tally.rows_read,
        rows_accepted: tally.rows_accepted,
        rows_quarantined: tally.rows_quarantined(),
        rows_excluded: tally.rows_excluded(),
        excluded: tally.excluded,
        quarantined: tally.quarantined,
        unknown_sites: tally.unknown_sites.into_iter().collect(),
        notes: tally.notes,
        encoding: format!(
            "{}{}",
            match source.encoding {
                Encoding::Utf8 => "utf-8",
                Encoding::Utf8Bom => "utf-8 with BOM",
                Encoding::Windows1252 => "windows-1252",
            },
            if source.compressed { ", unix-compressed" } else { "" }
        ),
    };
    debug_assert!(summary.is_balanced());
    let frame = ctx
        .rows
        .into_frame(format.name(), &batch)
        .map_err(|source_err| (IngestError::Parquet { path: source.path.clone(), source: source_err }, Some(format)))?;
    Ok(Parsed { batch, table, frame, quarantine: tally.quarantine, summary, detected })
}

fn failed(path: &Path, sha256: String, format: Option<Format>, error: &IngestError) -> FileOutcome {
    FileOutcome {
        status: Status::Failed,
        batch: None,
        detected: false,
        summary: FileSummary {
            file: path.display().to_string(),
            sha256,
            format: format.map(|f| f.name().to_string()).unwrap_or_default(),
            table: format.map(|f| f.table().name().to_string()).unwrap_or_default(),
            ..Default::default()
        },
        error: Some(error.to_string()),
    }
}

/// Ingests `files` in order, each its own batch. Files are read in parallel and
/// committed one at a time. A file that fails is reported and leaves the lake as it was;
/// the others go on. Errors that stop everything (the lock, an unreadable ledger) are `Err`.
pub fn ingest_files(
    lake: &Lake,
    sites: &Sites,
    pseudo: &Pseudonymiser,
    options: &IngestOptions,
    files: &[PathBuf],
) -> Result<Vec<FileOutcome>, IngestError> {
    let writer = LakeWriter::open(lake, options.lock_wait)?;
    let mut committed = writer.committed()?;
    // Content keys of the rows already in the lake, per table: every table a file of this
    // call could be for. One column each; cheap next to parsing.
    let tables: BTreeSet<Table> = match (options.table, options.format, &options.mapping) {
        (Some(t), _, _) => [t].into(),
        (None, Some(Format::Generic), Some(m)) => [m.table()?].into(),
        (None, Some(f), _) => [f.table()].into(),
        (None, _, _) => Table::ALL.into_iter().collect(),
    };
    let mut known: HashMap<Table, HashSet<u64>> = HashMap::new();
    for t in tables {
        known.insert(t, writer.row_keys(t)?);
    }
    let mut outcomes = Vec::with_capacity(files.len());
    // Read a few files at a time in parallel; commit in the order given.
    let chunk = rayon::current_num_threads().max(1) * 2;
    for group in files.chunks(chunk) {
        let parsed: Vec<(PathBuf, Result<Source, IngestError>)> =
            group.par_iter().map(|p| (p.clone(), Source::read(p))).collect();
        let work: Vec<_> = parsed
            .into_par_iter()
            .map(|(path, source)| match source {
                Err(e) => (path, None, Err((e, options.format))),
                Ok(source) => {
                    if committed.contains_key(&source.sha256) {
                        (path, Some(source), Ok(None))
                    } else {
                        let result = parse_file(&source, sites, pseudo, options, &known).map(Some);
                        (path, Some(source), result)
                    }
                }
            })
            .collect();
        for (path, source, result) in work {
            let sha = source.as_ref().map(|s| s.sha256.clone()).unwrap_or_default();
            match result {
                Ok(None) => {
                    let entry = committed.get(&sha);
                    let batch = entry.map(|e| e.batch.clone());
                    tracing::info!(file = %path.display(), batch = ?batch, "already ingested; nothing to do");
                    let mut summary = entry.map(|e| e.summary.clone()).unwrap_or_default();
                    summary.file = path.display().to_string();
                    outcomes.push(FileOutcome { status: Status::AlreadyIngested, batch, detected: false, summary, error: None });
                }
                Ok(Some(mut p)) => {
                    // The same bytes twice in one call: the second is a repeat.
                    if let Some(entry) = committed.get(&sha) {
                        outcomes.push(FileOutcome {
                            status: Status::AlreadyIngested,
                            batch: Some(entry.batch.clone()),
                            detected: p.detected,
                            summary: p.summary,
                            error: None,
                        });
                        continue;
                    }
                    // Files read side by side did not see each other's rows: a file whose
                    // rows an earlier file of this call committed is read again.
                    if known.get(&p.table).is_some_and(|k| overlaps(&p.frame, k).unwrap_or(true)) {
                        let source = source.as_ref().expect("parsed from a source");
                        match parse_file(source, sites, pseudo, options, &known) {
                            Ok(again) => p = again,
                            Err((e, format)) => {
                                outcomes.push(failed(&path, sha, format, &e));
                                continue;
                            }
                        }
                    }
                    let new_keys = frame_keys(&p.frame)?;
                    match writer.commit(&p.batch, p.table, p.frame, &p.quarantine, p.summary.clone()) {
                        Ok(entry) => {
                            committed.insert(sha, entry.clone());
                            known.entry(p.table).or_default().extend(new_keys);
                            tracing::debug!(
                                file = %path.display(), format = %p.summary.format, batch = %entry.batch,
                                rows_read = p.summary.rows_read, rows_accepted = p.summary.rows_accepted,
                                rows_quarantined = p.summary.rows_quarantined, rows_excluded = p.summary.rows_excluded,
                                "ingested"
                            );
                            outcomes.push(FileOutcome {
                                status: Status::Ingested,
                                batch: Some(entry.batch),
                                detected: p.detected,
                                summary: p.summary,
                                error: None,
                            });
                        }
                        Err(e) => {
                            tracing::error!("{e}");
                            outcomes.push(failed(&path, sha, p.summary.format.parse().ok(), &e));
                        }
                    }
                }
                Err((e, format)) => {
                    tracing::error!("{e}");
                    outcomes.push(failed(&path, sha, format, &e));
                }
            }
        }
    }
    Ok(outcomes)
}

fn frame_keys(frame: &DataFrame) -> Result<HashSet<u64>, IngestError> {
    let pe = |source| IngestError::Parquet { path: "row_key".into(), source };
    let keys = frame.column("row_key").map_err(pe)?.u64().map_err(pe)?;
    Ok(keys.iter().flatten().collect())
}

fn overlaps(frame: &DataFrame, known: &HashSet<u64>) -> Result<bool, IngestError> {
    if known.is_empty() {
        return Ok(false);
    }
    let pe = |source| IngestError::Parquet { path: "row_key".into(), source };
    Ok(frame.column("row_key").map_err(pe)?.u64().map_err(pe)?.iter().flatten().any(|k| known.contains(&k)))
}
