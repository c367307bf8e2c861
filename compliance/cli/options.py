"""Click options shared by several commands, defined once so they read the same everywhere."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import click

from compliance.cli.errors import fail

if TYPE_CHECKING:
    from compliance.config import Config

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


def open_output(path: str) -> IO[str]:
    """``--output`` opened for writing ('-' is standard output); a path that cannot be written
    is one line and exit 2, before anything is checked or read (exit 1 means violations).
    The file is made 0600: it holds captions (see compliance.private)."""
    try:
        if path == "-":
            return click.open_file(path, "w", encoding="utf-8")  # type: ignore[no-any-return]
        from compliance.private import open_private

        return open_private(path)
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")


def single_value(ctx: click.Context, param: click.Parameter, value: tuple[Any, ...]) -> Any:
    """Callback for an option declared ``multiple=True`` that must be given at most once:
    click would silently keep the last of ``-j GB -j DE``; this says so instead."""
    if len(value) > 1:
        raise click.BadParameter(
            f"given {len(value)} times ({', '.join(map(str, value))}): give it once", param=param
        )
    return value[0] if value else None


CONFIG_HELP = "Settings from this compliance.yaml (see 'compliance config init')."
# Every command that reads compliance.yaml.
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help=CONFIG_HELP,
)

DB_HELP = (
    "Database URL, e.g. sqlite:///compliance.db or postgresql+psycopg2://user@host/db "
    "(default: $COMPLIANCE_DATABASE_URL, else compliance.db in the user's data directory)."
)


@dataclass(frozen=True)
class Database:
    """Which database a command was pointed at: ``--db`` and compliance.yaml's ``database:``
    (``compliance.store.db.resolve_url`` decides between them and the environment)."""

    given: str | None = None
    configured: str | None = None


def db_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--db URL`` and ``--config FILE`` for a command of the record; the command receives
    ``db`` as a :class:`Database`."""

    @functools.wraps(fn)
    def command(*args: Any, db: str | None, config_path: str | None, **kwargs: Any) -> Any:
        config = load_config_file(config_path)
        return fn(*args, db=Database(db, config.database if config else None), **kwargs)

    return click.option("--db", "db", metavar="URL", help=DB_HELP)(config_option(command))


def load_config_file(path: str | None) -> Config | None:
    """compliance.yaml at ``path`` (None when no --config); a bad file exits 2 with its first
    problem (``compliance config check`` lists them all)."""
    if path is None:
        return None
    from compliance.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc))


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
