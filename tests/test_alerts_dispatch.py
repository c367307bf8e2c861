"""The sender's decisions end to end: inhibition, monitors, several receivers, waived violations."""

from __future__ import annotations

from datetime import timedelta

from alerts_helpers import HTTPRecorder, config_from
from sqlalchemy import select
from store_helpers import AMBIGUOUS, verdict
from test_alerts_pipeline import CAMPAIGN

from compliance.alerts.alert import Alert, monitor_alert
from compliance.alerts.dispatch import deliver
from compliance.alerts.outbox import enqueue_alerts, on_changes, pending
from compliance.store.db import open_store
from compliance.store.lifecycle import waive
from compliance.store.models import NotificationLog, Violation, ViolationEvent
from compliance.store.record import Recorder

TWO = """
alerts:
  receivers:
    hook: {webhook: {url_env: HOOK_URL}}
    tickets: {webhook: {url_env: TICKETS_URL}}
  route:
    receiver: hook
    group_by: [post]
    routes:
      - match: {event: [monitor_failing, monitor_recovered]}
        receiver: tickets
        group_by: [monitor]
      - match: {brand: GlowLab}
        receiver: tickets
        continue: true
      - match: {platform: tiktok}
        receiver: hook
  inhibit:
    - source: {code: missing_disclosure}
      target: {code: [below_fold, buried_in_hashtags]}
      equal: [post]
"""


def synthetic(subject, code, post="tiktok:1", clock=None):
    labels = {
        "code": code,
        "post": post,
        "event": "opened",
        "creator": "@maya",
        "rule": f"X.{code}",
    }
    return Alert(
        subject,
        "opened",
        f"opened@{subject}",
        labels,
        {"kind": "violation", "event": "opened"},
        clock.now,
    )


def test_a_missing_disclosure_mutes_placement_findings_on_the_same_post(tmp_path, clock):
    config = config_from(tmp_path, TWO)
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.write() as s:
        enqueue_alerts(
            s,
            [
                synthetic("violation:1", "missing_disclosure", clock=clock),
                synthetic("violation:2", "below_fold", clock=clock),
                synthetic("violation:3", "below_fold", post="tiktok:2", clock=clock),
            ],
            config,
            now=clock.now,
        )
    with HTTPRecorder() as server:
        report = deliver(store, config, now=clock, environ={"HOOK_URL": server.url}, flush=True)
    assert (report.messages, report.alerts, report.dropped) == (2, 2, 1)
    with store.read() as s:
        [dropped] = pending(s, statuses=("dropped",))
    assert dropped.subject == "violation:2" and dropped.reason == "inhibited by violation:1"


def test_monitor_failing_and_recovered_go_to_their_route(tmp_path, clock):
    config = config_from(tmp_path, TWO)
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    failing = monitor_alert(
        3,
        failing=True,
        name="maya-tiktok",
        platform="tiktok",
        creator="@maya",
        failures=5,
        error="HTTP 429",
        at=clock.now,
    )
    with store.write() as s:
        enqueue_alerts(s, [failing], config, now=clock.now)
    with HTTPRecorder() as server:
        env = {"HOOK_URL": server.url + "/hook", "TICKETS_URL": server.url + "/tickets"}
        clock.advance(seconds=31)
        deliver(store, config, now=clock, environ=env)
        clock.advance(minutes=10)
        recovered = monitor_alert(
            3,
            failing=False,
            name="maya-tiktok",
            platform="tiktok",
            creator="@maya",
            failures=0,
            error=None,
            at=clock.now,
        )
        with store.write() as s:
            enqueue_alerts(s, [recovered], config, now=clock.now)
        deliver(store, config, now=clock, environ=env, flush=True)
    assert [r.path for r in server.requests] == ["/tickets", "/tickets"]
    assert [r.json()["alerts"][0]["event"] for r in server.requests] == [
        "monitor_failing",
        "monitor_recovered",
    ]
    assert (
        server.requests[0].json()["subject"] == "[compliance] Monitor failing: maya-tiktok (tiktok)"
    )


def test_each_receiver_is_logged_and_the_status_changes_once(tmp_path, clock):
    config = config_from(tmp_path, TWO)
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        rec.add(verdict(AMBIGUOUS, id="p1", campaign=CAMPAIGN))
    with HTTPRecorder() as server:
        env = {"HOOK_URL": server.url + "/hook", "TICKETS_URL": server.url + "/tickets"}
        report = deliver(store, config, now=clock, environ=env, flush=True)
    assert report.messages == 2 and sorted(r.path for r in server.requests) == ["/hook", "/tickets"]
    with store.read() as s:
        receivers = sorted(s.scalars(select(NotificationLog.receiver)))
        status = s.scalar(select(Violation.status))
        trail = s.execute(
            select(ViolationEvent.actor, ViolationEvent.from_status, ViolationEvent.to_status)
            .where(ViolationEvent.action == "notified")
            .order_by(ViolationEvent.id)
        ).all()
    assert receivers == ["hook", "tickets"] and status == "notified"
    # The first receiver changed the status; the second is on record without changing it.
    assert [tuple(t) for t in trail] == [
        ("webhook:hook", "open", "notified"),
        ("webhook:tickets", "notified", "notified"),
    ]


def test_a_violation_waived_before_sending_is_not_announced(tmp_path, clock):
    config = config_from(tmp_path, TWO)
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        rec.add(verdict(AMBIGUOUS, id="p1", campaign=CAMPAIGN))
    with store.write() as s:
        vid = s.scalar(select(Violation.id))
        waive(s, vid, by="legal", reason="approved", until=None, now=clock)
    clock.advance(seconds=40)
    report = deliver(store, config, now=clock, environ={})
    assert report.messages == 0 and report.dropped == 2
    with store.read() as s:
        reasons = {p.reason for p in pending(s, statuses=("dropped",))}
    assert reasons == {"violation was waived before it was sent"}


def test_a_missing_variable_is_a_retry_not_a_crash(tmp_path, clock):
    config = config_from(tmp_path, TWO)
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.write() as s:
        enqueue_alerts(
            s, [synthetic("violation:1", "missing_disclosure", clock=clock)], config, now=clock.now
        )
    report = deliver(store, config, now=clock, environ={}, flush=True)
    assert report.failed == 1 and report.left == 1
    with store.read() as s:
        [row] = pending(s)
    assert row.status == "retrying" and row.reason == "environment variable HOOK_URL is not set"
    assert row.due_at == clock.now + timedelta(seconds=30)
