#!/usr/bin/env python3
"""DuckDB's side of the ingest benchmark (bench/ingest.sh): the same vendor CSVs typed,
zone-converted, pseudonymised and written to Parquet, one process per invocation so that
/usr/bin/time measures its wall time and peak memory alone.

    ingest_duckdb.py envisionware CSV OUT.parquet TZ
    ingest_duckdb.py koha         CSV OUT.parquet TZ
    ingest_duckdb.py osticket     CSV OUT.parquet TZ
    ingest_duckdb.py job SESSIONS.csv CIRC.csv TICKETS.csv SITES_TOML FROM TO OUTDIR

The single modes are one `COPY (SELECT ... FROM read_csv(..., columns = {explicit types}))
TO OUT (FORMAT parquet, COMPRESSION zstd)` each, producing tally's canonical columns
(crates/model/src/tables.rs) by tally's rules (crates/ingest/src/adapters/):

- local times become UTC instants with timezone(TZ, ts) (a TIMESTAMPTZ; Parquet stores
  it as UTC microseconds, like tally's Datetime(us, UTC));
- patron_key and item_key are left(sha256(TALLY_KEY || id), 32): a keyed SHA-256 with the
  same 32-hex-digit shape as tally's HMAC-SHA-256, computed for every row (tally hashes
  each distinct identifier once, through a cache); not an HMAC, but the same kind of work;
- row_key is DuckDB's 64-bit hash() of the source and the values tally keys on;
- the rows tally would quarantine (unknown status, minutes out of range, ...) are
  filtered out; rows tally excludes by rule (zero minutes, Koha payments) too.

Within-file keys: tally also makes keys unique within a file (EnvisionWare: the first
row of a (branch, pcrKey) wins; Koha statistics: identical rows are numbered 0, 1, ...
and the number is part of the key; osTicket: the first row of a ticket wins). By default
DuckDB does the same with a window (QUALIFY / row_number() OVER (PARTITION BY ...)),
which makes it hold the rows instead of streaming them. TALLY_BENCH_DUCK_KEYS=plain skips
that: pure streaming COPYs, keys from the row's values only.

`job` is the whole job in DuckDB: the three COPYs into a small lake laid out as tally's
(OUTDIR/lake/<table>/year=YYYY/month=MM/*.parquet, by the UTC month of the table's time
column, plus a minimal OUTDIR/lake/_ledger/<batch>.json per table) and then the five
questions of bench/duckdb_five.py over it, written to OUTDIR/d-<question>.csv (the
files `duckdb_five.py check` compares with tally's answers). The zone and the guest
card prefixes come from SITES_TOML.

Each mode prints one JSON line: rows written per table and seconds per step. DuckDB runs
with its defaults (all cores, memory limit 80% of RAM); it spills under the output folder.
The pseudonymisation key is $TALLY_KEY (bench/common.sh exports one).
"""

import json
import os
import shutil
import sys
import time
import tomllib
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
QUESTIONS = ["occupancy_hourly", "heatmap", "circulation_yoy", "resolve_quantiles", "distinct_patrons"]
FILE_KEYS = os.environ.get("TALLY_BENCH_DUCK_KEYS", "file") != "plain"


def lit(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def pseudo(key: str, expr: str) -> str:
    # Keyed SHA-256, first 16 bytes as 32 hex digits (tally: HMAC-SHA-256, same shape).
    return f"left(sha256({lit(key)} || {expr}), 32)"


def read_csv(path: str, columns: dict, timestampformat: str, nullstr=("",)) -> str:
    cols = ", ".join(f"{lit(k)}: {lit(v)}" for k, v in columns.items())
    nulls = ", ".join(lit(n) for n in nullstr)
    return (f"read_csv({lit(path)}, header = true, delim = ',', quote = '\"', nullstr = [{nulls}], "
            f"columns = {{{cols}}}, timestampformat = {lit(timestampformat)})")


ENVISIONWARE_COLUMNS = {
    "pcrKey": "BIGINT", "pcrUserID": "VARCHAR", "pcrMinutesUsed": "INTEGER", "pcrDateTime": "TIMESTAMP",
    "pcrBranch": "VARCHAR", "pcrArea": "VARCHAR", "pcrUserData1": "VARCHAR", "pcrMachineName": "VARCHAR",
}


def envisionware_sql(csv: str, tz: str, key: str, batch: str, guest_prefixes=("25555",)) -> str:
    guest = " OR ".join(f"starts_with(pcrUserID, {lit(p)})" for p in guest_prefixes if p) or "false"
    row_key = "hash('envisionware', site, pcrKey)"
    unique = "QUALIFY row_number() OVER (PARTITION BY site, pcrKey) = 1" if FILE_KEYS else ""
    return f"""
    WITH typed AS (
      SELECT pcrBranch AS site, pcrMachineName AS station, timezone({lit(tz)}, pcrDateTime) AS start,
             pcrMinutesUsed, pcrUserID, pcrKey,
             CASE WHEN pcrUserData1 IS NOT NULL THEN 'staff'   -- staff override
                  WHEN pcrUserID IS NULL THEN 'unknown'
                  WHEN {guest} THEN 'guest'
                  ELSE 'patron' END AS user_type
      FROM {read_csv(csv, ENVISIONWARE_COLUMNS, '%Y-%m-%d %H:%M:%S')}
      -- 0 minutes: declined policy or no-show (excluded); over a day: quarantined by tally.
      WHERE pcrMinutesUsed BETWEEN 1 AND 1440 AND pcrBranch IS NOT NULL
    )
    SELECT site, station, start, start + to_minutes(pcrMinutesUsed) AS "end",
           pcrMinutesUsed::BIGINT * 60 AS duration_s, user_type,
           CASE WHEN user_type IN ('patron', 'staff') THEN {pseudo(key, 'pcrUserID')} END AS patron_key,
           {row_key} AS row_key, 'envisionware' AS source, {lit(batch)} AS batch
    FROM typed
    {unique}"""


KOHA_COLUMNS = {
    "datetime": "TIMESTAMP", "branch": "VARCHAR", "value": "DECIMAL(12,2)", "type": "VARCHAR", "other": "VARCHAR",
    "itemnumber": "BIGINT", "itemtype": "VARCHAR", "location": "VARCHAR", "borrowernumber": "BIGINT",
    "ccode": "VARCHAR", "categorycode": "VARCHAR", "interface": "VARCHAR",
}


def koha_sql(csv: str, tz: str, key: str, batch: str) -> str:
    content = "hash('koha-statistics', time, site, event, item_type, collection, location, patron_category, patron_key, item_key, automatic)"
    # Identical rows are as many events: the copy number makes their keys differ.
    row_key = "hash(base, row_number() OVER (PARTITION BY base) - 1)" if FILE_KEYS else "base"
    return f"""
    WITH events AS (
      SELECT timezone({lit(tz)}, "datetime") AS time, branch AS site,
             CASE lower(type) WHEN 'issue' THEN 'checkout' WHEN 'onsite_checkout' THEN 'checkout'
                              WHEN 'renew' THEN 'renewal' WHEN 'return' THEN 'checkin'
                              WHEN 'localuse' THEN 'in_house_use' END AS event,
             itemtype AS item_type, ccode AS collection, location, categorycode AS patron_category,
             borrowernumber, itemnumber, interface
      FROM {read_csv(csv, KOHA_COLUMNS, '%Y-%m-%d %H:%M:%S', nullstr=('', 'NULL'))}
      WHERE branch IS NOT NULL
    ),
    canonical AS (
      SELECT time, site, event, item_type, collection, location, patron_category,
             {pseudo(key, 'borrowernumber::VARCHAR')} AS patron_key,
             {pseudo(key, 'itemnumber::VARCHAR')} AS item_key,
             -- Koha records the system's own renewals with the interface "cron".
             CASE WHEN event = 'renewal' THEN coalesce(interface = 'cron', false) END AS automatic
      FROM events
      WHERE event IS NOT NULL  -- payments, writeoffs, ...: not circulation
    ),
    keyed AS (SELECT *, {content} AS base FROM canonical)
    SELECT * EXCLUDE (base), {row_key} AS row_key, 'koha-statistics' AS source, {lit(batch)} AS batch
    FROM keyed"""


OSTICKET_COLUMNS = {
    "Ticket Number": "VARCHAR", "Date Created": "TIMESTAMP", "Subject": "VARCHAR", "From": "VARCHAR",
    "From Email": "VARCHAR", "Priority": "VARCHAR", "Department": "VARCHAR", "Help Topic": "VARCHAR",
    "Source": "VARCHAR", "Current Status": "VARCHAR", "Last Updated": "TIMESTAMP", "SLA Due Date": "TIMESTAMP",
    "Due Date": "TIMESTAMP", "Closed Date": "TIMESTAMP", "Overdue": "VARCHAR", "Merged": "VARCHAR",
    "Linked": "VARCHAR", "Answered": "VARCHAR", "Agent Assigned": "VARCHAR", "Team Assigned": "VARCHAR",
    "Thread Count": "INTEGER", "Reopen Count": "INTEGER", "Attachment Count": "INTEGER", "Task Count": "INTEGER",
    "Location": "VARCHAR", "Asset Tag": "VARCHAR",
}
# tally's status_of and priority_of (crates/ingest/src/adapters/tickets.rs).
STATUS = {
    "open": ["open", "new", "reopened", "to do", "incoming", "new (incoming)"],
    "in_progress": ["in progress", "assigned", "processing (assigned)", "processing (planned)", "planned", "work in progress"],
    "waiting": ["waiting", "pending", "stalled", "on hold", "waiting for customer", "waiting for support"],
    "resolved": ["resolved", "solved", "done", "answered"],
    "closed": ["closed", "archived"],
    "cancelled": ["cancelled", "canceled", "rejected", "deleted", "won't do", "declined"],
}
PRIORITY = {
    "low": ["low", "very low", "lowest", "minor", "trivial"],
    "normal": ["normal", "medium", "moderate"],
    "high": ["high", "very high", "higher", "major"],
    "urgent": ["urgent", "emergency", "critical", "highest", "blocker"],
}


def mapping(expr: str, words: dict) -> str:
    whens = " ".join(f"WHEN {expr} IN ({', '.join(lit(w) for w in ws)}) THEN {lit(k)}" for k, ws in words.items())
    return f"CASE {whens} END"


def osticket_sql(csv: str, tz: str, key: str, batch: str) -> str:
    del key  # tickets carry no patron identifiers
    unique = "QUALIFY row_number() OVER (PARTITION BY ticket_id) = 1" if FILE_KEYS else ""
    return f"""
    WITH t AS (
      SELECT "Ticket Number" AS ticket_id, timezone({lit(tz)}, "Date Created") AS opened,
             timezone({lit(tz)}, "Closed Date") AS resolved,
             {mapping('lower(trim("Current Status"))', STATUS)} AS status,
             {mapping('lower(trim("Priority"))', PRIORITY)} AS priority,
             "Help Topic" AS category, "Location" AS site, "Asset Tag" AS asset_tag, "Agent Assigned" AS assignee
      FROM {read_csv(csv, OSTICKET_COLUMNS, '%m/%d/%Y %I:%M %p')}
    )
    SELECT *, hash('osticket', ticket_id, opened, resolved, status, priority, category, site, asset_tag, assignee) AS row_key,
           'osticket' AS source, {lit(batch)} AS batch
    FROM t
    WHERE ticket_id IS NOT NULL AND opened IS NOT NULL AND status IS NOT NULL AND priority IS NOT NULL
      AND (resolved IS NULL OR resolved >= opened)
    {unique}"""


def connect(spill_dir: Path):
    con = duckdb.connect()
    spill_dir.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = {lit(str(spill_dir / 'duckdb.tmp'))}")
    return con


def copy(con, select: str, out: str, partition_by: str | None = None) -> int:
    """COPY a query to Parquet; the number of rows written."""
    if partition_by is None:
        sql = f"COPY ({select}) TO {lit(out)} (FORMAT parquet, COMPRESSION zstd)"
    else:
        # tally's layout: the UTC year and month of the time column, month two digits.
        utc = f"({partition_by} AT TIME ZONE 'UTC')"
        sql = (f"COPY (SELECT *, year({utc}) AS year, lpad(month({utc})::VARCHAR, 2, '0') AS month FROM ({select})) "
               f"TO {lit(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month), OVERWRITE_OR_IGNORE)")
    return con.execute(sql).fetchone()[0]


def key() -> str:
    k = os.environ.get("TALLY_KEY", "").strip()
    if not k:
        sys.exit("TALLY_KEY is not set (bench/common.sh exports one)")
    return k


SINGLE = {"envisionware": envisionware_sql, "koha": koha_sql, "osticket": osticket_sql}


def single(mode: str, csv: str, out: str, tz: str):
    csv, out = str(Path(csv).resolve()), Path(out).resolve()
    con = connect(out.parent)
    t = time.monotonic()
    n = copy(con, SINGLE[mode](csv, tz, key(), f"duckdb-{mode}"), str(out))
    print(json.dumps({"mode": mode, "rows": n, "seconds": round(time.monotonic() - t, 3), "keys": "file" if FILE_KEYS else "plain"}))


def job(sessions: str, circ: str, tickets: str, sites_toml: str, start: str, end: str, outdir: str):
    sys.path.insert(0, str(BENCH))
    sys.dont_write_bytecode = True  # no __pycache__ in bench/
    import duckdb_five

    out = Path(outdir).resolve()
    lake = out / "lake"
    if lake.exists():
        shutil.rmtree(lake)
    (lake / "_ledger").mkdir(parents=True)
    with open(sites_toml, "rb") as f:
        lib = tomllib.load(f)["library"]
    tz, guests = lib["timezone"], lib.get("guest_barcode_prefixes", [])
    k = key()
    report = {"mode": "job", "keys": "file" if FILE_KEYS else "plain", "rows": {}, "seconds": {}}
    con = connect(out)
    steps = [
        ("sessions", envisionware_sql(str(Path(sessions).resolve()), tz, k, "duckdb-sessions", guests), "start"),
        ("circulation", koha_sql(str(Path(circ).resolve()), tz, k, "duckdb-circulation"), "time"),
        ("work_orders", osticket_sql(str(Path(tickets).resolve()), tz, k, "duckdb-work_orders"), "opened"),
    ]
    for seq, (table, select, time_column) in enumerate(steps, 1):
        t = time.monotonic()
        n = copy(con, select, str(lake / table), partition_by=time_column)
        # duckdb_five reads batch and seq from the ledger (the latest export of a ticket wins).
        entry = {"batch": f"duckdb-{table}", "seq": seq, "table": table, "rows_stored": n}
        (lake / "_ledger" / f"duckdb-{table}.json").write_text(json.dumps(entry) + "\n")
        report["rows"][table] = n
        report["seconds"][f"ingest {table}"] = round(time.monotonic() - t, 3)
    con.close()
    os.chdir(out)  # where the questions' connections spill, if they do
    for q in QUESTIONS:
        t = time.monotonic()
        duckdb_five.run(str(lake), str(Path(sites_toml).resolve()), start, end, q, str(out / f"d-{q}.csv"))
        report["seconds"][q] = round(time.monotonic() - t, 3)
    print(json.dumps(report))


def main(argv):
    if len(argv) == 5 and argv[1] in SINGLE:
        single(*argv[1:5])
    elif len(argv) == 9 and argv[1] == "job":
        job(*argv[2:9])
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main(sys.argv)
