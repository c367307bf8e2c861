"""Click options shared by several commands, defined once so they read the same everywhere."""

from __future__ import annotations

from typing import Any

import click

from compliance.cli.errors import fail

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

DB_HELP = (
    "Database URL, e.g. sqlite:///compliance.db or postgresql+psycopg2://user@host/db "
    "(default: $COMPLIANCE_DATABASE_URL, else compliance.db in the user's data directory)."
)

# Every command that opens the database of record.
db_option = click.option("--db", "db", metavar="URL", help=DB_HELP)


def load_rule_packs(rules_dir: str | None, *, every: bool = False) -> Any:
    """The packs (every one loaded and validated when ``every``); errors exit 2."""
    from compliance.packs import PackError, load_packs

    try:
        packs = load_packs(rules_dir)
        if every:
            packs.packs  # noqa: B018 - load and validate them all now
        return packs
    except PackError as exc:
        fail(str(exc))
