"""End to end: recording writes outbox rows in its transaction; the sender groups, dedups,
retries and records; the notification log survives a restart."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from alerts_helpers import HTTPRecorder, Reply, config_from
from sqlalchemy import func, select
from store_helpers import AMBIGUOUS, COMPLIANT, MISSING, verdict

from compliance import Campaign
from compliance.alerts import outbox
from compliance.alerts.dispatch import deliver
from compliance.alerts.outbox import on_changes
from compliance.store.db import open_store
from compliance.store.models import NotificationLog, OutboxRow, Violation, ViolationEvent
from compliance.store.record import Recorder

CAMPAIGN = Campaign(
    brand="GlowLab", handles=("@glowlab",), promo_codes=("MAYA15",), relationship="paid"
)

CONFIG = """
alerts:
  receivers:
    hook:
      webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}
  route:
    receiver: hook
    group_by: [creator]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 3d
  delivery: {max_tries: 3, backoff: 10s, max_wait: 1m}
"""


def record(store, clock, config, *captions_and_ids, author="@maya"):
    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        for caption, post_id in captions_and_ids:
            rec.add(verdict(caption, id=post_id, author=author, campaign=CAMPAIGN))


def rows(store, **where):
    with store.read() as s:
        stmt = select(OutboxRow)
        for k, v in where.items():
            stmt = stmt.where(getattr(OutboxRow, k) == v)
        return list(s.scalars(stmt.order_by(OutboxRow.id)))


@pytest.fixture
def env(tmp_path):
    with HTTPRecorder() as server:
        yield server, {"HOOK_URL": server.url + "/hook", "HOOK_SECRET": "s3cret-value"}


def test_changes_are_grouped_waited_for_and_sent_once(db_url, tmp_path, clock, env):
    server, environ = env
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    record(store, clock, config, (AMBIGUOUS, "p1"), (MISSING, "p2"))
    queued = rows(store)
    assert [r.status for r in queued] == ["pending", "pending"]
    assert all(r.due_at == clock.now + timedelta(seconds=30) for r in queued)

    report = deliver(store, config, now=clock, environ=environ)
    assert report.messages == 0 and not server.requests  # group_wait not over yet

    clock.advance(seconds=31)
    report = deliver(store, config, now=clock, environ=environ)
    assert (report.messages, report.alerts) == (1, 2)
    [request] = server.requests
    body = request.json()
    assert {a["rule"] for a in body["alerts"]} == {"FTC.C201", "FTC.D101"}
    assert request.headers["idempotency-key"] == body["idempotency_key"]
    assert request.headers["x-compliance-signature"].startswith("sha256=")
    assert {r.status for r in rows(store)} == {"sent"}

    with store.read() as s:
        statuses = set(s.scalars(select(Violation.status)))
        events = s.scalars(
            select(ViolationEvent.actor).where(ViolationEvent.action == "notified")
        ).all()
        logged = s.scalar(select(func.count()).select_from(NotificationLog))
    assert statuses == {"notified"}
    assert events == ["webhook:hook", "webhook:hook"]
    assert logged == 2

    # A restart (a new store object) sends nothing again.
    store.close()
    store = open_store(db_url)
    clock.advance(minutes=10)
    assert deliver(store, config, now=clock, environ=environ).messages == 0
    assert len(server.requests) == 1


def test_a_rolled_back_recording_leaves_no_alert(db_url, tmp_path, clock):
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    from compliance.store.observed import Observation
    from compliance.store.record import record_batch

    class Boom(Exception):
        pass

    def explode(session, changes):
        outbox.enqueue(session, changes, config, now=clock.now)
        raise Boom

    with pytest.raises(Boom), store.write() as session:
        record_batch(
            session,
            [Observation(verdict(AMBIGUOUS, campaign=CAMPAIGN))],
            now=clock,
            on_changes=explode,
        )
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0
        assert s.scalar(select(func.count()).select_from(Violation)) == 0


def test_fixed_follows_only_what_was_announced_and_regressed_is_announced(
    db_url, tmp_path, clock, env
):
    server, environ = env
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    record(store, clock, config, (AMBIGUOUS, "p1"))
    deliver(store, config, now=clock, environ=environ, flush=True)
    clock.advance(minutes=1)
    record(store, clock, config, (COMPLIANT, "p1"))
    clock.advance(minutes=6)
    deliver(store, config, now=clock, environ=environ)
    clock.advance(minutes=1)
    record(store, clock, config, (AMBIGUOUS, "p1"))
    clock.advance(minutes=6)
    deliver(store, config, now=clock, environ=environ)
    events = [r.json()["alerts"][0]["event"] for r in server.requests]
    assert events == ["opened", "fixed", "regressed"]


def test_failures_are_retried_with_backoff_then_dead_and_retry_sends_again(
    db_url, tmp_path, clock, env
):
    server, environ = env
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    record(store, clock, config, (AMBIGUOUS, "p1"))
    server.script = [Reply(500), Reply(500), Reply(500)]
    report = deliver(store, config, now=clock, environ=environ, flush=True)
    assert report.failed == 1
    [row] = rows(store)
    assert (row.status, row.tries, row.reason) == ("retrying", 1, "webhook answered HTTP 500")
    assert row.due_at == clock.now + timedelta(seconds=10)
    clock.advance(seconds=9)
    assert deliver(store, config, now=clock, environ=environ).messages == 0
    assert len(server.requests) == 1
    clock.advance(seconds=1)
    deliver(store, config, now=clock, environ=environ)
    [row] = rows(store)
    assert (row.status, row.tries) == ("retrying", 2)
    assert row.due_at == clock.now + timedelta(seconds=20)  # doubled
    clock.advance(seconds=20)
    report = deliver(store, config, now=clock, environ=environ)
    assert report.dead == 1
    with store.read() as s:
        [shown] = outbox.pending(s)
    assert shown.status == "dead" and "gave up after 3 tries" in shown.reason
    assert "s3cret" not in repr(shown) and server.url not in repr(shown)

    with store.write() as s:
        outbox.retry(s, row.id, now=clock.now)
    report = deliver(store, config, now=clock, environ=environ)
    assert report.messages == 1 and len(server.requests) == 4
    with store.read() as s:
        assert outbox.pending(s) == []


def test_retry_after_is_honoured_within_the_one_off_budget(db_url, tmp_path, clock, env):
    server, environ = env
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    record(store, clock, config, (AMBIGUOUS, "p1"))
    server.script = [Reply(429, {"Retry-After": "7"})]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds=seconds)

    report = deliver(store, config, now=clock, environ=environ, flush=True, wait=True, sleep=sleep)
    assert slept == [7.0]
    assert report.messages == 1 and len(server.requests) == 2 and report.left == 0

    # A Retry-After beyond the budget is not waited for: the row stays for the next run.
    record(store, clock, config, (MISSING, "p2"), author="@other")
    server.script = [Reply(429, {"Retry-After": "120"})]
    report = deliver(store, config, now=clock, environ=environ, flush=True, wait=True, sleep=sleep)
    assert slept == [7.0] and report.left == 1
    [row] = rows(store, status="retrying")
    assert row.due_at == clock.now + timedelta(seconds=120)


def test_repeat_interval_reannounces_what_is_still_open(db_url, tmp_path, clock, env):
    from compliance.alerts.dispatch import cycle

    server, environ = env
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    record(store, clock, config, (AMBIGUOUS, "p1"))
    deliver(store, config, now=clock, environ=environ, flush=True)
    clock.advance(days=2)
    cycle(store, config, now=clock, environ=environ)
    assert len(server.requests) == 1
    clock.advance(days=1, seconds=1)
    cycle(store, config, now=clock, environ=environ)
    assert len(server.requests) == 2
    assert server.requests[1].json()["alerts"][0]["reason"] == "repeat"
    cycle(store, config, now=clock, environ=environ)
    assert len(server.requests) == 2
    body = json.dumps(server.requests[1].json())
    assert "s3cret" not in body


def test_two_senders_never_claim_the_same_rows(db_url, tmp_path, clock):
    """PostgreSQL: the second sender skips the rows the first one has locked; SQLite: the
    second waits for the first writer, then finds them taken (sending, under a lease)."""
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    record(store, clock, config, (AMBIGUOUS, "p1"))
    record(store, clock, config, (MISSING, "p2"), author="@other")
    if store.dialect == "postgresql":
        with store.write() as first:
            mine = outbox.claim(first, now=clock.now, lease=timedelta(minutes=2), flush=True)
            with store.write() as second:
                theirs = outbox.claim(second, now=clock.now, lease=timedelta(minutes=2), flush=True)
    else:
        with store.write() as first:
            mine = outbox.claim(first, now=clock.now, lease=timedelta(minutes=2), flush=True)
        with store.write() as second:
            theirs = outbox.claim(second, now=clock.now, lease=timedelta(minutes=2), flush=True)
    assert len(mine) == 2 and theirs == []
    assert {r.status for r in rows(store)} == {"sending"}


def test_routes_match_a_configured_campaign_by_its_name(db_url, tmp_path, clock):
    """The campaign label is the campaign's key in compliance.yaml; an inline campaign
    (no name) is called by its first hashtag."""
    config = config_from(
        tmp_path,
        """
        alerts:
          receivers:
            spring: {webhook: {url_env: SPRING_URL}}
            fallback: {webhook: {url_env: OTHER_URL}}
          route:
            receiver: fallback
            routes:
              - match: {campaign: glowlab-spring}
                receiver: spring
        """,
    )
    store = open_store(db_url)
    named = replace(CAMPAIGN, name="glowlab-spring", hashtags=("#glowlabpartner",))
    inline = replace(CAMPAIGN, hashtags=("#glowlabpartner",))
    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        rec.add(verdict(MISSING, id="p1", author="@maya", campaign=named))
        rec.add(verdict(MISSING, id="p2", author="@maya", campaign=inline))
    by_post = {r.labels["campaign"]: r.receiver for r in rows(store)}
    assert by_post == {"glowlab-spring": "spring", "#glowlabpartner": "fallback"}
