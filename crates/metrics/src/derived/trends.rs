//! Long series: counts from events where the lake has them, and from the `totals` table
//! for the buckets it has no events for (years before tally, kept in spreadsheets). Each
//! value says where it came from.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::calendar::{date_of_days, local_day};
use tally_model::{Sites, Table};

use crate::base::frame::strings;
use crate::base::grid::Grid;
use crate::base::load::scan_current;
use crate::base::request::{MetricError, Output, Request};
use crate::catalogue::{Dim, Metric};
use crate::engines::answer;

/// The event metric and the totals measure a trend joins.
pub fn parts(metric: Metric) -> (Metric, &'static str) {
    match metric {
        Metric::SessionsTrend => (Metric::Sessions, "sessions"),
        Metric::CirculationTrend => (Metric::Circulation, "circulation"),
        _ => (Metric::WifiSessions, "wifi_sessions"),
    }
}

/// A bucket's value from events when it has any, else the totals whose periods lie
/// wholly inside it (library-wide: the library's own rows if any, else the sum of the
/// sites'), else empty.
pub fn trend(
    lake: &Snapshot,
    sites: &Sites,
    metric: Metric,
    req: &Request,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let (event_metric, measure) = parts(metric);
    let events = answer(
        lake,
        sites,
        &Request {
            metric: event_metric,
            ..req.clone()
        },
    )?;
    let by_site = dims.contains(&Dim::Site);
    let ef = &events.frame;
    let e_sites = if by_site {
        strings(ef, "site")?
    } else {
        vec![None; ef.height()]
    };
    let e_buckets = strings(ef, "bucket")?;
    let e_values: Vec<Option<f64>> = ef
        .column(event_metric.name())?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect();
    let mut from_events: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for i in 0..ef.height() {
        let k = e_sites[i].clone().unwrap_or_default();
        keys.insert(k.clone());
        if let (Some(b), Some(v)) = (&e_buckets[i], e_values[i])
            && v > 0.0
        {
            from_events.insert((k, b.clone()), v);
        }
    }
    // Totals rows of the measure.
    let t = scan_current(lake, Table::Totals)?
        .filter(col("measure").eq(lit(measure)))
        .collect()?;
    let t_site = strings(&t, "site")?;
    let day = |c: &str| -> Result<Vec<NaiveDate>, MetricError> {
        Ok(t.column(c)?
            .cast(&DataType::Int32)?
            .i32()?
            .iter()
            .map(|d| date_of_days(d.unwrap_or(0)))
            .collect())
    };
    let (t_start, t_end) = (day("period_start")?, day("period_end")?);
    let t_value: Vec<f64> = t
        .column("value")?
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let local = |us: i64| local_day(us, grid.tz);
    // (key, bucket label) -> (site rows sum, library rows sum, any library row)
    let mut from_totals: BTreeMap<(String, String), (f64, f64, bool)> = BTreeMap::new();
    for b in &grid.buckets {
        let (a, z) = (local(b.start_us), local(b.end_us));
        for i in 0..t.height() {
            if t_start[i] < a || t_end[i] > z {
                continue;
            }
            let code = t_site[i].as_deref().map(|s| {
                sites
                    .site(s)
                    .map_or_else(|| s.to_string(), |x| x.code.clone())
            });
            let key = if by_site {
                code.clone().unwrap_or_default()
            } else {
                String::new()
            };
            if by_site && code.is_none() {
                continue;
            }
            keys.insert(key.clone());
            let e = from_totals.entry((key, b.label.clone())).or_default();
            match code {
                Some(_) => e.0 += t_value[i],
                None => {
                    e.1 += t_value[i];
                    e.2 = true;
                }
            }
        }
    }
    let (mut site_col, mut labels, mut values, mut from) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in &keys {
        for b in &grid.buckets {
            let id = (k.clone(), b.label.clone());
            let (v, f) = match (from_events.get(&id), from_totals.get(&id)) {
                (Some(v), _) => (Some(*v), Some("events")),
                (None, Some((sum, library, has_library))) => (
                    Some(if *has_library { *library } else { *sum }),
                    Some("totals"),
                ),
                (None, None) => (None, None),
            };
            site_col.push(k.clone());
            labels.push(b.label.clone());
            values.push(v);
            from.push(f);
        }
    }
    let mut columns = Vec::new();
    if by_site {
        columns.push(Column::new("site".into(), site_col));
    }
    columns.push(Column::new("bucket".into(), labels));
    columns.push(Column::new(metric.name().into(), values));
    columns.push(Column::new("from".into(), from));
    Ok(Output {
        frame: DataFrame::new_infer_height(columns)?,
        value_column: metric.name().into(),
        warnings: events.warnings,
    })
}
