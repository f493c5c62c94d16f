//! The SQL backend: every metric the catalogue declares as a spec, written as SQL for
//! DuckDB or Spark, whose result has the columns, names, row order and cells of
//! `tally metric --format csv` with the same request. What the SQL needs beyond the
//! lake's rows travels with it as small tables: the buckets (with their partial-bucket
//! coverage), the library's calendar (opening hours as UTC intervals, stations,
//! populations), the batch order of the tables where the latest export wins, and the
//! distinct counts a purge kept. The lake's files are a fixed list from one snapshot of
//! its ledger, never a glob, so a crashed write's leftovers are never read.
//!
//! A metric that is not a spec (the replacement plan's levelling is an optimisation)
//! is refused with the catalogue's reason.

mod derived;
mod dialect;
mod events;
mod expr;
mod fleet;
mod intervals;
pub mod job;
mod layout;
mod plan;

pub use dialect::Dialect;
pub use plan::{Plan, Select, SmallTable, Ty, Value};

use tally_lake::{Snapshot, month_of_us};
use tally_model::{Sites, Table};

use crate::base::grid::{Grid, for_request};
use crate::base::request::Shape;
use crate::base::request::{MetricError, Request};
use crate::base::span::{COVERAGE_COLUMNS, coverage};
use crate::catalogue::{Dim, Engine, Metric};
use crate::engines::dims_of;
use crate::spec::{EventSpec, event_spec};

/// Microseconds in a day: the lake's rows meet the buckets by their UTC day.
const DAY_US: i64 = 86_400_000_000;

/// Why a metric has no SQL form, or `None` when it has one.
pub fn unsupported(metric: Metric) -> Option<&'static str> {
    match metric.engine() {
        Engine::ReplacementPlan => Some(
            "the replacement plan levels spending across years within a budget: an optimisation, not a count SQL can state",
        ),
        Engine::Events
        | Engine::Interval
        | Engine::Assets
        | Engine::Replacement
        | Engine::Cumulative
        | Engine::OsSupport
        | Engine::StaleDevices
        | Engine::Backlog
        | Engine::PublicComputers
        | Engine::CapacityPerWeek
        | Engine::CostPerUse
        | Engine::Trend => None,
        Engine::StationAdvice => Some(
            "station advice is a decision over four metrics against sites.toml's thresholds; ask tally sql for occupancy, heatmap, capacity_minutes_per_week and availability",
        ),
    }
}

/// What a plan is built from.
pub(crate) struct Ask<'a> {
    pub lake: &'a Snapshot,
    pub sites: &'a Sites,
    pub req: &'a Request,
    pub grid: Grid,
    pub dims: Vec<Dim>,
    pub d: Dialect,
    /// Where the lake's files are for the engine that runs the SQL (a URI or a folder).
    pub root: String,
}

impl Ask<'_> {
    /// The library's time zone, by name.
    pub fn zone(&self) -> &'static str {
        self.grid.tz.name()
    }

    /// The files of `table` whose partitions can hold rows in the grid's span, from
    /// `lookback_us` before it (a session may start before the period and run into it),
    /// as the engine sees them; `None`: every file (a table where the latest export wins
    /// keeps a ticket in the month it was opened, whenever it is resolved).
    pub fn files(&self, table: Table, lookback_us: Option<i64>) -> Vec<String> {
        let months = lookback_us.map(|back| {
            (
                month_of_us(self.grid.start_us() - back),
                month_of_us(self.grid.end_us()),
            )
        });
        let mut files: Vec<String> = self
            .lake
            .rel_files(table, months)
            .into_iter()
            .map(|rel| format!("{}/{rel}", self.root.trim_end_matches('/')))
            .collect();
        files.sort();
        files
    }

    /// A relation of `columns` of the files of `table` (none: an empty relation of the
    /// table's types).
    pub fn rows_of(&self, table: Table, columns: &[&str], lookback_us: Option<i64>) -> String {
        let files = self.files(table, lookback_us);
        if files.is_empty() {
            let schema = table.schema();
            let cols: Vec<String> = columns
                .iter()
                .map(|c| {
                    let ty = match schema.get(c) {
                        Some(polars::prelude::DataType::Int64) => "BIGINT",
                        Some(polars::prelude::DataType::Float64) => "DOUBLE",
                        Some(polars::prelude::DataType::Boolean) => "BOOLEAN",
                        Some(polars::prelude::DataType::Date) => "DATE",
                        Some(polars::prelude::DataType::Datetime(..)) => "TIMESTAMP",
                        _ => "STRING",
                    };
                    format!("{} AS {c}", self.d.null(ty))
                })
                .collect();
            return format!("SELECT {} WHERE 1 = 0", cols.join(", "));
        }
        self.d.files(&files, columns)
    }
}

/// The buckets of the request with their coverage (`buckets`), and the UTC days each
/// touches (`bucket_days`: how a row finds its bucket by an equality, then its range).
fn bucket_tables(a: &Ask<'_>, metric: Metric) -> Result<(SmallTable, SmallTable), MetricError> {
    let cov = coverage(a.lake, a.sites, metric, &a.grid)?;
    let mut buckets = SmallTable::new(
        "buckets",
        &[
            ("b", Ty::BigInt),
            ("start_us", Ty::BigInt),
            ("end_us", Ty::BigInt),
            ("label", Ty::Text),
            ("partial", Ty::Bool),
            ("days_covered", Ty::BigInt),
            ("bucket_days", Ty::BigInt),
            ("period_days", Ty::BigInt),
        ],
    );
    let mut days = SmallTable::new("bucket_days", &[("day", Ty::BigInt), ("b", Ty::BigInt)]);
    for (i, (bucket, c)) in a.grid.buckets.iter().zip(&cov).enumerate() {
        let (partial, covered, full) = match c {
            Some(c) => (c.is_partial(), Value::Int(c.covered), Value::Int(c.full)),
            None => (false, Value::Null, Value::Null),
        };
        buckets.push(vec![
            Value::Int(i as i64),
            Value::Int(bucket.start_us),
            Value::Int(bucket.end_us),
            Value::Text(bucket.label.clone()),
            Value::Bool(partial),
            covered,
            full,
            bucket
                .days
                .map_or(Value::Null, |(a, e)| Value::Int((e - a).num_days())),
        ]);
        let (first, last) = (
            bucket.start_us.div_euclid(DAY_US),
            (bucket.end_us - 1).div_euclid(DAY_US),
        );
        for day in first..=last {
            days.push(vec![Value::Int(day), Value::Int(i as i64)]);
        }
    }
    Ok((buckets, days))
}

/// The SQL of a request: a plan of small tables, subqueries and a final SELECT.
pub fn plan(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
    d: Dialect,
    root: &str,
) -> Result<Plan, MetricError> {
    plan_with(lake, sites, req, d, root, None)
}

/// A request's statement with `spec` in place of the catalogue's declaration of its
/// event metric: what a change to a definition would answer (the planted-difference
/// test edits specs and checks that the cross-check notices).
pub fn statement_with_spec(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
    spec: &EventSpec,
    d: Dialect,
    root: &str,
) -> Result<String, MetricError> {
    if req.metric.engine() != Engine::Events {
        return Err(MetricError::Invalid(format!(
            "{} is not an event metric: it has no event spec",
            req.metric.name()
        )));
    }
    Ok(plan_with(lake, sites, req, d, root, Some(spec))?.statement(d))
}

fn plan_with(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
    d: Dialect,
    root: &str,
    spec: Option<&EventSpec>,
) -> Result<Plan, MetricError> {
    if let Some(why) = unsupported(req.metric) {
        return Err(MetricError::Invalid(format!(
            "{} has no SQL form: {why}",
            req.metric.name()
        )));
    }
    req.check()?;
    let a = Ask {
        lake,
        sites,
        req,
        grid: for_request(req, sites),
        dims: dims_of(req),
        d,
        root: root.to_string(),
    };
    let (buckets, days) = bucket_tables(&a, req.metric)?;
    let mut p = Plan::default();
    p.table(buckets);
    p.table(days);
    match req.metric.engine() {
        Engine::Events => {
            let catalogue = event_spec(req.metric, sites);
            events::plan(&a, &mut p, spec.unwrap_or(&catalogue))?
        }
        Engine::Interval => intervals::plan(&a, &mut p)?,
        Engine::CapacityPerWeek | Engine::CostPerUse | Engine::Trend => derived::plan(&a, &mut p)?,
        _ => fleet::plan(&a, &mut p)?,
    }
    Ok(p)
}

/// The SQL of a request shaped as `tally metric` shapes it (`--yoy`, `--top`,
/// `--complete-only`, in that order: compute.rs `ask`).
pub fn plan_shaped(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
    shape: &Shape,
    d: Dialect,
    root: &str,
) -> Result<Plan, MetricError> {
    let mut p = plan(lake, sites, req, d, root)?;
    if shape.yoy {
        let before = plan(lake, sites, &req.year_before()?, d, root)?;
        year_over_year(&mut p, before, req.metric, d)?;
    }
    if let Some(n) = shape.top {
        top(&mut p, req.metric, d, n)?;
    }
    if shape.complete_only {
        let mut s = p.wrap(d, "shaped");
        s.from.push_str(" WHERE NOT COALESCE(w.partial, FALSE)");
        p.select = s;
    }
    Ok(p)
}

/// The columns of a metric's table that are neither its bucket, its value nor the
/// partial-bucket columns: what keeps a row's group (compute.rs `compute_yoy`).
fn group_columns(p: &Plan, metric: Metric) -> Vec<String> {
    p.select
        .cols
        .iter()
        .map(|(_, n)| n.clone())
        .filter(|n| n != "bucket" && n != metric.name() && !COVERAGE_COLUMNS.contains(&n.as_str()))
        .collect()
}

/// `previous_year` (the same bucket of the group a year before, by position) and
/// `change_pct`, empty where either bucket's data covers only part of what the period
/// leaves of it.
fn year_over_year(
    p: &mut Plan,
    mut before: Plan,
    metric: Metric,
    d: Dialect,
) -> Result<(), MetricError> {
    if p.select.col_mut("bucket").is_none() {
        return Err(MetricError::Invalid(format!(
            "{} has no buckets to compare with the year before",
            metric.name()
        )));
    }
    let groups = group_columns(p, metric);
    let value = metric.name();
    for plan in [&mut *p, &mut before] {
        plan.select
            .cols
            .push(("bk.period_days".into(), "period_days_".into()));
    }
    let cur = p.wrap(d, "cur");
    let n_order = cur.order.len();
    p.children.push(("prev_plan".into(), before));
    let partition = |rel: &str| -> String {
        if groups.is_empty() {
            String::new()
        } else {
            format!(
                "PARTITION BY {} ",
                groups
                    .iter()
                    .map(|g| format!("{rel}.{}", d.ident(g)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let order: Vec<String> = (0..n_order).map(|i| format!("w.o_{i}")).collect();
    for (name, from) in [("cur_pos", "cur"), ("prev_pos", "prev_plan")] {
        p.cte(
            name,
            format!(
                "SELECT w.*, ROW_NUMBER() OVER ({}ORDER BY {}) AS pos_,                  COALESCE(w.days_covered < w.period_days_, FALSE) AS short_ FROM {from} w",
                partition("w"),
                order.join(", ")
            ),
        );
    }
    let on: String = groups
        .iter()
        .map(|g| format!("q.{g} IS NOT DISTINCT FROM c.{g} AND ", g = d.ident(g)))
        .collect();
    let v = d.ident(value);
    let previous = format!(
        "CASE WHEN c.short_ OR COALESCE(q.short_, FALSE) THEN NULL ELSE CAST(q.{v} AS DOUBLE) END"
    );
    let mut cols: Vec<(String, String)> = cur
        .cols
        .iter()
        .filter(|(_, n)| n != "period_days_")
        .map(|(_, n)| (format!("c.{}", d.ident(n)), n.clone()))
        .collect();
    cols.push((previous.clone(), "previous_year".into()));
    cols.push((
        format!(
            "CASE WHEN c.{v} IS NOT NULL AND ({previous}) IS NOT NULL AND ({previous}) <> 0E0              THEN (CAST(c.{v} AS DOUBLE) - ({previous})) / ({previous}) * 100E0 END"
        ),
        "change_pct".into(),
    ));
    p.select = Select {
        cols,
        from: format!("cur_pos c LEFT JOIN prev_pos q ON {on}q.pos_ = c.pos_"),
        order: (0..n_order).map(|i| format!("c.o_{i}")).collect(),
    };
    Ok(())
}

/// The `n` largest values of each bucket, largest first, empty values last; buckets in
/// their order, ties in the table's order (`Output::top`).
fn top(p: &mut Plan, metric: Metric, d: Dialect, n: usize) -> Result<(), MetricError> {
    if p.select.col_mut("bucket").is_none() {
        return Err(MetricError::Invalid(format!(
            "--top keeps the largest values of each bucket; {} has no buckets",
            metric.name()
        )));
    }
    let s = p.wrap(d, "unranked");
    let order = s.order.join(", ");
    p.cte(
        "ranked",
        format!(
            "SELECT w.*, ROW_NUMBER() OVER (PARTITION BY w.bucket \
             ORDER BY CAST(w.{v} AS DOUBLE) DESC NULLS LAST, {order}) AS rank_, \
             MIN(w.first_) OVER (PARTITION BY w.bucket) AS bucket_first_ \
             FROM (SELECT w.*, ROW_NUMBER() OVER (ORDER BY {order}) AS first_ FROM unranked w) w",
            v = d.ident(metric.name()),
        ),
    );
    p.select = Select {
        cols: s.cols,
        from: format!("ranked w WHERE w.rank_ <= {n}"),
        order: vec!["w.bucket_first_".into(), "w.rank_".into()],
    };
    Ok(())
}

/// One statement for `tally sql`: the small tables inline.
pub fn statement(
    lake: &Snapshot,
    sites: &Sites,
    req: &Request,
    shape: &Shape,
    d: Dialect,
    root: &str,
) -> Result<String, MetricError> {
    Ok(plan_shaped(lake, sites, req, shape, d, root)?.statement(d))
}
