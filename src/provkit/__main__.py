"""``python -m provkit``: the same command line as the ``provkit`` script."""

from provkit.interfaces.cli import main

main()
