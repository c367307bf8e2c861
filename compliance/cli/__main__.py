"""``python -m compliance.cli``: the same command as the ``compliance`` console script."""

from compliance.cli import main

main()
