//! Inventory from the directories IT teams have (Active Directory, Intune), OS support
//! status from endoflife.date, stale devices and the replacement plan, through the
//! `tally` binary as a user runs it. docs/support.md states the rules checked here.

use std::path::Path;

use polars::prelude::*;

use crate::common::*;

fn ingest(dir: &Path, extra: &[&str], files: &[&Path]) -> (i32, serde_json::Value, String) {
    ingest_cli(&dir.join("lake"), &key_file(dir), extra, files)
}

fn csv_of(out: &std::process::Output) -> DataFrame {
    assert!(out.status.success(), "{}", text(&out.stderr));
    CsvReader::new(std::io::Cursor::new(out.stdout.clone()))
        .finish()
        .unwrap()
}

/// `tally metric NAME --lake DIR --sites SITES --as-of DAY --by BY --format csv`.
fn on_day(dir: &Path, name: &str, sites: &str, day: &str, by: &str) -> std::process::Output {
    run(&[
        "metric",
        name,
        "--lake",
        &lake_arg(dir),
        "--sites",
        sites,
        "--as-of",
        day,
        "--by",
        by,
        "--format",
        "csv",
    ])
}

fn lake_arg(dir: &Path) -> String {
    dir.join("lake").display().to_string()
}

fn sites_arg() -> String {
    data("sites.toml").display().to_string()
}

/// The test library's inventory, AD computers and Intune devices in one lake.
fn fleet_lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(
        dir.path(),
        &[],
        &[
            &data("snipeit_assets.csv"),
            &data("ad_computers.csv"),
            &data("intune_devices.csv"),
        ],
    );
    assert_eq!(code, 3, "some rows are quarantined on purpose: {stderr}");
    assert_eq!(
        json[1]["format"], "ad-computers",
        "detected from the header"
    );
    assert_eq!(json[2]["format"], "intune", "detected from the header");
    dir
}

#[test]
fn active_directory_export_with_type_line_filetime_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(dir.path(), &[], &[&data("ad_computers.csv")]);
    assert_eq!(code, 3, "{stderr}");
    let f = &json[0];
    assert_eq!(f["format"], "ad-computers");
    assert_eq!(f["rows_read"], 7, "the #TYPE line is not a row: {f}");
    assert_eq!(f["rows_accepted"], 5, "{f}");
    assert_eq!(
        reason_rows(f, "missing_value", "site"),
        1,
        "KIOSK9: no OU, prefix or --site"
    );
    assert_eq!(
        reason_rows(f, "bad_number", "last_seen"),
        1,
        "a FILETIME that is not one"
    );
    let out = run(&[
        "query",
        "--lake",
        &lake_arg(dir.path()),
        "--format",
        "csv",
        "SELECT asset_tag, kind, site, status, origin, os, os_version, CAST(purchased AS VARCHAR) AS purchased, \
         CAST(last_seen AS VARCHAR) AS last_seen FROM assets ORDER BY asset_tag",
    ]);
    let got = csv_of(&out);
    let expected = df!(
        "asset_tag" => ["N1-STAFF-01", "OLD-PC", "PC-0001", "PC-0002", "SRV-01"],
        "kind" => ["staff_pc", "public_pc", "public_pc", "public_pc", "server"],
        // The name's prefix; the OU by site name (Town), by code (T1), Night.
        "site" => ["N1", "T1", "T1", "T1", "N1"],
        "status" => ["active", "retired", "active", "active", "active"],
        "origin" => ["directory"; 5],
        "os" => ["Windows 11 Pro", "Windows 7 Professional", "Windows 10 Enterprise", "Windows 11 Enterprise", "Windows Server 2019 Standard"],
        "os_version" => ["10.0 (26100)", "6.1 (7601)", "10.0 (19045)", "10.0 (22631)", "10.0 (17763)"],
        "purchased" => ["2024-09-01", "2013-05-02", "2021-03-20", "2021-03-21", "2019-06-02"],
        // N1-STAFF-01 from lastLogonTimestamp alone (13:00 UTC is 08:00 in Chicago);
        // OLD-PC never logged on (0).
        "last_seen" => [Some("2026-05-30"), None, Some("2026-05-28"), Some("2026-01-05"), Some("2026-05-31")],
    )
    .unwrap();
    assert!(got.equals_missing(&expected), "{got}\n{expected}");
}

#[test]
fn intune_export_keeps_no_user_and_reads_utc_times() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(dir.path(), &[], &[&data("intune_devices.csv")]);
    assert_eq!(code, 3, "{stderr}");
    let f = &json[0];
    assert_eq!(f["format"], "intune");
    assert_eq!(f["rows_read"], 5);
    assert_eq!(f["rows_accepted"], 3, "{f}");
    assert_eq!(reason_rows(f, "missing_value", "site"), 1);
    assert_eq!(reason_rows(f, "bad_time", "purchased"), 1);
    let out = run(&[
        "query",
        "--lake",
        &lake_arg(dir.path()),
        "--format",
        "csv",
        "SELECT asset_tag, kind, site, os, serial, manufacturer, CAST(last_seen AS VARCHAR) AS last_seen \
         FROM assets ORDER BY asset_tag",
    ]);
    let got = csv_of(&out);
    let expected = df!(
        "asset_tag" => ["IPAD-03", "MAC-REF-01", "T1-LAPTOP-01"],
        "kind" => ["tablet", "laptop", "laptop"],
        "site" => ["N1", "T1", "T1"],
        "os" => ["iPadOS", "macOS", "Windows"],
        "serial" => ["DMPXK2ABCD", "C02XK1ABJG5H", "5CD1234XYZ"],
        "manufacturer" => ["Apple", "Apple", "HP"],
        // 23:30 UTC on 31 May is 18:30 in Chicago: the same day; 08:00 UTC on 2 January
        // is 02:00 that day.
        "last_seen" => ["2026-01-02", "2026-05-31", "2026-05-30"],
    )
    .unwrap();
    assert!(got.equals_missing(&expected), "{got}\n{expected}");
    // No user column reaches the lake.
    for entry in walk(&dir.path().join("lake")) {
        let bytes = std::fs::read(&entry).unwrap();
        for who in ["jdoe", "asmith", "Jane Doe"] {
            assert!(
                !bytes.windows(who.len()).any(|w| w == who.as_bytes()),
                "{who} in {}",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn os_support_joins_inventory_and_directories_on_a_day() {
    let dir = fleet_lake();
    let out = on_day(
        dir.path(),
        "os_support",
        &sites_arg(),
        "2026-06-01",
        "status,os",
    );
    let got = csv_of(&out);
    // The computing devices in service on 2026-06-01 (printers, switches and retired
    // ones are not counted):
    // - PC-0001 (Snipe-IT, active) joined with AD's PC-0001 by tag: Windows 10 22H2,
    //   ended 2025-10-14: unsupported.
    // - PC-0002 (Snipe-IT, spare) joined with AD's PC-0002: Windows 11 Enterprise 23H2,
    //   (E) ends 2026-11-10: ending.
    // - N1-STAFF-01 (AD only): Windows 11 Pro 24H2, (W) ends 2026-10-13: ending.
    // - SRV-01 (AD only): Windows Server 2019, eol 2029-01-09: supported.
    // - T1-LAPTOP-01 (Intune only): Windows 11 23H2 Pro, (W) ended 2025-11-11: unsupported.
    // - MAC-REF-01: macOS 14, no eol announced: supported.
    // - IPAD-03: iPadOS, not a product tally matches: unknown.
    // - LT-0040 is in inventory_assets.csv, not loaded here.
    let expected = df!(
        "status" => ["ending", "ending", "supported", "supported", "unknown", "unsupported", "unsupported"],
        "os" => ["Windows 11 24H2 (W)", "Windows 11 23H2 (E)", "Windows Server 2019", "macOS 14", "iPadOS 17.5.1", "Windows 10 22H2", "Windows 11 23H2 (W)"],
        "bucket" => ["2026-06-01..2026-06-01"; 7],
        "os_support" => [1i64, 1, 1, 1, 1, 1, 1],
        "eol" => [Some("2026-10-13"), Some("2026-11-10"), Some("2029-01-09"), None, None, Some("2025-10-14"), Some("2025-11-11")],
    )
    .unwrap();
    let got = got
        .sort(["status", "os"], SortMultipleOptions::default())
        .unwrap();
    let expected = expected
        .sort(["status", "os"], SortMultipleOptions::default())
        .unwrap();
    assert_eq!(
        got.column("status").unwrap(),
        expected.column("status").unwrap(),
        "{got}"
    );
    assert_eq!(
        got.column("os").unwrap(),
        expected.column("os").unwrap(),
        "{got}"
    );
    assert_eq!(
        got.column("os_support")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap(),
        *expected.column("os_support").unwrap(),
        "{got}"
    );
}

#[test]
fn the_day_of_eol_is_unsupported_and_paid_updates_are_extended() {
    let dir = fleet_lake();
    let count = |day: &str, sites: &str, status: &str| -> i64 {
        let out = on_day(dir.path(), "os_support", sites, day, "status,os");
        let df = csv_of(&out);
        let st = df.column("status").unwrap().str().unwrap().clone();
        let os = df.column("os").unwrap().str().unwrap().clone();
        let n = df
            .column("os_support")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        let n = n.i64().unwrap();
        (0..df.height())
            .filter(|&i| st.get(i) == Some(status) && os.get(i) == Some("Windows 10 22H2"))
            .map(|i| n.get(i).unwrap_or(0))
            .sum()
    };
    let plain = sites_arg();
    assert_eq!(count("2025-10-13", &plain, "ending"), 1);
    assert_eq!(count("2025-10-14", &plain, "unsupported"), 1);
    // The library pays for Windows 10's extended security updates.
    let paid_dir = tempfile::tempdir().unwrap();
    let paid = paid_dir.path().join("sites.toml");
    let text = std::fs::read_to_string(data("sites.toml")).unwrap();
    std::fs::write(
        &paid,
        format!("{text}\n[support]\nextended_updates = [\"windows/10-22h2\"]\n"),
    )
    .unwrap();
    let paid = paid.display().to_string();
    assert_eq!(count("2025-10-14", &paid, "extended"), 1);
    assert_eq!(
        count("2028-10-10", &paid, "unsupported"),
        1,
        "eoes is the end of that too"
    );
}

#[test]
fn stale_devices_are_the_ones_no_directory_has_seen_for_90_days() {
    let dir = fleet_lake();
    let out = on_day(
        dir.path(),
        "stale_devices",
        &sites_arg(),
        "2026-06-01",
        "asset_tag",
    );
    let got = csv_of(&out);
    // PC-0002 last logged on 2026-01-05 (147 days), IPAD-03 checked in 2026-01-02 (150
    // days); OLD-PC is disabled (retired), the rest were seen within days.
    let tags: Vec<&str> = got
        .column("asset_tag")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(tags, ["IPAD-03", "PC-0002"]);
}

#[test]
fn the_replacement_plan_says_its_caps_and_a_zero_budget_replaces_nothing() {
    let dir = fleet_lake();
    let plan = |budget: Option<&str>| {
        let mut args = vec![
            "metric".to_string(),
            "replacement_plan".into(),
            "--lake".into(),
            lake_arg(dir.path()),
            "--sites".into(),
            sites_arg(),
            "--from".into(),
            "2026-07-01".into(),
            "--to".into(),
            "2031-07-01".into(),
            "--format".into(),
            "csv".into(),
        ];
        if let Some(b) = budget {
            args.extend(["--budget".into(), b.into()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&refs);
        (csv_of(&out), text(&out.stderr))
    };
    let (zero, stderr) = plan(Some("0"));
    assert!(
        stderr.contains("a budget of 0 replaces nothing"),
        "{stderr}"
    );
    let units = zero
        .column("units")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap();
    assert_eq!(units.i64().unwrap().sum(), Some(0));
    assert_eq!(
        zero.column("bucket")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect::<Vec<_>>(),
        ["FY2027", "FY2028", "FY2029", "FY2030", "FY2031"]
    );
    let (levelled, stderr) = plan(None);
    assert!(stderr.contains("level cap"), "{stderr}");
    let col = |df: &DataFrame, c: &str| -> Vec<f64> {
        df.column(c)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    let cap = col(&levelled, "level_cap")[0];
    assert!(col(&levelled, "budget").iter().all(|b| *b == cap));
    assert!(col(&levelled, "replacement_plan").iter().all(|c| *c <= cap));
    // Nothing is ever more than a year past its life under the level cap: with a year
    // of slack, slipped devices are ones whose life ended within the year.
    let slipped_zero: f64 = col(&zero, "slipped").iter().sum();
    let slipped_level: f64 = col(&levelled, "slipped").iter().sum();
    assert!(
        slipped_level < slipped_zero,
        "{slipped_level} vs {slipped_zero}"
    );
    // --budget belongs to the plan.
    let out = run(&[
        "metric",
        "sessions",
        "--lake",
        &lake_arg(dir.path()),
        "--budget",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn support_update_reads_both_layouts_and_refuses_a_partial_folder() {
    let dir = fleet_lake();
    // A folder laid out as endoflife.date's repository: products/ and the licence.
    let repo = tempfile::tempdir().unwrap();
    let products = repo.path().join("products");
    std::fs::create_dir_all(&products).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/endoflife");
    for f in ["windows-server.md", "macos.md", "ubuntu.md"] {
        std::fs::copy(shipped.join(f), products.join(f)).unwrap();
    }
    std::fs::copy(shipped.join("LICENSE"), repo.path().join("LICENSE")).unwrap();
    let update = || {
        run(&[
            "support",
            "update",
            "--lake",
            &lake_arg(dir.path()),
            products.to_str().unwrap(),
        ])
    };
    let out = update();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("products/windows.md"),
        "{}",
        text(&out.stderr)
    );
    // An older copy of windows.md, in the old layout: Windows 10 22H2 ends a year later
    // than the real date, so the lake's copy is seen to win.
    std::fs::write(
        products.join("windows.md"),
        "---\ntitle: Windows\nreleases:\n  - releaseCycle: \"Windows 10, version 22H2 (E)(W)\"\n    release: 2022-10-18\n    support: 2026-10-13\n    eol: 2026-10-13\n---\n",
    )
    .unwrap();
    let out = update();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("windows: 1 release cycles"),
        "{}",
        text(&out.stdout)
    );
    assert!(dir.path().join("lake/_support/LICENSE").exists());
    let out = on_day(
        dir.path(),
        "os_support",
        &sites_arg(),
        "2026-06-01",
        "status,os",
    );
    let df = csv_of(&out);
    let st = df.column("status").unwrap().str().unwrap().clone();
    let os = df.column("os").unwrap().str().unwrap().clone();
    let win10 = (0..df.height())
        .find(|&i| os.get(i) == Some("Windows 10 22H2"))
        .expect("Windows 10 matched in the old layout by its build");
    assert_eq!(st.get(win10), Some("ending"));
    assert!(
        text(&out.stderr).contains("_support"),
        "the origin is said: {}",
        text(&out.stderr)
    );
}

#[test]
fn a_snipe_it_custom_field_of_the_librarys_own_name_holds_the_os() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snipe.csv");
    std::fs::write(
        &file,
        "Asset Tag,Item Name,Category,Manufacturer,Model Name,Serial,Location,Status,Purchase Date,Purchase Cost,Windows Version,OS Version\n\
         PC-0101,Town public 1,Public Computers,Dell,OptiPlex 7010,S1,Town,Deployed,2021-03-15,1099,Windows 10 Enterprise,10.0.19045\n\
         PC-0102,Town public 2,Public Computers,Dell,OptiPlex 7010,S2,Town,Deployed,2023-03-15,1099,Windows 11 Enterprise,10.0.26100\n",
    )
    .unwrap();
    let statuses = |lake: &Path| -> Vec<String> {
        let out = run(&[
            "metric",
            "os_support",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            &sites_arg(),
            "--as-of",
            "2026-06-01",
            "--by",
            "status",
            "--format",
            "csv",
        ]);
        let df = csv_of(&out);
        df.column("status")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(String::from)
            .collect()
    };
    // Without the option the field is not known to hold the OS: unknown.
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let (code, _, stderr) = ingest(&plain, &[], &[&file]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(statuses(&plain.join("lake")), ["unknown"]);
    // With it: Windows 10 22H2 unsupported, Windows 11 24H2 (E) ending 2027-10-12 is
    // more than 12 months off: supported.
    let named = dir.path().join("named");
    std::fs::create_dir_all(&named).unwrap();
    let (code, _, stderr) = ingest(&named, &["--os-column", "Windows Version"], &[&file]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(statuses(&named.join("lake")), ["supported", "unsupported"]);
    // A field that is not there says which.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (code, json, _) = ingest(&other, &["--os-column", "Operating Sys"], &[&file]);
    assert_eq!(code, 1);
    assert!(
        json[0]["error"].as_str().unwrap().contains("Operating Sys"),
        "{json}"
    );
}
