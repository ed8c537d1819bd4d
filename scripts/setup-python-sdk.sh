#!/usr/bin/env bash
# Installs the official Tencent COS Python SDK (cos-python-sdk-v5), pinned with every
# package it needs in scripts/requirements-sdk.txt, into the project-local, gitignored
# virtual environment .venv-sdk/. Used by fixtures/vectors/generate.py and by the
# official-SDK interop test (emulator/tests/sdk_interop.rs), which runs this script itself.
#
#   scripts/setup-python-sdk.sh        # then: .venv-sdk/bin/python -c 'import qcloud_cos'
#
# - Idempotent: when .venv-sdk/ already holds exactly the pinned set (a stamp records the
#   hash of the requirement files and the interpreter), it returns at once, offline.
# - Network: only the package index pip is configured with (PyPI by default); nothing else.
# - Needs python3 >= 3.10 (the pinned requests/urllib3 require it). The venv is made with
#   `python3 -m venv`; where that module or its ensurepip is missing (Debian without
#   python3-venv), it falls back to virtualenv, itself installed pinned from PyPI
#   (scripts/requirements-virtualenv.txt) into a temporary directory. Nothing installed by
#   hand is relied on.
#
# Environment: PYTHON (interpreter, default python3), COS_SDK_VENV (target directory,
# default <repo>/.venv-sdk), COS_SDK_VENV_TOOL=virtualenv (skip `python3 -m venv`).
# On success the last line on stdout is the path of the venv's python.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/pinned-venv.sh
. "$root/scripts/lib/pinned-venv.sh"
name=setup-python-sdk
venv="${COS_SDK_VENV:-$root/.venv-sdk}"
requirements="$root/scripts/requirements-sdk.txt"
package=cos-python-sdk-v5
imports="qcloud_cos, crcmod, requests"
venv_tool="${COS_SDK_VENV_TOOL:-venv}"
# crcmod is a source distribution: setuptools (pinned in the file) goes in first.
build_backend_first=yes
pinned_venv
