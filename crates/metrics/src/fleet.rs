//! The equipment fleet: what falls due for replacement when, at what cost, and the
//! survey's count of public computers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use tally_model::{Lake, Sites};

use crate::catalogue::{Dim, Metric};
use crate::compute::{MetricError, Output};
use crate::grid::Grid;

/// When an asset falls due: purchased + its life (the asset's own, else the default for
/// its kind in sites.toml, else 5 years), to the month.
pub fn due_date(purchased: NaiveDate, life_years: f64) -> NaiveDate {
    let months = (life_years * 12.0).round().max(0.0) as u32;
    purchased
        .checked_add_months(Months::new(months))
        .unwrap_or(purchased)
}

pub(crate) fn life_of(sites: &Sites, kind: &str, own: Option<f64>) -> f64 {
    own.or_else(|| sites.library.asset_life_years.get(kind).copied())
        .unwrap_or(5.0)
}

/// Units (or their cost) falling due in each bucket, by site and kind. An asset already
/// overdue at the period's start (and not retired) counts in the first bucket: it still
/// has to be replaced. Cost is today's unit cost for the kind from sites.toml, else
/// the asset's purchase cost.
pub fn replacement(
    lake: &Lake,
    sites: &Sites,
    metric: Metric,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let df = crate::devices::inventory(lake)?
        .filter(col("status").neq(lit("retired")))
        .collect()?;
    let kinds = df.column("kind")?.str()?.clone();
    let site_col = df.column("site")?.str()?.clone();
    let purchased = crate::load::dates(&df, "purchased")?;
    let life = df.column("life_years")?.f64()?.clone();
    let cost = df.column("cost")?.f64()?.clone();
    let tz = grid.tz;
    let local = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .expect("in range")
            .with_timezone(&tz)
            .date_naive()
    };
    let bucket_days: Vec<(NaiveDate, NaiveDate)> = grid
        .buckets
        .iter()
        .map(|b| (local(b.start_us), local(b.end_us)))
        .collect();
    let mut cells: BTreeMap<(Vec<String>, usize), f64> = BTreeMap::new();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (i, bought) in purchased.iter().enumerate() {
        let (Some(kind), Some(bought)) = (kinds.get(i), *bought) else {
            continue;
        };
        let due = due_date(bought, life_of(sites, kind, life.get(i)));
        let Some(b) = (match bucket_days.iter().position(|(a, z)| due >= *a && due < *z) {
            Some(b) => Some(b),
            None if bucket_days.first().is_some_and(|(a, _)| due < *a) => Some(0),
            None => None,
        }) else {
            continue;
        };
        let key: Vec<String> = dims
            .iter()
            .map(|d| match d {
                Dim::Site => site_col.get(i).unwrap_or("(none)").to_string(),
                _ => kind.to_string(),
            })
            .collect();
        let value = match metric {
            Metric::ReplacementCost => sites
                .library
                .unit_cost
                .get(kind)
                .copied()
                .or(cost.get(i))
                .unwrap_or(0.0),
            _ => 1.0,
        };
        *cells.entry((key.clone(), b)).or_default() += value;
        groups.insert(key);
    }
    if dims.is_empty() {
        groups.insert(Vec::new());
    }
    let mut out_keys: Vec<Vec<String>> = vec![Vec::new(); dims.len()];
    let (mut labels, mut values) = (Vec::new(), Vec::new());
    for key in &groups {
        for (b, bucket) in grid.buckets.iter().enumerate() {
            for (i, k) in key.iter().enumerate() {
                out_keys[i].push(k.clone());
            }
            labels.push(bucket.label.clone());
            values.push(cells.get(&(key.clone(), b)).copied().unwrap_or(0.0));
        }
    }
    let mut columns: Vec<Column> = dims
        .iter()
        .zip(out_keys)
        .map(|(d, v)| Column::new(d.column().into(), v))
        .collect();
    columns.push(Column::new("bucket".into(), labels));
    if metric == Metric::ReplacementCost {
        columns.push(Column::new(metric.name().into(), values));
    } else {
        columns.push(Column::new(
            metric.name().into(),
            values.into_iter().map(|v| v as i64).collect::<Vec<_>>(),
        ));
    }
    Ok(Output {
        frame: DataFrame::new_infer_height(columns)?,
        value_column: metric.name().into(),
        warnings: Vec::new(),
    })
}

/// The survey's public internet computers (line 650): the stations sites.toml gives each
/// site, the same in every bucket; library-wide, their sum.
pub fn public_computers(sites: &Sites, grid: &Grid, dims: &[Dim]) -> Result<Output, MetricError> {
    let mut columns = Vec::new();
    let rows: Vec<(Option<&str>, i64)> = if dims.contains(&Dim::Site) {
        sites
            .sites
            .iter()
            .map(|s| (Some(s.code.as_str()), i64::from(s.stations)))
            .collect()
    } else {
        vec![(
            None,
            sites.sites.iter().map(|s| i64::from(s.stations)).sum(),
        )]
    };
    let (mut site, mut labels, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for (code, n) in rows {
        for b in &grid.buckets {
            site.push(code.unwrap_or_default().to_string());
            labels.push(b.label.clone());
            values.push(n);
        }
    }
    if dims.contains(&Dim::Site) {
        columns.push(Column::new("site".into(), site));
    }
    columns.push(Column::new("bucket".into(), labels));
    columns.push(Column::new("public_computers".into(), values));
    Ok(Output {
        frame: DataFrame::new_infer_height(columns)?,
        value_column: "public_computers".into(),
        warnings: Vec::new(),
    })
}

/// Devices in service at each bucket's end: purchased before it and not retired by it
/// (an asset marked retired without a date is out of service), by site, kind and age in
/// whole years on the bucket's last day. Without a purchase date the age is unknown.
pub fn assets_in_service(
    lake: &Lake,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let df = crate::devices::inventory(lake)?.collect()?;
    let kinds = crate::load::strings(&df, "kind")?;
    let site_col = crate::load::strings(&df, "site")?;
    let status = crate::load::strings(&df, "status")?;
    let (purchased, retired) = (
        crate::load::dates(&df, "purchased")?,
        crate::load::dates(&df, "retired")?,
    );
    let tz = grid.tz;
    let last_day = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us - 1)
            .expect("in range")
            .with_timezone(&tz)
            .date_naive()
    };
    let mut cells: HashMap<(Vec<String>, usize), f64> = HashMap::new();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (b, bucket) in grid.buckets.iter().enumerate() {
        let last = last_day(bucket.end_us);
        for i in 0..df.height() {
            let out_of_service = match retired[i] {
                Some(r) => r <= last,
                None => status[i].as_deref() == Some("retired"),
            };
            if out_of_service || purchased[i].is_some_and(|p| p > last) {
                continue;
            }
            let key: Vec<String> = dims
                .iter()
                .map(|d| match d {
                    Dim::Site => site_col[i].clone().unwrap_or_else(|| "(none)".into()),
                    Dim::Kind => kinds[i].clone().unwrap_or_else(|| "(none)".into()),
                    _ => purchased[i]
                        .and_then(|p| last.years_since(p))
                        .map_or_else(|| "(unknown)".into(), |y| y.to_string()),
                })
                .collect();
            *cells.entry((key.clone(), b)).or_default() += 1.0;
            groups.insert(key);
        }
    }
    let mut out = crate::events::assemble(
        sites,
        Metric::Assets,
        grid,
        dims,
        groups,
        |key, b| cells.get(&(key.to_vec(), b)).copied(),
        true,
    )?;
    if dims.contains(&Dim::Age) {
        // Ages in number order (as text, 10 would sort before 2); buckets keep their order.
        let age = out
            .frame
            .column(Dim::Age.column())?
            .cast(&DataType::Int64)?;
        out.frame.with_column(age)?;
        let by: Vec<PlSmallStr> = dims.iter().map(|d| d.column().into()).collect();
        out.frame = out.frame.sort(
            by,
            SortMultipleOptions::default()
                .with_maintain_order(true)
                .with_nulls_last(true),
        )?;
    }
    Ok(out)
}

/// Per site over the period: occupancy, the busiest weekday-hour's occupancy (the darkest
/// cell of the site's heatmap), minutes a week with every station busy, availability,
/// and a recommendation against the thresholds in sites.toml:
/// add when the busiest hour reaches `add_occupancy` or the minutes at capacity a week
/// reach `add_capacity_minutes_per_week`; reduce when occupancy stays below
/// `reduce_occupancy` and the site never fills; keep otherwise.
pub fn station_advice(
    lake: &Lake,
    sites: &Sites,
    req: &crate::compute::Request,
) -> Result<Output, MetricError> {
    use crate::compute::{Request, compute};
    use tally_model::BucketKind;
    let run = |m: Metric, every: BucketKind| {
        compute(
            lake,
            sites,
            &Request {
                metric: m,
                every,
                by: vec![Dim::Site],
                ..req.clone()
            },
        )
    };
    let occupancy = run(Metric::Occupancy, BucketKind::All)?;
    let availability = run(Metric::Availability, BucketKind::All)?;
    let heat = run(Metric::Heatmap, BucketKind::Hour)?;
    let capacity_week = run(Metric::CapacityMinutesPerWeek, BucketKind::All)?;
    let col_f64 = |o: &Output, c: &str| -> Result<Vec<Option<f64>>, MetricError> {
        Ok(o.frame
            .column(c)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let site_names = crate::load::strings(&occupancy.frame, "site")?;
    let occ = col_f64(&occupancy, "occupancy")?;
    let cap = col_f64(&capacity_week, "capacity_minutes_per_week")?;
    let avail = col_f64(&availability, "availability")?;
    let heat_sites = crate::load::strings(&heat.frame, "site")?;
    let heat_values = col_f64(&heat, "occupancy")?;
    let mut peak: BTreeMap<String, f64> = BTreeMap::new();
    for (s, v) in heat_sites.iter().zip(&heat_values) {
        if let (Some(s), Some(v)) = (s, v) {
            let e = peak.entry(s.clone()).or_insert(0.0);
            *e = e.max(*v);
        }
    }
    let t = &sites.library.thresholds;
    let (mut site, mut stations, mut o, mut p, mut m, mut a, mut advice, mut why) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (i, s) in site_names.iter().enumerate() {
        let Some(s) = s else { continue };
        let per_week = cap[i];
        let peak_occ = peak.get(s).copied();
        let (rec, reason) = match (occ[i], peak_occ, per_week) {
            (_, Some(pk), _) if pk >= t.add_occupancy => (
                "add",
                format!(
                    "busiest hour {:.0}% full (threshold {:.0}%)",
                    pk * 100.0,
                    t.add_occupancy * 100.0
                ),
            ),
            (_, _, Some(w)) if w >= t.add_capacity_minutes_per_week => (
                "add",
                format!(
                    "every station busy {w:.0} min a week (threshold {:.0})",
                    t.add_capacity_minutes_per_week
                ),
            ),
            (Some(oc), _, Some(w)) if oc < t.reduce_occupancy && w == 0.0 => (
                "reduce",
                format!(
                    "{:.0}% occupied on average (threshold {:.0}%) and never full",
                    oc * 100.0,
                    t.reduce_occupancy * 100.0
                ),
            ),
            (None, _, _) => ("keep", "no opening hours in the period".to_string()),
            _ => ("keep", "within the thresholds".to_string()),
        };
        site.push(s.clone());
        stations.push(sites.site(s).map(|x| i64::from(x.stations)));
        o.push(occ[i]);
        p.push(peak_occ);
        m.push(per_week);
        a.push(avail[i]);
        advice.push(rec);
        why.push(reason);
    }
    let frame = DataFrame::new_infer_height(vec![
        Column::new("site".into(), site),
        Column::new("stations".into(), stations),
        Column::new("occupancy".into(), o),
        Column::new("busiest_hour_occupancy".into(), p),
        Column::new("capacity_minutes_per_week".into(), m),
        Column::new("availability".into(), a),
        Column::new("station_advice".into(), advice),
        Column::new("reason".into(), why),
    ])?;
    Ok(Output {
        frame,
        value_column: "station_advice".into(),
        warnings: occupancy.warnings,
    })
}

/// Minutes at capacity per week of each bucket: time at capacity over the bucket's local
/// days / 7. The one place the turn-away signal is put per week (station advice and the
/// usage report read it).
pub(crate) fn capacity_per_week(
    lake: &Lake,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let mut out = crate::intervals::intervals(lake, sites, Metric::TimeAtCapacity, grid, dims)?;
    let weeks: HashMap<&str, f64> = grid
        .buckets
        .iter()
        .map(|b| {
            let days = ((b.end_us - b.start_us) as f64 / 86_400_000_000.0).round();
            (b.label.as_str(), days / 7.0)
        })
        .collect();
    let labels = crate::load::strings(&out.frame, "bucket")?;
    let minutes: Vec<Option<f64>> = out
        .frame
        .column("time_at_capacity")?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect();
    let per_week: Vec<Option<f64>> = labels
        .iter()
        .zip(minutes)
        .map(|(l, m)| {
            let w = l.as_deref().and_then(|l| weeks.get(l)).copied()?;
            m.filter(|_| w > 0.0).map(|m| m / w)
        })
        .collect();
    out.frame = out.frame.drop("time_at_capacity")?;
    out.frame.with_column(Column::new(
        Metric::CapacityMinutesPerWeek.name().into(),
        per_week,
    ))?;
    out.value_column = Metric::CapacityMinutesPerWeek.name().into();
    Ok(out)
}

/// Yearly cost of the public computers (each one's cost / life, prorated to the bucket's
/// length) divided by the bucket's sessions, per site; library-wide, the sums.
pub fn cost_per_use(
    lake: &Lake,
    sites: &Sites,
    req: &crate::compute::Request,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    use crate::compute::{Request, compute};
    let sessions = compute(
        lake,
        sites,
        &Request {
            metric: Metric::Sessions,
            ..req.clone()
        },
    )?;
    let df = crate::devices::inventory(lake)?
        .filter(
            col("status")
                .neq(lit("retired"))
                .and(col("kind").eq(lit("public_pc"))),
        )
        .collect()?;
    let a_site = crate::load::strings(&df, "site")?;
    let a_cost: Vec<Option<f64>> = df.column("cost")?.f64()?.iter().collect();
    let a_life: Vec<Option<f64>> = df.column("life_years")?.f64()?.iter().collect();
    let mut yearly: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..df.height() {
        let cost = a_cost[i]
            .or_else(|| sites.library.unit_cost.get("public_pc").copied())
            .unwrap_or(0.0);
        let life = life_of(sites, "public_pc", a_life[i]);
        let key = if dims.contains(&Dim::Site) {
            a_site[i].clone().unwrap_or_default()
        } else {
            String::new()
        };
        *yearly.entry(key).or_default() += cost / life;
    }
    let sf = &sessions.frame;
    let keys = if dims.contains(&Dim::Site) {
        crate::load::strings(sf, "site")?
    } else {
        vec![None; sf.height()]
    };
    let labels = crate::load::strings(sf, "bucket")?;
    let counts: Vec<Option<f64>> = sf
        .column("sessions")?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect();
    let length: BTreeMap<String, f64> = grid
        .buckets
        .iter()
        .map(|b| {
            (
                b.label.clone(),
                (b.end_us - b.start_us) as f64 / (365.25 * 86_400e6),
            )
        })
        .collect();
    let values: Vec<Option<f64>> = (0..sf.height())
        .map(|i| {
            let fleet = yearly.get(&keys[i].clone().unwrap_or_default()).copied()?
                * length.get(labels[i].as_deref()?)?;
            counts[i].filter(|c| *c > 0.0).map(|c| fleet / c)
        })
        .collect();
    let mut frame = sessions.frame.clone();
    frame.with_column(Column::new("cost_per_use".into(), values))?;
    let frame = frame.drop("sessions")?;
    Ok(Output {
        frame,
        value_column: "cost_per_use".into(),
        warnings: sessions.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(due_date(d("2021-03-15"), 5.0), d("2026-03-15"));
        assert_eq!(due_date(d("2024-01-10"), 4.5), d("2028-07-10"));
    }
}
