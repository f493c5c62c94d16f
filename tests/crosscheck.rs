//! Every metric computed a second way: plain loops over the raw rows, written for
//! clarity, not speed, compared exactly with tally's frames. The lake is the synthetic
//! library over three weeks that include the November DST change, holidays and closed
//! Sundays, open tickets and the bookmobile's Saturday hours.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::America::Chicago;
use polars::prelude::*;
use tally_lake::Lake;
use tally_metrics::{Dim, Metric, Request};
use tally_model::{BucketKind, Sites};

use crate::common::*;

const FROM: &str = "2025-10-20";
const TO: &str = "2025-11-10";

struct World {
    _dir: tempfile::TempDir,
    lake: Lake,
    sites: Sites,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "synth",
        "--out",
        dir.path().join("inbox").to_str().unwrap(),
        "--start",
        "2025-10-15",
        "--days",
        "30",
    ]);
    assert!(out.status.success());
    let demo_like = dir.path().join("inbox");
    let lake = dir.path().join("lake");
    for (sub, extra) in [
        ("envisionware", vec![]),
        ("libki", vec![]),
        ("symphony", vec!["--strip-prefix", "EPL"]),
        ("osticket", vec![]),
        ("snipe-it", vec![]),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(demo_like.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut cmd = tally(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            demo_like.join("sites.toml").to_str().unwrap(),
        ]);
        cmd.env("TALLY_KEY", TEST_KEY).args(extra).args(files);
        assert!(matches!(
            cmd.output().unwrap().status.code(),
            Some(0) | Some(3)
        ));
    }
    for network in std::fs::read_dir(demo_like.join("meraki")).unwrap() {
        let network = network.unwrap().path();
        let site = network.file_name().unwrap().to_string_lossy().to_string();
        let files: Vec<_> = std::fs::read_dir(&network)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let mut cmd = tally(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            demo_like.join("sites.toml").to_str().unwrap(),
            "--site",
            &site,
        ]);
        cmd.env("TALLY_KEY", TEST_KEY).args(files);
        assert!(matches!(
            cmd.output().unwrap().status.code(),
            Some(0) | Some(3)
        ));
    }
    let sites = Sites::load(&demo_like.join("sites.toml")).unwrap();
    World {
        _dir: dir,
        lake: Lake::new(lake),
        sites,
    }
}

/// Raw rows, by SQL: (string columns, microsecond columns).
fn rows(w: &World, sql: &str) -> DataFrame {
    tally_metrics::query(&w.lake.snapshot().unwrap(), sql).unwrap()
}

/// A column's values as text (pseudonyms, 64-bit numbers, as their decimal digits).
fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
    df.column(c)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn micros(df: &DataFrame, c: &str) -> Vec<Option<i64>> {
    df.column(c)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

fn local_day(t: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_micros(t)
        .unwrap()
        .with_timezone(&Chicago)
        .date_naive()
}

fn midnight(d: NaiveDate) -> i64 {
    Chicago
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .timestamp_micros()
}

fn days() -> Vec<NaiveDate> {
    let (from, to) = (date(FROM), date(TO));
    from.iter_days().take_while(|d| *d < to).collect()
}

/// tally's frame for (metric, by site, daily) as a map (site, day) -> value.
fn tally_map(w: &World, m: Metric) -> BTreeMap<(String, String), Option<f64>> {
    let out = tally_metrics::compute(
        &w.lake.snapshot().unwrap(),
        &w.sites,
        &Request {
            metric: m,
            from: date(FROM),
            to: date(TO),
            every: BucketKind::Day,
            by: vec![Dim::Site],
            budget: None,
        },
    )
    .unwrap();
    let df = out.frame;
    let site = strs(&df, "site");
    let bucket = strs(&df, "bucket");
    let v = df
        .column(m.name())
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let v: Vec<Option<f64>> = v.f64().unwrap().iter().collect();
    (0..df.height())
        .map(|i| ((site[i].clone().unwrap(), bucket[i].clone().unwrap()), v[i]))
        .collect()
}

/// The loop's answer in the same shape: every site seen, every day.
fn as_map(
    values: &HashMap<(String, NaiveDate), f64>,
    sites: &BTreeSet<String>,
    zero: Option<f64>,
) -> BTreeMap<(String, String), Option<f64>> {
    let mut out = BTreeMap::new();
    for s in sites {
        for d in days() {
            out.insert(
                (s.clone(), d.to_string()),
                values.get(&(s.clone(), d)).copied().or(zero),
            );
        }
    }
    out
}

/// One station's sessions as the times it was busy: overlapping or touching ones joined.
fn merge(list: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut list = list.to_vec();
    list.sort();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (a, b) in list {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// As `compare`, for a metric that may be zero almost everywhere (a site rarely full).
fn compare_zero_ok(
    name: &str,
    got: &BTreeMap<(String, String), Option<f64>>,
    want: &BTreeMap<(String, String), Option<f64>>,
) {
    assert_eq!(got.len(), want.len(), "{name}: cells");
    for (k, v) in want {
        let g = got.get(k).copied().flatten();
        assert!(
            match (g, v) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                (a, b) => a == *b,
            },
            "{name} at {k:?}: {g:?} vs {v:?}"
        );
    }
}

fn compare(
    name: &str,
    got: &BTreeMap<(String, String), Option<f64>>,
    want: &BTreeMap<(String, String), Option<f64>>,
) {
    assert!(
        want.len() >= 21 && want.values().filter(|v| v.is_some_and(|x| x > 0.0)).count() >= 10,
        "{name}: too little to compare"
    );
    assert_eq!(got.len(), want.len(), "{name}: cells");
    for (k, v) in want {
        assert_eq!(got.get(k), Some(v), "{name} at {k:?}");
    }
}

#[test]
fn every_metric_agrees_with_a_plain_loop() {
    let w = world();
    let (from, to) = (midnight(date(FROM)), midnight(date(TO)));

    // Sessions: counts, survey uses, distinct users.
    let s = rows(
        &w,
        "SELECT site, station, start, \"end\", user_type, patron_key FROM sessions",
    );
    let (site, station, start, end, utype, pkey) = (
        strs(&s, "site"),
        strs(&s, "station"),
        micros(&s, "start"),
        micros(&s, "end"),
        strs(&s, "user_type"),
        strs(&s, "patron_key"),
    );
    let mut count = HashMap::new();
    let mut survey = HashMap::new();
    let mut users: HashMap<(String, NaiveDate), BTreeSet<String>> = HashMap::new();
    let mut seen = BTreeSet::new();
    for i in 0..s.height() {
        let t = start[i].unwrap();
        if t < from || t >= to {
            continue;
        }
        let k = (site[i].clone().unwrap(), local_day(t));
        seen.insert(k.0.clone());
        *count.entry(k.clone()).or_insert(0.0) += 1.0;
        if utype[i].as_deref() != Some("staff") {
            *survey.entry(k.clone()).or_insert(0.0) += 1.0;
        }
        if utype[i].as_deref() != Some("guest")
            && let Some(p) = &pkey[i]
        {
            users.entry(k).or_default().insert(p.clone());
        }
    }
    compare(
        "sessions",
        &tally_map(&w, Metric::Sessions),
        &as_map(&count, &seen, Some(0.0)),
    );
    compare(
        "survey_uses",
        &tally_map(&w, Metric::SurveyUses),
        &as_map(&survey, &seen, Some(0.0)),
    );
    let distinct: HashMap<_, f64> = users
        .into_iter()
        .map(|(k, v)| (k, v.len() as f64))
        .collect();
    let min = w.sites.library.min_cell_size as f64;
    let mut want = as_map(&distinct, &seen, Some(0.0));
    for v in want.values_mut() {
        if let Some(x) = v
            && *x > 0.0
            && *x < min
        {
            *v = None;
        }
    }
    compare(
        "distinct_users",
        &tally_map(&w, Metric::DistinctUsers),
        &want,
    );

    // Occupancy: per site and day, each station's sessions merged, intersected with the
    // opening hours of that day; divided by stations x open time.
    let mut per_station: BTreeMap<(String, String), Vec<(i64, i64)>> = BTreeMap::new();
    let mut occ_sites = BTreeSet::new();
    for i in 0..s.height() {
        let (a, b) = (start[i].unwrap(), end[i].unwrap());
        if b > from && a < to {
            let st = site[i].clone().unwrap();
            occ_sites.insert(st.clone());
            per_station
                .entry((st, station[i].clone().unwrap_or_else(|| format!("#{i}"))))
                .or_default()
                .push((a, b));
        }
    }
    let mut busy: HashMap<(String, NaiveDate), i64> = HashMap::new();
    let mut capacity: HashMap<(String, NaiveDate), i64> = HashMap::new();
    let mut at_capacity: HashMap<(String, NaiveDate), f64> = HashMap::new();
    let mut peak: HashMap<(String, NaiveDate), f64> = HashMap::new();
    for st in &occ_sites {
        let cfg = w.sites.site(st).unwrap();
        let seen_stations = per_station
            .keys()
            .filter(|(s, n)| s == st && !n.starts_with('#'))
            .count() as i64;
        let stations = i64::from(cfg.stations).max(seen_stations);
        for d in days() {
            let mut open = Vec::new();
            if !w.sites.is_holiday(cfg, d) {
                for (o, c) in cfg.hours.day(d.weekday()).ranges() {
                    let a = Chicago
                        .from_local_datetime(&d.and_time(*o))
                        .earliest()
                        .unwrap()
                        .timestamp_micros();
                    let b = match c {
                        Some(c) => Chicago
                            .from_local_datetime(&d.and_time(*c))
                            .earliest()
                            .unwrap()
                            .timestamp_micros(),
                        None => midnight(d.succ_opt().unwrap()),
                    };
                    open.push((a, b));
                }
            }
            let open_len: i64 = open.iter().map(|(a, b)| b - a).sum();
            if open_len > 0 {
                capacity.insert((st.clone(), d), stations * open_len);
            }
            let mut total = 0;
            for (_, list) in per_station.iter().filter(|((s2, _), _)| s2 == st) {
                for (a, b) in merge(list) {
                    for (oa, ob) in &open {
                        total += (b.min(*ob) - a.max(*oa)).max(0);
                    }
                }
            }
            busy.insert((st.clone(), d), total);
            // Time at capacity and peak, by brute force: cut the day at every session
            // boundary and count the stations busy in each piece.
            let (day_start, day_end) = (midnight(d), midnight(d.succ_opt().unwrap()));
            let merged_all: Vec<Vec<(i64, i64)>> = per_station
                .iter()
                .filter(|((s2, _), _)| s2 == st)
                .map(|(_, list)| merge(list))
                .collect();
            let mut cuts: Vec<i64> = vec![day_start, day_end];
            for m in &merged_all {
                for (a, b) in m {
                    cuts.extend([*a, *b]);
                }
            }
            for (a, b) in &open {
                cuts.extend([*a, *b]);
            }
            cuts.retain(|t| *t >= day_start && *t <= day_end);
            cuts.sort();
            cuts.dedup();
            let (mut full, mut most) = (0i64, 0i64);
            for w2 in cuts.windows(2) {
                let (a, b) = (w2[0], w2[1]);
                let n = merged_all
                    .iter()
                    .filter(|m| m.iter().any(|(x, y)| *x <= a && b <= *y))
                    .count() as i64;
                most = most.max(n);
                if n >= stations && open.iter().any(|(x, y)| *x <= a && b <= *y) {
                    full += b - a;
                }
            }
            at_capacity.insert((st.clone(), d), full as f64 / 60e6);
            peak.insert((st.clone(), d), most as f64);
        }
    }
    assert!(
        at_capacity.values().any(|m| *m > 0.0),
        "some site was full at some point"
    );
    compare_zero_ok(
        "time_at_capacity",
        &tally_map(&w, Metric::TimeAtCapacity),
        &as_map(&at_capacity, &occ_sites, Some(0.0)),
    );
    compare(
        "peak_concurrent",
        &tally_map(&w, Metric::PeakConcurrent),
        &as_map(&peak, &occ_sites, Some(0.0)),
    );
    let occ: HashMap<(String, NaiveDate), f64> = capacity
        .iter()
        .map(|(k, cap)| (k.clone(), *busy.get(k).unwrap_or(&0) as f64 / *cap as f64))
        .collect();
    compare(
        "occupancy",
        &tally_map(&w, Metric::Occupancy),
        &as_map(&occ, &occ_sites, None),
    );

    // Circulation: checkouts + renewals by the day of the event.
    let c = rows(&w, "SELECT site, event, time FROM circulation");
    let (csite, event, time) = (strs(&c, "site"), strs(&c, "event"), micros(&c, "time"));
    let mut circ = HashMap::new();
    let mut circ_sites = BTreeSet::new();
    for i in 0..c.height() {
        let t = time[i].unwrap();
        if t < from || t >= to || !matches!(event[i].as_deref(), Some("checkout") | Some("renewal"))
        {
            continue;
        }
        let k = (csite[i].clone().unwrap(), local_day(t));
        circ_sites.insert(k.0.clone());
        *circ.entry(k).or_insert(0.0) += 1.0;
    }
    compare(
        "circulation",
        &tally_map(&w, Metric::Circulation),
        &as_map(&circ, &circ_sites, Some(0.0)),
    );

    // Wi-Fi: connections and distinct devices by the day they start.
    let f = rows(&w, "SELECT site, start, device_key FROM wifi");
    let (fsite, fstart, dev) = (
        strs(&f, "site"),
        micros(&f, "start"),
        strs(&f, "device_key"),
    );
    let mut conns = HashMap::new();
    let mut devices: HashMap<(String, NaiveDate), BTreeSet<String>> = HashMap::new();
    let mut wifi_sites = BTreeSet::new();
    for i in 0..f.height() {
        let t = fstart[i].unwrap();
        if t < from || t >= to {
            continue;
        }
        let k = (fsite[i].clone().unwrap(), local_day(t));
        wifi_sites.insert(k.0.clone());
        *conns.entry(k.clone()).or_insert(0.0) += 1.0;
        devices
            .entry(k)
            .or_default()
            .insert(dev[i].clone().unwrap());
    }
    compare(
        "wifi_sessions",
        &tally_map(&w, Metric::WifiSessions),
        &as_map(&conns, &wifi_sites, Some(0.0)),
    );
    let devices: HashMap<_, f64> = devices
        .into_iter()
        .map(|(k, v)| (k, v.len() as f64))
        .collect();
    compare(
        "wifi_devices",
        &tally_map(&w, Metric::WifiDevices),
        &as_map(&devices, &wifi_sites, Some(0.0)),
    );

    // Backlog: at each day's end (local midnight), tickets opened before it and not
    // resolved by then, not cancelled.
    let t = rows(&w, "SELECT site, opened, resolved, status FROM work_orders");
    let (tsite, opened, resolved, status) = (
        strs(&t, "site"),
        micros(&t, "opened"),
        micros(&t, "resolved"),
        strs(&t, "status"),
    );
    let mut backlog = HashMap::new();
    let mut ticket_sites = BTreeSet::new();
    for i in 0..t.height() {
        if status[i].as_deref() == Some("cancelled") {
            continue;
        }
        let st = tsite[i].clone().unwrap_or_else(|| "(none)".into());
        for d in days() {
            let e = midnight(d.succ_opt().unwrap());
            if opened[i].unwrap() < e && resolved[i].is_none_or(|r| r >= e) {
                ticket_sites.insert(st.clone());
                *backlog.entry((st.clone(), d)).or_insert(0.0) += 1.0;
            }
        }
    }
    compare(
        "backlog",
        &tally_map(&w, Metric::Backlog),
        &as_map(&backlog, &ticket_sites, Some(0.0)),
    );
}

/// tally's frame for (metric, one bucket over the period, by `dim`) as a map key -> value.
fn tally_by(
    w: &World,
    m: Metric,
    from: &str,
    to: &str,
    every: BucketKind,
    dim: Dim,
) -> BTreeMap<(String, String), Option<f64>> {
    let out = tally_metrics::compute(
        &w.lake.snapshot().unwrap(),
        &w.sites,
        &Request {
            metric: m,
            from: date(from),
            to: date(to),
            every,
            by: vec![dim],
            budget: None,
        },
    )
    .unwrap();
    let df = out.frame;
    let key = df
        .column(dim.column())
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    let key: Vec<Option<String>> = key
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect();
    let bucket = strs(&df, "bucket");
    let v = df
        .column(m.name())
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let v: Vec<Option<f64>> = v.f64().unwrap().iter().collect();
    (0..df.height())
        .map(|i| {
            (
                (
                    key[i].clone().unwrap_or_default(),
                    bucket[i].clone().unwrap(),
                ),
                v[i],
            )
        })
        .collect()
}

/// Linear interpolation between the two nearest ranks (Excel's PERCENTILE.INC).
fn percentile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn close(
    name: &str,
    got: &BTreeMap<(String, String), Option<f64>>,
    want: &BTreeMap<(String, String), Option<f64>>,
) {
    assert!(
        want.values().filter(|v| v.is_some_and(|x| x > 0.0)).count() >= 3,
        "{name}: too little to compare: {want:?}"
    );
    for (k, v) in want {
        let g = got.get(k).copied().flatten();
        assert!(
            match (g, v) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9 * b.abs().max(1.0),
                (a, b) => a == *b,
            },
            "{name} at {k:?}: tally {g:?}, loop {v:?}"
        );
    }
    for (k, g) in got {
        assert!(
            want.contains_key(k) || g.is_none_or(|g| g == 0.0),
            "{name}: tally has {k:?} = {g:?}, the loop nothing"
        );
    }
}

#[test]
fn work_order_and_fleet_metrics_agree_with_a_plain_loop() {
    let w = world();
    let (from, to) = (midnight(date(FROM)), midnight(date(TO)));

    // Hours to resolve (median, p90) and share over target, by priority, over the period:
    // tickets (current state) resolved in it.
    let t = rows(
        &w,
        "SELECT ticket_id, site, opened, resolved, status, priority, asset_tag FROM work_orders",
    );
    let (tsite, opened, resolved, priority, tag) = (
        strs(&t, "site"),
        micros(&t, "opened"),
        micros(&t, "resolved"),
        strs(&t, "priority"),
        strs(&t, "asset_tag"),
    );
    let label = tally_by(
        &w,
        Metric::TicketsOpened,
        FROM,
        TO,
        BucketKind::All,
        Dim::Site,
    )
    .keys()
    .next()
    .unwrap()
    .1
    .clone();
    let mut hours: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for i in 0..t.height() {
        if let (Some(o), Some(r)) = (opened[i], resolved[i])
            && r >= from
            && r < to
        {
            hours
                .entry(priority[i].clone().unwrap_or_else(|| "(none)".into()))
                .or_default()
                .push((r - o) as f64 / 3.6e9);
        }
    }
    let want =
        |f: &dyn Fn(&[f64], &str) -> Option<f64>| -> BTreeMap<(String, String), Option<f64>> {
            hours
                .iter()
                .map(|(p, v)| ((p.clone(), label.clone()), f(v, p)))
                .collect()
        };
    close(
        "hours_to_resolve_median",
        &tally_by(
            &w,
            Metric::HoursToResolveMedian,
            FROM,
            TO,
            BucketKind::All,
            Dim::Priority,
        ),
        &want(&|v, _| Some(percentile(v.to_vec(), 0.5))),
    );
    close(
        "hours_to_resolve_p90",
        &tally_by(
            &w,
            Metric::HoursToResolveP90,
            FROM,
            TO,
            BucketKind::All,
            Dim::Priority,
        ),
        &want(&|v, _| Some(percentile(v.to_vec(), 0.9))),
    );
    let targets = &w.sites.library.work_order_target_hours;
    let over: BTreeMap<_, _> = want(&|v, p| {
        targets
            .get(p)
            .map(|t| v.iter().filter(|h| **h > *t).count() as f64 / v.len() as f64)
    })
    .into_iter()
    .filter(|(_, v)| v.is_some())
    .collect();
    close(
        "share_over_target",
        &tally_by(
            &w,
            Metric::ShareOverTarget,
            FROM,
            TO,
            BucketKind::All,
            Dim::Priority,
        ),
        &over,
    );

    // The inventory's current state: devices not retired, per site; due dates.
    let a = rows(
        &w,
        "SELECT asset_tag, kind, site, purchased, life_years, status, retired, cost FROM assets",
    );
    let (asite, kind, status) = (strs(&a, "site"), strs(&a, "kind"), strs(&a, "status"));
    let purchased: Vec<Option<NaiveDate>> = a
        .column("purchased")
        .unwrap()
        .date()
        .unwrap()
        .as_date_iter()
        .collect();
    let retired: Vec<Option<NaiveDate>> = a
        .column("retired")
        .unwrap()
        .date()
        .unwrap()
        .as_date_iter()
        .collect();
    let life: Vec<Option<f64>> = a
        .column("life_years")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert!(
        status.iter().any(|s| s.as_deref() == Some("retired")),
        "the synthetic inventory has retired devices"
    );

    // Tickets per 10 devices, by site: tickets opened in the period x 10 / devices.
    let mut devices: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..a.height() {
        if status[i].as_deref() != Some("retired") {
            *devices
                .entry(asite[i].clone().unwrap_or_default())
                .or_default() += 1.0;
        }
    }
    let mut opened_per_site: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..t.height() {
        if opened[i].is_some_and(|o| o >= from && o < to) {
            *opened_per_site
                .entry(tsite[i].clone().unwrap_or_else(|| "(none)".into()))
                .or_default() += 1.0;
        }
    }
    let per10: BTreeMap<_, _> = opened_per_site
        .iter()
        .map(|(s, n)| {
            (
                (s.clone(), label.clone()),
                devices.get(s).filter(|d| **d > 0.0).map(|d| n * 10.0 / d),
            )
        })
        .collect();
    close(
        "tickets_per_10_devices",
        &tally_by(
            &w,
            Metric::TicketsPer10Devices,
            FROM,
            TO,
            BucketKind::All,
            Dim::Site,
        ),
        &per10,
    );

    // The devices with the most tickets: counts per asset tag, the top 5 of them.
    let mut per_asset: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..t.height() {
        if opened[i].is_some_and(|o| o >= from && o < to) {
            *per_asset
                .entry(tag[i].clone().unwrap_or_else(|| "(none)".into()))
                .or_default() += 1.0;
        }
    }
    let top = tally_metrics::compute(
        &w.lake.snapshot().unwrap(),
        &w.sites,
        &Request {
            metric: Metric::TicketsOpened,
            from: date(FROM),
            to: date(TO),
            every: BucketKind::All,
            by: vec![Dim::AssetTag],
            budget: None,
        },
    )
    .unwrap()
    .top(5)
    .unwrap();
    let got: Vec<f64> = top
        .frame
        .column("tickets_opened")
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let mut counts: Vec<f64> = per_asset.values().copied().collect();
    counts.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(
        got,
        counts[..5.min(counts.len())].to_vec(),
        "top 5 assets by tickets"
    );
    for (tag, n) in strs(&top.frame, "asset_tag").into_iter().zip(&got) {
        assert_eq!(per_asset.get(&tag.unwrap()), Some(n));
    }

    // Due for replacement per fiscal year (calendar years here) and site, FY2026-FY2030:
    // purchased + life (the asset's, else the kind's) in the year; overdue in the first.
    let mut due: BTreeMap<(String, String), Option<f64>> = BTreeMap::new();
    let mut cost: BTreeMap<(String, String), Option<f64>> = BTreeMap::new();
    let a_cost: Vec<Option<f64>> = a.column("cost").unwrap().f64().unwrap().iter().collect();
    for i in 0..a.height() {
        let (Some(p), Some(k)) = (purchased[i], kind[i].clone()) else {
            continue;
        };
        if status[i].as_deref() == Some("retired") {
            continue;
        }
        let years = life[i]
            .or_else(|| w.sites.library.asset_life_years.get(&k).copied())
            .unwrap_or(5.0);
        let d = p
            .checked_add_months(chrono::Months::new((years * 12.0).round() as u32))
            .unwrap();
        let fy = if d.year() < 2026 { 2026 } else { d.year() };
        if fy > 2030 {
            continue;
        }
        let key = (
            asite[i].clone().unwrap_or_else(|| "(none)".into()),
            format!("FY{fy}"),
        );
        *due.entry(key.clone())
            .or_insert(Some(0.0))
            .as_mut()
            .unwrap() += 1.0;
        *cost.entry(key).or_insert(Some(0.0)).as_mut().unwrap() += w
            .sites
            .library
            .unit_cost
            .get(&k)
            .copied()
            .or(a_cost[i])
            .unwrap_or(0.0);
    }
    close(
        "replacement_due",
        &tally_by(
            &w,
            Metric::ReplacementDue,
            "2026-01-01",
            "2031-01-01",
            BucketKind::FiscalYear,
            Dim::Site,
        ),
        &due,
    );
    close(
        "replacement_cost",
        &tally_by(
            &w,
            Metric::ReplacementCost,
            "2026-01-01",
            "2031-01-01",
            BucketKind::FiscalYear,
            Dim::Site,
        ),
        &cost,
    );

    // Devices in service at the period's end (its last day), by kind: purchased by then,
    // not retired by then (retired without a date: out).
    let last = date(TO).pred_opt().unwrap();
    let mut in_service: BTreeMap<(String, String), Option<f64>> = BTreeMap::new();
    for i in 0..a.height() {
        let out = match retired[i] {
            Some(r) => r <= last,
            None => status[i].as_deref() == Some("retired"),
        };
        if out || purchased[i].is_some_and(|p| p > last) {
            continue;
        }
        *in_service
            .entry((
                kind[i].clone().unwrap_or_else(|| "(none)".into()),
                label.clone(),
            ))
            .or_insert(Some(0.0))
            .as_mut()
            .unwrap() += 1.0;
    }
    close(
        "assets",
        &tally_by(&w, Metric::Assets, FROM, TO, BucketKind::All, Dim::Kind),
        &in_service,
    );
}
