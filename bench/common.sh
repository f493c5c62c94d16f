# Sourced by the bench scripts: one dev build (dependencies optimised, as `cargo run`
# and the tests use), the binary, a work folder and a key that is not a secret.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --quiet
BIN="$PWD/target/debug/tally"
WORK="${TALLY_BENCH_DIR:-/tmp/tally-bench}"
export TALLY_KEY="bench-key-not-secret-0123456789"
mkdir -p "$WORK"
