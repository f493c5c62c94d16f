#!/usr/bin/env bash
# tally and DuckDB side by side on the same Parquet lake: the five heavy questions
# (hourly occupancy, weekday x hour heatmap, monthly circulation year over year,
# work-order hours to resolve p50/p90, distinct patrons per branch per month) on
# synthetic lakes of about 1M and 10M sessions (with the circulation and work orders of
# the same library at the same scale). Prints wall time and peak memory of each engine
# and their ratio; asserts only that both engines give the same numbers (the machine is
# shared and noisy: compare runs, not thresholds).
#
#   bench/duckdb.sh          # 1M and 10M
#   bench/duckdb.sh 1        # only 1M
#
# DuckDB comes from PyPI into a virtualenv under $TALLY_BENCH_DIR (not a test dependency).
source "$(dirname "$0")/common.sh"
[ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -c "import duckdb" 2>/dev/null || "$WORK/venv/bin/pip" install --quiet "duckdb>=1.1"
PY="$WORK/venv/bin/python"
DUCK="$PWD/bench/duckdb_five.py"
echo "DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)'), tally $("$BIN" --version | cut -d' ' -f2)"
sizes=("${@:-1 10}")
[ $# -gt 0 ] || sizes=(1 10)
FROM=2024-10-01
TO=2026-11-01

# Wall seconds and peak resident MB of one command, into $secs and $mb.
timed() { # out-file, command...
  local out=$1; shift
  local code=0
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$out" 2> "$WORK/err.txt" || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then cat "$WORK/err.txt"; exit 1; fi
  read -r secs kb < <(tail -n 1 "$WORK/time.txt")
  mb=$((kb / 1024))
}

for m in "${sizes[@]}"; do
  scale=$(python3 -c "print(round($m / 0.7246, 3))")
  dir="$WORK/duck-$m"
  if [ ! -f "$dir/ready" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    "$BIN" synth --out "$dir/inbox" --scale "$scale" > /dev/null
    S=(--lake "$dir/lake" --sites "$dir/inbox/sites.toml" --json)
    timed "$dir/ingest-sessions.json" "$BIN" ingest "${S[@]}" "$dir"/inbox/envisionware/*.csv "$dir"/inbox/libki/*.csv
    timed "$dir/ingest-circ.json" "$BIN" ingest "${S[@]}" --strip-prefix EPL "$dir"/inbox/symphony/*.hist
    timed "$dir/ingest-koha.json" "$BIN" ingest "${S[@]}" "$dir"/inbox/koha/*.csv
    timed "$dir/ingest-tickets.json" "$BIN" ingest "${S[@]}" "$dir"/inbox/osticket/*.csv
    touch "$dir/ready"
  fi
  count() { "$BIN" query --lake "$dir/lake" --format csv "SELECT count(*) AS n FROM $1" | tail -n 1; }
  echo
  echo "== ~${m}M sessions: $(count sessions) sessions, $(count circulation) circulation events, $(count work_orders) tickets; lake $(du -sh "$dir/lake" | cut -f1)"
  printf '%-22s %10s %10s %10s %10s %8s %8s\n' question "tally s" "tally MB" "DuckDB s" "DuckDB MB" "time x" "mem x"
  T=(--lake "$dir/lake" --sites "$dir/inbox/sites.toml" --from "$FROM" --to "$TO" --format csv)
  for q in occupancy_hourly heatmap circulation_yoy resolve_quantiles distinct_patrons; do
    case $q in
      occupancy_hourly) timed "$dir/t-$q.csv" "$BIN" metric occupancy --every hour "${T[@]}" ;;
      heatmap) timed "$dir/t-$q.csv" "$BIN" metric heatmap "${T[@]}" ;;
      circulation_yoy) timed "$dir/t-$q.csv" "$BIN" metric circulation --every month --by site --yoy "${T[@]}" ;;
      distinct_patrons) timed "$dir/t-$q.csv" "$BIN" metric distinct_users --every month --by site "${T[@]}" ;;
      resolve_quantiles)
        timed "$dir/t-$q-p50.csv" "$BIN" metric hours_to_resolve_median --every month --by priority "${T[@]}"
        s1=$secs; m1=$mb
        timed "$dir/t-$q-p90.csv" "$BIN" metric hours_to_resolve_p90 --every month --by priority "${T[@]}"
        secs=$(python3 -c "print($s1 + $secs)"); mb=$((m1 > mb ? m1 : mb)) ;;
    esac
    ts=$secs; tm=$mb
    timed "$dir/out.txt" "$PY" "$DUCK" "$dir/lake" "$dir/inbox/sites.toml" "$FROM" "$TO" "$q" "$dir/d-$q.csv"
    ds=$secs; dm=$mb
    if [ "$q" = resolve_quantiles ]; then tcsv="$dir/t-$q-p50.csv+$dir/t-$q-p90.csv"; else tcsv="$dir/t-$q.csv"; fi
    verdict=$("$PY" "$DUCK" check "$q" "$dir/d-$q.csv" "$tcsv" 2>&1) || { echo "$verdict"; exit 1; }
    printf '%-22s %10.2f %10d %10.2f %10d %8.2f %8.2f   %s\n' "$q" "$ts" "$tm" "$ds" "$dm" \
      "$(python3 -c "print($ts / max($ds, 0.01))")" "$(python3 -c "print($tm / max($dm, 1))")" "${verdict#*: }"
  done
done
echo
echo "time x and mem x are tally / DuckDB: below 1 means tally is faster or smaller."
