#!/usr/bin/env bash
# Validate the OpenAPI document the server serves with a real validator:
# openapi-spec-validator (PyPI), which checks it against the OpenAPI 3.1
# schema (and its JSON Schema dialect), resolves every $ref and checks
# operation ids, path parameters and the like.
#
#   bash scripts/openapi-validate.sh            # build, serve, fetch, validate
#   OPENAPI_JSON=doc.json bash scripts/openapi-validate.sh   # validate a file
#
# What it does: installs openapi-spec-validator into
# $CARGO_TARGET_DIR/openapi-venv (default target/openapi-venv) once (cached),
# builds the server (debug), starts it on a free 127.0.0.1 port with a fresh
# data folder under target/ (the document needs no index: /openapi.json
# answers as soon as the port is bound), writes the document to
# $CARGO_TARGET_DIR/openapi.json, stops the server with SIGTERM and
# validates the file. Exits non-zero when the document is invalid.
#
# Environment: OPENAPI_SPEC_VALIDATOR_VERSION (default 0.9.0), OPENAPI_JSON
# (validate this file instead of a served one), MATCHER_BIN (serve with this
# binary instead of building one: scripts/test.sh passes the one its
# workspace build made), PORT (default: a free one).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${OPENAPI_SPEC_VALIDATOR_VERSION:-0.9.0}"
TARGET="${CARGO_TARGET_DIR:-target}"
VENV="$TARGET/openapi-venv"
WORK="$TARGET/openapi-run"

# 1. The validator, once.
have_validator() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('openapi-spec-validator') != sys.argv[1])" \
      "$VERSION" 2>/dev/null
}
if ! have_validator; then
  echo "openapi-validate: installing openapi-spec-validator $VERSION into $VENV" >&2
  python3 -m venv --clear "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "openapi-spec-validator==$VERSION"
fi

# 2. The document.
DOC="${OPENAPI_JSON:-}"
if [ -z "$DOC" ]; then
  BIN="${MATCHER_BIN:-}"
  if [ -z "$BIN" ]; then
    bash scripts/setup.sh
    cargo build -q -p matcher-http --bin matcher
    BIN="$TARGET/debug/matcher"
  fi
  rm -rf "$WORK"
  mkdir -p "$WORK"
  PORT="${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  ADDR="127.0.0.1:$PORT"
  "$BIN" serve --data "$WORK/data" --addr "$ADDR" --keys "$WORK/keys.tsv" \
    > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  stop_server() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      kill -TERM "$SERVER_PID" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK/data"
  }
  trap stop_server EXIT
  DOC="$TARGET/openapi.json"
  fetched=0
  for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    if curl -sf "http://$ADDR/openapi.json" -o "$DOC" 2>/dev/null; then fetched=1; break; fi
    sleep 0.2
  done
  if [ "$fetched" != 1 ]; then
    echo "openapi-validate: could not fetch http://$ADDR/openapi.json" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
fi

# 3. The check.
# Through the venv's python, not the entry script: a venv moved with its target
# folder keeps a working python but an entry script whose #! names the old path.
"$VENV/bin/python" -m openapi_spec_validator "$DOC"
echo "openapi-validate: $DOC is a valid OpenAPI $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["openapi"])' "$DOC") document" >&2
