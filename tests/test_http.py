"""monitors.http against the loopback FakeServer: retries, waits, budget, validators, redaction.

Waits are recorded by an injected ``sleep`` (nothing here sleeps on the wall
clock, except the one real short timeout), and reset headers are read against an
injected wall clock.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator

import pytest
from fakes.server import BOT_WALL, FakeServer, Request, Response, fixture, json_response
from source_helpers import loopback

from monitors.errors import BotWall, Malformed, RateLimited, Unavailable
from monitors.http import (
    HttpSettings,
    PlatformClient,
    RequestBudget,
    decode_json,
    make_client,
    retry_after,
    shared_budget,
)

NOW = 1_794_643_700.0  # the injected wall clock: 100 s before the fixtures' reset times


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeServer]:
    # One server for the module (stopping one costs half a second); each test starts clean.
    fake = FakeServer()

    @fake.route("GET", "/ok")
    def ok(request: Request, match: object) -> Response:
        return json_response({"ok": True, "n": len(fake.requests("/ok"))})

    @fake.route("POST", "/echo")
    def echo(request: Request, match: object) -> Response:
        return json_response({"got": request.json()})

    @fake.route("GET", "/etag")
    def etag(request: Request, match: object) -> Response:
        if request.headers.get("if-none-match") == '"v1"':
            return Response(304, b"", {"etag": '"v1"'})
        return json_response(
            {"items": [1]},
            headers={"etag": '"v1"', "last-modified": "Wed, 04 Nov 2026 10:00:00 GMT"},
        )

    with fake:
        yield fake


@pytest.fixture
def server(shared_server: FakeServer) -> FakeServer:
    shared_server.faults.clear()
    shared_server.log.clear()
    return shared_server


class Waits(list[float]):
    """An injected sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(
    waits: Waits, secrets: tuple[str, ...] = (), headers: dict[str, str] | None = None, **kw: float
) -> PlatformClient:
    settings = HttpSettings(**{"retries": 4, "backoff": 1.0, "max_wait": 120.0, **kw})  # type: ignore[arg-type]
    return make_client(
        "testplatform",
        settings,
        sleep=waits,
        clock=lambda: NOW,
        secrets=secrets,
        headers=headers,
        hosts=loopback("testplatform"),
    )


def test_success_returns_response_and_sends_user_agent(server: FakeServer) -> None:
    waits = Waits()
    with client(waits) as http:
        response = http.get(f"{server.url}/ok")
    assert decode_json(response, platform="t") == {"ok": True, "n": 1}
    assert server.requests("/ok")[0].headers["user-agent"].startswith("compliance/")
    assert waits == []


def test_post_sends_json_body(server: FakeServer) -> None:
    with client(Waits()) as http:
        response = http.post(f"{server.url}/echo", json={"cursor": 0, "max_count": 20})
    assert response.json() == {"got": {"cursor": 0, "max_count": 20}}


def test_429_with_retry_after_seconds_waits_that_long(server: FakeServer) -> None:
    server.fail("/ok", Response(429, b"{}", {"retry-after": "7"}), times=2)
    waits = Waits()
    with client(waits) as http:
        response = http.get(f"{server.url}/ok")
    assert response.status_code == 200
    assert waits == [7.0, 7.0]
    assert len(server.requests("/ok")) == 3


def test_429_without_retry_after_backs_off_exponentially_with_jitter(server: FakeServer) -> None:
    server.fail("/ok", Response(429, b"{}"), times=4)
    waits = Waits()
    with client(waits, backoff=2.0, max_backoff=60.0) as http:
        assert http.get(f"{server.url}/ok").status_code == 200
    assert len(waits) == 4
    # full jitter: attempt n waits a random time in [0, 2 * 2**n] (tenacity's random exponential)
    for n, wait in enumerate(waits):
        assert 0.0 <= wait <= 2.0 * 2 ** (n + 1)


def test_retry_after_as_http_date(server: FakeServer) -> None:
    when = email.utils.formatdate(NOW + 30, usegmt=True)
    server.fail("/ok", Response(429, b"{}", {"retry-after": when}))
    waits = Waits()
    with client(waits) as http:
        assert http.get(f"{server.url}/ok").status_code == 200
    assert waits == [pytest.approx(30.0, abs=1.0)]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "x-ratelimit-reset",
            "2026-11-14T08:10:00.123456Z",
            1_794_643_800.123456 - NOW,
        ),  # Mastodon
        ("ratelimit-reset", "1794643800", 100.0),  # Bluesky: epoch seconds
        ("x-rate-limit-reset", "1794643800", 100.0),  # X: epoch seconds
        ("ratelimit-reset", "42", 42.0),  # IETF draft: seconds from now
        ("x-ratelimit-reset", "1794643800000", 100.0),  # epoch milliseconds
        ("x-ratelimit-reset", "1794643000", 0.0),  # already reset
    ],
)
def test_reset_headers_set_the_wait(
    server: FakeServer, name: str, value: str, expected: float
) -> None:
    server.fail("/ok", Response(429, b"{}", {name: value}))
    waits = Waits()
    with client(waits) as http:
        assert http.get(f"{server.url}/ok").status_code == 200
    assert waits == [pytest.approx(expected, abs=0.01)]


def test_fixture_rate_limit_headers_are_read(server: FakeServer) -> None:
    # The recorded Mastodon 429 (ISO reset) and X 429 (epoch reset), bytes and headers as captured.
    server.fail("/ok", fixture("mastodon_error_rate_limit.json"))
    server.fail("/ok", fixture("x_error_rate_limit.json"))
    waits = Waits()
    with client(waits, max_wait=600.0) as http:
        assert http.get(f"{server.url}/ok").status_code == 200
    assert waits == [pytest.approx(100.12, abs=0.01), pytest.approx(400.0)]


def test_wait_longer_than_max_wait_raises_rate_limited_at_once(server: FakeServer) -> None:
    server.fail("/ok", Response(429, b"{}", {"retry-after": "3600"}), times=5)
    waits = Waits()
    with client(waits, max_wait=120.0) as http, pytest.raises(RateLimited) as caught:
        http.get(f"{server.url}/ok")
    assert caught.value.retry_after == 3600.0
    assert caught.value.status == 429
    assert waits == []
    assert len(server.requests("/ok")) == 1


def test_429_forever_raises_rate_limited_after_the_retries(server: FakeServer) -> None:
    server.fail("/ok", Response(429, b"{}", {"retry-after": "5"}), times=100)
    waits = Waits()
    with client(waits, retries=2) as http, pytest.raises(RateLimited) as caught:
        http.get(f"{server.url}/ok")
    assert caught.value.retry_after == 5.0
    assert waits == [5.0, 5.0]
    assert len(server.requests("/ok")) == 3


def test_5xx_burst_then_success(server: FakeServer) -> None:
    server.fail("/ok", Response(503, b"busy"), times=3)
    waits = Waits()
    with client(waits) as http:
        response = http.get(f"{server.url}/ok")
    assert response.json()["n"] == 4
    assert len(waits) == 3


def test_5xx_forever_raises_unavailable(server: FakeServer) -> None:
    server.fail("/ok", Response(502, b"bad gateway"), times=100)
    waits = Waits()
    with client(waits, retries=3) as http, pytest.raises(Unavailable) as caught:
        http.get(f"{server.url}/ok")
    assert caught.value.status == 502
    assert "4 attempts" in str(caught.value)
    assert len(waits) == 3
    assert len(server.requests("/ok")) == 4


def test_4xx_is_returned_for_the_source_to_interpret(server: FakeServer) -> None:
    server.fail("/ok", Response(400, b'{"error":"bad"}'))
    waits = Waits()
    with client(waits) as http:
        assert http.get(f"{server.url}/ok").status_code == 400
    assert waits == []


def test_slow_response_past_the_timeout_is_retried_then_unavailable(server: FakeServer) -> None:
    server.fail("/ok", Response(200, b"{}", delay=1.0), times=2)
    waits = Waits()
    with client(waits, retries=1, timeout=0.2) as http, pytest.raises(Unavailable) as caught:
        http.get(f"{server.url}/ok")
    assert "timed out" in str(caught.value)
    assert len(waits) == 1


def test_slow_response_then_fast_one_succeeds(server: FakeServer) -> None:
    server.fail("/ok", Response(200, b"{}", delay=1.0))
    waits = Waits()
    with client(waits, retries=1, timeout=0.2) as http:
        assert http.get(f"{server.url}/ok").status_code == 200


def test_connection_refused_is_unavailable() -> None:
    dead = FakeServer().start()
    url = dead.url
    dead.stop()
    waits = Waits()
    with client(waits, retries=2) as http, pytest.raises(Unavailable) as caught:
        http.get(f"{url}/ok")
    assert "connection failed" in str(caught.value)
    assert len(waits) == 2


def test_truncated_json_is_malformed(server: FakeServer) -> None:
    server.fail("/ok", json_response({"data": {"videos": [1, 2, 3]}, "has_more": True}, 200))
    server.faults[-1].response.truncate = True
    with client(Waits()) as http:
        response = http.get(f"{server.url}/ok")
    with pytest.raises(Malformed) as caught:
        decode_json(response, platform="tiktok")
    assert "invalid JSON" in str(caught.value)
    assert str(caught.value).startswith("tiktok: ")


def test_empty_body_is_malformed(server: FakeServer) -> None:
    server.fail("/ok", Response(200, b"", {"content-type": "application/json"}))
    with client(Waits()) as http, pytest.raises(Malformed):
        decode_json(http.get(f"{server.url}/ok"), platform="t")


def test_html_bot_wall_is_botwall(server: FakeServer) -> None:
    server.fail("/ok", BOT_WALL)
    with client(Waits()) as http, pytest.raises(BotWall):
        decode_json(http.get(f"{server.url}/ok"), platform="tiktok")


def test_json_served_as_text_html_is_still_json(server: FakeServer) -> None:
    server.fail("/ok", Response(200, b'{"a":1}', {"content-type": "text/html"}))
    with client(Waits()) as http:
        assert decode_json(http.get(f"{server.url}/ok"), platform="t") == {"a": 1}


def test_conditional_request_returns_304_and_keeps_validators(server: FakeServer) -> None:
    validators: dict[str, str] = {}
    with client(Waits()) as http:
        first = http.get(f"{server.url}/etag", validators=validators)
        assert first.status_code == 200
        assert validators == {"etag": '"v1"', "last_modified": "Wed, 04 Nov 2026 10:00:00 GMT"}
        second = http.get(f"{server.url}/etag", validators=validators)
    assert second.status_code == 304
    assert validators["etag"] == '"v1"'
    sent = server.requests("/etag")[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Wed, 04 Nov 2026 10:00:00 GMT"
    assert "if-none-match" not in server.requests("/etag")[0].headers


def test_budget_spaces_requests_on_the_injected_clock() -> None:
    now = [1000.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    budget = RequestBudget(30, clock=lambda: now[0], sleep=sleep)  # one request every 2 s
    for _ in range(4):
        budget.acquire()
    assert waits == [2.0, 2.0, 2.0]
    now[0] += 10.0  # idle for a while: the next request goes at once, no burst credit kept
    budget.acquire()
    budget.acquire()
    assert waits == [2.0, 2.0, 2.0, 2.0]


def test_client_waits_for_the_budget_before_each_attempt(server: FakeServer) -> None:
    now = [0.0]
    budget_waits: list[float] = []

    def sleep(seconds: float) -> None:
        budget_waits.append(seconds)
        now[0] += seconds

    budget = RequestBudget(60, clock=lambda: now[0], sleep=sleep)
    server.fail("/ok", Response(500, b""), times=1)
    waits = Waits()
    with make_client(
        "t",
        HttpSettings(backoff=0.0),
        budget=budget,
        sleep=waits,
        clock=lambda: NOW,
        hosts=loopback("t"),
    ) as http:
        http.get(f"{server.url}/ok")
        http.get(f"{server.url}/ok")
    assert len(server.requests("/ok")) == 3
    assert budget_waits == [1.0, 1.0]  # three requests, one second apart


def test_make_client_shares_one_budget_per_platform() -> None:
    settings = HttpSettings(requests_per_minute=600)
    a = make_client("shared-test", settings)
    b = make_client("shared-test", settings)
    c = make_client("other-test", settings)
    try:
        assert a.budget is b.budget is shared_budget("shared-test", 600)
        assert c.budget is not a.budget
        assert make_client("t", HttpSettings()).budget is None
    finally:
        a.close()
        b.close()
        c.close()


def test_budget_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestBudget(0)


def test_secrets_never_reach_error_messages(server: FakeServer) -> None:
    server.fail("/ok", Response(503, b""), times=100)
    with (
        client(
            Waits(),
            secrets=("s3cr3t-key-value",),
            headers={"Authorization": "Bearer act.abcdefTOKEN123"},
            retries=0,
        ) as http,
        pytest.raises(Unavailable) as caught,
    ):
        http.get(
            f"{server.url}/ok",
            params={"access_token": "EAAGtokenvalue", "key": "AIzaKEY", "q": "s3cr3t-key-value"},
        )
    message = str(caught.value)
    for secret in ("EAAGtokenvalue", "AIzaKEY", "s3cr3t-key-value", "act.abcdefTOKEN123"):
        assert secret not in message
    assert "/ok" in message  # the target is still named


def test_secrets_in_url_are_redacted_from_rate_limit_messages(server: FakeServer) -> None:
    server.fail("/ok", Response(429, b"", {"retry-after": "9999"}))
    with client(Waits()) as http, pytest.raises(RateLimited) as caught:
        http.get(f"{server.url}/ok?access_token=EAAGsecret&fields=id")
    assert "EAAGsecret" not in str(caught.value)
    assert "access_token=***" in str(caught.value)


def test_bearer_in_per_request_headers_is_a_secret(server: FakeServer) -> None:
    http = client(Waits())
    assert http.redact("token act.perrequest1 leaked") == "token act.perrequest1 leaked"
    server.fail("/ok", Response(500, b""), times=10)
    with http, pytest.raises(Unavailable) as caught:
        http.get(
            f"{server.url}/ok/act.perrequest1",
            headers={"authorization": "Bearer act.perrequest1"},
        )
    assert "act.perrequest1" not in str(caught.value)


def test_retry_after_helper_ignores_garbage() -> None:
    import httpx

    response = httpx.Response(429, headers={"retry-after": "soon", "x-ratelimit-reset": "later"})
    assert retry_after(response, NOW) is None
