#!/usr/bin/env bash
# Installs coscmd, pinned with every package it needs in scripts/requirements-coscmd.txt,
# into the project-local, gitignored virtual environment .venv-coscmd/. Used by the coscmd
# interop test (emulator/tests/coscmd_interop.rs), which runs this script itself.
#
#   scripts/setup-coscmd.sh        # last stdout line: the venv's python
#
# - Idempotent: a stamp (hash of the requirement file and the interpreter) makes a second
#   run return at once, offline.
# - Network: only the package index pip is configured with. The build backend is installed
#   first (crcmod is a source distribution) and the set with --no-deps --no-build-isolation,
#   so nothing unpinned enters; `pip check` proves nothing is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${COS_COSCMD_VENV:-$root/.venv-coscmd}"
requirements="$root/scripts/requirements-coscmd.txt"
python="${PYTHON:-python3}"
stamp="$venv/.coscmd-stamp"

say() { echo "setup-coscmd: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

command -v "$python" >/dev/null 2>&1 || die "'$python' not found (apt-get install python3 python3-venv)"
want="$({
    cat "$requirements"
    "$python" -c 'import sys; print(sys.version)'
} | sha256sum | cut -d' ' -f1)"
current() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import coscmd, qcloud_cos' 2>/dev/null; }
if current; then
    echo "$venv/bin/python"
    exit 0
fi
if command -v flock >/dev/null 2>&1; then
    exec 9<"$requirements"
    flock 9
    if current; then
        echo "$venv/bin/python"
        exit 0
    fi
fi
say "creating $venv for $(grep -E '^coscmd==' "$requirements")"
rm -rf "$venv"
"$python" -m venv "$venv" >&2 || die "could not create $venv (is python3-venv installed?)"
pip() { "$venv/bin/python" -m pip --disable-pip-version-check --no-input "$@"; }
pip install --quiet "$(grep -E '^setuptools==' "$requirements")" >&2 || die "could not install setuptools"
pip install --quiet --no-deps --no-build-isolation -r "$requirements" >&2 ||
    die "could not install $requirements (see pip's message above)"
# coscmd declares `argparse`, the Python 2 backport: the standard library's module is
# what it imports on Python 3, so that one complaint of pip check is expected.
problems="$(pip check 2>&1 | grep -v '^coscmd [0-9.]* requires argparse, which is not installed\.$' | grep -v '^No broken requirements' || true)"
[ -z "$problems" ] || die "the pinned set in $requirements is inconsistent: $problems"
echo "$want" >"$stamp"
say "installed coscmd in $venv"
echo "$venv/bin/python"
