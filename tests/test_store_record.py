"""Recording verdicts: what is written, idempotency, caption versions, atomic batches."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select, text
from store_helpers import (
    AMBIGUOUS,
    COMPLIANT,
    FALL,
    MISSING,
    NOT_SPONSORED,
    SPRING,
    counts,
    packs,
    record,
    verdict,
)

from compliance import Campaign, Post, check
from compliance.store import record as record_module
from compliance.store.db import StoreError, open_store
from compliance.store.group import GroupWriter
from compliance.store.models import (
    Account,
    CampaignRow,
    CaptionVersion,
    Check,
    Creator,
    PostRow,
    Violation,
    ViolationEvent,
)
from compliance.store.observed import creator_handle, post_key
from compliance.store.record import Observation, Recorder

CAMPAIGN = Campaign(brand="GlowLab", handles=("@glowlab",), relationship="paid")


def sample() -> list:
    return [
        verdict(AMBIGUOUS, id="tt-1", campaign=CAMPAIGN, url="https://tiktok.com/@maya/1"),
        verdict(COMPLIANT, id="tt-2", campaign=CAMPAIGN),
        verdict(MISSING, id="ig-1", platform="instagram", author="Maya"),
        verdict(NOT_SPONSORED, id="tt-3", author=None),
    ]


def test_a_check_records_posts_versions_checks_and_violations(db_url, clock):
    store = open_store(db_url)
    stats = record(store, sample(), clock)
    assert stats.posts == 4 and stats.opened == 2
    assert counts(store) == {
        "creators": 1,  # "@maya" on tiktok and "Maya" on instagram are one creator
        "accounts": 2,
        "campaigns": 1,
        "posts": 4,
        "caption_versions": 4,
        "checks": 4,
        "violations": 2,
        "violation_events": 2,
    }
    with store.read() as s:
        post = s.execute(select(PostRow).where(PostRow.post_key == "tt-1")).scalar_one()
        assert post.url == "https://tiktok.com/@maya/1"
        assert post.posted_at == datetime(2026, 11, 2, 18, 4, tzinfo=timezone.utc)
        assert post.first_seen == post.last_seen == clock.now
        assert post.verdict == "violation" and post.pack == "FTC"
        version = s.execute(
            select(CaptionVersion).where(CaptionVersion.post_id == post.id)
        ).scalar_one()
        assert version.caption == AMBIGUOUS
        assert version.sha256 == hashlib.sha256(AMBIGUOUS.encode()).hexdigest()
        assert version.source == "test" and version.fetched_at == clock.now
        check = s.execute(select(Check).where(Check.version_id == version.id)).scalar_one()
        assert hashlib.sha256(check.result.encode()).hexdigest() == check.verdict_sha256
        assert json.loads(check.result)["violations"][0]["rule"] == "FTC.C201"
        v = s.execute(select(Violation).where(Violation.post_id == post.id)).scalar_one()
        assert (v.rule, v.code, v.status) == ("FTC.C201", "ambiguous_disclosure", "open")
        assert v.finding["text"] == "#sp" and v.finding["span"] == [61, 64]
        assert v.version_id == version.id and v.check_id == check.id
        assert s.execute(select(CampaignRow.brand)).scalar_one() == "GlowLab"
        creator = s.execute(select(Creator)).scalar_one()
        assert creator.handle == "@maya"
        assert {a.platform for a in s.scalars(select(Account))} == {"tiktok", "instagram"}


def test_recording_the_same_check_twice_writes_nothing_new(db_url, clock):
    store = open_store(db_url)
    record(store, sample(), clock)
    first = counts(store)
    later = clock.advance(hours=3)
    stats = record(store, sample(), clock)
    assert counts(store) == first
    assert (stats.opened, stats.fixed, stats.regressed) == (0, 0, 0)
    with store.read() as s:
        post = s.execute(select(PostRow).where(PostRow.post_key == "tt-1")).scalar_one()
        version = s.execute(
            select(CaptionVersion).where(CaptionVersion.post_id == post.id)
        ).scalar_one()
        v = s.execute(select(Violation).where(Violation.post_id == post.id)).scalar_one()
    # Only the "last seen" times move.
    assert post.last_seen == version.last_seen == later
    assert post.first_seen == version.first_seen == v.opened_at == v.status_at < later


def test_a_changed_caption_is_a_new_version_of_the_same_post(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    clock.advance(hours=1)
    record(store, [verdict(COMPLIANT)], clock)
    with store.read() as s:
        versions = s.scalars(select(CaptionVersion).order_by(CaptionVersion.id)).all()
        post = s.execute(select(PostRow)).scalar_one()
    assert [v.caption for v in versions] == [AMBIGUOUS, COMPLIANT]
    assert post.current_sha256 == versions[1].sha256 and post.verdict == "compliant"


def test_two_versions_of_a_post_in_one_batch_are_applied_in_order(db_url, clock):
    store = open_store(db_url)
    stats = record(store, [verdict(AMBIGUOUS), verdict(COMPLIANT)], clock)
    assert (stats.opened, stats.fixed) == (1, 1)
    with store.read() as s:
        v = s.execute(select(Violation)).scalar_one()
        post = s.execute(select(PostRow)).scalar_one()
    assert v.status == "fixed" and post.verdict == "compliant"


def test_posts_without_id_are_keyed_by_url_then_by_author_and_caption(db_url, clock):
    assert post_key("x1", "https://a", "@m", "f" * 64) == "x1"
    assert post_key(None, "https://a", "@m", "f" * 64) == "url:https://a"
    assert post_key(None, None, "@m", "f" * 64).startswith("sha256:")
    store = open_store(db_url)
    record(
        store,
        [
            verdict(AMBIGUOUS, id=None, url="https://tiktok.com/v/9"),
            verdict(COMPLIANT, id=None, url="https://tiktok.com/v/9"),
            verdict(AMBIGUOUS, id=None),
            verdict(AMBIGUOUS, id=None),
        ],
        clock,
    )
    assert counts(store)["posts"] == 2


def test_creator_handles_are_normalised():
    assert creator_handle(" @Maya ") == "@maya"
    assert creator_handle("maya") == "@maya"
    assert creator_handle("Maya Glows") == "maya glows"


def test_raw_platform_response_and_fetch_time_are_kept(db_url, clock):
    store = open_store(db_url)
    fetched = datetime(2026, 11, 5, 13, 59, tzinfo=timezone.utc)
    recorder = Recorder(store, now=clock)
    recorder.add(
        verdict(AMBIGUOUS),
        source="https://api.tiktok.example/v2/video/tt-1",
        raw_response='{"id": "tt-1", "desc": "..."}',
        fetched_at=fetched,
    )
    recorder.close()
    with store.read() as s:
        version = s.execute(select(CaptionVersion)).scalar_one()
    assert version.raw_response == '{"id": "tt-1", "desc": "..."}'
    assert version.fetched_at == fetched and version.first_seen == clock.now


def test_a_failed_batch_leaves_no_trace_and_earlier_batches_stay(db_url, clock, monkeypatch):
    store = open_store(db_url)
    posts = [verdict(AMBIGUOUS, id=f"tt-{i}") for i in range(6)]
    real = record_module.write_violations
    calls = {"n": 0}

    def crash_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        real(*args, **kwargs)  # the batch's rows are written in its transaction...
        if calls["n"] == 2:
            raise RuntimeError("power cut")  # ...and then the process dies

    monkeypatch.setattr(record_module, "write_violations", crash_on_second_batch)
    recorder = Recorder(store, now=clock, batch_size=3)
    with pytest.raises(RuntimeError, match="power cut"):
        for v in posts:
            recorder.add(v)
        recorder.close()
    after = counts(store)
    assert after["posts"] == 3 and after["violations"] == 3 and after["violation_events"] == 3
    assert after["caption_versions"] == after["checks"] == 3
    # Running again completes the record, with nothing duplicated.
    monkeypatch.setattr(record_module, "write_violations", real)
    record(store, posts, clock)
    assert counts(store)["posts"] == 6 and counts(store)["violations"] == 6


def test_a_database_that_went_away_is_a_store_error(tmp_path, clock):
    path = tmp_path / "gone" / "x.db"
    path.parent.mkdir()
    store = open_store(f"sqlite:///{path}")
    store.close()
    for p in path.parent.iterdir():
        p.unlink()
    path.parent.rmdir()
    with pytest.raises(StoreError, match="unable to open database file"):
        record(store, [verdict(AMBIGUOUS)], clock)


def test_a_locked_sqlite_database_is_a_store_error(tmp_path, clock):
    import sqlite3

    path = tmp_path / "x.db"
    store = open_store(f"sqlite:///{path}?timeout=0.2")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with pytest.raises(StoreError, match="database is locked"):
            record(store, [verdict(AMBIGUOUS)], clock)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert counts(store)["posts"] == 0


def test_a_configured_campaign_keeps_its_name_dates_and_jurisdictions(db_url, clock):
    store = open_store(db_url)
    record(
        store,
        [
            verdict(AMBIGUOUS, id="tt-1", campaign=SPRING),
            verdict(AMBIGUOUS, id="tt-2", campaign=FALL),
            verdict(AMBIGUOUS, id="tt-3", campaign=CAMPAIGN),  # inline: no name, dates, places
        ],
        clock,
    )
    with store.read() as session:
        rows = {
            row.brand + ":" + (row.name or "-"): (
                row.name,
                row.starts_on,
                row.ends_on,
                row.jurisdictions,
                row.jurisdiction,
            )
            for row in session.scalars(select(CampaignRow))
        }
        # No jurisdictions is SQL NULL, not the JSON text 'null'.
        unknown = session.execute(
            text("SELECT count(*) FROM campaigns WHERE jurisdictions IS NULL")
        ).scalar_one()
    assert rows == {
        "GlowLab:glowlab-spring": (
            "glowlab-spring",
            date(2026, 3, 1),
            date(2026, 6, 30),
            ["US", "GB", "DE"],
            None,  # the old one-code column cannot hold three
        ),
        "GlowLab:glowlab-fall": (
            "glowlab-fall",
            date(2026, 9, 1),
            date(2026, 11, 30),
            ["US"],
            "US",  # exactly one: kept in the old column too
        ),
        "GlowLab:-": (None, None, None, None, None),
    }
    assert unknown == 1


def test_a_campaign_recorded_before_names_were_kept_gets_its_name_when_seen_again(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS, id="tt-1", campaign=SPRING)], clock)
    with store.write() as session:  # as schema 0003 left it: no name, no dates
        session.execute(
            text("UPDATE campaigns SET name = NULL, starts_on = NULL, jurisdictions = NULL")
        )
    record(store, [verdict(AMBIGUOUS, id="tt-2", campaign=SPRING)], clock)
    with store.read() as session:
        row = session.scalars(select(CampaignRow)).one()
    assert (row.name, row.starts_on, row.jurisdictions) == (
        "glowlab-spring",
        date(2026, 3, 1),
        ["US", "GB", "DE"],
    )


def test_a_campaign_name_longer_than_its_column_is_cut_not_refused(db_url, clock):
    """PostgreSQL refuses a 101-character value in String(100): the batch must not fail."""
    store = open_store(db_url)
    stats = record(store, [verdict(AMBIGUOUS, campaign=replace(SPRING, name="x" * 150))], clock)
    assert stats.posts == 1
    with store.read() as session:
        assert session.scalars(select(CampaignRow.name)).one() == "x" * 100


def test_overlong_platform_text_is_fitted_to_the_record_not_refused(db_url, clock):
    """PostgreSQL refuses a value longer than its column, and with it the whole batch:
    text from platforms and input files is cut to size (a key: hashed), so one odd
    record costs nothing else. SQLite would take it as it is; both store the same."""
    long_id = "9" * 600
    odd = Post(
        "#ad love this serum",
        id=long_id,
        platform="tiktok",
        author="@" + "m" * 300,
        language="x" * 40,
        campaign=Campaign(brand="B" * 300, name="n" * 150),
    )
    other = Post("#ad a normal post", id="ok-1", platform="tiktok", author="@maya")
    store = open_store(db_url)
    with Recorder(store, now=clock, actor="monitor:" + "k" * 300) as rec:
        rec.add(check(odd, packs()))
        rec.add(check(other, packs()))
        rec.add(check(replace(odd, caption="#ad love this serum, edited"), packs()))
    # A monitor cycle records through the group writer, each run with its own actor.
    with GroupWriter(store, now=clock) as writer:
        writer.commit([Observation(verdict(MISSING, id="ok-2"))], actor="monitor:" + "k" * 300)
    with store.read() as session:
        posts = {p.platform_post_id: p for p in session.scalars(select(PostRow))}
        handles = set(session.scalars(select(Creator.handle)))
        brand = session.scalars(select(CampaignRow.brand)).one()
        actors = set(session.scalars(select(ViolationEvent.actor)))
    assert len(posts) == 3  # the long id is one post (hashed key), the others are there too
    long_post = posts["9" * 300]
    assert long_post.post_key == post_key(long_id, None, None, "") and len(long_post.post_key) < 100
    assert len(long_post.author) == 200 and long_post.language == "x" * 16
    assert "@" + "m" * 199 in handles and brand == "B" * 200
    assert actors == {("monitor:" + "k" * 300)[:200]}
    store.close()
