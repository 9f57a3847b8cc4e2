#!/usr/bin/env bash
# Source this to run the Java side by hand with exactly the settings the bridge uses (DJL offline,
# DJL's PyTorch engine on the venv's torch libraries, the bridge's DJL cache), all taken from
# djl_bridge/jvm/runtime.py:
#   source scripts/djl-env.sh; java $DJL_JAVA_OPTS -cp "$DJL_CLASSPATH" org.djlparity.Notebook --help
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval "$("$_root/.venv/bin/python" -c 'from djl_bridge.jvm.runtime import shell_exports; print(shell_exports())')"
