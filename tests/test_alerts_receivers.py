"""Receivers against real servers on loopback: SMTP (aiosmtpd), Slack and webhooks (HTTP)."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import smtplib
from email import policy

import httpx
import pytest
from alerts_helpers import HTTPRecorder, Reply, smtp_server
from test_alerts_render import EVIL_CAPTION, group, payload

from compliance.alerts.config import AppriseConfig, EmailConfig, SlackConfig, WebhookConfig
from compliance.alerts.receivers import Factories
from compliance.alerts.receivers.apprise import AppriseTransport
from compliance.alerts.receivers.email import EmailTransport
from compliance.alerts.receivers.slack import SlackTransport
from compliance.alerts.receivers.webhook import WebhookTransport
from compliance.alerts.render import render

F = Factories()


def plain_smtp(cfg: EmailConfig) -> smtplib.SMTP:
    """The loopback server speaks plain SMTP; connections are counted."""
    plain_smtp.count += 1
    return smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=5)


plain_smtp.count = 0


def test_email_is_multipart_escaped_rfc2047_and_one_connection_per_batch():
    with smtp_server() as (controller, received):
        cfg = EmailConfig(
            "127.0.0.1",
            controller.port,
            "Compliance <compliance@brand.example>",
            ("ana@brand.example", "bo@brand.example"),
        )
        transport = EmailTransport(cfg, environ={}, connect=plain_smtp)
        messages = [
            render(group(payload(creator="@zoë_名前\r\nBcc: evil@example.com"))),
            render(group(payload(vid=18), payload(vid=19))),
        ]
        before = plain_smtp.count
        outcomes = transport.send(messages)
    assert [o.ok for o in outcomes] == [True, True]
    assert plain_smtp.count - before == 1
    assert len(received) == 2
    first = received[0]
    assert sorted(first.rcpt_tos) == ["ana@brand.example", "bo@brand.example"]
    raw = first.original_content.decode("ascii")  # all 7-bit on the wire
    parsed = email.message_from_bytes(first.original_content, policy=policy.default)
    header_block = raw.split("\r\n\r\n", 1)[0]
    assert "=?utf-8?" in header_block.lower()  # RFC 2047 for the non-ASCII creator
    assert (
        parsed["Subject"]
        == "[compliance] New violation: @zoë_名前 Bcc: evil@example.com on tiktok: ambiguous-disclosure (FTC.C201)"
    )
    assert "Bcc" not in parsed
    assert not any(line.lower().startswith("bcc:") for line in header_block.split("\r\n"))
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "»#sp«" in text and "<!channel>" in text  # plain text shows the caption as written
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert parsed["Message-ID"] == f"<{messages[0].idempotency_key}@compliance.alerts>"


def test_email_credentials_come_from_the_environment_and_errors_keep_them_out():
    cfg = EmailConfig(
        "127.0.0.1", 1, "a@b.example", ("c@d.example",), username_env="U", password_env="P"
    )
    transport = EmailTransport(cfg, environ={"U": "user"}, connect=plain_smtp)
    [outcome] = transport.send([render(group(payload()))])
    assert outcome.error == "environment variable P is not set"

    def refuse(_cfg):
        raise ConnectionRefusedError(111, "Connection refused for user:hunter2")

    transport = EmailTransport(cfg, environ={"U": "user", "P": "hunter2"}, connect=refuse)
    [outcome] = transport.send([render(group(payload()))])
    assert not outcome.ok and "hunter2" not in outcome.error and "cannot connect" in outcome.error


def test_slack_webhook_posts_escaped_blocks_and_honours_429():
    with HTTPRecorder() as server:
        url = server.url + "/services/T000/B000/secretpart"
        cfg = SlackConfig(webhook_url_env="SLACK_URL", timeout=5)
        transport = SlackTransport(
            cfg, environ={"SLACK_URL": url}, webhook_client=F.slack_webhook, web_client=F.slack_web
        )
        server.script = [Reply(429, {"Retry-After": "30"}, b"rate_limited")]
        [limited] = transport.send([render(group(payload()))])
        [ok] = transport.send([render(group(payload()))])
    assert (limited.ok, limited.retry_after) == (False, 30.0)
    assert "secretpart" not in limited.error and "429" in limited.error
    assert ok.ok
    body = server.requests[-1].json()
    assert server.requests[-1].path == "/services/T000/B000/secretpart"
    dumped = json.dumps(body["blocks"])
    assert "<!channel>" not in dumped and "&lt;!channel&gt;" in dumped
    assert body["unfurl_links"] is False


def test_slack_bot_token_uses_the_web_api_at_its_base_url():
    with HTTPRecorder() as server:
        cfg = SlackConfig(
            token_env="SLACK_TOKEN",
            channel="#brand-safety",
            api_url=server.url + "/api/",
            timeout=5,
        )
        transport = SlackTransport(
            cfg,
            environ={"SLACK_TOKEN": "xoxb-secret-token"},
            webhook_client=F.slack_webhook,
            web_client=F.slack_web,
        )
        server.script = [
            Reply(200, {"Content-Type": "application/json"}, b'{"ok": true}'),
            Reply(
                429,
                {"Content-Type": "application/json", "Retry-After": "5"},
                b'{"ok": false, "error": "ratelimited"}',
            ),
        ]
        [ok] = transport.send([render(group(payload()))])
        [limited] = transport.send([render(group(payload()))])
    assert ok.ok
    assert (limited.ok, limited.retry_after) == (False, 5.0) and "xoxb" not in limited.error
    request = server.requests[0]
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-secret-token"
    assert json.loads(request.body)["channel"] == "#brand-safety"


def test_slack_long_digest_is_split_into_posts_slack_accepts():
    with HTTPRecorder() as server:
        cfg = SlackConfig(webhook_url_env="SLACK_URL", timeout=5)
        transport = SlackTransport(
            cfg,
            environ={"SLACK_URL": server.url + "/hook"},
            webhook_client=F.slack_webhook,
            web_client=F.slack_web,
        )
        message = render(group(*[payload(vid=i) for i in range(60)]), digest_limit=60)
        [outcome] = transport.send([message])
    assert outcome.ok and len(server.requests) == len(message.slack) > 1
    assert all(len(r.json()["blocks"]) <= 50 for r in server.requests)


def webhook(server, secret="hook-secret", timeout=5.0):
    cfg = WebhookConfig(url_env="HOOK_URL", secret_env="HOOK_SECRET", timeout=timeout)
    return WebhookTransport(
        cfg,
        environ={"HOOK_URL": server.url + "/in?token=abc", "HOOK_SECRET": secret},
        client=F.http,
    )


def test_webhook_signs_the_body_and_carries_the_idempotency_key():
    with HTTPRecorder() as server:
        message = render(group(payload()))
        [outcome] = webhook(server).send([message])
    assert outcome.ok
    [request] = server.requests
    expected = hmac.new(b"hook-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-compliance-signature"] == f"sha256={expected}"
    assert request.headers["idempotency-key"] == message.idempotency_key
    body = request.json()
    assert body["alerts"][0]["caption"] == EVIL_CAPTION  # data, not markup
    assert body["alerts"][0]["rule"] == "FTC.C201"


def test_webhook_failures_500_429_and_timeouts_keep_secrets_out():
    with HTTPRecorder() as server:
        server.script = [Reply(500), Reply(429, {"Retry-After": "12"}), Reply(200, delay=1.5)]
        transport = webhook(server, timeout=0.5)
        outcomes = transport.send([render(group(payload(vid=i))) for i in range(3)])
    assert [(o.ok, o.retry_after) for o in outcomes] == [
        (False, None),
        (False, 12.0),
        (False, None),
    ]
    assert outcomes[0].error == "webhook answered HTTP 500"
    assert outcomes[2].error == "webhook timed out"


def test_webhook_connection_error_does_not_show_the_url():
    cfg = WebhookConfig(url_env="HOOK_URL", timeout=1)
    transport = WebhookTransport(
        cfg, environ={"HOOK_URL": "http://127.0.0.1:9/x?token=topsecret"}, client=F.http
    )
    [outcome] = transport.send([render(group(payload()))])
    assert (
        not outcome.ok and "topsecret" not in outcome.error and "127.0.0.1:9" not in outcome.error
    )


def test_apprise_delivers_through_its_json_notifier_on_loopback():
    with HTTPRecorder() as server:
        host_port = server.url.removeprefix("http://")
        cfg = AppriseConfig(urls_env="ALERT_URLS")
        transport = AppriseTransport(
            cfg, environ={"ALERT_URLS": f"json://{host_port}/apprise"}, make=F.apprise
        )
        [outcome] = transport.send([render(group(payload()))])
        [bad] = AppriseTransport(cfg, environ={"ALERT_URLS": "nonsense://x"}, make=F.apprise).send(
            [render(group(payload()))]
        )
    assert outcome.ok
    [request] = server.requests
    sent = request.json()
    # mentions are defused with a word joiner (compliance.safe.defuse_references)
    assert sent["title"].startswith("[compliance] New violation: @\u2060maya")
    assert "»#sp«" in sent["message"]
    assert not bad.ok and "nonsense" not in bad.error


@pytest.mark.parametrize("status", [200, 204])
def test_webhook_any_2xx_is_delivered(status):
    with HTTPRecorder() as server:
        server.script = [Reply(status, body=b"")]
        [outcome] = webhook(server).send([render(group(payload()))])
    assert outcome.ok


def test_httpx_is_the_client():  # the default factory builds a real httpx client
    client = F.http(3.0)
    assert isinstance(client, httpx.Client)
    client.close()


@pytest.fixture
def tls_files(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted through SSL_CERT_FILE (as a
    private CA would be), made with the openssl command."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def _server_context(cert, key):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_email_starttls_with_login_from_the_environment(tls_files):
    from aiosmtpd.smtp import AuthResult

    from compliance.alerts.receivers.email import connect

    cert, key = tls_files
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=True)

    server_kwargs = {
        "tls_context": _server_context(cert, key),
        "require_starttls": True,
        "authenticator": authenticator,
        "auth_require_tls": True,
    }
    with smtp_server(**server_kwargs) as (controller, received):
        cfg = EmailConfig(
            "127.0.0.1",
            controller.port,
            "a@b.example",
            ("c@d.example",),
            starttls=True,
            username_env="SMTP_USER",
            password_env="SMTP_PASSWORD",
            timeout=5,
        )
        transport = EmailTransport(
            cfg, environ={"SMTP_USER": "ana", "SMTP_PASSWORD": "pw"}, connect=connect
        )
        [outcome] = transport.send([render(group(payload()))])
    assert outcome.ok, outcome.error
    assert logins == [(b"ana", b"pw", True)] and len(received) == 1


def test_email_implicit_tls(tls_files):
    from compliance.alerts.receivers.email import connect

    cert, key = tls_files
    with smtp_server(ssl_context=_server_context(cert, key)) as (controller, received):
        cfg = EmailConfig(
            "127.0.0.1", controller.port, "a@b.example", ("c@d.example",), tls=True, timeout=5
        )
        [outcome] = EmailTransport(cfg, environ={}, connect=connect).send(
            [render(group(payload()))]
        )
    assert outcome.ok, outcome.error
    assert len(received) == 1


def test_client_libraries_log_no_secrets(caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    with HTTPRecorder() as server:
        cfg = SlackConfig(
            token_env="SLACK_TOKEN", channel="#c", api_url=server.url + "/api/", timeout=5
        )
        server.script = [Reply(200, {"Content-Type": "application/json"}, b'{"ok": true}')]
        SlackTransport(
            cfg,
            environ={"SLACK_TOKEN": "xoxb-secret-token"},
            webhook_client=F.slack_webhook,
            web_client=F.slack_web,
        ).send([render(group(payload()))])
        AppriseTransport(
            AppriseConfig(urls_env="U"), environ={"U": "nonsense://tok3n@x"}, make=F.apprise
        ).send([render(group(payload()))])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Unparseable URL" in logged and "Sending a request" in logged  # the libraries did log
    assert "xoxb-secret-token" not in logged and "tok3n" not in logged
