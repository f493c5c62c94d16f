//! PaperCut Print Logger's daily CSV in the `prints` table: the banner, the trailing
//! comma, quoted document names with commas and quotes, sizes with and without a unit;
//! pages x copies by site; and no user or document name anywhere tally writes.

use std::path::Path;

use polars::prelude::*;

use crate::common::*;

const LOG: &str = "papercut-print-log-2026-06-10.csv";

/// Every user and every document name of the fixture (as tokens a leak would show).
const PRIVATE: [&str; 16] = [
    "21221099990001",
    "21221099990002",
    "21221099990003",
    "mlopez42",
    "guest07",
    "nightowl99",
    "Divorce",
    "Smith",
    "secret",
    "diary",
    "Immigration",
    "I-485",
    "eviction",
    "Bank statement",
    "Hernandez",
    "Okafor",
];

fn ingest(dir: &Path) -> (i32, serde_json::Value, String) {
    ingest_cli(&dir.join("lake"), &key_file(dir), &[], &[&data(LOG)])
}

fn query(dir: &Path, sql: &str) -> DataFrame {
    let lake = dir.join("lake").display().to_string();
    let out = run(&["query", "--lake", &lake, "--format", "csv", sql]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap()
}

fn metric_csv(dir: &Path, name: &str, by: &str) -> DataFrame {
    let lake = dir.join("lake").display().to_string();
    let out = run(&[
        "metric",
        name,
        "--lake",
        &lake,
        "--sites",
        "tests/data/sites.toml",
        "--from",
        "2026-06-10",
        "--to",
        "2026-06-11",
        "--every",
        "all",
        "--by",
        by,
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap()
}

#[test]
fn the_print_log_reads_with_its_banner_trailing_commas_and_quoted_names() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(dir.path());
    assert_eq!(code, 3, "rows were quarantined: {stderr}");
    let f = &json[0];
    assert_eq!(f["format"], "papercut", "detected below the banner");
    assert_eq!(f["rows_read"], 7);
    assert_eq!(f["rows_accepted"], 4);
    assert_eq!(f["rows_quarantined"], 2);
    assert_eq!(f["rows_excluded"], 1);
    assert_eq!(reason_rows(f, "no_pages", "0 pages"), 1);
    // Lobby / KIOSK9 names no site; SIDEWAYS is not a duplex word.
    let q = quarantine_rows(&dir.path().join("lake"));
    let reasons: Vec<(&str, &str)> = q.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(
        reasons,
        [("missing_value", "site"), ("unknown_value", "Duplex")],
        "{q:?}"
    );
    // Line numbers count the banner: the file's lines 8 and 9.
    let quarantine = walk(&dir.path().join("lake/_quarantine"));
    let body = std::fs::read_to_string(&quarantine[0]).unwrap();
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let at = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "line")
        .unwrap();
    let lines: Vec<String> = r.records().map(|x| x.unwrap()[at].to_string()).collect();
    assert_eq!(lines, ["8", "9"]);

    let df = query(
        dir.path(),
        "SELECT strftime(time, '%Y-%m-%d %H:%M') AS t, site, printer, station, pages, copies, duplex, \
         grayscale, paper_size, size_kb, user_type, patron_key IS NOT NULL AS keyed FROM prints ORDER BY time",
    );
    let expected = df!(
        // Chicago is UTC-5 in June.
        "t" => ["2026-06-10 14:05", "2026-06-10 14:30", "2026-06-10 15:00", "2026-06-11 04:30"],
        "site" => ["T1", "T1", "T1", "N1"],
        "printer" => ["T1-Public-BW", "T1-Public-Color", "Laser", "Laser"],
        "station" => ["T1-PC01", "T1-PC02", "KIOSK3", "N1-PC07"],
        "pages" => [3i64, 1, 5, 2],
        "copies" => [2i64, 1, 1, 3],
        "duplex" => [true, false, false, true],
        "grayscale" => [true, false, true, true],
        "paper_size" => ["LETTER", "LETTER", "A4", "LETTER"],
        "size_kb" => [19.0, 16.0, 1.2 * 1024.0, 40.0],
        "user_type" => ["patron", "patron", "guest", "patron"],
        "keyed" => [true, true, false, true],
    )
    .unwrap();
    assert_frame_eq(&df, &expected);

    // The monthly file holds the day's jobs again, and one more: only that one is new.
    let monthly = dir.path().join("papercut-print-log-2026-06.csv");
    let mut text = std::fs::read_to_string(data(LOG)).unwrap();
    text.push_str(
        "2026-06-11 09:10:00,21221099990004,1,1,\\\\PRINTSRV\\T1-Public-BW,\"Tax return.pdf\",T1-PC02,\
         LETTER,PCL6,11 in,8.5 in,NOT DUPLEX,GRAYSCALE,9kb,\r\n",
    );
    std::fs::write(&monthly, text).unwrap();
    let (code, json, stderr) = ingest_cli(
        &dir.path().join("lake"),
        &key_file(dir.path()),
        &[],
        &[&monthly],
    );
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(json[0]["rows_accepted"], 1, "{}", json[0]);
    assert_eq!(reason_rows(&json[0], "in_lake", ""), 4, "{}", json[0]);
}

#[test]
fn pages_times_copies_by_site_and_the_shares_of_pages() {
    let dir = tempfile::tempdir().unwrap();
    ingest(dir.path());
    let value = |df: &DataFrame, site: &str, column: &str| number_where(df, "site", site, column);
    // T1: 3 x 2 + 1 x 1 + 5 x 1 = 12 pages in 3 jobs; N1: 2 x 3 = 6 in one.
    let pages = metric_csv(dir.path(), "print_pages", "site");
    assert_eq!(value(&pages, "T1", "print_pages"), Some(12.0));
    assert_eq!(value(&pages, "N1", "print_pages"), Some(6.0));
    let jobs = metric_csv(dir.path(), "print_jobs", "site");
    assert_eq!(value(&jobs, "T1", "print_jobs"), Some(3.0));
    assert_eq!(value(&jobs, "N1", "print_jobs"), Some(1.0));
    // Colour: 1 of T1's 12 pages; duplex: 6 of 12, and all of N1's.
    let color = metric_csv(dir.path(), "color_share", "site");
    assert!((value(&color, "T1", "color_share").unwrap() - 1.0 / 12.0).abs() < 1e-4);
    let duplex = metric_csv(dir.path(), "duplex_share", "site");
    assert_eq!(value(&duplex, "T1", "duplex_share"), Some(0.5));
    assert_eq!(value(&duplex, "N1", "duplex_share"), Some(1.0));
    // Per 1,000 residents: T1 serves 10,000, N1 5,000.
    let per = metric_csv(dir.path(), "print_pages_per_1000", "site");
    assert_eq!(value(&per, "T1", "print_pages_per_1000"), Some(1.2));
    assert_eq!(value(&per, "N1", "print_pages_per_1000"), Some(1.2));
}

#[test]
fn no_user_or_document_name_leaves_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let l = lake.display().to_string();
    let key = key_file(dir.path());
    let out = tally(&[
        "ingest",
        "--lake",
        &l,
        "--sites",
        "tests/data/sites.toml",
        "--key-file",
        &key,
        "--json",
        data(LOG).to_str().unwrap(),
    ])
    .env("TALLY_LOG", "debug")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let doctor = run(&[
        "doctor",
        "--sites",
        "tests/data/sites.toml",
        data(LOG).to_str().unwrap(),
    ]);
    let mut seen: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), out.stdout),
        ("stderr".into(), out.stderr),
        ("doctor".into(), doctor.stdout),
        ("doctor stderr".into(), doctor.stderr),
    ];
    for p in walk(&lake) {
        seen.push((p.display().to_string(), std::fs::read(&p).unwrap()));
    }
    // Parquet pages are compressed: read every value back too.
    let all = run(&[
        "query",
        "--lake",
        &l,
        "--format",
        "csv",
        "SELECT * EXCLUDE (row_key) FROM prints",
    ]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    assert!(
        text(&all.stdout).lines().count() == 5,
        "{}",
        text(&all.stdout)
    );
    seen.push(("prints".into(), all.stdout));
    assert!(
        seen.iter().any(|(n, _)| n.contains("_quarantine")),
        "a quarantine file was written and is checked"
    );
    for word in PRIVATE {
        for (name, bytes) in &seen {
            assert!(
                !bytes.windows(word.len()).any(|w| w == word.as_bytes()),
                "{word} found in {name}"
            );
        }
    }
}
