//! Station advice: per site over the period, add, keep or reduce public stations against
//! the thresholds of sites.toml, from occupancy, the heatmap, minutes at capacity a week
//! and availability.

use std::collections::BTreeMap;

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::{BucketKind, Sites};

use crate::base::frame::strings;
use crate::base::request::{MetricError, Output, Request};
use crate::catalogue::{Dim, Metric};
use crate::engines::answer;

/// Per site over the period: occupancy, the busiest weekday-hour's occupancy (the darkest
/// cell of the site's heatmap), minutes a week with every station busy, availability,
/// and a recommendation against the thresholds in sites.toml:
/// add when the busiest hour reaches `add_occupancy` or the minutes at capacity a week
/// reach `add_capacity_minutes_per_week`; reduce when occupancy stays below
/// `reduce_occupancy` and the site never fills; keep otherwise.
pub fn station_advice(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
) -> Result<Output, MetricError> {
    let run = |m: Metric, every: BucketKind| {
        answer(
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
    let capacity_week = crate::derived::answer(
        lake,
        sites,
        &Request {
            metric: Metric::CapacityMinutesPerWeek,
            every: BucketKind::All,
            by: vec![Dim::Site],
            ..req.clone()
        },
    )?;
    let col_f64 = |o: &Output, c: &str| -> Result<Vec<Option<f64>>, MetricError> {
        Ok(o.frame
            .column(c)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let site_names = strings(&occupancy.frame, "site")?;
    let occ = col_f64(&occupancy, "occupancy")?;
    let cap = col_f64(&capacity_week, "capacity_minutes_per_week")?;
    let avail = col_f64(&availability, "availability")?;
    let heat_sites = strings(&heat.frame, "site")?;
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
