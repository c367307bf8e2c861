"""Security review (issue 10): SSRF, injection into every output, secrets, safe YAML, file modes.

Each part pushes hostile input through the real code paths (loopback HTTP fakes,
real SQLite, the real CLI) and asserts what the medium needs; docs/security.md
says what is escaped where and why.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fakes import mastodon
from fakes.server import FakeServer, Request, Response, json_response
from fakes.world import World

from compliance.cli import main
from monitors.errors import HostRefused
from monitors.http import HostPolicy, HttpSettings, address_problem, make_client

# --- SSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_non_public_addresses_are_named(address: str, problem: str) -> None:
    found = address_problem(address)
    assert found is not None and found.startswith(problem), found


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


def resolver(table: dict[str, list[str]]) -> Any:
    """A DNS stand-in: name -> addresses (no network)."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(f"unknown host {host}")
        return table[host]

    return resolve


PUBLIC = {"social.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]}


def policy(**kw: Any) -> HostPolicy:
    kw.setdefault("resolve", resolver(PUBLIC))
    return HostPolicy.build("mastodon", **kw)


def refused(p: HostPolicy, url: str) -> str:
    with pytest.raises(HostRefused) as caught:
        p.check(httpx.URL(url))
    return str(caught.value)


def test_an_allow_listed_host_resolving_to_public_addresses_is_allowed() -> None:
    policy(allow_hosts=("social.example",)).check(httpx.URL("https://social.example/api/v1/x"))
    policy(allow_hosts=("*.example",)).check(httpx.URL("https://social.example/api/v1/x"))
    # the platform's own public hosts need no allow-list
    HostPolicy.build("tiktok", resolve=resolver({"www.tiktok.com": ["93.184.216.34"]})).check(
        httpx.URL("https://www.tiktok.com/oembed")
    )


def test_a_host_that_is_not_the_platforms_nor_allow_listed_is_refused() -> None:
    message = refused(policy(), "https://social.example/api/v1/statuses/1")
    assert "social.example is not a mastodon host" in message
    assert "platforms.mastodon.allow_hosts" in message
    # a suffix pattern matches subdomains, not look-alikes
    message = refused(policy(allow_hosts=("*.example",)), "https://example.evil.test/x")
    assert "example.evil.test is not a mastodon host" in message


@pytest.mark.parametrize(
    ("addresses", "named"),
    [
        (["10.0.0.7"], "10.0.0.7, a private address"),
        (["93.184.216.34", "127.0.0.1"], "127.0.0.1, a loopback address"),  # every address
        (["::ffff:169.254.169.254"], "link-local"),
        (["::1"], "::1, a loopback address"),
    ],
)
def test_an_allow_listed_host_resolving_to_a_private_address_is_refused(
    addresses: list[str], named: str
) -> None:
    p = policy(allow_hosts=("social.example",), resolve=resolver({"social.example": addresses}))
    message = refused(p, "https://social.example/api/v1/statuses/1?key=SECRETKEY")
    assert named in message
    assert "SECRETKEY" not in message  # the query (where keys live) is never shown


def test_allowed_hosts_need_https_and_odd_schemes_are_refused() -> None:
    p = policy(allow_hosts=("social.example",))
    assert "must be reached over https" in refused(p, "http://social.example/x")
    assert "scheme 'file'" in refused(p, "file:///etc/passwd")


def test_configured_base_urls_are_trusted_on_their_own_port_only() -> None:
    p = policy(trusted_urls=("http://127.0.0.1:8123",), resolve=resolver({}))
    p.check(httpx.URL("http://127.0.0.1:8123/api/v1/statuses/1"))  # no DNS, no address check
    assert "127.0.0.1 is not a mastodon host" in refused(p, "http://127.0.0.1:8124/")
    assert "127.0.0.1 is not a mastodon host" in refused(p, "https://127.0.0.1/")


def test_an_unresolvable_allowed_host_is_a_connection_error_not_a_refusal() -> None:
    p = policy(allow_hosts=("gone.example",))
    with pytest.raises(httpx.ConnectError):
        p.check(httpx.URL("https://gone.example/"))


def test_make_client_defaults_to_the_platforms_public_hosts() -> None:
    server = FakeServer()

    @server.route("GET", r"/ok")
    def ok(request: Request, match: re.Match[str]) -> Response:
        return json_response({"ok": True})

    with (
        server,
        make_client("mastodon", HttpSettings(retries=0)) as http,
        pytest.raises(HostRefused),
    ):
        http.get(f"{server.url}/ok")
    assert server.requests("/ok") == []


# --- SSRF through `compliance check` (the real CLI, loopback fakes) ---------------------------


@pytest.fixture(scope="module")
def fediverse() -> Iterator[dict[str, FakeServer]]:
    """A configured instance (the mastodon fake), a hostile configured instance that
    redirects, and an 'internal service' nothing may reach."""
    world = World()
    servers = {"home": FakeServer(), "hostile": FakeServer(), "internal": FakeServer()}
    mastodon.install(servers["home"], world)
    world.post("mastodon", "mara", "Sponsored by @glowlab #ad", age=600)
    servers["home"].world = world  # type: ignore[attr-defined]

    @servers["internal"].route("GET", r"/.*")
    def internal(request: Request, match: re.Match[str]) -> Response:
        return json_response({"secret": "internal data"})

    for server in servers.values():
        server.start()
    hostile, internal_url = servers["hostile"], servers["internal"].url
    targets = {
        "1": "http://169.254.169.254/latest/meta-data/",
        "2": f"{internal_url}/admin",
        "3": f"http://[::ffff:127.0.0.1]:{internal_url.rsplit(':', 1)[1]}/admin",
    }

    @hostile.route("GET", r"/api/v1/statuses/(?P<id>\d+)")
    def redirect(request: Request, match: re.Match[str]) -> Response:
        status = match.group("id")
        if status in targets:
            return Response(302, b"", {"location": targets[status]})
        # a redirect within the configured host is followed as usual
        return Response(302, b"", {"location": f"{hostile.url}/api/v1/statuses/1"})

    yield servers
    for server in servers.values():
        server.stop()


def ssrf_config(tmp_path: Path, servers: dict[str, FakeServer], extra: str = "") -> Path:
    path = tmp_path / "compliance.yaml"
    path.write_text(
        f"""\
database: sqlite:///{tmp_path / "record.db"}
platforms:
  mastodon:
    instances:
      mastodon.social: "{servers["home"].url}"
      hostile.example: "{servers["hostile"].url}"
{extra}""",
        encoding="utf-8",
    )
    return path


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    env = {"COMPLIANCE_DATABASE_URL": None, **(env or {})}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def one_error(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.startswith("compliance: ")]
    errors = [ln for ln in lines if "refused" in ln or "error" in ln]
    assert len(errors) == 1, output
    assert "Traceback" not in output
    return errors[0]


def test_a_configured_loopback_instance_is_trusted(fediverse, tmp_path) -> None:
    cfg = ssrf_config(tmp_path, fediverse)
    result = cli("check", "mastodon:@mara@mastodon.social", "--config", str(cfg), "--no-record")
    assert result.exit_code == 0, result.output
    assert "COMPLIANT" in result.output


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("https://127.0.0.1/@mara/1", "127.0.0.1"),
        ("https://10.0.0.5/@mara/1", "10.0.0.5"),
        ("https://169.254.169.254/@mara/1", "169.254.169.254"),
        ("mastodon:@mara@127.0.0.1", "127.0.0.1"),
        ("https://social.example/@mara/1", "social.example"),
    ],
)
def test_a_user_supplied_url_or_account_on_a_host_that_is_not_allowed_is_refused(
    fediverse, tmp_path, target: str, host: str
) -> None:
    cfg = ssrf_config(tmp_path, fediverse)
    result = cli("check", target, "--config", str(cfg), "--no-record")
    assert result.exit_code == 2, result.output
    line = one_error(result.output)
    assert f"refused to contact https://{host}/" in line
    assert f"{host} is not a mastodon host" in line


def test_an_allow_listed_host_is_still_refused_when_it_resolves_to_a_private_address(
    fediverse, tmp_path, monkeypatch
) -> None:
    cfg = ssrf_config(tmp_path, fediverse, "    allow_hosts: [social.example]\n")
    real = socket.getaddrinfo

    def fake_dns(host: str, *args: Any, **kw: Any) -> Any:
        if host == "social.example":  # a name whose DNS points inside (rebinding, takeover)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    result = cli("check", "https://social.example/@mara/1", "--config", str(cfg), "--no-record")
    assert result.exit_code == 2, result.output
    assert "social.example resolves to 10.0.0.7, a private address" in one_error(result.output)


@pytest.mark.parametrize(
    ("status", "where"),
    [
        ("1", "http://169.254.169.254/latest/meta-data/"),
        ("2", "/admin"),
        ("3", "/admin"),  # the internal service again, as an IPv4-mapped IPv6 literal
        ("4", "http://169.254.169.254/latest/meta-data/"),  # after a hop within the host
    ],
)
def test_a_redirect_to_a_private_address_is_refused(
    fediverse, tmp_path, status: str, where: str
) -> None:
    cfg = ssrf_config(tmp_path, fediverse)
    fediverse["internal"].log.clear()
    url = f"https://hostile.example/@mara/{status}"
    result = cli("check", url, "--config", str(cfg), "--no-record")
    assert result.exit_code == 2, result.output
    line = one_error(result.output)
    assert "redirected to a host that is not allowed" in line and where in line
    assert fediverse["internal"].log == []  # nothing reached the internal service


def test_allow_hosts_is_validated_with_file_and_line(tmp_path) -> None:
    cfg = tmp_path / "compliance.yaml"
    cfg.write_text(
        "platforms:\n  mastodon:\n    allow_hosts: [social.example, 'https://x.example/']\n",
        encoding="utf-8",
    )
    result = cli("config", "check", str(cfg))
    assert result.exit_code == 2
    assert f"{cfg}:3: platforms.mastodon.allow_hosts" in result.output
    assert "expected a host name" in result.output


# --- Injection: one set of hostile captions through every renderer -----------------------------

ESC, BEL, RLO = "\x1b", "\x07", "\u202e"
HOSTILE = [
    "<script>alert(1)</script>",
    "<!channel> look",
    "<@U123> look",
    "<https://evil.example|click>",
    '=HYPERLINK("https://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTAB=1+1",
    "\rCR=1+1",
    f"{ESC}]0;pwned title{BEL} osc",
    f"{ESC}[2J cleared",
    f"abc{RLO}txt.exe",
    "@everyone and @here",
    "{{7*7}} {% raw %}",
    "see #123 and [x](javascript:alert(1)) ![i](https://evil.example/p.png) a|b",
]
# Every hostile post violates: a paid campaign, the brand tagged, no disclosure.
SUFFIX = " love @glowlab"
TERMINAL_BAD = (ESC, BEL, RLO, "\r")


def hostile_records() -> list[dict[str, Any]]:
    return [
        {
            "id": f"h-{n}",
            "platform": "tiktok",
            "author": f"@evil{n}",
            "caption": caption + SUFFIX,
            "url": f"https://www.tiktok.com/@evil{n}/video/{n}",
            "campaign": {"brand": "GlowLab", "handles": ["@glowlab"], "relationship": "paid"},
        }
        for n, caption in enumerate(HOSTILE)
    ]


def assert_terminal_safe(text: str, what: str) -> None:
    for bad in TERMINAL_BAD:
        assert bad not in text, f"{what}: raw {bad!r} reaches the terminal"


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> tuple[str, Path]:
    """A SQLite record of the hostile posts, checked and recorded by the real CLI."""
    tmp = tmp_path_factory.mktemp("hostile")
    posts = tmp / "posts.jsonl"
    posts.write_text("".join(json.dumps(r) + "\n" for r in hostile_records()), encoding="utf-8")
    url = f"sqlite:///{tmp / 'record.db'}"
    result = cli("check", "--input", str(posts), "--db", url, "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert_terminal_safe(result.stdout, "check --input")
    return url, tmp


def test_check_text_output_escapes_terminal_controls() -> None:
    for caption in HOSTILE:
        result = cli("check", "--text", caption + SUFFIX, "--brand", "GlowLab", "--handle", "glowlab",
                     "--relationship", "paid")  # fmt: skip
        assert result.exit_code == 1, result.output
        assert_terminal_safe(result.output, f"check --text {caption!r}")


def test_violations_show_escapes_terminal_controls(hostile_db) -> None:
    url, _ = hostile_db
    for n in range(1, len(HOSTILE) + 1):
        result = cli("violations", "show", str(n), "--db", url)
        assert result.exit_code == 0, result.output
        assert_terminal_safe(result.output, f"violations show {n}")
    listing = cli("violations", "list", "--db", url)
    assert_terminal_safe(listing.output, "violations list")


def test_csv_export_cells_cannot_run_as_formulas(hostile_db) -> None:
    import csv
    import io

    url, _ = hostile_db
    result = cli("violations", "export", "--format", "csv", "--db", url)
    assert result.exit_code == 0, result.output
    assert_terminal_safe(result.stdout.replace("\r\n", "\n").replace("\r", ""), "csv")
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    cells = [cell for row in rows for cell in row]
    assert cells, result.stdout
    for cell in cells:
        assert not cell or cell[0] not in "=+-@\t\r", f"formula cell {cell!r}"
    assert any(cell.startswith("'=HYPERLINK(") for cell in cells)
    assert any(cell.startswith("'\tTAB") for cell in cells)


def md_row_cells(line: str) -> list[str]:
    """The cells of a GFM table row: split at pipes not escaped with a backslash."""
    return re.split(r"(?<!\\)\|", line.strip().strip("|"))


def test_markdown_report_neutralises_mentions_refs_html_links_and_pipes(hostile_db) -> None:
    url, tmp = hostile_db
    out = tmp / "report.md"
    result = cli("report", "--format", "md", "--db", url, "--output", str(out))
    assert result.exit_code == 0, result.output
    md = out.read_text(encoding="utf-8")
    assert_terminal_safe(md, "report.md")
    for pinging in ("@everyone", "@here", "@glowlab", "#123", "<@U123>", "<!channel>"):
        assert pinging not in md, pinging
    assert "@\u2060everyone" in md and "#\u2060123" in md  # still readable, as written
    assert "<script" not in md and "&lt;script&gt;" in md
    assert "](javascript:" not in md.replace("\\]", "")  # brackets escaped: never a link
    assert "[x](" not in md and "![i](" not in md
    assert "{{7*7}}" in md.replace("\\", "")  # shown as data, not evaluated to 49
    table = [ln for ln in md.splitlines() if ln.startswith("| ") and "h-" in ln]
    header = next(ln for ln in md.splitlines() if ln.startswith("| # |"))
    assert table and all(len(md_row_cells(ln)) == len(md_row_cells(header)) for ln in table)


def test_html_report_escapes_markup_and_runs_no_template_text(hostile_db) -> None:
    url, tmp = hostile_db
    out = tmp / "report.html"
    result = cli("report", "--db", url, "--output", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "<!channel>" not in page and "<@U123>" not in page
    assert "{{7*7}}" in page  # shown as data, not evaluated to 49
    assert ESC not in page and RLO not in page


def test_status_escapes_platform_errors(tmp_path) -> None:
    from datetime import datetime, timezone

    from compliance.store.db import open_store
    from compliance.store.monitors import save_monitor_run

    url = f"sqlite:///{tmp_path / 'record.db'}"
    store = open_store(url)
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for n, text in enumerate(HOSTILE):
        save_monitor_run(store, f"creator:evil{n}:mastodon:@a@b.example", kind="account",
                         platform="mastodon", target=text, started_at=now, outcome="failed",
                         error=f"instance said: {text}", error_kind="malformed",
                         now=lambda: now)  # fmt: skip
    store.close()
    for args in (["status"], ["status", "creator:evil10:mastodon:@a@b.example"]):
        result = cli(*args, "--db", url)
        assert result.exit_code == 0, result.output
        assert_terminal_safe(result.output, " ".join(args))
        assert "instance said" in result.output


def alert_group(caption: str, creator: str = "@evil") -> Any:
    from compliance.alerts.render import Group, Item

    span = [len(caption), len(caption) + len(SUFFIX)]
    payload = {
        "kind": "violation", "violation_id": 7, "event": "opened", "rule": "FTC.D101",
        "name": "missing-disclosure", "code": "missing_disclosure",
        "message": f"no disclosure: {caption}", "fix": "Add #ad", "source": "FTC",
        "span": span, "caption": caption + SUFFIX, "url": "https://www.tiktok.com/@e/video/1",
        "creator": creator, "brand": "GlowLab", "platform": "tiktok",
    }  # fmt: skip
    return Group("r", "0:{}", {"creator": creator}, (Item(payload, {"creator": creator}),), "k")


@pytest.mark.parametrize("caption", HOSTILE)
def test_alert_messages_escape_each_medium(caption: str) -> None:
    from compliance.alerts.render import render

    message = render(alert_group(caption, creator=caption))
    # email: the subject is one header line; HTML is escaped; text has no controls
    assert "\n" not in message.subject and "\r" not in message.subject
    for text in (message.subject, message.text, message.html):
        for bad in (ESC, BEL, RLO):
            assert bad not in text
    assert "<script" not in message.html and "<!channel>" not in message.html
    assert "<@U123>" not in message.html
    if "{{" in caption:  # data, never template source
        assert "{{7*7}}" in message.text and "{{7*7}}" in message.html
        assert "49" not in message.text + message.html
    # Slack mrkdwn: no control sequence can ping or link
    # (the header block is plain_text: shown as written, never parsed for pings or links)
    mrkdwn = [post["text"] for post in message.slack] + [
        text["text"]
        for post in message.slack
        for block in post["blocks"]
        for text in [block.get("text"), *block.get("elements", [])]
        if text and text.get("type") == "mrkdwn"
    ]
    slack = "\n".join(mrkdwn)
    for live in ("<!channel>", "<@U123>", "<https://evil.example|click>", "<script>"):
        assert live not in slack
    assert ESC not in json.dumps(message.slack) and RLO not in json.dumps(message.slack)
    # webhook: data, not markup; the caption arrives exactly as the creator wrote it
    body = json.loads(json.dumps(message.webhook_body()))
    assert body["alerts"][0]["caption"] == caption + SUFFIX


def test_apprise_bodies_ping_nobody() -> None:
    from alerts_helpers import HTTPRecorder

    from compliance.alerts.config import AppriseConfig
    from compliance.alerts.receivers import Factories
    from compliance.alerts.receivers.apprise import AppriseTransport
    from compliance.alerts.render import render

    with HTTPRecorder() as server:
        transport = AppriseTransport(
            AppriseConfig(urls_env="ALERT_URLS"),
            environ={"ALERT_URLS": f"json://{server.url.removeprefix('http://')}/apprise"},
            make=Factories().apprise,
        )
        outcomes = transport.send([render(alert_group(c, creator="@everyone")) for c in HOSTILE])
    assert all(o.ok for o in outcomes)
    for request in server.requests:
        sent = request.json()
        for field in (sent["title"], sent["message"]):
            # Apprise's Discord plugin pings @everyone, @here and <@123> found in a body.
            assert not re.search(r"<?@&?[0-9]+>?|@(?:everyone|here|glowlab)\b", field), field
            assert ESC not in field and RLO not in field


# --- Secrets: every failure mode, and not one secret value anywhere ------------------------------

SECRETS = {
    "TIKTOK_TOKEN": "act.TIKTOK-SECRET-7f3a9c",
    "IG_TOKEN": "EAAG-IG-SECRET-5e2b8d",
    "IG_USER_ID": "17841400000000001",
    "YOUTUBE_API_KEY": "AIzaSy-YOUTUBE-SECRET-9c1d",
    "X_BEARER_TOKEN": "AAAA-X-SECRET-3b7e",
    "SMTP_USER": "alerts@brand.example",
    "SMTP_PASSWORD": "smtp-SECRET-pass-2a4f",
    "TICKETS_SECRET": "hmac-TICKETS-SECRET-8d6c",
}
# Secret parts of URLs (the whole URL is secret: these fragments must not show either).
URL_SECRETS = ("slack-SECRET-hook-1e5f", "tickets-SECRET-url-4c2a")


def echo(status: int) -> FakeServer:
    """A server answering everything with ``status`` and the whole request echoed back
    (path, query, headers): what a careless proxy or API error page does."""
    server = FakeServer()

    @server.route("GET", r"/.*")
    @server.route("POST", r"/.*")
    def answer(request: Request, match: re.Match[str]) -> Response:
        body = json.dumps(
            {
                "error": {"message": f"echo {request.method} {request.path} {request.query}"},
                "headers": request.headers,
                "body": request.body.decode("utf-8", "replace"),
            }
        )
        return Response(status, body.encode(), {"content-type": "application/json"})

    return server


def slow() -> FakeServer:
    server = FakeServer()

    @server.route("GET", r"/.*")
    def answer(request: Request, match: re.Match[str]) -> Response:
        return Response(200, b"{}", {"content-type": "application/json"}, delay=1.0)

    return server


def test_no_secret_reaches_output_logs_status_or_the_database(tmp_path) -> None:
    from aiosmtpd.smtp import AuthResult
    from alerts_helpers import smtp_server

    def refuse(server: Any, session: Any, envelope: Any, mechanism: Any, data: Any) -> Any:
        return AuthResult(success=False, handled=False)

    failing, unauthorised, timing_out = echo(500), echo(401), slow()
    servers = (failing, unauthorised, timing_out)
    for server in servers:
        server.start()
    smtp = smtp_server(authenticator=refuse, auth_require_tls=False)
    controller, _ = smtp.__enter__()
    try:
        env = {
            **SECRETS,
            "SLACK_WEBHOOK_URL": f"{failing.url}/services/T0/B0/{URL_SECRETS[0]}",
            "TICKETS_URL": f"{failing.url}/hook?token={URL_SECRETS[1]}",
        }
        db = tmp_path / "record.db"
        cfg = tmp_path / "compliance.yaml"
        cfg.write_text(
            f"""\
database: sqlite:///{db}
platforms:
  tiktok: {{api_url: "{unauthorised.url}", web_url: "{failing.url}", token_env: TIKTOK_TOKEN, retries: 0}}
  instagram: {{api_url: "{timing_out.url}", token_env: IG_TOKEN, user_id_env: IG_USER_ID, retries: 0, timeout: 0.2}}
  youtube: {{api_url: "{failing.url}/youtube/v3", web_url: "{failing.url}", key_env: YOUTUBE_API_KEY, retries: 0}}
  x: {{api_url: "{unauthorised.url}", web_url: "{failing.url}", token_env: X_BEARER_TOKEN, retries: 0}}
creators:
  mara: {{accounts: ["tiktok:@glowwithmara", "instagram:@glowwithmara", "youtube:@glowwithmara", "x:@glowwithmara"]}}
schedule: {{every: 6h, jitter: 1s, max_failures: 1}}
alerts:
  receivers:
    mail:
      email: {{smtp_host: 127.0.0.1, smtp_port: {controller.port}, username_env: SMTP_USER,
              password_env: SMTP_PASSWORD, from: "c@brand.example", to: ["ana@brand.example"], timeout: 5s}}
    chat: {{slack: {{webhook_url_env: SLACK_WEBHOOK_URL}}}}
    tickets: {{webhook: {{url_env: TICKETS_URL, secret_env: TICKETS_SECRET}}}}
  route:
    receiver: mail
    group_wait: 0s
    routes:
      - {{match: {{event: monitor_failing}}, receiver: chat, continue: true}}
      - {{match: {{event: monitor_failing}}, receiver: tickets, continue: true}}
      - {{match: {{event: monitor_failing}}, receiver: mail}}
  delivery: {{max_tries: 2, backoff: 1s, max_wait: 1s}}
""",
            encoding="utf-8",
        )
        seen: list[str] = []
        for fmt in ("text", "json"):
            result = CliRunner().invoke(
                main,
                ["daemon", "--config", str(cfg), "--once", "--log-format", fmt],
                env={"COMPLIANCE_DATABASE_URL": None, **env},
                catch_exceptions=True,
            )
            assert result.exception is None or isinstance(result.exception, SystemExit)
            seen.append(result.output)
            if result.exc_info and not isinstance(result.exception, SystemExit):
                seen.append(repr(result.exception))
        assert "failed" in seen[0] and '"level"' in seen[1], seen
        for args in (
            ["status", "--db", f"sqlite:///{db}"],
            ["status", "--db", f"sqlite:///{db}", "--format", "json"],
            ["status", "creator:mara:youtube:@glowwithmara", "--db", f"sqlite:///{db}"],
            ["alerts", "--config", str(cfg), "pending"],
            ["alerts", "--config", str(cfg), "pending", "--format", "json"],
            ["alerts", "--config", str(cfg), "send"],
        ):
            out = cli(*args, env=env)
            seen.append(out.output)
        # the failures really happened and were recorded, each kind of them
        assert "auth" in seen[2] and "unavailable" in seen[2], seen[2]
        assert "retrying" in seen[5] or "dead" in seen[5], seen[5]
        # every row of every table, as stored
        import sqlite3

        with sqlite3.connect(db) as conn:
            tables = [
                r[0] for r in conn.execute("select name from sqlite_master where type='table'")
            ]
            for table in tables:
                seen.extend(repr(row) for row in conn.execute(f'select * from "{table}"'))
    finally:
        smtp.__exit__(None, None, None)
        for server in servers:
            server.stop()
    everything = "\n".join(seen)
    assert "echo" in everything or "HTTP" in everything  # the errors are there, just clean
    for name, value in [*SECRETS.items(), *(("url", u) for u in URL_SECRETS)]:
        if name in ("SMTP_USER", "IG_USER_ID"):
            continue  # identifiers, not secrets
        assert value not in everything, f"{name} leaked"
    # the platforms did receive the credentials (so the test could have leaked them)
    sent = json.dumps(
        [r.headers for s in servers for r in s.log] + [r.query for s in servers for r in s.log]
    )
    assert SECRETS["TIKTOK_TOKEN"] in sent and SECRETS["YOUTUBE_API_KEY"] in sent


# --- Safe YAML ----------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
UNSAFE_YAML = ("unsafe_load", "full_load", "FullLoader", "UnsafeLoader", "yaml.Loader")


def test_every_yaml_load_in_the_code_is_safe() -> None:
    """No yaml.load without SafeLoader, no unsafe_load/full_load, in any shipped or test file."""
    import ast

    offenders = []
    for path in [*ROOT.glob("compliance/**/*.py"), *ROOT.glob("monitors/**/*.py"),
                 *ROOT.glob("bench/**/*.py"), *ROOT.glob("tests/**/*.py")]:  # fmt: skip
        if path == Path(__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name.endswith(("unsafe_load", "full_load", "unsafe_load_all", "full_load_all")):
                offenders.append(f"{path}:{node.lineno}: {name}")
            elif name in ("yaml.load", "yaml.load_all", "yaml.compose", "yaml.compose_all"):
                loader = [ast.unparse(k.value) for k in node.keywords if k.arg == "Loader"]
                loader += [ast.unparse(a) for a in node.args[1:2]]
                if not loader or not all("Safe" in v or v == "_LOADER" for v in loader):
                    offenders.append(f"{path}:{node.lineno}: {name} with {loader or 'no Loader'}")
    assert offenders == []
    # and the one loader the code uses is a safe one
    from compliance import yamlfile

    assert yamlfile._LOADER.__name__ in ("SafeLoader", "CSafeLoader")


PYTHON_TAG = '!!python/object/apply:os.system ["touch {marker}"]'


def test_a_python_tag_in_compliance_yaml_is_refused(tmp_path) -> None:
    marker = tmp_path / "pwned"
    cfg = tmp_path / "compliance.yaml"
    cfg.write_text(f"jurisdiction: US\nschedule: {PYTHON_TAG.format(marker=marker)}\n", "utf-8")
    result = cli("config", "check", str(cfg))
    assert result.exit_code == 2, result.output
    assert f"{cfg}:2" in result.output and "python/object/apply" in result.output
    assert "Traceback" not in result.output
    assert not marker.exists()


def test_a_python_tag_in_a_rule_pack_is_refused(tmp_path) -> None:
    import shutil

    marker = tmp_path / "pwned"
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    rule = sorted((rules / "ftc").glob("*.yaml"))[-1]
    rule.write_text(
        rule.read_text("utf-8") + f"\nextra: {PYTHON_TAG.format(marker=marker)}\n", "utf-8"
    )
    result = cli("rules", "list", "--rules", str(rules))
    assert result.exit_code == 2, result.output
    assert rule.name in result.output and "python/object/apply" in result.output
    assert "Traceback" not in result.output
    assert not marker.exists()


# --- File permissions ---------------------------------------------------------------------------


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request) -> Iterator[int]:
    import os

    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_database_and_its_wal_files_are_owner_only(umask, tmp_path, monkeypatch) -> None:
    # the default location: the data directory is created too
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("COMPLIANCE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["check", "--text", "#ad hi", "--record"])
    assert result.exit_code == 0, result.output
    db = next((tmp_path / "xdg").rglob("compliance.db"))
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    # a path given with --db, with WAL files alive while a connection is open
    from compliance.store.db import open_store

    given = tmp_path / "given.db"
    store = open_store(f"sqlite:///{given}")
    with store.write() as session:
        session.connection().exec_driver_sql("CREATE TABLE t (x)")
    wal = [given.with_name(given.name + s) for s in ("-wal", "-shm")]
    assert all(p.exists() for p in wal)
    assert [mode(p) for p in (given, *wal)] == [0o600, 0o600, 0o600]
    store.close()


def test_evidence_bundles_and_output_files_are_owner_only(umask, hostile_db, tmp_path) -> None:
    url, _ = hostile_db
    bundle = tmp_path / "evidence" / "v1"
    result = cli("violations", "show", "1", "--db", url, "--evidence", str(bundle))
    assert result.exit_code == 0, result.output
    files = [p for p in bundle.rglob("*") if p.is_file()]
    dirs = [bundle.parent, bundle, *(p for p in bundle.rglob("*") if p.is_dir())]
    assert files and {mode(p) for p in files} == {0o600}
    assert {mode(p) for p in dirs} == {0o700}
    for args in (
        ["report", "--db", url],
        ["violations", "export", "--db", url, "--format", "json"],
    ):
        out = tmp_path / f"{args[0]}.out"
        assert cli(*args, "--output", str(out)).exit_code == 0
        assert mode(out) == 0o600
    out = tmp_path / "check.out"
    cli("check", "--text", "@glowlab hi", "--output", str(out))
    assert mode(out) == 0o600
