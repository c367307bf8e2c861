"""Speed of the alerting pipeline: a burst of violation changes to digests, and the outbox view.

1. **burst**: 10,000 violation changes in one recording cycle (10,000 posts by 500
   creators, each opening one violation; verdicts from the engine on three captions,
   copied per post, not timed), recorded with the alerts' ``on_changes`` (outbox rows
   in the recording transactions), then one :func:`compliance.alerts.dispatch.deliver`
   with ``flush``: claim, notification log, silences, inhibition, rendering of one
   digest per creator and receiver, and delivery to three loopback receivers: a
   real SMTP server (aiosmtpd), a Slack incoming webhook and a signed webhook (both a
   real HTTP server), run in a child process as real receivers run elsewhere. Timed
   end to end; the SMTP connections opened are counted.
2. **pending**: a 1,000,000-row outbox history (all sent but 200 unfinished rows),
   then what ``compliance alerts pending`` reads: the first 100 unfinished rows and
   the count per status. Best of 5.

Targets (issue): the burst under 30 s, without one SMTP connection per message;
the pending view under 200 ms. The last line says PASS or FAIL (exit status 0).

    python bench/bench_alerts.py           # 10,000 changes, 1,000,000-row history
    python bench/bench_alerts.py --quick   # 2,000 changes, 100,000-row history
"""

from __future__ import annotations

import argparse
import dataclasses
import smtplib
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import _common
from _common import machine

BURST_TARGET = 30.0
PENDING_TARGET = 0.200
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc)
CAPTIONS = (
    "Loving my new serum from @glowlab! Use code MAYA15 #skincare #sp",
    "Loving my new serum from @glowlab! Use code MAYA15",
    "Obsessed with this glow from @glowlab, code MAYA15 #spon",
)


def verdicts(n: int, creators: int) -> list[Any]:
    from compliance import Campaign, Post, check, load_packs

    packs = load_packs()
    campaign = Campaign(
        brand="GlowLab", handles=("@glowlab",), promo_codes=("MAYA15",), relationship="paid"
    )
    base = [check(Post(c, platform="tiktok", campaign=campaign), packs) for c in CAPTIONS]
    out = []
    for i in range(n):
        v = base[i % len(base)]
        post = dataclasses.replace(
            v.post,
            id=f"tt-{i}",
            author=f"@creator{i % creators}",
            url=f"https://www.tiktok.com/v/{i}",
        )
        out.append(dataclasses.replace(v, post=post))
    return out


def burst(n: int, creators: int, workdir: Path) -> tuple[float, dict[str, Any]]:
    sys.path.insert(0, str(_common.REPO))
    from compliance.alerts.config import parse_alerts
    from compliance.alerts.dispatch import deliver
    from compliance.alerts.outbox import on_changes
    from compliance.alerts.receivers import Factories
    from compliance.packs import load_yaml
    from compliance.store.db import open_store
    from compliance.store.record import Recorder

    (workdir / "c.yaml").write_text(
        textwrap.dedent(
            """
            alerts:
              receivers:
                mail: {email: {smtp_host: 127.0.0.1, smtp_port: 1, from: a@b.example, to: [c@d.example]}}
                slack: {slack: {webhook_url_env: SLACK_URL}}
                hook: {webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}}
              route:
                receiver: mail
                group_by: [creator]
                routes:
                  - {match: {brand: GlowLab}, receiver: slack, continue: true}
                  - {match: {brand: GlowLab}, receiver: hook, continue: true}
                  - {match: {brand: GlowLab}, receiver: mail}
              delivery: {digest_limit: 50}
            """
        )
    )
    config = parse_alerts(load_yaml(workdir / "c.yaml"), "alerts")
    items = verdicts(n, creators)
    store = open_store(f"sqlite:///{workdir / 'burst.db'}")
    connections = [0]

    servers = _Servers()
    smtp_port, http_url = servers.start()

    def smtp(cfg: Any) -> smtplib.SMTP:
        connections[0] += 1
        return smtplib.SMTP("127.0.0.1", smtp_port, timeout=30)

    environ = {"SLACK_URL": http_url + "/slack", "HOOK_URL": http_url + "/hook", "HOOK_SECRET": "s"}
    start = time.perf_counter()
    with Recorder(store, now=lambda: NOW, on_changes=on_changes(config)) as rec:
        for v in items:
            rec.add(v)
    recorded = time.perf_counter()
    report = deliver(
        store, config, now=lambda: NOW, environ=environ, factories=Factories(smtp=smtp), flush=True
    )
    elapsed = time.perf_counter() - start
    emails, posts = servers.stop()
    info = {
        "record_s": recorded - start,
        "deliver_s": elapsed - (recorded - start),
        "messages": report.messages,
        "alerts": report.alerts,
        "emails": emails,
        "http_posts": posts,
        "smtp_connections": connections[0],
        "left": report.left,
    }
    store.close()
    return elapsed, info


def _serve(ready: Any, stop: Any) -> None:
    """The loopback receivers, in their own process (as real receivers are elsewhere)."""
    sys.path.insert(0, str(_common.REPO))
    from tests.alerts_helpers import HTTPRecorder, smtp_server

    with smtp_server() as (controller, received), HTTPRecorder() as http:
        ready.send((controller.port, http.url))
        ready.recv()  # stop
        ready.send((len(received), len(http.requests)))


class _Servers:
    """A child process running an SMTP server (aiosmtpd) and an HTTP server."""

    def start(self) -> tuple[int, str]:
        import multiprocessing

        self.conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=_serve, args=(child, None), daemon=True)
        self.proc.start()
        return self.conn.recv()

    def stop(self) -> tuple[int, int]:
        self.conn.send("stop")
        counts = self.conn.recv()
        self.proc.join(30)
        return counts


def pending_view(rows: int, workdir: Path) -> tuple[float, float]:
    from compliance.alerts import outbox
    from compliance.store.db import open_store
    from compliance.store.models import OutboxRow

    store = open_store(f"sqlite:///{workdir / 'history.db'}")
    table = OutboxRow.__table__
    chunk = 20_000
    unfinished = {
        i * (rows // 200): s for i, s in enumerate(["pending", "retrying", "dead", "sending"] * 50)
    }
    with store.write() as session:
        for start in range(0, rows, chunk):
            batch = []
            for i in range(start, min(rows, start + chunk)):
                status = unfinished.get(i, "sent")
                at = NOW - timedelta(minutes=rows - i)
                batch.append(
                    {
                        "receiver": ("mail", "slack", "hook")[i % 3],
                        "route": "0",
                        "group_key": f'0:{{"creator": "@creator{i % 5000}"}}',
                        "subject": f"violation:{i}",
                        "violation_id": None,
                        "event": "opened",
                        "change_key": f"opened@{i}@{at.isoformat()}",
                        "labels": {"creator": f"@creator{i % 5000}", "rule": "FTC.C201"},
                        "payload": {},
                        "group_interval": 300,
                        "repeat_interval": 14400,
                        "status": status,
                        "created_at": at,
                        "due_at": at,
                        "tries": 0 if status == "sent" else 3,
                        "reason": None if status == "sent" else "webhook answered HTTP 500",
                        "sent_at": at if status == "sent" else None,
                    }
                )
            session.execute(table.insert(), batch)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")

    def read() -> None:
        with store.read() as session:
            shown = outbox.pending(session, limit=100)
            counts = outbox.counts(session)
        assert len(shown) == 100 and sum(counts.values()) == 200, (len(shown), counts)

    first = time.perf_counter()
    read()
    cold = time.perf_counter() - first
    best = min(_timed(read) for _ in range(5))
    store.close()
    return cold, best


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 changes, 100,000-row history")
    args = parser.parse_args()
    changes, history = (2_000, 100_000) if args.quick else (10_000, 1_000_000)
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        elapsed, info = burst(changes, 500, work)
        print(
            f"burst: {changes:,} violation changes -> {info['messages']:,} digests "
            f"({info['alerts']:,} alerts to 3 receivers: {info['emails']} emails over "
            f"{info['smtp_connections']} SMTP connection(s), {info['http_posts']} HTTP posts) "
            f"in {elapsed:.2f} s (recording with outbox {info['record_s']:.2f} s, "
            f"delivery {info['deliver_s']:.2f} s); left in the outbox: {info['left']}"
        )
        cold, best = pending_view(history, work)
        print(
            f"pending view over a {history:,}-row outbox: first {cold * 1000:.1f} ms, best of 5 {best * 1000:.1f} ms"
        )
    ok = (
        elapsed < BURST_TARGET
        and info["smtp_connections"] < info["emails"]
        and best < PENDING_TARGET
    )
    print(
        f"{'PASS' if ok else 'FAIL'}: burst {elapsed:.1f} s (target < {BURST_TARGET:.0f} s), "
        f"{info['smtp_connections']} SMTP connection(s) for {info['emails']} emails, "
        f"pending {best * 1000:.0f} ms (target < {PENDING_TARGET * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
