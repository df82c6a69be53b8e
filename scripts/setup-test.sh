#!/usr/bin/env bash
# Install everything the test suite needs that cargo does not: the MiniLM model files and
# the Python virtualenv with numpy (for the independent reference implementation).
# Idempotent; safe to run before every test run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/fetch-model.sh"
"$ROOT/scripts/setup-python.sh" >/dev/null
echo "setup-test: ready (model in models/all-MiniLM-L6-v2, python in .venv/)"
