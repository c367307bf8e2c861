"""The one way a command reports a user error: one line on stderr, exit status 2.

Never a traceback for bad input, a bad rule file or an unreachable database; the
message is escaped for the terminal because it may quote attacker-controlled text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from compliance.report import EXIT_ERROR
from compliance.safe import terminal_safe


class UsageError(click.UsageError):
    """A usage error that exits with status 2 (click's default too; kept explicit)."""

    exit_code = EXIT_ERROR


def fail(message: str) -> NoReturn:
    """Print a one-line error to stderr and exit 2."""
    click.echo(f"compliance: error: {terminal_safe(message)}", err=True)
    sys.exit(EXIT_ERROR)


def _expected() -> tuple[type[Exception], ...]:
    """The error types that mean "bad input or environment", imported only on the error path
    (the store's pull in SQLAlchemy, which `check --text` never needs)."""
    from compliance.store.db import StoreError
    from compliance.store.evidence import EvidenceError
    from compliance.store.lifecycle import LifecycleError
    from compliance.yamlfile import YamlError

    return (StoreError, LifecycleError, EvidenceError, YamlError)


@contextmanager
def handled() -> Iterator[None]:
    """Turn the expected failures of packs, config and the store into one line and exit 2."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, _expected()):
            fail(str(exc))
        raise
