#!/usr/bin/env bash
# The tests: everything CI runs. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
# Build every target (benches included, so they never rot), then run the tests.
cargo build --workspace --all-targets
cargo test --workspace
# The embedding example: matcher-core used as a library with the reference
# data bundled in the crate (no fixtures path); it checks what it gets and
# fails on a wrong answer. The crate doc's example runs above as a doctest.
cargo run -p matcher-core --example embed
# The OpenAPI document the server serves, checked by a real validator
# (openapi-spec-validator from PyPI), with the binary built above.
MATCHER_BIN="${CARGO_TARGET_DIR:-target}/debug/matcher" bash scripts/openapi-validate.sh
# The benchmark report at 10k companies, so it never rots (issue #7). A smoke
# run in the dev profile: it must work, not be fast, and nothing fails on a
# timing. The numbers in benches/REPORT.md come from release builds (README).
if [ "${MATCHER_SKIP_BENCH_REPORT:-0}" != 1 ]; then
  bash scripts/bench-deps.sh
  # The binaries the build above made (`cargo run` would rebuild them with
  # the features of a non-test build).
  "${CARGO_TARGET_DIR:-target}/debug/matcher-benches" report --companies 10000 --http-secs 2 \
    --out target/bench-report/ci
fi
