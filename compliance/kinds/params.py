"""Typed, validated parameters for rule kinds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter a kind accepts: its default and how to validate a value."""

    default: Any
    check: Callable[[Any], Any]
    doc: str = ""

    def validate(self, value: Any) -> Any:
        """The validated value; raises ValueError with a one-line reason."""
        return self.check(value)


def choice(*options: str) -> Callable[[Any], str]:
    """A validator accepting one of ``options``."""

    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(options)}")
        return value

    return check


def optional_int(value: Any) -> int | None:
    """A validator for a non-negative integer or null."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a non-negative integer or null, got {value!r}")
    return value


def mapping_of_lists(value: Any) -> dict[str, tuple[str, ...]] | None:
    """A validator for {name: [names]} (or null)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in value.items()
    ):
        raise ValueError("expected a mapping of name -> list of names")
    return {k: tuple(v) for k, v in value.items()}
