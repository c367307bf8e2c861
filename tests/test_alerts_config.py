"""The alerts section: the issue's sample validates as it stands; errors are one line with file:line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_helpers import config_from

from compliance.alerts.config import AlertsConfigError, SecretMissing, secret

SAMPLE = """\
alerts:
  receivers:
    brand-email:
      email: {smtp_host: smtp.example.com, smtp_port: 587, starttls: true, username_env: SMTP_USER,
              password_env: SMTP_PASSWORD, from: "compliance@brand.example", to: ["ana@brand.example"]}
    legal-slack:
      slack: {webhook_url_env: SLACK_WEBHOOK_URL}
    tickets:
      webhook: {url_env: TICKETS_URL, secret_env: TICKETS_SECRET}
  route:
    receiver: brand-email
    group_by: [creator]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 3d
    routes:
      - match: {jurisdiction: GB}
        receiver: legal-slack
        continue: true
      - match: {event: monitor_failing}
        receiver: tickets
  inhibit:
    - source: {code: missing_disclosure}
      target: {code: [below_fold, buried_in_hashtags]}
      equal: [post]
"""


def test_the_issue_sample_validates_as_it_stands(tmp_path, monkeypatch):
    for name in (
        "SMTP_USER",
        "SMTP_PASSWORD",
        "SLACK_WEBHOOK_URL",
        "TICKETS_URL",
        "TICKETS_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)  # validation never needs the secrets
    config = config_from(tmp_path, SAMPLE)
    email = config.receivers["brand-email"].settings
    assert (email.smtp_host, email.smtp_port, email.starttls, email.to) == (
        "smtp.example.com",
        587,
        True,
        ("ana@brand.example",),
    )
    assert config.receivers["tickets"].kind == "webhook"
    root = config.route
    assert root.group_by == ("creator",) and root.repeat_interval == timedelta(days=3)
    gb, monitors = root.routes
    # Children inherit the parent's options.
    assert gb.group_by == ("creator",) and gb.group_wait == timedelta(seconds=30) and gb.continue_
    assert monitors.receiver == "tickets" and monitors.repeat_interval == timedelta(days=3)
    assert monitors.where.endswith("compliance.yaml:20")
    [rule] = config.inhibit
    assert rule.equal == ("post",) and rule.target[0].values == ("below_fold", "buried_in_hashtags")
    assert config.delivery.max_tries == 10


def test_defaults_follow_alertmanager(tmp_path):
    config = config_from(
        tmp_path,
        """
        alerts:
          receivers: {hook: {webhook: {url_env: U}}}
          route: {receiver: hook}
        """,
    )
    r = config.route
    assert (r.group_wait, r.group_interval, r.repeat_interval) == (
        timedelta(seconds=30),
        timedelta(minutes=5),
        timedelta(hours=4),
    )


BASE = """\
alerts:
  receivers:
    hook:
      webhook: {url_env: HOOK_URL}
  route:
    receiver: hook
"""

ERRORS = [
    # (what is appended or replaced, expected line, expected text)
    (BASE + "  colour: blue\n", 7, "alerts.colour: unknown key"),
    (BASE + "    group_wait: soon\n", 7, "alerts.route.group_wait: not a duration"),
    (BASE + "    group_by: [creater]\n", 7, "alerts.route.group_by[0]: unknown label"),
    (
        BASE + "    routes:\n      - receiver: nobody\n",
        8,
        "alerts.route.routes[0].receiver: no receiver named 'nobody'",
    ),
    (
        BASE + "    routes:\n      - match: {event: opend}\n",
        8,
        "alerts.route.routes[0].match.event: unknown event 'opend'",
    ),
    (BASE + "    routes:\n      - match_re: {creator: '(unclosed'}\n", 8, "bad regular expression"),
    (BASE + "    match: {brand: x}\n", 7, "alerts.route.match: the root route matches every alert"),
    (
        BASE.replace("url_env: HOOK_URL", "url: https://hooks.example/x"),
        4,
        "secrets are not written in the file: set url_env",
    ),
    (
        BASE.replace("{url_env: HOOK_URL}", "{url_env: 'not a name'}"),
        4,
        "is not an environment variable name",
    ),
    (
        BASE.replace("webhook: {url_env: HOOK_URL}", "pager: {}"),
        4,
        "alerts.receivers.hook.pager: unknown key",
    ),
    (
        BASE
        + "  inhibit:\n    - source: {code: missing_disclosure}\n      target: {code: below_fold}\n      equal: [postt]\n",
        10,
        "alerts.inhibit[0].equal[0]: unknown label",
    ),
    (BASE + "  delivery: {max_tries: 0}\n", 7, "alerts.delivery.max_tries: must be a whole number"),
    (
        BASE.replace(
            "webhook: {url_env: HOOK_URL}",
            "email: {smtp_host: h, from: a@b.example, to: [x@y.example, nobody]}",
        ),
        4,
        "alerts.receivers.hook.email.to[1]: 'nobody' is not an email address",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), ERRORS)
def test_errors_name_file_line_and_key(tmp_path, text, line, message):
    with pytest.raises(AlertsConfigError) as caught:
        config_from(tmp_path, text)
    shown = str(caught.value)
    assert shown.startswith(f"{tmp_path / 'compliance.yaml'}:{line}: "), shown
    assert message in shown
    assert "\n" not in shown


def test_email_secrets_come_in_pairs_and_literal_passwords_are_refused(tmp_path):
    text = """\
alerts:
  receivers:
    mail:
      email: {smtp_host: h, from: a@b, to: c@d, password: hunter2}
  route: {receiver: mail}
"""
    with pytest.raises(AlertsConfigError, match="set password_env") as caught:
        config_from(tmp_path, text)
    assert "hunter2" not in str(caught.value)


def test_unset_variables_are_resolved_only_when_used():
    assert secret("X", {"X": "v"}) == "v"
    assert secret(None, {}) is None
    with pytest.raises(SecretMissing, match="environment variable SMTP_PASSWORD is not set"):
        secret("SMTP_PASSWORD", {})
