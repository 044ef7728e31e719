#!/usr/bin/env bash
# System packages skyshare needs from the distribution. Installs them when we are root
# and they are missing; otherwise says what to run.
#   install-system-deps.sh map   Node.js and npm, which fetch the live map's libraries
#   install-system-deps.sh test  the above, plus the real peers the tests use
#                                (dump1090-mutability, chromium)
# Tests that need a missing peer skip with the reason, so a developer without root
# still gets a useful run.
set -u
want=()
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)
if [ "${1:-test}" = test ]; then
  command -v dump1090-mutability >/dev/null 2>&1 || want+=(dump1090-mutability)
  # the live map's browser test drives Debian's chromium with Playwright (never a
  # downloaded browser: `playwright install` is not used)
  [ -x /usr/bin/chromium ] || want+=(chromium)
fi
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "note: not root; to run the interop tests install: sudo apt-get install -y ${want[*]}" >&2
  exit 0
fi
echo "installing system packages for the tests: ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || echo "warning: apt-get update failed" >&2
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null \
  || echo "warning: could not install ${want[*]}; the tests needing them will skip" >&2
# the Debian package may start a receiver daemon on the default ports; the tests use
# their own ports, but a daemon spinning without a dongle is noise
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now dump1090-mutability >/dev/null 2>&1 || true; fi
exit 0
