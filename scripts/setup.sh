#!/usr/bin/env bash
# One-time (and idempotent) set-up on a fresh machine: venv, Python packages (torch 2.7.1, JPype, ...),
# DJL's jars from Maven Central and the Java side's build. Needs Python 3.11+, a JDK 17+ and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
fail() { echo "setup: $*" >&2; exit 3; }
command -v "$PY" >/dev/null || fail "$PY not found: install Python 3.11+ (or set PYTHON=...)."
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || fail "Python 3.11+ needed, found $("$PY" -V 2>&1)."
command -v java >/dev/null || fail "java not found: install a JDK 17+ (Debian: apt-get install openjdk-17-jdk)."
command -v mvn >/dev/null || fail "mvn not found: install Maven 3.8+ (Debian: apt-get install maven)."
[ -x .venv/bin/python ] || "$PY" -m venv .venv
echo "setup: Python packages (the first time this downloads torch 2.7.1 and its CUDA wheels, a few GB, and Ray)"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,sweep]'  # sweep: Ray, for djl-parity sweep
echo "setup: Java side (Maven; the first time this downloads DJL 0.35.1's and DJL 0.23.0 + MXNet 1.9.1's jars)"
.venv/bin/djl-parity setup
