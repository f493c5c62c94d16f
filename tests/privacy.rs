//! No raw patron identifier from the input reaches any byte of the lake, the report, the
//! tables, the charts or the logs.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;

/// Every identifier in the synthetic exports: EnvisionWare pcrUserID, Libki usernames.
fn raw_identifiers(inbox: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (sub, column) in [("envisionware", "pcrUserID"), ("libki", "username")] {
        for e in std::fs::read_dir(inbox.join(sub)).unwrap() {
            let mut r = csv::Reader::from_path(e.unwrap().path()).unwrap();
            let idx = r.headers().unwrap().iter().position(|h| h == column).unwrap();
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
    bytes.split(|b| !b.is_ascii_alphanumeric()).filter(|t| !t.is_empty())
}

#[test]
fn no_raw_identifier_leaves_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let out = tally(&["demo", "--days", "40", "--out", dir.path().to_str().unwrap()]).env("TALLY_LOG", "debug").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids = raw_identifiers(&dir.path().join("inbox"));
    assert!(ids.len() > 500, "the demo has many patrons ({})", ids.len());
    let mut checked = 0;
    let mut leaks = Vec::new();
    let mut check = |name: &str, bytes: &[u8]| {
        checked += 1;
        for t in tokens(bytes) {
            if let Ok(t) = std::str::from_utf8(t)
                && ids.contains(t)
            {
                leaks.push(format!("{name}: {t}"));
            }
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
    assert!(leaks.is_empty(), "raw identifiers found: {:?}", &leaks[..leaks.len().min(10)]);
    assert!(checked > 20, "checked {checked} outputs");

    // Parquet pages are compressed, so also read every string value back.
    let lake = dir.path().join("lake");
    let out = run(&["query", "--lake", lake.to_str().unwrap(), "--format", "csv", "SELECT DISTINCT patron_key, station, site FROM sessions"]);
    assert!(out.status.success());
    let values = text(&out.stdout);
    for line in values.lines() {
        for field in line.split(',') {
            assert!(!ids.contains(field), "raw identifier {field} in the lake");
        }
    }
}
