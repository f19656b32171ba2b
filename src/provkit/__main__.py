"""``python -m provkit``: the same command line as the ``provkit`` script."""

from provkit.cli import main

main()
