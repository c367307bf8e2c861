"""Gone posts on SQLite and PostgreSQL: marked with the time, evidence kept, back when fetched."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from store_helpers import (
    AMBIGUOUS,
    COMPLIANT,
    MISSING,
    counts,
    record,
    run_in_two_processes,
    verdict,
    violation,
)

from compliance.store.db import open_store
from compliance.store.evidence import verify_bundle, write_bundle
from compliance.store.gone import GonePost, mark_gone
from compliance.store.models import MonitorPost, PostEvent, PostRow
from compliance.store.monitors import load_monitor_state, save_monitor_run
from compliance.store.queries import ViolationFilter, list_violations, violation_detail
from compliance.store.record import Recorder
from compliance.store.report import collect, render

REASON = "not in the author's feed; GET /v2/video/query/ answered 404"


def seeded(db_url: str, clock: Any) -> Any:
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS, id="tt-1"), verdict(MISSING, id="tt-2")], clock)
    clock.advance(hours=1)
    return store


def post_events(store: Any) -> list[tuple[str, str, str | None]]:
    with store.read() as session:
        return [
            (key, e.action, e.actor)
            for e, key in session.execute(
                select(PostEvent, PostRow.post_key)
                .join(PostRow, PostRow.id == PostEvent.post_id)
                .order_by(PostEvent.id)
            )
        ]


def gone_at(store: Any, key: str) -> Any:
    with store.read() as session:
        return session.scalars(select(PostRow.gone_at).where(PostRow.post_key == key)).one()


def test_a_gone_post_is_marked_once_and_keeps_all_its_evidence(db_url, clock):
    store = seeded(db_url, clock)
    before = counts(store)
    marked = mark_gone(
        store,
        [("tiktok", "tt-1"), ("tiktok", "nope"), ("tiktok", "tt-1")],
        now=clock,
        reason=REASON,
    )
    assert marked == [GonePost("tiktok", "tt-1", clock.now)]
    assert gone_at(store, "tt-1") == clock.now and gone_at(store, "tt-2") is None
    # Nothing deleted; the open violation stays open.
    assert counts(store) == before
    assert violation(store, "FTC.C201", "tt-1").status == "open"
    # Marking it again changes nothing: it is gone since the first time.
    clock.advance(hours=1)
    assert mark_gone(store, [("tiktok", "tt-1")], now=clock, reason=REASON) == []
    assert post_events(store) == [("tt-1", "gone", "monitor")]
    assert mark_gone(store, [], now=clock, reason=REASON) == []


def test_listings_details_bundles_and_reports_say_gone_since(db_url, clock, tmp_path):
    store = seeded(db_url, clock)
    when = clock.now
    mark_gone(store, [("tiktok", "tt-1")], now=clock, reason="deleted\nby the creator")
    vid = violation(store, "FTC.C201", "tt-1").id
    with store.read() as session:
        rows = {r["post"]: r for r in list_violations(session, ViolationFilter())}
        detail = violation_detail(session, vid)
        files = write_bundle(
            session, vid, tmp_path / "bundle", now=clock, database="db", tool_version="0"
        )
        data = collect(session, since=None, now=clock, database="db")
    stamp = when.isoformat().replace("+00:00", "Z")
    assert rows["tt-1"]["gone_at"] == stamp and rows["tt-2"]["gone_at"] is None
    assert detail["post"]["gone_at"] == stamp
    assert detail["post"]["history"] == [
        {"at": stamp, "actor": "monitor", "action": "gone", "note": "deleted by the creator"}
    ]
    readme = (tmp_path / "bundle" / "README.txt").read_text()
    assert f"gone from its platform since {stamp}" in readme
    assert verify_bundle(tmp_path / "bundle") == [] and len(files) > 3
    shown = "2026-11-05 15:00 UTC"  # the reports show times as people read them
    assert stamp.startswith("2026-11-05T15:00")
    assert f'gone since <span class="when">{shown}</span>' in render(data, "html")
    assert f"(gone since {shown})" in render(data, "md")
    # A post that is still there says nothing of the kind.
    assert render(data, "md").count("gone since") == 1


def test_a_gone_post_fetched_again_reappears(db_url, clock):
    store = seeded(db_url, clock)
    mark_gone(store, [("tiktok", "tt-1")], now=clock, reason=REASON)
    gone = clock.now

    # Read from a file (no fetch time): an old export proves nothing.
    clock.advance(hours=1)
    assert record(store, [verdict(AMBIGUOUS, id="tt-1")], clock).reappeared == 0
    assert gone_at(store, "tt-1") == gone

    # Fetched before it was marked gone (a slow run finishing late): still gone.
    recorder = Recorder(store, now=clock)
    recorder.add(verdict(AMBIGUOUS, id="tt-1"), fetched_at=gone - timedelta(minutes=5))
    assert recorder.close().reappeared == 0 and gone_at(store, "tt-1") == gone

    # Fetched after: back, with an event, and its edit recorded as usual.
    recorder = Recorder(store, now=clock)
    recorder.add(
        verdict(COMPLIANT, id="tt-1"),
        source="https://open.tiktokapis.com/v2/video/list/",
        raw_response='{"id": "tt-1"}',
        fetched_at=clock.now,
        monitor_key="creator:maya:tiktok:@maya",
    )
    stats = recorder.close()
    assert stats.reappeared == 1 and stats.fixed == 1
    assert gone_at(store, "tt-1") is None
    assert post_events(store) == [
        ("tt-1", "gone", "monitor"),
        ("tt-1", "reappeared", "creator:maya:tiktok:@maya"),
    ]
    # It can go again.
    clock.advance(hours=1)
    assert len(mark_gone(store, [("tiktok", "tt-1")], now=clock, reason=REASON)) == 1


def test_posts_fetched_by_a_monitor_are_linked_to_it(db_url, clock):
    store = open_store(db_url)
    key = "hashtag:guacdance:bluesky"
    recorder = Recorder(store, now=clock, batch_size=2)
    for i in range(3):
        recorder.add(
            verdict(MISSING, id=f"bsky-{i}", platform="bluesky", author=f"@fan{i}"),
            fetched_at=clock.now,
            monitor_key=key,
        )
    first = recorder.flush()  # the batch in flight is 1 post: 2 went out when full
    assert first.posts == 1 and recorder.stats.posts == 3 and recorder.stats.opened == 3
    assert recorder.flush().posts == 0
    clock.advance(hours=1)
    recorder = Recorder(store, now=clock)
    recorder.add(verdict(MISSING, id="bsky-0", platform="bluesky"), monitor_key=key)
    recorder.add(verdict(MISSING, id="bsky-0", platform="bluesky"), monitor_key="other")
    recorder.close()
    with store.read() as session:
        links = session.execute(
            select(MonitorPost.monitor_key, MonitorPost.first_seen, MonitorPost.last_seen).order_by(
                MonitorPost.monitor_key, MonitorPost.id
            )
        ).all()
    assert len(links) == 4
    assert [k for k, *_ in links].count(key) == 3
    save_monitor_run(
        store,
        key,
        kind="hashtag",
        platform="bluesky",
        target="#guacdance",
        started_at=clock.now,
        outcome="ok",
        now=clock,
    )
    assert load_monitor_state(store, key).posts_total == 3


def _marker(url: str) -> None:
    from conftest import Clock

    store = open_store(url)
    for i in range(0, 60, 3):
        keys = [("tiktok", f"tt-{j}") for j in range(i, i + 3)]
        mark_gone(store, keys, now=Clock(), reason=REASON)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_two_processes_marking_the_same_posts_write_one_event_each(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(COMPLIANT, id=f"tt-{i}") for i in range(60)], clock)
    run_in_two_processes(_marker, db_url)
    events = post_events(store)
    assert len(events) == 60 and {key for key, *_ in events} == {f"tt-{i}" for i in range(60)}


def test_violations_list_and_show_say_a_post_is_gone(db_url, clock):
    from click.testing import CliRunner

    from compliance.cli import main

    store = seeded(db_url, clock)
    mark_gone(store, [("tiktok", "tt-2")], now=clock, reason=REASON)
    with store.read() as session:
        rows = list_violations(session, ViolationFilter())
    gone_id = next(r["id"] for r in rows if r["gone_at"] is not None)
    listing = CliRunner().invoke(main, ["violations", "list", "--db", db_url])
    assert listing.exit_code == 0, listing.output
    line = next(ln for ln in listing.output.splitlines() if ln.startswith(f"{gone_id} "))
    assert " gone " in line
    shown = CliRunner().invoke(main, ["violations", "show", str(gone_id), "--db", db_url])
    assert shown.exit_code == 0, shown.output
    assert "gone since" in shown.output and "(evidence kept)" in shown.output
