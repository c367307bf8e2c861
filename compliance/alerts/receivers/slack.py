"""Slack: an incoming webhook or a bot token (chat.postMessage), through slack-sdk.

Blocks come from :func:`compliance.alerts.render.slack_messages` (escaped, within
Slack's limits); a long digest is several posts. slack-sdk's own retry handlers
are switched off: the outbox retries, honouring a 429's ``Retry-After``. The
webhook URL and token are read from the environment when sending and never
appear in an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from compliance.alerts.config import SecretMissing, SlackConfig, secret
from compliance.alerts.receivers import OK, Outcome, failed, parse_retry_after, scrub, scrubbed_logs
from compliance.alerts.render import Message

# slack-sdk logs request URLs and headers at DEBUG: its clients log here, scrubbed.
_LOGGER = logging.getLogger("compliance.alerts.slack")


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else str(value)
    return None


class SlackTransport:
    """Posts each message's Slack posts in order."""

    def __init__(
        self,
        cfg: SlackConfig,
        *,
        environ: Mapping[str, str],
        webhook_client: Callable[..., Any],
        web_client: Callable[..., Any],
    ) -> None:
        self.cfg = cfg
        self.environ = environ
        self.webhook_client = webhook_client
        self.web_client = web_client

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        if not messages:
            return []
        try:
            url = secret(self.cfg.webhook_url_env, self.environ)
            token = secret(self.cfg.token_env, self.environ)
        except SecretMissing as exc:
            return failed(messages, str(exc))
        secrets = (url, token)
        with scrubbed_logs(_LOGGER, secrets) as logger:
            try:
                if url is not None:
                    client = self.webhook_client(
                        url=url, timeout=int(self.cfg.timeout), retry_handlers=[], logger=logger
                    )
                    post = self._via_webhook(client, secrets)
                else:
                    client = self.web_client(
                        token=token,
                        base_url=self.cfg.api_url,
                        timeout=int(self.cfg.timeout),
                        retry_handlers=[],
                        logger=logger,
                    )
                    post = self._via_api(client, secrets)
            except Exception as exc:  # a client that cannot be built: say so, without secrets
                return failed(
                    messages, scrub(f"Slack client: {type(exc).__name__}: {exc}", secrets)
                )
            outcomes: list[Outcome] = []
            for message in messages:
                outcome = OK
                for part in message.slack:
                    try:
                        outcome = post(part)
                    except Exception as exc:  # network errors: urllib's, socket's, ssl's
                        outcome = Outcome(
                            False, scrub(f"Slack: {type(exc).__name__}: {exc}", secrets)
                        )
                    if not outcome.ok:
                        break
                outcomes.append(outcome)
        return outcomes

    def _via_webhook(
        self, client: Any, secrets: tuple[str | None, ...]
    ) -> Callable[[dict[str, Any]], Outcome]:
        def post(part: dict[str, Any]) -> Outcome:
            resp = client.send(
                text=part["text"], blocks=part["blocks"], unfurl_links=False, unfurl_media=False
            )
            if resp.status_code == 200:
                return OK
            retry_after = parse_retry_after(_header(resp.headers, "Retry-After"))
            body = str(resp.body or "")[:200]
            return Outcome(
                False,
                scrub(f"Slack answered HTTP {resp.status_code}: {body}", secrets),
                retry_after,
            )

        return post

    def _via_api(
        self, client: Any, secrets: tuple[str | None, ...]
    ) -> Callable[[dict[str, Any]], Outcome]:
        from slack_sdk.errors import SlackApiError

        def post(part: dict[str, Any]) -> Outcome:
            try:
                client.chat_postMessage(
                    channel=self.cfg.channel,
                    text=part["text"],
                    blocks=part["blocks"],
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except SlackApiError as exc:
                resp = exc.response
                retry_after = parse_retry_after(
                    _header(getattr(resp, "headers", None), "Retry-After")
                )
                error = resp.get("error") if hasattr(resp, "get") else None
                return Outcome(
                    False,
                    scrub(f"Slack API HTTP {resp.status_code}: {error or 'error'}", secrets),
                    retry_after,
                )
            return OK

        return post
