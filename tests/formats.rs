//! The adapters on real files (tests/data/real, provenance beside them) and faithful
//! constructions: every line accounted for, the numbers as the source states them.

use std::path::Path;

use polars::prelude::*;

use crate::common::*;

fn ingest(dir: &Path, extra: &[&str], files: &[&Path]) -> (i32, serde_json::Value, String) {
    ingest_cli(&dir.join("lake"), &key_file(dir), extra, files)
}

fn query(dir: &Path, sql: &str) -> DataFrame {
    let out = run(&[
        "query",
        "--lake",
        dir.join("lake").to_str().unwrap(),
        "--format",
        "csv",
        sql,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    CsvReader::new(std::io::Cursor::new(out.stdout))
        .finish()
        .unwrap()
}

fn balanced(f: &serde_json::Value) -> bool {
    let n = |k: &str| f[k].as_u64().unwrap();
    n("rows_read") == n("rows_accepted") + n("rows_quarantined") + n("rows_excluded")
}

#[test]
fn symphony_real_lines_are_all_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        data("real/symphony/symphony_hist2json_test.hist"),
        data("real/symphony/symphony_hist2json_test01.hist"),
        data("real/symphony/symphony_quad_cv_rv_ev_samples.hist"),
    ];
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, json, stderr) = ingest(
        dir.path(),
        &["--strip-prefix", "EPL", "--tz", "America/Edmonton"],
        &refs,
    );
    assert_eq!(code, 0, "{stderr}");
    // test.hist: 10 lines of user edits (IY) and transits (hE); test01: 12 more; quad: 1
    // charge, 5 renewals, 5 discharges.
    let expect = [(10, 0, 9, 1), (12, 0, 11, 1), (11, 11, 0, 0)];
    for (f, (read, accepted, iy, he)) in json.as_array().unwrap().iter().zip(expect) {
        assert_eq!(f["format"], "symphony-hist", "detected from the first line");
        assert_eq!(f["rows_read"], read, "{f}");
        assert_eq!(f["rows_accepted"], accepted, "{f}");
        assert!(balanced(f), "{f}");
        if iy > 0 {
            assert_eq!(reason_rows(f, "not_circulation", "IY"), iy, "{f}");
            assert_eq!(reason_rows(f, "not_circulation", "hE"), he, "{f}");
        }
    }
    let got = query(
        dir.path(),
        "SELECT event, site, COUNT(*) AS n, COUNT(patron_key) AS users FROM circulation GROUP BY event, site ORDER BY event, site",
    );
    let got = got
        .lazy()
        .with_columns([
            col("n").cast(DataType::Int64),
            col("users").cast(DataType::Int64),
        ])
        .collect()
        .unwrap();
    // EV lines carry no user; the prefix EPL is stripped from FE (EPLMLW -> MLW).
    let expected = df!(
        "event" => ["checkin", "checkin", "checkin", "checkout", "renewal", "renewal", "renewal", "renewal"],
        "site" => ["HVY", "LHL", "STR", "MNA", "LHL", "MCN", "MLW", "MNA"],
        "n" => [2i64, 2, 1, 1, 1, 1, 2, 1],
        "users" => [0i64, 0, 0, 1, 1, 1, 2, 1],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
    // Server local time (Edmonton, MDT in August): 2021-08-06 13:27:18 is 19:27:18 UTC.
    let t = query(
        dir.path(),
        "SELECT CAST(MIN(time) AS VARCHAR) AS t FROM circulation WHERE event = 'renewal'",
    );
    assert!(
        t.column("t")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap()
            .starts_with("2021-08-06 19:27:18"),
        "{t}"
    );
}

#[test]
fn symphony_compressed_logs_read_like_plain_ones() {
    let plain = tempfile::tempdir().unwrap();
    let packed = tempfile::tempdir().unwrap();
    let (_, a, _) = ingest(
        plain.path(),
        &["--strip-prefix", "EPL"],
        &[&data("real/symphony/symphony_quad_cv_rv_ev_samples.hist")],
    );
    let (code, b, stderr) = ingest(
        packed.path(),
        &["--strip-prefix", "EPL"],
        &[&data("real/symphony/symphony_quad_cv_rv_ev_samples.hist.Z")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(b[0]["encoding"], "utf-8, unix-compressed");
    assert_eq!(a[0]["rows_accepted"], b[0]["rows_accepted"]);
    let sql =
        "SELECT time, site, event, patron_key, item_key FROM circulation ORDER BY time, item_key";
    assert_frame_eq(&query(packed.path(), sql), &query(plain.path(), sql));
}

#[test]
fn unix_compress_with_wide_codes_and_table_clears() {
    // 800 kB of history lines compressed by ncompress: codes grow from 9 to 16 bits and
    // the table is cleared when compression drops; 9,000 lines must come back.
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(
        dir.path(),
        &["--format", "symphony-hist"],
        &[&data("big_synthetic.hist.Z")],
    );
    assert!(code == 0 || code == 3, "{stderr}");
    let f = &json[0];
    assert_eq!(f["rows_read"], 9000, "{f}");
    assert!(balanced(f));
    assert_eq!(f["rows_quarantined"], 0, "{f}");
    let n = |k: &str| reason_rows(f, "not_circulation", k);
    let excluded = n("IY") + n("hE") + n("JZ");
    assert_eq!(f["excluded"]["not_circulation"], excluded, "{f}");
    assert_eq!(f["rows_accepted"].as_u64().unwrap() + excluded, 9000);
}

#[test]
fn koha_statistics_types_map_to_events() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(dir.path(), &[], &[&data("koha_statistics.csv")]);
    assert_eq!(code, 3, "{stderr}");
    let f = &json[0];
    assert_eq!(f["format"], "koha-statistics");
    assert_eq!(
        (f["rows_read"].as_u64(), f["rows_accepted"].as_u64()),
        (Some(9), Some(6))
    );
    assert_eq!(reason_rows(f, "not_circulation", "payment"), 1);
    assert_eq!(reason_rows(f, "not_circulation", "writeoff"), 1);
    assert_eq!(reason_rows(f, "bad_time", "datetime"), 1);
    let got = query(
        dir.path(),
        "SELECT event, COUNT(*) AS n, COUNT(patron_key) AS keyed FROM circulation GROUP BY event ORDER BY event",
    );
    let got = got
        .lazy()
        .with_columns([
            col("n").cast(DataType::Int64),
            col("keyed").cast(DataType::Int64),
        ])
        .collect()
        .unwrap();
    let expected = df!(
        "event" => ["checkin", "checkout", "in_house_use", "renewal"],
        "n" => [1i64, 3, 1, 1],
        "keyed" => [0i64, 2, 0, 1],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn toronto_long_totals() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        data("real/toronto/tpl-workstation-usage-annual-by-branch-2012-2017.csv"),
        data("real/toronto/tpl-circulation-annual-by-branch-2012-2022.csv"),
    ];
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, json, stderr) = ingest(dir.path(), &[], &refs);
    assert!(code == 0 || code == 3, "{stderr}");
    for (f, lines) in json.as_array().unwrap().iter().zip([598u64, 1225]) {
        assert_eq!(f["format"], "totals-long");
        assert_eq!(f["rows_read"], lines, "every data line of the file");
        assert!(balanced(f));
    }
    let got = query(
        dir.path(),
        "SELECT measure, CAST(period_start AS VARCHAR) AS y, value FROM totals WHERE site = 'AB' AND period_start = DATE '2012-01-01' ORDER BY measure",
    );
    let expected = df!("measure" => ["circulation", "sessions"], "y" => ["2012-01-01", "2012-01-01"], "value" => [515235.0, 132024.0]).unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn chicago_wide_totals_and_monthly_cumulative() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        data("real/chicago/Libraries_-_2017_Computer_Sessions_by_Location.csv"),
        data("real/chicago/Libraries_-_WiFi_Usage__2011-2014_.csv"),
    ];
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, json, stderr) = ingest(dir.path(), &[], &refs);
    assert!(code == 0 || code == 3, "{stderr}");
    let wide = &json[0];
    assert_eq!(wide["format"], "totals-wide");
    assert_eq!(wide["rows_read"], 81);
    assert!(balanced(wide));
    let monthly = &json[1];
    assert_eq!(monthly["format"], "totals-long");
    assert_eq!(monthly["encoding"], "utf-8 with BOM");
    assert_eq!(monthly["rows_read"], 48);
    // Albany Park 2017: January 2794 ... YTD 30645; months stored one row each.
    let got = query(
        dir.path(),
        "SELECT COUNT(*) AS months, SUM(value) AS total FROM totals WHERE site = 'Albany Park' AND measure = 'sessions'",
    );
    let got = got
        .lazy()
        .with_column(col("months").cast(DataType::Int64))
        .collect()
        .unwrap();
    assert_frame_eq(
        &got,
        &df!("months" => [12i64], "total" => [30645.0]).unwrap(),
    );
    let wifi = query(
        dir.path(),
        "SELECT value FROM totals WHERE measure = 'wifi_sessions' AND period_start = DATE '2011-02-01'",
    );
    assert_eq!(
        wifi.column("value").unwrap().f64().unwrap().get(0),
        Some(19657.0)
    );
}

#[test]
fn a_ytd_that_disagrees_with_its_months_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Computer_Sessions_2019.csv");
    std::fs::write(
        &file,
        "LOCATION,JANUARY,FEBRUARY,MARCH,APRIL,MAY,JUNE,JULY,AUGUST,SEPTEMBER,OCTOBER,NOVEMBER,DECEMBER,YTD\n\
         Town ,1,1,1,1,1,1,1,1,1,1,1,1,12\n\
         \"Night, North\",1,1,1,1,1,1,1,1,1,1,1,1,13\n\
         Gone,0,0,0,0,0,0,0,0,0,0,0,n/a,0\n",
    )
    .unwrap();
    let (code, json, _) = ingest(dir.path(), &[], &[&file]);
    assert_eq!(code, 3);
    let f = &json[0];
    assert_eq!(
        (f["rows_accepted"].as_u64(), f["rows_quarantined"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        f["notes"]["line 3 (Night, North): YTD 13 but the months given add up to 12"], 1,
        "{f}"
    );
    assert_eq!(reason_rows(f, "bad_number", "DECEMBER"), 1, "{f}");
    // "Town " (trailing space) is the site Town, code T1; the year came from the file name.
    let got = query(
        dir.path(),
        "SELECT site, COUNT(*) AS n, MIN(period_start) AS first FROM totals GROUP BY site ORDER BY site",
    );
    assert_eq!(
        got.column("site").unwrap().str().unwrap().get(1),
        Some("T1")
    );
    assert_eq!(
        got.column("first").unwrap().str().unwrap().get(0),
        Some("2019-01-01")
    );
}

fn tickets(dir: &Path) -> DataFrame {
    let got = query(
        dir,
        "SELECT ticket_id, STRFTIME(opened, '%Y-%m-%d %H:%M') AS opened, STRFTIME(resolved, '%Y-%m-%d %H:%M') AS resolved, status, priority, category, site, asset_tag, assignee, source FROM work_orders ORDER BY source, ticket_id",
    );
    got.lazy()
        .with_column(col("ticket_id").cast(DataType::String))
        .collect()
        .unwrap()
}

#[test]
fn work_orders_from_four_help_desks() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        data("osticket_tickets.csv"),
        data("rt_tickets.tsv"),
        data("glpi_tickets.csv"),
        data("jira_tickets.csv"),
    ];
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, json, stderr) = ingest(dir.path(), &[], &refs);
    assert_eq!(code, 3, "{stderr}");
    let formats: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["osticket", "rt", "glpi", "jira"]);
    for f in json.as_array().unwrap() {
        assert!(balanced(f), "{f}");
    }
    // osTicket: BOM, `;`, CRLF, a quoted `;` in a subject; one unknown status.
    assert_eq!(json[0]["encoding"], "utf-8 with BOM");
    assert_eq!(json[0]["rows_quarantined"], 1);
    assert_eq!(
        reason_rows(&json[0], "unknown_value", "Current Status"),
        1,
        "{}",
        json[0]
    );
    let got = tickets(dir.path());
    // Local times (America/Chicago, CDT in June/July) stored in UTC.
    let expected = df!(
        "ticket_id" => ["7", "8", "ITHELP-12", "ITHELP-13", "100231", "100232", "100233", "41", "42", "43"],
        "opened" => ["2026-06-05 14:00", "2026-06-05 19:00", "2025-07-14 20:42", "2025-07-15 15:05",
                     "2026-06-01 14:15", "2026-06-02 18:00", "2026-06-03 13:30",
                     "2026-06-01 14:00", "2026-06-01 15:00", "2026-06-02 16:00"],
        "resolved" => [None, Some("2026-06-06 14:30"), Some("2025-07-15 13:30"), None,
                       Some("2026-06-01 15:45"), None, Some("2026-06-03 14:10"),
                       None, Some("2026-06-03 21:30"), None],
        "status" => ["in_progress", "resolved", "resolved", "waiting", "closed", "open", "resolved", "open", "resolved", "waiting"],
        "priority" => ["high", "normal", "urgent", "low", "high", "normal", "urgent", "normal", "low", "normal"],
        "category" => ["Hardware > Scanner", "Hardware > Display", "Hardware", "Supplies", "Public PCs", "Printers", "Network", "IT", "IT", "Facilities"],
        "site" => ["N1", "T1", "T1", "N1", "T1", "N1", "T1", "N1", "T1", "T1"],
        "asset_tag" => [None, None, Some("PC-0011"), None, Some("PC-0007"), Some("PRN-0002"), None, Some("STF-0012"), Some("LT-0040"), None],
        "assignee" => [Some("mlee"), Some("mlee"), Some("Ana"), None, Some("Sam Tech"), None, Some("Sam Tech"), Some("jdoe"), Some("jdoe"), Some("Nobody")],
        "source" => ["glpi", "glpi", "jira", "jira", "osticket", "osticket", "osticket", "rt", "rt", "rt"],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn rt_relative_dates_fail_with_what_to_export() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, _) = ingest(dir.path(), &[], &[&data("rt_relative_dates.tsv")]);
    assert_eq!(code, 1);
    let err = json[0]["error"].as_str().unwrap();
    assert!(
        err.contains("rt_relative_dates.tsv")
            && err.contains("Created")
            && err.contains("Resolved"),
        "{err}"
    );
    assert!(
        !dir.path().join("lake/_ledger").exists()
            || std::fs::read_dir(dir.path().join("lake/_ledger"))
                .unwrap()
                .count()
                == 0
    );
}

#[test]
fn wifi_from_meraki_json_and_csv_keeps_no_mac() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(
        dir.path(),
        &["--site", "TOWN-BRANCH"],
        &[&data("meraki_clients.json"), &data("meraki_clients.csv")],
    );
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(json[0]["format"], "meraki");
    assert_eq!(
        (
            json[0]["rows_read"].as_u64(),
            json[0]["rows_accepted"].as_u64()
        ),
        (Some(3), Some(2))
    );
    assert_eq!(reason_rows(&json[0], "bad_identifier", "mac"), 1);
    assert_eq!(
        (
            json[1]["rows_read"].as_u64(),
            json[1]["rows_accepted"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(reason_rows(&json[1], "bad_order", "lastSeen"), 1);
    let got = query(
        dir.path(),
        "SELECT site, STRFTIME(start, '%Y-%m-%d %H:%M') AS start, bytes, ssid FROM wifi ORDER BY start",
    );
    let expected = df!(
        "site" => ["T1", "T1", "T1"],
        "start" => ["2026-06-01 14:00", "2026-06-01 16:00", "2026-06-02 15:00"],
        "bytes" => [(138 + 61) * 1024i64, 6000 * 1024, 2048 * 1024],
        "ssid" => ["Library-Public", "Library-Public", "Library-Public"],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
    // The MAC address is nowhere in the lake, the ledger or the quarantine.
    for mac in [
        "22:33:44:55:66:77",
        "aa:bb:cc:dd:ee:ff",
        "AA-BB-CC-DD-EE-FF",
        "a1:b2:c3:d4:e5:f6",
        "a1:b2:c3:d4:e5:f7",
        "not-a-mac",
        "milesmeraki",
    ] {
        let keys = query(dir.path(), "SELECT device_key FROM wifi");
        assert!(!format!("{keys}").contains(mac));
        for entry in walk(&dir.path().join("lake")) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(
                !bytes.windows(mac.len()).any(|w| w == mac.as_bytes()),
                "{mac} in {}",
                entry.display()
            );
        }
    }
    // Without --site the file fails, saying what to pass.
    let other = tempfile::tempdir().unwrap();
    let (code, json, _) = ingest(other.path(), &[], &[&data("meraki_clients.json")]);
    assert_eq!(code, 1);
    assert!(json[0]["error"].as_str().unwrap().contains("--site"));
}

#[test]
fn assets_from_snipe_it_and_a_generic_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(
        dir.path(),
        &[],
        &[&data("snipeit_assets.csv"), &data("inventory_assets.csv")],
    );
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(json[0]["format"], "snipe-it");
    assert_eq!(reason_rows(&json[0], "bad_time", "purchased"), 1);
    assert_eq!(json[1]["format"], "inventory");
    assert_eq!(reason_rows(&json[1], "unknown_value", "kind"), 1);
    let got = query(
        dir.path(),
        "SELECT asset_tag, kind, site, model, CAST(purchased AS VARCHAR) AS purchased, cost, life_years, status FROM assets ORDER BY asset_tag",
    );
    let expected = df!(
        "asset_tag" => ["AV-0003", "LT-0040", "PC-0001", "PC-0002", "PRN-0002"],
        "kind" => ["av", "laptop", "public_pc", "public_pc", "printer"],
        "site" => ["T1", "N1", "T1", "T1", "N1"],
        "model" => ["Epson projector", "ThinkPad T14", "Dell OptiPlex 7010", "Dell OptiPlex 7010", "HP LaserJet M507"],
        "purchased" => ["2015-05-05", "2024-01-10", "2021-03-15", "2021-03-15", "2017-09-01"],
        "cost" => [1500.0, 1300.0, 1099.0, 1099.0, 2800.0],
        "life_years" => [None, Some(4.0), None, None, None],
        "status" => ["retired", "active", "active", "spare", "retired"],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn windows_security_log_pairs_logons_on_logon_id() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(dir.path(), &["--site", "T1"], &[&data("T1-PC07.csv")]);
    assert_eq!(code, 3, "{stderr}");
    let f = &json[0];
    assert_eq!(f["format"], "windows-events");
    assert!(balanced(f), "{f}");
    assert_eq!(f["rows_read"], 8);
    // patron07: logon + 4647 accepted, the 4634 after it excluded; guest12 closed at
    // 17:00 (noted); a machine account, a network logon and a lock excluded; a logoff
    // of an unknown Logon ID quarantined.
    assert_eq!(f["rows_accepted"], 3, "{f}");
    assert_eq!(f["excluded"]["already_ended"], 1);
    assert_eq!(f["excluded"]["machine_account"], 1);
    assert_eq!(reason_rows(f, "not_interactive", "logon type 3"), 1);
    // A lock (4800) is not a session boundary.
    assert_eq!(reason_rows(f, "not_session_event", "4800"), 1);
    assert_eq!(reason_rows(f, "unpaired", "Message"), 1);
    assert_eq!(
        f["notes"]["logon with no logoff: closed at the site's closing time"],
        1
    );
    let got = query(
        dir.path(),
        "SELECT station, user_type, STRFTIME(start, '%H:%M') AS start, duration_s FROM sessions ORDER BY start",
    );
    let expected = df!(
        "station" => ["T1-PC07", "T1-PC07"],
        "user_type" => ["patron", "guest"],
        "start" => ["14:00", "19:00"],
        "duration_s" => [45 * 60i64, 3 * 3600],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn generic_csv_through_a_mapping() {
    // Sessions from end + minutes, day-first dates, `;`: start = end - minutes.
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(
        dir.path(),
        &["--map", "tests/data/map_sessions_end_minutes.toml"],
        &[&data("generic_sessions.csv")],
    );
    assert_eq!(code, 3, "{stderr}");
    let f = &json[0];
    assert_eq!(f["format"], "generic");
    assert_eq!(
        (f["rows_accepted"].as_u64(), f["rows_quarantined"].as_u64()),
        (Some(2), Some(1))
    );
    let got = query(
        dir.path(),
        "SELECT site, station, STRFTIME(start, '%Y-%m-%d %H:%M') AS start, duration_s, user_type, patron_key IS NULL AS no_key FROM sessions ORDER BY start",
    );
    let expected = df!(
        "site" => ["T1", "N1"],
        "station" => ["PC-A", "PC-B"],
        "start" => ["2026-06-19 15:00", "2026-06-19 15:15"],
        "duration_s" => [1800i64, 2700],
        "user_type" => ["patron", "unknown"],
        "no_key" => [false, true],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
    // Circulation: user and item become keyed hashes; the raw values are nowhere.
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = ingest(
        dir.path(),
        &["--map", "tests/data/map_circulation.toml"],
        &[&data("generic_circulation.csv")],
    );
    assert_eq!(code, 0, "{stderr}");
    let got = query(
        dir.path(),
        "SELECT event, collection, patron_key IS NOT NULL AS k, item_key IS NOT NULL AS i FROM circulation ORDER BY time",
    );
    assert_eq!(got.height(), 2);
    assert_eq!(got.column("k").unwrap().bool().unwrap().get(0), Some(true));
    assert_eq!(got.column("i").unwrap().bool().unwrap().get(0), Some(true));
    let all = query(
        dir.path(),
        "SELECT site, event, collection, patron_key, item_key FROM circulation",
    );
    assert!(!format!("{all:?}").contains("P-1") && !format!("{all:?}").contains("I-1"));
    // A mapping that names a column the table does not have is refused, with the list.
    let out = run(&[
        "ingest",
        "--lake",
        dir.path().join("l2").to_str().unwrap(),
        "--map",
        "tests/data/map_bad.toml",
        data("generic_sessions.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("sessions has no column \"whatever\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn loans_from_koha_old_issues_and_evergreen() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(
        dir.path(),
        &[],
        &[
            &data("koha_old_issues.csv"),
            &data("evergreen_circulation.csv"),
        ],
    );
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(json[0]["format"], "koha-old-issues");
    assert_eq!(reason_rows(&json[0], "bad_order", "returndate"), 1);
    assert_eq!(json[1]["format"], "evergreen-circ");
    let got = query(
        dir.path(),
        "SELECT source, event, site, STRFTIME(time, '%Y-%m-%d %H:%M') AS t, patron_key IS NOT NULL AS keyed FROM circulation ORDER BY source, time, event",
    );
    let expected = df!(
        "source" => ["evergreen-circ", "evergreen-circ", "evergreen-circ", "koha-old-issues", "koha-old-issues", "koha-old-issues", "koha-old-issues", "koha-old-issues"],
        "event" => ["checkout", "checkin", "renewal", "checkout", "checkout", "renewal", "renewal", "checkin"],
        "site" => ["T1", "N1", "T1", "T1", "N1", "T1", "T1", "T1"],
        "t" => ["2026-06-01 15:00", "2026-06-08 17:00", "2026-06-08 17:00", "2026-06-03 15:00", "2026-06-10 16:00", "2026-06-17 15:00", "2026-06-17 15:00", "2026-06-20 20:00"],
        "keyed" => [true, false, true, true, false, true, true, false],
    )
    .unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn libki_history_pairs_by_user_and_client() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = ingest(dir.path(), &["--site", "N1"], &[&data("libki_history.csv")]);
    assert_eq!(code, 3, "{stderr}");
    let f = &json[0];
    assert_eq!(f["format"], "libki-history");
    assert!(balanced(f));
    assert_eq!(f["rows_accepted"], 4);
    assert_eq!(reason_rows(f, "not_session_event", "PRINT"), 1);
    assert_eq!(reason_rows(f, "unpaired", "Action"), 1);
    let got = query(
        dir.path(),
        "SELECT station, user_type, duration_s FROM sessions ORDER BY start",
    );
    let expected = df!("station" => ["N1-PC03", "N1-PC04"], "user_type" => ["patron", "guest"], "duration_s" => [2700i64, 3600]).unwrap();
    assert_frame_eq(&got, &expected);
}

#[test]
fn the_latest_export_of_a_ticket_or_asset_wins() {
    let dir = tempfile::tempdir().unwrap();
    let header = "Ticket Number,Date Created,Current Status,Priority,Closed Date\n";
    let first = dir.path().join("tickets_1.csv");
    let second = dir.path().join("tickets_2.csv");
    std::fs::write(
        &first,
        format!("{header}7,2026-06-01 10:00,Open,High,\n8,2026-06-01 11:00,Open,Low,\n"),
    )
    .unwrap();
    std::fs::write(
        &second,
        format!("{header}7,2026-06-01 10:00,Closed,High,2026-06-02 09:00\n"),
    )
    .unwrap();
    // Files are committed in the order given: the second export is the later one.
    let (code, _, stderr) = ingest(dir.path(), &[], &[&first, &second]);
    assert_eq!(code, 0, "{stderr}");
    let current = query(
        dir.path(),
        "SELECT CAST(ticket_id AS VARCHAR) AS id, status FROM work_orders ORDER BY id",
    );
    assert_frame_eq(
        &current,
        &df!("id" => [7i64, 8], "status" => ["closed", "open"]).unwrap(),
    );
    let history = query(dir.path(), "SELECT COUNT(*) AS n FROM work_orders_history");
    assert_eq!(
        history
            .column("n")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0),
        Some(3)
    );
    // Assets: a tag exported again with a new status.
    let inv = "asset_tag,kind,site,purchased,status\n";
    let a = dir.path().join("inv_1.csv");
    let b = dir.path().join("inv_2.csv");
    std::fs::write(&a, format!("{inv}PC-1,public_pc,T1,2020-01-01,active\n")).unwrap();
    std::fs::write(&b, format!("{inv}PC-1,public_pc,T1,2020-01-01,retired\n")).unwrap();
    ingest(dir.path(), &[], &[&a, &b]);
    let assets = query(dir.path(), "SELECT asset_tag, status FROM assets");
    assert_frame_eq(
        &assets,
        &df!("asset_tag" => ["PC-1"], "status" => ["retired"]).unwrap(),
    );
}
