"""A violation's lifecycle: open, fixed, regressed, waived (and expiring), acknowledged, notified."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from store_helpers import AMBIGUOUS, COMPLIANT, MISSING, counts, events, record, verdict, violation

from compliance.store.db import open_store
from compliance.store.lifecycle import (
    LifecycleError,
    acknowledge,
    expire_waivers,
    has_expired_waivers,
    mark_notified,
    waive,
)
from compliance.store.models import CaptionVersion, ViolationEvent


def version_id(store, caption: str) -> int:
    import hashlib

    sha = hashlib.sha256(caption.encode()).hexdigest()
    with store.read() as s:
        return s.execute(select(CaptionVersion.id).where(CaptionVersion.sha256 == sha)).scalar_one()


def test_open_fixed_regressed_and_fixed_again(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    v = violation(store, "FTC.C201")
    assert v.status == "open" and v.version_id == version_id(store, AMBIGUOUS)

    # A later version complies: fixed, and by which version.
    fixed_at = clock.advance(hours=2)
    stats = record(store, [verdict(COMPLIANT)], clock)
    assert stats.fixed == 1
    v = violation(store, "FTC.C201")
    assert v.status == "fixed" and v.status_at == fixed_at
    assert v.fixed_version_id == version_id(store, COMPLIANT)

    # The disclosure is removed again (the old caption is back): regressed.
    clock.advance(hours=2)
    stats = record(store, [verdict(AMBIGUOUS)], clock)
    assert stats.regressed == 1
    v = violation(store, "FTC.C201")
    assert v.status == "regressed" and v.fixed_version_id is None
    assert v.version_id == version_id(store, AMBIGUOUS)

    # A caption that breaks another rule instead: C201 fixed, D101 opened.
    clock.advance(hours=2)
    record(store, [verdict(MISSING)], clock)
    assert violation(store, "FTC.C201").status == "fixed"
    assert violation(store, "FTC.D101").status == "open"

    assert events(store, v.id) == [
        ("opened", None, "open", "check"),
        ("fixed", "open", "fixed", "check"),
        ("regressed", "fixed", "regressed", "check"),
        ("fixed", "regressed", "fixed", "check"),
    ]
    # Three distinct captions were seen, whatever the order.
    assert counts(store)["caption_versions"] == 3


def test_every_event_has_its_time_version_and_actor(db_url, clock):
    store = open_store(db_url)
    t0 = clock.now
    record(store, [verdict(AMBIGUOUS)], clock, actor="monitor:tiktok")
    t1 = clock.advance(minutes=30)
    record(store, [verdict(COMPLIANT)], clock, actor="monitor:tiktok")
    with store.read() as s:
        rows = s.scalars(select(ViolationEvent).order_by(ViolationEvent.id)).all()
    assert [(e.at, e.actor, e.version_id) for e in rows] == [
        (t0, "monitor:tiktok", version_id(store, AMBIGUOUS)),
        (t1, "monitor:tiktok", version_id(store, COMPLIANT)),
    ]


def test_still_violating_versions_change_nothing(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    clock.advance(hours=1)
    # A different caption, still with '#sp': a new version, but the violation just stays open.
    record(store, [verdict(AMBIGUOUS + " ✨")], clock)
    v = violation(store, "FTC.C201")
    assert v.status == "open" and len(events(store, v.id)) == 1
    assert counts(store)["caption_versions"] == 2


def test_acknowledging_is_an_event_not_a_status(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    vid = violation(store, "FTC.C201").id
    acked_at = clock.advance(minutes=5)
    with store.write() as s:
        acknowledge(s, vid, by="ana@brand.com", note="creator contacted", now=clock)
    v = violation(store, "FTC.C201")
    assert v.status == "open" and v.acked_by == "ana@brand.com" and v.acked_at == acked_at
    assert events(store, vid)[-1] == ("acknowledged", "open", "open", "ana@brand.com")
    with store.read() as s:
        note = s.execute(
            select(ViolationEvent.note).where(ViolationEvent.action == "acknowledged")
        ).scalar_one()
    assert note == "creator contacted"
    # An acknowledged violation is still fixed by a compliant version.
    clock.advance(hours=1)
    record(store, [verdict(COMPLIANT)], clock)
    assert violation(store, "FTC.C201").status == "fixed"


def test_a_waiver_holds_until_it_expires_then_the_violation_reopens(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    vid = violation(store, "FTC.C201").id
    until = clock.now + timedelta(days=30)
    with store.write() as s:
        waive(
            s,
            vid,
            by="legal@brand.com",
            reason="approved in-video disclosure",
            until=until,
            now=clock,
        )
    v = violation(store, "FTC.C201")
    assert (v.status, v.waived_by, v.waived_until) == ("waived", "legal@brand.com", until)

    # Still violating while waived: nothing changes.
    clock.advance(days=29)
    record(store, [verdict(AMBIGUOUS)], clock)
    assert violation(store, "FTC.C201").status == "waived"

    # One second before expiry nothing happens; at the expiry instant the violation reopens.
    clock.now = until - timedelta(seconds=1)
    with store.write() as s:
        assert not has_expired_waivers(s, now=clock)
        assert expire_waivers(s, now=clock) == []
    clock.now = until
    with store.write() as s:
        assert has_expired_waivers(s, now=clock)
        assert expire_waivers(s, now=clock) == [vid]
    v = violation(store, "FTC.C201")
    assert v.status == "open" and v.status_at == until
    assert events(store, vid)[-2:] == [
        ("waived", "open", "waived", "legal@brand.com"),
        ("waiver_expired", "waived", "open", "system"),
    ]
    with store.write() as s:  # idempotent
        assert expire_waivers(s, now=clock) == []


def test_recording_reopens_expired_waivers_itself(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    vid = violation(store, "FTC.C201").id
    with store.write() as s:
        waive(
            s,
            vid,
            by="legal@brand.com",
            reason="ok",
            until=clock.now + timedelta(days=1),
            now=clock,
        )
    clock.advance(days=2)
    stats = record(store, [verdict(AMBIGUOUS, id="tt-other")], clock)
    assert stats.reopened == 1 and violation(store, "FTC.C201").status == "open"


def test_a_waiver_without_expiry_never_expires_and_a_fix_ends_it(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    vid = violation(store, "FTC.C201").id
    with store.write() as s:
        waive(s, vid, by="legal@brand.com", reason="contract allows it", until=None, now=clock)
    clock.advance(days=3650)
    with store.write() as s:
        assert expire_waivers(s, now=clock) == []
    record(store, [verdict(COMPLIANT)], clock)
    assert violation(store, "FTC.C201").status == "fixed"
    assert events(store, vid)[-1][:3] == ("fixed", "waived", "fixed")


def test_waivers_need_a_reason_an_actor_a_future_expiry_and_an_unfixed_violation(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    vid = violation(store, "FTC.C201").id
    with pytest.raises(LifecycleError, match="reason"), store.write() as s:
        waive(s, vid, by="legal@brand.com", reason=" ", until=None, now=clock)
    with pytest.raises(LifecycleError, match="who"), store.write() as s:
        waive(s, vid, by="", reason="ok", until=None, now=clock)
    with pytest.raises(LifecycleError, match="already have expired"), store.write() as s:
        waive(s, vid, by="legal@brand.com", reason="ok", until=clock.now, now=clock)
    with pytest.raises(LifecycleError, match="no violation 999"), store.write() as s:
        waive(s, 999, by="legal@brand.com", reason="ok", until=None, now=clock)
    clock.advance(hours=1)
    record(store, [verdict(COMPLIANT)], clock)
    with pytest.raises(LifecycleError, match="is fixed"), store.write() as s:
        waive(s, vid, by="legal@brand.com", reason="ok", until=None, now=clock)
    assert [e[0] for e in events(store, vid)] == ["opened", "fixed"]  # nothing half-written


def test_notified_is_set_by_the_alerting_layer(db_url, clock):
    store = open_store(db_url)
    record(store, [verdict(AMBIGUOUS)], clock)
    vid = violation(store, "FTC.C201").id
    at = clock.advance(minutes=1)
    with store.write() as s:
        assert mark_notified(s, vid, by="slack:#brand-safety", now=clock) is True
    v = violation(store, "FTC.C201")
    assert v.status == "notified" and v.notified_at == at
    with store.write() as s:  # a repeat notification: logged, no status change
        assert mark_notified(s, vid, by="email:ana@brand.com", now=clock) is False
    # A notified violation is fixed like any other.
    clock.advance(hours=1)
    record(store, [verdict(COMPLIANT)], clock)
    assert [e[:3] for e in events(store, vid)] == [
        ("opened", None, "open"),
        ("notified", "open", "notified"),
        ("notified", "notified", "notified"),
        ("fixed", "notified", "fixed"),
    ]
