"""Click options shared by several commands, defined once so they read the same everywhere."""

from __future__ import annotations

import click

# Every command that reads rule packs.
rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False),
    help="Use the rule packs in this directory instead of the shipped ones.",
)

# Every command that writes a report to a file or standard output.
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(allow_dash=True, dir_okay=False, writable=True),
    default="-",
    help="Write the report here (default: standard output).",
)
