"""``python -m checker``: the same command line as ``tim3check``."""

from checker.interfaces.cli import main

main()
