"""Writing what was seen: creators, accounts, campaigns, posts, caption versions, checks.

Each table is written with one multi-row ``INSERT ... ON CONFLICT`` per batch,
in sorted key order (so that two writers lock rows in the same order and cannot
deadlock). Creators, accounts and campaigns are only inserted when missing; posts,
versions and checks are upserted, an existing row only getting its "last seen"
time (and, for a post, details an earlier sighting did not know).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, tuple_, update
from sqlalchemy.orm import Session

from compliance.store.bulk import Upsert
from compliance.store.models import (
    Account,
    CampaignRow,
    CaptionVersion,
    Check,
    Creator,
    MonitorPost,
    PostRow,
)
from compliance.store.observed import ID_SIZE, LANGUAGE_SIZE, NAME_SIZE, Prepared, fit
from compliance.store.stmts import cached, dialect_name, insert_for

# Rows per IN (...) list: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 500


@dataclass
class Known:
    """Ids of rows that exist for sure (committed): creators, accounts, campaigns."""

    creators: dict[str, int] = field(default_factory=dict)
    accounts: dict[tuple[str, str], int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)

    def update(self, other: Known) -> None:
        """Take over ids learnt by a committed batch."""
        self.creators.update(other.creators)
        self.accounts.update(other.accounts)
        self.campaigns.update(other.campaigns)


def dialect_insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT (with ``on_conflict_*``)."""
    return insert_for(dialect_name(session), table)


def chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ensure(
    session: Session,
    table: Table,
    key: tuple[str, ...],
    rows: dict[Any, dict[str, Any]],
    known: dict[Any, int],
    learnt: dict[Any, int],
) -> dict[Any, int]:
    """Ids of the rows keyed by ``key`` (a key is the value, or the tuple of values, of
    those columns), inserting the missing ones. ``known`` are ids cached from earlier
    batches; ids found now are also put in ``learnt``."""
    ids = {k: known[k] for k in rows if k in known}
    missing = sorted(k for k in rows if k not in ids)
    if not missing:
        return ids

    def key_of(row: Any) -> Any:
        return row[1] if len(key) == 1 else tuple(row[1:])

    def build_insert(dialect: str) -> Any:
        return (
            insert_for(dialect, table)
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(table.c.id, *(table.c[name] for name in key))
        )

    def build_select(dialect: str) -> Any:
        columns = [table.c[name] for name in key]
        match = columns[0] if len(key) == 1 else tuple_(*columns)
        return select(table.c.id, *columns).where(match.in_(bindparam("keys", expanding=True)))

    stmt = cached(session, f"ensure:{table.name}", build_insert)
    for row in session.execute(stmt, [rows[k] for k in missing]):
        ids[key_of(row)] = learnt[key_of(row)] = row[0]
    # Rows that existed already (another writer, or a previous run) return nothing above.
    existing = [k for k in missing if k not in ids]
    if existing:
        lookup = cached(session, f"ensure-select:{table.name}", build_select)
        for chunk in chunks(existing):
            for row in session.execute(lookup, {"keys": list(chunk)}):
                ids[key_of(row)] = learnt[key_of(row)] = row[0]
    return ids


def ensure_creators(
    session: Session, items: list[Prepared], known: Known, learnt: Known, at: datetime
) -> dict[str, int]:
    rows = {
        item.handle: {"handle": item.handle, "name": None, "created_at": at}
        for item in items
        if item.handle
    }
    return _ensure(session, Creator.__table__, ("handle",), rows, known.creators, learnt.creators)


def ensure_accounts(
    session: Session,
    items: list[Prepared],
    creator_ids: dict[str, int],
    known: Known,
    learnt: Known,
    at: datetime,
) -> dict[tuple[str, str], int]:
    rows = {
        (item.platform, item.handle): {
            "creator_id": creator_ids[item.handle],
            "platform": item.platform,
            "handle": item.handle,
            "created_at": at,
        }
        for item in items
        if item.handle
    }
    return _ensure(
        session, Account.__table__, ("platform", "handle"), rows, known.accounts, learnt.accounts
    )


def ensure_campaigns(
    session: Session, items: list[Prepared], known: Known, learnt: Known, at: datetime
) -> dict[str, int]:
    rows: dict[Any, dict[str, Any]] = {}
    for item in items:
        c = item.obs.verdict.post.campaign
        if item.fingerprint is None or item.fingerprint in rows or c is None:
            continue
        rows[item.fingerprint] = {
            "fingerprint": item.fingerprint,
            "brand": fit(c.brand, NAME_SIZE),
            "aliases": list(c.aliases),
            "handles": list(c.handles),
            "hashtags": list(c.hashtags),
            "promo_codes": list(c.promo_codes),
            "domains": list(c.domains),
            "relationship": c.relationship,
            # The column holds 100 characters (PostgreSQL refuses more); a name is a
            # compliance.yaml key, or an inline record's, so longer ones are cut.
            "name": c.name[:100] if c.name else None,
            "starts_on": c.starts,
            "ends_on": c.ends,
            "jurisdictions": list(c.jurisdictions) or None,
            # The old one-code column: kept only when there is exactly one jurisdiction.
            "jurisdiction": c.jurisdictions[0] if len(c.jurisdictions) == 1 else None,
            "created_at": at,
        }
    named = [
        {"b_fingerprint": k, **{f"b_{c}": row[c] for c in _NAMED}}
        for k, row in rows.items()
        if k not in known.campaigns and row["name"] is not None
    ]
    ids = _ensure(
        session, CampaignRow.__table__, ("fingerprint",), rows, known.campaigns, learnt.campaigns
    )
    if named:
        # Rows recorded before schema 0004 had nowhere to keep a configured campaign's
        # name and dates: the first batch that sees the campaign again fills them in
        # (once per process: known campaigns are not looked at again).
        session.execute(_NAME_CAMPAIGNS, named)
    return ids


_NAMED = ("name", "starts_on", "ends_on", "jurisdictions", "jurisdiction")
_CAMPAIGNS = CampaignRow.__table__
_NAME_CAMPAIGNS = (
    update(_CAMPAIGNS)
    .where(_CAMPAIGNS.c.fingerprint == bindparam("b_fingerprint"), _CAMPAIGNS.c.name.is_(None))
    .values({c: bindparam(f"b_{c}") for c in _NAMED})
)


def upsert_posts(
    session: Session,
    items: list[Prepared],
    account_ids: dict[tuple[str, str], int],
    campaign_ids: dict[str, int],
    at: datetime,
) -> tuple[dict[int, tuple[str, str, str, str | None]], dict[int, datetime]]:
    """Insert new posts, touch known ones; set each item's post_id. Returns the stored
    (current_sha256, verdict, pack, language) of every post, and the ``gone_at`` of
    those marked gone (left as it is here: see :func:`compliance.store.gone.reappear`)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        if (item.platform, item.key) in rows:
            continue
        post = item.obs.verdict.post
        rows[(item.platform, item.key)] = {
            "platform": item.platform,
            "post_key": item.key,
            "platform_post_id": fit(post.id, ID_SIZE),
            "url": post.url,
            "author": fit(post.author, NAME_SIZE),
            "account_id": account_ids.get((item.platform, item.handle)) if item.handle else None,
            "campaign_id": campaign_ids.get(item.fingerprint) if item.fingerprint else None,
            "posted_at": item.posted_at,
            "jurisdiction": post.jurisdiction,
            "first_seen": at,
            "last_seen": at,
            "current_sha256": item.caption_sha,
            "verdict": item.obs.verdict.verdict.value,
            "pack": item.obs.verdict.pack,
            "language": fit(item.obs.verdict.language, LANGUAGE_SIZE),
        }
    ids: dict[tuple[str, str], int] = {}
    current: dict[int, tuple[str, str, str, str | None]] = {}
    gone: dict[int, datetime] = {}
    # Sorted: every writer locks post rows in the same order, so none waits on another in a cycle.
    for row in _UPSERT_POSTS.run(session, [rows[k] for k in sorted(rows)]):
        post_id, platform, key, sha, verdict, pack, language, gone_at = row
        ids[(platform, key)] = post_id
        current[post_id] = (sha, verdict, pack, language)
        if gone_at is not None:
            gone[post_id] = gone_at
    for item in items:
        item.post_id = ids[(item.platform, item.key)]
    return current, gone


_UPSERT_POSTS = Upsert(
    PostRow.__table__,
    columns=(
        "platform",
        "post_key",
        "platform_post_id",
        "url",
        "author",
        "account_id",
        "campaign_id",
        "posted_at",
        "jurisdiction",
        "first_seen",
        "last_seen",
        "current_sha256",
        "verdict",
        "pack",
        "language",
    ),
    conflict=("platform", "post_key"),
    update={
        "last_seen": "excluded.last_seen",
        # Fill what an earlier sighting did not know; never overwrite what it did.
        **{
            c: f"coalesce(posts.{c}, excluded.{c})"
            for c in ("url", "author", "account_id", "campaign_id", "posted_at")
        },
    },
    returning=(
        "id",
        "platform",
        "post_key",
        "current_sha256",
        "verdict",
        "pack",
        "language",
        "gone_at",
    ),
)


def link_monitors(session: Session, items: list[Prepared], at: datetime) -> None:
    """Note which monitor saw which post (items fetched by a monitor only)."""
    rows = {
        (item.obs.monitor_key, item.post_id): {
            "monitor_key": item.obs.monitor_key,
            "post_id": item.post_id,
            "first_seen": at,
            "last_seen": at,
        }
        for item in items
        if item.obs.monitor_key
    }
    if not rows:
        return
    _LINK_MONITORS.run(session, [rows[k] for k in sorted(rows)])


_LINK_MONITORS = Upsert(
    MonitorPost.__table__,
    columns=("monitor_key", "post_id", "first_seen", "last_seen"),
    conflict=("monitor_key", "post_id"),
    update={"last_seen": "excluded.last_seen"},
)


def upsert_versions(session: Session, items: list[Prepared], at: datetime) -> None:
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for item in items:
        if (item.post_id, item.caption_sha) not in rows:
            post = item.obs.verdict.post
            rows[(item.post_id, item.caption_sha)] = {
                "post_id": item.post_id,
                "sha256": item.caption_sha,
                "caption": post.caption,
                "transcript": post.transcript,
                "source": item.obs.source,
                "raw_response": item.obs.raw_response,
                "fetched_at": item.obs.fetched_at or at,
                "first_seen": at,
                "last_seen": at,
            }
    ids = {
        (post_id, sha): version_id
        for version_id, post_id, sha in _UPSERT_VERSIONS.run(
            session, [rows[k] for k in sorted(rows)]
        )
    }
    for item in items:
        item.version_id = ids[(item.post_id, item.caption_sha)]


def upsert_checks(session: Session, items: list[Prepared], at: datetime) -> None:
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for item in items:
        if (item.version_id, item.result_sha) not in rows:
            verdict = item.obs.verdict
            rows[(item.version_id, item.result_sha)] = {
                "version_id": item.version_id,
                "verdict_sha256": item.result_sha,
                "verdict": verdict.verdict.value,
                "pack": verdict.pack,
                "language": fit(verdict.language, LANGUAGE_SIZE),
                "sponsored": verdict.sponsorship.value,
                "result": item.result,
                "first_checked": at,
                "last_checked": at,
            }
    ids = {
        (version_id, sha): check_id
        for check_id, version_id, sha in _UPSERT_CHECKS.run(
            session, [rows[k] for k in sorted(rows)]
        )
    }
    for item in items:
        item.check_id = ids[(item.version_id, item.result_sha)]


_UPSERT_VERSIONS = Upsert(
    CaptionVersion.__table__,
    columns=(
        "post_id",
        "sha256",
        "caption",
        "transcript",
        "source",
        "raw_response",
        "fetched_at",
        "first_seen",
        "last_seen",
    ),
    conflict=("post_id", "sha256"),
    update={"last_seen": "excluded.last_seen"},
    returning=("id", "post_id", "sha256"),
)
_UPSERT_CHECKS = Upsert(
    Check.__table__,
    columns=(
        "version_id",
        "verdict_sha256",
        "verdict",
        "pack",
        "language",
        "sponsored",
        "result",
        "first_checked",
        "last_checked",
    ),
    conflict=("version_id", "verdict_sha256"),
    update={"last_checked": "excluded.last_checked"},
    returning=("id", "version_id", "verdict_sha256"),
)


def update_current(
    session: Session,
    latest: dict[int, Prepared],
    current: dict[int, tuple[str, str, str, str | None]],
) -> None:
    """Point each post at the caption version checked last, where that changed."""
    rows = []
    for post_id, item in latest.items():
        verdict = item.obs.verdict
        now_current = (
            item.caption_sha,
            verdict.verdict.value,
            verdict.pack,
            fit(verdict.language, LANGUAGE_SIZE),
        )
        if current[post_id] != now_current:
            rows.append(
                {
                    "b_id": post_id,
                    "current_sha256": item.caption_sha,
                    "verdict": verdict.verdict.value,
                    "pack": verdict.pack,
                    "language": fit(verdict.language, LANGUAGE_SIZE),
                }
            )
    if rows:
        session.execute(_UPDATE_CURRENT, rows, execution_options={"synchronize_session": False})


_UPDATE_CURRENT = update(PostRow.__table__).where(PostRow.__table__.c.id == bindparam("b_id"))
