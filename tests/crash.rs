//! Crash safety: `tally ingest` killed with SIGKILL at many moments of a multi-file batch
//! leaves a lake whose ledger agrees with its Parquet files, and a re-run finishes the
//! job without duplicates. Two writers at once never interleave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use polars::prelude::*;

use crate::common::*;

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let inbox = dir.join("inbox");
    let out = run(&[
        "synth",
        "--out",
        inbox.to_str().unwrap(),
        "--days",
        "150",
        "--seed",
        "3",
    ]);
    assert!(out.status.success());
    let mut files = Vec::new();
    for sub in ["envisionware", "libki"] {
        for e in std::fs::read_dir(inbox.join(sub)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    files
}

fn ingest_cmd(lake: &Path, sites: &Path, files: &[PathBuf]) -> std::process::Command {
    let mut c = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
        "--json",
    ]);
    c.env("TALLY_KEY", TEST_KEY)
        .args(files)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c
}

/// Rows per batch as the ledger says and as the Parquet files the ledger names hold.
fn ledger_vs_lake(lake: &Path) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let entries = tally_lake::Lake::new(lake).read_ledger().unwrap();
    let ledger: BTreeMap<String, u64> = entries
        .iter()
        .map(|e| (e.batch.clone(), e.rows_stored))
        .collect();
    let mut stored = BTreeMap::new();
    if !ledger.is_empty() {
        let df = tally_metrics::query(
            &(tally_lake::Lake::new(lake)).snapshot().unwrap(),
            "SELECT batch, COUNT(*) AS n FROM sessions GROUP BY batch",
        )
        .unwrap();
        let batches = df.column("batch").unwrap().str().unwrap().clone();
        let n = df.column("n").unwrap().cast(&DataType::UInt64).unwrap();
        for (b, n) in batches.iter().zip(n.u64().unwrap().iter()) {
            stored.insert(b.unwrap().to_string(), n.unwrap());
        }
    }
    (ledger, stored)
}

#[test]
fn sigkill_at_many_points_never_leaves_half_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let sites = dir.path().join("inbox/sites.toml");
    // A clean run gives the expected final state and the run's length.
    let clean = dir.path().join("clean");
    let started = Instant::now();
    let status = ingest_cmd(&clean, &sites, &files).status().unwrap();
    let full = started.elapsed();
    assert_eq!(
        status.code(),
        Some(3),
        "synthetic data plant a few bad rows"
    );
    let (expected, _) = ledger_vs_lake(&clean);
    assert_eq!(expected.len(), files.len());

    let points = 24;
    let mut mismatches = 0;
    let mut interrupted = 0;
    for k in 0..points {
        let lake = dir.path().join(format!("kill{k}"));
        let delay = full.mul_f64(k as f64 / points as f64 * 1.1);
        let mut child = ingest_cmd(&lake, &sites, &files).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Every committed batch is whole: the ledger and the Parquet files agree.
        let (ledger, stored) = ledger_vs_lake(&lake);
        for (batch, rows) in &ledger {
            if stored.get(batch) != Some(rows) || expected.get(batch) != Some(rows) {
                mismatches += 1;
            }
        }
        if stored.keys().any(|b| !ledger.contains_key(b)) {
            mismatches += 1;
        }
        // `tally lake check` agrees: no damage (leftovers of the killed batch are allowed).
        if lake.exists() {
            let out = run(&["lake", "check", "--lake", lake.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "kill point {k}: {}",
                text(&out.stdout)
            );
        }
        // A re-run finishes the job: the same lake as the clean run, nothing twice.
        let status = ingest_cmd(&lake, &sites, &files).status().unwrap();
        assert!(
            matches!(status.code(), Some(0) | Some(3)),
            "re-run after kill point {k}"
        );
        let (ledger, stored) = ledger_vs_lake(&lake);
        assert_eq!(ledger, expected, "kill point {k}: ledger after the re-run");
        assert_eq!(stored, expected, "kill point {k}: rows after the re-run");
    }
    eprintln!(
        "kill points: {points}; killed mid-run: {interrupted}; ledger/Parquet mismatches: {mismatches}; clean run {full:?}"
    );
    assert_eq!(mismatches, 0);
    assert!(
        interrupted >= points / 2,
        "most kills landed mid-run ({interrupted} of {points}); the run took {full:?}"
    );
}

#[test]
fn a_second_writer_waits_for_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let sites = dir.path().join("inbox/sites.toml");
    let lake = dir.path().join("lake");
    let (first, second) = files.split_at(files.len() / 2);
    let mut a = ingest_cmd(&lake, &sites, first).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let mut b = ingest_cmd(&lake, &sites, second);
    b.args(["--wait", "60"]);
    let b = b.status().unwrap();
    let a = a.wait().unwrap();
    assert!(matches!(a.code(), Some(0) | Some(3)));
    assert!(
        matches!(b.code(), Some(0) | Some(3)),
        "the second waited and ran"
    );
    let (ledger, stored) = ledger_vs_lake(&lake);
    assert_eq!(ledger.len(), files.len());
    assert_eq!(ledger, stored);
}
