//! docs/metrics.md's metric definitions on hand-computed cases. The expected numbers are
//! worked out in the comments from the definitions, not from the code.

use polars::prelude::*;
use tally_metrics::{Dim, Metric};
use tally_model::BucketKind;

use crate::common::*;

/// Site T1: 2 stations, open 09:00-17:00 daily, closed 2026-06-13 (a holiday of its own).
/// Site N1: 2 stations, open round the clock. Zone America/Chicago.
fn lake_with(
    rows: &[(&str, &str, &str, i64)],
) -> (tempfile::TempDir, tally_lake::Lake, tally_model::Sites) {
    let dir = tempfile::tempdir().unwrap();
    let sites = test_sites();
    let (lake, outcomes) = ingest_text(dir.path(), &sites, "s.csv", &envisionware_csv(rows));
    assert_eq!(
        outcomes[0].summary.rows_accepted,
        rows.len() as u64,
        "{:?}",
        outcomes[0]
    );
    (dir, lake, sites)
}

#[test]
fn session_across_the_top_of_the_hour() {
    // 10:30-11:30 on one of two stations: each hour is half busy on one station:
    // 1800 s / (2 stations x 3600 s) = 0.25; session hours 0.5 and 0.5.
    let (_d, lake, sites) = lake_with(&[("T1", "PC1", "2026-06-10 10:30:00", 60)]);
    let occ = metric(
        &lake,
        &sites,
        Metric::Occupancy,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Hour,
        &[],
    );
    assert_eq!(occ.height(), 24);
    assert_eq!(
        value_at(&occ, "occupancy", "2026-06-10T10:00-05:00"),
        Some(0.25)
    );
    assert_eq!(
        value_at(&occ, "occupancy", "2026-06-10T11:00-05:00"),
        Some(0.25)
    );
    assert_eq!(
        value_at(&occ, "occupancy", "2026-06-10T12:00-05:00"),
        Some(0.0)
    );
    // Closed hours have no capacity: no value, not zero.
    assert_eq!(value_at(&occ, "occupancy", "2026-06-10T08:00-05:00"), None);
    let hours = metric(
        &lake,
        &sites,
        Metric::SessionHours,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Hour,
        &[],
    );
    assert_eq!(
        value_at(&hours, "session_hours", "2026-06-10T10:00-05:00"),
        Some(0.5)
    );
    assert_eq!(
        value_at(&hours, "session_hours", "2026-06-10T11:00-05:00"),
        Some(0.5)
    );
    let sessions = metric(
        &lake,
        &sites,
        Metric::Sessions,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Hour,
        &[],
    );
    assert_eq!(
        value_at(&sessions, "sessions", "2026-06-10T10:00-05:00"),
        Some(1.0)
    );
    assert_eq!(
        value_at(&sessions, "sessions", "2026-06-10T11:00-05:00"),
        Some(0.0)
    );
}

#[test]
fn session_across_midnight() {
    // N1 is open all day. 23:30-00:30: half an hour on each day; the session counts on
    // the day it starts. Occupancy of 06-10 = 1800 / (2 x 86400).
    let (_d, lake, sites) = lake_with(&[("N1", "PC1", "2026-06-10 23:30:00", 60)]);
    let hours = metric(
        &lake,
        &sites,
        Metric::SessionHours,
        "2026-06-10",
        "2026-06-12",
        BucketKind::Day,
        &[Dim::Site],
    );
    let expected = df!(
        "site" => ["N1", "N1"],
        "bucket" => ["2026-06-10", "2026-06-11"],
        "session_hours" => [Some(0.5), Some(0.5)],
    )
    .unwrap();
    assert_frame_eq(&hours, &expected);
    let sessions = metric(
        &lake,
        &sites,
        Metric::Sessions,
        "2026-06-10",
        "2026-06-12",
        BucketKind::Day,
        &[Dim::Site],
    );
    let expected = df!("site" => ["N1", "N1"], "bucket" => ["2026-06-10", "2026-06-11"], "sessions" => [Some(1i64), Some(0)]).unwrap();
    assert_frame_eq(&sessions, &expected);
    let occ = metric(
        &lake,
        &sites,
        Metric::Occupancy,
        "2026-06-10",
        "2026-06-12",
        BucketKind::Day,
        &[Dim::Site],
    );
    assert_eq!(
        value_at(&occ, "occupancy", "2026-06-10"),
        Some(1800.0 / (2.0 * 86400.0))
    );
}

#[test]
fn session_past_closing() {
    // T1 closes at 17:00. 16:30 for 90 minutes: only 30 minutes are in opening hours.
    // Occupancy = 1800 / (2 x 8 x 3600) = 1/32; session hours = 1.5 (not clipped).
    let (_d, lake, sites) = lake_with(&[("T1", "PC2", "2026-06-11 16:30:00", 90)]);
    let occ = metric(
        &lake,
        &sites,
        Metric::Occupancy,
        "2026-06-11",
        "2026-06-12",
        BucketKind::Day,
        &[],
    );
    assert_eq!(value_at(&occ, "occupancy", "2026-06-11"), Some(1.0 / 32.0));
    let hours = metric(
        &lake,
        &sites,
        Metric::SessionHours,
        "2026-06-11",
        "2026-06-12",
        BucketKind::Day,
        &[],
    );
    assert_eq!(value_at(&hours, "session_hours", "2026-06-11"), Some(1.5));
    let peak = metric(
        &lake,
        &sites,
        Metric::PeakConcurrent,
        "2026-06-11",
        "2026-06-12",
        BucketKind::Hour,
        &[],
    );
    // The session still runs at 17:xx (peak is any time, not only opening hours).
    assert_eq!(
        value_at(&peak, "peak_concurrent", "2026-06-11T17:00-05:00"),
        Some(1.0)
    );
}

#[test]
fn overlapping_sessions_on_one_station_count_once() {
    // PC1 10:00-11:00 and PC1 10:30-11:30: the station is busy 10:00-11:30 = 5400 s.
    // Occupancy = 5400 / (2 x 28800) = 0.09375; peak 1; sessions 2; session hours 2.
    let (_d, lake, sites) = lake_with(&[
        ("T1", "PC1", "2026-06-12 10:00:00", 60),
        ("T1", "PC1", "2026-06-12 10:30:00", 60),
    ]);
    let day = |m: Metric, col: &str| {
        value_at(
            &metric(
                &lake,
                &sites,
                m,
                "2026-06-12",
                "2026-06-13",
                BucketKind::Day,
                &[],
            ),
            col,
            "2026-06-12",
        )
    };
    assert_eq!(day(Metric::Occupancy, "occupancy"), Some(0.09375));
    assert_eq!(day(Metric::PeakConcurrent, "peak_concurrent"), Some(1.0));
    assert_eq!(day(Metric::Sessions, "sessions"), Some(2.0));
    assert_eq!(day(Metric::SessionHours, "session_hours"), Some(2.0));
    assert_eq!(day(Metric::TimeAtCapacity, "time_at_capacity"), Some(0.0));
}

#[test]
fn branch_closed_all_day() {
    // 2026-06-13 is a T1 holiday. A (staff) session that day is a session and has hours,
    // but the branch has no opening time: occupancy and availability have no value and
    // time at capacity is zero.
    let (_d, lake, sites) = lake_with(&[("T1", "PC1", "2026-06-13 10:00:00", 30)]);
    let day = |m: Metric, col: &str| {
        value_at(
            &metric(
                &lake,
                &sites,
                m,
                "2026-06-13",
                "2026-06-14",
                BucketKind::Day,
                &[],
            ),
            col,
            "2026-06-13",
        )
    };
    assert_eq!(day(Metric::Sessions, "sessions"), Some(1.0));
    assert_eq!(day(Metric::SessionHours, "session_hours"), Some(0.5));
    assert_eq!(day(Metric::Occupancy, "occupancy"), None);
    assert_eq!(day(Metric::Availability, "availability"), None);
    assert_eq!(day(Metric::TimeAtCapacity, "time_at_capacity"), Some(0.0));
}

#[test]
fn time_at_capacity_and_availability() {
    // PC1 10:00-11:00, PC2 10:30-11:30: both stations busy 10:30-11:00 = 30 minutes.
    // Availability = 1 - 30 / 480 = 0.9375. Peak = 2.
    let (_d, lake, sites) = lake_with(&[
        ("T1", "PC1", "2026-06-14 10:00:00", 60),
        ("T1", "PC2", "2026-06-14 10:30:00", 60),
    ]);
    let day = |m: Metric, col: &str| {
        value_at(
            &metric(
                &lake,
                &sites,
                m,
                "2026-06-14",
                "2026-06-15",
                BucketKind::Day,
                &[],
            ),
            col,
            "2026-06-14",
        )
    };
    assert_eq!(day(Metric::TimeAtCapacity, "time_at_capacity"), Some(30.0));
    assert_eq!(day(Metric::Availability, "availability"), Some(0.9375));
    assert_eq!(day(Metric::PeakConcurrent, "peak_concurrent"), Some(2.0));
    // Per week: 30 minutes in a one-day bucket is 30 / (1/7) = 210 a week; over the ISO
    // week 2026-06-08..14 the same 30 minutes are 30 a week.
    assert_eq!(
        day(Metric::CapacityMinutesPerWeek, "capacity_minutes_per_week"),
        Some(210.0)
    );
    assert_eq!(
        value_at(
            &metric(
                &lake,
                &sites,
                Metric::CapacityMinutesPerWeek,
                "2026-06-08",
                "2026-06-15",
                BucketKind::Week,
                &[],
            ),
            "capacity_minutes_per_week",
            "2026-W24",
        ),
        Some(30.0)
    );
    assert_eq!(
        day(Metric::Occupancy, "occupancy"),
        Some(7200.0 / (2.0 * 28800.0))
    );
}

#[test]
fn dst_start_and_end_days() {
    // N1 is open all day. 2026-03-08 has 23 hours in Chicago, 2026-11-01 has 25.
    // One hour on one of two stations: 3600 / (2 x 23 x 3600) = 1/46 and 1/50.
    let (_d, lake, sites) = lake_with(&[
        ("N1", "PC1", "2026-03-08 12:00:00", 60),
        ("N1", "PC1", "2026-11-01 12:00:00", 60),
    ]);
    let occ = |d: &str, e: &str| {
        value_at(
            &metric(&lake, &sites, Metric::Occupancy, d, e, BucketKind::Day, &[]),
            "occupancy",
            d,
        )
    };
    assert_eq!(occ("2026-03-08", "2026-03-09"), Some(1.0 / 46.0));
    assert_eq!(occ("2026-11-01", "2026-11-02"), Some(1.0 / 50.0));
    let spring = metric(
        &lake,
        &sites,
        Metric::Sessions,
        "2026-03-08",
        "2026-03-09",
        BucketKind::Hour,
        &[],
    );
    assert_eq!(spring.height(), 23);
    let fall = metric(
        &lake,
        &sites,
        Metric::Sessions,
        "2026-11-01",
        "2026-11-02",
        BucketKind::Hour,
        &[],
    );
    assert_eq!(fall.height(), 25);
    // 12:00 CST on the fall-back day is the 14th hourly bucket (01:00 happens twice).
    assert_eq!(
        value_at(&fall, "sessions", "2026-11-01T12:00-06:00"),
        Some(1.0)
    );
}

#[test]
fn library_wide_sums_sites_and_fiscal_years_name_their_end() {
    // T1 (8 open hours) and N1 (24) on 2026-06-10, each with one 60-minute session:
    // library occupancy = 7200 / (2 x 8 x 3600 + 2 x 24 x 3600) = 1/32.
    let (_d, lake, sites) = lake_with(&[
        ("T1", "PC1", "2026-06-10 10:00:00", 60),
        ("N1", "PC1", "2026-06-10 10:00:00", 60),
    ]);
    let occ = metric(
        &lake,
        &sites,
        Metric::Occupancy,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Day,
        &[],
    );
    assert_eq!(value_at(&occ, "occupancy", "2026-06-10"), Some(1.0 / 32.0));
    let peak = metric(
        &lake,
        &sites,
        Metric::PeakConcurrent,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Day,
        &[],
    );
    assert_eq!(value_at(&peak, "peak_concurrent", "2026-06-10"), Some(2.0));
    // The test library's fiscal year starts in July: June 2026 is in FY2026.
    let fy = metric(
        &lake,
        &sites,
        Metric::Sessions,
        "2026-06-01",
        "2026-08-01",
        BucketKind::FiscalYear,
        &[],
    );
    assert_eq!(value_at(&fy, "sessions", "FY2026"), Some(2.0));
    assert_eq!(value_at(&fy, "sessions", "FY2027"), Some(0.0));
}

#[test]
fn heatmap_is_busy_over_capacity_by_weekday_and_hour() {
    // Wednesday 2026-06-10 10:00-11:00 on T1: the Wed 10:00 cell = 3600 / (2 x 3600).
    let (_d, lake, sites) = lake_with(&[("T1", "PC1", "2026-06-10 10:00:00", 60)]);
    let heat = metric(
        &lake,
        &sites,
        Metric::Heatmap,
        "2026-06-10",
        "2026-06-11",
        BucketKind::Hour,
        &[Dim::Site],
    );
    assert_eq!(heat.height(), 7 * 24);
    let occ = heat.column("occupancy").unwrap().f64().unwrap();
    let wd = heat.column("weekday").unwrap().str().unwrap();
    let hour = heat.column("hour").unwrap().i32().unwrap();
    let cell = |d: &str, h: i32| {
        (0..heat.height())
            .find(|&i| wd.get(i) == Some(d) && hour.get(i) == Some(h))
            .and_then(|i| occ.get(i))
    };
    assert_eq!(cell("Wed", 10), Some(0.5));
    assert_eq!(cell("Wed", 9), Some(0.0));
    assert_eq!(cell("Wed", 20), None);
    assert_eq!(cell("Thu", 10), None, "no Thursday in the period");
}
