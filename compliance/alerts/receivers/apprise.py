"""Apprise: Teams, Google Chat, Discord, Telegram, PagerDuty and the rest, by URL.

The URLs (space or comma separated) come from the environment variable named by
``urls_env``; they carry tokens, so they never appear in an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from compliance.alerts.config import AppriseConfig, SecretMissing, secret
from compliance.alerts.receivers import OK, Outcome, failed, scrubbed_logs
from compliance.alerts.render import Message
from compliance.safe import defuse_references


class AppriseTransport:
    """Notifies every configured Apprise URL with each message (title + plain text)."""

    def __init__(
        self, cfg: AppriseConfig, *, environ: Mapping[str, str], make: Callable[[], Any]
    ) -> None:
        self.cfg = cfg
        self.environ = environ
        self.make = make

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        if not messages:
            return []
        try:
            raw = secret(self.cfg.urls_env, self.environ) or ""
        except SecretMissing as exc:
            return failed(messages, str(exc))
        with scrubbed_logs(logging.getLogger("apprise"), [raw]):
            client = self.make()
            urls = [u for u in re.split(r"[\s,]+", raw) if u]
            for n, url in enumerate(urls, 1):
                if not client.add(url):
                    return failed(
                        messages,
                        f"Apprise URL {n} of {len(urls)} in {self.cfg.urls_env} is not valid",
                    )
            outcomes = []
            for message in messages:
                # Plain text (Apprise escapes it for HTML and Markdown targets), with every
                # @mention defused: Apprise's Discord plugin turns a body's "@everyone" or
                # "<@123>" into a real ping, and captions are written by strangers.
                ok = client.notify(
                    title=defuse_references(message.subject),
                    body=defuse_references(message.text),
                    body_format="text",  # apprise.NotifyFormat.TEXT (apprise is imported lazily)
                )
                outcomes.append(
                    OK if ok else Outcome(False, "Apprise could not deliver to every URL")
                )
        return outcomes
