#!/usr/bin/env bash
# The handout test opens pages in headless Chromium (Debian's package). Install it when missing and
# we may (root, or sudo without a password); otherwise say how, and let that test explain itself.
set -u
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "note: chromium is not installed; the handout test needs it: sudo apt-get install -y chromium" >&2
  exit 0
fi
echo "installing chromium (Debian package) for the handout test…" >&2
$SUDO apt-get update -qq >/dev/null && \
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
  echo "note: could not install chromium; the handout test will fail until it is installed" >&2
exit 0
