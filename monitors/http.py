"""The one HTTP client factory for the platform sources: polite, patient and safe to log.

Every source talks to its platform through a :class:`PlatformClient` made by
:func:`make_client`. The client

* sets timeouts (connect and read/write/pool separately) and an honest User-Agent;
* waits for the platform's shared :class:`RequestBudget` before every request, so
  twenty monitors of one platform in one process never exceed its request rate;
* retries connect errors, timeouts, 5xx and 429 with jittered exponential backoff
  (tenacity), honouring ``Retry-After`` (seconds or an HTTP date) and the reset
  headers the platforms send (``x-ratelimit-reset``, ``ratelimit-reset``,
  ``x-rate-limit-reset``: epoch seconds, seconds from now, or ISO 8601);
* gives up with :class:`~monitors.errors.RateLimited` when the platform asks for a
  longer wait than ``max_wait`` (the next scheduled run will try again) and with
  :class:`~monitors.errors.Unavailable` when the retries run out;
* sends conditional requests from a ``validators`` dict the source keeps in its
  monitor state, and updates that dict from the answer;
* returns every other answer (2xx, 304, 4xx) as it is: only the source knows what a
  platform's 400 or 200-with-an-error-inside means; so is a 429 or 5xx that the source
  calls ``final`` (X's monthly usage cap is a 429 that no wait within a run lifts).

Messages never carry a secret: URLs and texts go through :func:`monitors.errors.redact`
with the configured secret values, bearer tokens of the request headers included.

Every request, and every hop of a redirect, first passes the client's
:class:`HostPolicy` (an httpx request event hook, so it sees each hop httpx
follows): the SSRF guard. Hosts of the base URLs written in compliance.yaml are
trusted as written (a proxy, a test fake on loopback); any other host must be one
of the platform's public hosts or listed in ``platforms.<name>.allow_hosts``, must be
reached over https, and must resolve only to public addresses. So a URL or account
typed on the command line (``https://127.0.0.1/@x/1``, ``mastodon:@a@10.0.0.5``) and
a platform that redirects to ``169.254.169.254`` are refused with one line
(:class:`~monitors.errors.HostRefused`) before anything is sent there.

Libraries: tenacity does the retry loop (its ``sleep`` is injectable, so tests
record waits instead of sleeping, and its ``wait`` is a plain callable that can
read Retry-After from the failed attempt). pyrate-limiter was considered for the
budget and not used: its blocking acquire sleeps with ``time.sleep`` inside the
library (no injectable sleep, so spacing could only be tested on the wall clock)
and its API changed incompatibly between major versions; the budget here is a
dozen lines of GCRA-style spacing behind a two-method class that a Redis-backed
budget can replace for the scale-out. hishel was considered for conditional
requests and not used: it is a transparent cache that turns a 304 into the cached
200, while a monitor needs the 304 itself (nothing new: skip the run) and keeps its
validators in the monitor's state row in the database, not in a cache directory.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from typing import Any, Protocol

import httpx
import orjson
import tenacity

from monitors.errors import BotWall, HostRefused, Malformed, RateLimited, Unavailable, redact

try:
    _VERSION = metadata.version("compliance")
except metadata.PackageNotFoundError:  # running from a source tree without an install
    _VERSION = "0"

USER_AGENT = f"compliance/{_VERSION} (+https://github.com/compliance-checker/compliance)"

# Headers that say when a rate-limit window resets, in the order we trust them.
_RESET_HEADERS = ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset")


@dataclass(frozen=True)
class HttpSettings:
    """How patient and how polite one platform's client is (from compliance.yaml)."""

    timeout: float = 20.0  # read/write/pool seconds
    connect_timeout: float = 10.0
    retries: int = 4  # attempts after the first
    backoff: float = 1.0  # base of the jittered exponential backoff, seconds
    max_backoff: float = 60.0
    max_wait: float = 120.0  # the longest Retry-After we sleep through; longer -> RateLimited
    requests_per_minute: float | None = None  # the platform's budget, shared by every monitor
    user_agent: str = USER_AGENT


class RequestBudget:
    """A platform's request rate, shared by every monitor of that platform in this process.

    Requests are spaced evenly (one every ``60 / per_minute`` seconds, no burst):
    the platforms count requests in sliding windows, and an even spacing can never
    exceed one. Thread-safe: each caller reserves the next free slot under a lock
    and sleeps outside it, so concurrent monitors queue up instead of racing.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"requests_per_minute must be positive, got {per_minute}")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until a request may go."""
        with self._lock:
            now = self._clock()
            slot = now if self._next is None else max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


class Budget(Protocol):
    """What the client waits on before each request: in-process or Redis-backed."""

    interval: float

    def acquire(self) -> None:
        """Block until a request may go."""


def platform_budget(platform: str, per_minute: float) -> Budget:
    """A fresh budget for ``platform``: shared through Redis by every worker when
    $COMPLIANCE_REDIS_URL is set (the scale-out), else this process's own."""
    from monitors.budget import RedisBudget, budget_redis_url, redis_client

    url = budget_redis_url()
    if url:
        return RedisBudget(redis_client(url), platform, per_minute)
    return RequestBudget(per_minute)


_BUDGETS: dict[tuple[str, float], RequestBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def shared_budget(platform: str, per_minute: float) -> RequestBudget:
    """The process-wide budget of ``platform`` (one per platform and rate)."""
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get((platform, per_minute))
        if budget is None:
            budget = _BUDGETS[(platform, per_minute)] = RequestBudget(per_minute)
        return budget


# Says of a 429 or 5xx answer whether it is final (returned to the source, not retried).
Final = Callable[[httpx.Response], bool]


class _Retryable(Exception):
    """One failed attempt that may succeed later; ``wait`` is what the platform asked for."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        wait: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.wait = wait


def retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds the platform asks us to wait, from Retry-After or a reset header; None if it does not say.

    ``now`` is the wall clock in epoch seconds (reset headers are absolute times).
    A time already past counts as 0: the window has reset.
    """
    value = response.headers.get("retry-after")
    if value is not None:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                return max(0.0, when.timestamp() - now)
    for name in _RESET_HEADERS:
        value = response.headers.get(name)
        if value is None:
            continue
        reset = _reset_time(value.strip(), now)
        if reset is not None:
            return max(0.0, reset - now)
    return None


def _reset_time(value: str, now: float) -> float | None:
    """A reset header as epoch seconds: epoch s, epoch ms, seconds from now, or ISO 8601."""
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    if number > 1e12:  # epoch milliseconds
        return number / 1000.0
    if number > 1e9:  # epoch seconds (after 2001)
        return number
    return now + number  # IETF RateLimit-Reset: seconds from now


# --- the SSRF guard -------------------------------------------------------------------------

# The hosts each platform's sources reach on their own (API, web pages, subtitle CDNs):
# exact names, or "*.suffix" for any subdomain. Mastodon has no fixed host: only the two
# instances run by Mastodon gGmbH are known; others are configured or allow-listed.
PUBLIC_HOSTS: dict[str, tuple[str, ...]] = {
    "tiktok": (
        "tiktok.com",
        "*.tiktok.com",
        "*.tiktokapis.com",
        "*.tiktokcdn.com",
        "*.tiktokcdn-us.com",
        "*.tiktokcdn-eu.com",
        "*.tiktokv.com",
        "*.byteoversea.com",
        "*.ibytedtos.com",
    ),
    "instagram": ("graph.facebook.com",),
    "youtube": ("www.googleapis.com", "youtube.com", "*.youtube.com"),
    "bluesky": ("bsky.app", "*.bsky.app", "bsky.social", "*.bsky.network"),
    "mastodon": ("mastodon.social", "mastodon.online"),
    "x": ("x.com", "*.x.com", "twitter.com", "api.twitter.com"),
}
PUBLIC_HOSTS["twitter"] = PUBLIC_HOSTS["x"]

Resolver = Callable[[str, int], list[str]]

# IPv6 ranges that embed an IPv4 address the packet really goes to (NAT64 well-known prefix).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), as the connection would see them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def address_problem(address: str) -> str | None:
    """Why ``address`` must not be contacted ("loopback", "private", ...), or None when it is a
    public unicast address. IPv4-mapped, 6to4, Teredo and NAT64 IPv6 addresses are judged by
    the IPv4 address inside them."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner: list[ipaddress.IPv4Address] = []
        if ip.ipv4_mapped is not None:
            inner.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            inner.append(ip.sixtofour)
        if ip.teredo is not None:
            inner.extend(ip.teredo)
        if ip in _NAT64:
            inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for embedded in inner:
            problem = address_problem(str(embedded))
            if problem is not None:
                return f"{problem} (inside {ip})"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    if not ip.is_global:  # e.g. 100.64.0.0/10, shared carrier-grade NAT space
        return "not globally routable"
    return None


def _host_port(url: str) -> tuple[str, int]:
    parsed = httpx.URL(url)
    return parsed.host.lower(), parsed.port or (443 if parsed.scheme == "https" else 80)


def _matches(host: str, pattern: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def _shown(url: httpx.URL) -> str:
    """A URL for a message: scheme, host, port and path; never the query (keys live there)."""
    return str(url.copy_with(query=None, fragment=None))


@dataclass(frozen=True)
class HostPolicy:
    """Which hosts one platform's client may contact: the SSRF guard.

    ``trusted``: (host, port) of the base URLs written in compliance.yaml (``api_url``,
    ``web_url``, Mastodon ``instances``): contacted as written, loopback included, since
    the operator chose them. ``allowed``: host patterns (``name`` or ``*.suffix``): the
    platform's public hosts plus ``allow_hosts``; these must be reached over https and
    every address they resolve to must be public (checked at each request and redirect).
    Anything else is refused. ``resolve`` is injectable so that tests can say what a
    name resolves to without DNS.
    """

    platform: str
    trusted: frozenset[tuple[str, int]] = frozenset()
    allowed: tuple[str, ...] = ()
    resolve: Resolver = system_resolve

    @classmethod
    def build(
        cls,
        platform: str,
        *,
        trusted_urls: tuple[str | None, ...] = (),
        allow_hosts: tuple[str, ...] = (),
        resolve: Resolver = system_resolve,
    ) -> HostPolicy:
        """The policy of ``platform``: its public hosts, ``allow_hosts``, and the configured
        base URLs ``trusted_urls`` (None entries are skipped)."""
        trusted = frozenset(_host_port(u) for u in trusted_urls if u)
        allowed = PUBLIC_HOSTS.get(platform, ()) + tuple(h.lower() for h in allow_hosts)
        return cls(platform, trusted, allowed, resolve)

    def check(self, url: httpx.URL) -> None:
        """Return when ``url`` may be contacted; raise HostRefused naming it and why, or
        httpx.ConnectError when its name does not resolve (retried like any connect error)."""
        scheme = url.scheme
        host = url.host.lower().rstrip(".")
        port = url.port or (443 if scheme == "https" else 80)
        if scheme not in ("http", "https"):
            self._refuse(url, f"the scheme {scheme!r} is not http or https")
        if (host, port) in self.trusted:
            return
        if not any(_matches(host, pattern) for pattern in self.allowed):
            self._refuse(
                url,
                f"{host} is not a {self.platform} host; to allow it, add it to "
                f"platforms.{self.platform}.allow_hosts in compliance.yaml",
            )
        if scheme != "https":
            self._refuse(url, f"{host} must be reached over https")
        try:
            addresses = self.resolve(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {host}: no addresses")
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                self._refuse(url, f"{host} resolves to {address}, a {problem} address")

    def _refuse(self, url: httpx.URL, why: str) -> None:
        raise HostRefused(
            f"refused to contact {_shown(url)}: {why}",
            url=_shown(url),
            platform=self.platform,
        )


class PlatformClient:
    """An httpx client for one platform with retries, budget, validators, redaction and
    the host policy (every request and redirect hop is checked before it is sent)."""

    def __init__(
        self,
        platform: str,
        settings: HttpSettings = HttpSettings(),
        *,
        budget: Budget | None = None,
        secrets: tuple[str, ...] = (),
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        hosts: HostPolicy | None = None,
    ) -> None:
        self.platform = platform
        self.hosts = hosts if hosts is not None else HostPolicy.build(platform)
        self.settings = settings
        self.budget = budget
        self._sleep = sleep
        self._clock = clock  # wall clock, only to turn absolute reset headers into waits
        self._headers = dict(headers or {})
        self.secrets = tuple(secrets) + _bearer_values(self._headers)
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            headers={"user-agent": settings.user_agent, **self._headers},
            transport=transport,
            follow_redirects=True,
            # httpx runs request hooks before every hop, redirects included.
            event_hooks={"request": [self._guard]},
        )

    # --- public ---------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        validators: MutableMapping[str, str] | None = None,
        final: Final | None = None,
        follow_redirects: bool = True,
    ) -> httpx.Response:
        """GET ``url``; conditional when ``validators`` holds an ``etag`` or ``last_modified``.

        A 304 is returned as it is (the source raises NotModified); on any other
        2xx the validators are replaced by the response's ETag / Last-Modified.
        ``final`` picks the 429/5xx answers that are returned at once instead of being
        retried (X's monthly usage cap: no wait within a run lifts it).
        ``follow_redirects=False`` returns a 3xx as it is, for a source that follows a
        redirect itself (TikTok's short links); the host policy still sees the request.
        """
        sent = dict(headers or {})
        if validators:
            if validators.get("etag"):
                sent["if-none-match"] = validators["etag"]
            if validators.get("last_modified"):
                sent["if-modified-since"] = validators["last_modified"]
        response = self._send(
            "GET",
            url,
            params=params,
            headers=sent,
            final=final,
            follow_redirects=follow_redirects,
        )
        if validators is not None and 200 <= response.status_code < 300:
            validators.clear()
            if response.headers.get("etag"):
                validators["etag"] = response.headers["etag"]
            if response.headers.get("last-modified"):
                validators["last_modified"] = response.headers["last-modified"]
        return response

    def post(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``json`` to ``url`` (the platforms' read endpoints that take a body, e.g. TikTok)."""
        return self._send("POST", url, params=params, headers=dict(headers or {}), json=json)

    def redact(self, text: str) -> str:
        """``text`` without this client's secrets or any credential-looking parameter."""
        return redact(text, self.secrets)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_redirect(self, location: httpx.URL, target: str) -> None:
        """The host policy on a redirect that the caller follows (or only reads) itself:
        HostRefused saying that ``target`` redirected to a host that is not allowed, or
        httpx.ConnectError when the name does not resolve."""
        try:
            self.hosts.check(location)
        except HostRefused as exc:
            raise _redirect_refused(exc, target, self.platform) from None

    def _guard(self, request: httpx.Request) -> None:
        """The request event hook: the host policy, before every request and redirect hop."""
        self.hosts.check(request.url)

    # --- the retry loop ---------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
        json: Any = None,
        final: Final | None = None,
        follow_redirects: bool = True,
    ) -> httpx.Response:
        secrets = self.secrets + _bearer_values(headers)
        target = redact(url, secrets)
        backoff = tenacity.wait_random_exponential(
            multiplier=self.settings.backoff, max=self.settings.max_backoff
        )

        def wait(state: tenacity.RetryCallState) -> float:
            # The platform's own wait wins over our backoff; jitter only our guess.
            failure = state.outcome.exception() if state.outcome else None
            if isinstance(failure, _Retryable) and failure.wait is not None:
                return failure.wait
            return float(backoff(state))

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.settings.retries + 1),
            wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(
                self._attempt,
                method,
                url,
                params,
                headers,
                json,
                target,
                final,
                follow_redirects,
            )
        except _Retryable as failure:
            message = redact(failure.message, secrets)
            if failure.status == 429:
                raise RateLimited(
                    f"still rate limited after {self.settings.retries + 1} attempts: {message}",
                    retry_after=failure.wait,
                    platform=self.platform,
                    target=target,
                    status=429,
                ) from None
            raise Unavailable(
                f"gave up after {self.settings.retries + 1} attempts: {message}",
                platform=self.platform,
                target=target,
                status=failure.status,
            ) from None

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
        json: Any,
        target: str,
        final: Final | None = None,
        follow_redirects: bool = True,
    ) -> httpx.Response:
        if self.budget is not None:
            self.budget.acquire()
        try:
            response = self._client.request(
                method,
                url,
                params=params,
                headers=headers,
                json=json,
                follow_redirects=follow_redirects,
            )
        except HostRefused as exc:
            if _host_port(exc.url) != _host_port(url):
                # A hop of a redirect: say where from, so the platform's answer is visible.
                raise _redirect_refused(exc, target, self.platform) from None
            raise
        except httpx.TooManyRedirects:
            # A redirect loop (a login or consent wall sending us round): not retried now.
            raise Unavailable(
                "redirect loop (too many redirects)", platform=self.platform, target=target
            ) from None
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            # Connect errors, resets, a peer that closed mid-response: the network, not us.
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        status = response.status_code
        if status != 429 and status < 500:
            return response
        if final is not None and final(response):
            return response  # the source knows this one will not pass with waiting
        wait = retry_after(response, self._clock())
        if wait is not None and wait > self.settings.max_wait:
            # Longer than a run should block a worker: record it, the next run tries again.
            raise RateLimited(
                f"HTTP {status}, asked to wait {wait:.0f}s (more than max_wait "
                f"{self.settings.max_wait:.0f}s)",
                retry_after=wait,
                platform=self.platform,
                target=target,
                status=status,
            )
        raise _Retryable(f"HTTP {status}", status=status, wait=wait)


def _redirect_refused(exc: HostRefused, target: str, platform: str) -> HostRefused:
    """``exc`` (a refused redirect target) as said of the URL that redirected there."""
    return HostRefused(
        f"{target} redirected to a host that is not allowed: {exc.message}",
        url=exc.url,
        platform=platform,
        target=target,
    )


def _bearer_values(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The credential parts of Authorization headers, so that they can be redacted."""
    values = []
    for name, value in headers.items():
        if name.lower() == "authorization":
            values.append(value.split(None, 1)[-1])
    return tuple(values)


def decode_json(response: httpx.Response, *, platform: str, target: str | None = None) -> Any:
    """The JSON body of ``response``.

    An HTML page or CAPTCHA where JSON was expected raises BotWall; an empty,
    truncated or otherwise invalid body raises Malformed (with a short, safe excerpt).
    """
    where = target if target is not None else redact(str(response.request.url))
    body = response.content
    status = response.status_code
    if body[:512].lstrip().startswith(b"<"):
        raise BotWall(
            f"HTML page instead of JSON (HTTP {status})",
            platform=platform,
            target=where,
            status=status,
        )
    if not body.strip():
        raise Malformed(
            f"empty body (HTTP {status})", platform=platform, target=where, status=status
        )
    fast = _fast_json(body)
    if fast is not _SLOW:
        return fast
    try:
        return response.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        if "text/html" in response.headers.get("content-type", "").lower():
            raise BotWall(
                f"HTML page instead of JSON (HTTP {status})",
                platform=platform,
                target=where,
                status=status,
            ) from None
        raise Malformed(
            f"invalid JSON (HTTP {status}, {len(body)} bytes): {exc}",
            platform=platform,
            target=where,
            status=status,
        ) from None


_SLOW = object()
# orjson reads an integer beyond 64 bits as a float, silently: a positive one has 20 or
# more digits, a negative one 19 or more. A body with such a run of digits anywhere
# (inside a string too: a false alarm costs only the slower reading) goes to the
# standard library. TikTok's ids are 19-digit strings, so its item lists stay fast.
# The test is two substring searches over the body with every digit mapped to "0":
# C-speed, where a regular expression scanning for numbers cost more than parsing.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_POSITIVE = b"0" * 20
_LONG_NEGATIVE = b"-" + b"0" * 19


def _fast_json(body: bytes) -> Any:
    """The body parsed by orjson (several times faster than the standard library on a
    platform's item lists), or ``_SLOW`` when the standard library must read it: orjson
    refuses what Python reads (NaN, lone surrogates, other encodings; errors are
    reported by the standard library's message) and reads long integers as floats."""
    digits = body.translate(_DIGITS_TO_ZERO)
    if _LONG_POSITIVE in digits or _LONG_NEGATIVE in digits:
        return _SLOW
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _SLOW


def make_client(
    platform: str,
    settings: HttpSettings = HttpSettings(),
    *,
    budget: Budget | None = None,
    secrets: tuple[str, ...] = (),
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    hosts: HostPolicy | None = None,
) -> PlatformClient:
    """The client for ``platform``: the process-wide budget of that platform when it has a rate,
    and ``hosts`` as its host policy (default: the platform's public hosts only)."""
    if budget is None and settings.requests_per_minute:
        budget = shared_budget(platform, settings.requests_per_minute)
    return PlatformClient(
        platform,
        settings,
        budget=budget,
        secrets=secrets,
        sleep=sleep,
        transport=transport,
        headers=headers,
        clock=clock,
        hosts=hosts,
    )
