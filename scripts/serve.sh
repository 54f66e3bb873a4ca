#!/usr/bin/env bash
# The main job: the matcher REST server on the bundled fixtures.
# First start with an empty data folder loads fixtures/; keys are printed once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec cargo run --release -p matcher-http --bin matcher -- serve "$@"
