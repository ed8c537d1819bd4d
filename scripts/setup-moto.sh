#!/usr/bin/env bash
# Installs moto 5.2.5 with its server (`moto[server]`), pinned with every package it needs in
# scripts/requirements-moto.txt, into the project-local, gitignored virtual environment
# .venv-moto/. Used by scripts/peers.sh, which runs this script itself.
#
#   scripts/setup-moto.sh        # last stdout line: the path of `moto_server`
#
# - Idempotent: a stamp (hash of the requirement file and the interpreter) makes a second
#   run return at once, offline.
# - Network: only the package index pip is configured with. The set is installed with
#   --no-deps, so nothing unpinned enters; `pip check` proves nothing is missing.
#
# Environment: PYTHON (interpreter, default python3), MOTO_VENV (target, default <repo>/.venv-moto).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MOTO_VENV:-$root/.venv-moto}"
requirements="$root/scripts/requirements-moto.txt"
python="${PYTHON:-python3}"
stamp="$venv/.moto-stamp"

say() { echo "setup-moto: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

command -v "$python" >/dev/null 2>&1 || die "'$python' not found (apt-get install python3 python3-venv)"
want="$({
    cat "$requirements"
    "$python" -c 'import sys; print(sys.version)'
} | sha256sum | cut -d' ' -f1)"
current() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/moto_server" ]; }
if current; then
    echo "$venv/bin/moto_server"
    exit 0
fi
# Two callers at once (peers.sh and a test) install once: the second waits, then finds it.
if command -v flock >/dev/null 2>&1; then
    exec 9<"$requirements"
    flock 9
    if current; then
        echo "$venv/bin/moto_server"
        exit 0
    fi
fi
say "creating $venv for $(grep -E '^moto==' "$requirements")"
rm -rf "$venv"
"$python" -m venv "$venv" >&2 || die "could not create $venv (is python3-venv installed?)"
pip() { "$venv/bin/python" -m pip --disable-pip-version-check --no-input "$@"; }
pip install --quiet --no-deps -r "$requirements" >&2 ||
    die "could not install $requirements (see pip's message above)"
problems="$(pip check 2>&1 | grep -v '^No broken requirements' || true)"
[ -z "$problems" ] || die "the pinned set in $requirements is inconsistent: $problems"
[ -x "$venv/bin/moto_server" ] || die "moto installed no moto_server under $venv/bin"
echo "$want" >"$stamp"
say "installed moto in $venv"
echo "$venv/bin/moto_server"
