//! A consortium's figures: each member's own metric answers over one period, from its own
//! lake (only these aggregates leave it), per 1,000 residents of the member's service
//! area, each member against the consortium's median and quartiles (the rule of `tally
//! peers`), and monthly trends. docs/consortium.md states every definition.

use std::rc::Rc;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::{BucketKind, Sites, Table};

use crate::answers::{Answers, with_answers};
use crate::base::frame::strings;
use crate::base::request::{MetricError, Request};
use crate::catalogue::{Dim, Metric};
use crate::derived::peers::quantile;

/// One member: its code and name (consortium.toml), its lake and sites.toml, and the
/// residents of its service area.
pub struct Member {
    pub code: String,
    pub name: String,
    pub lake: Snapshot,
    pub sites: Sites,
    pub population: u64,
    /// Where its answers come from when not from its lake by tally's engines: a Spark
    /// job's results, or a recorder listing the requests for one (`crate::answers`).
    pub answers: Option<Rc<dyn Answers>>,
}

impl Member {
    fn compute(&self, req: &Request) -> Result<crate::base::request::Output, MetricError> {
        match &self.answers {
            Some(a) => with_answers(a.clone(), || {
                crate::compute::compute(&self.lake, &self.sites, req)
            }),
            None => crate::compute::compute(&self.lake, &self.sites, req),
        }
    }
}

/// The counts compared, each a member's `tally metric NAME --every all` cell, and also
/// shown per 1,000 residents.
pub const COUNTS: [Metric; 5] = [
    Metric::Sessions,
    Metric::Circulation,
    Metric::WifiSessions,
    Metric::PrintPages,
    Metric::TicketsOpened,
];

/// The counts drawn month by month.
pub const TRENDS: [Metric; 3] = [Metric::Sessions, Metric::Circulation, Metric::WifiSessions];

/// The consortium's tables: one row per member and one for the consortium; each
/// member's measures against the consortium; monthly counts.
pub struct Consortium {
    pub members: DataFrame,
    pub comparison: DataFrame,
    pub trends: DataFrame,
    pub warnings: Vec<String>,
}

fn all_period(
    metric: Metric,
    from: NaiveDate,
    to: NaiveDate,
    every: BucketKind,
    by: Vec<Dim>,
) -> Request {
    Request {
        metric,
        from,
        to,
        every,
        by,
        budget: None,
    }
}

/// A metric's one cell for the whole period and library, or `None` when the member's lake
/// has no rows of the table it reads (a library without PaperCut has no print pages, not
/// zero).
fn cell(
    m: &Member,
    metric: Metric,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<f64>, MetricError> {
    if m.lake.rel_files(metric.table(), None).is_empty() {
        return Ok(None);
    }
    let out = m.compute(&all_period(metric, from, to, BucketKind::All, vec![]))?;
    Ok(out
        .frame
        .column(&out.value_column)?
        .cast(&DataType::Float64)?
        .f64()?
        .get(0))
}

/// Devices in service on the period's last day, and those whose OS is out of support
/// (status `unsupported`), from `tally metric os_support --as-of LAST --by status`.
fn devices(m: &Member, to: NaiveDate) -> Result<(Option<f64>, Option<f64>), MetricError> {
    if m.lake.rel_files(Table::Assets, None).is_empty() {
        return Ok((None, None));
    }
    let last = to.pred_opt().unwrap_or(to);
    let out = m.compute(&all_period(
        Metric::OsSupport,
        last,
        to,
        BucketKind::All,
        vec![Dim::Status],
    ))?;
    let status = strings(&out.frame, "status")?;
    let n = out.frame.column("os_support")?.cast(&DataType::Float64)?;
    let (mut all, mut out_of_support) = (0.0, 0.0);
    for (s, v) in status.iter().zip(n.f64()?.iter()) {
        let v = v.unwrap_or(0.0);
        all += v;
        if s.as_deref() == Some("unsupported") {
            out_of_support += v;
        }
    }
    Ok((Some(all), Some(out_of_support)))
}

/// Counts as whole numbers (they are sums of whole numbers).
fn whole(v: &[Option<f64>]) -> Vec<Option<i64>> {
    v.iter().map(|x| x.map(|x| x.round() as i64)).collect()
}

fn per_1000(v: Option<f64>, population: f64) -> Option<f64> {
    v.filter(|_| population > 0.0)
        .map(|v| v * 1000.0 / population)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The consortium's figures for [from, to).
pub fn consortium(
    members: &[Member],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Consortium, MetricError> {
    if members.is_empty() {
        return Err(MetricError::Invalid("the consortium has no members".into()));
    }
    let mut warnings = Vec::new();
    // values[k][i]: count k of member i.
    let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); COUNTS.len()];
    let (mut devices_all, mut devices_out, mut cost) = (Vec::new(), Vec::new(), Vec::new());
    for m in members {
        for (k, &metric) in COUNTS.iter().enumerate() {
            let v = cell(m, metric, from, to)?;
            if v.is_none() {
                warnings.push(format!(
                    "{}: its lake has no {} (for {}): left out of that measure",
                    m.code,
                    metric.table(),
                    metric.name()
                ));
            }
            values[k].push(v);
        }
        let (all, out) = devices(m, to)?;
        devices_all.push(all);
        devices_out.push(out);
        cost.push(cell(m, Metric::ReplacementCost, from, to)?);
    }

    // One row per member, then the consortium: sums, and rates over the residents of
    // the members that have the measure.
    let population: Vec<f64> = members.iter().map(|m| m.population as f64).collect();
    let sum = |v: &[Option<f64>]| -> Option<f64> {
        let present: Vec<f64> = v.iter().flatten().copied().collect();
        (!present.is_empty()).then(|| present.iter().sum())
    };
    let residents_with = |v: &[Option<f64>]| -> f64 {
        v.iter()
            .zip(&population)
            .filter(|(x, _)| x.is_some())
            .map(|(_, p)| p)
            .sum()
    };
    let mut codes: Vec<String> = members.iter().map(|m| m.code.clone()).collect();
    codes.push("(consortium)".into());
    let mut names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    names.push(format!("All {} members", members.len()));
    let mut pops: Vec<u64> = members.iter().map(|m| m.population).collect();
    pops.push(members.iter().map(|m| m.population).sum());
    let mut columns = vec![
        Column::new("member".into(), codes.clone()),
        Column::new("name".into(), names),
        Column::new("population".into(), pops),
    ];
    // The measures compared, per member: (name, values).
    let mut measures: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    for (k, &metric) in COUNTS.iter().enumerate() {
        let mut v = values[k].clone();
        let mut rate: Vec<Option<f64>> = v
            .iter()
            .zip(&population)
            .map(|(x, p)| per_1000(*x, *p))
            .collect();
        let total = sum(&values[k]);
        v.push(total);
        rate.push(per_1000(total, residents_with(&values[k])));
        measures.push((
            format!("{}_per_1000", metric.name()),
            rate[..members.len()].to_vec(),
        ));
        columns.push(Column::new(metric.name().into(), whole(&v)));
        columns.push(Column::new(
            format!("{}_per_1000", metric.name()).into(),
            rate,
        ));
    }
    let share: Vec<Option<f64>> = devices_out
        .iter()
        .zip(&devices_all)
        .map(|(o, a)| ratio(*o, *a))
        .collect();
    measures.push(("out_of_support_share".into(), share.clone()));
    let cost_per_1000: Vec<Option<f64>> = cost
        .iter()
        .zip(&population)
        .map(|(c, p)| per_1000(*c, *p))
        .collect();
    measures.push(("replacement_cost_due_per_1000".into(), cost_per_1000));
    let (all_total, out_total) = (sum(&devices_all), sum(&devices_out));
    let with = |mut v: Vec<Option<f64>>, total: Option<f64>| {
        v.push(total);
        v
    };
    columns.push(Column::new(
        "devices".into(),
        whole(&with(devices_all.clone(), all_total)),
    ));
    columns.push(Column::new(
        "devices_out_of_support".into(),
        whole(&with(devices_out.clone(), out_total)),
    ));
    columns.push(Column::new(
        "out_of_support_share".into(),
        with(share, ratio(out_total, all_total)),
    ));
    columns.push(Column::new(
        "replacement_cost_due".into(),
        with(cost.clone(), sum(&cost)),
    ));
    let members_frame = DataFrame::new_infer_height(columns)?;

    // Each member against the consortium: the median and quartiles of the members that
    // have the measure (PERCENTILE.INC, as tally peers), and the share of the other
    // members below it.
    let (
        mut c_measure,
        mut c_member,
        mut c_value,
        mut c_median,
        mut c_p25,
        mut c_p75,
        mut c_pct,
        mut c_n,
    ) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (measure, v) in &measures {
        let mut sorted: Vec<f64> = v.iter().flatten().copied().collect();
        sorted.sort_by(f64::total_cmp);
        for (i, m) in members.iter().enumerate() {
            c_measure.push(measure.clone());
            c_member.push(m.code.clone());
            c_value.push(v[i]);
            c_median.push(quantile(&sorted, 0.5));
            c_p25.push(quantile(&sorted, 0.25));
            c_p75.push(quantile(&sorted, 0.75));
            c_n.push(sorted.len() as u32);
            c_pct.push(v[i].filter(|_| sorted.len() > 1).map(|x| {
                sorted.iter().filter(|y| **y < x).count() as f64 * 100.0 / (sorted.len() - 1) as f64
            }));
        }
    }
    let comparison = DataFrame::new_infer_height(vec![
        Column::new("measure".into(), c_measure),
        Column::new("member".into(), c_member),
        Column::new("value".into(), c_value),
        Column::new("consortium_median".into(), c_median),
        Column::new("consortium_p25".into(), c_p25),
        Column::new("consortium_p75".into(), c_p75),
        Column::new("members_with_measure".into(), c_n),
        Column::new("percentile".into(), c_pct),
    ])?;

    // Monthly counts, each member's `tally metric NAME --every month` over the period.
    let mut trends: Option<DataFrame> = None;
    for m in members {
        let mut frame: Option<DataFrame> = None;
        for &metric in &TRENDS {
            if m.lake.rel_files(metric.table(), None).is_empty() {
                continue;
            }
            let out = m.compute(&all_period(metric, from, to, BucketKind::Month, vec![]))?;
            let df = out.frame.select(["bucket", out.value_column.as_str()])?;
            frame = Some(match frame {
                None => df,
                Some(f) => f.join(
                    &df,
                    ["bucket"],
                    ["bucket"],
                    JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
                    None,
                )?,
            });
        }
        let Some(mut f) = frame else { continue };
        for &metric in &TRENDS {
            if f.column(metric.name()).is_err() {
                f.with_column(Column::full_null(
                    metric.name().into(),
                    f.height(),
                    &DataType::Int64,
                ))?;
            }
        }
        let mut f = f
            .lazy()
            .select([
                col("bucket"),
                col("sessions").cast(DataType::Int64),
                col("circulation").cast(DataType::Int64),
                col("wifi_sessions").cast(DataType::Int64),
            ])
            .collect()?;
        f.insert_column(
            0,
            Column::new("member".into(), vec![m.code.clone(); f.height()]),
        )?;
        let f = f.sort(["bucket"], SortMultipleOptions::default())?;
        trends = Some(match trends {
            None => f,
            Some(t) => t.vstack(&f)?,
        });
    }
    let trends = trends.unwrap_or_else(|| {
        DataFrame::empty_with_schema(&Schema::from_iter([
            Field::new("member".into(), DataType::String),
            Field::new("bucket".into(), DataType::String),
        ]))
    });
    Ok(Consortium {
        members: members_frame,
        comparison,
        trends,
        warnings,
    })
}
