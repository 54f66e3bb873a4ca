#!/usr/bin/env bash
# Install what the benchmark report needs beyond scripts/setup.sh:
# - wrk: the HTTP load generator for the report's /v1/match and /healthz
#   sections (Debian package). Without it the report skips HTTP with a note.
# Idempotent: does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

need_apt=()
if ! command -v wrk >/dev/null 2>&1; then
  need_apt+=(wrk)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "bench-deps: installing ${need_apt[*]} (Debian packages)" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v wrk >/dev/null && echo "bench-deps: $(wrk --version 2>&1 | head -n 1)" >&2 || true
