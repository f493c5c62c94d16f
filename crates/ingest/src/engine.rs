//! The ingest engine: each input file streams through detection, its adapter, the
//! identity rules and the part writer into a staged batch, which the lake writer commits.
//!
//! Files are taken one at a time, in the order given, so that each sees the rows the
//! files before it committed; within a file the work is spread over threads: one reads
//! and splits the CSV records, two map them to canonical rows (the adapter), one keeps
//! them (identity: duplicates and rows the lake has) and one encodes and writes the
//! Parquet parts (with polars' own threads). Every buffer between them is bounded by
//! [`crate::Budget`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tally_lake::{FileSummary, Lake, LakeWriter, LedgerEntry, StagedFile};
use tally_model::{Sites, Table};

use crate::adapters::{Ctx, Input, Out};
use crate::format::SitePolicy;
use crate::identity::LakeIndex;
use crate::options::IngestOptions;
use crate::pseudo::{PseudoCache, Pseudonymiser};
use crate::reader::CsvInput;
use crate::reason::{Code, Fate};
use crate::rows::{QuarantineFile, Tally};
use crate::sink::{Keeper, KeeperJob, StagedPart};
use crate::source::{Source, first_line};
use crate::{Format, IngestError};

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
    /// The most bytes the engine held in its buffers at once (records read ahead, rows
    /// built and not yet written), against the memory budget.
    pub peak_buffered_bytes: u64,
    pub memory_budget_bytes: u64,
}

/// A file read and mapped, its parts staged, ready to commit.
struct Parsed {
    batch: String,
    table: Table,
    /// Its rows carry pseudonyms: the lake remembers the key's fingerprint.
    needs_key: bool,
    parts: Vec<StagedPart>,
    quarantine: Option<PathBuf>,
    summary: FileSummary,
    detected: bool,
    rows_stored: u64,
    peak_buffered: usize,
}

/// The batch id: table and the first 16 hex digits of the file's SHA-256. The same bytes
/// always make the same batch, so tables are reproducible and a repeat is recognised.
fn batch_id(table: Table, sha256: &str) -> String {
    format!("{}-{}", table.name(), &sha256[..16])
}

/// Why a file failed, and its format when known.
type Failure = Box<(IngestError, Option<Format>)>;

fn fail(e: IngestError, format: Option<Format>) -> Failure {
    Box::new((e, format))
}

/// Which format a file is, and whether that was detected; its CSV reader when it is read
/// as CSV.
fn detect(
    source: &Source,
    options: &IngestOptions,
) -> Result<(Format, bool, Option<CsvInput>), Failure> {
    let first = first_line(source)
        .map_err(|e| fail(e, options.format))?
        .ok_or((
            IngestError::Empty {
                path: source.path.clone(),
            },
            options.format,
        ))?;
    // Formats read as lines or JSON, not CSV (Symphony, Meraki's JSON): recognised from
    // the first line, whether named or detected.
    let line_format = match options.format {
        Some(f) if f.reads_lines(&first) => Some(f),
        Some(_) => None,
        None => Format::detect_line(&first),
    };
    if let Some(f) = line_format {
        return Ok((f, options.format.is_none(), None));
    }
    if let Some((format, message)) = Format::lookalike(&first) {
        return Err(fail(
            IngestError::Malformed {
                path: source.path.clone(),
                line: 1,
                message: message.into(),
            },
            Some(format),
        ));
    }
    let csv = CsvInput::open(source, options.budget.read_ahead_bytes())
        .map_err(|e| fail(e, options.format))?;
    match options.format {
        Some(f) => Ok((f, false, Some(csv))),
        None => match Format::detect(&csv.header) {
            Some(f) => Ok((f, true, Some(csv))),
            None => Err(fail(
                IngestError::UnknownFormat {
                    path: source.path.clone(),
                    header: csv.header.join(", "),
                    known: Format::known_names(),
                },
                None,
            )),
        },
    }
}

struct Shared<'a> {
    writer: &'a LakeWriter,
    sites: &'a Sites,
    pseudo: Option<&'a Pseudonymiser>,
    options: &'a IngestOptions,
}

/// Whether a file of this format (with these options) carries identifiers to
/// pseudonymise: a key is then required.
fn needs_key(format: Format, options: &IngestOptions) -> bool {
    match (format, &options.mapping) {
        (Format::Generic, Some(m)) => m.has_identifiers(),
        _ => format.spec().identifiers,
    }
}

fn parse_file(
    shared: &Shared<'_>,
    source: &Source,
    indexes: &mut HashMap<Table, LakeIndex>,
    ledger: &[LedgerEntry],
) -> Result<Parsed, Failure> {
    let options = shared.options;
    let (format, detected, csv) = detect(source, options)?;
    let needs_key = needs_key(format, options);
    if needs_key && shared.pseudo.is_none() {
        return Err(fail(IngestError::NoKey, Some(format)));
    }
    let table = match (format, &options.mapping) {
        (Format::Generic, Some(m)) => m.table().map_err(|e| fail(e, Some(format)))?,
        _ => format.table(),
    };
    if let Some(t) = options.table
        && t != table
    {
        let message = format!(
            "format {} holds {table} rows, but --table is {t}",
            format.name()
        );
        return Err(fail(
            IngestError::Malformed {
                path: source.path.clone(),
                line: 1,
                message,
            },
            Some(format),
        ));
    }
    let batch = batch_id(table, &source.sha256);
    let staging = shared
        .writer
        .stage(&batch)
        .map_err(|e| fail(e.into(), Some(format)))?;
    let budget = options.budget;
    let lake = shared.writer.lake();
    let lake_index = indexes
        .remove(&table)
        .unwrap_or_else(|| LakeIndex::new(lake, table, ledger, budget.lake_keys()));
    let display = source.path.display().to_string();
    let spec = format.spec();
    let keeper = Keeper::start(KeeperJob {
        staging: staging.clone(),
        table,
        batch: batch.clone(),
        source: spec.name,
        budget,
        small: source.bytes <= budget.small_file_bytes(),
        lake: lake_index,
    });
    let (tx, in_flight) = keeper.sender();
    let tally = Tally::new(Some(QuarantineFile::new(
        staging.join("quarantine.csv"),
        display.clone(),
    )));
    let mut ctx = Ctx::new(
        shared.sites,
        spec,
        table,
        options,
        shared.pseudo.map(PseudoCache::new),
        tally,
        Some(Out {
            tx,
            chunk_bytes: budget.chunk_bytes(),
            in_flight,
            failed: false,
        }),
    );
    let read_ahead = if csv.is_some() {
        3 * budget.read_ahead_bytes()
    } else {
        0
    };
    let mut input = Input { source, csv };
    let read = match spec.site {
        // A file that is one site's and does not say which: said once, before a row.
        SitePolicy::File(why) if options.site.is_none() => Err(IngestError::Malformed {
            path: source.path.clone(),
            line: 1,
            message: format!("{why}: pass --site CODE for the site it is"),
        }),
        _ => (spec.read)(&mut input, &mut ctx),
    };
    drop(input);
    // The context holds a sender: drop it so the keeper sees the end of the file.
    let mut tally = ctx.finish();
    let (kept, lake_index) = keeper.finish();
    if let Some(index) = lake_index {
        indexes.insert(table, index);
    }
    let quarantine = tally
        .take_quarantine_file()
        .map(QuarantineFile::finish)
        .transpose();
    let outcome = (|| {
        read?;
        let kept = kept?;
        if let Some(e) = tally.error.take() {
            return Err(e);
        }
        Ok((kept, quarantine?.flatten()))
    })();
    let (kept, quarantine) = match outcome {
        Ok(v) => v,
        Err(e) => {
            shared.writer.discard(&batch);
            return Err(fail(e, Some(format)));
        }
    };
    tally.rows_accepted += kept.accepted;
    tally.exclude_n(Code::DuplicateRecord, "", kept.duplicate);
    tally.exclude_n(Code::InLake, "", kept.in_lake);
    let summary = FileSummary {
        file: display,
        sha256: source.sha256.clone(),
        format: format.name().to_string(),
        table: table.name().to_string(),
        rows_read: tally.rows_read,
        rows_accepted: tally.rows_accepted,
        rows_quarantined: tally.rows_quarantined,
        rows_excluded: tally.rows_excluded,
        excluded: tally.by_code(Fate::Excluded),
        quarantined: tally.by_code(Fate::Quarantined),
        reasons: tally.reasons(),
        unknown_sites: tally.unknown_sites.into_iter().collect(),
        notes: tally.notes,
        encoding: source.describe(),
    };
    Ok(Parsed {
        batch,
        table,
        needs_key,
        parts: kept.parts,
        quarantine,
        summary,
        detected,
        rows_stored: kept.rows_stored,
        peak_buffered: kept.peak_buffered + read_ahead,
    })
}

fn failed(
    path: &Path,
    sha256: String,
    format: Option<Format>,
    error: &IngestError,
    budget: u64,
) -> FileOutcome {
    FileOutcome {
        status: Status::Failed,
        batch: None,
        detected: false,
        summary: FileSummary {
            file: path.display().to_string(),
            sha256,
            format: format.map(|f| f.name().to_string()).unwrap_or_default(),
            table: format
                .map(|f| f.table().name().to_string())
                .unwrap_or_default(),
            ..Default::default()
        },
        error: Some(error.to_string()),
        peak_buffered_bytes: 0,
        memory_budget_bytes: budget,
    }
}

/// Ingests `files` in order, each its own batch. A file that fails is reported and leaves
/// the lake as it was; the others go on. Errors that stop everything (the lock, an
/// unreadable ledger) are `Err`.
///
/// `pseudo` is the library's key; it may be absent when no file has identifiers (a file
/// that has them then stops the run with [`IngestError::NoKey`]). A key other than the
/// one the lake was written with is refused before anything is read
/// ([`IngestError::WrongKey`]).
pub fn ingest_files(
    lake: &Lake,
    sites: &Sites,
    pseudo: Option<&Pseudonymiser>,
    options: &IngestOptions,
    files: &[PathBuf],
) -> Result<Vec<FileOutcome>, IngestError> {
    let writer = LakeWriter::open(lake, options.lock_wait)?;
    let mut ledger = writer.entries()?;
    let meta = writer.meta()?;
    match (options.demo, meta.demo, ledger.is_empty()) {
        (false, true, _) => {
            return Err(IngestError::DemoLake {
                lake: lake.root().into(),
            });
        }
        (true, false, false) => {
            return Err(IngestError::NotDemoLake {
                lake: lake.root().into(),
            });
        }
        (true, false, true) => writer.mark_demo()?,
        _ => {}
    }
    // Rows of a purged period are stored as the purge left the others: without keys.
    let options = &IngestOptions {
        purged_before_us: meta.purged.as_ref().map(|p| p.before_us),
        ..options.clone()
    };
    let fingerprint = pseudo.map(Pseudonymiser::fingerprint);
    if let (Some(fp), Some(lake_fp)) = (&fingerprint, writer.meta()?.key_fingerprint)
        && *fp != lake_fp
    {
        return Err(IngestError::WrongKey {
            lake: lake.root().into(),
        });
    }
    let mut committed: HashMap<String, LedgerEntry> = ledger
        .iter()
        .map(|e| (e.summary.sha256.clone(), e.clone()))
        .collect();
    let mut indexes: HashMap<Table, LakeIndex> = HashMap::new();
    let budget = options.budget.bytes as u64;
    let shared = Shared {
        writer: &writer,
        sites,
        pseudo,
        options,
    };
    let mut outcomes = Vec::with_capacity(files.len());
    for path in files {
        let source = match Source::probe(path) {
            Ok(s) => Source {
                buffer: options.budget.read_ahead_bytes().min(1 << 20),
                ..s
            },
            Err(e) => {
                tracing::error!("{e}");
                outcomes.push(failed(path, String::new(), options.format, &e, budget));
                continue;
            }
        };
        if let Some(entry) = committed.get(&source.sha256) {
            tracing::info!(file = %path.display(), batch = %entry.batch, "already ingested; nothing to do");
            let mut summary = entry.summary.clone();
            summary.file = path.display().to_string();
            outcomes.push(FileOutcome {
                status: Status::AlreadyIngested,
                batch: Some(entry.batch.clone()),
                detected: false,
                summary,
                error: None,
                peak_buffered_bytes: 0,
                memory_budget_bytes: budget,
            });
            continue;
        }
        let p = match parse_file(&shared, &source, &mut indexes, &ledger) {
            Ok(p) => p,
            Err(failure) => {
                let (e, format) = *failure;
                if e.is_configuration() {
                    return Err(e);
                }
                tracing::error!("{e}");
                outcomes.push(failed(path, source.sha256.clone(), format, &e, budget));
                continue;
            }
        };
        if p.needs_key
            && let Some(fp) = &fingerprint
            && let Err(e) = writer.remember_key(fp)
        {
            writer.discard(&p.batch);
            return Err(e.into());
        }
        let mut files: Vec<StagedFile> = p
            .parts
            .iter()
            .filter(|part| part.rows > 0)
            .map(|part| StagedFile {
                tmp: part.tmp.clone(),
                rel: part.rel.clone(),
            })
            .collect();
        if let Some(q) = &p.quarantine {
            files.push(StagedFile {
                tmp: q.clone(),
                rel: Lake::quarantine_rel_path(&p.batch),
            });
        }
        match writer.commit(&p.batch, &files, p.summary.clone(), p.rows_stored) {
            Ok(entry) => {
                tracing::debug!(
                    file = %path.display(), format = %p.summary.format, batch = %entry.batch,
                    rows_read = p.summary.rows_read, rows_accepted = p.summary.rows_accepted,
                    rows_quarantined = p.summary.rows_quarantined, rows_excluded = p.summary.rows_excluded,
                    "ingested"
                );
                if let Some(index) = indexes.get_mut(&p.table) {
                    index.add(&entry);
                }
                committed.insert(source.sha256.clone(), entry.clone());
                ledger.push(entry.clone());
                outcomes.push(FileOutcome {
                    status: Status::Ingested,
                    batch: Some(entry.batch),
                    detected: p.detected,
                    summary: p.summary,
                    error: None,
                    peak_buffered_bytes: p.peak_buffered as u64,
                    memory_budget_bytes: budget,
                });
            }
            Err(e) => {
                writer.discard(&p.batch);
                tracing::error!("{e}");
                outcomes.push(failed(
                    path,
                    source.sha256.clone(),
                    p.summary.format.parse().ok(),
                    &e.into(),
                    budget,
                ));
            }
        }
    }
    Ok(outcomes)
}
