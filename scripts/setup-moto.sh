#!/usr/bin/env bash
# Installs moto 5.2.5 with its server (`moto[server]`), pinned with every package it needs in
# scripts/requirements-moto.txt, into the project-local, gitignored virtual environment
# .venv-moto/. Used by scripts/peers.sh, which runs this script itself.
#
#   scripts/setup-moto.sh        # last stdout line: the path of `moto_server`
#
# Made by scripts/lib/pinned-venv.sh: idempotent (a stamp makes a second run return at
# once, offline), only the package index pip is configured with, the set installed with
# --no-deps and checked by `pip check`.
#
# Environment: PYTHON (interpreter, default python3), MOTO_VENV (target, default <repo>/.venv-moto).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/pinned-venv.sh
. "$root/scripts/lib/pinned-venv.sh"
name=setup-moto
venv="${MOTO_VENV:-$root/.venv-moto}"
requirements="$root/scripts/requirements-moto.txt"
package=moto
imports="moto, flask"
venv_tool=venv
build_backend_first=no
pinned_venv >/dev/null
[ -x "$venv/bin/moto_server" ] || {
    echo "setup-moto: error: moto installed no moto_server under $venv/bin" >&2
    exit 1
}
echo "$venv/bin/moto_server"
