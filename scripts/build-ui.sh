#!/usr/bin/env bash
# Build the web UI into web/dist (the binary embeds it at compile time and serves it at /app).
# Installs the npm packages from web/package-lock.json first when they are missing or stale.
# Needs Node.js 20+ and npm; not needed at runtime.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/web"
STAMP="node_modules/.package-lock.json"
if [ ! -f "$STAMP" ] || [ package-lock.json -nt "$STAMP" ]; then
    echo "build-ui: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
fi
echo "build-ui: npm run build"
npm run build --silent
test -f dist/index.html
