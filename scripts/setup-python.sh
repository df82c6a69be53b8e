#!/usr/bin/env bash
# Create the project's Python virtualenv (.venv/ at the repo root) with the
# pinned numpy that tools/minilm_reference.py needs, the pinned PyYAML that
# ops/check-alerting.sh needs, and moto's S3-compatible server for the backup tests.
#
# Usage: scripts/setup-python.sh
#
# Idempotent: the venv is created only when missing, and numpy is installed
# only when the pinned version is not already importable from the venv.
# The last line printed is the venv's python path, e.g. for
#   PY="$(scripts/setup-python.sh | tail -n 1)"
set -euo pipefail

# Newest numpy that PyPI offers for Python 3.11 when this was written.
NUMPY_VERSION="2.4.6"
PYYAML_VERSION="6.0.3"
# The S3-compatible server the backup tests run on 127.0.0.1 (moto_server).
MOTO_VERSION="5.2.5"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV_DIR="$REPO_ROOT/.venv"
VENV_PY="$VENV_DIR/bin/python"

log() { printf 'setup-python: %s\n' "$*"; }

if [[ -x "$VENV_PY" ]]; then
    log "virtualenv already exists: $VENV_DIR"
else
    log "creating virtualenv: $VENV_DIR"
    if ! python3 -m venv "$VENV_DIR" 2>/dev/null; then
        # Debian splits venv/ensurepip into python3-venv; install it when we can (as root).
        rm -rf "$VENV_DIR"
        if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
            log "python3 -m venv failed: installing python3-venv from Debian"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv "$VENV_DIR"
        else
            log "error: python3 -m venv failed; install venv support (Debian: apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
fi

if [[ ! -e "$VENV_DIR/.gitignore" ]]; then
    # Keep the venv out of git without touching the root .gitignore.
    printf '# Created by scripts/setup-python.sh; never commit.\n*\n' > "$VENV_DIR/.gitignore"
fi

installed="$("$VENV_PY" -c 'import numpy; print(numpy.__version__)' 2>/dev/null || true)"
if [[ "$installed" == "$NUMPY_VERSION" ]]; then
    log "numpy $NUMPY_VERSION already installed"
else
    if [[ -n "$installed" ]]; then
        log "replacing numpy $installed with numpy==$NUMPY_VERSION"
    else
        log "installing numpy==$NUMPY_VERSION"
    fi
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check "numpy==$NUMPY_VERSION"
    "$VENV_PY" -c 'import numpy; print("setup-python: numpy", numpy.__version__, "importable")'
fi

installed="$("$VENV_PY" -c 'import yaml; print(yaml.__version__)' 2>/dev/null || true)"
if [[ "$installed" == "$PYYAML_VERSION" ]]; then
    log "PyYAML $PYYAML_VERSION already installed"
else
    log "installing PyYAML==$PYYAML_VERSION"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check "PyYAML==$PYYAML_VERSION"
fi

installed="$("$VENV_PY" -c 'import moto, flask; print(moto.__version__)' 2>/dev/null || true)"
if [[ "$installed" == "$MOTO_VERSION" ]]; then
    log "moto $MOTO_VERSION already installed"
else
    log "installing moto[server]==$MOTO_VERSION"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

echo "$VENV_PY"
