#!/usr/bin/env bash
# Source this to run the Java side by hand with the same settings the bridge uses:
# DJL offline, DJL's PyTorch engine on the venv's torch 2.7.1 libraries (one libtorch).
#   source scripts/djl-env.sh; java $DJL_JAVA_OPTS -cp "$DJL_CLASSPATH" org.djlparity.Notebook --help
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTORCH_LIBRARY_PATH="$("$_root/.venv/bin/python" -c 'import importlib.util,os;print(os.path.join(os.path.dirname(importlib.util.find_spec("torch").origin),"lib"))')"
export PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=cpu
export DJL_CACHE_DIR="$_root/.cache/djl" ENGINE_CACHE_DIR="$_root/.cache/djl"
export DJL_CLASSPATH="$_root/java/target/djl-parity-java.jar:$(cat "$_root/java/target/classpath.txt")"
export DJL_JAVA_OPTS="-Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
