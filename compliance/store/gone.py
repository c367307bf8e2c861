"""Posts that disappear from their platform: marked gone with the time, never deleted.

Creators delete violating posts; the record keeps what they said. :func:`mark_gone`
sets ``posts.gone_at`` and writes a ``gone`` :class:`~compliance.store.models.PostEvent`;
the post's caption versions, raw responses, checks and violations stay as they
are (an open violation of a deleted post is still something lawyers need).
Listings, ``violations show``, evidence bundles and the report show "gone since".

A gone post that a monitor fetches again comes back by itself: recording an
observation fetched after the post was marked gone clears ``gone_at`` and writes
a ``reappeared`` event (:func:`reappear`, called from
:func:`compliance.store.record.record_batch`). Only a fetch counts: a post read
from a file (no ``fetched_at``) may be an old export and proves nothing.

Deciding that a post is gone is the monitor's business (a platform answer that
cannot tell deleted from blocked is not a deletion); this module only records it.
Both directions are conditional updates (``WHERE gone_at IS NULL`` / ``IS NOT
NULL``), so two processes marking the same post write one event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import tuple_, update
from sqlalchemy.orm import Session

from compliance.store.db import Store
from compliance.store.models import PostEvent, PostRow
from compliance.store.monitors import one_line
from compliance.store.observed import Prepared
from compliance.store.queries import iso
from compliance.store.rows import chunks

Clock = Callable[[], datetime]

# The actor of gone/reappeared events when the caller names none.
MONITOR = "monitor"


@dataclass(frozen=True)
class GonePost:
    """A post this call marked gone."""

    platform: str
    post_key: str
    gone_at: datetime


def mark_gone(
    store: Store,
    posts: Iterable[tuple[str, str]],
    *,
    now: Clock,
    reason: str,
    actor: str = MONITOR,
) -> list[GonePost]:
    """Mark these (platform, post_key) posts gone since now, with ``reason`` (one line,
    e.g. ``"not in the author feed; GET /v2/video/query/ answered 404"``).

    Returns the posts this call marked; posts already gone, or not on record, are
    left out (so a caller counting "gone this run" counts each post once).
    """
    keys = sorted(set(posts))
    if not keys:
        return []
    with store.write() as session:
        return mark_gone_in(session, keys, at=now(), reason=reason, actor=actor)


def mark_gone_in(
    session: Session,
    posts: Iterable[tuple[str, str]],
    *,
    at: datetime,
    reason: str,
    actor: str = MONITOR,
) -> list[GonePost]:
    """:func:`mark_gone` in the caller's transaction (a monitor run marks its gone posts
    in the transaction that saves its state), stamped ``at``."""
    keys = sorted(set(posts))
    note = one_line(reason)
    table = PostRow.__table__
    marked: list[GonePost] = []
    for chunk in chunks(keys):
        rows = session.execute(
            update(table)
            .where(
                tuple_(table.c.platform, table.c.post_key).in_(list(chunk)),
                table.c.gone_at.is_(None),
            )
            .values(gone_at=at)
            .returning(table.c.id, table.c.platform, table.c.post_key)
        ).all()
        if rows:
            session.execute(
                PostEvent.__table__.insert(),
                [
                    {"post_id": r.id, "at": at, "actor": actor, "action": "gone", "note": note}
                    for r in rows
                ],
            )
        marked += [GonePost(r.platform, r.post_key, at) for r in rows]
    return sorted(marked, key=lambda g: (g.platform, g.post_key))


def reappear(
    session: Session,
    items: list[Prepared],
    gone: dict[int, datetime],
    *,
    at: datetime,
    actor: str,
) -> int:
    """Un-gone the batch's posts that were fetched after they were marked gone.

    ``gone`` maps the batch's gone posts to their ``gone_at``. Returns how many came back.
    """
    back: dict[int, Prepared] = {}
    for item in items:
        fetched = item.obs.fetched_at
        since = gone.get(item.post_id)
        if since is not None and fetched is not None and fetched > since:
            back.setdefault(item.post_id, item)
    if not back:
        return 0
    table = PostRow.__table__
    ids = sorted(back)
    returned: list[int] = []
    for chunk in chunks(ids):
        returned += session.scalars(
            update(table)
            .where(table.c.id.in_(list(chunk)), table.c.gone_at.is_not(None))
            .values(gone_at=None)
            .returning(table.c.id)
        ).all()
    if returned:
        session.execute(
            PostEvent.__table__.insert(),
            [
                {
                    "post_id": post_id,
                    "at": at,
                    "actor": back[post_id].obs.monitor_key or actor,
                    "action": "reappeared",
                    "note": f"gone since {iso(gone[post_id])}; fetched again "
                    f"{iso(back[post_id].obs.fetched_at)}",
                }
                for post_id in sorted(returned)
            ],
        )
    return len(returned)
