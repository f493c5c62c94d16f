//! Cost per use: the public computers' yearly cost over the sessions they served.

use std::collections::BTreeMap;

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::frame::strings;
use crate::base::grid::Grid;
use crate::base::inventory::{inventory, life_of};
use crate::base::request::{MetricError, Output, Request};
use crate::catalogue::{Dim, Metric};
use crate::engines::answer;

/// Yearly cost of the public computers (each one's cost / life, prorated to the bucket's
/// length) divided by the bucket's sessions, per site; library-wide, the sums.
pub fn cost_per_use(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let sessions = answer(
        lake,
        sites,
        &Request {
            metric: Metric::Sessions,
            ..req.clone()
        },
    )?;
    let df = inventory(lake)?
        .filter(
            col("status")
                .neq(lit("retired"))
                .and(col("kind").eq(lit("public_pc"))),
        )
        .collect()?;
    let a_site = strings(&df, "site")?;
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
        strings(sf, "site")?
    } else {
        vec![None; sf.height()]
    };
    let labels = strings(sf, "bucket")?;
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
