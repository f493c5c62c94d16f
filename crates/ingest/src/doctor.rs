//! `tally doctor FILE...`: what ingest would make of files, without touching any lake.
//!
//! Each file is ingested for real into a lake of its own in a temporary folder, under a
//! key made for the run and forgotten with it (pseudonyms are never shown), and that
//! lake is read back: the format and why, the columns used and ignored, the sites found
//! (and which sites.toml lacks), the dates the rows span, the row counts, and samples of
//! what would be quarantined. The temporary lake is then deleted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;
use tally_lake::Lake;
use tally_model::{Sites, Table};

use crate::engine::{FileOutcome, Status, ingest_files};
use crate::options::IngestOptions;
use crate::pseudo::Pseudonymiser;
use crate::reader::{CsvInput, normalize_header};
use crate::source::Source;
use crate::{Format, IngestError};

/// Quarantined rows shown per reason code.
const SAMPLES: usize = 3;

/// What ingest would make of one file.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub file: String,
    pub status: Status,
    pub format: String,
    /// Why this format: `--format`, or the header signature that matched.
    pub why: String,
    pub table: String,
    pub encoding: String,
    pub columns_used: Vec<String>,
    pub columns_ignored: Vec<String>,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub rows_excluded: u64,
    /// Rows stored per site, as sites.toml names them.
    pub sites: BTreeMap<String, u64>,
    /// Site values sites.toml does not know (kept as written).
    pub unknown_sites: Vec<String>,
    /// First and last local day of the rows stored.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub excluded: BTreeMap<String, u64>,
    pub quarantined: BTreeMap<String, u64>,
    /// A few quarantined rows per code: line, column, reason.
    pub quarantine_samples: Vec<(u64, String, String)>,
    pub notes: BTreeMap<String, u64>,
    pub error: Option<String>,
}

/// Diagnoses each file on its own.
pub fn diagnose(
    sites: &Sites,
    pseudo: Option<&Pseudonymiser>,
    options: &IngestOptions,
    files: &[PathBuf],
) -> Result<Vec<Diagnosis>, IngestError> {
    // A key of the run's own when none is given: pseudonyms are never shown.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let own = Pseudonymiser::new(format!("tally doctor {} {nonce}", std::process::id()).as_bytes())
        .expect("a long enough key");
    let pseudo = pseudo.unwrap_or(&own);
    let mut out = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let dir =
            std::env::temp_dir().join(format!("tally-doctor-{}-{nonce}-{i}", std::process::id()));
        let result = diagnose_one(sites, pseudo, options, file, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        out.push(result?);
    }
    Ok(out)
}

fn diagnose_one(
    sites: &Sites,
    pseudo: &Pseudonymiser,
    options: &IngestOptions,
    file: &Path,
    dir: &Path,
) -> Result<Diagnosis, IngestError> {
    let lake = Lake::new(dir);
    let outcome: FileOutcome =
        ingest_files(&lake, sites, Some(pseudo), options, &[file.to_path_buf()])?
            .into_iter()
            .next()
            .expect("one outcome per file");
    let s = &outcome.summary;
    let format: Option<Format> = s.format.parse().ok();
    let why = match (format, outcome.detected) {
        (Some(f), true) => format!("detected: {}", f.spec().detected_by),
        (Some(_), false) => "named with --format".to_string(),
        (None, _) => String::new(),
    };
    let (used, ignored) = match format {
        Some(f) => columns(file, f, options).unwrap_or_default(),
        None => (Vec::new(), Vec::new()),
    };
    let mut d = Diagnosis {
        file: file.display().to_string(),
        status: outcome.status,
        format: s.format.clone(),
        why,
        table: s.table.clone(),
        encoding: s.encoding.clone(),
        columns_used: used,
        columns_ignored: ignored,
        rows_read: s.rows_read,
        rows_accepted: s.rows_accepted,
        rows_quarantined: s.rows_quarantined,
        rows_excluded: s.rows_excluded,
        sites: BTreeMap::new(),
        unknown_sites: s.unknown_sites.clone(),
        first_day: None,
        last_day: None,
        excluded: s.excluded.clone(),
        quarantined: s.quarantined.clone(),
        quarantine_samples: Vec::new(),
        notes: s.notes.clone(),
        error: outcome.error.clone(),
    };
    if outcome.status != Status::Ingested {
        return Ok(d);
    }
    let snapshot = lake.snapshot()?;
    let Some(entry) = snapshot.entries().first() else {
        return Ok(d);
    };
    let table = Table::parse(&entry.summary.table).unwrap_or(Table::Sessions);
    if !entry.parquet.is_empty() {
        let parquet = |source| IngestError::Parquet {
            path: dir.into(),
            source,
        };
        let all = snapshot.scan(table, None)?;
        // Rows per site, for the tables that have sites (the survey file's has libraries).
        let by_site = if table.schema().contains("site") {
            Some(
                all.clone()
                    .group_by([col("site")])
                    .agg([len().cast(DataType::UInt64).alias("n")])
                    .collect()
                    .map_err(parquet)?,
            )
        } else {
            None
        };
        if let Some(by_site) = &by_site
            && let (Ok(names), Ok(counts)) = (
                by_site.column("site").and_then(|c| c.str().cloned()),
                by_site.column("n").and_then(|c| c.u64().cloned()),
            )
        {
            for (n, c) in names.iter().zip(counts.iter()) {
                d.sites
                    .insert(n.unwrap_or("(none)").to_string(), c.unwrap_or(0));
            }
        }
        let time = table.partition_column();
        let span = all
            .select([col(time).min().alias("a"), col(time).max().alias("b")])
            .collect()
            .map_err(parquet)?;
        let day = |c: &str| -> Option<String> {
            let v = span.column(c).ok()?.get(0).ok()?;
            match v {
                AnyValue::Datetime(us, _, _) => {
                    Some(tally_model::calendar::local_day(us, sites.library.timezone).to_string())
                }
                AnyValue::Date(days) => Some(tally_model::calendar::civil_from_days(days))
                    .map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
                _ => None,
            }
        };
        d.first_day = day("a");
        d.last_day = day("b");
    }
    if let Some(q) = &entry.quarantine {
        let path = dir.join(q);
        if let Ok(mut r) = csv::Reader::from_path(&path) {
            let mut per_code: BTreeMap<String, usize> = BTreeMap::new();
            for rec in r.records().flatten() {
                let (line, column, code, reason) = (
                    rec.get(1).unwrap_or("").parse().unwrap_or(0),
                    rec.get(2).unwrap_or(""),
                    rec.get(3).unwrap_or(""),
                    rec.get(4).unwrap_or(""),
                );
                let n = per_code.entry(code.to_string()).or_default();
                if *n < SAMPLES {
                    *n += 1;
                    d.quarantine_samples.push((
                        line,
                        format!("{code} {column}").trim().to_string(),
                        reason.to_string(),
                    ));
                }
            }
        }
    }
    Ok(d)
}

/// The file's header columns the format reads, and those it ignores.
fn columns(
    file: &Path,
    format: Format,
    options: &IngestOptions,
) -> Result<(Vec<String>, Vec<String>), IngestError> {
    let source = Source::probe(file)?;
    if format.reads_lines(&crate::source::first_line(&source)?.unwrap_or_default()) {
        return Ok((
            vec!["(a line or JSON format: every field it knows)".into()],
            Vec::new(),
        ));
    }
    let csv = CsvInput::open(&source, 1 << 16)?;
    let spec = format.spec();
    let mut known: Vec<String> = spec
        .required
        .iter()
        .chain(spec.optional)
        .chain(spec.site_columns)
        .flat_map(|c| c.split('|'))
        .map(normalize_header)
        .collect();
    if let Some(c) = &options.site_column {
        known.push(normalize_header(c));
    }
    if let (Format::Generic, Some(m)) = (format, &options.mapping) {
        known.extend(m.columns.values().map(|h| normalize_header(h)));
    }
    let totals = matches!(format, Format::TotalsLong | Format::TotalsWide);
    let (mut used, mut ignored) = (Vec::new(), Vec::new());
    for h in &csv.header {
        let n = normalize_header(h);
        // The aggregate formats read every column but an id (year, month, site, values).
        let reads = if totals {
            !crate::adapters::totals_ignored(&n)
        } else {
            known.contains(&n)
        };
        if reads {
            used.push(h.clone());
        } else {
            ignored.push(h.clone());
        }
    }
    Ok((used, ignored))
}
