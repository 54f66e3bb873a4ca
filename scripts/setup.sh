#!/usr/bin/env bash
# Install what matcher needs on a fresh machine of this kind (Debian + Rust).
# Idempotent: does nothing when everything is there.
#
# - mecab-ipadic: the IPADIC dictionary source (Debian package). matcher builds
#   its lindera dictionary from it on first use, into ~/.cache/matcher
#   (override with MATCHER_DICT_DIR; point MATCHER_IPADIC_SRC at another source).
# - chromium, chromium-driver: the headless browser of the console's
#   end-to-end tests (matcher-http/tests/console.rs), and fonts-ipafont-gothic
#   so that Japanese renders in its screenshots. Skip with MATCHER_NO_BROWSER=1
#   (then set MATCHER_SKIP_BROWSER_TESTS=1 too, or those tests fail).
set -euo pipefail

need_apt=()
if [ -z "${MATCHER_IPADIC_SRC:-}" ] && [ ! -f /usr/share/mecab/dic/ipadic/matrix.def ]; then
  need_apt+=(mecab-ipadic)
fi
if [ "${MATCHER_NO_BROWSER:-0}" != 1 ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
  [ -d /usr/share/fonts/opentype/ipafont-gothic ] || need_apt+=(fonts-ipafont-gothic)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (Debian packages)" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
