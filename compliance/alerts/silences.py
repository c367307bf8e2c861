"""Silences: "don't tell anyone about alerts like these until then", with who and why.

A silence is a set of matchers (all must match), an author, a comment, and a time
window ``[starts_at, expires_at)``. Silenced alerts are not sent (their outbox rows
end as ``dropped`` with the silence's id as the reason). Silences are stored in the
database so every sender and every command sees the same ones; expiring one early
keeps it on record with who expired it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.alerts.matchers import Matcher, matches_all
from compliance.store.models import SilenceRow


class SilenceError(ValueError):
    """A silence that cannot be added or expired (the message says why, in one line)."""


@dataclass(frozen=True)
class Silence:
    """A stored silence as a value."""

    id: int
    matchers: tuple[Matcher, ...]
    author: str
    comment: str
    starts_at: datetime
    expires_at: datetime
    expired_by: str | None = None

    def active(self, now: datetime) -> bool:
        """Whether the silence holds at ``now``."""
        return self.starts_at <= now < self.expires_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the silence covers an alert with these labels."""
        return matches_all(self.matchers, labels)


def silenced_by(
    labels: Mapping[str, str], silences: Iterable[Silence], now: datetime
) -> Silence | None:
    """The first active silence that covers these labels, or None."""
    for silence in silences:
        if silence.active(now) and silence.matches(labels):
            return silence
    return None


def _value(row: SilenceRow) -> Silence:
    return Silence(
        id=row.id,
        matchers=tuple(Matcher.make(n, op, v) for n, op, v in row.matchers),
        author=row.author,
        comment=row.comment,
        starts_at=row.starts_at,
        expires_at=row.expires_at,
        expired_by=row.expired_by,
    )


def add(
    session: Session,
    matchers: Sequence[Matcher],
    *,
    author: str,
    comment: str,
    starts_at: datetime,
    expires_at: datetime,
    now: datetime,
) -> Silence:
    """Store a new silence; it needs matchers, an author, a comment and a future expiry."""
    if not matchers:
        raise SilenceError("a silence needs at least one matcher (e.g. creator=@maya)")
    if not author.strip():
        raise SilenceError("say who is adding the silence (--author)")
    if not comment.strip():
        raise SilenceError("say why (--comment)")
    if expires_at <= max(starts_at, now):
        raise SilenceError(f"the silence would already have expired ({expires_at.isoformat()})")
    row = SilenceRow(
        matchers=[m.as_list() for m in matchers],
        author=author.strip(),
        comment=comment.strip(),
        created_at=now,
        starts_at=starts_at,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return _value(row)


def active(session: Session, now: datetime) -> list[Silence]:
    """The silences that hold at ``now``."""
    rows = session.scalars(
        select(SilenceRow)
        .where(SilenceRow.starts_at <= now, SilenceRow.expires_at > now)
        .order_by(SilenceRow.id)
    )
    return [_value(row) for row in rows]


def listing(session: Session, now: datetime, *, include_expired: bool = False) -> list[Silence]:
    """Silences for ``silence list``: active and future ones (all, with ``include_expired``)."""
    stmt = select(SilenceRow).order_by(SilenceRow.id)
    if not include_expired:
        stmt = stmt.where(SilenceRow.expires_at > now)
    return [_value(row) for row in session.scalars(stmt)]


def expire(session: Session, silence_id: int, *, by: str, now: datetime) -> Silence:
    """End a silence now (it stays on record, with who ended it)."""
    if not by.strip():
        raise SilenceError("say who is expiring the silence (--by)")
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise SilenceError(f"no silence {silence_id}")
    if row.expires_at <= now:
        raise SilenceError(f"silence {silence_id} has already expired")
    row.expires_at = now
    row.expired_by = by.strip()
    if row.starts_at > now:
        row.starts_at = now
    session.flush()
    return _value(row)
