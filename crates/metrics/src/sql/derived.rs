//! Metrics built on other metrics, as SQL: the base metric's statement becomes a
//! subquery (its row order kept), and the derived value is computed from it as
//! derived/ computes it from the base metric's table: minutes at capacity a week from
//! time at capacity, cost per use from sessions and the public computers' yearly cost,
//! the long trends from events and the totals kept as spreadsheets.

use tally_model::Table;
use tally_model::calendar::days_since_epoch;

use crate::base::request::{MetricError, Request};
use crate::catalogue::{Dim, Metric};
use crate::derived::trends::parts;
use crate::sql::events::current_rows;
use crate::sql::plan::{Plan, SmallTable, Ty, Value};
use crate::sql::{Ask, DAY_US, events, intervals};

pub(crate) fn plan(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    match a.req.metric {
        Metric::CapacityMinutesPerWeek => capacity_per_week(a, p),
        Metric::CostPerUse => cost_per_use(a, p),
        Metric::SessionsTrend | Metric::CirculationTrend | Metric::WifiTrend => trend(a, p),
        other => unreachable!("{} has no SQL form", other.name()),
    }
}

/// The plan of `metric` over the same grid and dimensions, its select wrapped as `base`.
fn base(
    a: &Ask<'_>,
    p: &mut Plan,
    metric: Metric,
) -> Result<crate::sql::plan::Select, MetricError> {
    let req = Request {
        metric,
        ..a.req.clone()
    };
    let inner = Ask {
        lake: a.lake,
        sites: a.sites,
        req: &req,
        grid: a.grid.clone(),
        dims: a.dims.clone(),
        d: a.d,
        root: a.root.clone(),
    };
    if metric.is_interval() {
        intervals::plan(&inner, p)?;
    } else {
        events::plan(&inner, p, &crate::spec::event_spec(metric, a.sites))?;
    }
    Ok(p.wrap(a.d, "base"))
}

/// A bucket's length as SQL, from the `buckets` table as `bk`, in days (rounded: a DST
/// day is one day).
fn days_of_bucket() -> String {
    format!("ROUND(CAST(bk.end_us - bk.start_us AS DOUBLE) / {DAY_US}E0)")
}

/// Time at capacity over the bucket's local days / 7.
fn capacity_per_week(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let mut s = base(a, p, Metric::TimeAtCapacity)?;
    let weeks = format!("({} / 7E0)", days_of_bucket());
    let name = a.req.metric.name();
    for (e, n) in &mut s.cols {
        if n == Metric::TimeAtCapacity.name() {
            *e = format!("CASE WHEN {weeks} > 0E0 THEN {e} / {weeks} END");
            *n = name.into();
        }
    }
    s.from.push_str(" JOIN buckets bk ON bk.label = w.bucket");
    p.select = s;
    Ok(())
}

/// The public computers' yearly cost (each one's cost, else its kind's unit cost, over
/// its life), prorated to the bucket's length in years of 365.25 days, over the bucket's
/// sessions; per site, or library-wide the sums.
fn cost_per_use(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let d = a.d;
    let mut s = base(a, p, Metric::Sessions)?;
    let lib = &a.sites.library;
    let (unit_cost, life) = (
        lib.unit_cost.get("public_pc").copied(),
        lib.asset_life_years
            .get("public_pc")
            .copied()
            .unwrap_or(crate::base::inventory::DEFAULT_LIFE_YEARS),
    );
    let rows = current_rows(
        a,
        p,
        Table::Assets,
        &["site", "kind", "status", "origin", "cost", "life_years"],
    );
    let by_site = a.dims.contains(&Dim::Site);
    let c = |n: &str| format!("x.{}", d.ident(n));
    let unit = unit_cost.map_or_else(|| d.null("DOUBLE"), |u| d.double(u));
    p.cte(
        "yearly",
        format!(
            "SELECT {key} AS k, SUM(COALESCE({cost}, {unit}, 0E0) / COALESCE({own_life}, {life})) AS y \
             FROM ({rows}) x WHERE ({origin} IS NULL OR {origin} = {inv}) \
             AND {status} <> {retired} AND {kind} = 'public_pc' GROUP BY {key}",
            key = if by_site {
                format!("COALESCE({}, '')", c("site"))
            } else {
                "''".into()
            },
            cost = c("cost"),
            own_life = c("life_years"),
            life = d.double(life),
            origin = c("origin"),
            inv = d.text(tally_model::tables::assets::INVENTORY),
            status = c("status"),
            retired = d.text("retired"),
            kind = c("kind"),
        ),
    );
    let key = if by_site { "w.site" } else { "''" };
    let name = a.req.metric.name();
    let years = format!(
        "(CAST(bk.end_us - bk.start_us AS DOUBLE) / {}E0)",
        365.25 * 86_400e6
    );
    for (e, n) in &mut s.cols {
        if n == Metric::Sessions.name() {
            *e = format!("CASE WHEN {e} > 0 THEN (y.y * {years}) / CAST({e} AS DOUBLE) END");
            *n = name.into();
        }
    }
    s.from.push_str(&format!(
        " JOIN buckets bk ON bk.label = w.bucket LEFT JOIN yearly y ON y.k = {key}"
    ));
    p.select = s;
    Ok(())
}

/// A bucket's value from events when it has any, else the totals whose periods lie
/// wholly inside it (library-wide: the library's own rows if any, else the sum of the
/// sites'), else empty; `from` says which.
fn trend(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let d = a.d;
    let (event_metric, measure) = parts(a.req.metric);
    let by_site = a.dims.contains(&Dim::Site);
    let _ = base(a, p, event_metric)?;
    // The local days of each bucket, and every spelling sites.toml gives a site.
    let mut dates = SmallTable::new(
        "trend_days",
        &[
            ("b", Ty::BigInt),
            ("first_day", Ty::BigInt),
            ("end_day", Ty::BigInt),
        ],
    );
    let local = |us: i64| tally_model::calendar::local_day(us, a.grid.tz);
    for (i, b) in a.grid.buckets.iter().enumerate() {
        dates.push(vec![
            Value::Int(i as i64),
            Value::Int(i64::from(days_since_epoch(local(b.start_us)))),
            Value::Int(i64::from(days_since_epoch(local(b.end_us)))),
        ]);
    }
    p.table(dates);
    let mut names = SmallTable::new(
        "site_names",
        &[
            ("i", Ty::BigInt),
            ("spelling", Ty::Text),
            ("code", Ty::Text),
        ],
    );
    for (i, s) in a.sites.sites.iter().enumerate() {
        let mut spellings = vec![s.code.clone(), s.name.clone()];
        spellings.extend(s.aliases.iter().cloned());
        for sp in spellings {
            names.push(vec![
                Value::Int(i as i64),
                Value::Text(sp.trim().to_lowercase()),
                Value::Text(s.code.clone()),
            ]);
        }
    }
    p.table(names);
    let rows = current_rows(
        a,
        p,
        Table::Totals,
        &["site", "period_start", "period_end", "measure", "value"],
    );
    p.cte(
        "site_code",
        "SELECT spelling, code FROM (SELECT spelling, code, ROW_NUMBER() OVER (PARTITION BY spelling ORDER BY i) AS r \
         FROM site_names) x WHERE x.r = 1",
    );
    let c = |n: &str| format!("t.{}", d.ident(n));
    p.cte(
        "tot_rows",
        format!(
            "SELECT CASE WHEN {site} IS NULL THEN NULL ELSE COALESCE(sc.code, {site}) END AS code, \
             {start} AS start_d, {end} AS end_d, COALESCE({value}, 0E0) AS v \
             FROM ({rows}) t LEFT JOIN site_code sc ON sc.spelling = lower(trim({site})) \
             WHERE {measure} = {m}",
            site = c("site"),
            start = d.days(&c("period_start")),
            end = d.days(&c("period_end")),
            value = c("value"),
            measure = c("measure"),
            m = d.text(measure),
        ),
    );
    let key = if by_site { "r.code" } else { "''" };
    p.cte(
        "tot",
        format!(
            "SELECT {key} AS k, td.b AS b, \
             SUM(CASE WHEN r.code IS NOT NULL THEN r.v ELSE 0E0 END) AS site_sum, \
             SUM(CASE WHEN r.code IS NULL THEN r.v ELSE 0E0 END) AS lib_sum, \
             MAX(CASE WHEN r.code IS NULL THEN 1 ELSE 0 END) AS has_lib \
             FROM tot_rows r JOIN trend_days td ON r.start_d >= td.first_day AND r.end_d <= td.end_day \
             {only} GROUP BY {key}, td.b",
            only = if by_site { "WHERE r.code IS NOT NULL" } else { "" },
        ),
    );
    let ev_key = if by_site { "w.site" } else { "''" };
    let n = event_metric.name();
    p.cte(
        "ev",
        format!("SELECT {ev_key} AS k, w.bucket AS bucket, CAST(w.{n} AS DOUBLE) AS v FROM base w"),
    );
    p.cte(
        "trend_keys",
        "SELECT DISTINCT k FROM ev UNION SELECT DISTINCT k FROM tot",
    );
    let value = "CASE WHEN e.v > 0E0 THEN e.v WHEN t.b IS NOT NULL THEN \
                 (CASE WHEN t.has_lib = 1 THEN t.lib_sum ELSE t.site_sum END) END";
    let from = "CASE WHEN e.v > 0E0 THEN 'events' WHEN t.b IS NOT NULL THEN 'totals' END";
    let dims = if by_site {
        vec![("g.k".to_string(), "site".to_string())]
    } else {
        vec![]
    };
    p.select = crate::sql::plan::Select::bucketed(
        &dims,
        (value.into(), a.req.metric.name().into()),
        &[(from.into(), "from".into())],
        "trend_keys g CROSS JOIN buckets bk LEFT JOIN ev e ON e.k = g.k AND e.bucket = bk.label \
         LEFT JOIN tot t ON t.k = g.k AND t.b = bk.b"
            .into(),
        vec!["g.k".into(), "bk.b".into()],
    );
    Ok(())
}
