"""Reading the record: violation listings, one violation in full, and exports.

Rows come back as plain dicts of JSON-ready values (times as ISO-8601 UTC
strings), the shape ``--format json`` prints; the text and CSV forms are made
from the same dicts at the CLI edge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from compliance.store.models import (
    STATUSES,
    UNRESOLVED,
    Account,
    CampaignRow,
    CaptionVersion,
    Check,
    Creator,
    PostEvent,
    PostRow,
    Violation,
    ViolationEvent,
)
from compliance.store.observed import creator_handle


def iso(value: datetime | None) -> str | None:
    """A UTC time as ISO-8601 with a ``Z``, or None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ViolationFilter:
    """Which violations to list. ``statuses`` empty means every status; ``since`` is
    compared with when the violation was first found (``opened_at``)."""

    statuses: tuple[str, ...] = UNRESOLVED
    creator: str | None = None
    platform: str | None = None
    rule: str | None = None
    since: datetime | None = None
    # A campaign's name in compliance.yaml (``glowlab-spring``), or a brand (every
    # campaign of that brand, matched without regard to case: one-off checks given
    # ``--brand`` have no campaign name).
    campaign: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.statuses) - set(STATUSES)
        if unknown:
            raise ValueError(
                f"unknown status {sorted(unknown)[0]!r} (one of {', '.join(STATUSES)})"
            )


# The columns of a listing, in order: also the CSV header.
LIST_COLUMNS = (
    "id",
    "status",
    "rule",
    "code",
    "platform",
    "post",
    "creator",
    "opened_at",
    "status_at",
    "acked_by",
    "waived_until",
    "text",
    "message",
    "url",
    # When the post disappeared from its platform (None while it is there); its
    # violations stay as they were: the post's evidence is kept.
    "gone_at",
)
# An export adds what a violation needs to stand on its own.
EXPORT_COLUMNS = (
    *LIST_COLUMNS,
    "acked_at",
    "waived_by",
    "waived_reason",
    "notified_at",
    "fix",
    "source",
    "posted_at",
    "caption_sha256",
    "caption",
    "fixed_caption_sha256",
)


def _filtered(stmt: Select[Any], f: ViolationFilter) -> Select[Any]:
    if f.statuses:
        stmt = stmt.where(Violation.status.in_(f.statuses))
    if f.rule:
        stmt = stmt.where(Violation.rule == f.rule)
    if f.since is not None:
        stmt = stmt.where(Violation.opened_at >= f.since)
    if f.platform:
        stmt = stmt.where(PostRow.platform == f.platform)
    if f.creator:
        handle = creator_handle(f.creator)
        creator_ids = select(Creator.id).where(Creator.handle == handle)
        account_ids = select(Account.id).where(
            or_(Account.handle == handle, Account.creator_id.in_(creator_ids))
        )
        stmt = stmt.where(PostRow.account_id.in_(account_ids))
    if f.campaign:
        stmt = stmt.where(PostRow.campaign_id.in_(campaign_ids(f.campaign)))
    return stmt


def campaign_ids(campaign: str) -> Select[Any]:
    """The ids of the campaigns ``campaign`` names: the one of that name in
    compliance.yaml, and every campaign of a brand of that name (any case)."""
    return select(CampaignRow.id).where(
        or_(CampaignRow.name == campaign, func.lower(CampaignRow.brand) == campaign.lower())
    )


def _rows_stmt(f: ViolationFilter, *, export: bool) -> Select[Any]:
    fixed = aliased(CaptionVersion)
    columns: list[Any] = [
        Violation.id,
        Violation.status,
        Violation.rule,
        Violation.code,
        PostRow.platform,
        func.coalesce(PostRow.platform_post_id, PostRow.post_key).label("post"),
        func.coalesce(Account.handle, PostRow.author).label("creator"),
        Violation.opened_at,
        Violation.status_at,
        Violation.acked_by,
        Violation.waived_until,
        Violation.finding,
        PostRow.url,
        PostRow.gone_at,
    ]
    if export:
        columns += [
            Violation.acked_at,
            Violation.waived_by,
            Violation.waived_reason,
            Violation.notified_at,
            PostRow.posted_at,
            CaptionVersion.sha256.label("caption_sha256"),
            CaptionVersion.caption,
            fixed.sha256.label("fixed_caption_sha256"),
        ]
    stmt = (
        select(*columns)
        .select_from(Violation)
        .join(PostRow, PostRow.id == Violation.post_id)
        .outerjoin(Account, Account.id == PostRow.account_id)
    )
    if export:
        stmt = stmt.join(CaptionVersion, CaptionVersion.id == Violation.version_id).outerjoin(
            fixed, fixed.id == Violation.fixed_version_id
        )
    return _filtered(stmt, f)


def _row_dict(row: Any, *, export: bool) -> dict[str, Any]:
    finding = row.finding or {}
    out: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "rule": row.rule,
        "code": row.code,
        "platform": row.platform,
        "post": row.post,
        "creator": row.creator,
        "opened_at": iso(row.opened_at),
        "status_at": iso(row.status_at),
        "acked_by": row.acked_by,
        "waived_until": iso(row.waived_until),
        "text": finding.get("text"),
        "message": finding.get("message"),
        "url": row.url,
        "gone_at": iso(row.gone_at),
    }
    if export:
        out.update(
            acked_at=iso(row.acked_at),
            waived_by=row.waived_by,
            waived_reason=row.waived_reason,
            notified_at=iso(row.notified_at),
            fix=finding.get("fix"),
            source=finding.get("source"),
            posted_at=iso(row.posted_at),
            caption_sha256=row.caption_sha256,
            caption=row.caption,
            fixed_caption_sha256=row.fixed_caption_sha256,
        )
    return out


def _needs_post(f: ViolationFilter) -> bool:
    """Whether the filter looks at the post (platform, creator, campaign), not only the violation."""
    return bool(f.platform or f.creator or f.campaign)


def _page_ids(session: Session, f: ViolationFilter, limit: int, offset: int) -> list[int]:
    """Ids of one page of matching violations, newest first.

    Why not one ``WHERE status IN (...) ORDER BY opened_at DESC LIMIT n``: an index
    on (status, opened_at) gives rows in order for one status only, so the
    database would sort every unresolved violation of a large record to find the
    newest hundred. Instead each status gets its own branch, served in order from
    the index and cut at ``offset + limit``, and only those few rows are merged.
    """
    top = offset + limit
    branches = []
    for status in f.statuses or STATUSES:
        branch = select(Violation.id, Violation.opened_at).where(Violation.status == status)
        if _needs_post(f):
            branch = branch.join(PostRow, PostRow.id == Violation.post_id)
        branch = _filtered(branch, replace(f, statuses=()))
        branches.append(
            branch.order_by(Violation.opened_at.desc(), Violation.id.desc()).limit(top).subquery()
        )
    merged = union_all(*(select(b.c.id, b.c.opened_at) for b in branches)).subquery()
    page = (
        select(merged.c.id)
        .order_by(merged.c.opened_at.desc(), merged.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(page))


def list_violations(
    session: Session, f: ViolationFilter, *, limit: int | None = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Violations matching ``f``, newest first (``limit`` None: all of them)."""
    stmt = _rows_stmt(f, export=False).order_by(Violation.opened_at.desc(), Violation.id.desc())
    if limit is None:
        return [_row_dict(row, export=False) for row in session.execute(stmt.offset(offset))]
    ids = _page_ids(session, f, limit, offset)
    if not ids:
        return []
    stmt = stmt.where(Violation.id.in_(ids))
    return [_row_dict(row, export=False) for row in session.execute(stmt)]


def count_violations(session: Session, f: ViolationFilter) -> int:
    """How many violations match ``f``."""
    stmt = select(func.count()).select_from(Violation)
    if _needs_post(f):  # otherwise the count is read from the violations' indexes alone
        stmt = stmt.join(PostRow, PostRow.id == Violation.post_id)
    return int(session.execute(_filtered(stmt, f)).scalar_one())


def export_violations(session: Session, f: ViolationFilter) -> Any:
    """Every matching violation with its evidence columns (an iterator, oldest first)."""
    stmt = _rows_stmt(f, export=True).order_by(Violation.id)
    for row in session.execute(stmt.execution_options(yield_per=1000)):
        yield _row_dict(row, export=True)


# --- One violation in full --------------------------------------------------------------------


def violation_detail(session: Session, violation_id: int) -> dict[str, Any] | None:
    """Everything about one violation: the post, its caption versions (with the verdict of
    each on this rule), the finding, the waiver and the history. None if there is none."""
    violation = session.get(Violation, violation_id)
    if violation is None:
        return None
    post = session.get(PostRow, violation.post_id)
    assert post is not None
    account = session.get(Account, post.account_id) if post.account_id else None
    creator = session.get(Creator, account.creator_id) if account else None
    campaign = session.get(CampaignRow, post.campaign_id) if post.campaign_id else None

    versions = []
    for version in session.scalars(
        select(CaptionVersion)
        .where(CaptionVersion.post_id == post.id)
        .order_by(CaptionVersion.first_seen, CaptionVersion.id)
    ):
        checks = []
        for check in session.scalars(
            select(Check).where(Check.version_id == version.id).order_by(Check.id)
        ):
            result = json.loads(check.result)
            broke = any(
                v.get("rule") == violation.rule and v.get("level") == "violation"
                for v in result.get("violations", ())
            )
            checks.append(
                {
                    "id": check.id,
                    "verdict": check.verdict,
                    "verdict_sha256": check.verdict_sha256,
                    "breaks_rule": broke,
                    "first_checked": iso(check.first_checked),
                    "last_checked": iso(check.last_checked),
                    "result": result,
                }
            )
        versions.append(
            {
                "id": version.id,
                "sha256": version.sha256,
                "caption": version.caption,
                "transcript": version.transcript,
                "source": version.source,
                "fetched_at": iso(version.fetched_at),
                "first_seen": iso(version.first_seen),
                "last_seen": iso(version.last_seen),
                "current": version.sha256 == post.current_sha256,
                "violated": version.id == violation.version_id,
                "fixed": version.id == violation.fixed_version_id,
                "has_raw_response": version.raw_response is not None,
                "checks": checks,
            }
        )

    post_history = [
        {"at": iso(e.at), "actor": e.actor, "action": e.action, "note": e.note}
        for e in session.scalars(
            select(PostEvent).where(PostEvent.post_id == post.id).order_by(PostEvent.id)
        )
    ]
    history = [
        {
            "at": iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "version_id": e.version_id,
            "note": e.note,
            "until": iso(e.until),
        }
        for e in session.scalars(
            select(ViolationEvent)
            .where(ViolationEvent.violation_id == violation.id)
            .order_by(ViolationEvent.id)
        )
    ]
    return {
        "id": violation.id,
        "status": violation.status,
        "rule": violation.rule,
        "code": violation.code,
        "opened_at": iso(violation.opened_at),
        "status_at": iso(violation.status_at),
        "finding": violation.finding,
        "version_id": violation.version_id,
        "fixed_version_id": violation.fixed_version_id,
        "notified_at": iso(violation.notified_at),
        "acked": {"by": violation.acked_by, "at": iso(violation.acked_at)}
        if violation.acked_by
        else None,
        "waiver": {
            "by": violation.waived_by,
            "reason": violation.waived_reason,
            "until": iso(violation.waived_until),
        }
        if violation.waived_by
        else None,
        "post": {
            "id": post.id,
            "platform": post.platform,
            "platform_id": post.platform_post_id,
            "key": post.post_key,
            "url": post.url,
            "author": post.author,
            "creator": creator.handle if creator else None,
            "account": account.handle if account else None,
            "posted_at": iso(post.posted_at),
            "jurisdiction": post.jurisdiction,
            "first_seen": iso(post.first_seen),
            "last_seen": iso(post.last_seen),
            "verdict": post.verdict,
            "pack": post.pack,
            "language": post.language,
            "gone_at": iso(post.gone_at),
            # Gone and back again: the post's own events, oldest first.
            "history": post_history,
        },
        "campaign": {
            # name, dates and jurisdictions: from compliance.yaml (None / [] when not given).
            "name": campaign.name,
            "brand": campaign.brand,
            "handles": campaign.handles,
            "hashtags": campaign.hashtags,
            "promo_codes": campaign.promo_codes,
            "domains": campaign.domains,
            "relationship": campaign.relationship,
            "starts": campaign.starts_on.isoformat() if campaign.starts_on else None,
            "ends": campaign.ends_on.isoformat() if campaign.ends_on else None,
            "jurisdictions": list(
                campaign.jurisdictions or ([campaign.jurisdiction] if campaign.jurisdiction else [])
            ),
        }
        if campaign
        else None,
        "versions": versions,
        "history": history,
    }


def raw_responses(session: Session, version_ids: list[int]) -> dict[int, str]:
    """The stored platform responses of these caption versions (only those that have one)."""
    rows = session.execute(
        select(CaptionVersion.id, CaptionVersion.raw_response).where(
            CaptionVersion.id.in_(version_ids), CaptionVersion.raw_response.is_not(None)
        )
    )
    return {row.id: row.raw_response for row in rows}


def check_results(session: Session, version_ids: list[int]) -> dict[int, str]:
    """The stored verdict JSON, exactly as hashed, of every check of these versions."""
    rows = session.execute(select(Check.id, Check.result).where(Check.version_id.in_(version_ids)))
    return {row.id: row.result for row in rows}
