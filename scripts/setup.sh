#!/usr/bin/env bash
# Install what matcher needs on a fresh machine of this kind (Debian + Rust).
# Idempotent: does nothing when everything is there.
#
# - mecab-ipadic: the IPADIC dictionary source (Debian package). matcher builds
#   its lindera dictionary from it on first use, into ~/.cache/matcher
#   (override with MATCHER_DICT_DIR; point MATCHER_IPADIC_SRC at another source).
set -euo pipefail

need_apt=()
if [ -z "${MATCHER_IPADIC_SRC:-}" ] && [ ! -f /usr/share/mecab/dic/ipadic/matrix.def ]; then
  need_apt+=(mecab-ipadic)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (Debian packages)" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
