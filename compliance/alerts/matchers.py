"""Label matchers, as Alertmanager writes them: ``name=value``, ``name!=value``,
``name=~regex``, ``name!~regex``; route ``match`` values may be a list (any of them).

Values compare case-insensitively (``brand=glowlab`` matches ``GlowLab``: brand
names and handles are written every which way); regular expressions are anchored
(they must match the whole value), as in Alertmanager. A label the alert does not
carry has the empty value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# The labels an alert carries; matching on anything else is a typo.
LABELS = (
    "brand",
    "campaign",
    "creator",
    "platform",
    "jurisdiction",
    "rule",
    "code",
    "level",
    "event",
    "post",
    "monitor",
)
EVENTS = ("opened", "regressed", "fixed", "monitor_failing", "monitor_recovered")
OPS = ("=~", "!~", "!=", "=")
_TEXT = re.compile(r"^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$", re.DOTALL)


class MatcherError(ValueError):
    """A matcher that cannot be understood (unknown label, bad operator or regex)."""


@dataclass(frozen=True)
class Matcher:
    """``name op value``; for ``=`` and ``!=`` any of ``values`` (a route's list) counts."""

    name: str
    op: str
    values: tuple[str, ...]
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: str, values: tuple[str, ...] | str) -> Matcher:
        """Validate and build (regular expressions are compiled here, once)."""
        if name not in LABELS:
            raise MatcherError(f"unknown label {name!r} (one of {', '.join(LABELS)})")
        if op not in OPS:
            raise MatcherError(f"unknown operator {op!r} (one of =, !=, =~, !~)")
        vals = (values,) if isinstance(values, str) else tuple(values)
        if not vals:
            raise MatcherError(f"{name}: give at least one value")
        if name == "event" and op in ("=", "!="):
            bad = [v for v in vals if v not in EVENTS]
            if bad:
                raise MatcherError(f"unknown event {bad[0]!r} (one of {', '.join(EVENTS)})")
        regex = None
        if op in ("=~", "!~"):
            if len(vals) != 1:
                raise MatcherError(f"{name}: a regular expression matcher takes one value")
            try:
                regex = re.compile(vals[0], re.IGNORECASE)
            except re.error as exc:
                raise MatcherError(f"{name}: bad regular expression {vals[0]!r}: {exc}") from None
        return cls(name, op, vals, regex)

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``creator=@maya``, ``code=~below.*``: one matcher written on a command line."""
        m = _TEXT.match(text)
        if not m:
            raise MatcherError(f"not a matcher: {text!r} (write name=value, name!=value, name=~re)")
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return cls.make(m.group(1), m.group(2), value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the alert's labels satisfy this matcher."""
        value = labels.get(self.name) or ""
        if self.regex is not None:
            hit = self.regex.fullmatch(value) is not None
            return hit if self.op == "=~" else not hit
        folded = value.casefold()
        hit = any(folded == v.casefold() for v in self.values)
        return hit if self.op == "=" else not hit

    @property
    def regex(self) -> re.Pattern[str] | None:
        return self._regex

    def __str__(self) -> str:
        value = self.values[0] if len(self.values) == 1 else "|".join(self.values)
        return f"{self.name}{self.op}{value}"

    def as_list(self) -> list[str]:
        """``[name, op, value]``: how a silence stores it (one value per matcher)."""
        return [self.name, self.op, self.values[0]]


def matches_all(matchers: tuple[Matcher, ...], labels: Mapping[str, str]) -> bool:
    """Every matcher holds (no matchers: everything matches)."""
    return all(m.matches(labels) for m in matchers)
