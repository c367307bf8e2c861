"""``compliance report``: the compliance report from the record, as HTML or Markdown."""

from __future__ import annotations

import click

from compliance.cli.database import expire, open_db, since_option_value, utcnow
from compliance.cli.errors import handled
from compliance.cli.options import Database, db_option, open_output, output_option


@click.command("report")
@click.option("--since", help="Posts since then: 30d, 2w, or a date (UTC); default: all.")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True
)
@output_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="At most this many unresolved violations, fixes and regressions listed.",
)
@click.option(
    "--campaign",
    help="Only posts of this campaign: its name in compliance.yaml "
    "(e.g. glowlab-spring), or a brand for all its campaigns.",
)
@db_option
def report(
    since: str | None, fmt: str, output: str, limit: int, campaign: str | None, db: Database
) -> None:
    """Write a compliance report: one self-contained HTML file (charts included) or Markdown."""
    from compliance.store.report import collect, render

    now = utcnow()
    start = since_option_value(since, now)
    store = open_db(db)
    with handled():
        expire(store, now)
        with store.read() as session:
            data = collect(
                session,
                since=start,
                now=lambda: now,
                database=store.display,
                limit=limit,
                campaign=campaign,
            )
    text = render(data, fmt)
    with open_output(output) as out:
        out.write(text)
