//! A pipeline file: parsed first (TOML syntax and shape, reported by `toml` with line,
//! column and a caret), then validated in one pass that gathers every problem, each
//! naming the dotted key and the line (`inputs[1].format: unknown format "envisonware";
//! known: ...`).
//!
//! Relative paths are relative to `pipeline.root`, itself relative to the file's folder
//! (default: the file's folder), so a job runs the same from any working directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;
use tally_ingest::{Format, IngestOptions, Mapping};
use tally_metrics::{Dim, Metric, Shape};
use tally_model::{BucketKind, Sites, Table};
use tally_report::plot::Kind;
pub use tally_report::tables::TableFormat;
use toml::Spanned;

use crate::period::PeriodSpec;

/// One thing wrong with a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    /// The dotted key: `inputs[1].format`.
    pub key: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{}", render_problems(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let mut out = format!("{}: {} problem(s)", path.display(), problems.len());
    for p in problems {
        out.push_str(&format!(
            "\n  {}:{}: {}: {}",
            path.display(),
            p.line,
            p.key,
            p.message
        ));
    }
    out
}

// ---- The file as written (phase 1) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    pipeline: RawPipeline,
    synth: Option<Spanned<RawSynth>>,
    #[serde(default)]
    inputs: Vec<Spanned<RawInput>>,
    #[serde(default)]
    metrics: Vec<Spanned<RawMetric>>,
    #[serde(default)]
    reports: Vec<Spanned<RawReport>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    root: Option<Spanned<String>>,
    lake: Spanned<String>,
    sites: Spanned<String>,
    out: Spanned<String>,
    period: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    #[serde(default)]
    lock_wait_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSynth {
    out: String,
    #[serde(default = "default_days")]
    days: u32,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default = "default_scale")]
    scale: f64,
    start: Option<Spanned<String>>,
    /// Remove the lake first (a demo's lake is rebuilt from nothing on every run).
    #[serde(default)]
    replace_lake: bool,
}

fn default_days() -> u32 {
    tally_synth::DEFAULT_DAYS
}
fn default_seed() -> u64 {
    42
}
fn default_scale() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    table: Spanned<String>,
    #[serde(default = "auto")]
    format: Spanned<String>,
    glob: Spanned<String>,
    tz: Option<Spanned<String>>,
    mapping: Option<Spanned<String>>,
    strip_prefix: Option<String>,
    site: Option<String>,
    #[serde(default)]
    site_from_folder: bool,
    station: Option<String>,
    /// The column that holds the site, instead of the format's list.
    #[serde(default)]
    site_column: Option<String>,
    /// Snipe-IT: the custom field that holds the operating system.
    #[serde(default)]
    os_column: Option<String>,
    measure: Option<String>,
    year: Option<i32>,
    envisionware_time: Option<Spanned<String>>,
    #[serde(default)]
    required: bool,
}

fn auto() -> Spanned<String> {
    Spanned::new(0..0, "auto".to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: Spanned<String>,
    #[serde(default = "month")]
    every: Spanned<String>,
    #[serde(default = "none")]
    by: Spanned<Vec<String>>,
    #[serde(default)]
    yoy: bool,
    top: Option<usize>,
    #[serde(default)]
    complete_only: bool,
    #[serde(default = "csv")]
    formats: Spanned<Vec<String>>,
    file: Option<String>,
    chart: Option<Spanned<RawChart>>,
}

fn none() -> Spanned<Vec<String>> {
    Spanned::new(0..0, Vec::new())
}
fn month() -> Spanned<String> {
    Spanned::new(0..0, "month".to_string())
}
fn csv() -> Spanned<Vec<String>> {
    Spanned::new(0..0, vec!["csv".to_string()])
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChart {
    kind: Option<Spanned<String>>,
    title: Option<String>,
    #[serde(default = "width")]
    width: u32,
    #[serde(default = "height")]
    height: u32,
    #[serde(default)]
    svg: bool,
}

fn width() -> u32 {
    1200
}
fn height() -> u32 {
    600
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    kind: Spanned<String>,
    /// This report's own period (a demo's annual report is for one year).
    period: Option<Spanned<String>>,
    #[serde(default = "html")]
    formats: Spanned<Vec<String>>,
    file: Option<String>,
    /// The budget report: the replacement budget a fiscal year for the levelled plan.
    budget: Option<Spanned<f64>>,
}

fn html() -> Spanned<Vec<String>> {
    Spanned::new(0..0, vec!["html".to_string()])
}

// ---- The validated pipeline (phase 2) ----

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    pub root: PathBuf,
    pub lake: PathBuf,
    pub sites_path: PathBuf,
    /// `None` when `[synth]` writes sites.toml (a demo): loaded when the run starts.
    pub sites: Option<Sites>,
    /// The output folder, with `{period}` and `{name}` still to fill in.
    pub out: String,
    /// The period when `--period` is not given.
    pub period: Option<PeriodSpec>,
    pub key_file: Option<PathBuf>,
    pub lock_wait: Duration,
    pub synth: Option<Synth>,
    pub inputs: Vec<Input>,
    pub metrics: Vec<MetricJob>,
    pub reports: Vec<ReportJob>,
}

#[derive(Debug, Clone)]
pub struct Synth {
    pub out: PathBuf,
    pub days: u32,
    pub seed: u64,
    pub scale: f64,
    pub start: Option<NaiveDate>,
    pub replace_lake: bool,
}

#[derive(Debug, Clone)]
pub struct Input {
    /// The glob as written (for the manifest) and resolved against the root.
    pub glob: String,
    pub pattern: String,
    pub options: IngestOptions,
    /// Each file's site is the name of the folder it is in (one folder per Meraki network).
    pub site_from_folder: bool,
    /// Whether no matching file is an error (else a quiet night is fine).
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct ChartJob {
    pub kind: Option<Kind>,
    pub title: Option<String>,
    pub width: u32,
    pub height: u32,
    pub svg: bool,
}

#[derive(Debug, Clone)]
pub struct MetricJob {
    pub metric: Metric,
    pub every: BucketKind,
    pub by: Vec<Dim>,
    /// `yoy`, `top` and `complete_only`: as `tally metric`'s flags.
    pub shape: Shape,
    pub formats: Vec<TableFormat>,
    /// File name without extension.
    pub file: String,
    pub chart: Option<ChartJob>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Usage,
    Budget,
    Annual,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Usage => "usage",
            ReportKind::Budget => "budget",
            ReportKind::Annual => "annual",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReportJob {
    pub kind: ReportKind,
    /// Overrides the run's period for this report.
    pub period: Option<PeriodSpec>,
    /// The budget report's replacement budget a fiscal year (`None`: the level cap).
    pub budget: Option<f64>,
    pub formats: Vec<tally_report::Format>,
    pub file: String,
}

/// Line (1-based) of a byte offset.
fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

struct Check<'a> {
    src: &'a str,
    problems: Vec<Problem>,
}

impl Check<'_> {
    fn at(
        &mut self,
        span: std::ops::Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            line: line_of(self.src, span.start),
            key: key.into(),
            message: message.into(),
        });
    }

    /// Parses a spanned value, recording the problem under `key` when it fails.
    fn parse<T>(
        &mut self,
        v: &Spanned<String>,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(v.get_ref()) {
            Ok(t) => Some(t),
            Err(m) => {
                self.at(v.span(), key, m);
                None
            }
        }
    }
}

/// Reads, parses and validates a pipeline file; every problem at once.
pub fn load(path: &Path) -> Result<Pipeline, SpecError> {
    let src = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        path: path.into(),
        source,
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&src, path, &base, None)
}

/// Parses and validates pipeline text; relative paths against `pipeline.root` resolved
/// from `base` (the file's folder), or against `root` when given (`tally demo --out`).
pub fn parse(
    src: &str,
    path: &Path,
    base: &Path,
    root: Option<&Path>,
) -> Result<Pipeline, SpecError> {
    let raw: RawFile = toml::from_str(src).map_err(|e| SpecError::Parse {
        path: path.into(),
        message: e.to_string(),
    })?;
    let mut c = Check {
        src,
        problems: Vec::new(),
    };
    let p = &raw.pipeline;
    let root = match (root, &p.root) {
        (Some(r), _) => r.to_path_buf(),
        (None, Some(r)) => base.join(r.get_ref()),
        (None, None) => base.to_path_buf(),
    };
    let resolve = |s: &str| root.join(s);
    if p.name.get_ref().trim().is_empty() || p.name.get_ref().contains(['/', '\\']) {
        c.at(
            p.name.span(),
            "pipeline.name",
            "expected a name without slashes (it names the run's lock and log)",
        );
    }
    let sites_path = resolve(p.sites.get_ref());
    // A demo's sites.toml is written by its synth step: loaded when the run starts.
    let from_synth = raw
        .synth
        .as_ref()
        .is_some_and(|s| sites_path.starts_with(resolve(&s.get_ref().out)));
    let sites = match Sites::load(&sites_path) {
        Ok(s) => Some(s),
        Err(_) if from_synth => None,
        Err(e) => {
            c.at(p.sites.span(), "pipeline.sites", e.to_string());
            None
        }
    };
    // Placeholders the output folder may use.
    let mut rest = p.out.get_ref().as_str();
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else {
            c.at(p.out.span(), "pipeline.out", "an unclosed \"{\"");
            break;
        };
        let name = &rest[i + 1..i + j];
        if !matches!(name, "period" | "name") {
            c.at(
                p.out.span(),
                "pipeline.out",
                format!("unknown placeholder {{{name}}}; known: {{period}}, {{name}}"),
            );
        }
        rest = &rest[i + j + 1..];
    }
    let period = p
        .period
        .as_ref()
        .and_then(|v| c.parse(v, "pipeline.period", str::parse::<PeriodSpec>));
    let key_file = p.key_file.as_ref().map(|k| {
        let f = resolve(k.get_ref());
        if !f.exists() {
            c.at(
                k.span(),
                "pipeline.key_file",
                format!(
                    "{}: no such file (the secret key for pseudonymising patrons)",
                    f.display()
                ),
            );
        }
        f
    });

    let synth = raw.synth.as_ref().map(|s| {
        let span = s.span();
        let s = s.get_ref();
        let start = s.start.as_ref().and_then(|d| {
            c.parse(d, "synth.start", |x| {
                x.parse::<NaiveDate>()
                    .map_err(|_| format!("\"{x}\": expected a date as YYYY-MM-DD"))
            })
        });
        if !(s.scale > 0.0 && s.scale <= 1000.0) {
            c.at(
                span.clone(),
                "synth.scale",
                format!("{}: expected a number above 0 and at most 1000", s.scale),
            );
        }
        Synth {
            out: resolve(&s.out),
            days: s.days,
            seed: s.seed,
            scale: s.scale,
            start,
            replace_lake: s.replace_lake,
        }
    });
    // The demo key is public: it pseudonymises only what synth made. A pipeline that
    // also reads real exports, or names a key, is a mistake to stop before it runs.
    if let Some(sy) = &synth {
        if let Some(k) = &p.key_file {
            c.at(
                k.span(),
                "pipeline.key_file",
                "a pipeline with [synth] uses the public demo key, for synthetic data only: drop key_file, or \
                 drop [synth] to ingest real exports under your key",
            );
        }
        for (i, input) in raw.inputs.iter().enumerate() {
            let r = input.get_ref();
            let glob = resolve(r.glob.get_ref());
            if !glob.starts_with(&sy.out) {
                c.at(
                    r.glob.span(),
                    format!("inputs[{i}].glob"),
                    format!(
                        "{} is outside synth.out ({}): a pipeline with [synth] reads only what synth wrote, under \
                         the public demo key; ingest real exports with a pipeline of their own and your key",
                        r.glob.get_ref(),
                        sy.out.display()
                    ),
                );
            }
        }
    }

    let mut inputs = Vec::new();
    for (i, input) in raw.inputs.iter().enumerate() {
        let key = |k: &str| format!("inputs[{i}].{k}");
        let span = input.span();
        let r = input.get_ref();
        let table = c.parse(&r.table, &key("table"), |t| {
            Table::parse(t).ok_or_else(|| {
                format!(
                    "unknown table \"{t}\"; known: {}",
                    Table::ALL.map(|t| t.name()).join(", ")
                )
            })
        });
        let format = if r.format.get_ref().eq_ignore_ascii_case("auto") {
            Some(None)
        } else {
            c.parse(&r.format, &key("format"), |f| f.parse::<Format>().map(Some))
        };
        if let (Some(t), Some(Some(f))) = (table, format)
            && f != Format::Generic
            && f.table() != t
        {
            c.at(
                r.format.span(),
                key("format"),
                format!(
                    "{} files are {} rows, not {}",
                    f.name(),
                    f.table().name(),
                    t.name()
                ),
            );
        }
        let pattern = resolve(r.glob.get_ref()).to_string_lossy().to_string();
        if let Err(e) = glob::Pattern::new(&pattern) {
            c.at(
                r.glob.span(),
                key("glob"),
                format!("not a glob pattern: {e}"),
            );
        }
        let tz = r.tz.as_ref().and_then(|z| {
            c.parse(z, &key("tz"), |s| {
                s.parse::<chrono_tz::Tz>().map_err(|_| {
                    format!(
                        "unknown time zone \"{s}\" (expected an IANA name such as America/Chicago)"
                    )
                })
            })
        });
        let mapping = match (&r.mapping, format) {
            (Some(m), Some(f)) => {
                if let Err(e) = tally_ingest::format_with_mapping(f, true) {
                    c.at(m.span(), key("mapping"), e);
                }
                match Mapping::load(&resolve(m.get_ref())) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        c.at(m.span(), key("mapping"), e.to_string());
                        None
                    }
                }
            }
            (None, Some(Some(Format::Generic))) => {
                c.at(
                    r.format.span(),
                    key("mapping"),
                    "format = \"generic\" needs mapping = \"FILE.toml\" (the column mapping)",
                );
                None
            }
            _ => None,
        };
        let envisionware_time = r.envisionware_time.as_ref().and_then(|v| {
            c.parse(v, &key("envisionware_time"), |s| match s {
                "start" | "end" => Ok(s.to_string()),
                other => Err(format!("\"{other}\": expected start or end")),
            })
        });
        // The formats' own settings, by the names their declarations give them.
        let settings = tally_ingest::given_settings([
            ("envisionware-time", envisionware_time),
            ("strip-prefix", r.strip_prefix.clone()),
            ("measure", r.measure.clone()),
            ("year", r.year.map(|y| y.to_string())),
            ("station", r.station.clone()),
            ("os-column", r.os_column.clone()),
        ]);
        if r.site.is_some() && r.site_from_folder {
            c.at(span, key("site"), "give site or site_from_folder, not both");
        }
        inputs.push(Input {
            glob: r.glob.get_ref().clone(),
            pattern,
            options: IngestOptions {
                table,
                format: format
                    .flatten()
                    .or(mapping.as_ref().map(|_| Format::Generic)),
                tz,
                lock_wait: Duration::from_secs(p.lock_wait_seconds),
                site: r.site.clone(),
                site_column: r.site_column.clone(),
                settings,
                mapping,
                budget: Default::default(),
                demo: false,
                purged_before_us: None,
            },
            site_from_folder: r.site_from_folder,
            required: r.required,
        });
    }

    let mut metrics = Vec::new();
    let mut files: Vec<String> = Vec::new();
    for (i, m) in raw.metrics.iter().enumerate() {
        let key = |k: &str| format!("metrics[{i}].{k}");
        let r = m.get_ref();
        let metric = c.parse(&r.name, &key("name"), |s| s.parse::<Metric>());
        let every = c.parse(&r.every, &key("every"), |s| s.parse::<BucketKind>());
        let mut by = Vec::new();
        for d in r.by.get_ref() {
            match d.parse::<Dim>() {
                Ok(d) if metric.is_none_or(|m| m.dims().contains(&d)) => by.push(d),
                Ok(d) => {
                    let m = metric.expect("checked");
                    let can = m
                        .dims()
                        .iter()
                        .map(|d| d.column())
                        .collect::<Vec<_>>()
                        .join(", ");
                    c.at(
                        r.by.span(),
                        key("by"),
                        format!(
                            "{} cannot be broken down by {}; it can by {can}",
                            m.name(),
                            d.column()
                        ),
                    );
                }
                Err(e) => c.at(r.by.span(), key("by"), e),
            }
        }
        let mut formats = Vec::new();
        for f in r.formats.get_ref() {
            match f.parse::<TableFormat>() {
                Ok(f) => formats.push(f),
                Err(e) => c.at(r.formats.span(), key("formats"), e),
            }
        }
        let chart = r.chart.as_ref().map(|ch| {
            let span = ch.span();
            let ch = ch.get_ref();
            let kind = ch
                .kind
                .as_ref()
                .and_then(|k| c.parse(k, &key("chart.kind"), |s| s.parse::<Kind>()));
            if let Some(m) = metric
                && let Err(e) = tally_report::plot::check(m, &by, kind)
            {
                c.at(span.clone(), key("chart"), e);
            }
            if !(100..=10_000).contains(&ch.width) || !(100..=10_000).contains(&ch.height) {
                c.at(
                    span,
                    key("chart"),
                    "width and height: expected 100 to 10000 pixels",
                );
            }
            ChartJob {
                kind,
                title: ch.title.clone(),
                width: ch.width,
                height: ch.height,
                svg: ch.svg,
            }
        });
        let (Some(metric), Some(every)) = (metric, every) else {
            continue;
        };
        let file = r.file.clone().unwrap_or_else(|| {
            let mut f = metric.name().replace('_', "-");
            for d in &by {
                f.push_str(&format!("-by-{}", d.column().replace('_', "-")));
            }
            // The heatmap is weekday x hour whatever the bucket.
            if metric == Metric::Heatmap {
                f
            } else {
                format!("{f}-{}", every.as_str())
            }
        });
        if files.contains(&file) {
            c.at(m.span(), key("file"), format!("\"{file}\" is written by an earlier metric too: give this one its own file = \"...\""));
        }
        files.push(file.clone());
        metrics.push(MetricJob {
            metric,
            every,
            by,
            shape: Shape {
                yoy: r.yoy,
                top: r.top,
                complete_only: r.complete_only,
            },
            formats,
            file,
            chart,
        });
    }

    let mut reports = Vec::new();
    for (i, rep) in raw.reports.iter().enumerate() {
        let key = |k: &str| format!("reports[{i}].{k}");
        let r = rep.get_ref();
        let kind = c.parse(&r.kind, &key("kind"), |s| match s {
            "usage" | "monthly-usage" => Ok(ReportKind::Usage),
            "budget" => Ok(ReportKind::Budget),
            "annual" | "annual-report" | "survey" => Ok(ReportKind::Annual),
            other => Err(format!(
                "unknown report \"{other}\"; known: usage, budget, annual"
            )),
        });
        let mut formats = Vec::new();
        for f in r.formats.get_ref() {
            match f.parse::<tally_report::Format>() {
                Ok(f) => formats.push(f),
                Err(e) => c.at(r.formats.span(), key("formats"), e),
            }
        }
        let period = r
            .period
            .as_ref()
            .and_then(|v| c.parse(v, &key("period"), str::parse::<PeriodSpec>));
        let budget = r.budget.as_ref().and_then(|b| {
            let v = *b.get_ref();
            if !(v.is_finite() && v >= 0.0) {
                c.at(b.span(), key("budget"), "expected an amount of 0 or more");
                None
            } else if kind != Some(ReportKind::Budget) {
                c.at(b.span(), key("budget"), "budget is for kind = \"budget\"");
                None
            } else {
                Some(v)
            }
        });
        if let Some(kind) = kind {
            reports.push(ReportJob {
                kind,
                period,
                budget,
                formats,
                file: r.file.clone().unwrap_or_else(|| kind.as_str().to_string()),
            });
        }
    }
    if raw.inputs.is_empty() && raw.metrics.is_empty() && raw.reports.is_empty() {
        c.at(
            0..0,
            "pipeline",
            "nothing to do: add [[inputs]], [[metrics]] or [[reports]]",
        );
    }
    if !c.problems.is_empty() {
        return Err(SpecError::Invalid {
            path: path.into(),
            problems: c.problems,
        });
    }
    Ok(Pipeline {
        path: path.into(),
        name: p.name.get_ref().clone(),
        description: p.description.clone(),
        lake: resolve(p.lake.get_ref()),
        sites_path,
        sites,
        out: resolve(p.out.get_ref()).to_string_lossy().to_string(),
        period,
        key_file,
        lock_wait: Duration::from_secs(p.lock_wait_seconds),
        synth,
        inputs,
        metrics,
        reports,
        root,
    })
}
