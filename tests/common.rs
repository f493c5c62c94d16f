//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use polars::prelude::*;
use tally_ingest::{FileOutcome, IngestOptions, Pseudonymiser};
use tally_lake::Lake;
use tally_metrics::{Dim, Metric, Request};
use tally_model::{BucketKind, Sites};

pub const TEST_KEY: &str = "test-key-0123456789abcdef";

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn test_sites() -> Sites {
    Sites::load(&data("sites.toml")).expect("tests/data/sites.toml parses")
}

/// Rows a file's `--json` (or ledger) entry sets aside with this reason code and detail
/// (the column of a quarantined row, the vendor's word of an excluded one).
pub fn reason_rows(f: &serde_json::Value, code: &str, detail: &str) -> u64 {
    f["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["code"] == code && r["detail"] == detail)
                .map(|r| r["rows"].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// The rows of every quarantine file of a lake: (code, column, reason, raw_masked).
pub fn quarantine_rows(lake: &Path) -> Vec<[String; 4]> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(lake.join("_quarantine")) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        let mut r = csv::Reader::from_path(&p).unwrap();
        let h = r.headers().unwrap().clone();
        let at = |n: &str| h.iter().position(|x| x == n).unwrap();
        let (c, col, reason, raw) = (at("code"), at("column"), at("reason"), at("raw_masked"));
        for rec in r.records() {
            let rec = rec.unwrap();
            out.push([
                rec[c].to_string(),
                rec[col].to_string(),
                rec[reason].to_string(),
                rec[raw].to_string(),
            ]);
        }
    }
    out
}

/// `tally` with a clean environment for the key and logs.
pub fn tally(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tally"));
    c.args(args)
        .env_remove("TALLY_KEY")
        .env_remove("TALLY_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

pub fn run(args: &[&str]) -> Output {
    tally(args).output().expect("tally runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// One EnvisionWare row: (station, local start, minutes), at `site`.
pub fn envisionware_csv(rows: &[(&str, &str, &str, i64)]) -> String {
    let mut s = String::from(
        "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n",
    );
    for (i, (site, station, start, minutes)) in rows.iter().enumerate() {
        s.push_str(&format!(
            "{},2122100000{:04},{minutes},{start},{site},Adult,,{station}\n",
            i + 1,
            i % 7
        ));
    }
    s
}

/// Writes `csv` to a file in `dir` and ingests it into `dir/lake` with the library API.
pub fn ingest_text(dir: &Path, sites: &Sites, name: &str, csv: &str) -> (Lake, Vec<FileOutcome>) {
    let file = dir.join(name);
    std::fs::write(&file, csv).unwrap();
    let lake = Lake::new(dir.join("lake"));
    let pseudo = Pseudonymiser::new(TEST_KEY.as_bytes()).unwrap();
    let outcomes = tally_ingest::ingest_files(
        &lake,
        sites,
        Some(&pseudo),
        &IngestOptions::default(),
        &[file],
    )
    .unwrap();
    (lake, outcomes)
}

pub fn metric(
    lake: &Lake,
    sites: &Sites,
    metric: Metric,
    from: &str,
    to: &str,
    every: BucketKind,
    by: &[Dim],
) -> DataFrame {
    tally_metrics::compute(
        &lake.snapshot().unwrap(),
        sites,
        &Request {
            metric,
            from: date(from),
            to: date(to),
            every,
            by: by.to_vec(),
            budget: None,
        },
    )
    .unwrap()
    .frame
    // The definition tests compare values; tests/partial.rs checks the coverage columns.
    .drop_many(tally_metrics::COVERAGE_COLUMNS)
}

/// The value column of a metric frame for one bucket label (the first match).
pub fn value_at(df: &DataFrame, column: &str, bucket: &str) -> Option<f64> {
    let buckets = df.column("bucket").unwrap().str().unwrap().clone();
    let values = df.column(column).unwrap().cast(&DataType::Float64).unwrap();
    let values = values.f64().unwrap();
    let i = buckets
        .iter()
        .position(|b| b == Some(bucket))
        .unwrap_or_else(|| panic!("no bucket {bucket} in\n{df}"));
    values.get(i)
}

/// The number in `column` of the first row whose `key_column` is `key`.
pub fn number_where(df: &DataFrame, key_column: &str, key: &str, column: &str) -> Option<f64> {
    let keys = df.column(key_column).unwrap().str().unwrap().clone();
    let i = (0..df.height())
        .find(|&i| keys.get(i) == Some(key))
        .unwrap_or_else(|| panic!("no {key_column} {key} in {df}"));
    df.column(column)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .get(i)
}

pub fn assert_frame_eq(actual: &DataFrame, expected: &DataFrame) {
    assert!(
        actual.equals_missing(expected),
        "frames differ\nactual:\n{actual}\nexpected:\n{expected}"
    );
}

/// A key file holding the test key, in `dir`; its path.
pub fn key_file(dir: &Path) -> String {
    let p = dir.join("key");
    std::fs::write(&p, TEST_KEY).unwrap();
    p.display().to_string()
}

/// `tally ingest --json` on `files` with the test sites and a key file, plus `extra`
/// arguments: (exit code, the JSON summary, stderr).
pub fn ingest_cli(
    lake: &Path,
    key: &str,
    extra: &[&str],
    files: &[&Path],
) -> (i32, serde_json::Value, String) {
    let mut args = vec![
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        "--key-file",
        key,
        "--json",
    ];
    args.extend(extra);
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = run(&args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, text(&out.stderr))
}

/// Every file under `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in read {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every file of a lake (but its lock) with a hash of its bytes: what "left as it was"
/// means.
pub fn file_hashes(lake: &Path) -> std::collections::BTreeMap<PathBuf, u64> {
    walk(lake)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "_lock"))
        .map(|p| {
            let h = xxhash_rust::xxh3::xxh3_64(&std::fs::read(&p).unwrap());
            (p, h)
        })
        .collect()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Runs `tally args`, kills it after `delay`; whether it was still running then.
pub fn kill_after(args: &[&str], delay: std::time::Duration) -> bool {
    let mut child = tally(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay.max(std::time::Duration::from_millis(1)));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    running
}
