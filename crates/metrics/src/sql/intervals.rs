//! The interval metrics as SQL: the sweep line of engines/sweep.rs stated in windows
//! and joins. Each session is clipped to the period; a session with no station is a seat
//! of its own; each seat's overlapping or touching sessions are merged; the merged
//! intervals make a step function of stations busy per (group, site); its steps are cut
//! by UTC day and met with the site's opening hours (the calendar travels as a table of
//! pieces, one per site, bucket and UTC day) and the buckets. Busy time counts at most
//! the site's stations at once (the larger of sites.toml's and those seen, at least
//! one); a site sites.toml does not know is open all the time. The peak is of the
//! group's sites together.

use tally_model::Table;
use tally_model::tables::sessions as s;

use crate::base::calendar::open_intervals;
use crate::base::request::MetricError;
use crate::catalogue::{Dim, Metric};
use crate::sql::plan::{Plan, Select, SmallTable, Ty, Value};
use crate::sql::{Ask, DAY_US};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub(crate) fn plan(a: &Ask<'_>, p: &mut Plan) -> Result<(), MetricError> {
    let metric = a.req.metric;
    let d = a.d;
    let (g0, g1) = (a.grid.start_us(), a.grid.end_us());
    let dims: Vec<&str> = a.dims.iter().map(|x| x.column()).collect();
    let per_station = a.dims.contains(&Dim::Station);

    // The calendar: each configured site's stations, and its opening hours as pieces
    // per bucket and UTC day; the buckets as pieces per UTC day.
    let mut calendar = SmallTable::new("calendar", &[("site", Ty::Text), ("stations", Ty::BigInt)]);
    let mut open = SmallTable::new(
        "open_pieces",
        &[
            ("site", Ty::Text),
            ("day", Ty::BigInt),
            ("b", Ty::BigInt),
            ("s", Ty::BigInt),
            ("e", Ty::BigInt),
        ],
    );
    let mut bucket_pieces = SmallTable::new(
        "bucket_pieces",
        &[
            ("day", Ty::BigInt),
            ("b", Ty::BigInt),
            ("s", Ty::BigInt),
            ("e", Ty::BigInt),
        ],
    );
    let pieces_of = |s0: i64, e0: i64, out: &mut dyn FnMut(i64, i64, i64, i64)| {
        // [s0, e0) cut at buckets and UTC days.
        for (b, bucket) in a.grid.buckets.iter().enumerate() {
            let (s1, e1) = (s0.max(bucket.start_us), e0.min(bucket.end_us));
            if s1 >= e1 {
                continue;
            }
            let mut t = s1;
            while t < e1 {
                let day = t.div_euclid(DAY_US);
                let end = ((day + 1) * DAY_US).min(e1);
                out(day, b as i64, t, end);
                t = end;
            }
        }
    };
    pieces_of(g0, g1, &mut |day, b, s0, e0| {
        bucket_pieces.push(vec![
            Value::Int(day),
            Value::Int(b),
            Value::Int(s0),
            Value::Int(e0),
        ]);
    });
    for site in &a.sites.sites {
        calendar.push(vec![
            Value::Text(site.code.clone()),
            Value::Int(i64::from(site.stations)),
        ]);
        let tz = site.timezone.unwrap_or(a.sites.library.timezone);
        for (o0, o1) in open_intervals(a.sites, site, tz, g0, g1) {
            pieces_of(o0, o1, &mut |day, b, s0, e0| {
                open.push(vec![
                    Value::Text(site.code.clone()),
                    Value::Int(day),
                    Value::Int(b),
                    Value::Int(s0),
                    Value::Int(e0),
                ]);
            });
        }
    }
    p.table(calendar);
    p.table(open);
    p.table(bucket_pieces);

    // The sessions that overlap the period (their partitions from a day before).
    let columns = [s::SITE, s::STATION, s::USER_TYPE, s::START, s::END];
    p.cte(
        "src",
        a.rows_of(
            Table::Sessions,
            &columns,
            Some(2 * tally_model::MAX_SESSION_US),
        ),
    );
    let (start, end) = (d.micros(&d.ident(s::START)), d.micros(&d.ident(s::END)));
    p.cte(
        "ses",
        format!(
            "SELECT {site} AS site, {station} AS station, {user} AS user_type, {start} AS a, {end} AS z \
             FROM src WHERE {site} IS NOT NULL AND {end} > {g0} AND {start} < {g1}",
            site = d.ident(s::SITE),
            station = d.ident(s::STATION),
            user = d.ident(s::USER_TYPE),
            g0 = d.int(g0),
            g1 = d.int(g1),
        ),
    );
    // Stations per site: the larger of sites.toml's and those seen, at least one.
    p.cte(
        "cap",
        "SELECT s.site, GREATEST(COALESCE(c.stations, CAST(0 AS BIGINT)), s.n, CAST(1 AS BIGINT)) AS stations, \
         CASE WHEN c.site IS NULL THEN FALSE ELSE TRUE END AS known \
         FROM (SELECT site, CAST(COUNT(DISTINCT station) AS BIGINT) AS n FROM ses GROUP BY site) s \
         LEFT JOIN calendar c ON c.site = s.site",
    );
    // The group key of a session (its dimensions; a missing one "(none)").
    let none = d.text("(none)");
    let key_cols: Vec<String> = dims
        .iter()
        .map(|c| match *c {
            "site" => "site AS k_site".to_string(),
            other => format!("COALESCE({other}, {none}) AS k_{other}"),
        })
        .collect();
    let k: Vec<String> = dims.iter().map(|c| format!("k_{c}")).collect();
    let kp = |prefix: &str| -> String {
        k.iter()
            .map(|c| format!("{prefix}{c}, "))
            .collect::<String>()
    };
    let kk = kp("");
    // Each session clipped to the period, with its seat (an anonymous one numbered).
    p.cte(
        "pieces",
        format!(
            "SELECT {keys}site, station, \
             CASE WHEN station IS NULL THEN ROW_NUMBER() OVER (ORDER BY site, a, z, user_type NULLS FIRST) ELSE CAST(0 AS BIGINT) END AS anon, \
             GREATEST(a, {g0}) AS a, LEAST(z, {g1}) AS z FROM ses",
            keys = key_cols.iter().map(|c| format!("{c}, ")).collect::<String>(),
            g0 = d.int(g0),
            g1 = d.int(g1),
        ),
    );
    // The tasks: every (group, site) of the period, with its stations.
    p.cte(
        "tasks",
        format!(
            "SELECT DISTINCT {kk}t.site, CASE WHEN {per} THEN CAST(1 AS BIGINT) ELSE cap.stations END AS n, cap.known \
             FROM pieces t JOIN cap ON cap.site = t.site",
            kk = kp("t."),
            per = if per_station { "TRUE" } else { "FALSE" },
        ),
    );
    // Merge each seat's overlapping or touching intervals (gaps and islands).
    let seat = format!("{kk}site, station, anon");
    p.cte(
        "p1",
        format!(
            "SELECT {kk}site, station, anon, a, z, MAX(z) OVER (PARTITION BY {seat} ORDER BY a, z \
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end FROM pieces WHERE a < z"
        ),
    );
    p.cte(
        "p2",
        format!(
            "SELECT {kk}site, station, anon, a, z, SUM(CASE WHEN prev_end IS NULL OR a > prev_end THEN 1 ELSE 0 END) \
             OVER (PARTITION BY {seat} ORDER BY a, z ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS grp FROM p1"
        ),
    );
    p.cte(
        "merged",
        format!("SELECT {kk}site, MIN(a) AS a, MAX(z) AS z FROM p2 GROUP BY {seat}, grp"),
    );
    // The step function of stations busy, per (group, site) and per group (the peak of a
    // group's sites together), as segments of a constant count, cut by UTC day.
    let days_in_period = (g1 - g0) / DAY_US + 3;
    for (name, part) in [("s", format!("{kk}site")), ("g", k.join(", "))] {
        let part_by = if part.is_empty() {
            "1".to_string()
        } else {
            part.clone()
        };
        let cols = if part.is_empty() {
            String::new()
        } else {
            format!("{part}, ")
        };
        p.cte(
            &format!("ev_{name}"),
            format!(
                "SELECT {cols}a AS t, CAST(1 AS BIGINT) AS dlt FROM merged \
                 UNION ALL SELECT {cols}z AS t, CAST(-1 AS BIGINT) AS dlt FROM merged"
            ),
        );
        p.cte(
            &format!("pts_{name}"),
            format!(
                "SELECT {cols}t, CAST(SUM(dlt) AS BIGINT) AS dlt FROM ev_{name} GROUP BY {cols}t"
            ),
        );
        p.cte(
            &format!("seg_{name}"),
            format!(
                "SELECT * FROM (SELECT {cols}t AS s, LEAD(t) OVER (PARTITION BY {part_by} ORDER BY t) AS e, \
                 CAST(SUM(dlt) OVER (PARTITION BY {part_by} ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS c \
                 FROM pts_{name}) x WHERE e IS NOT NULL AND c > 0"
            ),
        );
        p.cte(
            &format!("segday_{name}"),
            format!(
                "SELECT {cols}c, day, GREATEST(s, day * {dayus}) AS s, LEAST(e, (day + 1) * {dayus}) AS e FROM \
                 (SELECT x.*, {first} + CAST(r.i AS BIGINT) AS day FROM seg_{name} x \
                  JOIN range(0, {days_in_period}) AS r(i) ON CAST(r.i AS BIGINT) <= {last} - {first}) y",
                dayus = d.int(DAY_US),
                first = d.floor_div("x.s", DAY_US),
                last = d.floor_div("x.e - 1", DAY_US),
            ),
        );
    }
    // Opening pieces of every site in the data: sites.toml's hours, or all the time.
    p.cte(
        "op",
        "SELECT o.site, o.day, o.b, o.s, o.e FROM open_pieces o \
         UNION ALL SELECT c.site, bp.day, bp.b, bp.s, bp.e FROM cap c CROSS JOIN bucket_pieces bp WHERE NOT c.known",
    );
    p.cte(
        "openb",
        "SELECT site, b, CAST(SUM(e - s) AS BIGINT) AS open FROM op GROUP BY site, b",
    );
    let on_task = |x: &str, y: &str| -> String {
        k.iter()
            .map(|c| format!("{x}.{c} = {y}.{c} AND "))
            .collect::<String>()
            + &format!("{x}.site = {y}.site")
    };
    p.cte(
        "busy",
        format!(
            "SELECT {tk}t.site, op.b, \
             CAST(SUM(LEAST(sd.c, t.n) * (LEAST(sd.e, op.e) - GREATEST(sd.s, op.s))) AS BIGINT) AS busy, \
             CAST(SUM(CASE WHEN sd.c >= t.n THEN LEAST(sd.e, op.e) - GREATEST(sd.s, op.s) ELSE 0 END) AS BIGINT) AS full_us \
             FROM segday_s sd JOIN tasks t ON {on} \
             JOIN op ON op.site = sd.site AND op.day = sd.day AND op.s < sd.e AND op.e > sd.s \
             GROUP BY {tk}t.site, op.b",
            tk = kp("t."),
            on = on_task("t", "sd"),
        ),
    );
    // Per (group, site, bucket): open, capacity, busy, full; then per group.
    p.cte(
        "acc",
        format!(
            "SELECT {tk}bk.b, COALESCE(ob.open, CAST(0 AS BIGINT)) AS open, \
             t.n * COALESCE(ob.open, CAST(0 AS BIGINT)) AS capacity, \
             COALESCE(bu.busy, CAST(0 AS BIGINT)) AS busy, COALESCE(bu.full_us, CAST(0 AS BIGINT)) AS full_us \
             FROM tasks t CROSS JOIN buckets bk \
             LEFT JOIN openb ob ON ob.site = t.site AND ob.b = bk.b \
             LEFT JOIN busy bu ON {on} AND bu.b = bk.b",
            tk = kp("t."),
            on = on_task("bu", "t"),
        ),
    );
    let group_by = if k.is_empty() {
        String::new()
    } else {
        format!("{}, ", k.join(", "))
    };
    p.cte(
        "per_group",
        format!(
            "SELECT {group_by}b, CAST(SUM(open) AS BIGINT) AS open, CAST(SUM(capacity) AS BIGINT) AS capacity, \
             CAST(SUM(busy) AS BIGINT) AS busy, CAST(SUM(full_us) AS BIGINT) AS full_us FROM acc GROUP BY {group_by}b"
        ),
    );
    let kg = if k.is_empty() {
        String::new()
    } else {
        format!(
            "{}, ",
            k.iter()
                .map(|c| format!("sg.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    p.cte(
        "peak",
        format!(
            "SELECT {kg}bp.b, MAX(sg.c) AS peak FROM segday_g sg \
             JOIN bucket_pieces bp ON bp.day = sg.day AND bp.s < sg.e AND bp.e > sg.s GROUP BY {kg}bp.b"
        ),
    );
    let on_group = |x: &str, y: &str| -> String {
        k.iter()
            .map(|c| format!("{x}.{c} = {y}.{c} AND "))
            .collect::<String>()
    };
    if metric == Metric::SessionHours {
        p.cte(
            "hours",
            format!(
                "SELECT {kk}bp.b, CAST(SUM(LEAST(x.z, bp.e) - GREATEST(x.a, bp.s)) AS BIGINT) AS us FROM \
                 (SELECT pieces.*, {first} + CAST(r.i AS BIGINT) AS day FROM pieces \
                  JOIN range(0, {days_in_period}) AS r(i) ON CAST(r.i AS BIGINT) <= {last} - {first} WHERE a < z) x \
                 JOIN bucket_pieces bp ON bp.day = x.day AND bp.s < x.z AND bp.e > x.a GROUP BY {kk}bp.b",
                kk = kp("x."),
                first = d.floor_div("pieces.a", DAY_US),
                last = d.floor_div("pieces.z - 1", DAY_US),
            ),
        );
    }
    p.cte(
        "groups",
        if k.is_empty() {
            "SELECT DISTINCT 1 AS one FROM tasks".to_string()
        } else {
            format!("SELECT DISTINCT {} FROM tasks", k.join(", "))
        },
    );
    let out_dims: Vec<(String, String)> = dims
        .iter()
        .map(|c| (format!("g.k_{c}"), c.to_string()))
        .collect();
    let order: Vec<String> = k.iter().map(|c| format!("g.{c}")).collect();
    if metric == Metric::Heatmap {
        let mut slots = SmallTable::new(
            "slots",
            &[("b", Ty::BigInt), ("wd", Ty::BigInt), ("hr", Ty::BigInt)],
        );
        for (b, bucket) in a.grid.buckets.iter().enumerate() {
            let local = tally_model::calendar::local_time(bucket.start_us, a.grid.tz);
            use chrono::{Datelike, Timelike};
            slots.push(vec![
                Value::Int(b as i64),
                Value::Int(i64::from(local.weekday().num_days_from_monday())),
                Value::Int(i64::from(local.hour())),
            ]);
        }
        p.table(slots);
        let mut week = SmallTable::new(
            "week",
            &[
                ("wd", Ty::BigInt),
                ("hr", Ty::BigInt),
                ("weekday", Ty::Text),
            ],
        );
        for (wd, name) in WEEKDAYS.iter().enumerate() {
            for hr in 0..24 {
                week.push(vec![
                    Value::Int(wd as i64),
                    Value::Int(hr),
                    Value::Text(name.to_string()),
                ]);
            }
        }
        p.table(week);
        p.cte(
            "heat",
            format!(
                "SELECT {group_by}sl.wd, sl.hr, CAST(SUM(pg.busy) AS BIGINT) AS busy, CAST(SUM(pg.capacity) AS BIGINT) AS capacity \
                 FROM per_group pg JOIN slots sl ON sl.b = pg.b GROUP BY {group_by}sl.wd, sl.hr",
                group_by = k.iter().map(|c| format!("pg.{c}, ")).collect::<String>(),
            ),
        );
        let on = on_group("h", "g");
        let mut order = order.clone();
        order.extend(["w.wd".into(), "w.hr".into()]);
        let mut cols = out_dims.clone();
        cols.extend([
            ("w.weekday".to_string(), "weekday".to_string()),
            ("CAST(w.hr AS INT)".into(), "hour".into()),
            (
                "CASE WHEN h.capacity > 0 THEN CAST(h.busy AS DOUBLE) / CAST(h.capacity AS DOUBLE) END".into(),
                "occupancy".into(),
            ),
        ]);
        p.select = Select {
            cols,
            from: format!(
                "groups g CROSS JOIN week w LEFT JOIN heat h ON {on}h.wd = w.wd AND h.hr = w.hr"
            ),
            order,
        };
        return Ok(());
    }
    let value = match metric {
        Metric::Occupancy => {
            "CASE WHEN pg.capacity > 0 THEN CAST(pg.busy AS DOUBLE) / CAST(pg.capacity AS DOUBLE) END".to_string()
        }
        Metric::Availability => {
            "CASE WHEN pg.open > 0 THEN CAST(pg.open - pg.full_us AS DOUBLE) / CAST(pg.open AS DOUBLE) END".to_string()
        }
        Metric::TimeAtCapacity => "CAST(COALESCE(pg.full_us, CAST(0 AS BIGINT)) AS DOUBLE) / 60000000E0".to_string(),
        Metric::PeakConcurrent => "COALESCE(pk.peak, CAST(0 AS BIGINT))".to_string(),
        Metric::SessionHours => "CAST(COALESCE(hs.us, CAST(0 AS BIGINT)) AS DOUBLE) / 3600000000E0".to_string(),
        other => unreachable!("{} is not an interval metric", other.name()),
    };
    let hours_join = if metric == Metric::SessionHours {
        format!(" LEFT JOIN hours hs ON {}hs.b = bk.b", on_group("hs", "g"))
    } else {
        String::new()
    };
    let mut order = order;
    order.push("bk.b".into());
    p.select = Select::bucketed(
        &out_dims,
        (value, metric.name().into()),
        &[],
        format!(
            "groups g CROSS JOIN buckets bk \
             LEFT JOIN per_group pg ON {on_pg}pg.b = bk.b \
             LEFT JOIN peak pk ON {on_pk}pk.b = bk.b{hours_join}",
            on_pg = on_group("pg", "g"),
            on_pk = on_group("pk", "g"),
        ),
        order,
    );
    Ok(())
}
