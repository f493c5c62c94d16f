#!/usr/bin/env bash
# One definition, three engines: tally's own answer (polars and the sweep line), the SQL
# `tally sql` writes run on DuckDB, and the same SQL for Spark run in local mode (2
# cores), on the same lakes of about 1M and 10M sessions (bench/duckdb.sh makes them),
# then a synthetic consortium of 50 members (`tally synth --libraries 50`) reported
# locally. Prints wall time and peak memory of each whole process (engine start
# included) and checks the three answers are equal row by row.
#
#   bench/sql.sh            # 1M (DuckDB and Spark) and 10M (DuckDB), then 50 members
#   bench/sql.sh 1          # only 1M
#   TALLY_BENCH_SPARK=0 bench/sql.sh   # without Spark
#
# DuckDB and pyspark come from PyPI into a virtualenv under $TALLY_BENCH_DIR.
source "$(dirname "$0")/common.sh"
[ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -c "import duckdb" 2>/dev/null || "$WORK/venv/bin/pip" install --quiet "duckdb>=2,<3"
SPARK=${TALLY_BENCH_SPARK:-1}
if [ "$SPARK" = 1 ]; then
  "$WORK/venv/bin/python" -c "import pyspark" 2>/dev/null || "$WORK/venv/bin/pip" install --quiet "pyspark>=3.5"
fi
PY="$WORK/venv/bin/python"
ENG="$PWD/bench/sql_engines.py"
sizes=("${@:-1 10}")
[ $# -gt 0 ] || sizes=(1 10)
FROM=2024-10-01
TO=2026-11-01

# Wall seconds and peak resident MB of a command's whole process tree (Spark's JVM is a
# child of the Python that starts it), into $secs and $mb.
timed() { # out-file, command...
  local out=$1; shift
  python3 bench/peak_tree.py "$out" "$@" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; exit 1; }
  read -r secs mb < <(tail -n 1 "$WORK/err.txt")
}

same() { # two CSVs: the same rows, numbers within 1e-9 relative
  python3 - "$1" "$2" <<'PY'
import csv, sys
a, b = (list(csv.reader(open(p))) for p in sys.argv[1:3])
def eq(x, y):
    try:
        p, q = float(x), float(y)
        return p == q or abs(p - q) <= 1e-9 * max(abs(p), abs(q))
    except ValueError:
        return x == y or (x in ("", "None") and y in ("", "None")) or {x.lower(), y.lower()} == {"true"} or {x.lower(), y.lower()} == {"false"}
ok = len(a) == len(b) and a[0] == b[0] and all(len(r) == len(s) and all(eq(x, y) for x, y in zip(r, s)) for r, s in zip(a[1:], b[1:]))
print("equal" if ok else f"DIFFERENT ({len(a)} vs {len(b)} rows)")
PY
}

for m in "${sizes[@]}"; do
  dir="$WORK/duck-$m"
  [ -f "$dir/ready" ] || bash bench/duckdb.sh "$m" > /dev/null
  echo
  echo "== ~${m}M sessions, lake $(du -sh "$dir/lake" | cut -f1)"
  printf '%-34s %9s %8s %9s %8s %9s %8s  %s\n' question "tally s" "MB" "DuckDB s" "MB" "Spark s" "MB" "answers"
  T=(--lake "$dir/lake" --sites "$dir/inbox/sites.toml" --from "$FROM" --to "$TO")
  while read -r name args; do
    # shellcheck disable=SC2086
    timed "$dir/q-$name-tally.csv" "$BIN" metric $args "${T[@]}" --format csv; ts=$secs; tm=$mb
    # shellcheck disable=SC2086
    "$BIN" sql $args "${T[@]}" -o "$dir/q-$name.duckdb.sql"
    timed "$dir/out.txt" "$PY" "$ENG" duckdb "$dir/q-$name.duckdb.sql" "$dir/q-$name-duckdb.csv"; ds=$secs; dm=$mb
    verdict="duckdb $(same "$dir/q-$name-tally.csv" "$dir/q-$name-duckdb.csv")"
    ss=-; sm=-
    if [ "$SPARK" = 1 ] && [ "$m" = 1 ]; then
      # shellcheck disable=SC2086
      "$BIN" sql $args "${T[@]}" --dialect spark -o "$dir/q-$name.spark.sql"
      timed "$dir/out.txt" "$PY" "$ENG" spark "$dir/q-$name.spark.sql" "$dir/q-$name-spark.csv"; ss=$secs; sm=$mb
      verdict="$verdict, spark $(same "$dir/q-$name-tally.csv" "$dir/q-$name-spark.csv")"
    fi
    printf '%-34s %9s %8s %9s %8s %9s %8s  %s\n' "$name" "$ts" "$tm" "$ds" "$dm" "$ss" "$sm" "$verdict"
  done <<'Q'
sessions_month_by_site sessions --every month --by site
occupancy_day occupancy --every day
heatmap heatmap
circulation_month_yoy circulation --every month --by site --yoy
distinct_users_month_by_site distinct_users --every month --by site
hours_to_resolve_p90_by_priority hours_to_resolve_p90 --every month --by priority
Q
done

# A consortium: 50 members of 60 days each (between half and one and a half times the
# demo library), their lakes built by tally synth, then the report over all of them.
members=${TALLY_BENCH_MEMBERS:-50}
cdir="$WORK/consortium-$members"
if [ ! -f "$cdir/consortium.toml" ]; then
  rm -rf "$cdir"
  timed "$WORK/out.txt" "$BIN" synth --libraries "$members" --days 60 --start 2026-01-01 --out "$cdir"
  echo; echo "== consortium of $members members: synth and ingest $secs s, $mb MB peak"
fi
timed "$WORK/out.txt" "$BIN" consortium report --config "$cdir/consortium.toml" --out "$cdir/report"
echo "consortium report over $members members ($(du -sh "$cdir/members" | cut -f1) of exports and lakes): $secs s, $mb MB peak"
