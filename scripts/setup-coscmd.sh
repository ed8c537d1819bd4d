#!/usr/bin/env bash
# Installs coscmd, pinned with every package it needs in scripts/requirements-coscmd.txt,
# into the project-local, gitignored virtual environment .venv-coscmd/. Used by the coscmd
# interop test (emulator/tests/coscmd_interop.rs), which runs this script itself.
#
#   scripts/setup-coscmd.sh        # last stdout line: the venv's python
#
# Made by scripts/lib/pinned-venv.sh: idempotent (a stamp makes a second run return at
# once, offline), only the package index pip is configured with, the set installed with
# --no-deps and checked by `pip check`. The build backend is installed first (crcmod is a
# source distribution).
#
# Environment: PYTHON (interpreter, default python3), COS_COSCMD_VENV (target directory,
# default <repo>/.venv-coscmd).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/pinned-venv.sh
. "$root/scripts/lib/pinned-venv.sh"
name=setup-coscmd
venv="${COS_COSCMD_VENV:-$root/.venv-coscmd}"
requirements="$root/scripts/requirements-coscmd.txt"
package=coscmd
imports="coscmd, qcloud_cos"
venv_tool=venv
build_backend_first=yes
# coscmd declares `argparse`, the Python 2 backport: the standard library's module is what
# it imports on Python 3, so that one complaint of pip check is expected.
pip_check_ignore='^coscmd [0-9.]+ requires argparse, which is not installed\.$'
pinned_venv
