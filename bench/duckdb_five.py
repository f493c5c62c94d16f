#!/usr/bin/env python3
"""The benchmark's five questions in DuckDB, over the same Parquet lake tally reads.

    duckdb_five.py LAKE SITES_TOML FROM TO QUESTION OUT.csv

QUESTION is one of: occupancy_hourly, heatmap, circulation_yoy, resolve_quantiles,
distinct_patrons. FROM is inclusive, TO exclusive (YYYY-MM-DD, local days).

Every definition is ARCHITECTURE.md's (Metric definitions), written again in SQL from scratch:
- opening hours come from sites.toml, read here with tomllib and turned into UTC
  intervals with zoneinfo (holidays closed, "24:00" = midnight), not from tally;
- a site's stations are max(sites.toml's, stations seen in the period, 1), and sites
  without sessions in the period are left out of capacity, as tally does;
- busy time is the union of a station's sessions (gaps and islands), clipped to the
  period and to opening hours, split at hour boundaries;
- work orders are the current state: per (source, ticket_id) the row of the newest
  batch by the ledger's sequence number.

`check` mode compares a question's CSV with tally's CSV of the same question:

    duckdb_five.py check QUESTION DUCKDB.csv TALLY.csv
"""

import csv
import datetime as dt
import sys
import tomllib
from zoneinfo import ZoneInfo

HOUR = 3_600_000_000
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def micros(t: dt.datetime) -> int:
    return int(t.timestamp()) * 1_000_000


def local_micros(day: dt.date, hhmm: str, tz: ZoneInfo) -> int:
    if hhmm == "24:00":
        return micros(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tz))
    h, m = (int(x) for x in hhmm.split(":"))
    # fold=0: the earlier of an ambiguous time, as tally's calendar takes it.
    return micros(dt.datetime.combine(day, dt.time(h, m), tz))


def open_intervals(sites: dict, start: dt.date, end: dt.date):
    """(site, stations, open_us, close_us) for every opening of every site."""
    lib = sites["library"]
    holidays = {dt.date.fromisoformat(str(d)) for d in lib.get("closed", [])}
    rows = []
    for s in sites.get("site", []):
        tz = ZoneInfo(s.get("timezone", lib["timezone"]))
        closed = holidays | {dt.date.fromisoformat(str(d)) for d in s.get("closed", [])}
        day = start
        while day < end:
            hours = s["hours"][DAYS[day.weekday()]].strip()
            if day not in closed and hours.lower() not in ("closed", ""):
                for part in hours.split(","):
                    a, b = (x.strip() for x in part.split("-"))
                    rows.append((s["code"], s["stations"], local_micros(day, a, tz), local_micros(day, b, tz)))
            day += dt.timedelta(days=1)
    return rows


SESSIONS = "read_parquet('{lake}/sessions/*/*/*.parquet', hive_partitioning = false, union_by_name = true)"
CIRC = "read_parquet('{lake}/circulation/*/*/*.parquet', hive_partitioning = false, union_by_name = true)"
TICKETS = "read_parquet('{lake}/work_orders/*/*/*.parquet', hive_partitioning = false, union_by_name = true)"

# Busy time and capacity per site and UTC hour (whole-hour zones: a local hour is a UTC hour).
BUSY_AND_CAPACITY = """
WITH s AS (
  SELECT site, station, epoch_us(start) AS a, epoch_us("end") AS b
  FROM {sessions} WHERE epoch_us("end") > {t0} AND epoch_us(start) < {t1}
),
used AS (  -- sites with sessions in the period, and the stations seen there
  SELECT site, count(DISTINCT station) AS seen FROM s GROUP BY site
),
ordered AS (
  SELECT *, max(b) OVER (PARTITION BY site, station ORDER BY a, b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_b
  FROM s
),
islands AS (
  SELECT *, sum(CASE WHEN prev_b IS NULL OR a > prev_b THEN 1 ELSE 0 END)
    OVER (PARTITION BY site, station ORDER BY a, b ROWS UNBOUNDED PRECEDING) AS grp
  FROM ordered
),
busy AS (
  SELECT site, station, min(a) AS a, max(b) AS b FROM islands GROUP BY site, station, grp
),
open_used AS (
  SELECT o.site, greatest(o.stations, u.seen, 1) AS stations, greatest(o.a, {t0}) AS a, least(o.b, {t1}) AS b
  FROM open_hours o JOIN used u USING (site)
  WHERE o.b > {t0} AND o.a < {t1}
),
busy_open AS (
  SELECT b.site, greatest(b.a, o.a) AS a, least(b.b, o.b) AS b
  FROM busy b JOIN open_used o ON b.site = o.site AND b.a < o.b AND b.b > o.a
),
busy_hours AS (
  SELECT site, h, sum(least(b, h + {hour}) - greatest(a, h)) AS busy_us
  FROM (SELECT site, a, b, unnest(range(a - a % {hour}, b, {hour})) AS h FROM busy_open)
  GROUP BY site, h
),
cap_hours AS (
  SELECT site, h, sum((least(b, h + {hour}) - greatest(a, h)) * stations) AS cap_us
  FROM (SELECT site, stations, a, b, unnest(range(a - a % {hour}, b, {hour})) AS h FROM open_used)
  GROUP BY site, h
)
"""


def question(con, lake: str, t0: int, t1: int, q: str):
    fill = dict(sessions=SESSIONS.format(lake=lake), t0=t0, t1=t1, hour=HOUR)
    if q == "occupancy_hourly":
        sql = BUSY_AND_CAPACITY.format(**fill) + """
        SELECT c.h AS hour_us, sum(coalesce(busy_us, 0)) / sum(cap_us) AS occupancy
        FROM cap_hours c LEFT JOIN busy_hours b USING (site, h)
        GROUP BY c.h ORDER BY c.h"""
    elif q == "heatmap":
        sql = BUSY_AND_CAPACITY.format(**fill) + """
        SELECT isodow(make_timestamp(c.h) AT TIME ZONE 'UTC') AS weekday, hour(make_timestamp(c.h) AT TIME ZONE 'UTC') AS hour,
               sum(coalesce(busy_us, 0)) / sum(cap_us) AS occupancy
        FROM cap_hours c LEFT JOIN busy_hours b USING (site, h)
        GROUP BY ALL ORDER BY weekday, hour"""
    elif q == "circulation_yoy":
        # This period's months and the same months a year earlier.
        sql = f"""
        WITH m AS (
          SELECT site, strftime(time, '%Y-%m') AS month, count(*) AS n
          FROM {CIRC.format(lake=lake)}
          WHERE event IN ('checkout', 'renewal') AND epoch_us(time) >= {t0} - 366 * 86400000000 AND epoch_us(time) < {t1}
          GROUP BY ALL
        )
        SELECT now.site, now.month, now.n AS circulation, prev.n AS previous_year,
               CASE WHEN prev.n > 0 THEN (now.n - prev.n) * 100.0 / prev.n END AS change_pct
        FROM m now LEFT JOIN m prev ON prev.site = now.site
          AND prev.month = strftime(strptime(now.month, '%Y-%m') - INTERVAL 1 YEAR, '%Y-%m')
        WHERE now.month >= strftime(make_timestamp({t0}) AT TIME ZONE 'UTC', '%Y-%m')
        ORDER BY now.site, now.month"""
    elif q == "resolve_quantiles":
        sql = f"""
        WITH ledger AS (SELECT batch, seq FROM read_json_auto('{lake}/_ledger/*.json')),
        cur AS (
          SELECT t.* FROM {TICKETS.format(lake=lake)} t JOIN ledger USING (batch)
          QUALIFY row_number() OVER (PARTITION BY source, ticket_id ORDER BY seq DESC) = 1
        )
        SELECT priority, strftime(resolved, '%Y-%m') AS month,
               quantile_cont((epoch_us(resolved) - epoch_us(opened)) / 3.6e9, 0.5) AS p50,
               quantile_cont((epoch_us(resolved) - epoch_us(opened)) / 3.6e9, 0.9) AS p90
        FROM cur WHERE epoch_us(resolved) >= {t0} AND epoch_us(resolved) < {t1}
        GROUP BY ALL ORDER BY priority, month"""
    elif q == "distinct_patrons":
        sql = f"""
        SELECT site, strftime(start, '%Y-%m') AS month, count(DISTINCT patron_key) AS patrons
        FROM {SESSIONS.format(lake=lake)}
        WHERE epoch_us(start) >= {t0} AND epoch_us(start) < {t1}
          AND user_type <> 'guest' AND patron_key IS NOT NULL
        GROUP BY ALL ORDER BY site, month"""
    else:
        sys.exit(f"unknown question {q}")
    return con.execute(sql)


def run(lake, sites_toml, start, end, q, out):
    import duckdb

    with open(sites_toml, "rb") as f:
        sites = tomllib.load(f)
    tz = ZoneInfo(sites["library"]["timezone"])
    d0, d1 = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    t0 = micros(dt.datetime.combine(d0, dt.time(0), tz))
    t1 = micros(dt.datetime.combine(d1, dt.time(0), tz))
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{sites['library']['timezone']}'")
    con.execute("CREATE TEMP TABLE open_hours (site VARCHAR, stations INTEGER, a BIGINT, b BIGINT)")
    # Opening hours a day either side: a session may start before the period.
    con.executemany("INSERT INTO open_hours VALUES (?, ?, ?, ?)", open_intervals(sites, d0 - dt.timedelta(days=1), d1 + dt.timedelta(days=1)))
    cur = question(con, lake, t0, t1, q)
    names = [d[0] for d in cur.description]
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for row in cur.fetchall():
            w.writerow(row)


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(s):
    return None if s in ("", None) else float(s)


def close(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b)))


def check(q, duck_csv, tally_csv):
    """Exit 1 unless DuckDB's answer equals tally's, cell by cell."""
    d = read(duck_csv)
    # The two quantiles are two tally metrics: their CSVs joined as "median.csv+p90.csv".
    parts = [read(p) for p in tally_csv.split("+")]
    t = parts[0]
    for extra in parts[1:]:
        for row, more in zip(t, extra):
            row.update(more)
    bad = []
    if q == "occupancy_hourly":
        # tally has every hour of the period, empty where no site was open; DuckDB the open ones.
        tv = [num(r["occupancy"]) for r in t if r["occupancy"] != ""]
        dv = [num(r["occupancy"]) for r in d]
        if len(tv) != len(dv):
            bad.append(f"{len(tv)} open hours in tally, {len(dv)} in DuckDB")
        bad += [f"hour {i}: tally {a} DuckDB {b}" for i, (a, b) in enumerate(zip(tv, dv)) if not close(a, b)]
    elif q == "heatmap":
        days = {"Mon": 1, "Tue": 2, "Wed": 3, "Thu": 4, "Fri": 5, "Sat": 6, "Sun": 7}
        dm = {(int(r["weekday"]), int(r["hour"])): num(r["occupancy"]) for r in d}
        for r in t:
            k = (days[r["weekday"]], int(r["hour"]))
            if not close(num(r["occupancy"]), dm.get(k)):
                bad.append(f"{k}: tally {r['occupancy']} DuckDB {dm.get(k)}")
    elif q == "circulation_yoy":
        dm = {(r["site"], r["month"]): r for r in d}
        for r in t:
            x = dm.get((r["site"], r["bucket"]))
            got = (num(r["circulation"]), num(r["previous_year"]) or None)
            want = (num(x["circulation"]), num(x["previous_year"]) or None) if x else (0.0, None)
            if not (close(got[0], want[0]) and close(got[1], want[1])):
                bad.append(f"{r['site']} {r['bucket']}: tally {got} DuckDB {want}")
    elif q == "resolve_quantiles":
        dm = {(r["priority"], r["month"]): r for r in d}
        for r in t:
            x = dm.get((r["priority"], r["bucket"]))
            for c, dc in (("hours_to_resolve_median", "p50"), ("hours_to_resolve_p90", "p90")):
                if c in r and not close(num(r[c]), num(x[dc]) if x else None):
                    bad.append(f"{r['priority']} {r['bucket']} {c}: tally {r[c]} DuckDB {x[dc] if x else None}")
    elif q == "distinct_patrons":
        dm = {(r["site"], r["month"]): num(r["patrons"]) for r in d}
        for r in t:
            want = dm.get((r["site"], r["bucket"]), 0.0)
            got = num(r["distinct_users"])
            # tally leaves cells under the minimum cell size empty.
            if got is None and want is not None and want < 5:
                continue
            if not close(got, want):
                bad.append(f"{r['site']} {r['bucket']}: tally {got} DuckDB {want}")
    if bad or not t:
        print(f"{q}: DuckDB and tally DISAGREE ({len(bad)} cells; {len(t)} tally rows)", file=sys.stderr)
        for b in bad[:10]:
            print("  " + b, file=sys.stderr)
        sys.exit(1)
    print(f"{q}: {len(t)} rows agree")


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(*sys.argv[2:5])
    else:
        run(*sys.argv[1:7])
