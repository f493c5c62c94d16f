//! The circulation, Wi-Fi and work-order metrics on the fixtures, against numbers worked
//! out by hand from docs/metrics.md's definitions.

use polars::prelude::{CsvReadOptions, CsvWriter, DataType, Field, Schema, SerReader, SerWriter};
use tally_metrics::{Dim, Metric};
use tally_model::BucketKind;

use crate::common::*;

fn lake_of(files: &[&str], extra: &[&str]) -> (tempfile::TempDir, tally_lake::Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut cmd = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
    ]);
    cmd.env("TALLY_KEY", TEST_KEY)
        .args(extra)
        .args(files.iter().map(|f| data(f)));
    let out = cmd.output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        text(&out.stderr)
    );
    (dir, tally_lake::Lake::new(lake))
}

fn one(
    lake: &tally_lake::Lake,
    m: Metric,
    from: &str,
    to: &str,
    every: BucketKind,
    bucket: &str,
) -> Option<f64> {
    value_at(
        &metric(lake, &test_sites(), m, from, to, every, &[]),
        m.name(),
        bucket,
    )
}

#[test]
fn circulation_counts_follow_the_survey_rule() {
    // koha_statistics.csv: issue x2, onsite_checkout, renew, return, localuse (payment,
    // writeoff excluded; one bad date quarantined).
    let (_d, lake) = lake_of(&["koha_statistics.csv"], &[]);
    let day = |m| {
        one(
            &lake,
            m,
            "2026-06-10",
            "2026-06-11",
            BucketKind::Day,
            "2026-06-10",
        )
    };
    assert_eq!(day(Metric::Checkouts), Some(3.0));
    assert_eq!(day(Metric::Renewals), Some(1.0));
    assert_eq!(day(Metric::Checkins), Some(1.0));
    assert_eq!(day(Metric::InHouseUses), Some(1.0));
    assert_eq!(
        day(Metric::Circulation),
        Some(4.0),
        "checkouts + renewals, in-house use out"
    );
    let by = metric(
        &lake,
        &test_sites(),
        Metric::Circulation,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Day,
        &[Dim::Site],
    );
    assert_eq!(value_at(&by, "circulation", "2026-06-10"), Some(4.0));
    // A breakdown by patron category is small enough to single someone out: suppressed.
    let cat = metric(
        &lake,
        &test_sites(),
        Metric::Checkouts,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Day,
        &[Dim::PatronCategory],
    );
    assert!(cat.column("checkouts").unwrap().null_count() > 0, "{cat}");
}

#[test]
fn wifi_connections_and_devices() {
    let (_d, lake) = lake_of(
        &["meraki_clients.json", "meraki_clients.csv"],
        &["--site", "T1"],
    );
    let day = |m, d: &str| one(&lake, m, "2026-06-01", "2026-06-03", BucketKind::Day, d);
    assert_eq!(day(Metric::WifiSessions, "2026-06-01"), Some(2.0));
    assert_eq!(day(Metric::WifiSessions, "2026-06-02"), Some(1.0));
    assert_eq!(day(Metric::WifiDevices, "2026-06-01"), Some(2.0));
}

#[test]
fn tickets_backlog_and_time_to_resolve() {
    let (_d, lake) = lake_of(
        &[
            "osticket_tickets.csv",
            "rt_tickets.tsv",
            "glpi_tickets.csv",
            "jira_tickets.csv",
        ],
        &[],
    );
    let day = |m, d: &str| one(&lake, m, "2026-06-01", "2026-06-07", BucketKind::Day, d);
    // Opened on 06-01: osTicket 100231, RT 41 and 42.
    assert_eq!(day(Metric::TicketsOpened, "2026-06-01"), Some(3.0));
    // Open at the end of each day (Jira's ITHELP-13 has been waiting since 2025):
    // 06-01: RT 41, RT 42, ITHELP-13; 06-02: + osTicket 100232, RT 43; 06-03: RT 42 resolved.
    assert_eq!(day(Metric::Backlog, "2026-06-01"), Some(3.0));
    assert_eq!(day(Metric::Backlog, "2026-06-02"), Some(5.0));
    assert_eq!(day(Metric::Backlog, "2026-06-03"), Some(4.0));
    // Resolved in June 2026: 1.5 h (100231), 0.6667 h (100233), 54.5 h (RT 42), 19.5 h
    // (GLPI 8). Sorted: 0.667, 1.5, 19.5, 54.5. Median (1.5 + 19.5) / 2 = 10.5;
    // p90 at rank 0.9 x 3 = 2.7: 19.5 + 0.7 x (54.5 - 19.5) = 44.0.
    let june = |m| {
        one(
            &lake,
            m,
            "2026-06-01",
            "2026-07-01",
            BucketKind::Month,
            "2026-06",
        )
    };
    assert_eq!(june(Metric::TicketsResolved), Some(4.0));
    let median = june(Metric::HoursToResolveMedian).unwrap();
    assert!((median - 10.5).abs() < 1e-9, "{median}");
    let p90 = june(Metric::HoursToResolveP90).unwrap();
    assert!((p90 - 44.0).abs() < 1e-9, "{p90}");
    // No ticket resolved in a bucket: no median (not zero).
    assert_eq!(
        one(
            &lake,
            Metric::HoursToResolveMedian,
            "2026-08-01",
            "2026-09-01",
            BucketKind::Month,
            "2026-08"
        ),
        None
    );
}

#[test]
fn a_breakdown_the_metric_does_not_have_is_refused() {
    let (_d, lake) = lake_of(&["koha_statistics.csv"], &[]);
    let err = tally_metrics::compute(
        &lake.snapshot().unwrap(),
        &test_sites(),
        &tally_metrics::Request {
            metric: Metric::Occupancy,
            from: date("2026-06-01"),
            to: date("2026-06-02"),
            every: BucketKind::Day,
            by: vec![Dim::Event],
            budget: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "occupancy cannot be broken down by event; it can by site, station, user_type"
        ),
        "{err}"
    );
}

#[test]
fn replacement_schedule_by_fiscal_year() {
    // Snipe-IT + inventory fixtures, test library's fiscal year from July, life 5 years by
    // default: PC-0001 and PC-0002 (2021-03-15) fall due 2026-03-15, in FY2026; the laptop
    // (2024-01-10, 4 years) on 2028-01-10, in FY2028; retired ones never.
    let (_d, lake) = lake_of(&["snipeit_assets.csv", "inventory_assets.csv"], &[]);
    let fy = |m, from: &str, to: &str, label: &str| {
        one(&lake, m, from, to, BucketKind::FiscalYear, label)
    };
    assert_eq!(
        fy(Metric::ReplacementDue, "2025-07-01", "2028-07-01", "FY2026"),
        Some(2.0)
    );
    assert_eq!(
        fy(Metric::ReplacementDue, "2025-07-01", "2028-07-01", "FY2027"),
        Some(0.0)
    );
    assert_eq!(
        fy(Metric::ReplacementDue, "2025-07-01", "2028-07-01", "FY2028"),
        Some(1.0)
    );
    // No unit costs in the test sites.toml: the purchase costs.
    assert_eq!(
        fy(
            Metric::ReplacementCost,
            "2025-07-01",
            "2028-07-01",
            "FY2026"
        ),
        Some(2198.0)
    );
    // The running total: 2,198 in FY2026, nothing more in FY2027, the laptop's 1,300 in
    // FY2028 (docs/metrics.md, replacement_cost_cumulative).
    for (label, total) in [("FY2026", 2198.0), ("FY2027", 2198.0), ("FY2028", 3498.0)] {
        assert_eq!(
            fy(
                Metric::ReplacementCostCumulative,
                "2025-07-01",
                "2028-07-01",
                label
            ),
            Some(total),
            "{label}"
        );
    }
    // Overdue at the start of a later period: still to replace, in its first year.
    assert_eq!(
        fy(Metric::ReplacementDue, "2027-07-01", "2028-07-01", "FY2028"),
        Some(3.0)
    );
    let by_kind = metric(
        &lake,
        &test_sites(),
        Metric::ReplacementDue,
        "2025-07-01",
        "2026-07-01",
        BucketKind::FiscalYear,
        &[Dim::Kind],
    );
    assert_eq!(by_kind.height(), 1, "{by_kind}");
    assert_eq!(
        by_kind.column("kind").unwrap().str().unwrap().get(0),
        Some("public_pc")
    );
    // Survey line 650: stations of every site (2 + 2).
    assert_eq!(
        one(
            &lake,
            Metric::PublicComputers,
            "2025-07-01",
            "2026-07-01",
            BucketKind::FiscalYear,
            "FY2026"
        ),
        Some(4.0)
    );
}

#[test]
fn equity_shares_and_use_per_1000_residents() {
    // envisionware_strad_bci.csv, Wednesday 2026-06-10: T1 has 4 sessions (one a guest),
    // BKM (not in sites.toml, no population) 1; none after 17:00, none on a weekend.
    let (_d, lake) = lake_of(&["envisionware_strad_bci.csv"], &[]);
    let sites = test_sites();
    let by_site = |m: Metric| {
        metric(
            &lake,
            &sites,
            m,
            "2026-06-10",
            "2026-06-11",
            BucketKind::Day,
            &[Dim::Site],
        )
    };
    let t1 = |df: &polars::prelude::DataFrame, col: &str| {
        let site = df.column("site").unwrap().str().unwrap().clone();
        let v = df.column(col).unwrap().f64().unwrap().clone();
        (0..df.height())
            .find(|&i| site.get(i) == Some("T1"))
            .and_then(|i| v.get(i))
    };
    assert_eq!(t1(&by_site(Metric::GuestShare), "guest_share"), Some(0.25));
    assert_eq!(
        t1(
            &by_site(Metric::EveningWeekendShare),
            "evening_weekend_share"
        ),
        Some(0.0)
    );
    // 4 sessions / 10,000 residents x 1,000 = 0.4; library-wide 5 / 15,000 x 1,000.
    assert_eq!(
        t1(&by_site(Metric::SessionsPer1000), "sessions_per_1000"),
        Some(0.4)
    );
    let all = one(
        &lake,
        Metric::SessionsPer1000,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Day,
        "2026-06-10",
    )
    .unwrap();
    assert!((all - 5.0 / 15.0).abs() < 1e-12, "{all}");
}

#[test]
fn year_over_year_pairs_the_same_months() {
    // Koha statistics from June 2026 only: June 2025 had nothing, so the change is empty.
    let (_d, lake) = lake_of(
        &[
            "koha_statistics.csv",
            "real/toronto/tpl-circulation-annual-by-branch-2012-2022.csv",
        ],
        &[],
    );
    let out = tally_metrics::compute_yoy(
        &lake.snapshot().unwrap(),
        &test_sites(),
        &tally_metrics::Request {
            metric: Metric::Circulation,
            from: date("2026-05-01"),
            to: date("2026-07-01"),
            every: BucketKind::Month,
            by: vec![],
            budget: None,
        },
    )
    .unwrap();
    let df = out.frame;
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        [
            "bucket",
            "circulation",
            "partial",
            "days_covered",
            "bucket_days",
            "previous_year",
            "change_pct"
        ]
    );
    assert_eq!(value_at(&df, "circulation", "2026-06"), Some(4.0));
    // The lake's data is one day, 2026-06-10: June is partial, and not set against the
    // whole of June 2025.
    assert_eq!(value_at(&df, "days_covered", "2026-06"), Some(1.0));
    assert_eq!(value_at(&df, "previous_year", "2026-06"), None);
    assert_eq!(value_at(&df, "change_pct", "2026-06"), None);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("not compared") && w.contains("2026-06")),
        "{:?}",
        out.warnings
    );
    // Two checkouts in the first ten days of June 2025 (and one in May, so the lake's
    // data covers both Junes from their first day): June 2026 up to the data's end,
    // 2026-06-11, is set against the same days of 2025, 4 against 2, +100%.
    let dir = tempfile::tempdir().unwrap();
    let last_year = dir.path().join("koha_2025.csv");
    std::fs::write(
        &last_year,
        "datetime,branch,value,type,other,itemnumber,itemtype,location,borrowernumber,ccode,categorycode,interface\n\
         2025-05-01 10:00:00,T1,0,issue,,2000,BK,ADULT,60,FIC,PT,intranet\n\
         2025-06-09 10:00:00,T1,0,issue,,2001,BK,ADULT,61,FIC,PT,intranet\n2025-06-10 10:00:00,N1,0,issue,,2002,BK,ADULT,62,FIC,PT,intranet\n",
    )
    .unwrap();
    let mut cmd = tally(&[
        "ingest",
        "--lake",
        lake.root().to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
    ]);
    assert_eq!(
        cmd.env("TALLY_KEY", TEST_KEY)
            .arg(&last_year)
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    let req = tally_metrics::Request {
        metric: Metric::Circulation,
        from: date("2026-05-01"),
        to: date("2026-06-11"),
        every: BucketKind::Month,
        by: vec![],
        budget: None,
    };
    let df = tally_metrics::compute_yoy(&lake.snapshot().unwrap(), &test_sites(), &req)
        .unwrap()
        .frame;
    assert_eq!(value_at(&df, "days_covered", "2026-06"), Some(10.0));
    assert_eq!(value_at(&df, "bucket_days", "2026-06"), Some(30.0));
    assert_eq!(value_at(&df, "previous_year", "2026-06"), Some(2.0));
    assert_eq!(value_at(&df, "change_pct", "2026-06"), Some(100.0));
    let days = tally_metrics::compute_yoy(
        &lake.snapshot().unwrap(),
        &test_sites(),
        &tally_metrics::Request {
            metric: Metric::Circulation,
            from: date("2026-05-01"),
            to: date("2026-07-01"),
            every: BucketKind::Day,
            by: vec![],
            budget: None,
        },
    );
    assert!(days.unwrap_err().to_string().contains("not days"));
}

#[test]
fn trends_join_events_with_past_years_totals() {
    // Toronto's workstation sessions 2012-2017 (totals) and a day of 2026 sessions (events).
    let (_d, lake) = lake_of(
        &[
            "real/toronto/tpl-workstation-usage-annual-by-branch-2012-2017.csv",
            "envisionware_strad_bci.csv",
        ],
        &[],
    );
    let mut sites = test_sites();
    sites.library.fiscal_year_start_month = 1;
    let req = tally_metrics::Request {
        metric: Metric::SessionsTrend,
        from: date("2012-01-01"),
        to: date("2027-01-01"),
        every: BucketKind::FiscalYear,
        by: vec![],
        budget: None,
    };
    let df = tally_metrics::compute(&lake.snapshot().unwrap(), &sites, &req)
        .unwrap()
        .frame;
    // 2012: every branch's row of that year, summed (no library-wide row in the file).
    let csv = std::fs::read_to_string(data(
        "real/toronto/tpl-workstation-usage-annual-by-branch-2012-2017.csv",
    ))
    .unwrap();
    let total_2012: f64 = csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("2012"))
        .map(|l| l.split(',').nth(3).unwrap().trim().parse::<f64>().unwrap())
        .sum();
    assert_eq!(value_at(&df, "sessions_trend", "FY2012"), Some(total_2012));
    assert_eq!(
        value_at(&df, "sessions_trend", "FY2020"),
        None,
        "neither events nor totals"
    );
    assert_eq!(value_at(&df, "sessions_trend", "FY2026"), Some(5.0));
    let from = df.column("from").unwrap().str().unwrap().clone();
    let bucket = df.column("bucket").unwrap().str().unwrap().clone();
    let from_of = |b: &str| {
        (0..df.height())
            .find(|&i| bucket.get(i) == Some(b))
            .and_then(|i| from.get(i))
    };
    assert_eq!(
        (from_of("FY2012"), from_of("FY2026"), from_of("FY2020")),
        (Some("totals"), Some("events"), None)
    );
}

#[test]
fn circulation_and_wifi_trends_reach_back_into_totals() {
    // Toronto's circulation by branch 2012-2022 and Chicago's library-wide Wi-Fi sessions
    // by month 2011-2014: a year's trend is the year's totals (every branch summed; the
    // twelve months summed), checked against the files themselves.
    let (_d, lake) = lake_of(
        &[
            "real/toronto/tpl-circulation-annual-by-branch-2012-2022.csv",
            "real/chicago/Libraries_-_WiFi_Usage__2011-2014_.csv",
        ],
        &[],
    );
    let mut sites = test_sites();
    sites.library.fiscal_year_start_month = 1;
    let trend = |m: Metric, year: &str| {
        let df = tally_metrics::compute(
            &lake.snapshot().unwrap(),
            &sites,
            &tally_metrics::Request {
                metric: m,
                from: date("2011-01-01"),
                to: date("2023-01-01"),
                every: BucketKind::FiscalYear,
                by: vec![],
                budget: None,
            },
        )
        .unwrap()
        .frame;
        value_at(&df, m.name(), year)
    };
    let toronto = std::fs::read_to_string(data(
        "real/toronto/tpl-circulation-annual-by-branch-2012-2022.csv",
    ))
    .unwrap();
    let circ_2015: f64 = toronto
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("2015"))
        .map(|l| l.split(',').nth(3).unwrap().trim().parse::<f64>().unwrap())
        .sum();
    assert_eq!(trend(Metric::CirculationTrend, "FY2015"), Some(circ_2015));
    // December 2011's cumulative column is the year's sum: 334,230.
    assert_eq!(trend(Metric::WifiTrend, "FY2011"), Some(334_230.0));
    assert_eq!(trend(Metric::WifiTrend, "FY2016"), None);
}

#[test]
fn station_advice_against_the_thresholds() {
    // T1 (2 stations, 8 open hours): both busy 10:00-11:00, so its busiest hour is 100%
    // full although the day is 12.5% occupied: add. N1 (2 stations, open all day): one
    // hour on one station, 2% occupied and never full: reduce. Thresholds are defaults.
    let dir = tempfile::tempdir().unwrap();
    let sites = test_sites();
    let (lake, _) = ingest_text(
        dir.path(),
        &sites,
        "s.csv",
        &envisionware_csv(&[
            ("T1", "PC1", "2026-06-10 10:00:00", 60),
            ("T1", "PC2", "2026-06-10 10:00:00", 60),
            ("N1", "PC1", "2026-06-10 10:00:00", 60),
        ]),
    );
    let req = tally_metrics::Request {
        metric: Metric::StationAdvice,
        from: date("2026-06-10"),
        to: date("2026-06-11"),
        every: BucketKind::All,
        by: vec![],
        budget: None,
    };
    let df = tally_metrics::compute(&lake.snapshot().unwrap(), &sites, &req)
        .unwrap()
        .frame;
    let advice: Vec<_> = df
        .column("station_advice")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect();
    let site: Vec<_> = df
        .column("site")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect();
    assert_eq!(site, ["N1", "T1"]);
    assert_eq!(advice, ["reduce", "add"]);
    let busiest = df
        .column("busiest_hour_occupancy")
        .unwrap()
        .f64()
        .unwrap()
        .get(1);
    assert_eq!(busiest, Some(1.0));
}

#[test]
fn cost_per_use_prorates_the_fleet() {
    // Two public PCs at T1 (Snipe-IT fixture, $1,099 each, 5-year life): 439.60 a year.
    // On 2026-06-10, T1 had 4 sessions: 439.60 / 365.25 / 4 per session.
    let (_d, lake) = lake_of(&["snipeit_assets.csv", "envisionware_strad_bci.csv"], &[]);
    let df = metric(
        &lake,
        &test_sites(),
        Metric::CostPerUse,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Day,
        &[Dim::Site],
    );
    let site = df.column("site").unwrap().str().unwrap().clone();
    let v = df.column("cost_per_use").unwrap().f64().unwrap().clone();
    let t1 = (0..df.height())
        .find(|&i| site.get(i) == Some("T1"))
        .and_then(|i| v.get(i))
        .unwrap();
    assert!(
        (t1 - 2.0 * 1099.0 / 5.0 / 365.25 / 4.0).abs() < 1e-9,
        "{t1}"
    );
}

#[test]
fn survey_figures_of_a_hand_made_year_match_the_golden_file() {
    // The golden file was written by hand from tests/data/survey_year (its comments are
    // in the test's history); TALLY_BLESS=1 rewrites it from tally's output instead.
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for (file, extra) in [
        ("survey_year/sessions.csv", vec![]),
        ("survey_year/circulation.csv", vec![]),
        ("survey_year/wifi.csv", vec!["--site", "T1"]),
    ] {
        let mut cmd = tally(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            "tests/data/sites.toml",
        ]);
        cmd.env("TALLY_KEY", TEST_KEY).args(extra).arg(data(file));
        assert_eq!(cmd.output().unwrap().status.code(), Some(0), "{file}");
    }
    let mut got = tally_metrics::survey(
        &(tally_lake::Lake::new(&lake)).snapshot().unwrap(),
        &test_sites(),
        date("2024-07-01"),
        date("2025-07-01"),
    )
    .unwrap();
    let golden = data("../golden/survey_fy2025.csv");
    if std::env::var_os("TALLY_BLESS").is_some() {
        let mut f = std::fs::File::create(&golden).unwrap();
        CsvWriter::new(&mut f).finish(&mut got).unwrap();
    }
    let want = CsvReadOptions::default()
        .with_schema_overwrite(Some(std::sync::Arc::new(Schema::from_iter([Field::new(
            "line".into(),
            DataType::String,
        )]))))
        .try_into_reader_with_file_path(Some(golden))
        .unwrap()
        .finish()
        .unwrap();
    assert_frame_eq(&got, &want);
}

#[test]
fn automatic_renewals_count_as_the_library_says() {
    // Koha marks the system's own renewals with the interface "cron"; Evergreen with
    // auto_renewal. One manual and one automatic renewal each, plus a checkout.
    let dir = tempfile::tempdir().unwrap();
    let koha = dir.path().join("koha.csv");
    std::fs::write(
        &koha,
        "datetime,branch,value,type,other,itemnumber,itemtype,location,borrowernumber,ccode,categorycode,interface\n\
         2026-06-10 10:00:00,T1,0,issue,,1,BK,A,5,F,PT,intranet\n\
         2026-06-10 11:00:00,T1,0,renew,,1,BK,A,5,F,PT,opac\n\
         2026-06-10 02:00:00,T1,0,renew,,2,BK,A,6,F,PT,cron\n",
    )
    .unwrap();
    let eg = dir.path().join("eg.csv");
    std::fs::write(
        &eg,
        "id,usr,xact_start,target_copy,circ_lib,opac_renewal,auto_renewal\n1,7,2026-06-10 12:00:00-05,9,T1,t,f\n2,8,2026-06-10 03:00:00-05,10,T1,f,t\n",
    )
    .unwrap();
    let lake = dir.path().join("lake");
    let mut cmd = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
    ]);
    assert_eq!(
        cmd.env("TALLY_KEY", TEST_KEY)
            .args([&koha, &eg])
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    let lake = tally_lake::Lake::new(lake);
    let mut sites = test_sites();
    let day = |sites: &tally_model::Sites, m: Metric| {
        value_at(
            &metric(
                &lake,
                sites,
                m,
                "2026-06-10",
                "2026-06-11",
                BucketKind::Day,
                &[],
            ),
            m.name(),
            "2026-06-10",
        )
    };
    assert_eq!(
        day(&sites, Metric::Renewals),
        Some(4.0),
        "counted by default"
    );
    assert_eq!(day(&sites, Metric::Circulation), Some(5.0));
    sites.library.count_automatic_renewals = false;
    assert_eq!(day(&sites, Metric::Renewals), Some(2.0));
    assert_eq!(day(&sites, Metric::Circulation), Some(3.0));
}
