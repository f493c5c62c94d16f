//! One function per subcommand: parse arguments into library types, call the crates,
//! print. No metric, format or lake logic lives here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use tally_charts::{Chart, Series, Style, ValueFormat};
use tally_ingest::{FileOutcome, Format, IngestOptions, Pseudonymiser, Status as FileStatus, TimestampMeans};
use tally_metrics::{Dim, Metric, Request};
use tally_model::{BucketKind, Lake, Sites, Table};

use crate::cli::*;
use crate::output::write_frame;
use crate::{Status, UsageError};

/// The key `tally demo` pseudonymises its synthetic patrons with. Not a secret: the demo
/// has no real patrons, and a real ingest refuses to run without a key of the library's.
const DEMO_KEY: &[u8] = b"tally-demo-key-not-secret-0000000";

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

pub fn run(command: Command) -> anyhow::Result<Status> {
    match command {
        Command::Demo(a) => demo(a),
        Command::Ingest(a) => ingest(a),
        Command::Metric(a) => metric(a),
        Command::Chart(a) => chart(a),
        Command::Query(a) => query(a),
        Command::Survey(a) => survey(a),
        Command::Synth(a) => synth(a),
        Command::Formats => formats(),
    }
}

/// sites.toml from --sites, else data/sites.toml, else the fallback with a warning.
fn load_sites(arg: &SitesArg) -> anyhow::Result<Sites> {
    let default = Path::new("data/sites.toml");
    match &arg.sites {
        Some(p) => Sites::load(p).map_err(|e| usage(e.to_string())),
        None if default.exists() => Sites::load(default).map_err(|e| usage(e.to_string())),
        None => {
            tracing::warn!(
                "no --sites and no data/sites.toml: every site uses America/Chicago, the stations seen in the data and round-the-clock opening"
            );
            Ok(Sites::fallback(chrono_tz::America::Chicago))
        }
    }
}

fn parse_date(s: &str, flag: &str) -> anyhow::Result<NaiveDate> {
    s.parse().map_err(|_| usage(format!("{flag} \"{s}\": expected a date as YYYY-MM-DD")))
}

fn print_outcomes(outcomes: &[FileOutcome], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, outcomes)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{:<44} {:<13} {:<17} {:>9} {:>9} {:>11} {:>9}", "file", "format", "status", "read", "accepted", "quarantined", "excluded")?;
    for o in outcomes {
        let s = &o.summary;
        let name = Path::new(&s.file).file_name().map_or(s.file.clone(), |n| n.to_string_lossy().to_string());
        let status = match o.status {
            FileStatus::Ingested => "ingested",
            FileStatus::AlreadyIngested => "already ingested",
            FileStatus::Failed => "FAILED",
        };
        writeln!(
            out,
            "{name:<44} {:<13} {status:<17} {:>9} {:>9} {:>11} {:>9}",
            s.format, s.rows_read, s.rows_accepted, s.rows_quarantined, s.rows_excluded
        )?;
        if let Some(e) = &o.error {
            writeln!(out, "  error: {e}")?;
        }
        for (reason, n) in &s.quarantined {
            writeln!(out, "  quarantined {n}: {reason}")?;
        }
        for (rule, n) in &s.excluded {
            writeln!(out, "  excluded {n}: {rule}")?;
        }
        for (note, n) in &s.notes {
            writeln!(out, "  note{}: {note}", if *n > 1 { format!(" ({n} times)") } else { String::new() })?;
        }
        if !s.unknown_sites.is_empty() {
            writeln!(out, "  sites not in sites.toml (accepted as written): {}", s.unknown_sites.join(", "))?;
        }
    }
    Ok(())
}

fn outcome_status(outcomes: &[FileOutcome]) -> anyhow::Result<Status> {
    let failed = outcomes.iter().filter(|o| o.status == FileStatus::Failed).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} file(s) failed; the lake holds the others", outcomes.len());
    }
    let quarantined: u64 =
        outcomes.iter().filter(|o| o.status == FileStatus::Ingested).map(|o| o.summary.rows_quarantined).sum();
    Ok(if quarantined > 0 { Status::Quarantined } else { Status::Ok })
}

fn ingest(a: IngestArgs) -> anyhow::Result<Status> {
    let sites = load_sites(&a.sites)?;
    let mut format = if a.format.eq_ignore_ascii_case("auto") { None } else { Some(a.format.parse::<Format>().map_err(usage)?) };
    let mapping = match &a.map {
        Some(path) => Some(tally_ingest::Mapping::load(path).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    if mapping.is_some() {
        // A mapping only makes sense for the generic format.
        format = Some(Format::Generic);
    }
    let table = match &a.table {
        Some(t) => Some(Table::parse(t).ok_or_else(|| {
            usage(format!("unknown table \"{t}\"; known: {}", Table::ALL.map(|t| t.name()).join(", ")))
        })?),
        None => None,
    };
    let tz = match &a.tz {
        Some(z) => Some(z.parse::<chrono_tz::Tz>().map_err(|_| usage(format!("--tz \"{z}\": unknown time zone")))?),
        None => None,
    };
    let pseudo = Pseudonymiser::from_file_or_env(a.key_file.as_deref()).map_err(|e| usage(e.to_string()))?;
    let options = IngestOptions {
        table,
        format,
        tz,
        envisionware_time: match a.envisionware_time {
            TimeMeans::Start => TimestampMeans::Start,
            TimeMeans::End => TimestampMeans::End,
        },
        lock_wait: Duration::from_secs(a.wait),
        strip_prefix: a.strip_prefix.clone(),
        measure: a.measure.clone(),
        year: a.year,
        site: a.site.clone(),
        station: a.station.clone(),
        mapping,
    };
    let lake = Lake::new(&a.lake);
    let outcomes = tally_ingest::ingest_files(&lake, &sites, &pseudo, &options, &a.files)?;
    for o in &outcomes {
        if o.detected {
            tracing::info!(file = %o.summary.file, "format detected from the header: {}", o.summary.format);
        }
    }
    print_outcomes(&outcomes, a.json)?;
    outcome_status(&outcomes)
}

/// The request a metric or chart command asks for.
fn request(metric: Metric, p: &PeriodArgs, lake: &Lake, sites: &Sites) -> anyhow::Result<Request> {
    let every: BucketKind = p.every.parse().map_err(usage)?;
    let by = p.by.iter().filter(|s| !s.is_empty()).map(|s| s.parse::<Dim>().map_err(usage)).collect::<anyhow::Result<Vec<_>>>()?;
    let range = || tally_metrics::data_range(lake, sites);
    let from = match &p.from {
        Some(s) => parse_date(s, "--from")?,
        None => range()?.map(|r| r.0).ok_or_else(|| usage("the lake has no sessions; pass --from and --to"))?,
    };
    let to = match &p.to {
        Some(s) => parse_date(s, "--to")?,
        None => range()?.map(|r| r.1).ok_or_else(|| usage("the lake has no sessions; pass --from and --to"))?,
    };
    if from >= to {
        return Err(usage(format!("--from {from} must be before --to {to} (--to is exclusive)")));
    }
    Ok(Request { metric, from, to, every, by })
}

fn lake_arg(p: &PeriodArgs) -> anyhow::Result<Lake> {
    let dir = p.lake.as_ref().ok_or_else(|| usage("--lake DIR is required"))?;
    if !dir.exists() {
        return Err(usage(format!("--lake {}: no such folder", dir.display())));
    }
    Ok(Lake::new(dir))
}

fn metric(a: MetricArgs) -> anyhow::Result<Status> {
    let mut out = std::io::stdout().lock();
    if a.list {
        let buckets = BucketKind::ALL.map(|b| b.as_str()).join(", ");
        for m in Metric::ALL {
            let dims: Vec<&str> = m.dims().iter().map(|d| d.column()).collect();
            writeln!(out, "{}\n    {}\n    unit: {}; by: {}; every: {}", m.name(), m.definition(), m.unit(), dims.join(", "), if m == Metric::Heatmap { "weekday x hour" } else { &buckets })?;
        }
        return Ok(Status::Ok);
    }
    let name = a.name.as_deref().unwrap_or_default();
    let metric: Metric = name.parse().map_err(usage)?;
    let lake = lake_arg(&a.period)?;
    let sites = load_sites(&a.period.sites)?;
    let req = request(metric, &a.period, &lake, &sites)?;
    let mut result = if a.yoy { tally_metrics::compute_yoy(&lake, &sites, &req) } else { tally_metrics::compute(&lake, &sites, &req) }
        .map_err(|e| match e {
            tally_metrics::MetricError::Invalid(m) => usage(m),
            e => e.into(),
        })?;
    for w in &result.warnings {
        tracing::warn!("{w}");
    }
    write_frame(&mut result.frame, a.format, &mut out)?;
    Ok(Status::Ok)
}

fn chart(a: ChartArgs) -> anyhow::Result<Status> {
    let metric: Metric = a.name.parse().map_err(usage)?;
    if metric == Metric::StationAdvice {
        return Err(usage("station_advice is a table of recommendations, not numbers to draw: use tally metric station_advice"));
    }
    let lake = lake_arg(&a.period)?;
    let sites = load_sites(&a.period.sites)?;
    let req = request(metric, &a.period, &lake, &sites)?;
    if req.by.len() > 1 {
        return Err(usage("a chart takes at most one --by dimension"));
    }
    let result = tally_metrics::compute(&lake, &sites, &req).map_err(|e| match e {
        tally_metrics::MetricError::Invalid(m) => usage(m),
        e => e.into(),
    })?;
    for w in &result.warnings {
        tracing::warn!("{w}");
    }
    let df = &result.frame;
    let format = match metric {
        Metric::Occupancy | Metric::Availability | Metric::Heatmap | Metric::GuestShare | Metric::EveningWeekendShare => ValueFormat::Percent,
        _ => ValueFormat::Number,
    };
    let period = format!("{} to {}", req.from, req.to - chrono::Duration::days(1));
    let title = a.title.clone().unwrap_or_else(|| {
        let by = req.by.first().map(|d| format!(" by {}", d.column().replace('_', " "))).unwrap_or_default();
        format!("{}{by}", metric.name().replace('_', " "))
    });
    let mut style = Style { subtitle: format!("{period}, {}. Source: tally lake, {}", metric.unit(), sites.library.name), format, width: a.width, height: a.height, ..Style::new(title, metric.unit()) };
    let values = |col: &str| -> anyhow::Result<Vec<Option<f64>>> {
        Ok(df.column(col)?.cast(&polars::prelude::DataType::Float64)?.f64()?.iter().collect())
    };
    let texts = |col: &str| -> anyhow::Result<Vec<String>> {
        Ok(df.column(col)?.str()?.iter().map(|s| s.unwrap_or("").to_string()).collect())
    };
    let chart = if metric == Metric::Heatmap {
        if !req.by.is_empty() {
            return Err(usage("the heatmap chart is library-wide: drop --by, or filter with tally query"));
        }
        let v = values("occupancy")?;
        let rows = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map(String::from).to_vec();
        style.x_label = "hour of day (local time)".into();
        style.y_label = String::new();
        Chart::Heatmap { rows, columns: (0..24).map(|h| format!("{h:02}")).collect(), values: (0..7).map(|d| v[d * 24..d * 24 + 24].to_vec()).collect() }
    } else {
        let buckets = texts("bucket")?;
        let v = values(metric.name())?;
        match req.by.first() {
            None => {
                let series = Series::new(metric.name(), v);
                match a.kind.unwrap_or(if buckets.len() == 1 { ChartKind::Bar } else { ChartKind::Line }) {
                    ChartKind::Bar | ChartKind::Stacked => Chart::Bar { categories: buckets, series },
                    ChartKind::Line => Chart::Line { categories: buckets, series: vec![series] },
                    ChartKind::Heatmap => return Err(usage("--kind heatmap is for the heatmap metric")),
                }
            }
            Some(dim) => {
                let keys = texts(dim.column())?;
                let mut cats: Vec<String> = Vec::new();
                let mut series: Vec<Series> = Vec::new();
                for i in 0..keys.len() {
                    let b = cats.iter().position(|c| *c == buckets[i]).unwrap_or_else(|| {
                        cats.push(buckets[i].clone());
                        cats.len() - 1
                    });
                    let name = if *dim == Dim::Site { sites.site(&keys[i]).map_or(keys[i].clone(), |s| s.name.clone()) } else { keys[i].clone() };
                    let s = series.iter().position(|s| s.name == name).unwrap_or_else(|| {
                        series.push(Series::new(name, Vec::new()));
                        series.len() - 1
                    });
                    series[s].values.resize(b + 1, None);
                    series[s].values[b] = v[i];
                }
                for s in &mut series {
                    s.values.resize(cats.len(), None);
                }
                match a.kind.unwrap_or(if cats.len() == 1 { ChartKind::Bar } else { ChartKind::Line }) {
                    ChartKind::Bar if cats.len() == 1 => Chart::Bar {
                        categories: series.iter().map(|s| s.name.clone()).collect(),
                        series: Series::new(metric.name(), series.iter().map(|s| s.values[0]).collect()),
                    },
                    ChartKind::Bar => return Err(usage("--kind bar shows one bucket per dimension value; use --every all, or --kind stacked or line")),
                    ChartKind::Stacked => Chart::Stacked { categories: cats, series },
                    ChartKind::Line => Chart::Line { categories: cats, series },
                    ChartKind::Heatmap => return Err(usage("--kind heatmap is for the heatmap metric")),
                }
            }
        }
    };
    tally_charts::render_file(&chart, &style, &a.output)?;
    writeln!(std::io::stdout().lock(), "{}", a.output.display())?;
    Ok(Status::Ok)
}

fn query(a: QueryArgs) -> anyhow::Result<Status> {
    if !a.lake.exists() {
        return Err(usage(format!("--lake {}: no such folder", a.lake.display())));
    }
    let mut df = tally_metrics::query(&Lake::new(&a.lake), &a.sql).map_err(|e| usage(format!("query failed: {e}")))?;
    write_frame(&mut df, a.format, &mut std::io::stdout().lock())?;
    Ok(Status::Ok)
}

fn survey(a: SurveyArgs) -> anyhow::Result<Status> {
    if !a.lake.exists() {
        return Err(usage(format!("--lake {}: no such folder", a.lake.display())));
    }
    let sites = load_sites(&a.sites)?;
    let start_month = sites.library.fiscal_year_start_month;
    // FY N ends in calendar year N: it starts in N-1 unless the year starts in January.
    let first_year = if start_month == 1 { a.fy } else { a.fy - 1 };
    let from = NaiveDate::from_ymd_opt(first_year, start_month, 1).ok_or_else(|| usage(format!("--fy {}: not a year", a.fy)))?;
    let to = NaiveDate::from_ymd_opt(first_year + 1, start_month, 1).ok_or_else(|| usage(format!("--fy {}: not a year", a.fy)))?;
    tracing::info!("FY{}: {from} to {}", a.fy, to - chrono::Duration::days(1));
    let mut df = tally_metrics::survey(&Lake::new(&a.lake), &sites, from, to)?;
    write_frame(&mut df, a.format, &mut std::io::stdout().lock())?;
    Ok(Status::Ok)
}

fn synth(a: SynthArgs) -> anyhow::Result<Status> {
    let config = tally_synth::SynthConfig {
        out: a.out.clone(),
        start: parse_date(&a.start, "--start")?,
        days: a.days,
        seed: a.seed,
        scale: a.scale,
        malformed: !a.no_malformed,
    };
    let started = Instant::now();
    let summary = tally_synth::generate(&config).map_err(|e| match e {
        tally_synth::SynthError::Scale(_) => usage(e.to_string()),
        e => e.into(),
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "wrote {} sessions in {} files under {} ({:.1} s)", summary.sessions, summary.files.len(), a.out.display(), started.elapsed().as_secs_f64())?;
    for (vendor, rows) in &summary.rows {
        writeln!(out, "  {}: {rows} rows", vendor.dir())?;
    }
    for (file, what) in &summary.planted {
        writeln!(out, "  malformed on purpose: {} ({what})", file.display())?;
    }
    Ok(Status::Ok)
}

fn formats() -> anyhow::Result<Status> {
    let mut out = std::io::stdout().lock();
    for f in Format::ALL {
        let i = f.info();
        let table = if f == Format::Generic { "the mapping's".to_string() } else { i.table.to_string() };
        writeln!(out, "{} -> table {table}\n    detected when: {}\n    required: {}\n    optional: {}\n    {}", i.name, i.detected_by, i.required.join(", "), i.optional.join(", "), i.notes)?;
    }
    Ok(Status::Ok)
}

/// The files under `dir` whose names end with one of `endings`, sorted.
fn files_in(dir: &Path, endings: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = entry?.path();
        if p.to_str().is_some_and(|n| endings.iter().any(|e| n.ends_with(e))) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Ingests everything `tally synth` writes: each system's folder with the options its
/// format needs (Symphony's library prefix, a Meraki network's site).
fn ingest_inbox(lake: &Lake, sites: &Sites, pseudo: &Pseudonymiser, inbox: &Path) -> anyhow::Result<Vec<FileOutcome>> {
    let mut outcomes = Vec::new();
    let mut run = |files: Vec<PathBuf>, options: IngestOptions| -> anyhow::Result<()> {
        if !files.is_empty() {
            outcomes.extend(tally_ingest::ingest_files(lake, sites, pseudo, &options, &files)?);
        }
        Ok(())
    };
    let mut sessions = files_in(&inbox.join("envisionware"), &[".csv"])?;
    sessions.extend(files_in(&inbox.join("libki"), &[".csv"])?);
    run(sessions, IngestOptions::default())?;
    run(
        files_in(&inbox.join("symphony"), &[".hist", ".hist.Z"])?,
        IngestOptions { strip_prefix: Some("EPL".into()), ..Default::default() },
    )?;
    for folder in ["koha", "osticket", "snipe-it", "totals"] {
        run(files_in(&inbox.join(folder), &[".csv"])?, IngestOptions::default())?;
    }
    let meraki = inbox.join("meraki");
    if meraki.exists() {
        let mut networks: Vec<PathBuf> = std::fs::read_dir(&meraki)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        networks.sort();
        for network in networks {
            let site = network.file_name().map(|n| n.to_string_lossy().to_string());
            run(files_in(&network, &[".json"])?, IngestOptions { site, ..Default::default() })?;
        }
    }
    Ok(outcomes)
}

fn demo(a: DemoArgs) -> anyhow::Result<Status> {
    let started = Instant::now();
    let inbox = a.out.join("inbox");
    let lake_dir = a.out.join("lake");
    // The demo owns these two folders: start from nothing so the report is reproducible.
    for d in [&inbox, &lake_dir] {
        if d.exists() {
            std::fs::remove_dir_all(d).with_context(|| format!("clearing {}", d.display()))?;
        }
    }
    let config = tally_synth::SynthConfig { out: inbox.clone(), days: a.days, seed: a.seed, scale: a.scale, ..Default::default() };
    let summary = tally_synth::generate(&config)?;
    tracing::info!(sessions = summary.sessions, files = summary.files.len(), "synthetic exports written to {}", inbox.display());
    let sites = Sites::load(&inbox.join("sites.toml"))?;
    let pseudo = Pseudonymiser::new(DEMO_KEY).map_err(anyhow::Error::msg)?;
    let lake = Lake::new(&lake_dir);
    let outcomes = ingest_inbox(&lake, &sites, &pseudo, &inbox)?;
    let (read, accepted, quarantined, excluded) = outcomes.iter().fold((0, 0, 0, 0), |t, o| {
        let s = &o.summary;
        (t.0 + s.rows_read, t.1 + s.rows_accepted, t.2 + s.rows_quarantined, t.3 + s.rows_excluded)
    });
    tracing::info!(files = outcomes.len(), rows_read = read, rows_accepted = accepted, rows_quarantined = quarantined, rows_excluded = excluded, "ingested");
    if let Some(failed) = outcomes.iter().find(|o| o.status == FileStatus::Failed) {
        anyhow::bail!("ingest of {} failed: {}", failed.summary.file, failed.error.clone().unwrap_or_default());
    }
    let (from, to) = tally_metrics::data_range(&lake, &sites)?.context("the demo lake has no sessions")?;
    let usage = tally_report::usage::build(&lake, &sites, from, to)?;
    let path = tally_report::usage::write(usage, &a.out)?;
    tracing::info!("report written in {:.1} s", started.elapsed().as_secs_f64());
    writeln!(std::io::stdout().lock(), "{}", path.display())?;
    Ok(Status::Ok)
}
