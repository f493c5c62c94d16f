//! Retention (`tally purge`, `[retention]` in sites.toml): keys cleared before a date,
//! distinct figures of the purged periods unchanged, re-ingest adds nothing, a kill
//! leaves the lake before or after, quarantine files deleted by age.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use tally_model::Sites;

use crate::common::*;

/// A synthetic library (75 days from 2024-10-01: sessions, circulation, Wi-Fi, ...)
/// ingested into `dir/lake`: (inbox, lake).
fn library(dir: &Path) -> (PathBuf, PathBuf) {
    let inbox = dir.join("inbox");
    let out = run(&[
        "synth",
        "--out",
        inbox.to_str().unwrap(),
        "--days",
        "75",
        "--seed",
        "11",
        "--scale",
        "0.3",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lake = dir.join("lake");
    // Meraki lists clients per network: one call per branch folder, with --site.
    let (meraki, others): (Vec<PathBuf>, Vec<PathBuf>) = export_files(&inbox)
        .into_iter()
        .partition(|p| p.to_string_lossy().contains("/meraki/"));
    let mut calls: Vec<(Option<String>, Vec<PathBuf>)> = vec![(None, others)];
    for f in meraki {
        let site = f
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        match calls
            .iter_mut()
            .find(|(s, _)| s.as_deref() == Some(site.as_str()))
        {
            Some((_, files)) => files.push(f),
            None => calls.push((Some(site), vec![f])),
        }
    }
    for (site, files) in calls {
        let mut c = tally(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            inbox.join("sites.toml").to_str().unwrap(),
        ]);
        if let Some(s) = &site {
            c.args(["--site", s]);
        }
        c.env("TALLY_KEY", TEST_KEY).args(files);
        let out = c.output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0) | Some(3)),
            "{}",
            text(&out.stderr)
        );
    }
    (inbox, lake)
}

/// Every export synth wrote (not its sites.toml or the survey file's PROVENANCE.txt), sorted.
fn export_files(inbox: &Path) -> Vec<PathBuf> {
    walk(inbox)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "sites.toml" && n != "PROVENANCE.txt")
        })
        .collect()
}

fn purge(lake: &Path, sites: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "purge",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
    ];
    args.extend(extra);
    run(&args)
}

/// The distinct figures a board sees, as CSV, for every kept bucket shape.
fn distinct_figures(lake: &Path, sites: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for metric in ["distinct_users", "wifi_devices"] {
        for every in ["day", "week", "month", "quarter", "fy"] {
            for by in ["site", ""] {
                let mut args = vec![
                    "metric",
                    metric,
                    "--lake",
                    lake.to_str().unwrap(),
                    "--sites",
                    sites.to_str().unwrap(),
                    "--from",
                    "2024-10-01",
                    "--to",
                    "2024-12-15",
                    "--every",
                    every,
                    "--format",
                    "csv",
                ];
                if !by.is_empty() {
                    args.extend(["--by", by]);
                }
                let o = run(&args);
                assert!(
                    o.status.success(),
                    "{metric} {every} {by}: {}",
                    text(&o.stderr)
                );
                out.insert(
                    format!("{metric} --every {every} --by {by}"),
                    text(&o.stdout),
                );
            }
        }
    }
    out
}

/// Rows of `table` whose `time` is before `before_us`, and how many of them still hold a
/// key in one of `keys`, read from the Parquet files themselves.
fn keyed_before(
    lake: &Path,
    table: &str,
    time: &str,
    keys: &[&str],
    before_us: i64,
) -> (usize, usize) {
    let files: Vec<PathBuf> = walk(&lake.join(table))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    let (mut rows, mut keyed) = (0, 0);
    for f in files {
        let df = ParquetReader::new(std::fs::File::open(&f).unwrap())
            .finish()
            .unwrap();
        let t = df.column(time).unwrap().cast(&DataType::Int64).unwrap();
        let t = t.i64().unwrap();
        let columns: Vec<Int64Chunked> = keys
            .iter()
            .map(|k| df.column(k).unwrap().i64().unwrap().clone())
            .collect();
        for i in 0..df.height() {
            if t.get(i).is_some_and(|t| t < before_us) {
                rows += 1;
                if columns.iter().any(|c| c.get(i).is_some()) {
                    keyed += 1;
                }
            }
        }
    }
    (rows, keyed)
}

const BEFORE: &str = "2024-11-13";

fn before_us(sites: &Path) -> i64 {
    let sites = Sites::load(sites).unwrap();
    tally_metrics::purge_point(&sites, date(BEFORE)).before_us
}

fn keyed_counts(lake: &Path, before_us: i64) -> [(usize, usize); 4] {
    [
        keyed_before(lake, "sessions", "start", &["patron_key"], before_us),
        keyed_before(
            lake,
            "circulation",
            "time",
            &["patron_key", "item_key"],
            before_us,
        ),
        keyed_before(lake, "wifi", "start", &["device_key"], before_us),
        keyed_before(lake, "prints", "time", &["patron_key"], before_us),
    ]
}

#[test]
fn a_purge_clears_keys_before_the_date_and_keeps_every_distinct_figure() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, lake) = library(dir.path());
    let sites = inbox.join("sites.toml");
    let cut = before_us(&sites);
    let figures = distinct_figures(&lake, &sites);
    let counts = keyed_counts(&lake, cut);
    for (rows, keyed) in counts {
        assert!(
            rows > 0 && keyed > 0,
            "rows to purge in every table: {counts:?}"
        );
    }

    // A dry run says what it would do and writes nothing.
    let files = file_hashes(&lake);
    let out = purge(&lake, &sites, &["--before", BEFORE, "--dry-run", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected_cleared: usize = counts.iter().map(|(_, k)| k).sum();
    assert_eq!(report["rows_cleared"], expected_cleared as u64);
    assert_eq!(report["dry_run"], true);
    assert_eq!(file_hashes(&lake), files, "a dry run leaves every byte");

    let out = purge(&lake, &sites, &["--before", BEFORE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = keyed_counts(&lake, cut);
    for (table, (b, a)) in ["sessions", "circulation", "wifi", "prints"]
        .iter()
        .zip(counts.iter().zip(after))
    {
        assert_eq!(a.0, b.0, "{table}: every row is kept");
        assert_eq!(a.1, 0, "{table}: no row before {BEFORE} keeps a key");
    }
    // Rows after the date keep theirs.
    let (all, keyed_all) = keyed_before(&lake, "sessions", "start", &["patron_key"], i64::MAX);
    assert!(keyed_all > 0 && keyed_all < all);

    let now = distinct_figures(&lake, &sites);
    for (what, before) in &figures {
        assert_eq!(&now[what], before, "{what}: the same bytes after the purge");
    }
    let out = run(&["lake", "check", "--lake", lake.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // The same exports again, as one new file per format (an overlapping export), add
    // nothing: the purged rows were re-keyed as ingest keys rows of a purged period.
    let stored = |lake: &Path| {
        let [(s, _), (c, _), (w, _), _] = keyed_counts(lake, i64::MAX);
        (s, c, w)
    };
    let rows = stored(&lake);
    let ew: Vec<PathBuf> = export_files(&inbox)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("envisionware"))
        .collect();
    let mut joined = String::new();
    for (i, f) in ew.iter().enumerate() {
        let t = std::fs::read_to_string(f).unwrap();
        let mut lines = t.lines();
        let header = lines.next().unwrap();
        if i == 0 {
            joined.push_str(header);
            joined.push('\n');
        }
        for l in lines {
            joined.push_str(l);
            joined.push('\n');
        }
    }
    let again = dir.path().join("envisionware-all.csv");
    std::fs::write(&again, &joined).unwrap();
    let (code, json, err) = ingest_with_sites(&lake, &sites, &again);
    assert!(matches!(code, 0 | 3), "{err}");
    let f = &json[0];
    assert_eq!(
        f["rows_accepted"], 0,
        "every row is already in the lake: {f}"
    );
    assert!(reason_rows(f, "in_lake", "") > 10_000, "{f}");
    assert_eq!(stored(&lake), rows);
    assert_eq!(distinct_figures(&lake, &sites), figures);

    // A late file for the purged period is stored as the purge left the others: without
    // keys.
    let (purged_rows, _) = keyed_before(&lake, "sessions", "start", &["patron_key"], cut);
    let late = dir.path().join("late.csv");
    let site = {
        let s = Sites::load(&sites).unwrap();
        s.sites[0].code.clone()
    };
    std::fs::write(
        &late,
        envisionware_csv(&[(&site, "LATE-PC01", "2024-11-05 10:00:00", 30)]),
    )
    .unwrap();
    let (code, json, err) = ingest_with_sites(&lake, &sites, &late);
    assert_eq!(code, 0, "{err} {json}");
    assert_eq!(json[0]["rows_accepted"], 1);
    let s = keyed_before(&lake, "sessions", "start", &["patron_key"], cut);
    assert_eq!(
        s,
        (purged_rows + 1, 0),
        "the late row is stored, without its key"
    );

    // A second purge at an earlier date changes nothing.
    let files = file_hashes(&lake);
    let out = purge(&lake, &sites, &["--before", "2024-11-01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("already cleared"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(file_hashes(&lake), files);
}

#[test]
fn buckets_the_purge_did_not_keep_are_left_empty_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, lake) = library(dir.path());
    let sites = inbox.join("sites.toml");
    let out = purge(&lake, &sites, &["--before", BEFORE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&[
        "metric",
        "distinct_users",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
        "--from",
        "2024-11-11",
        "--to",
        "2024-11-15",
        "--every",
        "hour",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("purged") && err.contains("docs/privacy.md"),
        "{err}"
    );
    let df = CsvReadOptions::default()
        .into_reader_with_file_handle(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap();
    let bucket = df.column("bucket").unwrap().str().unwrap().clone();
    let value = df
        .column("distinct_users")
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let value = value.f64().unwrap().clone();
    let mut empty_before = 0;
    let mut counted_after = 0;
    for (b, v) in bucket.iter().zip(value.iter()) {
        let b = b.unwrap();
        if b < "2024-11-13" {
            assert!(v.is_none(), "{b}: a purged hour is empty, not {v:?}");
            empty_before += 1;
        } else if v.is_some_and(|v| v > 0.0) {
            counted_after += 1;
        }
    }
    assert!(empty_before > 0 && counted_after > 0, "{df}");
}

#[test]
fn a_purge_killed_at_any_moment_leaves_the_lake_before_or_after() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, clean) = library(dir.path());
    let sites = inbox.join("sites.toml");
    let original = dir.path().join("original");
    copy_dir(&clean, &original);
    let started = Instant::now();
    let out = purge(&clean, &sites, &["--before", BEFORE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let full = started.elapsed();
    let expected = distinct_figures(&clean, &sites);
    let cut = before_us(&sites);
    let points = 8;
    let mut interrupted = 0;
    for k in 0..points {
        let lake = dir.path().join(format!("kill{k}"));
        copy_dir(&original, &lake);
        let delay = full.mul_f64(k as f64 / points as f64 * 1.2);
        let args = [
            "purge",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            sites.to_str().unwrap(),
            "--before",
            BEFORE,
        ];
        if kill_after(&args, delay) {
            interrupted += 1;
        }
        let out = run(&["lake", "check", "--lake", lake.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "kill point {k}: {}",
            text(&out.stdout)
        );
        // Purging again finishes or redoes it; the figures are those of the clean run.
        let out = purge(&lake, &sites, &["--before", BEFORE]);
        assert!(
            out.status.success(),
            "kill point {k}: {}",
            text(&out.stderr)
        );
        assert!(
            keyed_counts(&lake, cut)
                .iter()
                .all(|(_, keyed)| *keyed == 0),
            "kill point {k}"
        );
        assert_eq!(distinct_figures(&lake, &sites), expected, "kill point {k}");
        let out = run(&["lake", "check", "--lake", lake.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "kill point {k}: {}",
            text(&out.stdout)
        );
    }
    assert!(
        interrupted >= points / 2,
        "most kills landed mid-purge ({interrupted} of {points}; it took {full:?})"
    );
}

#[test]
fn old_quarantine_files_are_deleted_and_the_ledger_says_when() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        envisionware_csv(&[
            ("T1", "PC01", "2026-03-02 10:00:00", 30),
            ("T1", "PC02", "not a time", 30),
        ]),
    )
    .unwrap();
    let key = key_file(dir.path());
    let (code, json, err) = ingest_cli(&lake, &key, &[], &[&bad]);
    assert_eq!(code, 3, "{err} {json}");
    let ledger_quarantine = || -> Vec<serde_json::Value> {
        std::fs::read_dir(lake.join("_ledger"))
            .unwrap()
            .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
            .collect()
    };
    let quarantine_files = || std::fs::read_dir(lake.join("_quarantine")).map_or(0, |d| d.count());
    assert_eq!(quarantine_files(), 1);
    let today = chrono::Local::now().date_naive();
    let sites = data("sites.toml");
    let args = |t: chrono::NaiveDate| {
        vec![
            "--quarantine-days".to_string(),
            "30".to_string(),
            "--today".to_string(),
            t.to_string(),
        ]
    };
    // Younger than 30 days: kept.
    let a = args(today);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = purge(&lake, &sites, &a);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(quarantine_files(), 1);
    // 31 days later: deleted, and the ledger entry keeps its counts and says when.
    let a = args(today + chrono::Days::new(31));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = purge(&lake, &sites, &[&a[..], &["--dry-run"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(quarantine_files(), 1, "a dry run deletes nothing");
    let out = purge(&lake, &sites, &a);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("delete 1 quarantine files"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(quarantine_files(), 0);
    let entries = ledger_quarantine();
    assert_eq!(entries.len(), 1);
    assert!(entries[0]["quarantine"].is_null());
    assert!(entries[0]["quarantine_deleted"].is_string());
    assert_eq!(entries[0]["rows_quarantined"], 1);
    let out = run(&["lake", "check", "--lake", lake.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn tally_run_purges_by_the_retention_of_sites_toml() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let inbox = root.join("data/inbox");
    let out = run(&[
        "synth",
        "--out",
        inbox.to_str().unwrap(),
        "--start",
        "2025-09-01",
        "--days",
        "90",
        "--scale",
        "0.2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut sites = std::fs::read_to_string(inbox.join("sites.toml")).unwrap();
    sites.push_str("\n[retention]\npatron_months = 2\nquarantine_days = 365\n");
    std::fs::write(root.join("data/sites.toml"), &sites).unwrap();
    let pipeline = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/nightly-ingest.toml");
    let mut c = tally(&[
        "run",
        pipeline.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
        "--today",
        "2026-01-20",
    ]);
    let out = c.env("TALLY_KEY", TEST_KEY).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        text(&out.stderr)
    );
    // Two whole months before January 2026: keys cleared before 2025-11-01.
    let lake = root.join("data/lake");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lake.join("_lake.json")).unwrap()).unwrap();
    assert_eq!(meta["purged"]["before"], "2025-11-01");
    let cut = tally_metrics::purge_point(
        &Sites::load(&root.join("data/sites.toml")).unwrap(),
        date("2025-11-01"),
    )
    .before_us;
    let (rows, keyed) = keyed_before(&lake, "sessions", "start", &["patron_key"], cut);
    assert!(rows > 0 && keyed == 0, "{rows} rows, {keyed} keyed");
    let (all, keyed) = keyed_before(&lake, "sessions", "start", &["patron_key"], i64::MAX);
    assert!(keyed > 0 && keyed < all);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("reports/nightly-ingest/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["purge"]["before"], "2025-11-01");
}

/// `tally ingest --json` of one file with these sites and the test key.
fn ingest_with_sites(lake: &Path, sites: &Path, file: &Path) -> (i32, serde_json::Value, String) {
    let out = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
        "--json",
        file.to_str().unwrap(),
    ])
    .env("TALLY_KEY", TEST_KEY)
    .output()
    .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, text(&out.stderr))
}
