"""The delivery guarantee under a real crash: a sender killed with SIGKILL between sending
and recording. Promised (README "Alerts"): at-least-once, the resend carries the same
idempotency key and body, and the notification log then records the change once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from alerts_helpers import HTTPRecorder, Reply, config_from
from sqlalchemy import select
from store_helpers import AMBIGUOUS, verdict
from test_alerts_pipeline import CAMPAIGN, CONFIG

from compliance.alerts.dispatch import deliver
from compliance.alerts.outbox import on_changes
from compliance.store.db import open_store
from compliance.store.models import NotificationLog, OutboxRow
from compliance.store.record import Recorder

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from compliance.alerts.dispatch import deliver
    from compliance.packs import load_yaml
    from compliance.alerts.config import parse_alerts
    from compliance.store.db import open_store

    url, config_path, at = sys.argv[1:4]
    config = parse_alerts(load_yaml(__import__("pathlib").Path(config_path)), "alerts")
    now = datetime.fromisoformat(at)
    deliver(open_store(url), config, now=lambda: now, flush=True)
    print("recorded", flush=True)
    """
)


def test_kill_9_between_send_and_record_resends_with_the_same_key_once(db_url, tmp_path, clock):
    config = config_from(tmp_path, CONFIG)
    store = open_store(db_url)
    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        rec.add(verdict(AMBIGUOUS, id="p1", campaign=CAMPAIGN))

    with HTTPRecorder() as server:
        # The first request is received but not answered: the sender is inside send().
        server.script = [Reply(200, delay=30)]
        env = {
            **os.environ,
            "HOOK_URL": server.url + "/hook",
            "HOOK_SECRET": "s",
            "PYTHONPATH": str(ROOT),
        }
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                db_url,
                str(tmp_path / "compliance.yaml"),
                clock.now.isoformat(),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        try:
            assert server.received.wait(60), "the child never sent"
            os.kill(child.pid, signal.SIGKILL)
            assert child.wait(30) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
        assert child.stdout.read() == b""  # it never got to record

        with store.read() as s:
            [row] = s.scalars(select(OutboxRow)).all()
            assert row.status == "sending" and s.scalars(select(NotificationLog)).all() == []
        lease_end = row.due_at

        environ = {"HOOK_URL": server.url + "/hook", "HOOK_SECRET": "s"}
        # While the dead sender's lease runs, nobody else takes the row.
        assert deliver(store, config, now=clock, environ=environ).messages == 0
        clock.now = lease_end + timedelta(seconds=1)
        report = deliver(store, config, now=clock, environ=environ)
        assert report.messages == 1
        clock.advance(days=1)
        assert deliver(store, config, now=clock, environ=environ).messages == 0

    first, second = server.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.body == second.body
    with store.read() as s:
        [logged] = s.scalars(select(NotificationLog)).all()
        assert logged.count == 1
        assert s.scalars(select(OutboxRow.status)).all() == ["sent"]
