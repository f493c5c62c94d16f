//! The lake over time: its format version (an older lake is upgraded in place, a newer
//! one refused), one key per lake, and `tally lake check` against damage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

use crate::common::*;

const OTHER_KEY: &str = "another-key-0123456789abcdef";

fn ingest_with(lake: &Path, key: Option<&str>, files: &[&Path]) -> std::process::Output {
    let mut c = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        "--json",
    ]);
    if let Some(k) = key {
        c.env("TALLY_KEY", k);
    }
    c.args(files).output().unwrap()
}

fn snapshot(lake: &Path) -> BTreeMap<PathBuf, u64> {
    file_hashes(lake)
}

fn query_csv(lake: &Path, sql: &str) -> std::process::Output {
    run(&[
        "query",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "csv",
        sql,
    ])
}

/// Rewrites a lake written by this tally in the first layout (format 1): pseudonyms as
/// 32 hex digits (the stored number's 16, then 16 more), no `automatic` column in
/// circulation, no `_lake.json`. Row keys are left as they are: the first layout made
/// them the same way.
fn downgrade_to_format_1(lake: &Path) {
    for entry in tally_lake::Lake::new(lake).read_ledger().unwrap() {
        for rel in &entry.parquet {
            let path = lake.join(rel);
            let mut df = ParquetReader::new(std::fs::File::open(&path).unwrap())
                .finish()
                .unwrap();
            for key in ["patron_key", "item_key", "device_key"] {
                let Ok(c) = df.column(key) else { continue };
                let hex: Vec<Option<String>> = c
                    .i64()
                    .unwrap()
                    .iter()
                    .map(|v| v.map(|v| format!("{:016x}a5a5a5a5a5a5a5a5", v as u64)))
                    .collect();
                df.with_column(Column::new(key.into(), hex)).unwrap();
            }
            if df.column("automatic").is_ok() {
                df = df.drop("automatic").unwrap();
            }
            let mut f = std::fs::File::create(&path).unwrap();
            ParquetWriter::new(&mut f).finish(&mut df).unwrap();
        }
    }
    std::fs::remove_file(lake.join("_lake.json")).unwrap();
}

#[test]
fn a_format_2_inventory_becomes_the_inventory_origin_and_only_assets_are_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = ingest_with(
        &lake,
        Some(TEST_KEY),
        &[&data("snipeit_assets.csv"), &data("koha_statistics.csv")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let sql = "SELECT asset_tag, kind, site, status FROM assets ORDER BY asset_tag";
    let before = text(&query_csv(&lake, sql).stdout);
    // Format 2: assets without the columns format 3 added.
    let format3 = [
        "origin",
        "name",
        "serial",
        "manufacturer",
        "os",
        "os_version",
        "last_seen",
    ];
    for entry in tally_lake::Lake::new(&lake).read_ledger().unwrap() {
        for rel in entry.parquet.iter().filter(|r| r.starts_with("assets/")) {
            let path = lake.join(rel);
            let df = ParquetReader::new(std::fs::File::open(&path).unwrap())
                .finish()
                .unwrap();
            let mut df = df.drop_many(format3);
            let mut f = std::fs::File::create(&path).unwrap();
            ParquetWriter::new(&mut f).finish(&mut df).unwrap();
        }
    }
    let meta = lake.join("_lake.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    m["format"] = 2.into();
    std::fs::write(&meta, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    let out = query_csv(&lake, sql);
    assert_eq!(out.status.code(), Some(2), "refused: {}", text(&out.stderr));

    let circulation_files = |lake: &Path| -> BTreeMap<PathBuf, u64> {
        snapshot(lake)
            .into_iter()
            .filter(|(p, _)| p.to_string_lossy().contains("circulation"))
            .collect()
    };
    let untouched = circulation_files(&lake);
    let out = run(&[
        "lake",
        "upgrade",
        "--lake",
        lake.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["from_format"], 2);
    // The three assets fall in two purchase months: two files; circulation's stay.
    assert_eq!(
        report["files"], 2,
        "only the assets files are rewritten: {report}"
    );
    assert_eq!(report["rows"], 3, "{report}");
    assert_eq!(circulation_files(&lake), untouched);
    assert_eq!(text(&query_csv(&lake, sql).stdout), before);
    let origin = text(&query_csv(&lake, "SELECT DISTINCT origin FROM assets").stdout);
    assert_eq!(origin.trim(), "origin\ninventory");
    let out = run(&["lake", "check", "--lake", lake.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn a_format_1_lake_is_refused_then_upgraded_in_place_and_keeps_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let koha = data("koha_statistics.csv");
    let out = ingest_with(&lake, Some(TEST_KEY), &[&koha]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let distinct = "SELECT site, COUNT(DISTINCT patron_key) AS p, COUNT(DISTINCT item_key) AS i, COUNT(*) AS n FROM circulation GROUP BY site ORDER BY site";
    let before = text(&query_csv(&lake, distinct).stdout);
    downgrade_to_format_1(&lake);

    // Refused, with what to do, by readers and writers alike (exit 2).
    for out in [
        query_csv(&lake, "SELECT COUNT(*) FROM circulation"),
        ingest_with(
            &lake,
            Some(TEST_KEY),
            &[&data("envisionware_strad_bci.csv")],
        ),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("format 1") && err.contains("tally lake upgrade"),
            "{err}"
        );
    }

    // A dry run says what would change and writes nothing.
    let old = snapshot(&lake);
    let l = lake.to_str().unwrap();
    let out = run(&["lake", "upgrade", "--lake", l, "--dry-run", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["from_format"], 1);
    assert_eq!(report["to_format"], tally_lake::LAKE_FORMAT);
    assert_eq!(report["rows"], 6);
    assert_eq!(snapshot(&lake), old, "a dry run writes nothing");

    let out = run(&["lake", "upgrade", "--lake", l]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("format 1 -> 3"));
    let out = run(&["lake", "check", "--lake", l]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("the ledger and the files agree"));
    // The same figures as before, and the column added since, empty.
    assert_eq!(text(&query_csv(&lake, distinct).stdout), before);
    let out = query_csv(
        &lake,
        "SELECT COUNT(*) AS n FROM circulation WHERE automatic IS NULL",
    );
    assert_eq!(text(&out.stdout), "n\n6\n");
    // An overlapping export is still recognised: the row keys did not change.
    let again = dir.path().join("again.csv");
    std::fs::write(&again, std::fs::read_to_string(&koha).unwrap() + "\n").unwrap();
    let out = ingest_with(&lake, Some(TEST_KEY), &[&again]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["rows_accepted"], 0, "{json}");
    assert_eq!(json[0]["excluded"]["in_lake"], 6, "{json}");
    // A second upgrade has nothing to do.
    let out = run(&["lake", "upgrade", "--lake", l]);
    assert!(text(&out.stdout).contains("nothing to do"));
}

#[test]
fn a_lake_from_a_newer_tally_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = ingest_with(&lake, Some(TEST_KEY), &[&data("koha_statistics.csv")]);
    assert_eq!(out.status.code(), Some(3));
    std::fs::write(lake.join("_lake.json"), "{\"format\": 99}\n").unwrap();
    let old = snapshot(&lake);
    for out in [
        query_csv(&lake, "SELECT COUNT(*) FROM circulation"),
        ingest_with(
            &lake,
            Some(TEST_KEY),
            &[&data("envisionware_strad_bci.csv")],
        ),
        run(&["lake", "upgrade", "--lake", lake.to_str().unwrap()]),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("newer tally"),
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(snapshot(&lake), old);
}

#[test]
fn one_key_per_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let l = lake.to_str().unwrap();
    // A file without identifiers needs no key, and records none.
    let totals = dir.path().join("totals_2020.csv");
    std::fs::write(&totals, "_id,Year,BranchCode,Visits\n1,2020,T1,100\n").unwrap();
    let out = ingest_with(&lake, None, &[&totals]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = tally(&["key", "check", "--lake", l])
        .env("TALLY_KEY", TEST_KEY)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("no key yet"));
    // Patron data without a key is refused, saying how to give one.
    let out = ingest_with(&lake, None, &[&data("koha_statistics.csv")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("TALLY_KEY"));
    // The first key is the lake's: a fingerprint, never the key, is kept.
    let out = ingest_with(&lake, Some(TEST_KEY), &[&data("koha_statistics.csv")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let meta = std::fs::read_to_string(lake.join("_lake.json")).unwrap();
    assert!(
        meta.contains("key_fingerprint") && !meta.contains(TEST_KEY),
        "{meta}"
    );
    // Another key is refused before anything is read; the lake is as it was.
    let old = snapshot(&lake);
    let out = ingest_with(
        &lake,
        Some(OTHER_KEY),
        &[&data("envisionware_strad_bci.csv")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("different key") && err.contains("distinct-patron counts would split"),
        "{err}"
    );
    assert_eq!(snapshot(&lake), old);
    for (key, code) in [(TEST_KEY, 0), (OTHER_KEY, 2)] {
        let out = tally(&["key", "check", "--lake", l])
            .env("TALLY_KEY", key)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
    }
}

#[test]
fn lake_check_finds_damage_and_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let l = lake.to_str().unwrap();
    let out = ingest_with(&lake, Some(TEST_KEY), &[&data("koha_statistics.csv")]);
    assert_eq!(out.status.code(), Some(3));
    let entry = &tally_lake::Lake::new(&lake).read_ledger().unwrap()[0];
    // A stray file is a leftover (reported, not damage).
    std::fs::write(lake.join("circulation/stray.parquet"), b"x").unwrap();
    let out = run(&["lake", "check", "--lake", l, "--json"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["kind"], "leftover");
    // A Parquet file the ledger names, cut short, is damage: exit 1.
    let part = lake.join(&entry.parquet[0]);
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    let out = run(&["lake", "check", "--lake", l]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("damage") && text(&out.stdout).contains("unreadable"));
    std::fs::remove_file(&part).unwrap();
    let out = run(&["lake", "check", "--lake", l]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn an_upgrade_killed_at_any_moment_leaves_the_old_lake_or_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let out = run(&[
        "synth",
        "--out",
        inbox.to_str().unwrap(),
        "--days",
        "120",
        "--seed",
        "5",
    ]);
    assert!(out.status.success());
    let clean = dir.path().join("clean");
    let mut files: Vec<PathBuf> = std::fs::read_dir(inbox.join("envisionware"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut c = tally(&[
        "ingest",
        "--lake",
        clean.to_str().unwrap(),
        "--sites",
        inbox.join("sites.toml").to_str().unwrap(),
    ]);
    c.env("TALLY_KEY", TEST_KEY).args(&files);
    assert!(matches!(c.status().unwrap().code(), Some(0) | Some(3)));
    let sql = "SELECT site, COUNT(*) AS n, COUNT(DISTINCT patron_key) AS p FROM sessions GROUP BY site ORDER BY site";
    let expected = text(&query_csv(&clean, sql).stdout);
    downgrade_to_format_1(&clean);
    let old = dir.path().join("old");
    copy_dir(&clean, &old);
    let started = Instant::now();
    let out = run(&["lake", "upgrade", "--lake", clean.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let full = started.elapsed();
    let points = 12;
    let mut interrupted = 0;
    for k in 0..points {
        let lake = dir.path().join(format!("kill{k}"));
        copy_dir(&old, &lake);
        let delay = full.mul_f64(k as f64 / points as f64 * 1.2);
        if kill_after(
            &["lake", "upgrade", "--lake", lake.to_str().unwrap()],
            delay,
        ) {
            interrupted += 1;
        }
        // The lake is the old one (refused until upgraded) or the new one; an upgrade
        // (finishing or redoing it) then gives the figures of the clean run, and the
        // check finds no damage.
        let out = run(&["lake", "upgrade", "--lake", lake.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "kill point {k}: {}",
            text(&out.stderr)
        );
        let out = run(&["lake", "check", "--lake", lake.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "kill point {k}: {}",
            text(&out.stdout)
        );
        assert_eq!(
            text(&query_csv(&lake, sql).stdout),
            expected,
            "kill point {k}"
        );
    }
    assert!(
        interrupted >= points / 2,
        "most kills landed mid-upgrade ({interrupted} of {points}; it took {full:?})"
    );
}
