//! Partial buckets (docs/metrics.md, "Partial buckets"): a bucket the period or the
//! lake's data covers only in part says so in every output (`partial`, `days_covered`,
//! `bucket_days`), `--complete-only` drops it, `--yoy` compares it only with the same
//! days a year before, charts draw it lighter or dashed, and the report says so.

use polars::prelude::*;
use tally_metrics::{Metric, Request};
use tally_model::BucketKind;

use crate::common::*;

/// One session a day at T1 (open every day 09:00-17:00, closed 2026-06-13) from `first`
/// for `days` days.
fn daily(first: &str, days: i64) -> (tempfile::TempDir, tally_lake::Lake, tally_model::Sites) {
    let start = date(first);
    let times: Vec<String> = (0..days)
        .map(|d| format!("{} 10:00:00", start + chrono::Duration::days(d)))
        .collect();
    let rows: Vec<(&str, &str, &str, i64)> = times
        .iter()
        .map(|t| ("T1", "PC1", t.as_str(), 30))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let sites = test_sites();
    let (lake, outcomes) = ingest_text(dir.path(), &sites, "s.csv", &envisionware_csv(&rows));
    assert_eq!(outcomes[0].summary.rows_accepted, days as u64);
    (dir, lake, sites)
}

fn compute(
    lake: &tally_lake::Lake,
    sites: &tally_model::Sites,
    from: &str,
    to: &str,
    every: BucketKind,
) -> tally_metrics::Output {
    tally_metrics::compute(
        &lake.snapshot().unwrap(),
        sites,
        &Request {
            metric: Metric::Sessions,
            from: date(from),
            to: date(to),
            every,
            by: vec![],
            budget: None,
        },
    )
    .unwrap()
}

/// (bucket, sessions, partial, days_covered, bucket_days) of each row.
fn rows(out: &tally_metrics::Output) -> DataFrame {
    out.frame
        .select([
            "bucket",
            "sessions",
            "partial",
            "days_covered",
            "bucket_days",
        ])
        .unwrap()
}

#[test]
fn a_week_cut_by_to_is_partial() {
    // Sessions every day of June 2026; weeks from Monday 06-01, up to Thursday 06-18.
    let (_d, lake, sites) = daily("2026-06-01", 30);
    let out = compute(&lake, &sites, "2026-06-01", "2026-06-18", BucketKind::Week);
    let expected = df!(
        "bucket" => ["2026-W23", "2026-W24", "2026-W25"],
        // 06-13 is a day the lake has a session for, whatever the hours say.
        "sessions" => [7.0, 7.0, 3.0],
        "partial" => [false, false, true],
        "days_covered" => [7i64, 7, 3],
        "bucket_days" => [7i64, 7, 7],
    )
    .unwrap();
    let got = rows(&out)
        .lazy()
        .with_column(col("sessions").cast(DataType::Float64))
        .collect()
        .unwrap();
    assert_frame_eq(&got, &expected);
    // --complete-only leaves the cut week out and says so.
    let whole = out.complete_only().unwrap();
    assert_eq!(whole.frame.height(), 2);
    assert!(
        whole.warnings.iter().any(|w| w.contains("2026-W25")),
        "{:?}",
        whole.warnings
    );
}

#[test]
fn the_month_the_lakes_data_ends_in_is_partial() {
    // Data from 2026-05-01 to 2026-06-20: June holds 20 of its 30 days.
    let (_d, lake, sites) = daily("2026-05-01", 51);
    let out = compute(&lake, &sites, "2026-05-01", "2026-07-01", BucketKind::Month);
    assert_eq!(value_at(&out.frame, "days_covered", "2026-05"), Some(31.0));
    assert_eq!(value_at(&out.frame, "days_covered", "2026-06"), Some(20.0));
    assert_eq!(value_at(&out.frame, "bucket_days", "2026-06"), Some(30.0));
    let partial = out.frame.column("partial").unwrap().bool().unwrap().clone();
    assert_eq!(partial.get(0), Some(false));
    assert_eq!(partial.get(1), Some(true));
}

#[test]
fn a_fiscal_year_in_progress_is_partial() {
    // The test library's fiscal year starts in July: FY2026 runs 2025-07-01 to
    // 2026-06-30; the lake's data starts on 2026-05-01, 304 days in.
    let (_d, lake, sites) = daily("2026-05-01", 51);
    let out = compute(
        &lake,
        &sites,
        "2025-07-01",
        "2026-07-01",
        BucketKind::FiscalYear,
    );
    assert_eq!(out.frame.height(), 1);
    assert_eq!(value_at(&out.frame, "days_covered", "FY2026"), Some(51.0));
    assert_eq!(value_at(&out.frame, "bucket_days", "FY2026"), Some(365.0));
}

#[test]
fn year_over_year_leaves_out_a_bucket_the_data_covers_in_part() {
    // 2025-05-01 to 2026-06-20, a session a day: June 2026 holds 20 days.
    let (_d, lake, sites) = daily("2025-05-01", 416);
    let req = |to: &str| Request {
        metric: Metric::Sessions,
        from: date("2026-04-01"),
        to: date(to),
        every: BucketKind::Month,
        by: vec![],
        budget: None,
    };
    let out =
        tally_metrics::compute_yoy(&lake.snapshot().unwrap(), &sites, &req("2026-07-01")).unwrap();
    // May against May 2025 (whole in both years): 31 against 31.
    assert_eq!(value_at(&out.frame, "previous_year", "2026-05"), Some(31.0));
    assert_eq!(value_at(&out.frame, "change_pct", "2026-05"), Some(0.0));
    // April 2025 is before the data: not compared, nor is June 2026 (20 of 30 days).
    assert_eq!(value_at(&out.frame, "previous_year", "2026-04"), None);
    assert_eq!(value_at(&out.frame, "previous_year", "2026-06"), None);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("2026-04") && w.contains("2026-06")),
        "{:?}",
        out.warnings
    );
    // Cut by the period on the data's last day instead, June is compared with the same
    // 20 days of June 2025.
    let out =
        tally_metrics::compute_yoy(&lake.snapshot().unwrap(), &sites, &req("2026-06-21")).unwrap();
    assert_eq!(value_at(&out.frame, "sessions", "2026-06"), Some(20.0));
    assert_eq!(value_at(&out.frame, "previous_year", "2026-06"), Some(20.0));
}

#[test]
fn the_table_format_shows_partial_buckets_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let lake = dir.path().join("lake");
    let (code, _, stderr) = ingest_cli(&lake, &key, &[], &[&data("envisionware_strad_bci.csv")]);
    assert!(code == 0 || code == 3, "{stderr}");
    let out = run(&[
        "metric",
        "sessions",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        "--every",
        "week",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The fixture is one day, Wednesday 2026-06-10: its week is 1 of 7 days.
    let table = text(&out.stdout);
    assert!(
        table.contains("2026-W24") && table.contains("1 of 7 days"),
        "{table}"
    );
}

#[test]
fn the_usage_report_says_which_buckets_are_partial_and_draws_them_so() {
    // Sessions from Friday 2026-05-01; the report's weeks run Monday to Sunday, so its
    // first week holds 3 of 7 days and its last, cut on Thursday 06-18, 3 of 7.
    let (_d, lake, sites) = daily("2026-05-01", 51);
    let report = tally_report::usage::build(
        &lake.snapshot().unwrap(),
        &sites,
        date("2026-05-01"),
        date("2026-06-18"),
    )
    .unwrap();
    let sessions = report
        .sections
        .iter()
        .find(|s| s.id == "sessions")
        .expect("a sessions section");
    assert!(
        sessions.lead.contains("2026-W18 (3 of 7 days)")
            && sessions.lead.contains("2026-W25 (3 of 7 days)"),
        "{}",
        sessions.lead
    );
    let style = &sessions.figures[0].style;
    assert_eq!(style.partial.first(), Some(&true));
    assert_eq!(style.partial.last(), Some(&true));
    assert!(style.partial[1..style.partial.len() - 1].iter().all(|p| !p));
    let alt = tally_charts::alt_text(&sessions.figures[0].chart, style);
    assert!(
        alt.contains("Highest:") && alt.contains("2026-W25 (3 of 7 days)"),
        "{alt}"
    );
}
