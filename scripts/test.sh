#!/usr/bin/env bash
# Set up everything (idempotent), then run the whole test suite against the real JVM, DJL and PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest parity_tests "$@"
