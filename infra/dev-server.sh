#!/usr/bin/env bash
# Starts a local Temporal dev server without Docker, using the Temporal CLI
# (https://docs.temporal.io/cli: `brew install temporal` or `curl -sSf https://temporal.download/cli.sh | sh`).
set -euo pipefail
exec temporal server start-dev --ip 127.0.0.1 --port 7233 --ui-port 8233 --db-filename "${TEMPORAL_DB:-.temporal.db}"
