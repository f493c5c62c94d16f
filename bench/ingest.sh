#!/usr/bin/env bash
# tally's ingest and DuckDB 2.x side by side on the same vendor exports, at 1M and 10M rows
# (and 30M with --30m). The exports come from bench/gen_exports.py (not tally's synth):
# EnvisionWare sessions and Koha statistics of N rows each, osTicket tickets of N/1000,
# plus a 200-row nightly EnvisionWare file. Prints wall time and peak memory (GNU time's
# %e and %M) of both engines; asserts nothing (the machine is shared and noisy: compare
# runs, not thresholds).
#
#   (a) per adapter: `tally ingest` of one file into an empty lake vs
#       bench/ingest_duckdb.py's COPY of the same file to one Parquet file;
#   (b) the whole job: tally ingesting the three files, then six metric runs (the five
#       questions of bench/duckdb.sh) vs `ingest_duckdb.py job` (the three COPYs into a
#       partitioned lake, then bench/duckdb_five.py's five questions) in one process;
#       the answers are compared with `duckdb_five.py check` (reported, not fatal);
#   (c) tally only: the nightly file into a copy of the 1M lake and of the 10M lake (does
#       a night's ingest cost grow with the lake?);
#   and the growth from one size to the next: time ratio / row ratio (1.00 = linear) and
#   memory ratio.
#
#   bench/ingest.sh          # 1M and 10M
#   bench/ingest.sh --30m    # 1M, 10M and 30M
#
# Generated exports are cached under $TALLY_BENCH_DIR/exports-<N>M (re-runs skip
# generation; delete the folder to regenerate); lakes are rebuilt on every run. DuckDB
# comes from PyPI into the virtualenv under $TALLY_BENCH_DIR that bench/duckdb.sh uses
# (upgraded to 2.x if older). TALLY_BENCH_DUCK_KEYS=plain makes DuckDB's COPYs skip the
# within-file key checks tally does (see bench/ingest_duckdb.py).
source "$(dirname "$0")/common.sh"
sizes=(1 10)
case "${1:-}" in
  "") ;;
  --30m) sizes=(1 10 30) ;;
  *) echo "usage: bench/ingest.sh [--30m]" >&2; exit 2 ;;
esac
[ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"
"$PY" -c "import duckdb, sys; sys.exit(int(duckdb.__version__.split('.')[0]) < 2)" 2>/dev/null \
  || "$WORK/venv/bin/pip" install --quiet --upgrade "duckdb>=2,<3"
GEN="$PWD/bench/gen_exports.py"
DUCK="$PWD/bench/ingest_duckdb.py"
FIVE="$PWD/bench/duckdb_five.py"
SITES="$PWD/data/sites.toml"
ZONE=$(python3 -c "import tomllib; print(tomllib.load(open('$SITES', 'rb'))['library']['timezone'])")
FROM=2024-10-01
TO=2026-10-01
echo "DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)'), tally $("$BIN" --version | cut -d' ' -f2), $(nproc) cores;" \
  "DuckDB keys: ${TALLY_BENCH_DUCK_KEYS:-file}"

# Wall seconds and peak resident MB of one command, into $secs and $mb. Exit 3 is
# ingest's "finished, some rows quarantined": not a failure.
timed() { # out-file, command...
  local out=$1; shift
  local code=0
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$out" 2> "$WORK/err.txt" || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then echo "failed ($code): $*"; cat "$WORK/err.txt"; exit 1; fi
  # GNU time puts "Command exited with non-zero status N" first when N is not 0.
  read -r secs kb < <(tail -n 1 "$WORK/time.txt")
  mb=$((kb / 1024))
}
calc() { python3 -c "print(round($1, 2))"; }
# A field of tally's `ingest --json` (a list of files), summed over the files.
field() { python3 -c "import json; print(sum(f['$2'] for f in json.load(open('$1'))))"; }
formats() { python3 -c "import json; print(' '.join(f['format'] for f in json.load(open('$1'))))"; }
# A field of ingest_duckdb.py's one-line JSON report (a dotted path).
dfield() { python3 -c "import json, functools; print(functools.reduce(lambda d, k: d[k], '$2'.split('.'), json.load(open('$1'))))"; }

declare -A TS TM DS DM NS NM  # "<format>:<size>" -> tally / DuckDB seconds and MB; nightly

ADAPTERS=("envisionware|envisionware.csv|envisionware" "koha-statistics|koha_statistics.csv|koha" "osticket|osticket.csv|osticket")
QUESTIONS=(occupancy_hourly heatmap circulation_yoy resolve_quantiles distinct_patrons)

for m in "${sizes[@]}"; do
  rows=$((m * 1000000))
  ex="$WORK/exports-${m}M"
  dir="$WORK/ingest-${m}M"
  if [ ! -f "$ex/ready" ]; then
    echo; echo "== generating ${m}M-row exports in $ex"
    rm -rf "$ex"
    python3 "$GEN" "$ex" --rows "$rows" --seed 1
    touch "$ex/ready"
  fi
  rm -rf "$dir"; mkdir -p "$dir"

  echo
  echo "== (a) ${m}M: one file per adapter, tally ingest vs DuckDB COPY to Parquet"
  printf '%-16s %10s %8s %9s %9s %9s %9s %7s %7s  %s\n' format rows MB "tally s" "tally MB" "DuckDB s" "DuckDB MB" "time x" "mem x" "rows stored"
  for spec in "${ADAPTERS[@]}"; do
    IFS='|' read -r fmt file mode <<< "$spec"
    timed "$dir/a-$fmt.json" "$BIN" ingest --lake "$dir/a-lake-$fmt" --sites "$SITES" --json "$ex/$file"
    TS[$fmt:$m]=$secs; TM[$fmt:$m]=$mb
    got=$(formats "$dir/a-$fmt.json")
    [ "$got" = "$fmt" ] || echo "  note: tally detected $file as \"$got\", not $fmt"
    read_rows=$(field "$dir/a-$fmt.json" rows_read)
    kept=$(field "$dir/a-$fmt.json" rows_accepted)
    timed "$dir/a-$fmt-duckdb.json" "$PY" "$DUCK" "$mode" "$ex/$file" "$dir/a-$fmt.parquet" "$ZONE"
    DS[$fmt:$m]=$secs; DM[$fmt:$m]=$mb
    dkept=$(dfield "$dir/a-$fmt-duckdb.json" rows)
    if [ "$kept" = "$dkept" ]; then same="$kept both"; else same="tally $kept, DuckDB $dkept"; fi
    printf '%-16s %10d %8.1f %9.2f %9d %9.2f %9d %7.2f %7.2f  %s\n' "$fmt" "$read_rows" \
      "$(python3 -c "import os; print(os.path.getsize('$ex/$file') / 1e6)")" \
      "${TS[$fmt:$m]}" "${TM[$fmt:$m]}" "${DS[$fmt:$m]}" "${DM[$fmt:$m]}" \
      "$(calc "${TS[$fmt:$m]} / max(${DS[$fmt:$m]}, 0.01)")" "$(calc "${TM[$fmt:$m]} / max(${DM[$fmt:$m]}, 1)")" "$same"
  done

  echo
  echo "== (b) ${m}M: the whole job, ingest of the three files then the five questions"
  lake="$dir/lake"
  T=(--lake "$lake" --sites "$SITES" --from "$FROM" --to "$TO" --format csv)
  printf '%-40s %9s %9s\n' "tally step" s MB
  timed "$dir/b-ingest.json" "$BIN" ingest --lake "$lake" --sites "$SITES" --json \
    "$ex/envisionware.csv" "$ex/koha_statistics.csv" "$ex/osticket.csv"
  total=$secs; peak=$mb
  printf '%-40s %9.2f %9d\n' "ingest (3 files)" "$secs" "$mb"
  step() { # label, out-file, metric args...
    local label=$1 out=$2; shift 2
    timed "$out" "$BIN" metric "$@" "${T[@]}"
    total=$(calc "$total + $secs"); peak=$((mb > peak ? mb : peak))
    printf '%-40s %9.2f %9d\n' "$label" "$secs" "$mb"
  }
  step "metric occupancy --every hour" "$dir/t-occupancy_hourly.csv" occupancy --every hour
  step "metric heatmap" "$dir/t-heatmap.csv" heatmap
  step "metric circulation (month, site, yoy)" "$dir/t-circulation_yoy.csv" circulation --every month --by site --yoy
  step "metric hours_to_resolve_median" "$dir/t-resolve_quantiles-p50.csv" hours_to_resolve_median --every month --by priority
  step "metric hours_to_resolve_p90" "$dir/t-resolve_quantiles-p90.csv" hours_to_resolve_p90 --every month --by priority
  step "metric distinct_users (month, site)" "$dir/t-distinct_patrons.csv" distinct_users --every month --by site
  TS[job:$m]=$total; TM[job:$m]=$peak
  timed "$dir/b-duckdb.json" "$PY" "$DUCK" job "$ex/envisionware.csv" "$ex/koha_statistics.csv" "$ex/osticket.csv" \
    "$SITES" "$FROM" "$TO" "$dir/duckdb-job"
  DS[job:$m]=$secs; DM[job:$m]=$mb
  printf '%-40s %9s\n' "DuckDB step (inside one process)" s
  python3 - "$dir/b-duckdb.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for step, s in r["seconds"].items():
    print(f"{step:<40} {s:9.2f}")
PY
  printf '%-40s %9s %9s %9s %9s %7s %7s\n' "" "tally s" "tally MB" "DuckDB s" "DuckDB MB" "time x" "mem x"
  printf '%-40s %9.2f %9d %9.2f %9d %7.2f %7.2f\n' "whole job (total wall, max peak)" "$total" "$peak" "$secs" "$mb" \
    "$(calc "$total / max($secs, 0.01)")" "$(calc "$peak / max($mb, 1)")"
  echo "rows stored: tally $(field "$dir/b-ingest.json" rows_accepted) ($(formats "$dir/b-ingest.json")), DuckDB $(dfield "$dir/b-duckdb.json" rows.sessions) + $(dfield "$dir/b-duckdb.json" rows.circulation) + $(dfield "$dir/b-duckdb.json" rows.work_orders)"
  for q in "${QUESTIONS[@]}"; do
    if [ "$q" = resolve_quantiles ]; then tcsv="$dir/t-$q-p50.csv+$dir/t-$q-p90.csv"; else tcsv="$dir/t-$q.csv"; fi
    if verdict=$("$PY" "$FIVE" check "$q" "$dir/duckdb-job/d-$q.csv" "$tcsv" 2>&1); then
      echo "  answers: $verdict"
    elif [[ $verdict == Traceback* ]]; then
      echo "  answers: $q: check failed: $(tail -n 1 <<< "$verdict")"
    else
      head -n 4 <<< "$verdict" | sed 's/^/  answers: /'
    fi
  done

  echo
  echo "== (c) ${m}M: tally ingest of the nightly file (200 rows) into a copy of this lake"
  night="$WORK/exports-${sizes[0]}M/nightly_envisionware.csv"  # the same file at every size
  rm -rf "$dir/lake-nightly"; cp -a "$lake" "$dir/lake-nightly"
  timed "$dir/c-nightly.json" "$BIN" ingest --lake "$dir/lake-nightly" --sites "$SITES" --json "$night"
  NS[$m]=$secs; NM[$m]=$mb
  printf '%-40s %9.2f s %7d MB   %s rows stored, lake %s\n' "nightly into the ${m}M lake" "$secs" "$mb" \
    "$(field "$dir/c-nightly.json" rows_accepted)" "$(du -sh "$lake" | cut -f1)"
  rm -rf "$dir/lake-nightly"
done

echo
echo "== growth: time x = time ratio / row ratio (1.00 = linear), mem x = peak memory ratio"
for ((i = 1; i < ${#sizes[@]}; i++)); do
  a=${sizes[i - 1]}; b=${sizes[i]}
  echo "${a}M -> ${b}M"
  printf '  %-16s %13s %12s %13s %12s\n' "" "tally time x" "tally mem x" "DuckDB time x" "DuckDB mem x"
  for fmt in envisionware koha-statistics osticket job; do
    printf '  %-16s %13.2f %12.2f %13.2f %12.2f\n' "$([ $fmt = job ] && echo "whole job" || echo "$fmt")" \
      "$(calc "${TS[$fmt:$b]} / max(${TS[$fmt:$a]}, 0.01) / ($b / $a)")" "$(calc "${TM[$fmt:$b]} / max(${TM[$fmt:$a]}, 1)")" \
      "$(calc "${DS[$fmt:$b]} / max(${DS[$fmt:$a]}, 0.01) / ($b / $a)")" "$(calc "${DM[$fmt:$b]} / max(${DM[$fmt:$a]}, 1)")"
  done
done
echo
echo "== nightly ingest against the lake size (tally): ratio to the ${sizes[0]}M lake (1.00 = independent of the lake)"
for m in "${sizes[@]}"; do
  printf '  %-6s %8.2f s %7d MB   time x %5.2f   mem x %5.2f\n' "${m}M" "${NS[$m]}" "${NM[$m]}" \
    "$(calc "${NS[$m]} / max(${NS[${sizes[0]}]}, 0.01)")" "$(calc "${NM[$m]} / max(${NM[${sizes[0]}]}, 1)")"
done
echo
echo "time x and mem x in (a) and (b) are tally / DuckDB: below 1 means tally is faster or smaller."
