"""Email over SMTP: one connection for a batch of messages, multipart text + HTML.

``tls: true`` connects with implicit TLS (SMTPS, port 465); ``starttls: true``
upgrades a plain connection before anything else is said; credentials, when
configured, come from ``username_env``/``password_env``. Headers are built with
:class:`email.message.EmailMessage`: non-ASCII text is RFC 2047 encoded, and the
subject has no control characters left, so a creator named ``"x\\nBcc: y"`` cannot
add a header.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import Any

from compliance.alerts.config import EmailConfig, SecretMissing, secret
from compliance.alerts.receivers import OK, Outcome, failed, scrub
from compliance.alerts.render import Message, header_safe


def connect(cfg: EmailConfig) -> smtplib.SMTP:
    """An SMTP connection as configured (TLS verified against the system's CAs)."""
    if cfg.tls:
        return smtplib.SMTP_SSL(
            cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout, context=ssl.create_default_context()
        )
    conn = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout)
    if cfg.starttls:
        conn.starttls(context=ssl.create_default_context())
    return conn


def build(message: Message, cfg: EmailConfig) -> EmailMessage:
    """The email for one rendered message."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = header_safe(message.subject, 250)
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = formatdate(usegmt=True)
    # Stable across resends: a mail system that dedups on Message-ID drops the resend.
    msg["Message-ID"] = f"<{message.idempotency_key}@compliance.alerts>"
    msg["X-Compliance-Idempotency-Key"] = message.idempotency_key
    msg.set_content(message.text)
    msg.add_alternative(message.html, subtype="html")
    return msg


class EmailTransport:
    """Sends a batch over one SMTP connection."""

    def __init__(
        self,
        cfg: EmailConfig,
        *,
        environ: Mapping[str, str],
        connect: Callable[[EmailConfig], Any] = connect,
    ) -> None:
        self.cfg = cfg
        self.environ = environ
        self.connect = connect

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        if not messages:
            return []
        try:
            user = secret(self.cfg.username_env, self.environ)
            password = secret(self.cfg.password_env, self.environ)
        except SecretMissing as exc:
            return failed(messages, str(exc))
        secrets = (user, password)
        try:
            conn = self.connect(self.cfg)
        except (OSError, smtplib.SMTPException) as exc:
            return failed(
                messages,
                scrub(
                    f"cannot connect to {self.cfg.smtp_host}:{self.cfg.smtp_port}: {exc}", secrets
                ),
            )
        outcomes: list[Outcome] = []
        try:
            if user is not None and password is not None:
                conn.login(user, password)
            for message in messages:
                try:
                    conn.send_message(build(message, self.cfg))
                    outcomes.append(OK)
                except smtplib.SMTPRecipientsRefused as exc:
                    outcomes.append(
                        Outcome(False, scrub(f"recipients refused: {exc.recipients}", secrets))
                    )
                except smtplib.SMTPResponseException as exc:
                    text = (
                        exc.smtp_error.decode("utf-8", "replace")
                        if isinstance(exc.smtp_error, bytes)
                        else str(exc.smtp_error)
                    )
                    outcomes.append(Outcome(False, scrub(f"SMTP {exc.smtp_code}: {text}", secrets)))
        except (OSError, smtplib.SMTPException) as exc:
            error = scrub(f"SMTP: {type(exc).__name__}: {exc}", secrets)
            outcomes.extend(failed(messages[len(outcomes) :], error))
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()
        return outcomes
