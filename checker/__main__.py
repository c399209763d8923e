"""``python -m checker``: the same command line as ``tim3check``."""

from checker.cli import main

main()
