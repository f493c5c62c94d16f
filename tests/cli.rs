//! The command line as users meet it: each command's main paths, with the exit code,
//! stdout and stderr snapshotted together (insta; `cargo insta review` or
//! `INSTA_UPDATE=always` to accept a change). Temporary paths read `[TMP]` and the
//! repository's `[REPO]`, so a snapshot is the same on every machine.
//!
//! A change to what a command prints or how it exits shows here as a diff to review, not
//! as a test that still passes because it only looked for a substring.

use std::path::{Path, PathBuf};

use crate::common::{TEST_KEY, data, tally};

/// A lake of the small fixtures (sessions, circulation, tickets, Wi-Fi, assets,
/// printing) under the test key, with the files, sites.toml and key beside it.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key"), TEST_KEY).unwrap();
        Fixture { dir }
    }

    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).display().to_string()
    }

    fn lake(&self) -> String {
        self.path("lake")
    }

    /// Runs tally and renders what a user sees: the exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> String {
        let out = tally(args).output().expect("tally runs");
        let code = out
            .status
            .code()
            .map_or("killed".to_string(), |c| c.to_string());
        let clean = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .replace(&self.dir.path().display().to_string(), "[TMP]")
                .replace(env!("CARGO_MANIFEST_DIR"), "[REPO]")
        };
        format!(
            "$ tally {}\nexit: {code}\n--- stdout\n{}--- stderr\n{}",
            args.iter()
                .map(|a| {
                    a.replace(&self.dir.path().display().to_string(), "[TMP]")
                        .replace(env!("CARGO_MANIFEST_DIR"), "[REPO]")
                })
                .collect::<Vec<_>>()
                .join(" "),
            clean(&out.stdout),
            clean(&out.stderr)
        )
    }

    /// The fixtures ingested, and the ingest's own snapshot text.
    fn ingested(&self) -> String {
        let files: Vec<PathBuf> = [
            "envisionware_strad_bci.csv",
            "libki_statistics.csv",
            "koha_statistics.csv",
            "osticket_tickets.csv",
            "meraki_clients.json",
            "snipeit_assets.csv",
            "papercut-print-log-2026-06-10.csv",
        ]
        .iter()
        .map(|f| data(f))
        .collect();
        let (lake, sites, key) = (self.lake(), sites(), self.path("key"));
        let mut args = vec![
            "ingest",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--key-file",
            &key,
            "--site",
            "T1",
        ];
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        args.extend(files.iter().map(String::as_str));
        self.run(&args)
    }
}

fn sites() -> String {
    data("sites.toml").display().to_string()
}

#[test]
fn ingest_prints_each_file_and_exits_3_when_rows_were_quarantined() {
    let f = Fixture::new();
    insta::assert_snapshot!("ingest", f.ingested());
    let (lake, sites, key) = (f.lake(), sites(), f.path("key"));
    let again = data("libki_statistics.csv").display().to_string();
    insta::assert_snapshot!(
        "ingest_again_json",
        f.run(&[
            "ingest",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--key-file",
            &key,
            "--json",
            &again
        ])
    );
    let unknown = f.path("notes.csv");
    std::fs::write(&unknown, "colour,shape\nred,square\n").unwrap();
    insta::assert_snapshot!(
        "ingest_unknown_format",
        f.run(&[
            "ingest",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--key-file",
            &key,
            &unknown
        ])
    );
    let wrong_key = f.path("other-key");
    std::fs::write(&wrong_key, "another-key-0123456789abcdef").unwrap();
    insta::assert_snapshot!(
        "ingest_wrong_key",
        f.run(&[
            "ingest",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--key-file",
            &wrong_key,
            &again
        ])
    );
}

#[test]
fn metric_and_chart_answer_and_refuse_as_documented() {
    let f = Fixture::new();
    f.ingested();
    let (lake, sites) = (f.lake(), sites());
    let period = ["--from", "2026-06-08", "--to", "2026-06-15"];
    let with = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--lake", &lake, "--sites", &sites].map(String::from));
        v
    };
    let run = |args: Vec<String>| f.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let mut sessions = with(&["metric", "sessions", "--every", "day", "--by", "site"]);
    sessions.extend(period.map(String::from));
    insta::assert_snapshot!("metric_sessions_table", run(sessions));
    let mut occupancy = with(&["metric", "occupancy", "--every", "all", "--by", "site"]);
    occupancy.extend(period.map(String::from));
    insta::assert_snapshot!("metric_occupancy_table", run(occupancy.clone()));
    occupancy.extend(["--format", "csv"].map(String::from));
    insta::assert_snapshot!("metric_occupancy_csv", run(occupancy));
    let mut bad_dim = with(&["metric", "sessions", "--by", "category"]);
    bad_dim.extend(period.map(String::from));
    insta::assert_snapshot!("metric_bad_dimension", run(bad_dim));
    insta::assert_snapshot!(
        "metric_no_lake",
        f.run(&[
            "metric",
            "sessions",
            "--lake",
            &f.path("nowhere"),
            "--sites",
            &sites
        ])
    );
    let mut bar = with(&[
        "chart", "sessions", "--kind", "bar", "--every", "day", "--by", "site",
    ]);
    bar.extend(period.map(String::from));
    bar.extend(["-o", &f.path("x.svg")].map(String::from));
    insta::assert_snapshot!("chart_bar_needs_one_bucket", run(bar));
    let mut line = with(&[
        "chart", "sessions", "--kind", "line", "--every", "day", "--by", "site",
    ]);
    line.extend(period.map(String::from));
    line.extend(["-o", &f.path("sessions.svg")].map(String::from));
    insta::assert_snapshot!("chart_line", run(line));
    assert!(Path::new(&f.path("sessions.svg")).exists());
}

#[test]
fn query_survey_and_sites_read_the_lake() {
    let f = Fixture::new();
    f.ingested();
    let (lake, sites) = (f.lake(), sites());
    insta::assert_snapshot!(
        "query",
        f.run(&[
            "query",
            "--lake",
            &lake,
            "SELECT site, COUNT(*) AS sessions FROM sessions GROUP BY site ORDER BY site"
        ])
    );
    insta::assert_snapshot!(
        "query_bad_sql",
        f.run(&["query", "--lake", &lake, "SELECT nothing FROM nowhere"])
    );
    insta::assert_snapshot!(
        "survey",
        f.run(&["survey", "--lake", &lake, "--sites", &sites, "--fy", "2026"])
    );
    insta::assert_snapshot!(
        "sites_suggest",
        f.run(&["sites", "suggest", "--lake", &lake, "--sites", &sites])
    );
}

#[test]
fn lake_upkeep_commands() {
    let f = Fixture::new();
    f.ingested();
    let (lake, sites, key) = (f.lake(), sites(), f.path("key"));
    insta::assert_snapshot!("lake_check", f.run(&["lake", "check", "--lake", &lake]));
    insta::assert_snapshot!(
        "lake_upgrade_dry_run",
        f.run(&["lake", "upgrade", "--lake", &lake, "--dry-run"])
    );
    insta::assert_snapshot!(
        "key_check",
        f.run(&["key", "check", "--lake", &lake, "--key-file", &key])
    );
    insta::assert_snapshot!(
        "purge_dry_run",
        f.run(&[
            "purge",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--before",
            "2026-06-11",
            "--dry-run"
        ])
    );
}

#[test]
fn catalogues_doctor_and_pipeline_checks() {
    let f = Fixture::new();
    insta::assert_snapshot!("help", f.run(&["--help"]));
    insta::assert_snapshot!("metric_help", f.run(&["metric", "--help"]));
    insta::assert_snapshot!("formats", f.run(&["formats"]));
    insta::assert_snapshot!("metric_list", f.run(&["metric", "--list"]));
    let file = data("koha_statistics.csv").display().to_string();
    insta::assert_snapshot!("doctor", f.run(&["doctor", "--sites", &sites(), &file]));
    insta::assert_snapshot!(
        "run_check",
        f.run(&["run", "--check", "pipelines/monthly-usage.toml"])
    );
    let bad = f.path("bad.toml");
    std::fs::write(
        &bad,
        "[pipeline]\nname = \"bad\"\nlake = \"lake\"\nsites = \"sites.toml\"\nout = \"out\"\nperiod = \"previous-month\"\n\n[[metrics]]\nname = \"sesions\"\nevery = \"fortnight\"\n\n[[metrics]]\nname = \"occupancy\"\nby = [\"category\"]\n",
    )
    .unwrap();
    insta::assert_snapshot!("run_check_bad", f.run(&["run", "--check", &bad]));
}

#[test]
fn each_format_places_rows_by_its_site_policy() {
    let f = Fixture::new();
    let (lake, sites, key) = (f.lake(), sites(), f.path("key"));
    // A Libki export from before 2013 names no location: the file fails at once unless
    // --site says whose it is.
    let old_libki = f.path("libki-2012.csv");
    std::fs::write(
        &old_libki,
        "id,username,clientname,action,when\n1,21221099990001,PC01,LOGIN,2012-06-10 10:00:00\n2,21221099990001,PC01,LOGOUT,2012-06-10 10:30:00\n",
    )
    .unwrap();
    insta::assert_snapshot!(
        "site_column_missing",
        f.run(&[
            "ingest",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--key-file",
            &key,
            &old_libki
        ])
    );
    insta::assert_snapshot!(
        "site_from_option",
        f.run(&[
            "ingest",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--key-file",
            &key,
            "--site",
            "N1",
            &old_libki
        ])
    );
    // A Meraki network's clients are one site's: --site is required before a row is read.
    let meraki = data("meraki_clients.json").display().to_string();
    insta::assert_snapshot!(
        "site_of_the_whole_file",
        f.run(&[
            "ingest",
            "--lake",
            &lake,
            "--sites",
            &sites,
            "--key-file",
            &key,
            &meraki
        ])
    );
    // An empty branch cell takes --site; without it the row is quarantined, naming the
    // column.
    let blank = f.path("blank-branch.csv");
    std::fs::write(
        &blank,
        "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch\n9001,21221012345678,30,2026-06-10 09:05:00,\n",
    )
    .unwrap();
    insta::assert_snapshot!(
        "site_cell_empty",
        f.run(&[
            "ingest",
            "--lake",
            &f.path("lake2"),
            "--sites",
            &sites,
            "--key-file",
            &key,
            &blank
        ])
    );
    insta::assert_snapshot!(
        "site_cell_empty_with_site",
        f.run(&[
            "ingest",
            "--lake",
            &f.path("lake3"),
            "--sites",
            &sites,
            "--key-file",
            &key,
            "--site",
            "T1",
            &blank
        ])
    );
}

#[test]
fn query_speaks_the_sql_people_write() {
    // What a library's IT team writes against the lake: rounding, text, ranges,
    // subqueries, joins, window ranks, dates. Each must stay answerable (the polars
    // features tally builds with are chosen with these in mind: docs/build.md). polars
    // 0.55 repeats the rows of a CROSS JOIN with an aggregating subquery whose columns the
    // SELECT leaves out (docs/lake.md says so): this query selects them.
    let f = Fixture::new();
    f.ingested();
    let lake = f.lake();
    let sql = "SELECT s.site, CONCAT(s.site, '-', s.station) AS seat, ROUND(s.duration_s / 60.0, 1) AS minutes, \
               ABS(s.duration_s - 3600) AS off_an_hour, \
               RANK() OVER (PARTITION BY s.site ORDER BY s.duration_s DESC) AS longest, \
               EXTRACT(hour FROM s.start) AS utc_hour, \
               CASE WHEN s.duration_s BETWEEN 0 AND 1800 THEN 'short' ELSE 'long' END AS length, \
               k.n AS branches \
               FROM sessions s CROSS JOIN (SELECT COUNT(DISTINCT site) AS n FROM sessions) k \
               WHERE s.site IN (SELECT site FROM sessions WHERE user_type = 'patron') \
               ORDER BY s.site, longest, seat";
    insta::assert_snapshot!(
        "query_sql_functions",
        f.run(&["query", "--lake", &lake, sql])
    );
}
