//! One function per subcommand: parse arguments into library types, call the crates,
//! print. No metric, format or lake logic lives here.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use tally_ingest::{FileOutcome, Format, IngestOptions, Pseudonymiser, Status as FileStatus};
use tally_lake::{Lake, Snapshot};
use tally_metrics::{Metric, Request};
use tally_model::{BucketKind, Sites};
use tally_report::plot;

use crate::cli::*;
use crate::output::write_frame;
use crate::{Status, UsageError};

pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

pub fn run(command: Command) -> anyhow::Result<Status> {
    match command {
        Command::Demo(a) => demo(a),
        Command::Ingest(a) => ingest(a),
        Command::Doctor(a) => doctor(a),
        Command::Metric(a) => metric(a),
        Command::Chart(a) => chart(a),
        Command::Sql(a) => sql(a),
        Command::SparkJob(a) => spark_job(a),
        Command::Query(a) => query(a),
        Command::Survey(a) => survey(a),
        Command::Peers(a) => peers(a),
        Command::Consortium(c) => consortium(c),
        Command::Run(a) => run_pipeline(a),
        Command::Synth(a) => synth(a),
        Command::Formats => formats(),
        Command::Lake(LakeCommand::Check(a)) => lake_check(a),
        Command::Lake(LakeCommand::Upgrade(a)) => lake_upgrade(a),
        Command::Purge(a) => purge(a),
        Command::Key(KeyCommand::Check(a)) => key_check(a),
        Command::Sites(SitesCommand::Suggest(a)) => sites_suggest(a),
        Command::Support(SupportCommand::Update(a)) => support_update(a),
        Command::Completions(a) => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "tally", &mut std::io::stdout().lock());
            Ok(Status::Ok)
        }
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
    s.parse()
        .map_err(|_| usage(format!("{flag} \"{s}\": expected a date as YYYY-MM-DD")))
}

fn print_outcomes(outcomes: &[FileOutcome], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, outcomes)?;
        writeln!(out)?;
        return Ok(());
    }
    // The format column as wide as its longest name (koha-statistics is 15).
    let fw = outcomes
        .iter()
        .map(|o| o.summary.format.len())
        .chain([13])
        .max()
        .unwrap_or(13);
    writeln!(
        out,
        "{:<44} {:<fw$} {:<17} {:>9} {:>9} {:>11} {:>9}",
        "file", "format", "status", "read", "accepted", "quarantined", "excluded"
    )?;
    for o in outcomes {
        let s = &o.summary;
        let name = Path::new(&s.file)
            .file_name()
            .map_or(s.file.clone(), |n| n.to_string_lossy().to_string());
        let status = match o.status {
            FileStatus::Ingested => "ingested",
            FileStatus::AlreadyIngested => "already ingested",
            FileStatus::Failed => "FAILED",
        };
        writeln!(
            out,
            "{name:<44} {:<fw$} {status:<17} {:>9} {:>9} {:>11} {:>9}",
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
            writeln!(
                out,
                "  note{}: {note}",
                if *n > 1 {
                    format!(" ({n} times)")
                } else {
                    String::new()
                }
            )?;
        }
        if !s.unknown_sites.is_empty() {
            writeln!(
                out,
                "  sites not in sites.toml (accepted as written): {}",
                s.unknown_sites.join(", ")
            )?;
        }
    }
    Ok(())
}

fn outcome_status(outcomes: &[FileOutcome]) -> anyhow::Result<Status> {
    let failed = outcomes
        .iter()
        .filter(|o| o.status == FileStatus::Failed)
        .count();
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} file(s) failed; the lake holds the others",
            outcomes.len()
        );
    }
    let quarantined: u64 = outcomes
        .iter()
        .filter(|o| o.status == FileStatus::Ingested)
        .map(|o| o.summary.rows_quarantined)
        .sum();
    Ok(if quarantined > 0 {
        Status::Quarantined
    } else {
        Status::Ok
    })
}

/// The ingest options and key that `ReadArgs` say.
fn read_options(
    a: &ReadArgs,
    wait: u64,
    memory_mib: usize,
) -> anyhow::Result<(Sites, IngestOptions, Option<Pseudonymiser>)> {
    let sites = load_sites(&a.sites)?;
    let named = a.format.0;
    let mapping = match &a.map {
        Some(path) => Some(tally_ingest::Mapping::load(path).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    let format = tally_ingest::format_with_mapping(named, mapping.is_some()).map_err(usage)?;
    let table = a.table;
    let tz = match &a.tz {
        Some(z) => Some(
            z.parse::<chrono_tz::Tz>()
                .map_err(|_| usage(format!("--tz \"{z}\": unknown time zone")))?,
        ),
        None => None,
    };
    let pseudo =
        Pseudonymiser::optional(a.key_file.as_deref()).map_err(|e| usage(e.to_string()))?;
    // The formats' own settings, by the names their declarations give them.
    let settings = tally_ingest::given_settings([
        (
            "envisionware-time",
            (a.envisionware_time == TimeMeans::End).then(|| "end".to_string()),
        ),
        ("strip-prefix", a.strip_prefix.clone()),
        ("measure", a.measure.clone()),
        ("year", a.year.map(|y| y.to_string())),
        ("station", a.station.clone()),
        ("os-column", a.os_column.clone()),
    ]);
    let options = IngestOptions {
        table,
        format,
        tz,
        lock_wait: Duration::from_secs(wait),
        site: a.site.clone(),
        site_column: a.site_column.clone(),
        settings,
        mapping,
        budget: tally_ingest::Budget::new(memory_mib << 20),
        demo: false,
        purged_before_us: None,
    };
    Ok((sites, options, pseudo))
}

fn ingest(a: IngestArgs) -> anyhow::Result<Status> {
    let (sites, options, pseudo) = read_options(&a.read, a.wait, a.memory_mib)?;
    let lake = Lake::new(&a.lake);
    let outcomes = tally_ingest::ingest_files(&lake, &sites, pseudo.as_ref(), &options, &a.files)?;
    for o in &outcomes {
        if o.detected {
            tracing::info!(file = %o.summary.file, "format detected from the header: {}", o.summary.format);
        }
    }
    print_outcomes(&outcomes, a.json)?;
    outcome_status(&outcomes)
}

/// The request a metric or chart command asks for. The default period is the span of
/// the metric's own table; for a status on a day (os_support, stale_devices) today; for
/// the replacement plan the five fiscal years from this one.
fn request(
    metric: Metric,
    p: &PeriodArgs,
    budget: Option<f64>,
    lake: &Snapshot,
    sites: &Sites,
) -> anyhow::Result<Request> {
    let today = chrono::Local::now().date_naive();
    let one_day = |d: NaiveDate| (d, d.succ_opt().unwrap_or(d));
    let table = metric.table();
    let range = || -> anyhow::Result<(NaiveDate, NaiveDate)> {
        match metric {
            Metric::OsSupport | Metric::StaleDevices => Ok(one_day(today)),
            Metric::ReplacementPlan => {
                tally_metrics::devices::plan_period(sites, sites.fiscal_year(today))
                    .ok_or_else(|| usage("no fiscal years around today"))
            }
            _ => tally_metrics::data_range(lake, sites, table)?.ok_or_else(|| {
                usage(format!(
                    "the lake has no {table} (the table {} reads): pass --from and --to",
                    metric.name()
                ))
            }),
        }
    };
    let (from, to) = match (p.as_of, p.from, p.to) {
        (Some(day), _, _) => one_day(day),
        (None, Some(f), Some(t)) => (f, t),
        (None, f, t) => {
            let r = range()?;
            (f.unwrap_or(r.0), t.unwrap_or(r.1))
        }
    };
    if from >= to {
        return Err(usage(format!(
            "--from {from} must be before --to {to} (--to is exclusive)"
        )));
    }
    let one = to == from.succ_opt().unwrap_or(to);
    let every = p.every.unwrap_or(match metric {
        Metric::ReplacementPlan => BucketKind::FiscalYear,
        _ if one && p.as_of.is_some() => BucketKind::All,
        Metric::OsSupport | Metric::StaleDevices if one => BucketKind::All,
        _ => BucketKind::Month,
    });
    Ok(Request {
        metric,
        from,
        to,
        every,
        by: p.by.clone(),
        budget,
    })
}

fn lake_arg(p: &PeriodArgs) -> anyhow::Result<Snapshot> {
    let dir = p
        .lake
        .as_ref()
        .ok_or_else(|| usage("--lake DIR is required"))?;
    if !dir.exists() {
        return Err(usage(format!("--lake {}: no such folder", dir.display())));
    }
    readable(Lake::new(dir))
}

/// A lake to read, in the format this tally reads (else a configuration error that says
/// how to upgrade), as of now: one read of its ledger.
fn readable(lake: Lake) -> anyhow::Result<Snapshot> {
    Ok(lake.snapshot()?)
}

fn metric(a: MetricArgs) -> anyhow::Result<Status> {
    let mut out = std::io::stdout().lock();
    if a.list {
        let buckets = BucketKind::ALL.map(|b| b.as_str()).join(", ");
        for &m in Metric::ALL {
            let dims: Vec<&str> = m.dims().iter().map(|d| d.column()).collect();
            writeln!(
                out,
                "{}\n    {}\n    unit: {}; by: {}; every: {}",
                m.name(),
                m.definition(),
                m.unit().stored(),
                dims.join(", "),
                if m == Metric::Heatmap {
                    "weekday x hour"
                } else {
                    &buckets
                }
            )?;
        }
        return Ok(Status::Ok);
    }
    let metric = a
        .name
        .ok_or_else(|| usage("name a metric (tally metric --list)"))?;
    if a.budget.is_some() && metric != Metric::ReplacementPlan {
        return Err(usage(format!(
            "--budget is for replacement_plan, not {}",
            metric.name()
        )));
    }
    let lake = lake_arg(&a.period)?;
    let sites = load_sites(&a.period.sites)?;
    let req = request(metric, &a.period, a.budget, &lake, &sites)?;
    let shape = tally_metrics::Shape {
        yoy: a.yoy,
        top: a.top,
        complete_only: a.complete_only,
    };
    let mut result = tally_metrics::ask(&lake, &sites, &req, &shape)?;
    for w in &result.warnings {
        tracing::warn!("{w}");
    }
    crate::output::write_metric_frame(&mut result.frame, a.format, a.output.as_deref(), metric)?;
    Ok(Status::Ok)
}

fn chart(a: ChartArgs) -> anyhow::Result<Status> {
    let metric = a.name;
    let lake = lake_arg(&a.period)?;
    let sites = load_sites(&a.period.sites)?;
    let req = request(metric, &a.period, None, &lake, &sites)?;
    let kind = a.kind.map(|k| match k {
        ChartKind::Bar => plot::Kind::Bar,
        ChartKind::Stacked => plot::Kind::Stacked,
        ChartKind::Line => plot::Kind::Line,
        ChartKind::Heatmap => plot::Kind::Heatmap,
    });
    // Refuse what cannot be drawn before computing anything.
    plot::check(metric, &req.by, kind).map_err(usage)?;
    let shape = tally_metrics::Shape {
        yoy: false,
        top: a.top,
        complete_only: a.complete_only,
    };
    let result = tally_metrics::ask(&lake, &sites, &req, &shape)?;
    for w in &result.warnings {
        tracing::warn!("{w}");
    }
    let drawing = plot::Drawing {
        kind,
        width: a.width,
        height: a.height,
        title: a.title.clone(),
    };
    let (chart, style) = plot::draw(&req, &result, &drawing, &sites)?;
    tally_charts::render_file(&chart, &style, &a.output)?;
    writeln!(std::io::stdout().lock(), "{}", a.output.display())?;
    Ok(Status::Ok)
}

fn sql(a: SqlArgs) -> anyhow::Result<Status> {
    let lake = lake_arg(&a.period)?;
    let sites = load_sites(&a.period.sites)?;
    let req = request(a.name, &a.period, None, &lake, &sites)?;
    let dialect = match a.dialect {
        SqlDialect::Duckdb => tally_metrics::sql::Dialect::DuckDb,
        SqlDialect::Spark => tally_metrics::sql::Dialect::Spark,
    };
    let root = match &a.lake_uri {
        Some(uri) => uri.clone(),
        None => std::path::absolute(lake.root())?.display().to_string(),
    };
    let shape = tally_metrics::Shape {
        yoy: a.yoy,
        top: a.top,
        complete_only: a.complete_only,
    };
    let statement = tally_metrics::sql::statement(&lake, &sites, &req, &shape, dialect, &root)?;
    let text = format!("{}{statement};\n", dialect.preamble());
    match &a.output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("{}", p.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(Status::Ok)
}

/// A job's lake, its sites.toml and its requests, each with its result's folder.
type JobRequests = (Snapshot, Sites, Vec<(String, Request)>);

/// The requests of a pipeline's run: each figure with a SQL form that its metrics and
/// reports ask for, noted by running it against an empty lake (nothing ingested, no
/// output kept). Each metric job's request is named by its file; the rest by request.
fn pipeline_requests(a: &SparkJobArgs, path: &Path) -> anyhow::Result<JobRequests> {
    let src = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut p = tally_pipeline::parse(&src, path, &base, a.root.as_deref())
        .map_err(|e| usage(e.to_string()))?;
    if let Some(lake) = &a.ask.lake {
        p.lake = lake.clone();
    }
    if a.ask.sites.sites.is_some() {
        p.sites = Some(load_sites(&a.ask.sites)?);
    }
    let sites = match &p.sites {
        Some(s) => s.clone(),
        None => Sites::load(&p.sites_path).map_err(|e| usage(e.to_string()))?,
    };
    p.sites = Some(sites.clone());
    if !p.lake.exists() {
        return Err(usage(format!(
            "{}: no lake at {}",
            path.display(),
            p.lake.display()
        )));
    }
    let lake = readable(Lake::new(&p.lake))?;
    let scratch = std::env::temp_dir().join(format!("tally-spark-job-{}", std::process::id()));
    p.out = scratch.display().to_string();
    let recorder = std::rc::Rc::new(tally_metrics::answers::Recorder::new(&lake, &sites));
    let opts = tally_pipeline::RunOptions {
        figures: tally_pipeline::Figures::Record(recorder.clone()),
        period: a.period.clone(),
        today: a.today.unwrap_or_else(|| chrono::Local::now().date_naive()),
        progress: false,
    };
    let outcome = tally_pipeline::run(&p, &opts);
    let _ = std::fs::remove_dir_all(&scratch);
    let outcome = outcome?;
    let mut named: Vec<(String, Request)> = Vec::new();
    if let Some(period) = &outcome.manifest.period {
        for job in &p.metrics {
            let req = Request {
                metric: job.metric,
                from: period.from,
                to: period.to + chrono::Duration::days(1),
                every: job.every,
                by: job.by.clone(),
                budget: None,
            };
            if tally_metrics::sql::unsupported(job.metric).is_none() {
                named.push((job.file.clone(), req));
            }
        }
    }
    let key = tally_metrics::answers::request_key;
    for req in recorder.requests() {
        if !named.iter().any(|(_, r)| key(r) == key(&req)) {
            named.push((tally_metrics::answers::folder_name(&req), req));
        }
    }
    Ok((lake, sites, named))
}

fn spark_job(a: SparkJobArgs) -> anyhow::Result<Status> {
    use tally_metrics::sql::Dialect;
    let (lake, sites, requests) = match &a.pipeline {
        Some(path) => pipeline_requests(&a, path)?,
        None => {
            let lake = lake_arg(&a.ask)?;
            let sites = load_sites(&a.ask.sites)?;
            let mut requests = Vec::new();
            for &m in &a.metrics {
                if let Some(why) = tally_metrics::sql::unsupported(m) {
                    return Err(usage(format!("{} has no SQL form: {why}", m.name())));
                }
                requests.push((
                    m.name().to_string(),
                    request(m, &a.ask, None, &lake, &sites)?,
                ));
            }
            (lake, sites, requests)
        }
    };
    let root = match &a.lake_uri {
        Some(uri) => uri.clone(),
        None => std::path::absolute(lake.root())?.display().to_string(),
    };
    let mut job = tally_metrics::sql::job::Job::new();
    for (folder, req) in &requests {
        let plan = tally_metrics::sql::plan(&lake, &sites, req, Dialect::Spark, &root)?;
        job.add("", folder, req, plan)?;
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}", a.out.display()))?;
    let out_uri = match &a.out_uri {
        Some(u) => u.clone(),
        None => std::path::absolute(&a.out)?.display().to_string(),
    };
    let header = vec![
        format!(
            "written by tally {} on {} from the lake at {} ({} batches in its ledger)",
            env!("CARGO_PKG_VERSION"),
            chrono::Local::now().format("%Y-%m-%d %H:%M"),
            lake.root().display(),
            lake.entries().len()
        ),
        format!("{} results, written under {}", job.len(), a.results),
        "run it with: spark-sql -f job.sql (the small tables are under tables/)".into(),
    ];
    let written = job.write(&a.out, &a.results, &out_uri, &header)?;
    tracing::info!(
        results = job.len(),
        tables = written.len() - 1,
        "Spark job for {} request(s) written",
        requests.len()
    );
    writeln!(
        std::io::stdout().lock(),
        "{}",
        a.out.join("job.sql").display()
    )?;
    Ok(Status::Ok)
}

fn query(a: QueryArgs) -> anyhow::Result<Status> {
    if !a.lake.exists() {
        return Err(usage(format!(
            "--lake {}: no such folder",
            a.lake.display()
        )));
    }
    let mut df = tally_metrics::query(&readable(Lake::new(&a.lake))?, &a.sql)
        .map_err(|e| usage(format!("query failed: {e}")))?;
    write_frame(&mut df, a.format, a.output.as_deref())?;
    Ok(Status::Ok)
}

fn survey(a: SurveyArgs) -> anyhow::Result<Status> {
    if !a.lake.exists() {
        return Err(usage(format!(
            "--lake {}: no such folder",
            a.lake.display()
        )));
    }
    let sites = load_sites(&a.sites)?;
    let (from, to) = sites
        .fiscal_year_days(a.fy)
        .ok_or_else(|| usage(format!("--fy {}: not a year", a.fy)))?;
    tracing::info!("FY{}: {from} to {}", a.fy, to - chrono::Duration::days(1));
    let mut df = tally_metrics::survey(&readable(Lake::new(&a.lake))?, &sites, from, to)?;
    write_frame(&mut df, a.format, None)?;
    Ok(Status::Ok)
}

fn peers(a: PeersArgs) -> anyhow::Result<Status> {
    use tally_metrics::peers::{PeerGroup, PeersRequest};
    if !a.lake.exists() {
        return Err(usage(format!(
            "--lake {}: no such folder",
            a.lake.display()
        )));
    }
    let sites = load_sites(&a.sites)?;
    let library = a
        .library
        .clone()
        .or_else(|| sites.library.fscskey.clone())
        .ok_or_else(|| {
            usage("name the library: --library KEY, or fscskey = \"...\" in sites.toml [library]")
        })?;
    let group = match (a.state, a.peers.is_empty()) {
        (_, false) => PeerGroup::Keys(a.peers.clone()),
        (true, true) => PeerGroup::PopulationInState,
        (false, true) => PeerGroup::Population,
    };
    let req = PeersRequest {
        year: a.fy,
        library,
        group,
    };
    let mut out = tally_metrics::peers::peers(&readable(Lake::new(&a.lake))?, Some(&sites), &req)?;
    for w in &out.warnings {
        tracing::info!("{w}");
    }
    write_frame(&mut out.frame, a.format, None)?;
    Ok(Status::Ok)
}

fn synth(a: SynthArgs) -> anyhow::Result<Status> {
    if let Some(n) = a.libraries {
        return synth_consortium(&a, n);
    }
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
    writeln!(
        out,
        "wrote {} sessions in {} files under {} ({:.1} s)",
        summary.sessions,
        summary.files.len(),
        a.out.display(),
        started.elapsed().as_secs_f64()
    )?;
    for (vendor, rows) in &summary.rows {
        writeln!(out, "  {}: {rows} rows", vendor.dir())?;
    }
    for (file, what) in &summary.planted {
        writeln!(out, "  malformed on purpose: {} ({what})", file.display())?;
    }
    Ok(Status::Ok)
}

/// Town names for a synthetic consortium's members.
const TOWNS: [&str; 12] = [
    "ashford",
    "brookfield",
    "cedarvale",
    "dunmore",
    "elmwood",
    "fairview",
    "glenrock",
    "harlow",
    "irondale",
    "juniper",
    "kestrel",
    "larkin",
];

/// The members' sizes, as multiples of the demo library (its exports and residents).
const SIZES: [f64; 4] = [1.0, 0.5, 1.5, 0.75];

/// A synthetic consortium: each member the demo's library at another size and seed, its
/// exports ingested into its own lake (the pipelines/demo.toml steps, without reports),
/// and consortium.toml listing them with the populations of their sites.toml.
fn synth_consortium(a: &SynthArgs, n: usize) -> anyhow::Result<Status> {
    if n == 0 {
        return Err(usage("--libraries must be at least 1"));
    }
    let started = Instant::now();
    let start = parse_date(&a.start, "--start")?;
    let mut toml = format!(
        "# A synthetic consortium written by tally synth --libraries {n} (seed {}).\n\
         [consortium]\nname = \"Synthetic consortium of {n} libraries\"\n",
        a.seed
    );
    for i in 0..n {
        let town = TOWNS[i % TOWNS.len()];
        let code = if i < TOWNS.len() {
            town.to_string()
        } else {
            format!("{town}-{}", i / TOWNS.len() + 1)
        };
        let root = a.out.join("members").join(&code);
        let mut p = tally_pipeline::parse(
            DEMO_PIPELINE,
            Path::new("pipelines/demo.toml"),
            Path::new("."),
            Some(&root),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        p.reports.clear();
        p.metrics.clear();
        if let Some(s) = &mut p.synth {
            s.days = a.days;
            s.seed = a.seed + i as u64;
            s.scale = a.scale * SIZES[i % SIZES.len()];
            s.start = Some(start);
        }
        let opts = tally_pipeline::RunOptions {
            figures: tally_pipeline::Figures::Compute,
            period: None,
            today: chrono::Local::now().date_naive(),
            progress: false,
        };
        let outcome = tally_pipeline::run(&p, &opts)?;
        let sites =
            Sites::load(&root.join("inbox/sites.toml")).map_err(|e| anyhow::anyhow!("{e}"))?;
        // The residents served grow with the library's size (its sessions and loans).
        let population = (sites.sites.iter().map(|s| s.population).sum::<u64>() as f64
            * SIZES[i % SIZES.len()])
        .round() as u64;
        tracing::info!(
            member = %code,
            rows = outcome.manifest.rows_accepted,
            "member {} of {n} ingested",
            i + 1
        );
        let name = format!("{}{} Public Library", town[..1].to_uppercase(), &town[1..]);
        toml.push_str(&format!(
            "\n[[members]]\ncode = \"{code}\"\nname = \"{name}\"\nlake = \"members/{code}/lake\"\n\
             sites = \"members/{code}/inbox/sites.toml\"\npopulation = {population}\n"
        ));
    }
    let path = a.out.join("consortium.toml");
    std::fs::write(&path, toml).with_context(|| format!("{}", path.display()))?;
    tracing::info!("{n} libraries in {:.1} s", started.elapsed().as_secs_f64());
    writeln!(std::io::stdout().lock(), "{}", path.display())?;
    Ok(Status::Ok)
}

fn consortium(c: ConsortiumCommand) -> anyhow::Result<Status> {
    use std::rc::Rc;
    use tally_metrics::answers::{Recorder, Results, folder_name};
    use tally_metrics::consortium::Member;
    let ConsortiumCommand::Report(a) = c;
    let file = tally_pipeline::consortium::load_consortium(&a.config).map_err(usage)?;
    let mut members = Vec::new();
    for m in &file.members {
        members.push(Member {
            code: m.code.clone(),
            name: m.name.clone(),
            lake: readable(Lake::new(&m.lake))?,
            sites: Sites::load(&m.sites).map_err(|e| usage(format!("member {}: {e}", m.code)))?,
            population: m.population,
            answers: None,
        });
    }
    let today = a.today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let (from, to) = match a.period.clone().unwrap_or(tally_pipeline::PeriodSpec::All) {
        tally_pipeline::PeriodSpec::All => {
            let mut span: Option<(NaiveDate, NaiveDate)> = None;
            for m in &members {
                if let (Some((f, t)), _) = tally_metrics::lake_range(&m.lake, &m.sites)? {
                    span = Some(span.map_or((f, t), |(a, b)| (a.min(f), b.max(t))));
                }
            }
            span.ok_or_else(|| usage("period all: no member's lake has data yet"))?
        }
        spec => {
            let fy = members[0].sites.library.fiscal_year_start_month;
            let p = spec
                .resolve(today, fy)
                .ok_or_else(|| usage(format!("--period {spec:?} has no days around {today}")))?;
            (p.from, p.to)
        }
    };
    tracing::info!(
        "{} members, {from} to {}",
        members.len(),
        to - chrono::Duration::days(1)
    );

    if let Some(job_dir) = &a.spark_job {
        use tally_metrics::sql::Dialect;
        let uri = a.results.as_deref().unwrap_or_default();
        let recorders: Vec<Rc<Recorder>> = members
            .iter()
            .map(|m| Rc::new(Recorder::new(&m.lake, &m.sites)))
            .collect();
        for (m, r) in members.iter_mut().zip(&recorders) {
            m.answers = Some(r.clone());
        }
        tally_metrics::consortium::consortium(&members, from, to)?;
        let mut job = tally_metrics::sql::job::Job::new();
        for ((m, r), mf) in members.iter().zip(&recorders).zip(&file.members) {
            let root = match &mf.lake_uri {
                Some(u) => u.clone(),
                None => std::path::absolute(&mf.lake)?.display().to_string(),
            };
            for req in r.requests() {
                let plan =
                    tally_metrics::sql::plan(&m.lake, &m.sites, &req, Dialect::Spark, &root)?;
                job.add(&m.code, &folder_name(&req), &req, plan)?;
            }
        }
        std::fs::create_dir_all(job_dir).with_context(|| format!("{}", job_dir.display()))?;
        let header = vec![
            format!(
                "written by tally {} on {}: the consortium {} ({} members), {from} to {}",
                env!("CARGO_PKG_VERSION"),
                chrono::Local::now().format("%Y-%m-%d %H:%M"),
                file.name,
                members.len(),
                to - chrono::Duration::days(1)
            ),
            format!("{} results, each member's under {uri}/<member>/", job.len()),
            "run it with: spark-sql -f job.sql; then tally consortium report --results".into(),
        ];
        let bundle = std::path::absolute(job_dir)?.display().to_string();
        job.write(job_dir, uri, &bundle, &header)?;
        writeln!(
            std::io::stdout().lock(),
            "{}",
            job_dir.join("job.sql").display()
        )?;
        return Ok(Status::Ok);
    }
    let out = a
        .out
        .as_ref()
        .ok_or_else(|| usage("--out DIR is required"))?;
    if let Some(dir) = &a.results {
        let dir = Path::new(dir);
        for m in &mut members {
            m.answers = Some(Rc::new(Results::open(
                &dir.join(&m.code),
                &m.lake,
                &m.sites,
            )?));
        }
    }
    let c = tally_metrics::consortium::consortium(&members, from, to)?;
    let report = tally_report::consortium::build(&c, &file.name, from, to)?;
    tally_report::write(
        &report,
        out,
        "consortium",
        &[
            tally_report::Format::Html,
            tally_report::Format::Xlsx,
            tally_report::Format::Csv,
        ],
    )?;
    for w in &c.warnings {
        tracing::warn!("{w}");
    }
    writeln!(
        std::io::stdout().lock(),
        "{}",
        out.join("consortium.html").display()
    )?;
    Ok(Status::Ok)
}

fn doctor(a: DoctorArgs) -> anyhow::Result<Status> {
    let (sites, options, pseudo) = read_options(&a.read, 0, 1024)?;
    let diagnoses = tally_ingest::diagnose(&sites, pseudo.as_ref(), &options, &a.files)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &diagnoses)?;
        writeln!(out)?;
    }
    for d in diagnoses.iter().filter(|_| !a.json) {
        writeln!(out, "{}", d.file)?;
        if let Some(e) = &d.error {
            writeln!(out, "  cannot be read: {e}")?;
            continue;
        }
        writeln!(
            out,
            "  format: {} -> table {} ({})",
            d.format, d.table, d.why
        )?;
        writeln!(out, "  encoding: {}", d.encoding)?;
        writeln!(out, "  columns used: {}", d.columns_used.join(", "))?;
        if !d.columns_ignored.is_empty() {
            writeln!(out, "  columns ignored: {}", d.columns_ignored.join(", "))?;
        }
        writeln!(
            out,
            "  rows: {} read; {} would be stored, {} quarantined, {} excluded",
            d.rows_read, d.rows_accepted, d.rows_quarantined, d.rows_excluded
        )?;
        if let (Some(a), Some(b)) = (&d.first_day, &d.last_day) {
            writeln!(out, "  dates: {a} to {b}")?;
        }
        if !d.sites.is_empty() {
            let list: Vec<String> = d.sites.iter().map(|(s, n)| format!("{s} ({n})")).collect();
            writeln!(out, "  sites: {}", list.join(", "))?;
        }
        if !d.unknown_sites.is_empty() {
            writeln!(
                out,
                "  not in sites.toml (kept as written; `tally sites suggest` after ingest): {}",
                d.unknown_sites.join(", ")
            )?;
        }
        for (code, n) in &d.excluded {
            writeln!(out, "  excluded by rule: {code} {n}")?;
        }
        for (code, n) in &d.quarantined {
            writeln!(out, "  would be quarantined: {code} {n}")?;
        }
        for (line, what, reason) in &d.quarantine_samples {
            writeln!(out, "    line {line}: {what}: {reason}")?;
        }
        for (note, n) in &d.notes {
            writeln!(out, "  note ({n}): {note}")?;
        }
    }
    let unreadable = diagnoses.iter().filter(|d| d.error.is_some()).count();
    if unreadable > 0 {
        anyhow::bail!(
            "{unreadable} of {} file(s) cannot be read as they are",
            diagnoses.len()
        );
    }
    Ok(Status::Ok)
}

fn lake_check(a: LakeCheckArgs) -> anyhow::Result<Status> {
    let report = tally_lake::check(&Lake::new(&a.lake))?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{}: format {}, {} batches, {} Parquet files, {} rows",
            report.lake, report.format, report.batches, report.files, report.rows
        )?;
        for f in &report.findings {
            writeln!(out, "  {}: {}: {}", f.kind, f.path, f.message)?;
        }
        if report.findings.is_empty() {
            writeln!(out, "  the ledger and the files agree")?;
        }
    }
    if report.damaged() {
        anyhow::bail!("{}: the lake is damaged (see above)", report.lake);
    }
    Ok(Status::Ok)
}

fn lake_upgrade(a: LakeUpgradeArgs) -> anyhow::Result<Status> {
    let report = tally_lake::upgrade(&Lake::new(&a.lake), a.dry_run, Duration::from_secs(a.wait))?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if report.from_format == report.to_format {
        writeln!(
            out,
            "{}: already in format {}; nothing to do",
            report.lake, report.to_format
        )?;
    } else {
        writeln!(
            out,
            "{}: format {} -> {}{}: {} Parquet files, {} rows",
            report.lake,
            report.from_format,
            report.to_format,
            if report.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            },
            report.files,
            report.rows
        )?;
        for c in &report.changes {
            writeln!(out, "  - {c}")?;
        }
    }
    Ok(Status::Ok)
}

fn purge(a: PurgeArgs) -> anyhow::Result<Status> {
    let sites = load_sites(&a.sites)?;
    let today = a.today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let wait = Duration::from_secs(a.wait);
    let mut retain = tally_pipeline::Retain::from_sites(&sites, today, wait);
    if a.before.is_some() {
        retain.before = a.before;
    }
    if a.quarantine_days.is_some() {
        retain.quarantine_days = a.quarantine_days;
    }
    retain.dry_run = a.dry_run;
    if retain.is_empty() {
        return Err(usage(
            "nothing to purge: pass --before DATE or --quarantine-days N, or set [retention] patron_months \
             or quarantine_days in sites.toml",
        ));
    }
    let report = tally_pipeline::purge(&Lake::new(&a.lake), &sites, &retain)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(Status::Ok);
    }
    let would = if report.dry_run { "would " } else { "" };
    match (report.before, report.previous) {
        (Some(b), Some(p)) if p >= b => writeln!(
            out,
            "{}: keys were already cleared before {p}; no row changes",
            report.lake
        )?,
        (Some(b), _) => {
            writeln!(
                out,
                "{}: {would}clear the keys of {} rows before {b} ({}) in {} Parquet files; \
                 {} distinct counts kept for the purged periods",
                report.lake,
                report.rows_cleared,
                report
                    .tables
                    .iter()
                    .map(|(t, n)| format!("{t} {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                report.files,
                report.kept_counts
            )?;
        }
        (None, _) => {}
    }
    if let Some(q) = report.quarantine_before {
        writeln!(
            out,
            "{}: {would}delete {} quarantine files written before {q}",
            report.lake,
            report.quarantine_deleted.len()
        )?;
        for f in &report.quarantine_deleted {
            writeln!(out, "  {f}")?;
        }
    }
    if report.dry_run {
        writeln!(out, "(dry run: nothing written)")?;
    }
    Ok(Status::Ok)
}

fn key_check(a: KeyCheckArgs) -> anyhow::Result<Status> {
    let lake = Lake::new(&a.lake);
    let pseudo =
        Pseudonymiser::from_file_or_env(a.key_file.as_deref()).map_err(|e| usage(e.to_string()))?;
    let meta = lake
        .meta()
        .with_context(|| format!("{}", lake.root().display()))?;
    let mut out = std::io::stdout().lock();
    match meta.and_then(|m| m.key_fingerprint) {
        None => {
            writeln!(
                out,
                "{}: the lake has no key yet (no patron data): the first ingest with identifiers records this key",
                lake.root().display()
            )?;
            Ok(Status::Ok)
        }
        Some(fp) if fp == pseudo.fingerprint() => {
            writeln!(out, "{}: this is the lake's key", lake.root().display())?;
            Ok(Status::Ok)
        }
        Some(_) => Err(usage(format!(
            "{}: this is not the key the lake was written with; ingesting with it is refused",
            lake.root().display()
        ))),
    }
}

fn sites_suggest(a: SitesSuggestArgs) -> anyhow::Result<Status> {
    let sites = load_sites(&a.sites)?;
    let lake = readable(Lake::new(&a.lake))?;
    let unknown = tally_metrics::unknown_sites(&lake, &sites, a.names.as_deref())?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &unknown)?;
        writeln!(out)?;
        return Ok(Status::Ok);
    }
    if unknown.is_empty() {
        writeln!(out, "every site value in the lake is a site of sites.toml")?;
        return Ok(Status::Ok);
    }
    writeln!(
        out,
        "# Site values in the lake that sites.toml does not know (rows per table):"
    )?;
    for u in &unknown {
        let rows: Vec<String> = u.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
        let named = u
            .named
            .as_deref()
            .map_or(String::new(), |n| format!(" = \"{n}\" in the names file"));
        writeln!(out, "#   \"{}\": {}{named}", u.value, rows.join(", "))?;
    }
    writeln!(
        out,
        "#\n# Paste into sites.toml. A value that is another spelling of a site is an alias:"
    )?;
    let mut aliases: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for u in &unknown {
        if let Some(code) = &u.alias_of {
            aliases.entry(code).or_default().push(&u.value);
        }
    }
    for (code, values) in &aliases {
        let list: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
        writeln!(
            out,
            "# in the [[site]] with code = \"{code}\":\naliases = [{}]",
            list.join(", ")
        )?;
    }
    for u in unknown.iter().filter(|u| u.alias_of.is_none()) {
        let name = u.named.as_deref().unwrap_or(&u.value);
        writeln!(
            out,
            "\n[[site]]\ncode = \"{}\"\nname = \"{name}\"\nstations = 0    # its public computers\npopulation = 0  # its service area\nhours = {{ mon = \"09:00-17:00\", tue = \"09:00-17:00\", wed = \"09:00-17:00\", thu = \"09:00-17:00\", fri = \"09:00-17:00\", sat = \"closed\", sun = \"closed\" }}  # its opening hours",
            u.value
        )?;
    }
    Ok(Status::Ok)
}

fn formats() -> anyhow::Result<Status> {
    let mut out = std::io::stdout().lock();
    for &f in Format::ALL {
        let i = f.info();
        let table = if f == Format::Generic {
            "the mapping's".to_string()
        } else {
            i.table.to_string()
        };
        let site_from = if i.site_columns.is_empty() {
            i.site.describe()
        } else {
            format!("{}; {}", i.site_columns.join(", then "), i.site.describe())
        };
        let options: Vec<String> = i
            .options
            .iter()
            .map(|o| o.to_string())
            .chain(
                i.settings
                    .iter()
                    .map(|s| format!("--{} {}: {}", s.name, s.value, s.about)),
            )
            .collect();
        let options = if options.is_empty() {
            "none".to_string()
        } else {
            options.join(", ")
        };
        writeln!(
            out,
            "{} -> table {table}\n    detected when: {}\n    required: {}\n    optional: {}\n    \
             site from: {site_from}\n    records told apart by: {}\n    options: {options}\n    {}",
            i.name,
            i.detected_by,
            i.required.join(", "),
            i.optional.join(", "),
            i.identity,
            i.notes
        )?;
    }
    Ok(Status::Ok)
}

/// The embedded default: pipelines/demo.toml, built into the binary, rooted at --out.
const DEMO_PIPELINE: &str = include_str!("../pipelines/demo.toml");

fn demo(a: DemoArgs) -> anyhow::Result<Status> {
    let started = Instant::now();
    let mut p = tally_pipeline::parse(
        DEMO_PIPELINE,
        Path::new("pipelines/demo.toml"),
        Path::new("."),
        Some(&a.out),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(s) = &mut p.synth {
        s.days = a.days;
        s.seed = a.seed;
        s.scale = a.scale;
    }
    let opts = tally_pipeline::RunOptions {
        figures: tally_pipeline::Figures::Compute,
        period: None,
        today: chrono::Local::now().date_naive(),
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = tally_pipeline::run(&p, &opts)?;
    let m = &outcome.manifest;
    if let Some(failed) = m.files_failed.first() {
        anyhow::bail!("ingest of {failed} failed (see the log above)");
    }
    tracing::info!(
        files = m.inputs.iter().map(|i| i.files.len()).sum::<usize>(),
        rows_read = m.rows_read,
        rows_accepted = m.rows_accepted,
        rows_quarantined = m.rows_quarantined,
        rows_excluded = m.rows_excluded,
        "demo finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    writeln!(
        std::io::stdout().lock(),
        "{}",
        outcome.out_dir.join("report.html").display()
    )?;
    Ok(Status::Ok)
}

fn run_pipeline(a: RunArgs) -> anyhow::Result<Status> {
    let src = std::fs::read_to_string(&a.pipeline)
        .map_err(|e| usage(format!("cannot read {}: {e}", a.pipeline.display())))?;
    let base = a
        .pipeline
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let p = tally_pipeline::parse(&src, &a.pipeline, &base, a.root.as_deref())
        .map_err(|e| usage(e.to_string()))?;
    let today = a.today.unwrap_or_else(|| chrono::Local::now().date_naive());
    if a.check {
        writeln!(
            std::io::stdout().lock(),
            "{}: ok ({} input(s), {} metric(s), {} report(s))",
            a.pipeline.display(),
            p.inputs.len(),
            p.metrics.len(),
            p.reports.len()
        )?;
        return Ok(Status::Ok);
    }
    let opts = tally_pipeline::RunOptions {
        figures: match &a.results {
            Some(dir) => tally_pipeline::Figures::Results(dir.clone()),
            None => tally_pipeline::Figures::Compute,
        },
        period: a.period.clone(),
        today,
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = tally_pipeline::run(&p, &opts)?;
    let m = &outcome.manifest;
    tracing::info!(
        batches = m.batches.len(),
        rows_read = m.rows_read,
        rows_quarantined = m.rows_quarantined,
        outputs = m.outputs.len(),
        "{} finished in {:.1} s; manifest {}",
        p.name,
        m.seconds,
        outcome.manifest_path.display()
    );
    writeln!(
        std::io::stdout().lock(),
        "{}",
        outcome.manifest_path.display()
    )?;
    if !m.files_failed.is_empty() {
        anyhow::bail!(
            "{} file(s) failed: {}; the lake holds the others",
            m.files_failed.len(),
            m.files_failed.join(", ")
        );
    }
    Ok(if outcome.quarantined() > 0 {
        Status::Quarantined
    } else {
        Status::Ok
    })
}

/// `tally support update`: the four product files, checked, into the lake's `_support/`
/// (each written beside and renamed, so a reader sees the old file or the new).
fn support_update(a: SupportUpdateArgs) -> anyhow::Result<Status> {
    use tally_metrics::support::{Catalogue, Product, lake_dir};
    if !a.lake.exists() {
        return Err(usage(format!(
            "--lake {}: no such folder",
            a.lake.display()
        )));
    }
    let lake = readable(Lake::new(&a.lake))?;
    let cat = Catalogue::read_dir(&a.dir).map_err(|e| usage(e.to_string()))?;
    let dest = lake_dir(lake.lake());
    std::fs::create_dir_all(&dest)?;
    for p in Product::ALL {
        let name = format!("{}.md", p.name());
        let tmp = dest.join(format!(".{name}.tmp"));
        std::fs::copy(a.dir.join(&name), &tmp)?;
        std::fs::rename(&tmp, dest.join(&name))?;
    }
    // The MIT licence travels with the files: beside them, or at the checkout's root.
    if let Some(licence) = [a.dir.join("LICENSE"), a.dir.join("../LICENSE")]
        .into_iter()
        .find(|l| l.exists())
    {
        std::fs::copy(&licence, dest.join("LICENSE"))?;
    }
    let mut out = std::io::stdout().lock();
    for p in Product::ALL {
        let n = cat.cycles.iter().filter(|c| c.product == p).count();
        writeln!(out, "{}: {n} release cycles", p.name())?;
    }
    writeln!(out, "kept in {}", dest.display())?;
    Ok(Status::Ok)
}
