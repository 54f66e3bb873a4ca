#!/usr/bin/env bash
# The tests: everything CI runs. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
# Build every target (benches included, so they never rot), then run the tests.
cargo build --workspace --all-targets
cargo test --workspace
