"""Typed fetch failures: every platform failure becomes one of these, never a crash.

A monitor run records the failure's ``kind`` and its one-line message (never a
secret: :func:`redact` strips tokens and keys from URLs and text before they
reach a message), counts consecutive failures, and only reports a monitor as
failing after N of them (as urlwatch does). ``transient`` says whether the same
request may succeed later without anybody doing anything (a rate limit, a 5xx)
or needs a person (an expired token, a private account).

None of these means "deleted": only :class:`NotFound` on a post or account that
the platform reports as gone can mark posts gone, and only where the platform's
answer can tell deleted from blocked (see each source).
"""

from __future__ import annotations

import re
from typing import ClassVar


class FetchError(Exception):
    """A platform could not give us what we asked for. ``str()`` is one safe line."""

    kind: ClassVar[str] = "error"
    transient: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        target: str | None = None,
        status: int | None = None,
    ) -> None:
        self.message = redact(" ".join(message.split()))
        self.platform = platform
        self.target = target
        self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.platform, self.target) if p)
        return f"{where}: {self.message}" if where else self.message


class RateLimited(FetchError):
    """The platform throttled us (429, or its own throttling codes); try again after ``retry_after`` s."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class QuotaExceeded(RateLimited):
    """A daily or monthly quota is used up (YouTube ``quotaExceeded``, X usage cap): not before the reset."""

    kind = "quota"


class AuthExpired(FetchError):
    """The credentials were refused: invalid or expired token, missing scope, bad API key."""

    kind = "auth"
    transient = False


class NotFound(FetchError):
    """The account, hashtag or post does not exist (or no longer exists) on the platform."""

    kind = "not_found"
    transient = False


class Private(FetchError):
    """The account or post exists but is private, blocked or otherwise not visible to us."""

    kind = "private"
    transient = False


class BotWall(FetchError):
    """An HTML page, CAPTCHA or login wall where data was expected."""

    kind = "bot_wall"


class Malformed(FetchError):
    """The platform answered, but not in a shape we can read (truncated JSON, missing keys)."""

    kind = "malformed"


class Unavailable(FetchError):
    """5xx, timeouts and connection errors that outlasted the retries."""

    kind = "unavailable"


class NotConfigured(FetchError):
    """The source cannot run as configured: a credential variable is unset, or the platform
    offers no way to do what was asked (e.g. a hashtag search without a token)."""

    kind = "config"
    transient = False


class HostRefused(NotConfigured):
    """A request (or a redirect) to a host the source may not contact: not a host of the
    platform nor of compliance.yaml, or one that resolves to a private, loopback,
    link-local, multicast or reserved address (SSRF). Refused before anything is sent.

    ``url`` is the refused address without its query (which may carry a key).
    """

    def __init__(self, message: str, *, url: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.url = url


KINDS: tuple[str, ...] = tuple(
    c.kind
    for c in (
        RateLimited,
        QuotaExceeded,
        AuthExpired,
        NotFound,
        Private,
        BotWall,
        Malformed,
        Unavailable,
        NotConfigured,
    )
)

# Query parameters and headers that carry credentials on the platforms we talk to
# (Graph API access_token, YouTube key, OAuth codes and bearer tokens).
_SECRET_PARAM = re.compile(
    r"(?i)\b(access_token|token|key|api_key|apikey|client_secret|code|password|sig(?:nature)?)"
    r"=([^&\s'\"]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with credentials in URLs and headers, and the given secret values, replaced by '***'."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}=***", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
