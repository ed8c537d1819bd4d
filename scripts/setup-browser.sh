#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser interop test
# (emulator/tests/browser_interop.rs, which runs this script itself): when no chromium is
# found, installs the `chromium` package with apt-get (apt-get update first). Nothing else
# is downloaded; playwright-core drives this system browser. The JavaScript packages come
# from scripts/setup-node-sdk.sh.
#
#   scripts/setup-browser.sh      # last stdout line: the Chromium executable
#
# Environment: CHROMIUM (an executable to use instead of the search).
# Exit status 3 means Chromium cannot be installed here (not root, no apt-get, or apt
# failed); the test then skips with this script's message.
set -euo pipefail

say() { echo "setup-browser: $*" >&2; }

find_chromium() {
    local c
    for c in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
        if [ -n "$c" ] && [ -x "$c" ]; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

if found="$(find_chromium)"; then
    echo "$found"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "Chromium is not installed and cannot be installed here (needs root and apt-get: 'apt-get install chromium')"
    exit 3
fi
# Serialise concurrent installs (apt has its own lock, but a second run should wait, not fail).
exec 9<"${BASH_SOURCE[0]}"
command -v flock >/dev/null 2>&1 && flock 9
if found="$(find_chromium)"; then
    echo "$found"
    exit 0
fi
say "installing Debian's chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >&2 || ! apt-get install -y -qq --no-install-recommends chromium >&2; then
    say "apt-get could not install chromium (see above)"
    exit 3
fi
found="$(find_chromium)" || {
    say "the chromium package installed no /usr/bin/chromium"
    exit 3
}
say "installed $("$found" --version 2>/dev/null || echo chromium)"
echo "$found"
