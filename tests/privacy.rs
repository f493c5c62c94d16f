//! No raw patron identifier from the input reaches any byte of the lake, the report, the
//! tables, the charts or the logs.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;

/// Every identifier in the synthetic exports: EnvisionWare pcrUserID, Libki usernames,
/// Symphony user IDs (UO), Koha borrower numbers and Meraki MAC addresses.
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
    for (sub, column) in [("envisionware", "pcrUserID"), ("libki", "username")] {
        for e in std::fs::read_dir(inbox.join(sub)).unwrap() {
            let mut r = csv::Reader::from_path(e.unwrap().path()).unwrap();
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
    let macs: Vec<&String> = ids.iter().filter(|i| i.contains(':')).collect();
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
        if let Some(mac) = macs.iter().find(|m| text.contains(m.as_str())) {
            leaks.push(format!("{name}: {mac}"));
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
