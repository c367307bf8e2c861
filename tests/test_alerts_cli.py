"""``compliance alerts``: registered under a main group the way the CLI wires it."""

from __future__ import annotations

import json

import click
import pytest
from alerts_helpers import HTTPRecorder, Reply, config_from
from click.testing import CliRunner
from store_helpers import AMBIGUOUS, verdict
from test_alerts_pipeline import CAMPAIGN, CONFIG

from compliance.alerts.cli import LOAD, NOW, alerts
from compliance.alerts.outbox import on_changes
from compliance.store.db import open_store
from compliance.store.record import Recorder

ROUTES = """
alerts:
  receivers:
    hook: {webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}}
    legal: {webhook: {url_env: LEGAL_URL}}
  route:
    receiver: hook
    group_by: [creator]
    routes:
      - match: {jurisdiction: GB}
        receiver: legal
        continue: true
"""


@pytest.fixture
def cli(tmp_path, clock):
    """A main group that provides the loader and the clock, as the wiring will."""
    state = {
        "config": config_from(tmp_path, CONFIG),
        "store": open_store(f"sqlite:///{tmp_path / 'a.db'}"),
    }

    @click.group()
    @click.pass_context
    def main(ctx):
        ctx.meta[LOAD] = lambda path: (state["config"], state["store"])
        ctx.meta[NOW] = clock

    main.add_command(alerts)
    runner = CliRunner()

    def run(*args, env=None):
        return runner.invoke(main, ["alerts", *args], env=env, catch_exceptions=False)

    run.state = state
    return run


def test_routes_test_says_who_gets_it_and_why(cli, tmp_path):
    cli.state["config"] = config_from(tmp_path, ROUTES, "routes.yaml")
    result = cli("routes", "test", "brand=glowlab", "jurisdiction=GB", "creator=@maya")
    assert result.exit_code == 0, result.output
    assert "* route 0.0" in result.output and "legal: route 0.0" in result.output
    assert "hook: route 0" not in result.output  # a child took it: the root's receiver gets nothing
    result = cli("routes", "test", "brand=glowlab")
    assert "hook: route 0," in result.output
    bad = cli("routes", "test", "colour=red")
    assert bad.exit_code == 2 and "not a label" in bad.output


def test_pending_retry_and_send(cli, clock):
    store, config = cli.state["store"], cli.state["config"]
    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        rec.add(verdict(AMBIGUOUS, id="p1", campaign=CAMPAIGN))
    result = cli("pending")
    assert (
        result.exit_code == 0
        and " pending " in result.output
        and "creator=@maya rule=FTC.C201" in result.output
    )
    with HTTPRecorder() as server:
        server.script = [Reply(500)] * 3
        env = {"HOOK_URL": server.url + "/x?token=t0ken", "HOOK_SECRET": "s3cret"}
        for _ in range(3):
            cli("send", "--no-wait", env=env)
            clock.advance(hours=1)
        result = cli("pending", "--format", "json")
        [row] = [json.loads(line) for line in result.output.splitlines()]
        assert row["status"] == "dead" and "HTTP 500" in row["reason"]
        assert "t0ken" not in result.output and "s3cret" not in result.output
        assert cli("retry", str(row["id"])).exit_code == 0
        sent = cli("send", env=env)
        assert "1 message sent" in sent.output
    assert cli("pending").output.strip() == "the outbox is empty"
    missing = cli("retry", "999")
    assert (
        missing.exit_code == 2
        and missing.output.strip() == "compliance: error: no alert 999 in the outbox"
    )


def test_silences_add_list_expire(cli, clock):
    added = cli(
        "silence",
        "add",
        "creator=@maya",
        "code=~below.*",
        "--author",
        "ana",
        "--comment",
        "agreed",
        "--duration",
        "7d",
    )
    assert added.exit_code == 0, added.output
    assert "active" in added.output and "creator=@maya code=~below.*" in added.output
    listed = cli("silence", "list")
    assert listed.output.count("active") == 1
    sid = listed.output.split()[0]
    expired = cli("silence", "expire", sid, "--by", "bo")
    assert "expired" in expired.output and "expired by bo" in expired.output
    assert cli("silence", "list").output.strip() == "no silences"
    assert "expired" in cli("silence", "list", "--expired").output
    bad = cli("silence", "add", "colour=red", "--author", "a", "--comment", "c", "--duration", "1d")
    assert bad.exit_code == 2 and "unknown label 'colour'" in bad.output
    again = cli("silence", "expire", sid, "--by", "bo")
    assert again.exit_code == 2 and "already expired" in again.output


def test_a_silenced_alert_is_dropped_with_the_reason(cli, clock):
    from compliance.alerts.dispatch import deliver
    from compliance.alerts.outbox import pending

    store, config = cli.state["store"], cli.state["config"]
    cli(
        "silence",
        "add",
        "creator=@maya",
        "--author",
        "ana",
        "--comment",
        "on holiday",
        "--duration",
        "1d",
    )
    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        rec.add(verdict(AMBIGUOUS, id="p1", campaign=CAMPAIGN))
    report = deliver(store, config, now=clock, environ={}, flush=True)
    assert report.dropped == 1 and report.messages == 0
    with store.read() as s:
        [row] = pending(s, statuses=("dropped",))
    assert row.reason == "silenced by silence 1"


def test_test_receiver_sends_a_sample_and_reports_failure_in_one_line(cli, tmp_path):
    with HTTPRecorder() as server:
        ok = cli("test", "--receiver", "hook", env={"HOOK_URL": server.url, "HOOK_SECRET": "s"})
        assert ok.exit_code == 0 and "sent a test alert to hook" in ok.output
        assert server.requests[0].json()["alerts"][0]["creator"] == "@test"
    missing = cli("test", "--receiver", "hook", env={"HOOK_URL": None, "HOOK_SECRET": None})
    assert missing.exit_code == 2
    assert (
        missing.output.strip()
        == "compliance: error: receiver hook: environment variable HOOK_URL is not set"
    )
    assert cli("test", "--receiver", "nobody").exit_code == 2


def test_the_default_loader_reads_the_file(tmp_path, monkeypatch):
    (tmp_path / "compliance.yaml").write_text(ROUTES)
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    runner = CliRunner()
    result = runner.invoke(
        alerts, ["--config", str(tmp_path / "compliance.yaml"), "routes", "test", "jurisdiction=GB"]
    )
    assert result.exit_code == 0 and "legal: route 0.0" in result.output
    (tmp_path / "bad.yaml").write_text("alerts:\n  receivers: {}\n  route: {receiver: x}\n")
    bad = runner.invoke(alerts, ["--config", str(tmp_path / "bad.yaml"), "pending"])
    assert bad.exit_code == 2 and f"{tmp_path / 'bad.yaml'}:2: alerts.receivers:" in bad.output
