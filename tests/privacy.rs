//! No raw patron identifier from the input reaches any byte of the lake, the report, the
//! tables, the charts or the logs.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;

/// Every identifier in the synthetic exports: EnvisionWare pcrUserID, Libki usernames,
/// PaperCut users, Symphony user IDs (UO), Koha borrower numbers and Meraki MAC addresses.
fn raw_identifiers(inbox: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for e in std::fs::read_dir(inbox.join("symphony")).unwrap() {
        for line in std::fs::read_to_string(e.unwrap().path()).unwrap().lines() {
            ids.extend(
                line.split('^')
                    .filter_map(|f| f.strip_prefix("UO"))
                    .filter(|v| v.len() >= 9)
                    .map(str::to_string),
            );
        }
    }
    for e in std::fs::read_dir(inbox.join("koha")).unwrap() {
        let mut r = csv::Reader::from_path(e.unwrap().path()).unwrap();
        let idx = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "borrowernumber")
            .unwrap();
        for rec in r.records() {
            let v = rec.unwrap().get(idx).unwrap_or("").to_string();
            if v.len() >= 8 {
                ids.insert(v);
            }
        }
    }
    for network in std::fs::read_dir(inbox.join("meraki")).unwrap() {
        for e in std::fs::read_dir(network.unwrap().path()).unwrap() {
            let clients: Vec<serde_json::Value> =
                serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
            for c in clients {
                let mac = c["mac"].as_str().unwrap();
                // Colon-separated: each part is a token of its own, so look for the
                // whole address and its colon-free spelling.
                ids.insert(mac.replace(':', ""));
                ids.insert(mac.to_string());
            }
        }
    }
    for (sub, column) in [
        ("envisionware", "pcrUserID"),
        ("libki", "username"),
        ("papercut", "User"),
    ] {
        for e in std::fs::read_dir(inbox.join(sub)).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            // PaperCut's banner line comes before the header.
            let body = text
                .strip_prefix("PaperCut Print Logger - http://www.papercut.com/\r\n")
                .unwrap_or(&text);
            let mut r = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(body.as_bytes());
            let idx = r
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == column)
                .unwrap();
            for rec in r.records() {
                let rec = rec.unwrap();
                let id = rec.get(idx).unwrap_or("");
                // Short tokens (e.g. "guest17") could occur in any text by chance; every
                // card number, guest pass and staff login synth writes is longer.
                if id.len() >= 9 {
                    ids.insert(id.to_string());
                }
            }
        }
    }
    ids
}

/// The MAC-shaped pieces of a text: 17 characters, hex digits with a colon after every
/// two, wherever they start in a run of hex digits and colons.
fn mac_shaped(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == ':'))
        .filter(|run| run.len() >= 17)
        .flat_map(|run| {
            (0..=run.len() - 17).filter_map(move |i| {
                let w = &run[i..i + 17];
                let b = w.as_bytes();
                [2, 5, 8, 11, 14].iter().all(|&k| b[k] == b':').then_some(w)
            })
        })
}

fn tokens(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
}

#[test]
fn no_raw_identifier_leaves_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let out = tally(&[
        "demo",
        "--days",
        "40",
        "--out",
        dir.path().to_str().unwrap(),
    ])
    .env("TALLY_LOG", "debug")
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids = raw_identifiers(&dir.path().join("inbox"));
    assert!(ids.len() > 500, "the demo has many patrons ({})", ids.len());
    assert!(
        ids.iter().any(|i| i.contains(':')),
        "MAC addresses are among them"
    );
    assert!(
        ids.iter().any(|i| i.starts_with('7') && i.len() == 8),
        "Koha borrower numbers are among them"
    );
    let mut checked = 0;
    let mut leaks = Vec::new();
    let macs: std::collections::HashSet<&str> = ids
        .iter()
        .filter(|i| i.contains(':'))
        .map(String::as_str)
        .collect();
    let mut check = |name: &str, bytes: &[u8]| {
        checked += 1;
        for t in tokens(bytes) {
            if let Ok(t) = std::str::from_utf8(t)
                && ids.contains(t)
            {
                leaks.push(format!("{name}: {t}"));
            }
        }
        let text = String::from_utf8_lossy(bytes);
        // Every MAC-shaped run of the text (hh:hh:hh:hh:hh:hh), looked up: one pass.
        if let Some(mac) = mac_shaped(&text).find(|m| macs.contains(m)) {
            leaks.push(format!("{name}: {mac}"));
        }
        // Every document name synth prints ends in .docx: none may appear anywhere.
        if text.contains(".docx") {
            leaks.push(format!("{name}: a document name"));
        }
    };
    check("stdout", &out.stdout);
    check("stderr", &out.stderr);
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p == dir.path().join("inbox") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                check(&p.display().to_string(), &std::fs::read(&p).unwrap());
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "raw identifiers found: {:?}",
        &leaks[..leaks.len().min(10)]
    );
    assert!(checked > 20, "checked {checked} outputs");

    // Parquet pages are compressed, so also read every string value back.
    let lake = dir.path().join("lake");
    for sql in [
        "SELECT DISTINCT patron_key, station, site FROM sessions",
        "SELECT DISTINCT patron_key, item_key, site FROM circulation",
        "SELECT DISTINCT device_key, ssid, site FROM wifi",
        "SELECT DISTINCT ticket_id, asset_tag, assignee FROM work_orders",
    ] {
        let out = run(&[
            "query",
            "--lake",
            lake.to_str().unwrap(),
            "--format",
            "csv",
            sql,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let values = text(&out.stdout);
        for line in values.lines() {
            for field in line.split(',') {
                assert!(
                    !ids.contains(field),
                    "raw identifier {field} in the lake ({sql})"
                );
            }
        }
    }
}

/// Every identifier written in the test fixtures: card numbers, user names, PINs, MACs.
const FIXTURE_IDENTIFIERS: &[&str] = &[
    // EnvisionWare, Libki, Libki history, generic
    "21221012345678",
    "21221087654321",
    "21221055555555",
    "21221066666666",
    "21221099990001",
    "21221099990002",
    "21221099990004",
    "21221000001111",
    "21221000002222",
    "21221000007777",
    "21221000007778",
    // Symphony (real EPL lines and the PIN fixture): user IDs and PINs
    "21221030297904",
    "21221024128198",
    "21221900064153",
    "21221021970238",
    "21221030364266",
    "21221030057357",
    "21221005169575",
    "21221024503945",
    "21221026490349",
    "21221025098739",
    "21221018014230",
    "21221022968447",
    "98765432",
    "87654321",
    // Windows accounts, Meraki MACs and user
    "patron07",
    "guest12",
    "22:33:44:55:66:77",
    "aa:bb:cc:dd:ee:ff",
    "AA-BB-CC-DD-EE-FF",
    "a1:b2:c3:d4:e5:f6",
    "milesmeraki",
];

#[test]
fn no_identifier_of_any_fixture_leaves_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let l = lake.to_str().unwrap().to_string();
    let d = |f: &str| data(f).display().to_string();
    let runs: Vec<Vec<String>> = vec![
        vec![
            d("envisionware_strad_bci.csv"),
            d("libki_statistics.csv"),
            d("koha_statistics.csv"),
            d("koha_old_issues.csv"),
            d("evergreen_circulation.csv"),
        ],
        vec![
            "--strip-prefix".into(),
            "EPL".into(),
            d("real/symphony/symphony_hist2json_test.hist"),
            d("real/symphony/symphony_hist2json_test01.hist"),
            d("real/symphony/symphony_quad_cv_rv_ev_samples.hist"),
            d("symphony_with_pins.hist"),
        ],
        vec![
            "--site".into(),
            "T1".into(),
            d("T1-PC07.csv"),
            d("meraki_clients.json"),
            d("meraki_clients.csv"),
        ],
        vec!["--site".into(), "N1".into(), d("libki_history.csv")],
        vec![
            "--map".into(),
            "tests/data/map_sessions_end_minutes.toml".into(),
            d("generic_sessions.csv"),
        ],
    ];
    let mut outputs = Vec::new();
    for extra in runs {
        let mut cmd = tally(&[
            "ingest",
            "--lake",
            &l,
            "--sites",
            "tests/data/sites.toml",
            "--json",
        ]);
        cmd.env("TALLY_KEY", TEST_KEY)
            .env("TALLY_LOG", "debug")
            .args(&extra);
        let out = cmd.output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0) | Some(3)),
            "{}",
            text(&out.stderr)
        );
        outputs.push(out.stdout);
        outputs.push(out.stderr);
    }
    // The PIN fixture's second line has no library: quarantined, with the PIN masked.
    let q = std::fs::read_dir(lake.join("_quarantine")).unwrap().count();
    assert!(q >= 3, "quarantine files were written ({q})");
    let mut files: Vec<(String, Vec<u8>)> = outputs
        .into_iter()
        .enumerate()
        .map(|(i, o)| (format!("output {i}"), o))
        .collect();
    let mut stack = vec![lake.clone()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    for table in ["sessions", "circulation", "wifi", "work_orders"] {
        let out = run(&[
            "query",
            "--lake",
            &l,
            "--format",
            "csv",
            &format!("SELECT * EXCLUDE (row_key) FROM {table}"),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        files.push((format!("table {table}"), out.stdout));
    }
    for id in FIXTURE_IDENTIFIERS {
        for (name, bytes) in &files {
            assert!(
                !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
                "{id} found in {name}"
            );
        }
    }
}

/// Every byte a run left: the lake's files, and what it printed.
fn all_bytes(lake: &Path, outputs: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| (format!("output {i}"), o.clone()))
        .collect();
    let mut stack = vec![lake.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&p) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    files
}

/// A marker no export holds: `ZQJ` + the column's and row's numbers.
fn marker(col: usize, row: usize) -> String {
    format!("ZQJ{col}W{row}K")
}

#[test]
fn a_marker_in_every_column_a_format_does_not_declare_safe_never_leaves_ingest() {
    // Every CSV fixture of every format: each value of a column its format does not
    // declare safe becomes a unique marker, and each row gets one field too many, so every
    // row is quarantined. No marker may reach the lake, the logs or --json.
    let fixtures: &[(&str, &[&str])] = &[
        ("envisionware_strad_bci.csv", &[]),
        ("libki_statistics.csv", &[]),
        ("libki_history.csv", &["--site", "N1"]),
        ("koha_statistics.csv", &[]),
        ("koha_old_issues.csv", &[]),
        ("evergreen_circulation.csv", &[]),
        ("osticket_tickets.csv", &[]),
        ("rt_tickets.tsv", &[]),
        ("glpi_tickets.csv", &[]),
        ("jira_tickets.csv", &[]),
        ("meraki_clients.csv", &["--site", "T1"]),
        ("snipeit_assets.csv", &[]),
        ("inventory_assets.csv", &[]),
        ("ad_computers.csv", &["--site", "T1"]),
        ("intune_devices.csv", &["--site", "T1"]),
        (
            "real/toronto/tpl-visits-annual-by-branch-2012-2022.csv",
            &[],
        ),
        (
            "real/chicago/Libraries_-_2017_Computer_Sessions_by_Location.csv",
            &[],
        ),
        (
            "generic_sessions.csv",
            &["--map", "tests/data/map_sessions_end_minutes.toml"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut planted = 0;
    for (i, (name, args)) in fixtures.iter().enumerate() {
        let bytes = std::fs::read(data(name)).unwrap();
        let text_in = String::from_utf8_lossy(&bytes)
            .trim_start_matches('\u{feff}')
            .to_string();
        // Windows PowerShell's `#TYPE` line above the header: the reader skips it.
        let text_in = match text_in.strip_prefix("#TYPE") {
            Some(rest) => rest.split_once('\n').map_or("", |(_, r)| r).to_string(),
            None => text_in,
        };
        let delimiter = tally_ingest_delimiter(&text_in);
        let mut r = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(text_in.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let format = detect_format(name, args, &header);
        let safe: Vec<String> = format
            .spec()
            .safe
            .iter()
            .flat_map(|c| c.split('|'))
            .map(|c| c.to_ascii_lowercase().replace(' ', ""))
            .collect();
        // The aggregate formats show their value columns (counts, whatever their names).
        let totals = matches!(
            format,
            tally_ingest::Format::TotalsLong | tally_ingest::Format::TotalsWide
        );
        let value_column = |h: &str| {
            let h = h.to_ascii_lowercase();
            totals && ["visits", "sessions", "ytd"].iter().any(|v| h.contains(v))
        };
        // A mapping shows the columns it maps, but identifiers (user, item, mac).
        let mapped: Vec<String> = match args.iter().position(|a| *a == "--map") {
            Some(i) => {
                let m: toml::Value =
                    toml::from_str(&std::fs::read_to_string(args[i + 1]).unwrap()).unwrap();
                m["columns"]
                    .as_table()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| !["user", "item", "mac"].contains(&k.as_str()))
                    .map(|(_, v)| v.as_str().unwrap().to_ascii_lowercase().replace(' ', ""))
                    .collect()
            }
            None => Vec::new(),
        };
        let is_safe = |h: &str| {
            let n = h.to_ascii_lowercase().replace(' ', "");
            safe.contains(&n) || mapped.contains(&n) || value_column(h)
        };
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_writer(Vec::new());
        w.write_record(&header).unwrap();
        let mut markers = Vec::new();
        for (row, rec) in r.records().enumerate() {
            let rec = rec.unwrap();
            let mut out: Vec<String> = Vec::new();
            for (col, v) in rec.iter().enumerate() {
                let h = header.get(col).map_or("", String::as_str);
                if is_safe(h) {
                    out.push(v.to_string());
                } else {
                    let m = marker(col, row);
                    markers.push(m.clone());
                    out.push(m);
                }
            }
            out.push("one field too many".into());
            w.write_record(&out).unwrap();
        }
        let file = dir
            .path()
            .join(format!("f{i}-{}", name.rsplit('/').next().unwrap()));
        std::fs::write(&file, w.into_inner().unwrap()).unwrap();
        let lake = dir.path().join(format!("lake{i}"));
        let mut cmd = tally(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            "tests/data/sites.toml",
            "--json",
            "--format",
            format.name(),
        ]);
        cmd.env("TALLY_KEY", TEST_KEY)
            .env("TALLY_LOG", "debug")
            .args(*args)
            .arg(&file);
        let out = cmd.output().unwrap();
        assert!(
            matches!(out.status.code(), Some(3) | Some(0)),
            "{name}: {}",
            text(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json[0]["rows_quarantined"], json[0]["rows_read"],
            "{name}: every row quarantined: {}",
            json[0]
        );
        for (what, bytes) in all_bytes(&lake, &[out.stdout.clone(), out.stderr.clone()]) {
            for m in &markers {
                assert!(
                    !bytes.windows(m.len()).any(|w| w == m.as_bytes()),
                    "{name}: marker {m} in {what}"
                );
            }
        }
        planted += markers.len();
    }
    assert!(planted > 100, "markers planted: {planted}");
    // The line and JSON formats: a Symphony line with no library (its user, PIN, item and
    // staff login are markers), a Meraki client with no first sighting, a Windows event
    // whose message names a marker account and has a field too many.
    let others: [(&str, String, &[&str]); 3] = [
        (
            "x.hist",
            "E202606100101012995R ^S05CVFWZQJ1W0K^FFZQJ2W0K^UOZQJ3W0K^UfZQJ4W0K^NQZQJ5W0K^^O\n".into(),
            &[],
        ),
        (
            "c.json",
            "[{\"mac\": \"ZQJ6W0K\", \"description\": \"ZQJ7W0K\", \"user\": \"ZQJ8W0K\", \"ip\": \"ZQJ9W0K\"}]".into(),
            &["--site", "T1"],
        ),
        (
            "T1-PC07.csv",
            "Keywords,Date and Time,Source,Event ID,Task Category\nAudit Success,6/10/2026 9:00:00 AM,Security,4624,Logon,\"New Logon:\n\tAccount Name:\t\tZQJ10W0K\n\tLogon ID:\t\t0x1\",extra\n".into(),
            &["--site", "T1"],
        ),
    ];
    for (i, (name, body, args)) in others.iter().enumerate() {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        let lake = dir.path().join(format!("other{i}"));
        let out = tally(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            "tests/data/sites.toml",
            "--json",
        ])
        .env("TALLY_KEY", TEST_KEY)
        .env("TALLY_LOG", "debug")
        .args(*args)
        .arg(&file)
        .output()
        .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json[0]["rows_quarantined"], 1, "{name}: {json}");
        for (what, bytes) in all_bytes(&lake, &[out.stdout.clone(), out.stderr.clone()]) {
            assert!(
                !bytes.windows(3).any(|w| w == b"ZQJ"),
                "{name}: a marker in {what}"
            );
        }
    }
}

/// The delimiter tally would sniff from a file's first line.
fn tally_ingest_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |d: char| first.matches(d).count();
    [',', ';', '\t']
        .into_iter()
        .max_by_key(|&d| (count(d), d == ','))
        .unwrap_or(',') as u8
}

/// The format of a fixture: named by its mapping or detected from its header.
fn detect_format(name: &str, args: &[&str], header: &[String]) -> tally_ingest::Format {
    if args.contains(&"--map") {
        return tally_ingest::Format::Generic;
    }
    tally_ingest::Format::detect(header).unwrap_or_else(|| panic!("{name}: no format"))
}

#[test]
fn the_demo_key_pseudonymises_only_what_synth_made() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::fs::copy(data("envisionware_strad_bci.csv"), root.join("real/ew.csv")).unwrap();
    let head = "[pipeline]\nname = \"d\"\nlake = \"lake\"\nsites = \"inbox/sites.toml\"\nout = \"out\"\nperiod = \"all\"\n\n[synth]\nout = \"inbox\"\ndays = 3\n";
    // A real export beside the synthetic ones: refused before anything runs.
    let file = root.join("mixed.toml");
    std::fs::write(
        &file,
        format!("{head}\n[[inputs]]\ntable = \"sessions\"\nglob = \"inbox/envisionware/*.csv\"\n\n[[inputs]]\ntable = \"sessions\"\nglob = \"real/*.csv\"\n"),
    )
    .unwrap();
    let out = run(&["run", "--check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("inputs[1].glob") && err.contains("outside synth.out"),
        "{err}"
    );
    // A key file with [synth]: it would be ignored, so it is refused.
    std::fs::write(root.join("key"), "a-real-key-0123456789abcdef").unwrap();
    let file2 = root.join("keyed.toml");
    std::fs::write(
        &file2,
        format!(
            "{}\n[[inputs]]\ntable = \"sessions\"\nglob = \"inbox/envisionware/*.csv\"\n",
            head.replace(
                "period = \"all\"\n",
                "period = \"all\"\nkey_file = \"key\"\n"
            )
        ),
    )
    .unwrap();
    let out = run(&["run", "--check", file2.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("key_file"),
        "{}",
        text(&out.stderr)
    );
    // A demo lake takes no real export, with or without a key.
    let demo = root.join("demo");
    let out = run(&["demo", "--out", demo.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let meta = std::fs::read_to_string(demo.join("lake/_lake.json")).unwrap();
    assert!(meta.contains("\"demo\": true"), "{meta}");
    for key in [Some(TEST_KEY), None] {
        let mut cmd = tally(&[
            "ingest",
            "--lake",
            demo.join("lake").to_str().unwrap(),
            "--sites",
            "tests/data/sites.toml",
            data("real/toronto/tpl-visits-annual-by-branch-2012-2022.csv")
                .to_str()
                .unwrap(),
        ]);
        if let Some(k) = key {
            cmd.env("TALLY_KEY", k);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("demo lake"),
            "{}",
            text(&out.stderr)
        );
    }
}
