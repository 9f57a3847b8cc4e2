#!/usr/bin/env bash
# Set up everything (idempotent), lint, then run the whole test suite against the real JVM, DJL and PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: lint (ruff check, ruff format --check)"
.venv/bin/ruff check --no-cache .
.venv/bin/ruff format --no-cache --check .
exec .venv/bin/python -m pytest parity_tests "$@"
