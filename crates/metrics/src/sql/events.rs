//! Event metrics as SQL: the rows of the period that pass the spec's filter, each put in
//! the bucket its time falls in, aggregated by the spec's measure per (dimensions,
//! bucket), then laid out as `assemble` lays them out (every group x every bucket, zeros
//! where nothing happened, rates per population or devices, small cells suppressed,
//! distinct counts with what a purge kept).

use crate::base::frame::suppressible;
use crate::base::request::MetricError;
use crate::base::retention::corrections;
use crate::spec::{EventSpec, Measure, Per};
use crate::sql::expr;
use crate::sql::plan::{Plan, Select, SmallTable, Ty, Value};
use crate::sql::{Ask, DAY_US};

/// How far before the period an event's partition may be: none (an event is an instant).
const NO_LOOKBACK: i64 = 0;

pub(crate) fn plan(a: &Ask<'_>, p: &mut Plan, spec: &EventSpec) -> Result<(), MetricError> {
    let metric = a.req.metric;
    let d = a.d;
    let zone = a.zone();
    if metric == crate::catalogue::Metric::ShareOverTarget
        && a.sites.library.work_order_target_hours.is_empty()
    {
        return Err(MetricError::Invalid(
            "share_over_target needs targets: sites.toml has no [library.work_order_target_hours]"
                .into(),
        ));
    }
    let dims: Vec<&str> = a.dims.iter().map(|x| x.column()).collect();

    // The columns the spec reads.
    let mut columns: Vec<&str> = dims.clone();
    columns.push(spec.time);
    let mut reads = |c: &'static str| {
        if !columns.contains(&c) {
            columns.push(c);
        }
    };
    collect_columns(spec, &mut reads);
    let current = spec.table.current_key().is_some();
    let source = if current {
        current_rows(a, p, spec.table, &columns)
    } else {
        a.rows_of(spec.table, &columns, Some(NO_LOOKBACK))
    };
    p.cte("src", source);

    // The rows of the period that pass the filter, with their dimensions and values.
    let t = d.micros(&d.ident(spec.time));
    let mut select: Vec<String> = dims
        .iter()
        .map(|c| format!("COALESCE({}, {}) AS {c}", d.ident(c), d.text("(none)")))
        .collect();
    select.push(format!("{t} AS t"));
    match &spec.measure {
        Measure::Count => {}
        Measure::Distinct(c) => select.push(format!("{c} AS v")),
        Measure::Sum(v) | Measure::Quantile(v, _) => {
            select.push(format!("{} AS v", expr::val(v, d, zone)));
        }
        Measure::Share(c) => select.push(format!(
            "CASE WHEN {c} THEN 1E0 WHEN NOT {c} THEN 0E0 END AS v",
            c = expr::pred(c, d, zone)
        )),
        Measure::WeightedShare(c, w) => {
            let w = expr::val(w, d, zone);
            select.push(format!(
                "CASE WHEN {c} THEN {w} WHEN NOT {c} THEN 0E0 END AS v",
                c = expr::pred(c, d, zone)
            ));
            select.push(format!("{w} AS w"));
        }
    }
    let mut filter = format!(
        "{t} >= {} AND {t} < {}",
        d.int(a.grid.start_us()),
        d.int(a.grid.end_us())
    );
    if let Some(f) = &spec.filter {
        filter.push_str(&format!(" AND {}", expr::pred(f, d, zone)));
    }
    p.cte(
        "rows",
        format!("SELECT {} FROM src WHERE {filter}", select.join(", ")),
    );
    // Each row in its bucket: by its UTC day, then the bucket's range.
    p.cte(
        "tagged",
        format!(
            "SELECT r.*, bk.b FROM rows r \
             JOIN bucket_days bd ON bd.day = {} \
             JOIN buckets bk ON bk.b = bd.b AND r.t >= bk.start_us AND r.t < bk.end_us",
            d.floor_div("r.t", DAY_US)
        ),
    );
    let value = match &spec.measure {
        Measure::Count => "CAST(COUNT(*) AS DOUBLE)".to_string(),
        Measure::Distinct(_) => format!("CAST({} AS DOUBLE)", d.count_distinct("v")),
        Measure::Sum(_) => "SUM(v)".to_string(),
        Measure::Share(_) => "SUM(v) / NULLIF(CAST(COUNT(v) AS DOUBLE), 0E0)".to_string(),
        Measure::WeightedShare(..) => "SUM(v) / NULLIF(SUM(w), 0E0)".to_string(),
        Measure::Quantile(_, q) => d.quantile("v", *q),
    };
    let keys: Vec<String> = dims
        .iter()
        .map(|c| c.to_string())
        .chain(["b".into()])
        .collect();
    p.cte(
        "agg",
        format!(
            "SELECT {keys}, {value} AS v FROM tagged GROUP BY {keys}",
            keys = keys.join(", ")
        ),
    );

    // Distinct counts of a purged period: the counts the purge kept (base/retention.rs
    // decides which apply to this grid; they travel as a table).
    let kept = match spec.measure {
        Measure::Distinct(_) => corrections(a.lake, a.sites, metric, &a.grid, &a.dims)?,
        _ => None,
    };
    let mut kept_table = SmallTable::new(
        "kept",
        &dims
            .iter()
            .map(|c| (*c, Ty::Text))
            .chain([("b", Ty::BigInt), ("kept", Ty::Double)])
            .collect::<Vec<_>>(),
    );
    let mut unknown = SmallTable::new("unknown_buckets", &[("b", Ty::BigInt)]);
    if let Some(k) = &kept {
        for ((key, b), v) in &k.kept {
            let mut row: Vec<Value> = key.iter().map(|s| Value::Text(s.clone())).collect();
            row.push(Value::Int(*b as i64));
            row.push(Value::Float(*v));
            kept_table.push(row);
        }
        for (b, u) in k.unknown.iter().enumerate() {
            if *u {
                unknown.push(vec![Value::Int(b as i64)]);
            }
        }
    }
    p.table(kept_table);
    p.table(unknown);

    // A rate's denominator per site (library-wide: the sites' total).
    let per = spec.per;
    if let Some(per) = per {
        match per {
            Per::Residents => {
                let mut t = SmallTable::new("per", &[("site", Ty::Text), ("n", Ty::Double)]);
                for s in &a.sites.sites {
                    t.push(vec![
                        Value::Text(s.code.clone()),
                        Value::Float(s.population as f64),
                    ]);
                }
                p.table(t);
            }
            Per::Devices => {
                let assets = current_rows(
                    a,
                    p,
                    tally_model::Table::Assets,
                    &["site", "status", "origin", "asset_tag"],
                );
                p.cte("assets_now", assets);
                p.cte(
                    "per",
                    format!(
                        "SELECT site, CAST(COUNT(*) AS DOUBLE) AS n FROM assets_now \
                         WHERE (origin IS NULL OR origin = {inv}) AND status <> {ret} \
                         AND site IS NOT NULL GROUP BY site",
                        inv = d.text(tally_model::tables::assets::INVENTORY),
                        ret = d.text("retired"),
                    ),
                );
            }
        }
    }

    // Every group seen (in the rows or the kept counts), with every bucket.
    let group_sources = {
        let cols = if dims.is_empty() {
            "1 AS one".to_string()
        } else {
            dims.join(", ")
        };
        format!("SELECT DISTINCT {cols} FROM agg UNION SELECT DISTINCT {cols} FROM kept")
    };
    if dims.is_empty() {
        p.cte("groups", "SELECT 1 AS one");
    } else {
        p.cte("groups", group_sources);
    }
    let on: Vec<String> = dims
        .iter()
        .map(|c| format!("a.{c} = g.{c}"))
        .chain(["a.b = bk.b".into()])
        .collect();
    let on_kept: Vec<String> = dims
        .iter()
        .map(|c| format!("k.{c} = g.{c}"))
        .chain(["k.b = bk.b".into()])
        .collect();
    let integral = spec.measure.is_count() && per.is_none();
    let raw = "(COALESCE(a.v, 0E0) + COALESCE(k.kept, 0E0))";
    let known = "ub.b IS NULL";
    let value = if let Some(per) = per {
        let denominator = if dims.contains(&"site") {
            "(SELECT MAX(n) FROM per WHERE per.site = g.site)".to_string()
        } else {
            "(SELECT SUM(n) FROM per)".to_string()
        };
        let _ = per;
        format!(
            "CASE WHEN COALESCE({denominator}, 0E0) > 0E0 \
             THEN COALESCE(a.v, 0E0) / ({denominator} / {scale}) END",
            scale = d.double(per.scale())
        )
    } else if integral {
        let min = a.sites.library.min_cell_size as i64;
        let suppress = suppressible(metric, &a.dims);
        let v = format!("CAST({raw} AS BIGINT)");
        if suppress {
            format!(
                "CASE WHEN NOT ({known}) THEN {null} WHEN {raw} > 0E0 AND {raw} < {min}E0 THEN {null} ELSE {v} END",
                null = d.null("BIGINT")
            )
        } else {
            format!(
                "CASE WHEN NOT ({known}) THEN {} ELSE {v} END",
                d.null("BIGINT")
            )
        }
    } else {
        "a.v".to_string()
    };
    let out_dims: Vec<(String, String)> = dims
        .iter()
        .map(|c| (format!("g.{c}"), c.to_string()))
        .collect();
    let order: Vec<String> = dims
        .iter()
        .map(|c| format!("g.{c}"))
        .chain(["bk.b".into()])
        .collect();
    p.select = Select::bucketed(
        &out_dims,
        (value, metric.name().into()),
        &[],
        format!(
            "groups g CROSS JOIN buckets bk \
             LEFT JOIN agg a ON {on} \
             LEFT JOIN kept k ON {on_kept} \
             LEFT JOIN unknown_buckets ub ON ub.b = bk.b",
            on = on.join(" AND "),
            on_kept = on_kept.join(" AND "),
        ),
        order,
    );
    Ok(())
}

/// The current rows of a table where the latest export wins: each thing's row of the
/// latest batch (the ledger's commit order travels as a table).
pub(crate) fn current_rows(
    a: &Ask<'_>,
    p: &mut Plan,
    table: tally_model::Table,
    columns: &[&str],
) -> String {
    let key = table
        .current_key()
        .expect("a table where the latest export wins");
    if !p.tables.iter().any(|t| t.name == "batch_order") {
        let mut order = SmallTable::new("batch_order", &[("batch", Ty::Text), ("seq", Ty::BigInt)]);
        for (batch, seq) in a.lake.batch_order() {
            order.push(vec![Value::Text(batch.to_string()), Value::Int(seq as i64)]);
        }
        p.table(order);
    }
    let mut cols: Vec<&str> = columns.to_vec();
    for k in key.iter().copied().chain(["batch"]) {
        if !cols.contains(&k) {
            cols.push(k);
        }
    }
    let all = a.rows_of(table, &cols, None);
    let wanted: Vec<String> = columns
        .iter()
        .map(|c| format!("x.{}", a.d.ident(c)))
        .collect();
    let partition = key
        .iter()
        .map(|k| format!("r.{}", a.d.ident(k)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {wanted} FROM (SELECT r.*, ROW_NUMBER() OVER (PARTITION BY {partition} \
         ORDER BY o.seq DESC NULLS LAST) AS latest FROM ({all}) r LEFT JOIN batch_order o ON o.batch = r.batch) x \
         WHERE x.latest = 1",
        wanted = wanted.join(", "),
    )
}

/// Every column a spec's filter and measure read.
fn collect_columns(spec: &crate::spec::EventSpec, add: &mut impl FnMut(&'static str)) {
    use crate::spec::{Pred, Val};
    fn val(v: &Val, add: &mut impl FnMut(&'static str)) {
        match v {
            Val::Col(c) | Val::LocalHour(c) | Val::LocalWeekday(c) | Val::Lookup(c, _) => add(c),
            Val::Num(_) => {}
            Val::Mul(a, b) => {
                val(a, add);
                val(b, add);
            }
            Val::HoursBetween(a, b) => {
                add(a);
                add(b);
            }
        }
    }
    fn pred(p: &Pred, add: &mut impl FnMut(&'static str)) {
        match p {
            Pred::Eq(c, _)
            | Pred::Ne(c, _)
            | Pred::In(c, _)
            | Pred::IsNull(c)
            | Pred::NotNull(c)
            | Pred::True(c) => add(c),
            Pred::Gt(a, b) | Pred::Ge(a, b) => {
                val(a, add);
                val(b, add);
            }
            Pred::Not(p) => pred(p, add),
            Pred::And(ps) | Pred::Or(ps) => ps.iter().for_each(|p| pred(p, add)),
        }
    }
    if let Some(f) = &spec.filter {
        pred(f, add);
    }
    match &spec.measure {
        Measure::Count => {}
        Measure::Distinct(c) => add(c),
        Measure::Sum(v) | Measure::Quantile(v, _) => val(v, add),
        Measure::Share(c) => pred(c, add),
        Measure::WeightedShare(c, w) => {
            pred(c, add);
            val(w, add);
        }
    }
}
