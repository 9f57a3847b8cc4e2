"""`python -m djl_bridge.cli`."""

from djl_bridge.cli import main

main()
