#!/usr/bin/env bash
# Install what the benchmark report needs beyond scripts/setup.sh:
# - wrk: the HTTP load generator for the report's /v1/match and /healthz
#   sections (Debian package). Without it the report skips HTTP with a note.
# - bm25s (PyPI), pinned, with numpy, in a venv at $CARGO_TARGET_DIR/bench-venv
#   (default target/bench-venv): the plain-BM25 baseline the report measures
#   in the same run (benches/bm25s_baseline.py, issue #13). Without the venv
#   the report's bm25s section says skipped. A failed pip install is not an
#   error here (CI goes on, the section says skipped); the venv is removed so
#   that a half-installed one is never used.
# Idempotent: does nothing when everything is there.
#
# Environment: BM25S_VERSION (default 0.3.16), NUMPY_VERSION (default 2.4.6),
# BENCH_VENV (default $CARGO_TARGET_DIR/bench-venv).
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

# bm25s. scipy is not installed: bm25s builds its index with its numpy
# backend by default (csc_backend="numpy"), and numba (its faster, JIT
# backend) is left out on purpose: compiling it would cost CI tens of seconds.
BM25S_VERSION="${BM25S_VERSION:-0.3.16}"
NUMPY_VERSION="${NUMPY_VERSION:-2.4.6}"
VENV="${BENCH_VENV:-${CARGO_TARGET_DIR:-target}/bench-venv}"
have_bm25s() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('bm25s') != sys.argv[1] or m.version('numpy') != sys.argv[2])" \
      "$BM25S_VERSION" "$NUMPY_VERSION" 2>/dev/null
}
if ! have_bm25s; then
  echo "bench-deps: installing bm25s $BM25S_VERSION, numpy $NUMPY_VERSION into $VENV" >&2
  if python3 -m venv --clear "$VENV" &&
    "$VENV/bin/pip" install -q --disable-pip-version-check \
      "bm25s==$BM25S_VERSION" "numpy==$NUMPY_VERSION" &&
    have_bm25s; then
    :
  else
    echo "bench-deps: could not install bm25s; the report will skip its bm25s section" >&2
    rm -rf "$VENV"
  fi
fi
have_bm25s && echo "bench-deps: bm25s $BM25S_VERSION (numpy $NUMPY_VERSION) in $VENV" >&2 || true
