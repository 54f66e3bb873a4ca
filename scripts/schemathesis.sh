#!/usr/bin/env bash
# Fuzz the running REST server against its own OpenAPI document with
# schemathesis (from PyPI), failing on any 5xx or schema violation.
#
#   bash scripts/schemathesis.sh                 # coordinator key, 20 examples per operation
#   ROLE=admin bash scripts/schemathesis.sh      # also exercise the write routes
#   MAX_EXAMPLES=50 SEED=7 bash scripts/schemathesis.sh
#
# What it does: builds the server (debug), starts it on a free 127.0.0.1
# port with a fresh data folder under target/ (the bundled fixtures are
# loaded into it) and a key file holding the hash of a new random key,
# installs schemathesis into target/schemathesis-venv once (cached), runs it
# against /openapi.json with the checks not_a_server_error and
# response_schema_conformance, then stops the server with SIGTERM (graceful
# shutdown) and exits with schemathesis's status.
#
# Environment: ROLE (coordinator|admin|portal, default coordinator),
# MAX_EXAMPLES (default 20), SEED (default 1), SCHEMATHESIS_VERSION
# (default 4.32.5), PORT (default: a free one), KEEP_DATA=1 to keep the
# data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

ROLE="${ROLE:-coordinator}"
MAX_EXAMPLES="${MAX_EXAMPLES:-20}"
SEED="${SEED:-1}"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
TARGET="${CARGO_TARGET_DIR:-target}"
VENV="$TARGET/schemathesis-venv"
WORK="$TARGET/schemathesis-run"

case "$ROLE" in admin|coordinator|portal) ;; *) echo "ROLE must be admin, coordinator or portal" >&2; exit 2;; esac

# 1. The tool, once.
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "schemathesis.sh: installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# 2. The server.
cargo build -q -p matcher-http --bin matcher
rm -rf "$WORK"
mkdir -p "$WORK"
KEY="mk_schemathesis_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
printf 'schemathesis\t%s\t%s\n' "$ROLE" "$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)" > "$WORK/keys.tsv"
PORT="${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
ADDR="127.0.0.1:$PORT"
ARGS=(--data "$WORK/data" --addr "$ADDR" --keys "$WORK/keys.tsv")

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap stop_server EXIT

start() {
  "$@" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
    if curl -sf "http://$ADDR/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "schemathesis.sh: the server did not become ready in 120 s" >&2
  cat "$WORK/server.log" >&2
  exit 1
}

start "$TARGET/debug/matcher" serve "${ARGS[@]}" || { cat "$WORK/server.log" >&2; exit 1; }
echo "schemathesis.sh: server ready on $ADDR (role $ROLE, $MAX_EXAMPLES examples per operation)" >&2

# 3. The run.
set +e
"$VENV/bin/schemathesis" run "http://$ADDR/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 30 \
  --header "Authorization: Bearer $KEY" \
  --suppress-health-check all \
  --report junit --report-dir "$WORK/report" \
  --output-sanitize true
STATUS=$?
set -e
if grep -q "panicked" "$WORK/server.log"; then
  echo "schemathesis.sh: the server log has a panic:" >&2
  grep -n -A3 "panicked" "$WORK/server.log" >&2
  STATUS=1
fi
echo "schemathesis.sh: schemathesis exited with $STATUS (server log: $WORK/server.log, report: $WORK/report)" >&2
exit "$STATUS"
