//! The fleet metrics as SQL: the inventory's current rows (assets in service, what falls
//! due for replacement and at what cost), the fleet of devices (the inventory joined with
//! what directories know: OS support, stale devices) and the ticket backlog. The rules are
//! those of base/inventory.rs and engines/{fleet,devices,backlog}.rs, in the words of
//! docs/metrics.md and docs/support.md; what the SQL needs of sites.toml (each kind's life
//! and unit cost) and of endoflife.date (each OS as the lake writes it, with its cycle's
//! dates) travels as small tables. Days are whole local days (days since 1970-01-01).

use std::collections::BTreeSet;

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use tally_model::Table;
use tally_model::calendar::days_since_epoch;
use tally_model::tables::assets::{DIRECTORY, INVENTORY};

use crate::base::frame::strings;
use crate::base::inventory::{COMPUTING, DEFAULT_LIFE_YEARS};
use crate::base::load::scan_current;
use crate::base::request::MetricError;
use crate::base::support::{Catalogue, End, Status, pays_extended};
use crate::catalogue::{Dim, Metric};
use crate::sql::Ask;
use crate::sql::events::current_rows;
use crate::sql::layout::{self, Extra};
use crate::sql::plan::{Plan, Select, SmallTable, Ty, Value};

/// Rows, as a count a layout adds up.
const COUNT: &str = "CAST(COUNT(*) AS DOUBLE)";

/// The local days of each bucket: its first, the day after its end, and its last (the
/// day a stock is taken on), with the last day's year and month*32+day (whole years of
/// age are counted from them, as chrono's `years_since`).
fn bucket_dates(a: &Ask<'_>) -> SmallTable {
    let mut t = SmallTable::new(
        "bucket_dates",
        &[
            ("b", Ty::BigInt),
            ("first_day", Ty::BigInt),
            ("end_day", Ty::BigInt),
            ("last_day", Ty::BigInt),
            ("last_year", Ty::BigInt),
            ("last_md", Ty::BigInt),
        ],
    );
    let local = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .expect("in range")
            .with_timezone(&a.grid.tz)
            .date_naive()
    };
    use chrono::Datelike;
    for (i, b) in a.grid.buckets.iter().enumerate() {
        let last = local(b.end_us - 1);
        t.push(vec![
            Value::Int(i as i64),
            Value::Int(i64::from(days_since_epoch(local(b.start_us)))),
            Value::Int(i64::from(days_since_epoch(local(b.end_us)))),
            Value::Int(i64::from(days_since_epoch(last))),
            Value::Int(i64::from(last.year())),
            Value::Int(i64::from(last.month() * 32 + last.day())),
        ]);
    }
    t
}

/// Each kind's life and today's unit cost from sites.toml.
fn kinds(a: &Ask<'_>) -> SmallTable {
    let mut t = SmallTable::new(
        "kinds",
        &[
            ("kind", Ty::Text),
            ("life", Ty::Double),
            ("unit_cost", Ty::Double),
        ],
    );
    let lib = &a.sites.library;
    let names: BTreeSet<&String> = lib
        .asset_life_years
        .keys()
        .chain(lib.unit_cost.keys())
        .collect();
    for k in names {
        let f = |v: Option<&f64>| v.map_or(Value::Null, |v| Value::Float(*v));
        t.push(vec![
            Value::Text(k.clone()),
            f(lib.asset_life_years.get(k)),
            f(lib.unit_cost.get(k)),
        ]);
    }
    t
}

/// The inventory's current rows (rows of lakes before format 3 have no origin).
fn inventory_rows(a: &Ask<'_>, p: &mut Plan, columns: &[&str]) {
    let d = a.d;
    let mut cols = columns.to_vec();
    if !cols.contains(&"origin") {
        cols.push("origin");
    }
    let rows = current_rows(a, p, Table::Assets, &cols);
    p.cte(
        "inv",
        format!(
            "SELECT * FROM ({rows}) x WHERE x.{o} IS NULL OR x.{o} = {inv}",
            o = d.ident("origin"),
            inv = d.text(INVENTORY)
        ),
    );
}

/// A dimension's key from a relation's columns: missing values are `(none)`.
fn key(d: crate::sql::Dialect, dim: Dim, rel: &str) -> String {
    format!(
        "COALESCE({rel}.{}, {})",
        d.ident(dim.column()),
        d.text("(none)")
    )
}

pub(crate) fn plan(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    match a.req.metric {
        Metric::Assets => assets(a, p),
        Metric::ReplacementDue | Metric::ReplacementCost | Metric::ReplacementCostCumulative => {
            replacement(a, p)
        }
        Metric::OsSupport | Metric::StaleDevices => devices(a, p),
        Metric::Backlog => backlog(a, p),
        Metric::PublicComputers => public_computers(a, p),
        other => unreachable!("{} is not a fleet metric", other.name()),
    }
}

/// Devices in service at each bucket's end, by site, kind and whole years of age.
fn assets(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let d = a.d;
    p.table(bucket_dates(a));
    inventory_rows(a, p, &["site", "kind", "status", "purchased", "retired"]);
    let (purchased, retired) = (d.ident("purchased"), d.ident("retired"));
    let keys: Vec<String> = a
        .dims
        .iter()
        .map(|&dim| match dim {
            Dim::Age => format!(
                "CASE WHEN i.{purchased} IS NULL THEN NULL ELSE bd.last_year - year(i.{purchased}) \
                 - CASE WHEN bd.last_md < month(i.{purchased}) * 32 + day(i.{purchased}) THEN 1 ELSE 0 END END \
                 AS {}",
                dim.column()
            ),
            _ => format!("{} AS {}", key(d, dim, "i"), dim.column()),
        })
        .collect();
    p.cte(
        "rows",
        format!(
            "SELECT {keys}bd.b AS b FROM inv i CROSS JOIN bucket_dates bd \
             WHERE NOT (CASE WHEN i.{retired} IS NOT NULL THEN {r} <= bd.last_day \
             ELSE COALESCE(i.{status} = {ret}, FALSE) END) \
             AND (i.{purchased} IS NULL OR {p} <= bd.last_day)",
            keys = keys.iter().map(|k| format!("{k}, ")).collect::<String>(),
            r = d.days(&format!("i.{retired}")),
            p = d.days(&format!("i.{purchased}")),
            status = d.ident("status"),
            ret = d.text("retired"),
        ),
    );
    let dims: Vec<&str> = a.dims.iter().map(|x| x.column()).collect();
    layout::filled(a, p, &dims, COUNT, true, false, &[])
}

/// Units (or their cost) falling due in each bucket: purchase + life (the asset's, else
/// its kind's, else five years), to the month; already overdue in the first bucket.
fn replacement(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let d = a.d;
    p.table(bucket_dates(a));
    p.table(kinds(a));
    inventory_rows(
        a,
        p,
        &["site", "kind", "status", "purchased", "cost", "life_years"],
    );
    let months = format!(
        "GREATEST(CAST(ROUND(COALESCE(i.{life}, k.life, {default}) * 12E0) AS INT), 0)",
        life = d.ident("life_years"),
        default = d.double(DEFAULT_LIFE_YEARS),
    );
    let due = d.days(&d.add_months(&format!("i.{}", d.ident("purchased")), &months));
    let value = if a.req.metric == Metric::ReplacementDue {
        "1E0".to_string()
    } else {
        format!("COALESCE(k.unit_cost, i.{}, 0E0)", d.ident("cost"))
    };
    let keys: String = a
        .dims
        .iter()
        .map(|&dim| format!("{} AS {}, ", key(d, dim, "i"), dim.column()))
        .collect();
    p.cte(
        "due",
        format!(
            "SELECT {keys}{value} AS v, {due} AS due FROM inv i LEFT JOIN kinds k ON k.kind = i.{kind} \
             WHERE i.{status} <> {ret} AND i.{kind} IS NOT NULL AND i.{purchased} IS NOT NULL",
            kind = d.ident("kind"),
            status = d.ident("status"),
            ret = d.text("retired"),
            purchased = d.ident("purchased"),
        ),
    );
    // The bucket of each due day; a day before the first bucket is the first bucket's.
    p.cte(
        "due_bucket",
        "SELECT x.due, MIN(bd.b) AS b FROM (SELECT DISTINCT due FROM due) x \
         JOIN bucket_dates bd ON x.due >= bd.first_day AND x.due < bd.end_day GROUP BY x.due",
    );
    let dims: Vec<&str> = a.dims.iter().map(|x| x.column()).collect();
    p.cte(
        "rows",
        format!(
            "SELECT * FROM (SELECT {cols}r.v AS v, \
             COALESCE(db.b, CASE WHEN r.due < f.first0 THEN CAST(0 AS BIGINT) END) AS b \
             FROM due r LEFT JOIN due_bucket db ON db.due = r.due \
             CROSS JOIN (SELECT MIN(first_day) AS first0 FROM bucket_dates) f) y \
             WHERE y.b IS NOT NULL",
            cols = dims
                .iter()
                .map(|c| format!("r.{c} AS {c}, "))
                .collect::<String>(),
        ),
    );
    let cumulative = a.req.metric == Metric::ReplacementCostCumulative;
    let integral = a.req.metric == Metric::ReplacementDue;
    layout::filled(a, p, &dims, "SUM(v)", integral, cumulative, &[])
}

/// The fleet: the inventory joined with the directories (docs/support.md). A directory
/// row (in order of last seen, the one seen last last) is the inventory device whose tag
/// is its name, else whose serial is its serial, else whose name is its name (case and
/// spaces at the ends ignored; of several, the smallest tag); it brings its OS (when it
/// has one) and its last seen. A directory row no inventory device matches is a device
/// of its own, one per name (its first row's tag, kind, site, dates and status).
fn fleet(a: &Ask<'_>, p: &mut Plan) {
    let d = a.d;
    let cols = [
        "asset_tag",
        "kind",
        "site",
        "status",
        "origin",
        "name",
        "serial",
        "os",
        "os_version",
        "purchased",
        "retired",
        "last_seen",
    ];
    let rows = current_rows(a, p, Table::Assets, &cols);
    let c = |name: &str| d.ident(name);
    let norm = |e: &str| format!("lower(trim({e}))");
    let not_blank = |e: &str| format!("CASE WHEN trim({e}) <> '' THEN {} END", norm(e));
    let required = format!(
        "{} IS NOT NULL AND {} IS NOT NULL AND {} IS NOT NULL AND {} IS NOT NULL",
        c("asset_tag"),
        c("kind"),
        c("site"),
        c("purchased")
    );
    p.cte(
        "assets_all",
        format!(
            "SELECT {tag} AS tag, {kind} AS kind, {site} AS site, COALESCE({status}, 'active') AS status, \
             COALESCE({origin}, '') = {dir} AS from_directory, {name} AS name, {serial} AS serial, \
             {os} AS os, {osv} AS os_version, {pd} AS purchased_d, {rd} AS retired_d, {ld} AS seen_d, \
             {tagk} AS k_tag, {serialk} AS k_serial, {namek} AS k_name, {dkey} AS k_dir \
             FROM ({rows}) x WHERE {required}",
            tag = c("asset_tag"),
            kind = c("kind"),
            site = c("site"),
            status = c("status"),
            origin = c("origin"),
            dir = d.text(DIRECTORY),
            name = c("name"),
            serial = c("serial"),
            os = c("os"),
            osv = c("os_version"),
            pd = d.days(&c("purchased")),
            rd = d.days(&c("retired")),
            ld = d.days(&c("last_seen")),
            tagk = norm(&c("asset_tag")),
            serialk = not_blank(&c("serial")),
            namek = not_blank(&c("name")),
            dkey = norm(&format!("COALESCE({}, {})", c("name"), c("asset_tag"))),
        ),
    );
    p.cte("inv", "SELECT * FROM assets_all WHERE NOT from_directory");
    p.cte(
        "by_tag",
        "SELECT k_tag AS k, MIN(tag) AS tag FROM inv GROUP BY k_tag",
    );
    p.cte(
        "by_serial",
        "SELECT k_serial AS k, MIN(tag) AS tag FROM inv WHERE k_serial IS NOT NULL GROUP BY k_serial",
    );
    p.cte(
        "by_name",
        "SELECT k_name AS k, MIN(tag) AS tag FROM inv WHERE k_name IS NOT NULL GROUP BY k_name",
    );
    p.cte(
        "dir",
        "SELECT r.*, COALESCE(t.tag, s.tag, n.tag) AS inv_tag, \
         ROW_NUMBER() OVER (ORDER BY r.seen_d ASC NULLS FIRST, r.tag ASC, r.name ASC NULLS FIRST, r.serial ASC NULLS FIRST) AS seq \
         FROM (SELECT * FROM assets_all WHERE from_directory) r \
         LEFT JOIN by_tag t ON t.k = r.k_dir \
         LEFT JOIN by_serial s ON s.k = r.k_serial \
         LEFT JOIN by_name n ON n.k = r.k_dir",
    );
    // Inventory devices: the OS of the last matched row that has one; the latest seen.
    p.cte(
        "inv_os",
        "SELECT inv_tag, os, os_version FROM (SELECT inv_tag, os, os_version, \
         ROW_NUMBER() OVER (PARTITION BY inv_tag ORDER BY seq DESC) AS r \
         FROM dir WHERE inv_tag IS NOT NULL AND os IS NOT NULL) x WHERE x.r = 1",
    );
    p.cte(
        "inv_seen",
        "SELECT inv_tag, MAX(seen_d) AS seen_d FROM dir WHERE inv_tag IS NOT NULL GROUP BY inv_tag",
    );
    // Directory-only devices, one per name: the first row's facts, the last OS.
    p.cte(
        "dir_first",
        "SELECT * FROM (SELECT dir.*, ROW_NUMBER() OVER (PARTITION BY k_dir ORDER BY seq) AS r \
         FROM dir WHERE inv_tag IS NULL) x WHERE x.r = 1",
    );
    p.cte(
        "dir_os",
        "SELECT k_dir, os, os_version FROM (SELECT k_dir, os, os_version, \
         ROW_NUMBER() OVER (PARTITION BY k_dir ORDER BY seq DESC) AS r \
         FROM dir WHERE inv_tag IS NULL AND os IS NOT NULL) x WHERE x.r = 1",
    );
    p.cte(
        "dir_seen",
        "SELECT k_dir, MAX(seen_d) AS seen_d FROM dir WHERE inv_tag IS NULL GROUP BY k_dir",
    );
    p.cte(
        "devices",
        a.d.computed_once(
        "SELECT i.tag, i.kind, i.site, i.status, i.purchased_d, i.retired_d, \
         CASE WHEN o.inv_tag IS NOT NULL THEN o.os ELSE i.os END AS os, \
         CASE WHEN o.inv_tag IS NOT NULL THEN o.os_version ELSE i.os_version END AS os_version, \
         GREATEST(i.seen_d, s.seen_d) AS seen_d, s.inv_tag IS NOT NULL AS in_directory \
         FROM inv i LEFT JOIN inv_os o ON o.inv_tag = i.tag LEFT JOIN inv_seen s ON s.inv_tag = i.tag \
         UNION ALL \
         SELECT f.tag, f.kind, f.site, f.status, f.purchased_d, f.retired_d, \
         CASE WHEN o.k_dir IS NOT NULL THEN o.os ELSE f.os END AS os, \
         CASE WHEN o.k_dir IS NOT NULL THEN o.os_version ELSE f.os_version END AS os_version, \
         s.seen_d AS seen_d, TRUE AS in_directory \
         FROM dir_first f LEFT JOIN dir_os o ON o.k_dir = f.k_dir LEFT JOIN dir_seen s ON s.k_dir = f.k_dir",
        ),
    );
    // In service on each bucket's last day: bought by then, not retired by then (marked
    // retired without a date: out of service).
    p.cte(
        "in_service",
        "SELECT v.*, bd.b, bd.last_day FROM devices v CROSS JOIN bucket_dates bd \
         WHERE v.purchased_d <= bd.last_day AND NOT (CASE WHEN v.retired_d IS NOT NULL \
         THEN v.retired_d <= bd.last_day ELSE v.status = 'retired' END)",
    );
}

/// Each OS as the lake writes it (name and version), with the release cycle tally
/// matches it to and that cycle's dates: `os_lookup`. The matching of free text to a
/// cycle (base/support.rs) is done here, once per distinct pair, and travels as data.
fn os_lookup(a: &Ask<'_>) -> Result<SmallTable, MetricError> {
    let cat =
        Catalogue::for_lake(a.lake.lake()).map_err(|e| MetricError::Invalid(e.to_string()))?;
    let df = scan_current(a.lake, Table::Assets)?
        .select([col("os"), col("os_version")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let (os, version) = (strings(&df, "os")?, strings(&df, "os_version")?);
    let mut pairs: Vec<(Option<String>, Option<String>)> = os.into_iter().zip(version).collect();
    pairs.sort();
    let mut t = SmallTable::new(
        "os_lookup",
        &[
            ("os", Ty::Text),
            ("os_version", Ty::Text),
            ("os_name", Ty::Text),
            ("has_cycle", Ty::Bool),
            ("eol_kind", Ty::Text),
            ("eol_day", Ty::BigInt),
            ("eoes_kind", Ty::Text),
            ("eoes_day", Ty::BigInt),
            ("paid", Ty::Bool),
            ("ending_from", Ty::BigInt),
            ("eol_text", Ty::Text),
        ],
    );
    let support = &a.sites.support;
    let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
    let end = |e: End| match e {
        End::On(day) => (
            Value::Text("on".into()),
            Value::Int(i64::from(days_since_epoch(day))),
        ),
        End::Ended => (Value::Text("ended".into()), Value::Null),
        End::Open => (Value::Text("open".into()), Value::Null),
    };
    for (o, v) in &pairs {
        let written = o.as_deref().unwrap_or_default();
        let cycle = o
            .as_deref()
            .filter(|o| !o.trim().is_empty())
            .and_then(|o| cat.find(o, v.as_deref().unwrap_or_default()));
        let name = match (cycle, written) {
            (Some(c), _) => c.label.clone(),
            (None, "") => "(none)".to_string(),
            (None, os) => format!("{os} {}", v.as_deref().unwrap_or_default())
                .trim()
                .to_string(),
        };
        let mut row = vec![text(o), text(v), Value::Text(name)];
        match cycle {
            None => {
                row.push(Value::Bool(false));
                row.extend([Value::Null, Value::Null, Value::Null, Value::Null]);
                row.extend([Value::Bool(false), Value::Null, Value::Null]);
            }
            Some(c) => {
                row.push(Value::Bool(true));
                let (k, day) = end(c.eol);
                row.extend([k, day]);
                let (k, day) = end(c.eoes);
                row.extend([k, day]);
                row.push(Value::Bool(pays_extended(&support.extended_updates, c)));
                row.push(match c.eol {
                    End::On(eol) => ending_from(eol, support.ending_months)
                        .map_or(Value::Null, |d| Value::Int(i64::from(days_since_epoch(d)))),
                    _ => Value::Null,
                });
                row.push(match c.eol {
                    End::On(day) => Value::Text(day.to_string()),
                    End::Ended => Value::Text("ended".into()),
                    End::Open => Value::Null,
                });
            }
        }
        t.push(row);
    }
    Ok(t)
}

/// The first day from which a cycle whose support ends on `eol` is `ending`: the first
/// day whose date `months` later is on or after `eol` (base/support.rs `status`).
fn ending_from(eol: NaiveDate, months: u32) -> Option<NaiveDate> {
    let later = |d: NaiveDate| d.checked_add_months(Months::new(months));
    let mut day = eol.checked_sub_months(Months::new(months))?;
    while later(day - chrono::Duration::days(1)).is_some_and(|w| w >= eol) {
        day -= chrono::Duration::days(1);
    }
    while later(day).is_some_and(|w| w < eol) {
        day += chrono::Duration::days(1);
    }
    Some(day)
}

/// OS support status and stale devices, over the fleet.
fn devices(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let d = a.d;
    p.table(bucket_dates(a));
    fleet(a, p);
    let dims: Vec<&str> = a.dims.iter().map(|x| x.column()).collect();
    let key_of = |dim: Dim| -> String {
        match dim {
            Dim::Site => "s.site".into(),
            Dim::Kind => "s.kind".into(),
            Dim::AssetTag => "s.tag".into(),
            Dim::Status => "s.st".into(),
            Dim::Os => "s.os_name".into(),
            other => unreachable!("{} is not a dimension of the fleet", other.column()),
        }
    };
    let keys: String = a
        .dims
        .iter()
        .map(|&dim| format!("{} AS {}, ", key_of(dim), dim.column()))
        .collect();
    if a.req.metric == Metric::StaleDevices {
        p.cte(
            "rows",
            format!(
                "SELECT {keys}s.b AS b FROM in_service s WHERE s.in_directory \
                 AND s.last_day - COALESCE(s.seen_d, s.purchased_d) > {}",
                d.int(i64::from(a.sites.support.stale_days))
            ),
        );
        return layout::filled(a, p, &dims, COUNT, true, false, &[]);
    }
    p.table(os_lookup(a)?);
    let computing: Vec<String> = COMPUTING.iter().map(|k| d.text(k)).collect();
    let name = |s: Status| d.text(s.name());
    p.cte(
        "statused",
        format!(
            "SELECT v.*, COALESCE(lk.os_name, '(none)') AS os_name, lk.eol_text, CASE \
             WHEN lk.has_cycle IS NULL OR NOT lk.has_cycle THEN {unknown} \
             WHEN lk.eol_kind = 'ended' OR (lk.eol_kind = 'on' AND v.last_day >= lk.eol_day) THEN \
               CASE WHEN lk.paid AND (lk.eoes_kind = 'open' OR (lk.eoes_kind = 'on' AND v.last_day < lk.eoes_day)) \
               THEN {extended} ELSE {unsupported} END \
             WHEN lk.eol_kind = 'on' AND v.last_day >= lk.ending_from THEN {ending} \
             ELSE {supported} END AS st \
             FROM in_service v LEFT JOIN os_lookup lk \
             ON lk.os IS NOT DISTINCT FROM v.os AND lk.os_version IS NOT DISTINCT FROM v.os_version \
             WHERE v.kind IN ({computing})",
            unknown = name(Status::Unknown),
            extended = name(Status::Extended),
            unsupported = name(Status::Unsupported),
            ending = name(Status::Ending),
            supported = name(Status::Supported),
            computing = computing.join(", "),
        ),
    );
    p.cte(
        "rows",
        format!("SELECT {keys}s.b AS b, s.site AS at_site, s.eol_text AS eol_text FROM statused s"),
    );
    let mut extra = Vec::new();
    if a.dims.contains(&Dim::Os) {
        extra.push(Extra::Eol);
    }
    if !a.dims.contains(&Dim::Site) {
        extra.push(Extra::Sites);
    }
    layout::filled(a, p, &dims, COUNT, true, false, &extra)
}

/// Tickets open at each bucket's end: opened before it, not resolved by it (a ticket
/// resolved at the very end still counts), not cancelled; from each ticket's latest row.
fn backlog(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let d = a.d;
    let dims: Vec<&str> = a.dims.iter().map(|x| x.column()).collect();
    let mut cols: Vec<&str> = dims.clone();
    cols.extend(["opened", "resolved", "status"]);
    let rows = current_rows(a, p, Table::WorkOrders, &cols);
    let keys: String = a
        .dims
        .iter()
        .map(|&dim| format!("{} AS {}, ", key(d, dim, "t"), dim.column()))
        .collect();
    p.cte(
        "rows",
        format!(
            "SELECT {keys}bk.b AS b FROM ({rows}) t CROSS JOIN buckets bk \
             WHERE t.{status} <> {cancelled} AND {opened} < bk.end_us \
             AND ({resolved} IS NULL OR bk.end_us <= {resolved})",
            status = d.ident("status"),
            cancelled = d.text("cancelled"),
            opened = d.micros(&format!("t.{}", d.ident("opened"))),
            resolved = d.micros(&format!("t.{}", d.ident("resolved"))),
        ),
    );
    layout::filled(a, p, &dims, COUNT, true, false, &[])
}

/// The stations sites.toml gives each site (in its order), in every bucket; library-wide
/// their sum.
fn public_computers(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let mut t = SmallTable::new(
        "stations",
        &[("i", Ty::BigInt), ("site", Ty::Text), ("n", Ty::BigInt)],
    );
    for (i, s) in a.sites.sites.iter().enumerate() {
        t.push(vec![
            Value::Int(i as i64),
            Value::Text(s.code.clone()),
            Value::Int(i64::from(s.stations)),
        ]);
    }
    p.table(t);
    let name = a.req.metric.name().to_string();
    p.select = if a.dims.contains(&Dim::Site) {
        Select::bucketed(
            &[("s.site".into(), "site".into())],
            ("s.n".into(), name),
            &[],
            "stations s CROSS JOIN buckets bk".into(),
            vec!["s.i".into(), "bk.b".into()],
        )
    } else {
        Select::bucketed(
            &[],
            (
                "(SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM stations)".into(),
                name,
            ),
            &[],
            "buckets bk".into(),
            vec!["bk.b".into()],
        )
    };
    Ok(())
}
