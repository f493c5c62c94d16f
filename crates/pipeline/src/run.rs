//! Running a validated pipeline: take the run lock, synthesise (demos), ingest each input
//! (a file already in the ledger adds nothing), compute the metrics and charts, render the
//! reports, and write the run manifest last.
//!
//! Outputs depend only on the lake and the period: re-running a period rewrites the same
//! bytes (files whose bytes did not change are left alone). The manifest is the run's
//! log and carries its timings, so it is the one file that differs between runs.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tally_ingest::{FileOutcome, IngestError, Pseudonymiser, Status};
use tally_lake::{Lake, LakeError, Snapshot};
use tally_metrics::answers::{Answers, Recorder, Results};
use tally_metrics::{MetricError, Request};
use tally_model::Sites;
use tally_report::ReportError;

use crate::period::{Period, PeriodSpec};
use crate::spec::{MetricJob, Pipeline, ReportKind};

/// The key pipelines with a `[synth]` section (demos) pseudonymise their synthetic
/// patrons with. Not a secret: there are no real patrons in synthetic data.
pub const DEMO_KEY: &[u8] = b"tally-demo-key-not-secret-0000000";

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A problem with the pipeline or how it was called (exit 2).
    #[error("{0}")]
    Config(String),
    #[error(
        "another tally run holds {lock}; it did not finish within {waited} s (lock_wait_seconds)"
    )]
    Locked { lock: PathBuf, waited: u64 },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Metric(#[from] MetricError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("synthesising the demo data: {0}")]
    Synth(String),
}

impl RunError {
    /// Whether the error is the caller's to fix (the pipeline, its sites.toml, a key, a
    /// lake of another format, a metric asked for in a way it cannot be answered): exit
    /// code 2. The binary decides exit codes with this alone.
    pub fn is_configuration(&self) -> bool {
        match self {
            RunError::Config(_) => true,
            RunError::Ingest(e) => e.is_configuration(),
            RunError::Lake(e) => e.is_configuration(),
            RunError::Metric(e) => e.is_configuration(),
            RunError::Report(e) => e.is_configuration(),
            _ => false,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a run's figures come from.
#[derive(Clone, Default)]
pub enum Figures {
    /// tally's engines compute them from the lake (after the pipeline's synth, inputs and
    /// retention).
    #[default]
    Compute,
    /// A job's results folder answers every request with a SQL form (`tally run
    /// --results`); the lake is read as it is (its ledger, sites.toml's calendar, the
    /// inventory for the replacement plan), nothing is ingested or purged.
    Results(PathBuf),
    /// The requests are noted, answered from an empty lake (`tally spark-job
    /// --pipeline`); nothing is ingested or purged.
    Record(Rc<Recorder>),
}

pub struct RunOptions {
    /// Where the figures come from.
    pub figures: Figures,
    /// `--period`, else the pipeline's `period`.
    pub period: Option<PeriodSpec>,
    /// What `previous-month` is relative to.
    pub today: NaiveDate,
    /// Draw a progress bar (only when stderr is a terminal).
    pub progress: bool,
}

#[derive(Debug, Serialize)]
pub struct InputRecord {
    pub glob: String,
    pub table: Option<String>,
    pub format: String,
    pub files: Vec<FileOutcome>,
}

#[derive(Debug, Serialize)]
pub struct OutputRecord {
    /// Relative to the output folder.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct StepTime {
    pub step: String,
    pub seconds: f64,
}

/// The run manifest, written as `manifest.json` beside the outputs.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub pipeline: String,
    pub name: String,
    pub tally_version: String,
    pub period: Option<PeriodRecord>,
    pub lake: String,
    pub inputs: Vec<InputRecord>,
    /// Batches this run added to the lake's ledger.
    pub batches: Vec<String>,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub rows_excluded: u64,
    pub files_failed: Vec<String>,
    pub warnings: Vec<String>,
    /// What the retention of sites.toml purged, when it has a `[retention]` section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge: Option<tally_lake::PurgeReport>,
    pub outputs: Vec<OutputRecord>,
    pub timings: Vec<StepTime>,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct PeriodRecord {
    pub label: String,
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
}

pub struct RunOutcome {
    pub out_dir: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
}

impl RunOutcome {
    /// Rows quarantined by this run's ingest (exit 3 tells cron).
    pub fn quarantined(&self) -> u64 {
        self.manifest.rows_quarantined
    }
}

/// Holds the run lock for as long as it lives.
struct RunLock(#[allow(dead_code)] File);

fn lock(lake: &Path, wait: Duration) -> Result<RunLock, RunError> {
    std::fs::create_dir_all(lake).map_err(io(lake))?;
    let path = lake.join("_run.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RunLock(file)),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(RunError::Locked {
                    lock: path,
                    waited: wait.as_secs(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(RunError::Io { path, source: e }),
        }
    }
}

fn sha256_file(path: &Path) -> Result<(u64, String), RunError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    Ok((bytes.len() as u64, hex::encode(Sha256::digest(&bytes))))
}

/// Files a glob matches, sorted; a folder's files when the glob names a folder.
fn expand(pattern: &str) -> Result<Vec<PathBuf>, RunError> {
    let mut files: Vec<PathBuf> = glob::glob(pattern)
        .map_err(|e| RunError::Config(format!("{pattern}: {e}")))?
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

pub fn run(p: &Pipeline, opts: &RunOptions) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let mut timings = Vec::new();
    let mut lap = {
        let mut last = Instant::now();
        move |step: String, timings: &mut Vec<StepTime>| {
            timings.push(StepTime {
                step,
                seconds: (last.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            });
            last = Instant::now();
        }
    };
    let asked = opts.period.as_ref().or(p.period.as_ref());
    if asked.is_none() && (!p.metrics.is_empty() || !p.reports.is_empty()) {
        return Err(RunError::Config(format!(
            "{}: no period: pass --period (e.g. previous-month) or set pipeline.period",
            p.path.display()
        )));
    }
    // All: the days the lake's sessions span, known once the inputs are in.
    let everything = asked == Some(&PeriodSpec::All);
    let _lock = lock(&p.lake, p.lock_wait)?;
    let lake = Lake::new(&p.lake);
    lake.check_format()?;
    let steps = p.inputs.len() + p.metrics.len() + p.reports.len() + usize::from(p.synth.is_some());
    let bar = ProgressBar::with_draw_target(
        Some(steps as u64),
        if opts.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(p.name.clone());

    // Results and recording read the lake as it is.
    let computing = matches!(opts.figures, Figures::Compute);
    if !computing && (p.synth.is_some() || !p.inputs.is_empty()) {
        tracing::info!("figures from elsewhere: the pipeline's synth and inputs are not run");
    }

    // Demos: synthetic exports, and a lake rebuilt from nothing.
    if let Some(s) = p.synth.as_ref().filter(|_| computing) {
        bar.set_message("synthesising");
        if s.replace_lake && p.lake.exists() {
            for entry in std::fs::read_dir(&p.lake).map_err(io(&p.lake))? {
                let path = entry.map_err(io(&p.lake))?.path();
                if path.file_name().is_some_and(|n| n == "_run.lock") {
                    continue;
                }
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                }
                .map_err(io(&path))?;
            }
        }
        if s.out.exists() {
            std::fs::remove_dir_all(&s.out).map_err(io(&s.out))?;
        }
        let mut config = tally_synth::SynthConfig {
            out: s.out.clone(),
            days: s.days,
            seed: s.seed,
            scale: s.scale,
            ..Default::default()
        };
        if let Some(start) = s.start {
            config.start = start;
        }
        let summary = tally_synth::generate(&config).map_err(|e| RunError::Synth(e.to_string()))?;
        tracing::info!(
            sessions = summary.sessions,
            files = summary.files.len(),
            "synthetic exports written to {}",
            s.out.display()
        );
        bar.inc(1);
        lap("synth".into(), &mut timings);
    }
    let sites = match &p.sites {
        Some(s) => s.clone(),
        None => {
            tally_model::Sites::load(&p.sites_path).map_err(|e| RunError::Config(e.to_string()))?
        }
    };
    let fy_start = sites.library.fiscal_year_start_month;
    let resolve = |spec: &PeriodSpec, what: &str| -> Result<Option<Period>, RunError> {
        match spec {
            PeriodSpec::All => Ok(None),
            spec => spec.resolve(opts.today, fy_start).map(Some).ok_or_else(|| {
                RunError::Config(format!(
                    "{what}: {spec:?} has no days around {}",
                    opts.today
                ))
            }),
        }
    };
    let mut period = match asked {
        Some(spec) => resolve(spec, "--period")?,
        None => None,
    };

    // Ingest.
    let mut inputs = Vec::new();
    let mut batches = Vec::new();
    if computing && !p.inputs.is_empty() {
        let pseudo = if p.synth.is_some() {
            Some(Pseudonymiser::new(DEMO_KEY).map_err(RunError::Config)?)
        } else {
            Pseudonymiser::optional(p.key_file.as_deref())
                .map_err(|e| RunError::Config(e.to_string()))?
        };
        for input in &p.inputs {
            bar.set_message(format!("ingesting {}", input.glob));
            let files = expand(&input.pattern)?;
            if files.is_empty() {
                if input.required {
                    return Err(RunError::Config(format!(
                        "inputs: no file matches {} (required = true)",
                        input.glob
                    )));
                }
                tracing::info!("no file matches {}", input.glob);
            }
            // One call per site folder when the folder names the site.
            let mut groups: BTreeMap<Option<String>, Vec<PathBuf>> = BTreeMap::new();
            for f in files {
                let site = input
                    .site_from_folder
                    .then(|| {
                        f.parent()
                            .and_then(|d| d.file_name())
                            .map(|n| n.to_string_lossy().to_string())
                    })
                    .flatten();
                groups.entry(site).or_default().push(f);
            }
            let mut outcomes = Vec::new();
            for (site, files) in groups {
                let mut options = input.options.clone();
                options.demo = p.synth.is_some();
                if site.is_some() {
                    options.site = site;
                }
                outcomes.extend(tally_ingest::ingest_files(
                    &lake,
                    &sites,
                    pseudo.as_ref(),
                    &options,
                    &files,
                )?);
            }
            // Per file at debug (the manifest has every file); per input at info; a file with
            // quarantined rows or a failure named on its own.
            let (mut new, mut known, mut read, mut accepted, mut quarantined, mut excluded) =
                (0, 0, 0, 0, 0, 0);
            for o in &outcomes {
                let s = &o.summary;
                match o.status {
                    Status::Failed => {
                        tracing::error!(file = %s.file, "{}", o.error.clone().unwrap_or_default())
                    }
                    Status::AlreadyIngested => {
                        known += 1;
                        tracing::debug!(file = %s.file, "already in the lake");
                    }
                    Status::Ingested => {
                        new += 1;
                        batches.extend(o.batch.clone());
                        (read, accepted, quarantined, excluded) = (
                            read + s.rows_read,
                            accepted + s.rows_accepted,
                            quarantined + s.rows_quarantined,
                            excluded + s.rows_excluded,
                        );
                        if s.rows_quarantined > 0 {
                            tracing::warn!(file = %s.file, rows_quarantined = s.rows_quarantined, "rows quarantined: {:?}", s.quarantined);
                        }
                        tracing::debug!(file = %s.file, rows_read = s.rows_read, rows_accepted = s.rows_accepted, rows_excluded = s.rows_excluded, "ingested");
                    }
                }
            }
            tracing::info!(
                files_new = new,
                files_already_in_lake = known,
                rows_read = read,
                rows_accepted = accepted,
                rows_quarantined = quarantined,
                rows_excluded = excluded,
                "{}",
                input.glob
            );
            inputs.push(InputRecord {
                glob: input.glob.clone(),
                table: input.options.table.map(|t| t.name().to_string()),
                format: input
                    .options
                    .format
                    .map_or("auto".to_string(), |f| f.name().to_string()),
                files: outcomes,
            });
            bar.inc(1);
            lap(format!("ingest {}", input.glob), &mut timings);
        }
    }

    // Retention, when sites.toml asks for it: before any figure is computed, so that the
    // figures of a run are those of the lake it leaves.
    let retain = crate::Retain::from_sites(&sites, opts.today, p.lock_wait);
    let purge = if retain.is_empty() || !computing {
        None
    } else {
        {
            bar.set_message("purging");
            let report = crate::purge(&lake, &sites, &retain)?;
            tracing::info!(
                before = ?report.before,
                rows_cleared = report.rows_cleared,
                files = report.files,
                quarantine_files_deleted = report.quarantine_deleted.len(),
                "retention"
            );
            lap("purge".into(), &mut timings);
            Some(report)
        }
    };

    // One version of the lake for every figure of the run.
    let lake = lake.snapshot()?;
    if everything {
        let (span, _) = tally_metrics::lake_range(&lake, &sites)?;
        let (from, to) = span.ok_or_else(|| {
            RunError::Config(
                "period \"all\": the lake has no sessions, circulation, work orders or Wi-Fi yet"
                    .into(),
            )
        })?;
        period = Some(Period {
            from,
            to,
            label: "all".into(),
        });
    }
    let label = period
        .as_ref()
        .map_or("all".to_string(), |x| x.label.clone());
    // Without "." parts: the manifest and the log name the folder as a reader would.
    let out_dir: PathBuf = Path::new(&p.out.replace("{period}", &label).replace("{name}", &p.name))
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();

    // Metrics, charts and reports for the period.
    std::fs::create_dir_all(&out_dir).map_err(io(&out_dir))?;
    let mut written: Vec<PathBuf> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let answers: Option<Rc<dyn Answers>> = match &opts.figures {
        Figures::Compute => None,
        Figures::Results(dir) => Some(Rc::new(Results::open(dir, &lake, &sites)?)),
        Figures::Record(r) => Some(r.clone()),
    };
    let figures = |f: &mut dyn FnMut() -> Result<(), RunError>| match &answers {
        Some(a) => tally_metrics::answers::with_answers(a.clone(), f),
        None => f(),
    };
    if let Some(period) = &period {
        figures(&mut || {
            for job in &p.metrics {
                bar.set_message(format!("metric {}", job.metric.name()));
                written.extend(metric(&lake, &sites, job, period, &out_dir, &mut warnings)?);
                bar.inc(1);
                lap(format!("metric {}", job.file), &mut timings);
            }
            for job in &p.reports {
                bar.set_message(format!("report {}", job.kind.as_str()));
                let own = match &job.period {
                    Some(spec) => resolve(spec, "reports")?,
                    None => None,
                };
                let period = own.as_ref().unwrap_or(period);
                let report = match job.kind {
                    ReportKind::Usage => {
                        tally_report::usage::build(&lake, &sites, period.from, period.to)?
                    }
                    ReportKind::Budget => tally_report::budget::build(
                        &lake,
                        &sites,
                        period.from,
                        period.to,
                        job.budget,
                    )?,
                    ReportKind::Annual => {
                        tally_report::annual::build(&lake, &sites, period.from, period.to)?
                    }
                };
                for w in &report.warnings {
                    if !warnings.contains(w) {
                        warnings.push(w.clone());
                    }
                }
                written.extend(tally_report::write(
                    &report,
                    &out_dir,
                    &job.file,
                    &job.formats,
                )?);
                bar.inc(1);
                lap(format!("report {}", job.file), &mut timings);
            }
            Ok(())
        })?;
    }
    bar.finish_and_clear();
    for w in &warnings {
        tracing::warn!("{w}");
    }

    // The manifest, last: its presence says the run finished.
    let mut outputs = Vec::new();
    written.sort();
    written.dedup();
    for path in &written {
        let (bytes, sha256) = sha256_file(path)?;
        let rel = path
            .strip_prefix(&out_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .to_string();
        outputs.push(OutputRecord {
            path: rel,
            bytes,
            sha256,
        });
    }
    let all: Vec<&FileOutcome> = inputs
        .iter()
        .flat_map(|i| &i.files)
        .filter(|o| o.status == Status::Ingested)
        .collect();
    let manifest = Manifest {
        pipeline: p.path.to_string_lossy().to_string(),
        name: p.name.clone(),
        tally_version: env!("CARGO_PKG_VERSION").to_string(),
        period: period.as_ref().map(|x| PeriodRecord {
            label: x.label.clone(),
            from: x.from,
            to: x.to - chrono::Duration::days(1),
        }),
        lake: p.lake.to_string_lossy().to_string(),
        batches,
        rows_read: all.iter().map(|o| o.summary.rows_read).sum(),
        rows_accepted: all.iter().map(|o| o.summary.rows_accepted).sum(),
        rows_quarantined: all.iter().map(|o| o.summary.rows_quarantined).sum(),
        rows_excluded: all.iter().map(|o| o.summary.rows_excluded).sum(),
        files_failed: inputs
            .iter()
            .flat_map(|i| &i.files)
            .filter(|o| o.status == Status::Failed)
            .map(|o| o.summary.file.clone())
            .collect(),
        inputs,
        warnings,
        purge,
        outputs,
        timings,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    };
    let manifest_path = out_dir.join("manifest.json");
    let mut f = File::create(&manifest_path).map_err(io(&manifest_path))?;
    serde_json::to_writer_pretty(&mut f, &manifest).map_err(|e| RunError::Io {
        path: manifest_path.clone(),
        source: e.into(),
    })?;
    writeln!(f).map_err(io(&manifest_path))?;
    Ok(RunOutcome {
        out_dir,
        manifest_path,
        manifest,
    })
}

/// One metric job: its table in each format and its chart.
fn metric(
    lake: &Snapshot,
    sites: &Sites,
    job: &MetricJob,
    period: &Period,
    out: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<PathBuf>, RunError> {
    let req = Request {
        metric: job.metric,
        from: period.from,
        to: period.to,
        every: job.every,
        by: job.by.clone(),
        budget: None,
    };
    let mut result = tally_metrics::ask(lake, sites, &req, &job.shape)?;
    for w in &result.warnings {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    let mut written = Vec::new();
    for format in &job.formats {
        let path = out.join(format!("{}.{}", job.file, format.as_str()));
        tally_report::tables::write(&mut result.frame, *format, &path)?;
        written.push(path);
    }
    if let Some(c) = &job.chart {
        let drawing = tally_report::plot::Drawing {
            kind: c.kind,
            width: c.width,
            height: c.height,
            title: c.title.clone(),
        };
        let (chart, style) = tally_report::plot::draw(&req, &result, &drawing, sites)?;
        let path = out.join(format!(
            "{}.{}",
            job.file,
            if c.svg { "svg" } else { "png" }
        ));
        match tally_charts::render_file(&chart, &style, &path) {
            Ok(()) => written.push(path),
            Err(tally_charts::ChartError::Empty(_)) => warnings.push(format!(
                "{}: nothing to draw for the period; no chart written",
                job.file
            )),
            Err(e) => return Err(ReportError::from(e).into()),
        }
    }
    Ok(written)
}
