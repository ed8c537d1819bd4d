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
# shellcheck source=scripts/lib/pinned-venv.sh
. "$root/scripts/lib/pinned-venv.sh"
name=setup-boto3
venv="${BOTO3_VENV:-$root/.venv-boto3}"
requirements="$root/scripts/requirements-boto3.txt"
package=boto3
imports="boto3, botocore, s3transfer"
venv_tool="${BOTO3_VENV_TOOL:-venv}"
build_backend_first=no
pinned_venv
