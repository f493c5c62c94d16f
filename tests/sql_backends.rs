//! Every metric with a SQL form, three ways, cell by cell: tally's own answer (polars and
//! the sweep line), the SQL tally writes run on DuckDB, and the same SQL for Spark run on
//! Spark (local mode). The lakes hold the edge cases: both daylight-saving changes,
//! sessions across midnight and a month's end, overlapping sessions on one station, a
//! branch closed all day, a month with no data, a purged period, small cells suppressed.
//! Counts must be equal; other numbers within 1e-9, relative.
//!
//! The engines run from Python (tests/sql/run.py): `TALLY_SQL_PYTHON` names an
//! interpreter with `duckdb` (and `pyspark` for Spark, with `TALLY_SPARK=1`); `.ci/run`
//! makes that virtualenv. Without it these tests say so and pass, unless
//! `TALLY_REQUIRE_SQL` is set (CI sets it).

use std::path::{Path, PathBuf};

use tally_lake::Lake;
use tally_metrics::spec::{EventSpec, Measure, Pred, Val, event_spec};
use tally_metrics::sql::Dialect;
use tally_metrics::{Dim, Metric, Request, Shape};
use tally_model::{BucketKind, Sites};

use crate::common::*;

/// The interpreter that runs the engines, if any.
fn python(spark: bool) -> Option<PathBuf> {
    let required = std::env::var_os("TALLY_REQUIRE_SQL").is_some();
    let py = std::env::var_os("TALLY_SQL_PYTHON").map(PathBuf::from);
    let spark_on = std::env::var_os("TALLY_SPARK").is_some();
    match (py, spark) {
        (Some(p), false) => Some(p),
        (Some(p), true) if spark_on => Some(p),
        _ if required && (!spark || spark_on) => {
            panic!("TALLY_REQUIRE_SQL is set but TALLY_SQL_PYTHON (or TALLY_SPARK) is not")
        }
        _ => {
            eprintln!(
                "skipped: set TALLY_SQL_PYTHON{} to run the SQL cross-check",
                if spark { " and TALLY_SPARK=1" } else { "" }
            );
            None
        }
    }
}

struct World {
    dir: tempfile::TempDir,
    name: &'static str,
    lake: Lake,
    sites: Sites,
}

fn ingest_all(lake: &Path, sites: &Path, inbox: &Path) {
    for (sub, extra) in [
        ("envisionware", vec![]),
        ("libki", vec![]),
        ("symphony", vec!["--strip-prefix", "EPL"]),
        ("koha", vec![]),
        ("osticket", vec![]),
        ("snipe-it", vec![]),
        ("papercut", vec![]),
        ("ad", vec![]),
        ("totals", vec!["--table", "totals"]),
    ] {
        let dir = inbox.join(sub);
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = read.map(|e| e.unwrap().path()).collect();
        files.retain(|f| f.is_file());
        files.sort();
        if files.is_empty() {
            continue;
        }
        let mut cmd = tally(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            sites.to_str().unwrap(),
        ]);
        cmd.env("TALLY_KEY", TEST_KEY).args(extra).args(&files);
        let out = cmd.output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0) | Some(3)),
            "{sub}: {}",
            text(&out.stderr)
        );
    }
    if let Ok(networks) = std::fs::read_dir(inbox.join("meraki")) {
        for network in networks {
            let network = network.unwrap().path();
            let site = network.file_name().unwrap().to_string_lossy().to_string();
            let files: Vec<PathBuf> = std::fs::read_dir(&network)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            let mut cmd = tally(&[
                "ingest",
                "--lake",
                lake.to_str().unwrap(),
                "--sites",
                sites.to_str().unwrap(),
                "--site",
                &site,
            ]);
            cmd.env("TALLY_KEY", TEST_KEY).args(files);
            assert!(matches!(
                cmd.output().unwrap().status.code(),
                Some(0) | Some(3)
            ));
        }
    }
}

/// The synthetic library over the two daylight-saving changes of 2026 (so the months
/// between them hold no data), with hand-made sessions for the edge cases.
fn library() -> World {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for (i, (start, days)) in [("2026-02-26", "14"), ("2026-10-26", "10")]
        .iter()
        .enumerate()
    {
        let inbox = dir.path().join(format!("inbox{i}"));
        let out = run(&[
            "synth",
            "--out",
            inbox.to_str().unwrap(),
            "--start",
            start,
            "--days",
            days,
            "--seed",
            &(7 + i).to_string(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        ingest_all(&lake, &dir.path().join("inbox0/sites.toml"), &inbox);
    }
    let sites_path = dir.path().join("inbox0/sites.toml");
    // Edge cases at a branch of the demo library: across midnight, across the month's
    // end, two overlapping sessions on one station, one with no station, one on a
    // holiday, one at a branch sites.toml does not know.
    let edges = dir.path().join("edges.csv");
    std::fs::write(
        &edges,
        "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n\
         90001,21221000000001,90,2026-03-01 23:30:00,CEN,Adult,,CEN-EDGE-1\n\
         90002,21221000000002,45,2026-02-28 23:40:00,CEN,Adult,,CEN-EDGE-1\n\
         90003,21221000000003,60,2026-03-02 10:00:00,CEN,Adult,,CEN-EDGE-2\n\
         90004,21221000000004,60,2026-03-02 10:30:00,CEN,Adult,,CEN-EDGE-2\n\
         90005,21221000000005,30,2026-03-02 11:00:00,CEN,Adult,,\n\
         90006,21221000000006,30,2026-03-08 01:30:00,CEN,Adult,,CEN-EDGE-3\n\
         90007,21221000000007,40,2026-11-01 01:20:00,CEN,Adult,,CEN-EDGE-3\n\
         90008,21221000000008,50,2026-03-03 12:00:00,ZZZ,Adult,,ZZZ-1\n",
    )
    .unwrap();
    let mut cmd = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites_path.to_str().unwrap(),
        edges.to_str().unwrap(),
    ]);
    cmd.env("TALLY_KEY", TEST_KEY);
    assert!(matches!(
        cmd.output().unwrap().status.code(),
        Some(0) | Some(3)
    ));
    let sites = Sites::load(&sites_path).unwrap();
    World {
        dir,
        name: "library",
        lake: Lake::new(lake),
        sites,
    }
}

/// The same library with patron keys purged before 2026-03-04 (kept counts).
fn purged(from: &World) -> World {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    copy_dir(from.lake.root(), &lake);
    let sites_path = from.dir.path().join("inbox0/sites.toml");
    let out = run(&[
        "purge",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites_path.to_str().unwrap(),
        "--before",
        "2026-03-04",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    World {
        dir,
        name: "purged",
        lake: Lake::new(lake),
        sites: from.sites.clone(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for f in walk(from) {
        let rel = f.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

fn req(m: Metric, from: &str, to: &str, every: BucketKind, by: &[Dim]) -> Request {
    Request {
        metric: m,
        from: date(from),
        to: date(to),
        every,
        by: by.to_vec(),
        budget: None,
    }
}

/// The requests each metric with a SQL form is checked with: day buckets over the spring
/// change, hours over both changes, weeks, months with an empty stretch, the whole
/// period by each dimension.
fn plain(r: Request) -> (Request, Shape) {
    (r, Shape::default())
}

fn requests(full: bool) -> Vec<(Request, Shape)> {
    // TALLY_SQL_ONLY=occupancy,os_support: only those metrics (to look at one closely).
    let only = std::env::var("TALLY_SQL_ONLY").ok();
    let mut out = Vec::new();
    for (i, &m) in Metric::ALL.iter().enumerate() {
        if tally_metrics::sql::unsupported(m).is_some()
            || only
                .as_deref()
                .is_some_and(|o| !o.split(',').any(|n| n == m.name()))
        {
            continue;
        }
        if m == Metric::Heatmap {
            out.push(plain(req(
                m,
                "2026-02-26",
                "2026-03-12",
                BucketKind::Hour,
                &[],
            )));
            out.push(plain(req(
                m,
                "2026-10-26",
                "2026-11-05",
                BucketKind::Hour,
                &[Dim::Site],
            )));
            continue;
        }
        out.push(plain(req(
            m,
            "2026-03-05",
            "2026-03-11",
            BucketKind::Day,
            &[Dim::Site],
        )));
        // Shapes: the year before (here: an empty year, and the trends' totals), the
        // largest values of each bucket, partial buckets left out. Spark (slow to start
        // each statement) gets the day buckets and one shape of each metric.
        let by = m.dims().first().map(|d| vec![*d]).unwrap_or_default();
        let yoy = (
            req(m, "2025-09-01", "2026-12-01", BucketKind::Quarter, &by),
            Shape {
                yoy: true,
                ..Shape::default()
            },
        );
        let top = (
            req(m, "2026-02-20", "2026-03-20", BucketKind::Week, &by),
            Shape {
                top: Some(3),
                complete_only: true,
                ..Shape::default()
            },
        );
        if !full {
            out.push(if i % 2 == 0 { yoy } else { top });
            continue;
        }
        out.push(plain(req(
            m,
            "2026-02-01",
            "2026-12-01",
            BucketKind::Month,
            &[],
        )));
        out.push(yoy);
        out.push(top);

        out.push(plain(req(
            m,
            "2026-03-07",
            "2026-03-10",
            BucketKind::Hour,
            &[],
        )));
        out.push(plain(req(
            m,
            "2026-10-31",
            "2026-11-02",
            BucketKind::Hour,
            &[],
        )));
        out.push(plain(req(
            m,
            "2026-02-23",
            "2026-03-16",
            BucketKind::Week,
            &[],
        )));
        for &d in m.dims() {
            out.push(plain(req(
                m,
                "2026-02-26",
                "2026-11-05",
                BucketKind::All,
                &[d],
            )));
        }
        if m.dims().len() >= 2 {
            out.push(plain(req(
                m,
                "2026-02-26",
                "2026-03-12",
                BucketKind::Week,
                &m.dims()[..2],
            )));
        }
    }
    out
}

/// tally's own answer as `tally metric --format csv` writes it.
fn tally_csv(w: &World, r: &Request, shape: &Shape) -> String {
    let mut out = tally_metrics::ask(&w.lake.snapshot().unwrap(), &w.sites, r, shape)
        .unwrap_or_else(|e| panic!("{}: {e}", r.metric.name()));
    let mut bytes = Vec::new();
    tally_report::tables::write_to(
        &mut out.frame,
        tally_report::tables::TableFormat::Csv,
        &mut bytes,
    )
    .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn describe(w: &World, r: &Request, shape: &Shape) -> String {
    format!(
        "{} {} {}..{} every {} by {:?}{}",
        w.name,
        r.metric.name(),
        r.from,
        r.to,
        r.every.as_str(),
        r.by.iter().map(|d| d.column()).collect::<Vec<_>>(),
        if *shape == Shape::default() {
            String::new()
        } else {
            format!(" {shape:?}")
        }
    )
}

/// Cell by cell: the same header and rows; numbers within 1e-9 relative.
pub fn same_table(ours: &str, theirs: &str) -> Result<(), String> {
    let read = |s: &str| -> Vec<Vec<String>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(s.as_bytes());
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let (a, b) = (read(ours), read(theirs));
    if a.first() != b.first() {
        return Err(format!("columns {:?} against {:?}", a.first(), b.first()));
    }
    if a.len() != b.len() {
        return Err(format!(
            "{} rows against {}",
            a.len() - 1,
            b.len().saturating_sub(1)
        ));
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate().skip(1) {
        for (j, (u, v)) in x.iter().zip(y).enumerate() {
            let same = match (u.parse::<f64>(), v.parse::<f64>()) {
                (Ok(p), Ok(q)) => p == q || (p - q).abs() <= 1e-9 * p.abs().max(q.abs()),
                _ => u == v,
            };
            if !same {
                return Err(format!(
                    "row {i}, column {}: tally {u:?}, SQL {v:?} (row {x:?})",
                    a[0][j]
                ));
            }
        }
    }
    Ok(())
}

/// Writes each request's SQL and runs them all on one engine; returns its CSVs (or the
/// engine's error, per statement).
fn run_engine(py: &Path, d: Dialect, work: &Path, jobs: &[Job<'_>]) -> Vec<Result<String, String>> {
    std::fs::create_dir_all(work).unwrap();
    let mut manifest = String::new();
    for (i, (_, _, _, sql)) in jobs.iter().enumerate() {
        let file = work.join(format!("{i}.sql"));
        std::fs::write(&file, format!("{}{sql};\n", d.preamble())).unwrap();
        manifest.push_str(&format!(
            "{}\t{}\n",
            file.display(),
            work.join(format!("{i}.csv")).display()
        ));
    }
    let list = work.join("manifest.tsv");
    std::fs::write(&list, manifest).unwrap();
    let out = std::process::Command::new(py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/run.py"))
        .arg(d.name())
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        d.name(),
        text(&out.stderr)
    );
    (0..jobs.len())
        .map(|i| {
            let csv = work.join(format!("{i}.csv"));
            match std::fs::read_to_string(work.join(format!("{i}.csv.err"))) {
                Ok(err) => Err(format!("{} ({})", err, csv.with_extension("sql").display())),
                Err(_) => Ok(std::fs::read_to_string(&csv).unwrap()),
            }
        })
        .collect()
}

/// One statement to run: the lake, the request, its shape, the SQL.
type Job<'a> = (&'a World, Request, Shape, String);

fn check_engine(d: Dialect, full: bool) {
    let Some(py) = python(d == Dialect::Spark) else {
        return;
    };
    let lib = library();
    let purged = purged(&lib);
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for w in [&lib, &purged] {
        for (r, shape) in requests(full) {
            // A purged lake differs only in distinct counts and what reads keys.
            if w.name == "purged"
                && !matches!(r.metric, Metric::DistinctUsers | Metric::WifiDevices)
            {
                continue;
            }
            let root = w.lake.root().display().to_string();
            let sql = tally_metrics::sql::statement(
                &w.lake.snapshot().unwrap(),
                &w.sites,
                &r,
                &shape,
                d,
                &root,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", describe(w, &r, &shape)));
            jobs.push((w, r, shape, sql));
        }
    }
    let work = lib.dir.path().join(format!("sql-{}", d.name()));
    let results = run_engine(&py, d, &work, &jobs);
    let mut failures = Vec::new();
    for ((w, r, shape, _), theirs) in jobs.iter().zip(&results) {
        let compared = theirs
            .as_ref()
            .map_err(|e| format!("the engine failed: {e}"))
            .and_then(|t| same_table(&tally_csv(w, r, shape), t));
        if let Err(e) = compared {
            failures.push(format!("{}: {e}", describe(w, r, shape)));
        }
    }
    let n = jobs.len();
    drop(jobs);
    if !failures.is_empty() {
        eprintln!("the SQL is in {}", work.display());
        keep_if_asked(lib, purged);
        panic!(
            "{} of {} answers differ on {}:\n{}",
            failures.len(),
            n,
            d.name(),
            failures.join("\n")
        );
    }
    eprintln!("{}: {n} answers equal, cell by cell", d.name());
    keep_if_asked(lib, purged);
}

/// With `TALLY_SQL_KEEP` set, the lakes and the SQL stay on disk for a look.
fn keep_if_asked(lib: World, purged: World) {
    if std::env::var_os("TALLY_SQL_KEEP").is_some() {
        eprintln!(
            "kept {} and {}",
            lib.dir.path().display(),
            purged.dir.path().display()
        );
        std::mem::forget(lib);
        std::mem::forget(purged);
    }
}

#[test]
fn duckdb_answers_every_spec_as_tally_does() {
    check_engine(Dialect::DuckDb, true);
}

#[test]
fn spark_answers_every_spec_as_tally_does() {
    check_engine(Dialect::Spark, false);
}

/// Small edits of one declaration, each of which changes what it means: the filter
/// turned round (or, with none, every row left out), and the measure changed (rows or
/// sums counted twice, the share of the other rows, another quantile), and a rate no
/// longer divided.
fn plants(spec: &EventSpec) -> Vec<(&'static str, EventSpec)> {
    let mut out = Vec::new();
    let filter = match &spec.filter {
        Some(p) => Pred::Not(Box::new(p.clone())),
        None => Pred::IsNull(spec.time),
    };
    out.push((
        "filter turned round",
        EventSpec {
            filter: Some(filter),
            ..spec.clone()
        },
    ));
    let measure = match &spec.measure {
        Measure::Count => Measure::Sum(Val::Num(2.0)),
        // (Distinct devices -> rows would not show on a lake where each device has one
        // row a month, as Meraki's client lists have.)
        Measure::Distinct(_) => Measure::Sum(Val::Num(2.0)),
        Measure::Sum(v) => Measure::Sum(Val::Mul(Box::new(v.clone()), Box::new(Val::Num(2.0)))),
        Measure::Share(p) => Measure::Share(Pred::Not(Box::new(p.clone()))),
        Measure::WeightedShare(p, w) => {
            Measure::WeightedShare(Pred::Not(Box::new(p.clone())), w.clone())
        }
        Measure::Quantile(v, q) => {
            Measure::Quantile(v.clone(), if *q >= 0.5 { q - 0.4 } else { q + 0.4 })
        }
    };
    out.push((
        "measure changed",
        EventSpec {
            measure,
            ..spec.clone()
        },
    ));
    if spec.per.is_some() {
        out.push((
            "rate not divided",
            EventSpec {
                per: None,
                ..spec.clone()
            },
        ));
    }
    out
}

/// The cross-check notices a changed definition: each small edit of each event metric's
/// declaration, written as SQL and run on DuckDB, must answer differently from tally.
#[test]
fn a_planted_difference_in_a_definition_is_caught() {
    let Some(py) = python(false) else {
        return;
    };
    let lib = library();
    let root = lib.lake.root().display().to_string();
    let snapshot = lib.lake.snapshot().unwrap();
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let mut edits = Vec::new();
    for &m in Metric::ALL {
        if m.engine() != tally_metrics::Engine::Events {
            continue;
        }
        let r = req(m, "2026-02-01", "2026-12-01", BucketKind::Month, &[]);
        for (edit, spec) in plants(&event_spec(m, &lib.sites)) {
            let sql = tally_metrics::sql::statement_with_spec(
                &snapshot,
                &lib.sites,
                &r,
                &spec,
                Dialect::DuckDb,
                &root,
            )
            .unwrap();
            edits.push(edit);
            jobs.push((&lib, r.clone(), Shape::default(), sql));
        }
    }
    let work = lib.dir.path().join("planted");
    let results = run_engine(&py, Dialect::DuckDb, &work, &jobs);
    let mut unnoticed = Vec::new();
    for ((edit, (w, r, shape, _)), theirs) in edits.iter().zip(&jobs).zip(&results) {
        let theirs = theirs
            .as_ref()
            .unwrap_or_else(|e| panic!("{} with the {edit}: {e}", r.metric.name()));
        if same_table(&tally_csv(w, r, shape), theirs).is_ok() {
            unnoticed.push(format!("{} with the {edit}", r.metric.name()));
        }
    }
    assert!(
        unnoticed.is_empty(),
        "{} of {} edits answer as tally does (the lake cannot tell them apart):\n{}",
        unnoticed.len(),
        jobs.len(),
        unnoticed.join("\n")
    );
    eprintln!("duckdb: all {} edited definitions noticed", jobs.len());
}

/// `tally sql` prints a script that DuckDB runs as printed, and its table is what
/// `tally metric --format csv` prints with the same flags; a metric without a SQL form
/// is refused with the reason.
#[test]
fn tally_sql_output_runs_in_duckdb_as_printed() {
    let Some(py) = python(false) else {
        return;
    };
    let lib = library();
    let lake = lib.lake.root().to_str().unwrap();
    let sites = lib.dir.path().join("inbox0/sites.toml");
    let sites = sites.to_str().unwrap();
    let work = lib.dir.path().join("cli");
    std::fs::create_dir_all(&work).unwrap();
    let mut manifest = String::new();
    let mut expected = Vec::new();
    let asks: [&[&str]; 3] = [
        &["sessions", "--every", "week", "--by", "site"],
        &["occupancy", "--every", "month", "--yoy"],
        &["circulation", "--every", "day", "--top", "2"],
    ];
    for (i, ask) in asks.iter().enumerate() {
        let period = [
            "--lake",
            lake,
            "--sites",
            sites,
            "--from",
            "2026-02-26",
            "--to",
            "2026-03-12",
        ];
        let file = work.join(format!("{i}.sql"));
        let mut args = vec!["sql"];
        args.extend_from_slice(ask);
        args.extend_from_slice(&period);
        args.extend_from_slice(&["-o", file.to_str().unwrap()]);
        let out = run(&args);
        assert!(
            out.status.success(),
            "tally sql {ask:?}: {}",
            text(&out.stderr)
        );
        let mut args = vec!["metric"];
        args.extend_from_slice(ask);
        args.extend_from_slice(&period);
        args.extend_from_slice(&["--format", "csv"]);
        let out = run(&args);
        assert!(
            out.status.success(),
            "tally metric {ask:?}: {}",
            text(&out.stderr)
        );
        expected.push(text(&out.stdout));
        manifest.push_str(&format!(
            "{}\t{}\n",
            file.display(),
            work.join(format!("{i}.csv")).display()
        ));
    }
    std::fs::write(work.join("manifest.tsv"), manifest).unwrap();
    let out = std::process::Command::new(&py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/run.py"))
        .arg("duckdb")
        .arg(work.join("manifest.tsv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (i, (ask, ours)) in asks.iter().zip(&expected).enumerate() {
        let theirs = std::fs::read_to_string(work.join(format!("{i}.csv"))).unwrap_or_else(|_| {
            panic!(
                "{ask:?}: {}",
                std::fs::read_to_string(work.join(format!("{i}.csv.err"))).unwrap_or_default()
            )
        });
        same_table(ours, &theirs).unwrap_or_else(|e| panic!("{ask:?}: {e}"));
    }
    let out = run(&["sql", "replacement_plan", "--lake", lake, "--sites", sites]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("an optimisation"),
        "{}",
        text(&out.stderr)
    );
}

/// The venv's `spark-sql`, with the venv first on PATH (it finds Spark in the venv's
/// pyspark), when Spark is to run.
fn spark_sql() -> Option<(PathBuf, std::ffi::OsString)> {
    let py = python(true)?;
    let bin = py.parent().unwrap().to_path_buf();
    let mut path = std::ffi::OsString::from(bin.as_os_str());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    Some((bin.join("spark-sql"), path))
}

/// Runs `spark-sql -f job` (local mode, in `dir`) as a user would; panics with its
/// stderr when it fails.
fn spark_sql_f(spark_sql: &Path, path: &std::ffi::OsStr, dir: &Path, job: &Path) {
    let ran = std::process::Command::new(spark_sql)
        .env("PATH", path)
        .current_dir(dir)
        .args([
            "--master",
            "local[2]",
            "--driver-memory",
            "4g",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.catalogImplementation=in-memory",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "-S",
            "-f",
        ])
        .arg(job)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "spark-sql -f {}: {}",
        job.display(),
        text(&ran.stderr)
    );
}

/// Every CSV under a run's folder, by path relative to it.
fn csv_files(dir: &Path) -> std::collections::BTreeMap<String, String> {
    walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// A pipeline's job bundle runs with `spark-sql -f`, unchanged; `tally run --results`
/// then renders the pipeline's reports, metric tables and charts from Spark's answers,
/// and every table equals a local run's.
#[test]
fn a_pipelines_spark_job_renders_the_same_reports() {
    let Some((spark_sql, path)) = spark_sql() else {
        return;
    };
    let lib = library();
    let dir = lib.dir.path();
    let pipeline = dir.join("job.toml");
    std::fs::write(
        &pipeline,
        format!(
            r#"[pipeline]
name = "job"
lake = "{lake}"
sites = "{sites}"
out = "{out}"
period = "2026-02-26..2026-11-04"

[[reports]]
kind = "usage"
formats = ["html", "csv"]

[[reports]]
kind = "budget"
formats = ["html", "csv"]

[[reports]]
kind = "annual"
formats = ["html", "csv"]

[[metrics]]
name = "sessions"
every = "week"
by = ["site"]
chart = {{ kind = "stacked" }}

[[metrics]]
name = "circulation"
every = "all"
by = ["site"]
yoy = true

[[metrics]]
name = "heatmap"

[[metrics]]
name = "wifi_devices"
every = "month"
top = 2
complete_only = true
file = "wifi-top"
"#,
            lake = lib.lake.root().display(),
            sites = dir.join("inbox0/sites.toml").display(),
            out = dir.join("out").display(),
        ),
    )
    .unwrap();
    let p = pipeline.to_str().unwrap();
    let out = run(&["run", p]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::rename(dir.join("out"), dir.join("local")).unwrap();

    let (job, results) = (dir.join("job"), dir.join("results"));
    let out = run(&[
        "spark-job",
        "--pipeline",
        p,
        "--results",
        results.to_str().unwrap(),
        "--out",
        job.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    spark_sql_f(&spark_sql, &path, dir, &job.join("job.sql"));

    let out = run(&["run", p, "--results", results.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (local, spark) = (csv_files(&dir.join("local")), csv_files(&dir.join("out")));
    assert_eq!(
        local.keys().collect::<Vec<_>>(),
        spark.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, ours) in &local {
        same_table(ours, &spark[name]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The same pages, workbooks and charts too.
    let files = |d: &Path| -> Vec<String> {
        walk(d)
            .into_iter()
            .map(|p| p.strip_prefix(d).unwrap().display().to_string())
            .collect()
    };
    assert_eq!(files(&dir.join("local")), files(&dir.join("out")));
    eprintln!("{} tables equal after Spark", local.len());
}

/// A consortium as one Spark job over its members: `tally consortium report --spark-job`
/// writes it, `spark-sql -f` runs it, and the report rendered from its results has the
/// tables of the report computed from the members' lakes.
#[test]
fn a_consortium_runs_as_one_spark_job() {
    let Some((spark_sql, path)) = spark_sql() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run(&[
        "synth",
        "--libraries",
        "2",
        "--days",
        "35",
        "--start",
        "2026-02-20",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = d.join("consortium.toml");
    let report = |extra: &[&str]| {
        let mut args = vec![
            "consortium",
            "report",
            "--config",
            config.to_str().unwrap(),
            "--period",
            "2026-02-20..2026-03-26",
        ];
        args.extend_from_slice(extra);
        let ran = run(&args);
        assert!(ran.status.success(), "{}", text(&ran.stderr));
    };
    let (local, spark, job, results) = (
        d.join("local"),
        d.join("spark"),
        d.join("job"),
        d.join("results"),
    );
    report(&["--out", local.to_str().unwrap()]);
    report(&[
        "--spark-job",
        job.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    spark_sql_f(&spark_sql, &path, d, &job.join("job.sql"));
    report(&[
        "--out",
        spark.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    let (local, spark) = (csv_files(&d.join("local")), csv_files(&d.join("spark")));
    assert_eq!(
        local.keys().collect::<Vec<_>>(),
        spark.keys().collect::<Vec<_>>()
    );
    for (name, ours) in &local {
        same_table(ours, &spark[name]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
