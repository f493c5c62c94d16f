//! The `tally` binary, run as a scheduled job or a specialist would run it.

use std::path::Path;

use polars::prelude::*;

use crate::common::*;

fn ingest_json(lake: &Path, key: &str, files: &[&Path]) -> (i32, serde_json::Value, String) {
    ingest_cli(lake, key, &[], files)
}

fn lake_files(lake: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![lake.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "_lock" {
                out.push((
                    p.strip_prefix(lake).unwrap().display().to_string(),
                    std::fs::metadata(&p).unwrap().len(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn demo_writes_a_self_contained_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "demo",
        "--days",
        "45",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = text(&out.stdout).trim().to_string();
    assert!(
        path.ends_with("report.html"),
        "prints the report's path: {path}"
    );
    let html = std::fs::read_to_string(&path).unwrap();
    for section in [
        "id=\"overview\"",
        "id=\"sessions\"",
        "id=\"occupancy\"",
        "id=\"peak-hours\"",
        "id=\"capacity\"",
        "id=\"users\"",
        "id=\"circulation\"",
        "id=\"wifi\"",
        "id=\"help-desk\"",
        "id=\"data\"",
    ] {
        assert!(html.contains(section), "section {section} missing");
    }
    assert!(html.contains("How these are counted"));
    assert!(
        html.matches("data:image/png;base64,").count() >= 7,
        "charts are inline"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external URLs"
    );
    for chart in [
        "sessions-by-branch",
        "sessions-over-time",
        "occupancy-over-time",
        "peak-hours",
        "time-at-capacity",
    ] {
        let png = dir.path().join("charts").join(format!("{chart}.png"));
        assert!(
            std::fs::read(&png).unwrap().starts_with(b"\x89PNG"),
            "{chart}.png"
        );
    }
    // The report's overview numbers are `tally metric` numbers.
    let lake = dir.path().join("lake");
    let sites = dir.path().join("inbox/sites.toml");
    let m = run(&[
        "metric",
        "sessions",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
        "--every",
        "all",
        "--by",
        "site",
        "--format",
        "csv",
    ]);
    assert!(m.status.success(), "{}", text(&m.stderr));
    let from_metric = CsvReader::new(std::io::Cursor::new(m.stdout))
        .finish()
        .unwrap();
    let overview = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(dir.path().join("tables/overview-by-branch.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let a = from_metric.select(["site", "sessions"]).unwrap();
    let b = overview.select(["site", "sessions"]).unwrap();
    assert_frame_eq(&a, &b);
    // The demo also writes the budget (with its workbook) and the annual report.
    for f in [
        "budget.html",
        "budget.xlsx",
        "annual.html",
        "report.md",
        "manifest.json",
        "tables/survey.csv",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
}

#[test]
fn ingest_a_real_format_file_with_quarantine_and_exclusions() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    let (code, json, stderr) = ingest_json(&lake, &key, &[&data("envisionware_strad_bci.csv")]);
    assert_eq!(code, 3, "exit 3: finished with quarantined rows\n{stderr}");
    let f = &json[0];
    assert_eq!(f["status"], "ingested");
    assert_eq!(f["format"], "envisionware");
    assert_eq!(f["detected"], true);
    assert_eq!(f["rows_read"], 7);
    assert_eq!(f["rows_accepted"], 5);
    assert_eq!(f["rows_quarantined"], 1);
    assert_eq!(f["rows_excluded"], 1);
    assert_eq!(f["excluded"]["no_use"], 1);
    assert_eq!(reason_rows(f, "no_use", "0 minutes"), 1);
    assert_eq!(f["quarantined"]["bad_number"], 1);
    assert_eq!(reason_rows(f, "bad_number", "pcrMinutesUsed"), 1);
    assert_eq!(f["unknown_sites"], serde_json::json!(["BKM"]));
    // The quarantine file names file, line, column and reason, with the card number masked.
    let batch = f["batch"].as_str().unwrap();
    let q = std::fs::read_to_string(lake.join(format!("_quarantine/{batch}.csv"))).unwrap();
    assert!(
        q.contains(",7,pcrMinutesUsed,bad_number,\"minutes out of range: expected 0..=1440: got \"\"-3\"\"\""),
        "{q}"
    );
    // The card number is masked (its shape kept), the safe columns are as written.
    assert!(q.contains("5006,99999999999999,-3"), "{q}");
    assert!(!q.contains("21221055555555"));

    // What went in, by SQL: the alias mapped to T1, the guest and staff recognised.
    let sql = "SELECT site, user_type, COUNT(*) AS n, COUNT(patron_key) AS keyed FROM sessions GROUP BY site, user_type ORDER BY site, user_type";
    let out = run(&[
        "query",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "csv",
        sql,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap();
    let expected = df!(
        "site" => ["BKM", "T1", "T1", "T1"],
        "user_type" => ["patron", "guest", "patron", "staff"],
        "n" => [1i64, 1, 2, 1],
        "keyed" => [1i64, 0, 2, 1],
    )
    .unwrap();
    let got = got
        .lazy()
        .with_columns([
            col("n").cast(DataType::Int64),
            col("keyed").cast(DataType::Int64),
        ])
        .collect()
        .unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn reingest_is_a_no_op_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    let file = data("libki_statistics.csv");
    let (code, first, stderr) = ingest_json(&lake, &key, &[&file]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(first[0]["status"], "ingested");
    let before = lake_files(&lake);
    let (code, again, stderr) = ingest_json(&lake, &key, &[&file]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again[0]["status"], "already_ingested");
    assert_eq!(again[0]["batch"], first[0]["batch"]);
    assert!(stderr.contains("already ingested"), "{stderr}");
    assert_eq!(lake_files(&lake), before, "the lake is unchanged");
}

#[test]
fn libki_rows_pair_into_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    let (_, json, _) = ingest_json(&lake, &key, &[&data("libki_statistics.csv")]);
    let f = &json[0];
    assert_eq!(f["format"], "libki");
    // 8 rows: 3 sessions of 2 rows, a PRINT_JOB (excluded), a LOGIN with no end (quarantined).
    assert_eq!(
        (f["rows_read"].as_u64(), f["rows_accepted"].as_u64()),
        (Some(8), Some(6))
    );
    assert_eq!(reason_rows(f, "not_session_event", "PRINT_JOB"), 1);
    assert_eq!(f["quarantined"]["unpaired"], 1);
    assert_eq!(reason_rows(f, "unpaired", "session_id"), 1);
    let out = run(&[
        "query",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT station, user_type, duration_s FROM sessions ORDER BY start",
    ]);
    let got = CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap();
    let expected = df!(
        "station" => ["N1-PC01", "N1-PC02", "N1-PC01"],
        "user_type" => ["patron", "patron", "guest"],
        "duration_s" => [2700i64, 3600, 3600],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn missing_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = run(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        data("envisionware_strad_bci.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("TALLY_KEY") && err.contains("--key-file"),
        "{err}"
    );
    assert!(!lake.join("_ledger").exists(), "nothing written");
}

#[test]
fn a_file_of_unknown_format_fails_alone_and_names_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    let odd = dir.path().join("odd.csv");
    std::fs::write(&odd, "when,where\n2026-01-01,here\n").unwrap();
    let (code, json, _) = ingest_json(&lake, &key, &[&odd, &data("envisionware_strad_bci.csv")]);
    assert_eq!(code, 1);
    assert_eq!(json[0]["status"], "failed");
    let err = json[0]["error"].as_str().unwrap();
    assert!(
        err.contains("odd.csv") && err.contains("line 1") && err.contains("envisionware, libki"),
        "{err}"
    );
    assert_eq!(
        json[1]["status"], "ingested",
        "the other file still goes in"
    );

    // A named format with a missing column lists the columns it expected.
    let short = dir.path().join("short.csv");
    std::fs::write(
        &short,
        "pcrKey,pcrUserID,pcrDateTime\n1,2,2026-01-01 10:00:00\n",
    )
    .unwrap();
    let out = run(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        "--key-file",
        &key,
        "--format",
        "envisionware",
        "--json",
        short.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let err = json[0]["error"].as_str().unwrap();
    assert!(
        err.contains("missing required column(s) [\"pcrMinutesUsed\", \"pcrBranch\"]"),
        "{err}"
    );
}

#[test]
fn dst_gap_rows_are_quarantined_and_ambiguous_times_take_the_earliest() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    let csv = dir.path().join("dst.csv");
    std::fs::write(
        &csv,
        envisionware_csv(&[
            ("N1", "PC1", "2026-03-08 02:30:00", 20),
            ("N1", "PC1", "2026-11-01 01:30:00", 20),
        ]),
    )
    .unwrap();
    let (code, json, _) = ingest_json(&lake, &key, &[&csv]);
    assert_eq!(code, 3);
    assert_eq!(json[0]["quarantined"]["dst_gap"], 1);
    let out = run(&[
        "query",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT CAST(start AS VARCHAR) AS s FROM sessions",
    ]);
    let s = text(&out.stdout);
    assert!(
        s.contains("2026-11-01 06:30:00"),
        "01:30 CDT = 06:30 UTC: {s}"
    );
}

#[test]
fn metric_output_as_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    ingest_json(&lake, &key, &[&data("envisionware_strad_bci.csv")]);
    let l = lake.to_str().unwrap();
    let out = run(&[
        "metric",
        "sessions",
        "--lake",
        l,
        "--sites",
        "tests/data/sites.toml",
        "--from",
        "2026-06-10",
        "--to",
        "2026-06-11",
        "--every",
        "day",
        "--by",
        "site",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("site \"BKM\" is not in sites.toml"),
        "a warning, not an error"
    );
    let got = CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap();
    let got = got
        .lazy()
        .with_column(col("sessions").cast(DataType::Int64))
        .collect()
        .unwrap();
    // A whole day the lake's data covers: not partial.
    let sessions = df!(
        "site" => ["BKM", "T1"],
        "bucket" => ["2026-06-10", "2026-06-10"],
        "sessions" => [1i64, 4],
        "partial" => [false, false],
        "days_covered" => [1i64, 1],
        "bucket_days" => [1i64, 1],
    )
    .unwrap();
    assert_frame_eq(&got, &sessions);

    let out = run(&[
        "metric",
        "occupancy",
        "--lake",
        l,
        "--sites",
        "tests/data/sites.toml",
        "--from",
        "2026-06-10",
        "--to",
        "2026-06-11",
        "--every",
        "day",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // T1: 45 + 60 + 30 + 20 minutes on 2 stations x 8 hours (no station names: each
    // session its own seat); BKM: 25 of 2 seats... BKM is unknown, so round the clock
    // with the 1 seat seen (no names: at least 1).
    let t1 = (45.0 + 60.0 + 30.0 + 20.0) * 60.0;
    let bkm = 25.0 * 60.0;
    let expected = (t1 + bkm) / (2.0 * 8.0 * 3600.0 + 86400.0);
    let got = json[0]["occupancy"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    assert_eq!(json[0]["bucket"], "2026-06-10");

    // Parquet goes to a file, and reads back as the same frame as the CSV.
    let pq = dir.path().join("sessions.parquet");
    let args = [
        "metric",
        "sessions",
        "--lake",
        l,
        "--sites",
        "tests/data/sites.toml",
        "--from",
        "2026-06-10",
        "--to",
        "2026-06-11",
        "--every",
        "day",
        "--by",
        "site",
    ];
    let out = run(&[
        &args[..],
        &["--format", "parquet", "-o", pq.to_str().unwrap()],
    ]
    .concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let back = ParquetReader::new(std::fs::File::open(&pq).unwrap())
        .finish()
        .unwrap();
    let back = back
        .lazy()
        .with_column(col("sessions").cast(DataType::Int64))
        .collect()
        .unwrap();
    assert_frame_eq(&back, &sessions);
    let out = run(&[&args[..], &["--format", "parquet"]].concat());
    assert_eq!(
        out.status.code(),
        Some(2),
        "parquet to a terminal is refused: {}",
        text(&out.stderr)
    );
    // tally query writes the same formats.
    let js = dir.path().join("q.json");
    let out = run(&[
        "query",
        "--lake",
        l,
        "--format",
        "json",
        "-o",
        js.to_str().unwrap(),
        "SELECT site, COUNT(*) AS n FROM sessions GROUP BY site ORDER BY site",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let q: serde_json::Value = serde_json::from_slice(&std::fs::read(&js).unwrap()).unwrap();
    assert_eq!(q[0]["site"], "BKM");

    let out = run(&["metric", "--list"]);
    let list = text(&out.stdout);
    for m in [
        "sessions",
        "survey_uses",
        "occupancy",
        "peak_concurrent",
        "time_at_capacity",
        "availability",
        "distinct_users",
        "heatmap",
        "share_over_target",
        "tickets_per_10_devices",
        "assets",
    ] {
        assert!(list.contains(m), "{m} listed");
    }
    assert!(
        list.contains("by: site, kind, age_years"),
        "assets by kind and age"
    );
}

#[test]
fn charts_render_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    ingest_json(&lake, &key, &[&data("envisionware_strad_bci.csv")]);
    let l = lake.to_str().unwrap();
    for (metric, extra, file) in [
        ("sessions", vec!["--by", "site", "--every", "all"], "a.png"),
        ("heatmap", vec![], "b.svg"),
        (
            "occupancy",
            vec!["--every", "hour", "--kind", "line"],
            "c.png",
        ),
        (
            "sessions",
            vec![
                "--by",
                "station",
                "--every",
                "all",
                "--kind",
                "bar",
                "--top",
                "5",
                "--title",
                "The five busiest stations",
            ],
            "d.svg",
        ),
        (
            "session_hours",
            vec![
                "--by", "site", "--every", "day", "--kind", "stacked", "--width", "800",
                "--height", "400",
            ],
            "e.png",
        ),
        ("heatmap", vec!["--kind", "heatmap"], "f.png"),
    ] {
        let path = dir.path().join(file);
        let mut args = vec![
            "chart",
            metric,
            "--lake",
            l,
            "--sites",
            "tests/data/sites.toml",
            "-o",
            path.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = run(&args);
        assert!(out.status.success(), "{metric}: {}", text(&out.stderr));
        let bytes = std::fs::read(&path).unwrap();
        if file.ends_with(".svg") {
            let svg = text(&bytes);
            assert!(svg.contains("<svg"));
            assert!(
                svg.contains(if metric == "heatmap" {
                    "Heatmap"
                } else {
                    "The five busiest stations"
                }),
                "{file}: the title"
            );
        } else {
            assert!(bytes.starts_with(b"\x89PNG"));
            let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
            assert_eq!(width, if file == "e.png" { 800 } else { 1200 });
        }
    }
    // What cannot be drawn says why, with exit 2.
    for (metric, extra) in [
        ("occupancy", vec!["--kind", "heatmap"]),
        ("station_advice", vec![]),
        ("sessions", vec!["--by", "site,station"]),
    ] {
        let path = dir.path().join("x.png");
        let mut args = vec![
            "chart",
            metric,
            "--lake",
            l,
            "--sites",
            "tests/data/sites.toml",
            "-o",
            path.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{metric}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_second_writer_is_refused_while_the_lock_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    let lock = std::fs::File::create(lake.join("_lock")).unwrap();
    lock.lock().unwrap();
    let (code, _, stderr) = ingest_json(&lake, &key, &[&data("envisionware_strad_bci.csv")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("another tally is writing"), "{stderr}");
    drop(lock);
    let (code, _, stderr) = ingest_json(&lake, &key, &[&data("envisionware_strad_bci.csv")]);
    assert_eq!(code, 3, "{stderr}");
}

#[test]
fn synth_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        let out = run(&[
            "synth",
            "--out",
            d.path().to_str().unwrap(),
            "--days",
            "20",
            "--seed",
            "7",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    for f in [
        "envisionware/strad_bci_2024-10.csv",
        "libki/statistics_2024-10.csv",
        "sites.toml",
    ] {
        assert_eq!(read(a.path(), f), read(b.path(), f), "{f}");
    }
}

#[test]
fn an_interrupted_batch_leaves_nothing_behind() {
    // What a kill between "rename into place" and "write the ledger" leaves: a Parquet
    // file no ledger entry names, and a staging folder. tally never reads the orphan, and
    // the next writer removes both.
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    ingest_json(&lake, &key, &[&data("libki_statistics.csv")]);
    let orphan_dir = lake.join("sessions/year=2026/month=06");
    let orphan = orphan_dir.join("sessions-0000000000000000.parquet");
    std::fs::copy(
        std::fs::read_dir(&orphan_dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
        &orphan,
    )
    .unwrap();
    std::fs::create_dir_all(lake.join("_staging/sessions-0000000000000000")).unwrap();
    let count = || {
        let out = run(&[
            "query",
            "--lake",
            lake.to_str().unwrap(),
            "--format",
            "csv",
            "SELECT COUNT(*) AS n FROM sessions",
        ]);
        text(&out.stdout).lines().nth(1).unwrap().to_string()
    };
    assert_eq!(count(), "3", "the orphan is not read");
    let (code, _, stderr) = ingest_json(&lake, &key, &[&data("envisionware_strad_bci.csv")]);
    assert_eq!(code, 3, "{stderr}");
    assert!(!orphan.exists(), "the orphan is removed");
    assert!(!lake.join("_staging").exists(), "staging is removed");
    assert!(
        stderr.contains("removing a file left by an interrupted ingest"),
        "{stderr}"
    );
    assert_eq!(count(), "8");
}

#[test]
fn libki_columns_are_the_real_schema() {
    // Libki's own installer/schema.sql (tests/data/real, provenance beside it): the
    // statistics table's columns are the ones the adapter reads.
    let sql =
        std::fs::read_to_string(data("real/libki/libki_statistics_sessions_schema.sql")).unwrap();
    let table = sql
        .split("CREATE TABLE `statistics`")
        .nth(1)
        .unwrap()
        .split(") ENGINE")
        .next()
        .unwrap();
    let columns: Vec<&str> = table
        .lines()
        .filter_map(|l| l.trim().strip_prefix('`'))
        .filter_map(|l| l.split('`').next())
        .collect();
    let info = tally_ingest::Format::Libki.info();
    // Each of our names lists the spellings of versions; the current schema's is the first.
    let ours: Vec<&str> = info
        .required
        .iter()
        .chain(info.optional)
        .map(|n| n.split('|').next().unwrap())
        .collect();
    let mut a = columns.clone();
    let mut b = ours.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "schema columns {columns:?}");
    let header = std::fs::read_to_string(data("libki_statistics.csv")).unwrap();
    assert_eq!(
        header.lines().next().unwrap(),
        columns.join(","),
        "the test export has the schema's columns in order"
    );
}

#[test]
fn overlapping_exports_and_repeated_rows_are_counted_not_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let header = "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n";
    let r = [
        "1,21221000000001,30,2026-06-10 10:00:00,T1,A,,PC1\n",
        "2,21221000000002,30,2026-06-10 10:05:00,T1,A,,PC2\n",
        "3,21221000000003,30,2026-06-10 11:00:00,T1,A,,PC1\n",
        "4,21221000000004,30,2026-06-10 11:05:00,T1,A,,PC2\n",
    ];
    // Export A: rows 1-3 and row 1 again. Export B: rows 2-4, overlapping A by two.
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, format!("{header}{}{}{}{}", r[0], r[1], r[2], r[0])).unwrap();
    std::fs::write(&b, format!("{header}{}{}{}", r[1], r[2], r[3])).unwrap();
    let count = |lake: &Path| {
        let out = run(&[
            "query",
            "--lake",
            lake.to_str().unwrap(),
            "--format",
            "csv",
            "SELECT COUNT(*) AS n FROM sessions",
        ]);
        text(&out.stdout).lines().nth(1).unwrap().to_string()
    };
    let lake = dir.path().join("lake1");
    let (_, ja, _) = ingest_json(&lake, &key, &[&a]);
    assert_eq!(ja[0]["rows_accepted"], 3);
    assert_eq!(ja[0]["excluded"]["duplicate_record"], 1);
    let (_, jb, _) = ingest_json(&lake, &key, &[&b]);
    assert_eq!(jb[0]["rows_accepted"], 1);
    assert_eq!(jb[0]["excluded"]["in_lake"], 2);
    assert_eq!(count(&lake), "4");
    // Both files in one call are read side by side: the same result.
    let lake2 = dir.path().join("lake2");
    let (_, j2, _) = ingest_json(&lake2, &key, &[&a, &b]);
    assert_eq!(j2[1]["excluded"]["in_lake"], 2, "{j2}");
    assert_eq!(count(&lake2), "4");
}

#[test]
fn every_planted_malformed_row_is_quarantined_and_nothing_else() {
    let synth = tempfile::tempdir().unwrap();
    let out = run(&[
        "synth",
        "--out",
        synth.path().to_str().unwrap(),
        "--days",
        "45",
    ]);
    let planted = text(&out.stdout)
        .lines()
        .filter(|l| l.contains("malformed on purpose"))
        .count() as u64;
    assert!(planted >= 14, "{}", text(&out.stdout));
    let demo = tempfile::tempdir().unwrap();
    let out = run(&[
        "demo",
        "--days",
        "45",
        "--out",
        demo.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ledger = tally_lake::Lake::new(demo.path().join("lake"))
        .read_ledger()
        .unwrap();
    let quarantined: u64 = ledger.iter().map(|e| e.summary.rows_quarantined).sum();
    assert_eq!(quarantined, planted);
    for e in &ledger {
        assert!(e.summary.is_balanced(), "{}", e.summary.file);
    }
    let tables: std::collections::BTreeSet<&str> =
        ledger.iter().map(|e| e.summary.table.as_str()).collect();
    assert_eq!(
        tables.len(),
        tally_model::Table::ALL.len(),
        "every table has data: {tables:?}"
    );
}

#[test]
fn survey_command_prints_the_four_lines() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    ingest_json(&lake, &key, &[&data("envisionware_strad_bci.csv")]);
    // The test library's fiscal year starts in July: FY2026 holds June 2026.
    let out = run(&[
        "survey",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        "--fy",
        "2026",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let df = CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap();
    assert_eq!(df.height(), 12, "4 lines x (2 sites + the library)");
    let site = df.column("site").unwrap().str().unwrap().clone();
    let line = df.column("line").unwrap().cast(&DataType::String).unwrap();
    let line = line.str().unwrap();
    let value = df.column("value").unwrap().i64().unwrap().clone();
    let at = |s: &str, l: &str| {
        (0..df.height())
            .find(|&i| site.get(i) == Some(s) && line.get(i) == Some(l))
            .and_then(|i| value.get(i))
    };
    // T1's 4 sessions that day: one staff, so 3 survey uses; library 650 = 2 + 2 stations.
    assert_eq!(at("T1", "651"), Some(3));
    assert_eq!(at("(library)", "650"), Some(4));
}
