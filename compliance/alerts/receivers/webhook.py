"""A generic webhook: the message's JSON, signed, with an idempotency key.

Headers: ``Idempotency-Key`` (the same for every attempt at the same alerts: a
receiver that remembers keys drops a resend after a crash), and, when a secret is
configured, ``X-Compliance-Signature: sha256=<hex HMAC-SHA256 of the body>``.
Each alert in the body also carries its own ``key``. 2xx is delivered; 429 and 503
are retried after their ``Retry-After``; anything else is retried with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from compliance.alerts.config import SecretMissing, WebhookConfig, secret
from compliance.alerts.receivers import OK, Outcome, failed, parse_retry_after, scrub
from compliance.alerts.render import Message

SIGNATURE_HEADER = "X-Compliance-Signature"


def body(message: Message) -> bytes:
    """The exact bytes posted (and signed)."""
    return json.dumps(message.webhook_body(), ensure_ascii=False, sort_keys=True).encode("utf-8")


def signature(key: str, data: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the body with the shared secret."""
    return "sha256=" + hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


class WebhookTransport:
    """POSTs each message over one HTTP client."""

    def __init__(
        self, cfg: WebhookConfig, *, environ: Mapping[str, str], client: Callable[[float], Any]
    ) -> None:
        self.cfg = cfg
        self.environ = environ
        self.client = client

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        if not messages:
            return []
        try:
            url = secret(self.cfg.url_env, self.environ)
            key = secret(self.cfg.secret_env, self.environ)
        except SecretMissing as exc:
            return failed(messages, str(exc))
        secrets = (url, key)
        outcomes = []
        with self.client(self.cfg.timeout) as client:
            for message in messages:
                data = body(message)
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "Idempotency-Key": message.idempotency_key,
                    "User-Agent": "compliance-alerts/1",
                }
                if key is not None:
                    headers[SIGNATURE_HEADER] = signature(key, data)
                try:
                    resp = client.post(url, content=data, headers=headers)
                except httpx.TimeoutException:
                    outcomes.append(Outcome(False, "webhook timed out"))
                    continue
                except httpx.HTTPError as exc:
                    outcomes.append(
                        Outcome(False, scrub(f"webhook: {type(exc).__name__}: {exc}", secrets))
                    )
                    continue
                if 200 <= resp.status_code < 300:
                    outcomes.append(OK)
                    continue
                retry_after = (
                    parse_retry_after(resp.headers.get("Retry-After"))
                    if resp.status_code in (429, 503)
                    else None
                )
                outcomes.append(
                    Outcome(False, f"webhook answered HTTP {resp.status_code}", retry_after)
                )
        return outcomes
