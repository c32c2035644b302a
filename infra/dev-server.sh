#!/usr/bin/env bash
# Starts a local Temporal dev server (SQLite file, UI on :8233) with the Temporal CLI that
# infra/install-temporal.sh put in .tools/bin, or the `temporal` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=.tools/bin/temporal
[ -x "$cli" ] || cli=$(command -v temporal) || { echo "No Temporal CLI: run infra/install-temporal.sh first." >&2; exit 1; }
exec "$cli" server start-dev --ip 127.0.0.1 --port "${TEMPORAL_PORT:-7233}" --ui-port "${TEMPORAL_UI_PORT:-8233}" --db-filename "${TEMPORAL_DB:-.temporal.db}"
