#!/usr/bin/env bash
# Installs the AWS SDK for Python (boto3), pinned with every package it needs in
# scripts/requirements-boto3.txt, into the project-local, gitignored virtual environment
# .venv-boto3/. Used by the S3-dialect interop test (emulator/tests/boto3_interop.rs),
# which runs this script itself.
#
#   scripts/setup-boto3.sh        # then: .venv-boto3/bin/python -c 'import boto3'
#
# - Idempotent: when .venv-boto3/ already holds exactly the pinned set (a stamp records the
#   hash of the requirement files and the interpreter), it returns at once, offline.
# - Network: only the package index pip is configured with (PyPI by default); nothing else.
# - Needs python3 >= 3.10. The venv is made with `python3 -m venv`; where that module or its
#   ensurepip is missing, it falls back to virtualenv, itself installed pinned from PyPI
#   (scripts/requirements-virtualenv.txt) into a temporary directory.
#
# Environment: PYTHON (interpreter, default python3), BOTO3_VENV (target directory,
# default <repo>/.venv-boto3), BOTO3_VENV_TOOL=virtualenv (skip `python3 -m venv`).
# On success the last line on stdout is the path of the venv's python.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BOTO3_VENV:-$root/.venv-boto3}"
requirements="$root/scripts/requirements-boto3.txt"
virtualenv_requirements="$root/scripts/requirements-virtualenv.txt"
python="${PYTHON:-python3}"
stamp="$venv/.boto3-stamp"

say() { echo "setup-boto3: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

command -v "$python" >/dev/null 2>&1 ||
    die "'$python' not found. Install Python 3.10 or newer (e.g. 'apt-get install python3 python3-venv python3-pip'), or set PYTHON=/path/to/python3."
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
    die "$("$python" -V 2>&1) is too old: the pinned boto3 set needs Python 3.10 or newer."

# What the stamp must say for the installed venv to count as current: the exact
# requirement files and the interpreter that built it.
want_stamp="$(
    {
        cat "$requirements" "$virtualenv_requirements"
        "$python" -c 'import sys; print(sys.implementation.name, sys.version)'
    } | "$python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
)"

sdk_version="$(sed -n 's/^boto3==\([^[:space:]]*\).*/\1/p' "$requirements")"
[ -n "$sdk_version" ] || die "$requirements pins no boto3 version"

installed_is_current() {
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] &&
        "$venv/bin/python" -c "
import sys
from importlib.metadata import version
import boto3
sys.exit(0 if version('boto3') == '$sdk_version' else 1)" >/dev/null 2>&1
}

if installed_is_current; then
    echo "$venv/bin/python"
    exit 0
fi

# Serialise concurrent runs (two test binaries, or a developer and a test) where flock
# exists. The lock is taken on the requirements file itself, so no lock file is left behind.
if command -v flock >/dev/null 2>&1; then
    exec 9<"$requirements"
    flock 9
    if installed_is_current; then
        echo "$venv/bin/python"
        exit 0
    fi
fi

pip_in_venv() {
    "$venv/bin/python" -m pip --disable-pip-version-check --no-input "$@"
}

make_venv_with_venv_module() {
    "$python" -c 'import venv, ensurepip' >/dev/null 2>&1 || return 1
    "$python" -m venv "$venv" >&2 && "$venv/bin/python" -m pip --version >/dev/null 2>&1
}

make_venv_with_virtualenv() {
    "$python" -m pip --version >/dev/null 2>&1 ||
        die "neither a working 'venv' module nor pip is available for $python. Install one (e.g. 'apt-get install python3-venv' or 'apt-get install python3-pip')."
    local tool_dir
    tool_dir="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: the directory is fixed
    trap "rm -rf '$tool_dir'" EXIT
    say "installing virtualenv (pinned) into a temporary directory"
    "$python" -m pip --disable-pip-version-check --no-input install --quiet --no-deps \
        --target "$tool_dir" -r "$virtualenv_requirements" >&2 ||
        die "could not install virtualenv from the package index (see pip's message above)"
    # --no-download / --no-periodic-update: seed pip and setuptools from the wheels
    # virtualenv ships, without further network.
    PYTHONPATH="$tool_dir" "$python" -m virtualenv --no-download --no-periodic-update \
        --python "$python" "$venv" >&2 ||
        die "virtualenv could not create $venv"
}

say "creating $venv for boto3==$sdk_version"
rm -rf "$venv"
if [ "${BOTO3_VENV_TOOL:-venv}" = virtualenv ] || ! make_venv_with_venv_module; then
    # A failed `python3 -m venv` (no ensurepip) leaves a half-made directory behind.
    rm -rf "$venv"
    if [ "${BOTO3_VENV_TOOL:-venv}" != virtualenv ]; then
        say "$python has no working venv module (ensurepip missing?); using virtualenv instead"
    fi
    make_venv_with_virtualenv
fi

# The exact set with --no-deps: nothing unpinned can enter, and `pip check` proves
# nothing is missing.
pip_in_venv install --quiet --no-deps -r "$requirements" >&2 ||
    die "could not install $requirements from the package index (see pip's message above)"
pip_in_venv check >&2 || die "the pinned set in $requirements is inconsistent (pip check above)"
"$venv/bin/python" -c 'import boto3, botocore, s3transfer' ||
    die "boto3 installed but does not import"

echo "$want_stamp" >"$stamp"
say "installed boto3==$sdk_version in $venv"
echo "$venv/bin/python"
