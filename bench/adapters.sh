#!/usr/bin/env bash
# Rows per second of each adapter on about a million rows: one synthetic month at
# --scale 50 (EnvisionWare, Libki, Symphony, Meraki JSON). Prints figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
BIN="$PWD/target/debug/tally"
WORK="${TALLY_BENCH_DIR:-/tmp/tally-bench-adapters}"
export TALLY_KEY="bench-key-not-secret-0123456789"
rm -rf "$WORK"; mkdir -p "$WORK"
"$BIN" synth --out "$WORK/inbox" --days 31 --scale 50 --no-malformed > /dev/null
run() { # label, extra args, files...
  local label=$1 extra=$2; shift 2
  local lake="$WORK/lake-$label"
  local code=0
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$BIN" ingest --lake "$lake" --sites "$WORK/inbox/sites.toml" --json $extra "$@" > "$WORK/out.json" 2>/dev/null || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then echo "$label failed ($code)"; return; fi
  read -r secs kb < <(tail -n 1 "$WORK/time.txt")
  rows=$(python3 -c "import json;print(sum(f['rows_read'] for f in json.load(open('$WORK/out.json'))))")
  mb=$(du -cb "$@" | tail -1 | cut -f1)
  printf '%-16s %9d rows %7.1f MB in %6.2f s  %9.0f rows/s  peak %5d MB\n' "$label" "$rows" "$(python3 -c "print($mb/1e6)")" "$secs" "$(python3 -c "print($rows/$secs)")" "$((kb/1024))"
}
run envisionware "" "$WORK"/inbox/envisionware/*.csv
run libki "" "$WORK"/inbox/libki/*.csv
run symphony-hist "--strip-prefix EPL" "$WORK"/inbox/symphony/*.hist
run meraki-json "--site CEN" "$WORK"/inbox/meraki/*/*.json
