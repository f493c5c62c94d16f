//! The equipment fleet: what falls due for replacement when, at what cost, the devices
//! in service, and the survey's count of public computers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::frame::{assemble, dates, strings};
use crate::base::grid::Grid;
use crate::base::inventory::{due_date, inventory, life_of};
use crate::base::request::{MetricError, Output};
use crate::catalogue::{Dim, Metric};

/// Units (or their cost) falling due in each bucket, by site and kind. An asset already
/// overdue at the period's start (and not retired) counts in the first bucket: it still
/// has to be replaced. Cost is today's unit cost for the kind from sites.toml, else
/// the asset's purchase cost.
pub fn replacement(
    lake: &Snapshot,
    sites: &Sites,
    metric: Metric,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let df = inventory(lake)?
        .filter(col("status").neq(lit("retired")))
        .collect()?;
    let kinds = df.column("kind")?.str()?.clone();
    let site_col = df.column("site")?.str()?.clone();
    let purchased = dates(&df, "purchased")?;
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
    // Nothing due is 0 units and 0 in cost, not an empty cell.
    assemble(
        sites,
        metric,
        grid,
        dims,
        groups,
        |key, b| Some(cells.get(&(key.to_vec(), b)).copied().unwrap_or(0.0)),
        metric != Metric::ReplacementCost,
    )
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
    lake: &Snapshot,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let df = inventory(lake)?.collect()?;
    let kinds = strings(&df, "kind")?;
    let site_col = strings(&df, "site")?;
    let status = strings(&df, "status")?;
    let (purchased, retired) = (dates(&df, "purchased")?, dates(&df, "retired")?);
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
    let mut out = assemble(
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
