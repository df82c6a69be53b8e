#!/usr/bin/env bash
# Install everything the test suite needs that cargo does not: the MiniLM model files, the
# Python virtualenv with numpy (for the independent reference implementation) and PyYAML (for
# the alert checks), Debian's Chromium (for the web UI's end-to-end test and the drill's
# screenshot), Debian's Prometheus and Alertmanager (ops-check, drill), and the web UI's npm
# packages and build, and the offline IaC checkers (scripts/setup-iac.sh).
# Idempotent; safe to run before every test run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/fetch-model.sh"
"$ROOT/scripts/setup-python.sh" >/dev/null
"$ROOT/scripts/setup-chromium.sh"
"$ROOT/scripts/setup-ops.sh"
"$ROOT/scripts/setup-iac.sh"
"$ROOT/scripts/build-ui.sh"
echo "setup-test: ready (model in models/all-MiniLM-L6-v2, python in .venv/, IaC checkers in .venv-iac/ and .venv-checkov/, chromium, prometheus, alertmanager, web/dist)"
