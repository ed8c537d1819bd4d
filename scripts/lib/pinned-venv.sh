# shellcheck shell=bash
# One pinned Python virtual environment, made the same way for every project script that
# needs one (scripts/setup-python-sdk.sh, setup-boto3.sh, setup-coscmd.sh, setup-moto.sh):
# sourced, then
# `pinned_venv` with these variables set by the caller:
#
#   name          the script's name in messages
#   venv          the target directory (project-local, gitignored)
#   requirements  the requirement file: the whole set, every version pinned
#   package       the package whose pinned version the stamp check confirms
#   imports       what `python -c "import ..."` must accept once installed
#   venv_tool     `virtualenv` to skip `python3 -m venv` (else the module is tried first)
#   build_backend_first  `yes` when a source distribution in the set needs setuptools
#                 (pinned in the file) installed before the rest
#   pip_check_ignore  an extended regex of `pip check` lines that are expected (optional)
#
# - Idempotent: when the venv already holds exactly the pinned set (a stamp records the
#   requirement files and the interpreter), it returns at once, offline.
# - Needs python3 >= 3.10. Where `python3 -m venv` or its ensurepip is missing (Debian
#   without python3-venv), it falls back to virtualenv, itself installed pinned from PyPI
#   (scripts/requirements-virtualenv.txt) into a temporary directory.
# - The set is installed with --no-deps: nothing unpinned enters, and `pip check` proves
#   nothing is missing. Concurrent runs are serialised with flock where it exists.
# On success the last line on stdout is the path of the venv's python.

pinned_venv() {
    local root virtualenv_requirements python stamp want_stamp version
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    virtualenv_requirements="$root/scripts/requirements-virtualenv.txt"
    python="${PYTHON:-python3}"
    stamp="$venv/.pinned-stamp"

    say() { echo "$name: $*" >&2; }
    die() {
        say "error: $*"
        exit 1
    }

    command -v "$python" >/dev/null 2>&1 ||
        die "'$python' not found. Install Python 3.10 or newer (e.g. 'apt-get install python3 python3-venv python3-pip'), or set PYTHON=/path/to/python3."
    "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
        die "$("$python" -V 2>&1) is too old: the pinned set needs Python 3.10 or newer."

    want_stamp="$(
        {
            cat "$requirements" "$virtualenv_requirements"
            "$python" -c 'import sys; print(sys.implementation.name, sys.version)'
        } | "$python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
    )"
    version="$(sed -n "s/^$package==\([^[:space:]]*\).*/\1/p" "$requirements")"
    [ -n "$version" ] || die "$requirements pins no $package version"

    installed_is_current() {
        [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] &&
            "$venv/bin/python" -c "
import sys
from importlib.metadata import version
import $imports
sys.exit(0 if version('$package') == '$version' else 1)" >/dev/null 2>&1
    }
    if installed_is_current; then
        echo "$venv/bin/python"
        return 0
    fi
    # The lock is taken on the requirements file itself, so no lock file is left behind.
    if command -v flock >/dev/null 2>&1; then
        exec 9<"$requirements"
        flock 9
        if installed_is_current; then
            echo "$venv/bin/python"
            return 0
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

    say "creating $venv for $package==$version"
    rm -rf "$venv"
    if [ "${venv_tool:-venv}" = virtualenv ] || ! make_venv_with_venv_module; then
        # A failed `python3 -m venv` (no ensurepip) leaves a half-made directory behind.
        rm -rf "$venv"
        if [ "${venv_tool:-venv}" != virtualenv ]; then
            say "$python has no working venv module (ensurepip missing?); using virtualenv instead"
        fi
        make_venv_with_virtualenv
    fi

    local isolation=()
    if [ "${build_backend_first:-no}" = yes ]; then
        local setuptools_pin
        setuptools_pin="$(grep -E '^setuptools==' "$requirements")" ||
            die "$requirements pins no setuptools version"
        pip_in_venv install --quiet "$setuptools_pin" >&2 ||
            die "could not install $setuptools_pin from the package index (see pip's message above)"
        isolation=(--no-build-isolation)
    fi
    pip_in_venv install --quiet --no-deps "${isolation[@]}" -r "$requirements" >&2 ||
        die "could not install $requirements from the package index (see pip's message above)"
    local problems
    problems="$(pip_in_venv check 2>&1 | grep -v '^No broken requirements' |
        grep -Ev "${pip_check_ignore:-^\$}" || true)"
    [ -z "$problems" ] || die "the pinned set in $requirements is inconsistent: $problems"
    "$venv/bin/python" -c "import $imports" || die "$package installed but does not import"

    echo "$want_stamp" >"$stamp"
    say "installed $package==$version in $venv"
    echo "$venv/bin/python"
}
