"""Receivers: transport only. Each takes rendered messages and reports an outcome per message.

A transport is built per receiver by :func:`transport_for` with the client
factories passed in (:class:`Factories`: SMTP connections, Slack clients, the
HTTP client, Apprise), so tests point them at loopback servers and nothing here
opens a connection of its own choosing. Secrets are read from the environment
only when a transport sends, and :func:`scrub` keeps them (and any URL) out of
the error text that is stored and shown.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from compliance.alerts.config import Receiver
from compliance.alerts.render import Message

_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: delivered, or why not (and when to try again, if the
    receiver said so)."""

    ok: bool
    error: str | None = None
    retry_after: float | None = None


OK = Outcome(True)


class Transport(Protocol):
    """Sends a batch of messages (one connection for the batch where the protocol allows)."""

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        """One outcome per message, in order."""
        ...


def _secret_parts(value: str) -> list[str]:
    """A secret and, when it is a URL, the parts of it that are secret on their own: its path
    and query, and their long pieces (a Slack webhook's path, a ``?token=``), since error
    pages and proxies echo the request path without the scheme and host."""
    parts = [value]
    split = urlsplit(value)
    if split.scheme and split.netloc:
        rest = split.path + (f"?{split.query}" if split.query else "")
        if len(rest) > 1:
            parts.append(rest)
        pieces = re.split(r"[/?&=#]", rest)
        parts.extend(p for p in pieces if len(p) >= SECRET_PIECE)
        if split.password:
            parts.append(split.password)
    return sorted(parts, key=len, reverse=True)  # longest first: no half-replaced leftovers


# The shortest piece of a secret URL redacted on its own (Slack's and webhook tokens are 24+).
SECRET_PIECE = 12


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """Error text safe to store and show: secret values (and the secret parts of secret
    URLs) and URLs replaced, one line. The one redaction of the alerts' receivers."""
    for value in secrets:
        if value:
            for part in _secret_parts(value):
                text = text.replace(part, "***")
    text = _URL.sub("<url>", text)
    return " ".join(text.split())[:500]


class _Scrub(logging.Filter):
    """Rewrites a library's log records without secrets or URLs (tokens ride in both)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), self.secrets)
        record.args = ()
        return True


@contextmanager
def scrubbed_logs(
    logger: logging.Logger, secrets: Iterable[str | None]
) -> Iterator[logging.Logger]:
    """While sending, records of ``logger`` (a client library's) lose secrets and URLs:
    Apprise logs unparseable URLs whole, slack-sdk logs request URLs and headers."""
    guard = _Scrub(secrets)
    logger.addFilter(guard)
    try:
        yield logger
    finally:
        logger.removeFilter(guard)


def failed(
    messages: Sequence[Message], error: str, retry_after: float | None = None
) -> list[Outcome]:
    """The same failure for every message of a batch (e.g. the connection failed)."""
    return [Outcome(False, error, retry_after) for _ in messages]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds; an HTTP date is not trusted here)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def _default_smtp(*args: Any, **kwargs: Any) -> Any:
    from compliance.alerts.receivers.email import connect

    return connect(*args, **kwargs)


def _default_http(timeout: float) -> Any:
    import httpx

    return httpx.Client(timeout=timeout, follow_redirects=False)


def _slack_webhook(**kwargs: Any) -> Any:
    from slack_sdk.webhook import WebhookClient

    return WebhookClient(**kwargs)


def _slack_web(**kwargs: Any) -> Any:
    from slack_sdk import WebClient

    return WebClient(**kwargs)


def _apprise() -> Any:
    import apprise

    return apprise.Apprise()


@dataclass(frozen=True)
class Factories:
    """How transports get their clients (defaults: the real ones)."""

    smtp: Callable[..., Any] = _default_smtp
    http: Callable[[float], Any] = _default_http
    slack_webhook: Callable[..., Any] = _slack_webhook
    slack_web: Callable[..., Any] = _slack_web
    apprise: Callable[[], Any] = _apprise
    extra: Mapping[str, Any] = field(default_factory=dict)


def transport_for(
    receiver: Receiver, environ: Mapping[str, str], factories: Factories
) -> Transport:
    """The transport of a configured receiver."""
    if receiver.kind == "email":
        from compliance.alerts.receivers.email import EmailTransport

        return EmailTransport(receiver.settings, environ=environ, connect=factories.smtp)  # type: ignore[arg-type]
    if receiver.kind == "slack":
        from compliance.alerts.receivers.slack import SlackTransport

        return SlackTransport(
            receiver.settings,  # type: ignore[arg-type]
            environ=environ,
            webhook_client=factories.slack_webhook,
            web_client=factories.slack_web,
        )
    if receiver.kind == "webhook":
        from compliance.alerts.receivers.webhook import WebhookTransport

        return WebhookTransport(receiver.settings, environ=environ, client=factories.http)  # type: ignore[arg-type]
    from compliance.alerts.receivers.apprise import AppriseTransport

    return AppriseTransport(receiver.settings, environ=environ, make=factories.apprise)  # type: ignore[arg-type]
