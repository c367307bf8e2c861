"""compliance.store.bulk.Upsert: the record path's driver-level multi-row statements.

They bypass SQLAlchemy's per-row parameter processing, so these check that what
they store is exactly what SQLAlchemy's own INSERT stores (timestamps, JSON,
booleans, NULLs), that ON CONFLICT updates and RETURNING work, and that a batch
larger than one statement holds is split, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from compliance.store import bulk
from compliance.store.db import open_store
from compliance.store.models import CampaignRow, PostRow
from compliance.store.rows import _UPSERT_POSTS

AT = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)


def _post(key: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "platform": "tiktok",
        "post_key": key,
        "platform_post_id": key,
        "url": None,
        "author": "@mara",
        "account_id": None,
        "campaign_id": None,
        "posted_at": AT - timedelta(days=1),
        "jurisdiction": "US",
        "first_seen": AT,
        "last_seen": AT,
        "current_sha256": "a" * 64,
        "verdict": "violation",
        "pack": "ftc",
        "language": None,
    }
    row.update(kw)
    return row


def test_stores_what_sqlalchemy_stores(db_url: str) -> None:
    store = open_store(db_url)
    campaign = {
        "fingerprint": "f" * 64,
        "brand": "Glöw «Lab»",
        "aliases": ["glow"],
        "handles": ["@glowlab"],
        "hashtags": [],
        "promo_codes": ["MAYA15"],
        "domains": [],
        "relationship": "paid",
        "starts_on": None,
        "ends_on": None,
        "jurisdiction": None,
        "created_at": AT,
    }
    upsert = bulk.Upsert(CampaignRow.__table__, columns=tuple(campaign))
    with store.write() as session:
        upsert.run(session, [campaign])
        session.execute(CampaignRow.__table__.insert(), [{**campaign, "fingerprint": "e" * 64}])
    with store.read() as session:
        ours, theirs = session.execute(
            select(CampaignRow.__table__).order_by(CampaignRow.__table__.c.fingerprint.desc())
        ).all()
        # The raw stored text too: a timestamp stored in another format would sort wrongly.
        raw = session.connection().exec_driver_sql("SELECT created_at FROM campaigns").all()
    assert ours[2:] == theirs[2:]
    assert ours.brand == "Glöw «Lab»" and ours.promo_codes == ["MAYA15"]
    assert ours.created_at == AT
    assert raw[0] == raw[1]
    store.close()


def test_conflict_update_and_returning(db_url: str) -> None:
    store = open_store(db_url)
    with store.write() as session:
        first = _UPSERT_POSTS.run(session, [_post("1"), _post("2", url="https://x/2")])
    later = AT + timedelta(hours=1)
    with store.write() as session:
        second = _UPSERT_POSTS.run(
            session,
            [
                _post("1", url="https://x/1", last_seen=later, verdict="compliant"),
                _post("2", url="https://elsewhere/2", last_seen=later),
                _post("3", last_seen=later),
            ],
        )
    assert [r[2] for r in first] == ["1", "2"]
    assert {r[2]: r[0] for r in second}["1"] == {r[2]: r[0] for r in first}["1"]
    assert len(second) == 3 and all(r[7] is None for r in second)  # gone_at, converted
    with store.read() as session:
        rows = {p.post_key: p for p in session.scalars(select(PostRow))}
    one, two = rows["1"], rows["2"]
    # last_seen moves; a missing URL is filled; a known one is kept; the verdict is not
    # touched by the upsert (update_current does that).
    assert one.last_seen == later and one.url == "https://x/1" and one.verdict == "violation"
    assert two.url == "https://x/2"
    assert one.posted_at == AT - timedelta(days=1)
    store.close()


def test_large_batches_are_split(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(db_url)
    upsert = bulk.Upsert(
        PostRow.__table__,
        columns=_UPSERT_POSTS.columns,
        conflict=("platform", "post_key"),
        update={"last_seen": "excluded.last_seen"},
        returning=("id", "post_key"),
    )
    monkeypatch.setattr(bulk, "_MAX_ROWS", 7)
    rows = [_post(f"{i:03d}") for i in range(50)]
    with store.write() as session:
        returned = upsert.run(session, rows)
        assert upsert.run(session, []) == []
    assert sorted(key for _, key in returned) == [f"{i:03d}" for i in range(50)]
    with store.read() as session:
        assert session.query(PostRow).count() == 50
    store.close()
