"""The recent posts a monitor run compares with what the platform shows now.

Each run re-reads a window of recent posts (say the last 30 days, at most 100) to
find edits and deletions. It asks the record what it holds for the same window:

* :func:`recent_posts`: the posts of one account (a creator monitor);
* :func:`monitor_recent_posts`: the posts a monitor has fetched (a hashtag
  monitor, whose posts have many authors; filled by ``Recorder.add(...,
  monitor_key=...)``);
* :func:`lookup_posts`: the given posts by key, whatever their age.

and then tells apart, for each post: new (not on record), edited (its caption's
SHA-256, :func:`compliance.store.observed.sha256_text`, differs from
``current_sha256``), unchanged, and missing (on record in the window, not on the
platform: :func:`compliance.store.gone.mark_gone`, when the platform's answer
really means deleted).

A post is in the window when it was posted at or after ``since``; a post
without a post time, when it was first seen at or after ``since``. Posts already
gone are listed too (with ``gone_at``), newest first. :func:`compare` does the
telling apart, as a pure function of the three.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from compliance.store.db import Store
from compliance.store.models import Account, MonitorPost, PostRow
from compliance.store.observed import creator_handle
from compliance.store.rows import chunks

# Posts a window holds unless the caller says otherwise (the default).
DEFAULT_LIMIT = 100


class RecentPost(NamedTuple):
    """A post as the record knows it, for comparing with a fresh fetch."""

    post_key: str
    platform_post_id: str | None
    current_sha256: str
    posted_at: datetime | None
    gone_at: datetime | None


_COLUMNS = (
    PostRow.post_key,
    PostRow.platform_post_id,
    PostRow.current_sha256,
    PostRow.posted_at,
    PostRow.gone_at,
)
_posted_or_seen = func.coalesce(PostRow.posted_at, PostRow.first_seen)


def _window(stmt: Select[Any], since: datetime, limit: int) -> Select[Any]:
    if limit < 1:
        raise ValueError(f"a window holds at least 1 post, not {limit}")
    return (
        stmt.where(_posted_or_seen >= since)
        .order_by(_posted_or_seen.desc(), PostRow.id.desc())
        .limit(limit)
    )


def recent_posts(
    store: Store, platform: str, account: str, since: datetime, limit: int = DEFAULT_LIMIT
) -> list[RecentPost]:
    """The account's posts on ``platform`` in the window, newest first.

    ``account`` is the handle as the platform or the config writes it
    (``@GlowWithMara``, ``glowwithmara``): it is filed the way recording files
    authors (:func:`compliance.store.observed.creator_handle`).
    """
    stmt = _account_stmt(platform, account)
    with store.read() as session:
        return [RecentPost(*row) for row in session.execute(_window(stmt, since, limit))]


def _account_stmt(platform: str, account: str) -> Select[Any]:
    return (
        select(*_COLUMNS)
        .join(Account, Account.id == PostRow.account_id)
        .where(
            Account.platform == platform,
            Account.handle == creator_handle(account),
            PostRow.platform == platform,
        )
    )


def _monitor_stmt(monitor_key: str) -> Select[Any]:
    return (
        select(*_COLUMNS)
        .join(MonitorPost, MonitorPost.post_id == PostRow.id)
        .where(MonitorPost.monitor_key == monitor_key)
    )


def monitor_recent_posts(
    store: Store, monitor_key: str, since: datetime, limit: int = DEFAULT_LIMIT
) -> list[RecentPost]:
    """The posts the monitor ``monitor_key`` has fetched, in the window, newest first."""
    stmt = _monitor_stmt(monitor_key)
    with store.read() as session:
        return [RecentPost(*row) for row in session.execute(_window(stmt, since, limit))]


def lookup_posts(store: Store, platform: str, post_keys: Iterable[str]) -> dict[str, RecentPost]:
    """The posts on record among ``post_keys`` (on ``platform``), by key; the others are absent."""
    with store.read() as session:
        return _lookup(session, platform, post_keys)


def _lookup(session: Session, platform: str, post_keys: Iterable[str]) -> dict[str, RecentPost]:
    found: dict[str, RecentPost] = {}
    for chunk in chunks(sorted(set(post_keys))):
        stmt = select(*_COLUMNS).where(
            PostRow.platform == platform, PostRow.post_key.in_(list(chunk))
        )
        for row in session.execute(stmt):
            found[row.post_key] = RecentPost(*row)
    return found


@dataclass(frozen=True)
class RunView:
    """What a monitor run reads to compare with its fetch: the fetched posts on record
    (:func:`lookup_posts`) and the window (:func:`recent_posts` or
    :func:`monitor_recent_posts`)."""

    known: dict[str, RecentPost]
    window: list[RecentPost]


def load_run_view(
    store: Store,
    *,
    platform: str,
    post_keys: Iterable[str],
    since: datetime,
    limit: int = DEFAULT_LIMIT,
    account: str | None = None,
    monitor_key: str | None = None,
) -> RunView:
    """One read transaction for a run: the posts among ``post_keys``, and the window of ``account`` (a creator monitor) or, when
    no account is given, of ``monitor_key`` (a hashtag monitor)."""
    if account is None and monitor_key is None:
        raise ValueError("a window needs an account or a monitor key")
    stmt = _account_stmt(platform, account) if account is not None else _monitor_stmt(monitor_key)  # type: ignore[arg-type]
    with store.read() as session:
        known = _lookup(session, platform, post_keys)
        window = [RecentPost(*row) for row in session.execute(_window(stmt, since, limit))]
    return RunView(known, window)


@dataclass(frozen=True)
class WindowDiff:
    """What a fetch shows against the record, by post key (each sorted)."""

    new: tuple[str, ...]  # fetched, not on record
    edited: tuple[str, ...]  # fetched, caption hash differs from the current version's
    unchanged: tuple[str, ...]  # fetched, same caption
    missing: tuple[str, ...]  # on record in the window, not fetched, not gone yet
    back: tuple[str, ...]  # fetched, but on record as gone (recording brings them back)


def compare(
    window: Sequence[RecentPost],
    known: Mapping[str, RecentPost],
    fetched: Mapping[str, str],
    *,
    complete_since: datetime | None,
) -> WindowDiff:
    """Tell apart new, edited, unchanged, missing and returning posts.

    ``window``: :func:`recent_posts` or :func:`monitor_recent_posts`;
    ``known``: :func:`lookup_posts` of the fetched keys (posts older than the
    window are known too); ``fetched``: post key -> SHA-256 of the caption now.

    ``complete_since``: the time from which the fetch saw every post (the
    window's start when it read the whole window; the oldest fetched post's
    time when it stopped at a limit; None when it cannot say, e.g. a run that
    failed half-way): only posts posted at or after it can be missing. Posts
    without a post time are never called missing: nothing says the fetch covered them.
    """
    new, edited, unchanged, back = [], [], [], []
    for key, sha in fetched.items():
        post = known.get(key)
        if post is None:
            new.append(key)
            continue
        (unchanged if post.current_sha256 == sha else edited).append(key)
        if post.gone_at is not None:
            back.append(key)
    missing = []
    if complete_since is not None:
        missing = [
            p.post_key
            for p in window
            if p.post_key not in fetched
            and p.gone_at is None
            and p.posted_at is not None
            and p.posted_at >= complete_since
        ]
    return WindowDiff(
        tuple(sorted(new)),
        tuple(sorted(edited)),
        tuple(sorted(unchanged)),
        tuple(sorted(missing)),
        tuple(sorted(back)),
    )
