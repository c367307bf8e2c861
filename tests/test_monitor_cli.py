"""The monitors from the command line, over the platform fakes on loopback HTTP.

`compliance check` on accounts, post URLs, a configured creator and a hashtag
challenge; `compliance daemon --once`; a real `compliance daemon` process with
SIGHUP and SIGTERM; `compliance status`; alerts sent after a one-off check.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import bluesky, mastodon, tiktok, youtube
from fakes.server import FakeServer
from fakes.world import World

from compliance.cli import main
from compliance.store.db import open_store
from compliance.store.monitors import list_monitor_states

PLATFORMS = ("tiktok", "youtube", "bluesky", "mastodon")


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[World, dict[str, FakeServer]]]:
    world = World()
    servers = {name: FakeServer() for name in PLATFORMS}
    tiktok.install(servers["tiktok"], world)
    youtube.install(servers["youtube"], world)
    bluesky.install(servers["bluesky"], world)
    mastodon.install(servers["mastodon"], world)
    for server in servers.values():
        server.start()
    yield world, servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def world(fakes) -> World:
    world, servers = fakes
    world.__init__()  # type: ignore[misc]
    for server in servers.values():
        server.log.clear()
        server.faults.clear()
    world.post("tiktok", "glowwithmara", "Loving @glowlab serum, code MAYA15 #skincare", age=600)
    world.post("tiktok", "glowwithmara", "#ad my @glowlab routine with code MAYA15", age=7200)
    world.post("bluesky", "mara.bsky.social", "a walk by the sea #weekend", age=900)
    world.post("mastodon", "mara", "Sponsored by @glowlab, the serum I use daily #ad", age=1200)
    world.post("bluesky", "dancer.bsky.social", "my #guacdance entry with @chipotle!", age=300)
    world.post("mastodon", "taco", "doing the #GuacDance for @chipotle #contest", age=400)
    return world


def config_file(tmp_path: Path, servers: dict[str, FakeServer], extra: str = "") -> Path:
    path = tmp_path / "compliance.yaml"
    path.write_text(
        f"""\
database: sqlite:///{tmp_path / "record.db"}
jurisdiction: US
platforms:
  tiktok: {{web_url: "{servers["tiktok"].url}", api_url: "{servers["tiktok"].url}", short_url: "{servers["tiktok"].url}/vm"}}
  youtube: {{api_url: "{servers["youtube"].url}/youtube/v3", web_url: "{servers["youtube"].url}", key_env: CT_YT_KEY}}
  bluesky: {{api_url: "{servers["bluesky"].url}"}}
  mastodon: {{instances: {{"mastodon.social": "{servers["mastodon"].url}"}}}}
campaigns:
  glowlab-spring:
    brand: GlowLab
    handles: ["@glowlab"]
    promo_codes: [MAYA15]
    relationship: paid
  chipotle-guac:
    brand: Chipotle
    handles: ["@chipotle"]
    hashtags: ["#guacdance"]
    relationship: contest
creators:
  mara:
    accounts: ["tiktok:@glowwithmara", "bluesky:mara.bsky.social", "mastodon:@mara@mastodon.social"]
    campaigns: [glowlab-spring]
hashtags:
  guacdance:
    tag: "#guacdance"
    platforms: [bluesky, mastodon]
    campaigns: [chipotle-guac]
schedule: {{every: 6h, jitter: 10m}}
{extra}""",
        encoding="utf-8",
    )
    return path


def run(*args: str, env: dict[str, str] | None = None):
    # The config's database: is the one to use here ($COMPLIANCE_DATABASE_URL would win).
    env = {"COMPLIANCE_DATABASE_URL": None, **(env or {})}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def jsonl(output: str) -> list[dict]:
    """The verdict lines of a --format jsonl report (stderr's lines are mixed into output)."""
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_check_an_account_reports_each_post_with_its_id_and_url_and_records_it(
    world, fakes, tmp_path
):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    result = run("check", "tiktok:@glowwithmara", "--config", str(cfg), "--format", "jsonl")
    assert result.exit_code == 1, result.output  # the first post has no disclosure
    rows = jsonl(result.output)
    assert [r["verdict"] for r in rows] == ["violation", "compliant"]
    assert all(
        r["id"] and r["url"].startswith("https://www.tiktok.com/@glowwithmara/video/") for r in rows
    )
    assert all(r["where"] == r["url"] for r in rows)
    store = open_store(f"sqlite:///{tmp_path / 'record.db'}")
    from compliance.store.queries import ViolationFilter, list_violations

    with store.read() as session:
        assert [v["rule"] for v in list_violations(session, ViolationFilter())] == ["FTC.D101"]
    assert list_monitor_states(store) == []  # a one-off check leaves no monitor state


def test_limit_no_record_and_campaign_flags(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    db = tmp_path / "record.db"
    result = run(
        "check",
        "tiktok:@glowwithmara",
        "--config",
        str(cfg),
        "--limit",
        "1",
        "--no-record",
        "--brand",
        "GlowLab",
        "--handle",
        "glowlab",
        "--format",
        "jsonl",
    )
    assert result.exit_code == 1, result.output
    rows = jsonl(result.output)
    assert len(rows) == 1 and rows[0]["verdict"] == "violation"
    assert not db.exists()


def test_check_a_post_url(world, fakes, tmp_path):
    _, servers = fakes
    post = world.accounts[("tiktok", "glowwithmara")].posts[0]
    cfg = config_file(tmp_path, servers)
    url = f"https://www.tiktok.com/@glowwithmara/video/{post.id}"
    result = run("check", url, "--config", str(cfg), "--format", "json")
    assert result.exit_code == 1, result.output
    (out,) = json.loads(result.stdout)
    assert out["id"] == post.id and out["verdict"] == "violation"


def test_check_a_tiktok_short_link_reports_and_records_the_video_it_opens(world, fakes, tmp_path):
    _, servers = fakes
    post = world.accounts[("tiktok", "glowwithmara")].posts[0]
    cfg = config_file(tmp_path, servers)
    for host in ("vm.tiktok.com", "www.tiktok.com"):  # the app's link and the /t/ form
        link = tiktok.short_link(post, host)
        result = run("check", link, "--config", str(cfg), "--format", "json")
        assert result.exit_code == 1, result.output
        (out,) = json.loads(result.stdout)
        assert out["id"] == post.id and out["verdict"] == "violation"
        assert out["url"] == f"https://www.tiktok.com/@glowwithmara/video/{post.id}"
    store = open_store(f"sqlite:///{tmp_path / 'record.db'}")
    from compliance.store.queries import ViolationFilter, list_violations

    with store.read() as session:
        rows = list_violations(session, ViolationFilter())
    # Both links are the one post, recorded under its video id: one violation, not two.
    assert [(r["rule"], r["post"]) for r in rows] == [("FTC.D101", post.id)], rows
    world.delete(post)  # the link still leads to the video, whose page now says deleted
    gone = run("check", tiktok.short_link(post), "--config", str(cfg))
    assert gone.exit_code == 2 and "marked gone (its evidence is kept)" in gone.output


def test_a_tiktok_short_link_that_fails_is_one_line_naming_the_link(world, fakes, tmp_path):
    from fakes.server import Response

    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    missing = "https://vm.tiktok.com/ZMnosuch1/"
    result = run("check", missing, "--config", str(cfg))
    assert result.exit_code == 2, result.output
    (line,) = [ln for ln in result.output.splitlines() if missing in ln]
    assert line.startswith(f"compliance: {missing}: ") and "no such short link" in line
    # A redirect to loopback on a port nobody configured: refused before it is read.
    servers["tiktok"].fail(
        "/vm/", Response(302, b"", {"location": "http://127.0.0.1:9/@x/video/7700000000000000001"})
    )
    post = world.accounts[("tiktok", "glowwithmara")].posts[0]
    link = tiktok.short_link(post)
    refused = run("check", link, "--config", str(cfg))
    assert refused.exit_code == 2, refused.output
    assert f"{link}: " in refused.output and "not allowed" in refused.output
    assert "Traceback" not in refused.output and "/oembed" not in str(servers["tiktok"].log)


def test_a_url_of_no_supported_platform_is_a_usage_error(world, fakes, tmp_path):
    result = run("check", "https://example.com/some/page")
    assert result.exit_code == 2
    assert "not a post URL of a supported platform" in result.output


def test_check_a_creator_reads_every_account_with_the_campaigns(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    result = run("check", "--config", str(cfg), "--creator", "mara", "--format", "jsonl")
    assert result.exit_code == 1, result.output
    rows = jsonl(result.output)
    by_platform = {}
    for r in rows:
        by_platform.setdefault(r["platform"], []).append(r["verdict"])
    assert by_platform == {
        "tiktok": ["violation", "compliant"],
        "bluesky": ["not_sponsored"],
        "mastodon": ["compliant"],
    }


def test_check_a_hashtag_challenge_reads_its_entries_on_every_platform(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    result = run("check", "--config", str(cfg), "--hashtag", "guacdance", "--format", "jsonl")
    rows = jsonl(result.output)
    assert {r["platform"] for r in rows} == {"bluesky", "mastodon"}, result.output
    verdicts = {r["platform"]: r["verdict"] for r in rows}
    # A contest entry needs #contest (FTC); the Mastodon entry has it.
    assert verdicts["mastodon"] == "compliant"
    assert verdicts["bluesky"] == "violation"
    assert result.exit_code == 1


def test_an_unknown_creator_and_a_missing_account_are_one_line_errors(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    unknown = run("check", "--config", str(cfg), "--creator", "nobody")
    assert unknown.exit_code == 2 and "no such creator" in unknown.output
    missing = run(
        "check", "bluesky:ghost.bsky.social", "mastodon:@mara@mastodon.social", "--config", str(cfg)
    )
    assert missing.exit_code == 2, missing.output
    errors = [
        ln for ln in missing.output.splitlines() if ln.startswith("compliance: check:bluesky")
    ]
    assert len(errors) == 1 and "Traceback" not in missing.output
    assert "/@mara/" in missing.output and "COMPLIANT" in missing.output  # still checked


def test_a_secret_is_never_printed(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    secret = "AIzaSyTOTALLY-SECRET-value-0000000000"
    result = run("check", "youtube:@nobodyhere", "--config", str(cfg), env={"CT_YT_KEY": secret})
    assert result.exit_code == 2
    assert secret not in result.output


def test_daemon_once_records_and_status_shows_every_monitor(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    result = run("daemon", "--config", str(cfg), "--once", "--log-format", "json")
    assert result.exit_code == 0, result.output
    status = run("status", "--config", str(cfg), "--format", "json")
    assert status.exit_code == 0, status.output
    states = {s["key"]: s for s in json.loads(status.output)}
    assert set(states) == {
        "creator:mara:tiktok:@glowwithmara",
        "creator:mara:bluesky:mara.bsky.social",
        "creator:mara:mastodon:@mara@mastodon.social",
        "hashtag:guacdance:bluesky",
        "hashtag:guacdance:mastodon",
    }
    assert all(s["last_outcome"] == "ok" for s in states.values()), states
    text = run("status", "--config", str(cfg))
    assert "creator:mara:tiktok:@glowwithmara" in text.output
    runs = run("status", "creator:mara:tiktok:@glowwithmara", "--config", str(cfg))
    assert runs.exit_code == 0 and "ok" in runs.output


class _Hook(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append(body)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


HOOK_ALERTS = """\
alerts:
  receivers:
    tickets:
      webhook: {url_env: CT_HOOK_URL, secret_env: CT_HOOK_SECRET}
  route:
    receiver: tickets
    group_by: [creator]
"""


@pytest.fixture
def hook_env() -> Iterator[dict[str, str]]:
    """A webhook receiver on loopback (what it receives: ``_Hook.received``); the
    environment HOOK_ALERTS names."""
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    yield {
        "CT_HOOK_URL": f"http://127.0.0.1:{hook.server_address[1]}/hook",
        "CT_HOOK_SECRET": "s3cret",
    }
    hook.shutdown()


def test_a_one_off_check_sends_its_alerts_once(world, fakes, tmp_path, hook_env):
    _, servers = fakes
    env = hook_env
    cfg = config_file(tmp_path, servers, HOOK_ALERTS)
    first = run("check", "tiktok:@glowwithmara", "--config", str(cfg), env=env)
    assert first.exit_code == 1, first.output
    assert "alerts: 1 message sent" in first.output
    assert len(_Hook.received) == 1
    assert b"FTC.D101" in _Hook.received[0]
    again = run("check", "tiktok:@glowwithmara", "--config", str(cfg), env=env)
    assert again.exit_code == 1
    assert len(_Hook.received) == 1  # nothing changed: nobody is told twice
    quiet = run("check", "tiktok:@glowwithmara", "--config", str(cfg), "--no-alerts", env=env)
    assert quiet.exit_code == 1 and "alerts:" not in quiet.output


def test_a_monitor_that_keeps_failing_is_announced_once_and_its_recovery_too(
    world, fakes, tmp_path
):
    _, servers = fakes
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        extra = """\
alerts:
  receivers:
    tickets:
      webhook: {url_env: CT_HOOK_URL, secret_env: CT_HOOK_SECRET}
  route:
    receiver: tickets
    group_by: [monitor]
    group_wait: 0s
"""
        cfg = config_file(tmp_path, servers, extra)
        text = cfg.read_text().replace("jitter: 10m}", "jitter: 10m, max_failures: 2}")
        cfg.write_text(text)
        env = {"CT_HOOK_URL": f"http://127.0.0.1:{hook.server_address[1]}/h", "CT_HOOK_SECRET": "k"}
        world.account("bluesky", "mara.bsky.social").suspended = True  # blocked, not deleted

        def events() -> list[str]:
            return [
                alert["event"]
                for body in _Hook.received
                for alert in json.loads(body)["alerts"]
                if alert["event"].startswith("monitor_")
            ]

        assert run("daemon", "--config", str(cfg), "--once", env=env).exit_code == 1
        assert events() == []  # one failure is not yet a failing monitor
        assert run("daemon", "--config", str(cfg), "--once", env=env).exit_code == 1
        assert events() == ["monitor_failing"]
        assert run("daemon", "--config", str(cfg), "--once", env=env).exit_code == 1
        assert events() == ["monitor_failing"]  # still failing: not announced again
        world.account("bluesky", "mara.bsky.social").suspended = False
        assert run("daemon", "--config", str(cfg), "--once", env=env).exit_code == 0
        assert events() == ["monitor_failing", "monitor_recovered"]
    finally:
        hook.shutdown()


def _wait_for(
    stream_lines: list[str], text: str, proc: subprocess.Popen, limit: float = 60
) -> None:
    deadline = time.monotonic() + limit
    while not any(text in line for line in stream_lines):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged; got:\n" + "".join(stream_lines))
        time.sleep(0.05)


def _wait_count(
    stream_lines: list[str], text: str, count: int, proc: subprocess.Popen, limit: float = 60
) -> None:
    deadline = time.monotonic() + limit
    while sum(text in line for line in stream_lines) < count:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(
                f"{text!r} not logged {count} times; got:\n" + "".join(stream_lines)
            )
        time.sleep(0.05)


def _daemon(cfg: Path, *extra: str) -> tuple[subprocess.Popen, list[str], threading.Thread]:
    """A `compliance daemon` process on ``cfg``; the lines it logs, as they come."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COMPLIANCE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "compliance.cli", "daemon", "--config", str(cfg), *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True
    )
    reader.start()
    return proc, lines, reader


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_the_daemon_process_reloads_on_sighup_and_stops_cleanly_on_sigterm(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    proc, lines, reader = _daemon(cfg, "--log-format", "json")
    try:
        _wait_for(lines, '"event": "monitor_run"', proc)
        _wait_for(lines, "daemon started: 5 monitor(s)", proc)
        cfg.write_text(cfg.read_text() + "\ncampaigns: [broken\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        _wait_for(lines, "reload failed, keeping the running configuration", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    assert any("daemon stopped" in line for line in lines)
    assert "Traceback" not in "".join(lines)
    runs = [json.loads(line) for line in lines if '"event": "monitor_run"' in line]
    assert runs and all(
        {"monitor", "fetched", "new", "edited", "gone", "duration"} <= set(r) for r in runs
    )


MONITOR_KEYS = {
    "creator:mara:tiktok:@glowwithmara",
    "creator:mara:bluesky:mara.bsky.social",
    "creator:mara:mastodon:@mara@mastodon.social",
    "hashtag:guacdance:bluesky",
    "hashtag:guacdance:mastodon",
}


def test_shares_split_the_monitors_stably_and_completely():
    from monitors.processes import parse_shard, shard_of

    keys = [f"creator:c{i}:tiktok:@creator{i:05d}" for i in range(2000)]
    for n in (1, 2, 3, 4):
        shares = [shard_of(k, n) for k in keys]
        assert set(shares) == set(range(n))  # every share gets some, none is left out
        assert shares == [shard_of(k, n) for k in keys]  # the same in every process
        assert min(shares.count(i) for i in range(n)) > 2000 / n * 0.8  # roughly even
    assert parse_shard("1/2") == (1, 2)
    for bad in ("2/2", "-1/2", "0/0", "x", "1"):
        with pytest.raises(ValueError, match="i/N"):
            parse_shard(bad)


def test_daemon_once_on_two_processes_runs_every_monitor_once_then_alerts_once(
    world, fakes, tmp_path, capfd, hook_env
):
    _, servers = fakes
    cfg = config_file(tmp_path, servers, HOOK_ALERTS)
    result = run(
        "daemon", "--config", str(cfg), "--once", "--processes", "2",
        "--log-format", "json", env=hook_env,
    )  # fmt: skip
    err = capfd.readouterr().err
    assert result.exit_code == 0, result.output + err
    runs = [json.loads(line) for line in err.splitlines() if '"event": "monitor_run"' in line]
    # Each monitor ran once, in one of the two processes; the alerts went out after both.
    assert sorted(r["monitor"] for r in runs) == sorted(MONITOR_KEYS), err
    assert len({r["pid"] for r in runs}) == 2  # in two processes
    states = {
        s.key: s for s in list_monitor_states(open_store(f"sqlite:///{tmp_path / 'record.db'}"))
    }
    assert set(states) == MONITOR_KEYS and all(s.last_outcome == "ok" for s in states.values())
    bodies = [json.loads(body) for body in _Hook.received]
    assert bodies and b"FTC.D101" in b"".join(_Hook.received)
    assert len(bodies) == len({json.dumps(b, sort_keys=True) for b in bodies})  # none twice


def test_processes_is_for_the_embedded_executor(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    result = run("daemon", "--config", str(cfg), "--executor", "celery", "--processes", "2")
    assert result.exit_code == 2 and "compliance worker" in result.output


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_daemon_on_two_processes_restarts_a_dead_one_passes_signals_on_and_stops(
    world, fakes, tmp_path
):
    _, servers = fakes
    cfg = config_file(tmp_path, servers)
    proc, lines, reader = _daemon(cfg, "--processes", "2", "--log-format", "json")

    def children() -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    started = "monitor(s)"  # each child's "daemon started: N monitor(s)"
    try:
        _wait_for(lines, "daemon started: 2 processes", proc)
        _wait_count(lines, '"event": "monitor_run"', len(MONITOR_KEYS), proc)
        assert sum(started in line for line in lines) == 2
        victim = children()[0]
        os.kill(victim, signal.SIGKILL)
        _wait_for(lines, "exited with status -9; restarting it", proc)
        _wait_count(lines, started, 3, proc)
        assert victim not in children() and len(children()) == 2
        proc.send_signal(signal.SIGHUP)
        _wait_count(lines, "configuration reloaded", 2, proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    assert sum("daemon stopped" in line for line in lines) == 3  # two children, the parent
    assert "Traceback" not in "".join(lines)


def test_a_share_that_cannot_start_stops_the_daemon_with_status_2(world, fakes, tmp_path):
    _, servers = fakes
    cfg = config_file(tmp_path, servers, "rules:\n  overrides: {FTC.X999: off}\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COMPLIANCE_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "compliance.cli", "daemon", "--config", str(cfg),
         "--processes", "2"],
        capture_output=True, text=True, env=env, timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "no rule 'FTC.X999'" in proc.stderr
    assert "cannot start (status 2); stopping" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_recorded_post_whose_url_now_answers_not_found_is_marked_gone(world, fakes, tmp_path):
    _, servers = fakes
    post = world.accounts[("tiktok", "glowwithmara")].posts[0]
    cfg = config_file(tmp_path, servers)
    url = f"https://www.tiktok.com/@glowwithmara/video/{post.id}"
    assert run("check", url, "--config", str(cfg)).exit_code == 1
    world.delete(post)
    result = run("check", url, "--config", str(cfg))
    assert result.exit_code == 2, result.output
    assert "marked gone (its evidence is kept)" in result.output
    assert "Traceback" not in result.output


def test_an_exhausted_x_monthly_cap_is_recorded_as_quota_and_status_says_so(tmp_path):
    from fakes import x as fake_x
    from fakes.server import serving

    world = World()
    world.post("x", "cappedx", "Sponsored thread, more tomorrow", age=600)
    with serving(lambda server: fake_x.install(server, world)) as server:
        cfg = tmp_path / "compliance.yaml"
        cfg.write_text(
            f"""\
database: sqlite:///{tmp_path / "record.db"}
platforms:
  x: {{api_url: "{server.url}", web_url: "{server.url}", token_env: CT_X_TOKEN}}
creators:
  capped:
    accounts: ["x:@cappedx"]
""",
            encoding="utf-8",
        )
        env = {"CT_X_TOKEN": fake_x.CAPPED_TOKEN}
        result = run("daemon", "--config", str(cfg), "--once", env=env)
        assert len(server.log) == 1  # the cap is not retried like a rate limit
    assert fake_x.CAPPED_TOKEN not in result.output
    status = run("status", "--config", str(cfg), "--format", "json")
    (state,) = json.loads(status.output)
    assert state["last_outcome"] == "failed" and state["last_error_kind"] == "quota", state
    assert "monthly usage cap is exhausted" in state["last_error"]
    text = run("status", "--config", str(cfg))
    assert "failed (quota)" in text.output
    assert "monthly usage cap is exhausted" in text.output
