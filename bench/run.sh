#!/usr/bin/env bash
# Benchmarks: ingest rows/s and metric wall time and peak memory on synthetic lakes of
# about 1M and 10M public-computer sessions. Prints figures; asserts nothing (the machine
# is shared and noisy: compare runs, not thresholds).
#
#   bench/run.sh            # 1M and 10M sessions
#   bench/run.sh 1          # only 1M
#
# It uses the same dev build as `cargo run` and the tests (dependencies optimised).
source "$(dirname "$0")/common.sh"
sizes=("${@:-1 10}")
[ $# -gt 0 ] || sizes=(1 10)

# GNU time: wall seconds and peak resident memory of one command.
measure() { # label, command...
  local label=$1; shift
  # Exit 3 is ingest's "finished, some rows quarantined": the synthetic data plant a few.
  local code=0
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then cat "$WORK/err.txt"; exit 1; fi
  # GNU time puts "Command exited with non-zero status N" first when N is not 0.
  read -r secs kb < <(tail -n 1 "$WORK/time.txt")
  printf '%-48s %8.2f s %8.0f MB\n' "$label" "$secs" "$((kb / 1024))"
}

for m in "${sizes[@]}"; do
  # The demo library at scale 1 has ~0.72M sessions over 25 months.
  scale=$(python3 -c "print(round($m / 0.7246, 3))")
  dir="$WORK/$m"
  rm -rf "$dir"; mkdir -p "$dir"
  echo "== ~${m}M sessions (synth --scale $scale)"
  measure "synth" "$BIN" synth --out "$dir/inbox" --scale "$scale"
  sessions=$(grep -o 'wrote [0-9]*' "$WORK/out.txt" | grep -o '[0-9]*')
  mapfile -t files < <(ls "$dir"/inbox/envisionware/*.csv "$dir"/inbox/libki/*.csv)
  measure "ingest (${#files[@]} files)" "$BIN" ingest --lake "$dir/lake" --sites "$dir/inbox/sites.toml" --json "${files[@]}"
  rows=$(python3 -c "import json;print(sum(f['rows_read'] for f in json.load(open('$WORK/out.txt'))))")
  secs=$(tail -n 1 "$WORK/time.txt" | cut -d' ' -f1)
  printf '%-48s %8s\n' "sessions / input rows" "$sessions / $rows"
  printf '%-48s %8.0f rows/s\n' "ingest throughput" "$(python3 -c "print($rows / $secs)")"
  S=(--lake "$dir/lake" --sites "$dir/inbox/sites.toml" --format csv)
  measure "metric occupancy --every hour" "$BIN" metric occupancy --every hour "${S[@]}"
  measure "metric occupancy --every hour --by site" "$BIN" metric occupancy --every hour --by site "${S[@]}"
  measure "metric sessions --every month --by site" "$BIN" metric sessions --every month --by site "${S[@]}"
  measure "metric distinct_users --every month --by site" "$BIN" metric distinct_users --every month --by site "${S[@]}"
  measure "metric heatmap" "$BIN" metric heatmap "${S[@]}"
  measure "metric occupancy, one month (pruned scan)" "$BIN" metric occupancy --from 2026-09-01 --to 2026-10-01 --every day "${S[@]}"
  du -sh "$dir/lake" | awk '{printf "%-48s %8s\n", "lake size", $1}'
done
