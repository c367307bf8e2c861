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

A monitor run reads its state and its window in one transaction before it
fetches (:func:`load_run_start`), and afterwards looks up only the fetched posts
the window does not hold (:func:`known_posts`): a run with nothing new reads once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session

from compliance.store.db import Store
from compliance.store.models import Account, MonitorPost, PostRow, UTCDateTime
from compliance.store.monitors import MonitorState, load_monitor_state_in
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

# The statements are built once, with parameters: a monitor cycle runs them thousands
# of times, and building and cache-keying a statement costs more than running it.
_SINCE = bindparam("since", type_=UTCDateTime())
_LIMIT = bindparam("limit", type_=Integer())


def _window(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.where(_posted_or_seen >= _SINCE)
        .order_by(_posted_or_seen.desc(), PostRow.id.desc())
        .limit(_LIMIT)
    )


_ACCOUNT_WINDOW = _window(
    select(*_COLUMNS)
    .join(Account, Account.id == PostRow.account_id)
    .where(
        Account.platform == bindparam("platform"),
        Account.handle == bindparam("handle"),
        PostRow.platform == bindparam("platform"),
    )
)
_MONITOR_WINDOW = _window(
    select(*_COLUMNS)
    .join(MonitorPost, MonitorPost.post_id == PostRow.id)
    .where(MonitorPost.monitor_key == bindparam("monitor_key"))
)
_LOOKUP = select(*_COLUMNS).where(
    PostRow.platform == bindparam("platform"),
    PostRow.post_key.in_(bindparam("keys", expanding=True)),
)


def _window_params(since: datetime, limit: int) -> dict[str, Any]:
    if limit < 1:
        raise ValueError(f"a window holds at least 1 post, not {limit}")
    return {"since": since, "limit": limit}


def recent_posts(
    store: Store, platform: str, account: str, since: datetime, limit: int = DEFAULT_LIMIT
) -> list[RecentPost]:
    """The account's posts on ``platform`` in the window, newest first.

    ``account`` is the handle as the platform or the config writes it
    (``@GlowWithMara``, ``glowwithmara``): it is filed the way recording files
    authors (:func:`compliance.store.observed.creator_handle`).
    """
    params = {**_window_params(since, limit), **_account_params(platform, account)}
    with store.read() as session:
        return [RecentPost(*row) for row in session.connection().execute(_ACCOUNT_WINDOW, params)]


def _account_params(platform: str, account: str) -> dict[str, Any]:
    return {"platform": platform, "handle": creator_handle(account)}


def monitor_recent_posts(
    store: Store, monitor_key: str, since: datetime, limit: int = DEFAULT_LIMIT
) -> list[RecentPost]:
    """The posts the monitor ``monitor_key`` has fetched, in the window, newest first."""
    params = {**_window_params(since, limit), "monitor_key": monitor_key}
    with store.read() as session:
        return [RecentPost(*row) for row in session.connection().execute(_MONITOR_WINDOW, params)]


def lookup_posts(store: Store, platform: str, post_keys: Iterable[str]) -> dict[str, RecentPost]:
    """The posts on record among ``post_keys`` (on ``platform``), by key; the others are absent."""
    with store.read() as session:
        return _lookup(session, platform, post_keys)


def _lookup(session: Session, platform: str, post_keys: Iterable[str]) -> dict[str, RecentPost]:
    found: dict[str, RecentPost] = {}
    connection = session.connection()
    for chunk in chunks(sorted(set(post_keys))):
        for row in connection.execute(_LOOKUP, {"platform": platform, "keys": list(chunk)}):
            found[row.post_key] = RecentPost(*row)
    return found


@dataclass(frozen=True)
class RunStart:
    """What a monitor run reads before it fetches, in one read transaction: its
    stored state (None when not asked for, or never saved) and its window
    (:func:`recent_posts` of an account, or :func:`monitor_recent_posts`)."""

    state: MonitorState | None
    window: list[RecentPost]
    platform: str
    # True when the window is an account's: it then holds every post of the account
    # in the window, and a fetched post it holds need not be looked up.
    by_account: bool


def load_run_start(
    store: Store,
    *,
    platform: str,
    since: datetime,
    limit: int = DEFAULT_LIMIT,
    account: str | None = None,
    monitor_key: str | None = None,
    state_key: str | None = None,
) -> RunStart:
    """One read transaction for the start of a run: the state of the monitor
    ``state_key`` (if given) and the window of ``account`` (a creator monitor) or,
    when no account is given, of ``monitor_key`` (a hashtag monitor).

    Read before the fetch, the window may miss a post another process records
    meanwhile; such a post is then taken for new and recorded again, which only
    touches its "last seen" (recording is idempotent).
    """
    if account is not None:
        stmt, params = _ACCOUNT_WINDOW, _account_params(platform, account)
    elif monitor_key is not None:
        stmt, params = _MONITOR_WINDOW, {"monitor_key": monitor_key}
    else:
        raise ValueError("a window needs an account or a monitor key")
    params.update(_window_params(since, limit))
    with store.read() as session:
        state = load_monitor_state_in(session, state_key) if state_key is not None else None
        window = [RecentPost(*row) for row in session.connection().execute(stmt, params)]
    return RunStart(state, window, platform, account is not None)


def known_posts(store: Store, start: RunStart, post_keys: Iterable[str]) -> dict[str, RecentPost]:
    """The posts on record among the fetched ``post_keys``, by key.

    An account's window holds most of what a run fetched (on a run with nothing new,
    all of it): only the rest is looked up, and a run with nothing new reads nothing
    more. A hashtag monitor's window is its own posts, not every post of the
    platform, so all of its keys are looked up.
    """
    keys = set(post_keys)
    known: dict[str, RecentPost] = {}
    if start.by_account:
        known = {p.post_key: p for p in start.window if p.post_key in keys}
    rest = keys - known.keys()
    if rest:
        known.update(lookup_posts(store, start.platform, rest))
    return known


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
