#!/usr/bin/env bash
# Installs the pinned JavaScript clients of the interop tests — cos-nodejs-sdk-v5 (Node.js
# SDK), cos-js-sdk-v5 (browser SDK, served from disk to the page, no CDN) and
# playwright-core (drives the system Chromium; it downloads no browser) — exactly as
# interop/package-lock.json pins them, with `npm ci`, into the project-local, gitignored
# interop/node_modules/. Used by emulator/tests/node_interop.rs and browser_interop.rs,
# which run this script themselves.
#
#   scripts/setup-node-sdk.sh      # last stdout line: the interop/ directory
#
# - Idempotent: when node_modules holds exactly the locked set (a stamp records the hash of
#   package.json, package-lock.json and the node version), it returns at once, offline.
# - Network: only the npm registry npm is configured with; --ignore-scripts, so no package
#   runs an install script (none of the three needs one).
# - Needs node >= 18 and npm; where they are missing, installs Debian's `nodejs` and `npm`
#   with apt-get (as root) rather than failing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/interop"
stamp="$dir/node_modules/.cos-interop-stamp"

say() { echo "setup-node-sdk: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "node/npm missing: installing Debian's nodejs and npm"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2 ||
            die "apt-get install nodejs npm failed"
    else
        die "node and npm are needed (e.g. 'apt-get install nodejs npm')"
    fi
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
    die "node $(node --version) is too old: the pinned packages need node 18 or newer"

want_stamp="$(cat "$dir/package.json" "$dir/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)"
installed_is_current() {
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]
}
if installed_is_current; then
    echo "$dir"
    exit 0
fi
# Serialise concurrent runs (the two test binaries, or a developer and a test).
if command -v flock >/dev/null 2>&1; then
    exec 9<"$dir/package-lock.json"
    flock 9
    if installed_is_current; then
        echo "$dir"
        exit 0
    fi
fi
say "installing the locked packages into $dir/node_modules (npm ci)"
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) ||
    die "npm ci failed (see npm's message above)"
(cd "$dir" && node -e 'require("cos-nodejs-sdk-v5"); require("playwright-core"); require("@aws-sdk/client-s3"); require("@aws-sdk/lib-storage"); require("@aws-sdk/s3-request-presigner"); require.resolve("cos-js-sdk-v5/dist/cos-js-sdk-v5.min.js")') ||
    die "the packages installed but do not load"
echo "$want_stamp" >"$stamp"
say "installed $(cd "$dir" && node -p 'Object.entries(require("./package.json").dependencies).map(([n, v]) => n + "@" + v).join(", ")')"
echo "$dir"
