//! A synthetic five-member consortium, end to end: `tally synth --libraries 5`, then
//! `tally consortium report`. Every figure of the report is the sum or ratio of the
//! members' own `tally metric` answers, and no patron key leaves a member's lake.

use std::path::Path;

use crate::common::*;

const FROM: &str = "2026-01-01";
const TO: &str = "2026-02-10";

/// A member's one cell of `tally metric NAME --every all` (with `extra` flags), or
/// `None` for an empty cell.
fn cell(lake: &Path, sites: &Path, args: &[&str], value: &str) -> Vec<(Vec<String>, Option<f64>)> {
    let mut all = vec![
        "metric",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
        "--format",
        "csv",
    ];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let at = header.iter().position(|h| h == value).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let row: Vec<String> = rec.iter().map(String::from).collect();
            (row.clone(), row[at].parse::<f64>().ok())
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(x), Some(y)) => assert!(
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            "{what}: report {x}, members' answers {y}"
        ),
        (None, None) => {}
        _ => panic!("{what}: report {a:?}, members' answers {b:?}"),
    }
}

#[test]
fn a_consortium_report_is_its_members_own_answers() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "synth",
        "--libraries",
        "5",
        "--days",
        "40",
        "--start",
        FROM,
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = dir.path().join("consortium.toml");
    let report = dir.path().join("report");
    let period = format!("{FROM}..2026-02-09");
    let out = run(&[
        "consortium",
        "report",
        "--config",
        config.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
        "--period",
        &period,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in [
        "consortium.html",
        "consortium.xlsx",
        "tables/members.csv",
        "tables/comparison.csv",
        "tables/trends.csv",
    ] {
        assert!(report.join(f).exists(), "{f}");
    }

    let members = std::fs::read_to_string(report.join("tables/members.csv")).unwrap();
    let mut r = csv::Reader::from_reader(members.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 6, "five members and the consortium");
    let get = |row: &[String], c: &str| -> Option<f64> {
        row[header
            .iter()
            .position(|h| h == c)
            .unwrap_or_else(|| panic!("{c}"))]
        .parse()
        .ok()
    };
    let mut sums = std::collections::BTreeMap::<&str, f64>::new();
    let mut residents = 0.0;
    for row in &rows[..5] {
        let code = &row[0];
        let base = dir.path().join("members").join(code);
        let (lake, sites) = (base.join("lake"), base.join("inbox/sites.toml"));
        let population = get(row, "population").unwrap();
        residents += population;
        for m in [
            "sessions",
            "circulation",
            "wifi_sessions",
            "print_pages",
            "tickets_opened",
        ] {
            let theirs = cell(
                &lake,
                &sites,
                &[m, "--from", FROM, "--to", TO, "--every", "all"],
                m,
            )[0]
            .1;
            close(get(row, m), theirs, &format!("{code} {m}"));
            close(
                get(row, &format!("{m}_per_1000")),
                theirs.map(|v| v * 1000.0 / population),
                &format!("{code} {m} per 1,000"),
            );
            *sums.entry(m).or_default() += theirs.unwrap();
        }
        let status = cell(
            &lake,
            &sites,
            &["os_support", "--as-of", "2026-02-09", "--by", "status"],
            "os_support",
        );
        let all: f64 = status.iter().filter_map(|(_, v)| *v).sum();
        let out_of_support: f64 = status
            .iter()
            .filter(|(row, _)| row[0] == "unsupported")
            .filter_map(|(_, v)| *v)
            .sum();
        close(get(row, "devices"), Some(all), &format!("{code} devices"));
        close(
            get(row, "out_of_support_share"),
            Some(out_of_support / all),
            &format!("{code} share out of support"),
        );
        let cost = cell(
            &lake,
            &sites,
            &[
                "replacement_cost",
                "--from",
                FROM,
                "--to",
                TO,
                "--every",
                "all",
            ],
            "replacement_cost",
        )[0]
        .1;
        close(
            get(row, "replacement_cost_due"),
            cost,
            &format!("{code} replacement cost due"),
        );
    }
    let all = &rows[5];
    assert_eq!(all[0], "(consortium)");
    for (m, total) in &sums {
        close(get(all, m), Some(*total), &format!("consortium {m}"));
        close(
            get(all, &format!("{m}_per_1000")),
            Some(total * 1000.0 / residents),
            &format!("consortium {m} per 1,000"),
        );
    }

    // No patron key of any member in any output.
    let mut keys = Vec::new();
    for row in &rows[..5] {
        let lake = dir.path().join("members").join(&row[0]).join("lake");
        let out = run(&[
            "query",
            "--lake",
            lake.to_str().unwrap(),
            "--format",
            "csv",
            "SELECT DISTINCT patron_key FROM sessions WHERE patron_key IS NOT NULL LIMIT 200",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        keys.extend(
            text(&out.stdout)
                .lines()
                .skip(1)
                .filter(|k| k.len() > 6)
                .map(String::from),
        );
    }
    assert!(
        keys.len() > 100,
        "the members have patrons ({})",
        keys.len()
    );
    for f in walk(&report) {
        let bytes = std::fs::read(&f).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        for k in &keys {
            assert!(
                !body.contains(k.as_str()),
                "{} holds the patron key {k}",
                f.display()
            );
        }
    }
}
