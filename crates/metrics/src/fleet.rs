//! The equipment fleet: what falls due for replacement when, at what cost, and the
//! survey's count of public computers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use tally_model::{Lake, Sites, Table};

use crate::catalogue::{Dim, Metric};
use crate::compute::{MetricError, Output};
use crate::grid::Grid;
use crate::load::scan_current;

/// When an asset falls due: purchased + its life (the asset's own, else the default for
/// its kind in sites.toml, else 5 years), to the month.
pub fn due_date(purchased: NaiveDate, life_years: f64) -> NaiveDate {
    let months = (life_years * 12.0).round().max(0.0) as u32;
    purchased.checked_add_months(Months::new(months)).unwrap_or(purchased)
}

fn life_of(sites: &Sites, kind: &str, own: Option<f64>) -> f64 {
    own.or_else(|| sites.library.asset_life_years.get(kind).copied()).unwrap_or(5.0)
}

/// Units (or their cost) falling due in each bucket, by site and kind. An asset already
/// overdue at the period's start (and not retired) counts in the first bucket: it still
/// has to be replaced. Cost is today's unit cost for the kind from sites.toml, else
/// the asset's purchase cost.
pub fn replacement(lake: &Lake, sites: &Sites, metric: Metric, grid: &Grid, dims: &[Dim]) -> Result<Output, MetricError> {
    let df = scan_current(lake, Table::Assets)?.filter(col("status").neq(lit("retired"))).collect()?;
    let kinds = df.column("kind")?.str()?.clone();
    let site_col = df.column("site")?.str()?.clone();
    let purchased = df.column("purchased")?.cast(&DataType::Int32)?;
    let purchased = purchased.i32()?;
    let life = df.column("life_years")?.f64()?.clone();
    let cost = df.column("cost")?.f64()?.clone();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let tz = grid.tz;
    let local = |us: i64| chrono::DateTime::from_timestamp_micros(us).expect("in range").with_timezone(&tz).date_naive();
    let bucket_days: Vec<(NaiveDate, NaiveDate)> = grid.buckets.iter().map(|b| (local(b.start_us), local(b.end_us))).collect();
    let mut cells: BTreeMap<(Vec<String>, usize), f64> = BTreeMap::new();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for i in 0..df.height() {
        let (Some(kind), Some(days)) = (kinds.get(i), purchased.get(i)) else { continue };
        let bought = epoch + chrono::Duration::days(i64::from(days));
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
            Metric::ReplacementCost => sites.library.unit_cost.get(kind).copied().or(cost.get(i)).unwrap_or(0.0),
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
    let mut columns: Vec<Column> = dims.iter().zip(out_keys).map(|(d, v)| Column::new(d.column().into(), v)).collect();
    columns.push(Column::new("bucket".into(), labels));
    if metric == Metric::ReplacementCost {
        columns.push(Column::new(metric.name().into(), values));
    } else {
        columns.push(Column::new(metric.name().into(), values.into_iter().map(|v| v as i64).collect::<Vec<_>>()));
    }
    Ok(Output { frame: DataFrame::new_infer_height(columns)?, value_column: metric.name().into(), warnings: Vec::new() })
}

/// The survey's public internet computers (line 650): the stations sites.toml gives each
/// site, the same in every bucket; library-wide, their sum.
pub fn public_computers(sites: &Sites, grid: &Grid, dims: &[Dim]) -> Result<Output, MetricError> {
    let mut columns = Vec::new();
    let rows: Vec<(Option<&str>, i64)> = if dims.contains(&Dim::Site) {
        sites.sites.iter().map(|s| (Some(s.code.as_str()), i64::from(s.stations))).collect()
    } else {
        vec![(None, sites.sites.iter().map(|s| i64::from(s.stations)).sum())]
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
    Ok(Output { frame: DataFrame::new_infer_height(columns)?, value_column: "public_computers".into(), warnings: Vec::new() })
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
