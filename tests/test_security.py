"""Security review (issue 10): SSRF, injection into every output, secrets, safe YAML, file modes.

Each part pushes hostile input through the real code paths (loopback HTTP fakes,
real SQLite, the real CLI) and asserts what the medium needs; docs/security.md
says what is escaped where and why.
"""

from __future__ import annotations

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
