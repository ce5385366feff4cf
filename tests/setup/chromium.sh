#!/usr/bin/env bash
# Installs Debian's chromium for the browser test (tests/test_main_docs.py) when it is
# missing. Called by `make test`; needs root (or an existing /usr/bin/chromium).
set -euo pipefail
browser=/usr/bin/chromium
[ -x "$browser" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "chromium is missing at $browser and cannot be installed here (needs root and apt-get):" >&2
  echo "install Debian's chromium package, e.g. 'sudo apt-get install -y chromium'" >&2
  exit 1
fi
echo "installing chromium (Debian package) for the browser test"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
  echo "could not install chromium with apt-get (see above); the browser test needs $browser" >&2
  exit 1
fi
[ -x "$browser" ] || { echo "apt-get did not install $browser" >&2; exit 1; }
