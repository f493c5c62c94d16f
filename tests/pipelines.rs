//! The standing pipelines as a scheduled job runs them: every shipped file validates,
//! problems are reported all at once with their keys and lines, the nightly ingest and
//! the three reports run on a synthetic library, a re-run rewrites the same bytes, the
//! lock keeps two runs apart, and the reports' numbers are `tally metric`'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::common::*;

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_pipeline_validates() {
    let files = shipped();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for expected in [
        "demo.toml",
        "nightly-ingest.toml",
        "monthly-usage.toml",
        "budget.toml",
        "annual-report.toml",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "pipelines/{expected} is shipped"
        );
    }
    for f in files {
        let out = run(&["run", "--check", f.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(": ok ("),
            "{}",
            text(&out.stdout)
        );
    }
}

#[test]
fn every_problem_is_reported_with_its_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        format!(
            r#"[pipeline]
name = "bad"
lake = "lake"
sites = "{sites}"
out = "out/{{month}}"
period = "2026-13"

[[inputs]]
table = "sessions"
format = "envisonware"
glob = "inbox/*.csv"

[[inputs]]
table = "sessions"
format = "osticket"
glob = "inbox/*.csv"
tz = "America/Chicgo"

[[metrics]]
name = "occupancy"
by = ["site", "branch"]
every = "fortnight"

[[metrics]]
name = "occupancy_rate"

[[reports]]
kind = "quarterly"
formats = ["pdf"]
"#,
            sites = data("sites.toml").display()
        ),
    )
    .unwrap();
    let out = run(&["run", "--check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for (line, key, what) in [
        (5, "pipeline.out", "unknown placeholder {month}"),
        (6, "pipeline.period", "2026-13"),
        (
            10,
            "inputs[0].format",
            "unknown format \"envisonware\"; known: envisionware",
        ),
        (
            15,
            "inputs[1].format",
            "osticket files are work_orders rows, not sessions",
        ),
        (17, "inputs[1].tz", "unknown time zone \"America/Chicgo\""),
        (21, "metrics[0].by", "unknown dimension \"branch\""),
        (22, "metrics[0].every", "unknown bucket \"fortnight\""),
        (25, "metrics[1].name", "unknown metric \"occupancy_rate\""),
        (28, "reports[0].kind", "unknown report \"quarterly\""),
        (29, "reports[0].formats", "unknown report format \"pdf\""),
    ] {
        let want = format!("bad.toml:{line}: {key}: ");
        let hit = err.lines().find(|l| l.contains(&want));
        assert!(
            hit.is_some_and(|l| l.contains(what)),
            "expected `{want}...{what}` in:\n{err}"
        );
    }
    assert!(err.contains("10 problem(s)"), "{err}");

    // A syntax error stops at parsing, with its line and column.
    std::fs::write(&file, "[pipeline]\nname = \"x\"\nlake = \n").unwrap();
    let out = run(&["run", "--check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("line 3"),
        "{}",
        text(&out.stderr)
    );
    // An unknown key is named.
    std::fs::write(&file, "[pipeline]\nname = \"x\"\nlake = \"l\"\nsites = \"s\"\nout = \"o\"\nperiode = \"2026-10\"\n").unwrap();
    let out = run(&["run", "--check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("periode"),
        "{}",
        text(&out.stderr)
    );
}

/// A library root as the shipped pipelines expect it: data/sites.toml and
/// data/inbox/<system>/ with synthetic exports from 2025-09-01 to 2025-12-31.
fn library_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let inbox = root.path().join("data/inbox");
    let out = run(&[
        "synth",
        "--out",
        inbox.to_str().unwrap(),
        "--start",
        "2025-09-01",
        "--days",
        "122",
        "--scale",
        "0.3",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::copy(
        inbox.join("sites.toml"),
        root.path().join("data/sites.toml"),
    )
    .unwrap();
    root
}

fn run_pipeline(root: &Path, name: &str, extra: &[&str]) -> std::process::Output {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("pipelines")
        .join(name);
    let mut cmd = tally(&[
        "run",
        file.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]);
    cmd.args(extra).env("TALLY_KEY", TEST_KEY);
    cmd.output().unwrap()
}

/// Every file under `dir` with its bytes, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_string_lossy().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn csv_frame(path: &Path) -> DataFrame {
    CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(path.into()))
        .unwrap()
        .finish()
        .unwrap()
}

fn metric_frame(root: &Path, args: &[&str]) -> DataFrame {
    let lake = root.join("data/lake");
    let sites = root.join("data/sites.toml");
    let mut all = vec!["metric"];
    all.extend_from_slice(args);
    all.extend([
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let out = run(&all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap()
}

#[test]
fn the_standing_jobs_run_unattended() {
    let lib = library_root();
    let root = lib.path();

    // Nightly ingest: every export in, the planted bad rows quarantined (exit 3), a
    // manifest with the batches; a second night with nothing new adds nothing (exit 0).
    let out = run_pipeline(root, "nightly-ingest.toml", &["--log-format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    for line in text(&out.stderr).lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("a JSON log line: {e}: {line}"));
    }
    let manifest_path = root.join("reports/nightly-ingest/manifest.json");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert!(m["batches"].as_array().unwrap().len() > 20, "{m}");
    assert!(m["rows_quarantined"].as_u64().unwrap() > 0);
    let read = m["rows_read"].as_u64().unwrap();
    let parts = ["rows_accepted", "rows_quarantined", "rows_excluded"]
        .iter()
        .map(|k| m[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(read, parts, "rows read = accepted + quarantined + excluded");
    assert_eq!(m["tally_version"], env!("CARGO_PKG_VERSION"));
    let out = run_pipeline(root, "nightly-ingest.toml", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(
        m["batches"].as_array().unwrap().len(),
        0,
        "nothing new the second night"
    );

    // Monthly usage for October 2025: the report in HTML, Markdown and CSV, and the
    // pipeline's own metric tables and charts.
    let out = run_pipeline(root, "monthly-usage.toml", &["--period", "2025-10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = root.join("reports/monthly-usage/2025-10");
    for f in [
        "usage.html",
        "usage.md",
        "manifest.json",
        "charts/sessions-over-time.png",
        "charts/peak-hours.png",
        "charts/circulation-over-time.png",
        "charts/wifi-over-time.png",
        "charts/help-desk-over-time.png",
        "tables/sessions-by-branch.csv",
        "sessions-by-site-day.csv",
        "sessions-by-site-day.json",
        "sessions-by-site-day.png",
        "heatmap.png",
        "circulation-by-site-all.parquet",
        "top-collections.csv",
    ] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let html = std::fs::read_to_string(dir.join("usage.html")).unwrap();
    for id in [
        "overview",
        "sessions",
        "occupancy",
        "peak-hours",
        "capacity",
        "users",
        "circulation",
        "wifi",
        "help-desk",
        "data",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "section {id}"
        );
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    assert!(
        html.contains("@media print") && html.contains("break-before: page"),
        "prints a section a page"
    );
    let md = std::fs::read_to_string(dir.join("usage.md")).unwrap();
    assert!(
        md.contains("## Circulation")
            && md.contains("](charts/peak-hours.png)")
            && md.contains("| ---"),
        "{}",
        &md[..md.len().min(2000)]
    );

    // The report's numbers are tally metric's numbers.
    let from_report = csv_frame(&dir.join("tables/sessions-by-branch.csv"));
    let from_metric = metric_frame(
        root,
        &[
            "sessions",
            "--from",
            "2025-10-01",
            "--to",
            "2025-11-01",
            "--every",
            "day",
            "--by",
            "site",
        ],
    );
    assert!(
        from_report.equals_missing(&from_metric),
        "{from_report}\n{from_metric}"
    );
    let pipeline_table = csv_frame(&dir.join("sessions-by-site-day.csv"));
    assert!(pipeline_table.equals_missing(&from_metric));
    let yoy = ParquetReader::new(
        std::fs::File::open(dir.join("circulation-by-site-all.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let want = metric_frame(
        root,
        &[
            "circulation",
            "--from",
            "2025-10-01",
            "--to",
            "2025-11-01",
            "--every",
            "all",
            "--by",
            "site",
            "--yoy",
        ],
    );
    assert_eq!(
        yoy.column("circulation")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap(),
        want.column("circulation")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
    );
    let top = csv_frame(&dir.join("top-collections.csv"));
    assert!(top.height() <= 10 && top.height() > 0);

    // Re-running the period rewrites the same bytes (the manifest, the run's log, aside).
    let mut before = snapshot(&dir);
    let out = run_pipeline(root, "monthly-usage.toml", &["--period", "2025-10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut after = snapshot(&dir);
    before.remove("manifest.json");
    after.remove("manifest.json");
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (k, v) in &before {
        assert!(
            after[k] == *v,
            "{k} changed between two runs of the same period"
        );
    }

    // Budget: the workbook read back, numbers as numbers, equal to tally metric's.
    let out = run_pipeline(root, "budget.toml", &["--period", "2025-09-01..2025-12-31"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bdir = root.join("reports/budget/2025-09-01..2025-12-31");
    let html = std::fs::read_to_string(bdir.join("budget.html")).unwrap();
    for id in [
        "replacement",
        "projection",
        "stations",
        "cost-per-use",
        "fleet",
        "top-assets",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "budget section {id}"
        );
    }
    check_workbook(root, &bdir.join("budget.xlsx"));

    // Annual report: the survey's figures, equal to tally survey's.
    let out = run_pipeline(root, "annual-report.toml", &["--period", "fy2025"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let adir = root.join("reports/annual/fy2025");
    let from_report = csv_frame(&adir.join("tables/survey.csv"));
    let survey = run(&[
        "survey",
        "--lake",
        root.join("data/lake").to_str().unwrap(),
        "--sites",
        root.join("data/sites.toml").to_str().unwrap(),
        "--fy",
        "2025",
        "--format",
        "csv",
    ]);
    assert!(survey.status.success());
    let from_survey = CsvReader::new(std::io::Cursor::new(survey.stdout))
        .finish()
        .unwrap();
    assert!(from_report.equals_missing(&from_survey));
    let html = std::fs::read_to_string(adir.join("annual.html")).unwrap();
    for line in ["650", "651", "652", "553"] {
        assert!(html.contains(line));
    }
    screenshot(
        &root.join("reports/monthly-usage/2025-10/usage.html"),
        &root.join("usage.png"),
    );

    // A month before any data: the reports still render and say there is nothing to draw.
    for (file, period) in [
        ("monthly-usage.toml", "2024-01"),
        ("budget.toml", "fy2024"),
        ("annual-report.toml", "fy2024"),
    ] {
        let out = run_pipeline(root, file, &["--period", period]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file} {period}: {}",
            text(&out.stderr)
        );
    }
    let empty =
        std::fs::read_to_string(root.join("reports/monthly-usage/2024-01/usage.html")).unwrap();
    assert!(empty.contains("no data to draw for this period"));
}

/// Reads the budget workbook back: an About sheet, one sheet per table with a header
/// row, numbers stored as numbers, and the FY2026 replacement cost equal to tally metric's.
fn check_workbook(root: &Path, path: &Path) {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names[0], "About");
    assert!(
        names.iter().any(|n| n == "Replacement by fiscal year and"),
        "{names:?}"
    );
    let sheet = wb
        .worksheet_range("Replacement by fiscal year and")
        .unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[0], "branch");
    assert_eq!(header[2], "FY2026 cost");
    let total_row = sheet.rows().next_back().unwrap();
    assert_eq!(total_row[0].to_string(), "All branches");
    let Data::Float(total_cost) = total_row[2] else {
        panic!("cost is a number, not {:?}", total_row[2])
    };
    let want = metric_frame(
        root,
        &[
            "replacement_cost",
            "--from",
            "2026-01-01",
            "--to",
            "2027-01-01",
            "--every",
            "fy",
        ],
    );
    let want = want
        .column("replacement_cost")
        .unwrap()
        .f64()
        .unwrap()
        .get(0)
        .unwrap();
    assert!((total_cost - want).abs() < 1e-6, "{total_cost} vs {want}");
    for row in sheet.rows().skip(1) {
        for c in &row[1..] {
            assert!(
                matches!(c, Data::Float(_) | Data::Int(_) | Data::Empty),
                "a number cell: {c:?}"
            );
        }
    }
}

/// Chromium without a window, a sandbox or anything that reaches the network.
const HEADLESS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Opens the report in headless Chromium and takes a screenshot. Chromium is Debian's
/// package, installed by .ci/run (which sets TALLY_REQUIRE_CHROMIUM); elsewhere the test
/// says it skipped this step.
fn screenshot(html: &Path, png: &Path) {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(chromium) = chromium else {
        assert!(
            std::env::var_os("TALLY_REQUIRE_CHROMIUM").is_none(),
            "chromium is not installed but TALLY_REQUIRE_CHROMIUM is set"
        );
        eprintln!("chromium not installed: screenshot skipped");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(chromium)
        .args(HEADLESS)
        .args(["--hide-scrollbars", "--window-size=1280,2400"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let bytes =
        std::fs::read(png).unwrap_or_else(|e| panic!("no screenshot ({e}): {}", text(&out.stderr)));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // The PNG's width and height (IHDR) are the window's; a blank page would be tiny.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2400));
    assert!(
        bytes.len() > 50_000,
        "a rendered page, not a blank one: {} bytes",
        bytes.len()
    );

    // Printed to PDF: the print CSS starts each section on a page of its own.
    let pdf = png.with_extension("pdf");
    let out = std::process::Command::new(chromium)
        .args(HEADLESS)
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let bytes =
        std::fs::read(&pdf).unwrap_or_else(|e| panic!("no PDF ({e}): {}", text(&out.stderr)));
    let pdf_text = String::from_utf8_lossy(&bytes);
    let pages = pdf_text.matches("/Type /Page").count() - pdf_text.matches("/Type /Pages").count();
    let sections = std::fs::read_to_string(html)
        .unwrap()
        .matches("<section id=")
        .count();
    assert!(pages >= sections, "{pages} pages for {sections} sections");

    // Structure and contrast, as the browser computes them: every image has alt text
    // that names its extremes, headings do not skip a level, tables have header cells,
    // and every text is at least 4.5:1 against its background (WCAG AA).
    let check = profile.path().join("check.html");
    let wrapper = std::fs::read_to_string(data("a11y_check.html"))
        .unwrap()
        .replace("REPORT", &format!("file://{}", html.display()));
    std::fs::write(&check, wrapper).unwrap();
    let out = std::process::Command::new(chromium)
        .args(HEADLESS)
        .args([
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", check.display()))
        .output()
        .unwrap();
    let dom = text(&out.stdout);
    let json = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or_else(|| panic!("no result from the check: {}", text(&out.stderr)));
    let r: serde_json::Value = serde_json::from_str(&json.replace("&quot;", "\""))
        .unwrap_or_else(|e| panic!("{e}: {json}"));
    assert!(r["images"].as_u64().unwrap() > 0, "{r}");
    for key in [
        "no_alt",
        "alt_without_extremes",
        "low_contrast",
        "heading_skips",
    ] {
        assert_eq!(r[key], serde_json::json!([]), "{key}: {r}");
    }
    assert_eq!(r["tables_without_headers"], 0, "{r}");
    assert_eq!(r["lang"], "en", "{r}");
}

#[test]
fn two_runs_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(
        &file,
        format!("[pipeline]\nname = \"p\"\nlake = \"lake\"\nsites = \"{}\"\nout = \"out\"\n\n[[inputs]]\ntable = \"sessions\"\nglob = \"inbox/*.csv\"\n", data("sites.toml").display()),
    )
    .unwrap();
    let held = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lake.join("_run.lock"))
        .unwrap();
    held.try_lock().unwrap();
    let mut cmd = tally(&["run", file.to_str().unwrap()]);
    let out = cmd.env("TALLY_KEY", TEST_KEY).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("another tally run holds"),
        "{}",
        text(&out.stderr)
    );
    drop(held);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn shell_completions() {
    for (shell, marker) in [
        ("bash", "_tally()"),
        ("zsh", "#compdef tally"),
        ("fish", "complete -c tally"),
    ] {
        let out = run(&["completions", shell]);
        assert!(out.status.success());
        let s = text(&out.stdout);
        assert!(s.contains(marker) && s.contains("run"), "{shell}");
    }
}

#[test]
fn a_file_that_fails_fails_the_run_and_the_others_still_land() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::copy(data("envisionware_strad_bci.csv"), inbox.join("a.csv")).unwrap();
    std::fs::write(inbox.join("b.csv"), "this is not an export\n1,2,3\n").unwrap();
    let file = dir.path().join("p.toml");
    let head = format!(
        "[pipeline]\nname = \"p\"\nlake = \"lake\"\nsites = \"{}\"\nout = \"out\"\n",
        data("sites.toml").display()
    );
    std::fs::write(
        &file,
        format!("{head}\n[[inputs]]\ntable = \"sessions\"\nglob = \"inbox/*.csv\"\n"),
    )
    .unwrap();
    let out = tally(&["run", file.to_str().unwrap()])
        .env("TALLY_KEY", TEST_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("b.csv"),
        "the failed file is named: {}",
        text(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["files_failed"].as_array().unwrap().len(), 1);
    assert_eq!(m["batches"].as_array().unwrap().len(), 1, "a.csv landed");

    // A required input with no file is a configuration error (exit 2), before anything runs.
    std::fs::write(
        &file,
        format!(
            "{head}\n[[inputs]]\ntable = \"sessions\"\nglob = \"nowhere/*.csv\"\nrequired = true\n"
        ),
    )
    .unwrap();
    let out = tally(&["run", file.to_str().unwrap()])
        .env("TALLY_KEY", TEST_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no file matches"));

    // Without a key, ingesting patrons is refused (exit 2) and says how to give one. (A
    // file already in the lake needs no key: nothing of it is read.)
    let fresh = std::fs::read_to_string(dir.path().join("inbox/a.csv")).unwrap() + "\n";
    std::fs::write(dir.path().join("inbox/c.csv"), fresh).unwrap();
    std::fs::write(
        &file,
        format!("{head}\n[[inputs]]\ntable = \"sessions\"\nglob = \"inbox/c.csv\"\n"),
    )
    .unwrap();
    let out = run(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("TALLY_KEY"));
}
