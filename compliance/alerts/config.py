"""The ``alerts:`` section of compliance.yaml: receivers, the route tree, inhibit rules, delivery.

Parsed from the project's YAML-with-line-numbers document (:class:`Located`), so
every error is one line, ``file:line: alerts.route.group_wait: message``. Unknown
keys are errors. Secrets are never written in the file: a receiver names the
environment variables that hold them (``password_env: SMTP_PASSWORD``); a literal
``password:``/``token:``/``url:`` is an error. Variables are read only when a
receiver is used (:func:`secret`), so a config validates on a machine without them.

Durations are strings (``30s``, ``5m``, ``3d``). Defaults follow Alertmanager:
``group_wait`` 30s, ``group_interval`` 5m, ``repeat_interval`` 4h.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from compliance.alerts.matchers import LABELS, Matcher, MatcherError
from compliance.durations import parse_duration
from compliance.yamlfile import Located
from compliance.yamlfile import YamlError as PackError

KINDS = ("email", "slack", "webhook", "apprise")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RECEIVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# Keys that would hold a secret if written literally: the error names the *_env key to use.
_LITERAL_SECRETS = {
    "password": "password_env",
    "username": "username_env",
    "token": "token_env",
    "webhook_url": "webhook_url_env",
    "url": "url_env",
    "secret": "secret_env",
    "urls": "urls_env",
}


class AlertsConfigError(PackError):
    """The alerts section does not validate; str() is ``file:line: key: message``."""


class SecretMissing(Exception):
    """A receiver's environment variable is not set (the message names the variable only)."""


def secret(name: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of environment variable ``name`` (None when no name is configured)."""
    if name is None:
        return None
    env = os.environ if environ is None else environ
    value = env.get(name)
    if not value:
        raise SecretMissing(f"environment variable {name} is not set")
    return value


@dataclass(frozen=True)
class EmailConfig:
    """SMTP: ``starttls`` upgrades a plain connection, ``tls`` is implicit TLS (port 465)."""

    smtp_host: str
    smtp_port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool = False
    tls: bool = False
    username_env: str | None = None
    password_env: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class SlackConfig:
    """An incoming webhook (``webhook_url_env``) or a bot token and channel (``token_env``)."""

    webhook_url_env: str | None = None
    token_env: str | None = None
    channel: str | None = None
    # Slack's Web API root; only tests and proxies change it. Not a secret.
    api_url: str = "https://slack.com/api/"
    timeout: float = 30.0


@dataclass(frozen=True)
class WebhookConfig:
    """A JSON POST to the URL in ``url_env``, signed with HMAC-SHA256 of the secret in
    ``secret_env`` (when given)."""

    url_env: str
    secret_env: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class AppriseConfig:
    """Apprise URLs (space or comma separated) from the variable ``urls_env``."""

    urls_env: str


@dataclass(frozen=True)
class Receiver:
    """A named receiver: its kind and that kind's settings."""

    name: str
    kind: str
    settings: EmailConfig | SlackConfig | WebhookConfig | AppriseConfig


@dataclass(frozen=True)
class Route:
    """A node of the routing tree, its options already inherited from its parents.

    ``id`` is its path (``0`` the root, ``0.1`` its second child): group keys and
    ``routes test`` name routes by it; ``where`` is its file:line.
    """

    id: str
    receiver: str
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    matchers: tuple[Matcher, ...] = ()
    continue_: bool = False
    routes: tuple[Route, ...] = ()
    where: str = ""


@dataclass(frozen=True)
class InhibitRule:
    """While an unresolved alert matches ``source``, alerts matching ``target`` with the
    same values of the ``equal`` labels are not sent."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """How hard the sender tries: attempts before the dead letter, backoff between them,
    a sender's lease on claimed rows, the alerts listed in one digest, and how long a
    one-off check waits for a receiver's Retry-After in all before leaving the rest."""

    max_tries: int = 10
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=2)
    digest_limit: int = 50
    max_wait: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class AlertsConfig:
    """The validated ``alerts:`` section."""

    receivers: Mapping[str, Receiver]
    route: Route
    inhibit: tuple[InhibitRule, ...] = ()
    delivery: Delivery = field(default_factory=Delivery)


# --- parsing -------------------------------------------------------------------------


class _Doc:
    """The section being parsed: errors carry file:line and the dotted key."""

    def __init__(self, located: Located, prefix: tuple[Any, ...]) -> None:
        self.located = located
        self.prefix = prefix

    def error(self, keys: tuple[Any, ...], message: str) -> AlertsConfigError:
        full = (*self.prefix, *keys)
        name = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in full)
        name = name.replace(".[", "[")
        return AlertsConfigError(self.located.where(*full), f"{name}: {message}")

    def mapping(
        self,
        value: Any,
        keys: tuple[Any, ...],
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(keys, "must be a mapping")
        for key in value:
            if key in _LITERAL_SECRETS and key not in allowed:
                raise self.error(
                    (*keys, key),
                    f"secrets are not written in the file: set {_LITERAL_SECRETS[key]}: "
                    "NAME_OF_AN_ENVIRONMENT_VARIABLE",
                )
            if key not in allowed:
                raise self.error((*keys, key), f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                raise self.error(keys, f"missing key {key!r}")
        return value

    def string(self, value: Any, keys: tuple[Any, ...]) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(keys, "must be a non-empty string")
        return value.strip()

    def env(self, value: Any, keys: tuple[Any, ...]) -> str:
        name = self.string(value, keys)
        if not _ENV_NAME.match(name):
            raise self.error(keys, f"{name!r} is not an environment variable name")
        return name

    def boolean(self, value: Any, keys: tuple[Any, ...]) -> bool:
        if not isinstance(value, bool):
            raise self.error(keys, "must be true or false")
        return value

    def integer(self, value: Any, keys: tuple[Any, ...], low: int = 1, high: int = 65535) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(keys, f"must be a whole number from {low} to {high}")
        return value

    def duration(self, value: Any, keys: tuple[Any, ...]) -> timedelta:
        try:
            if not isinstance(value, str):
                raise ValueError("write a duration as a string, e.g. 30s, 5m, 4h, 3d")
            return parse_duration(value)
        except ValueError as exc:
            raise self.error(keys, str(exc)) from None

    def strings(self, value: Any, keys: tuple[Any, ...]) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.error(keys, "must be a string or a non-empty list of strings")
        return tuple(self.string(v, (*keys, i)) for i, v in enumerate(value))


def parse_alerts(located: Located, *keys: Any) -> AlertsConfig:
    """The ``alerts:`` mapping found at ``keys`` in ``located`` (e.g. ``"alerts"``)."""
    data: Any = located.data
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    doc = _Doc(located, keys)
    section = doc.mapping(
        data, (), ("receivers", "route", "inhibit", "delivery"), ("receivers", "route")
    )
    receivers = _receivers(doc, section["receivers"])
    route = _route(doc, section["route"], ("route",), None, "0", receivers)
    inhibit = _inhibit(doc, section.get("inhibit", []))
    delivery = _delivery(doc, section.get("delivery", {}))
    return AlertsConfig(receivers=receivers, route=route, inhibit=inhibit, delivery=delivery)


def _receivers(doc: _Doc, value: Any) -> dict[str, Receiver]:
    if not isinstance(value, dict) or not value:
        raise doc.error(("receivers",), "must be a mapping of receiver names to settings")
    out: dict[str, Receiver] = {}
    for name, spec in value.items():
        keys: tuple[Any, ...] = ("receivers", name)
        if not isinstance(name, str) or not _RECEIVER_NAME.match(name):
            raise doc.error(keys, "a receiver name is letters, digits, '-', '_' or '.'")
        spec = doc.mapping(spec, keys, KINDS)
        if len(spec) != 1:
            raise doc.error(keys, f"give exactly one of {', '.join(KINDS)}")
        kind, settings = next(iter(spec.items()))
        parse = {"email": _email, "slack": _slack, "webhook": _webhook, "apprise": _apprise}[kind]
        out[name] = Receiver(name, kind, parse(doc, settings, (*keys, kind)))
    return out


def _email(doc: _Doc, value: Any, keys: tuple[Any, ...]) -> EmailConfig:
    allowed = (
        "smtp_host",
        "smtp_port",
        "starttls",
        "tls",
        "username_env",
        "password_env",
        "from",
        "to",
        "timeout",
    )
    spec = doc.mapping(value, keys, allowed, ("smtp_host", "from", "to"))
    tls = doc.boolean(spec.get("tls", False), (*keys, "tls"))
    starttls = doc.boolean(spec.get("starttls", False), (*keys, "starttls"))
    if tls and starttls:
        raise doc.error((*keys, "tls"), "choose tls (implicit TLS) or starttls, not both")
    username = spec.get("username_env")
    password = spec.get("password_env")
    if (username is None) != (password is None):
        raise doc.error(keys, "give both username_env and password_env, or neither")
    sender = doc.string(spec["from"], (*keys, "from"))
    to = doc.strings(spec["to"], (*keys, "to"))
    # Addresses go into headers: one line each, and an address at least looks like one.
    for text, k in ((sender, ("from",)), *((t, ("to", i)) for i, t in enumerate(to))):
        if any(c in text for c in "\r\n\0") or "@" not in text:
            raise doc.error((*keys, *k), f"{text!r} is not an email address")
    return EmailConfig(
        smtp_host=doc.string(spec["smtp_host"], (*keys, "smtp_host")),
        smtp_port=doc.integer(spec.get("smtp_port", 465 if tls else 587), (*keys, "smtp_port")),
        sender=sender,
        to=to,
        starttls=starttls,
        tls=tls,
        username_env=doc.env(username, (*keys, "username_env")) if username is not None else None,
        password_env=doc.env(password, (*keys, "password_env")) if password is not None else None,
        timeout=_timeout(doc, spec, keys),
    )


def _timeout(doc: _Doc, spec: Mapping[str, Any], keys: tuple[Any, ...]) -> float:
    if "timeout" not in spec:
        return 30.0
    return doc.duration(spec["timeout"], (*keys, "timeout")).total_seconds()


def _slack(doc: _Doc, value: Any, keys: tuple[Any, ...]) -> SlackConfig:
    spec = doc.mapping(
        value, keys, ("webhook_url_env", "token_env", "channel", "api_url", "timeout")
    )
    webhook = spec.get("webhook_url_env")
    token = spec.get("token_env")
    if (webhook is None) == (token is None):
        raise doc.error(keys, "give webhook_url_env (incoming webhook) or token_env and channel")
    channel = spec.get("channel")
    if token is not None and channel is None:
        raise doc.error(keys, "a bot token needs a channel")
    if webhook is not None and channel is not None:
        raise doc.error((*keys, "channel"), "an incoming webhook posts to its own channel")
    return SlackConfig(
        webhook_url_env=doc.env(webhook, (*keys, "webhook_url_env")) if webhook else None,
        token_env=doc.env(token, (*keys, "token_env")) if token else None,
        channel=doc.string(channel, (*keys, "channel")) if channel is not None else None,
        api_url=doc.string(spec.get("api_url", SlackConfig.api_url), (*keys, "api_url")),
        timeout=_timeout(doc, spec, keys),
    )


def _webhook(doc: _Doc, value: Any, keys: tuple[Any, ...]) -> WebhookConfig:
    spec = doc.mapping(value, keys, ("url_env", "secret_env", "timeout"), ("url_env",))
    secret_env = spec.get("secret_env")
    return WebhookConfig(
        url_env=doc.env(spec["url_env"], (*keys, "url_env")),
        secret_env=doc.env(secret_env, (*keys, "secret_env")) if secret_env is not None else None,
        timeout=_timeout(doc, spec, keys),
    )


def _apprise(doc: _Doc, value: Any, keys: tuple[Any, ...]) -> AppriseConfig:
    spec = doc.mapping(value, keys, ("urls_env",), ("urls_env",))
    return AppriseConfig(urls_env=doc.env(spec["urls_env"], (*keys, "urls_env")))


_ROUTE_KEYS = (
    "receiver",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "match",
    "match_re",
    "continue",
    "routes",
)


def _route(
    doc: _Doc,
    value: Any,
    keys: tuple[Any, ...],
    parent: Route | None,
    route_id: str,
    receivers: Mapping[str, Receiver],
) -> Route:
    spec = doc.mapping(value, keys, _ROUTE_KEYS)
    if parent is None:
        if "receiver" not in spec:
            raise doc.error(keys, "the root route needs a receiver (it gets what no child takes)")
        for key in ("match", "match_re", "continue"):
            if key in spec:
                raise doc.error((*keys, key), "the root route matches every alert")
    receiver = doc.string(spec["receiver"], (*keys, "receiver")) if "receiver" in spec else None
    if receiver is not None and receiver not in receivers:
        raise doc.error((*keys, "receiver"), f"no receiver named {receiver!r}")
    group_by = parent.group_by if parent else ()
    if "group_by" in spec:
        raw = spec["group_by"]
        if not isinstance(raw, list):
            raise doc.error((*keys, "group_by"), "must be a list of labels")
        group_by = tuple(doc.string(v, (*keys, "group_by", i)) for i, v in enumerate(raw))
        for i, label in enumerate(group_by):
            if label != "..." and label not in LABELS:
                raise doc.error(
                    (*keys, "group_by", i), f"unknown label (one of {', '.join(LABELS)}, or ...)"
                )
    matchers = _matchers(doc, spec, keys)

    def timing(key: str, default: timedelta) -> timedelta:
        inherited = getattr(parent, key) if parent else default
        return doc.duration(spec[key], (*keys, key)) if key in spec else inherited

    node = Route(
        id=route_id,
        receiver=receiver or (parent.receiver if parent else ""),
        group_by=group_by,
        group_wait=timing("group_wait", timedelta(seconds=30)),
        group_interval=timing("group_interval", timedelta(minutes=5)),
        repeat_interval=timing("repeat_interval", timedelta(hours=4)),
        matchers=matchers,
        continue_=doc.boolean(spec.get("continue", False), (*keys, "continue")),
        where=doc.located.where(*doc.prefix, *keys),
    )
    children = spec.get("routes", [])
    if not isinstance(children, list):
        raise doc.error((*keys, "routes"), "must be a list of routes")
    routes = tuple(
        _route(doc, child, (*keys, "routes", i), node, f"{route_id}.{i}", receivers)
        for i, child in enumerate(children)
    )
    return Route(**{**node.__dict__, "routes": routes})


def _matchers(doc: _Doc, spec: Mapping[str, Any], keys: tuple[Any, ...]) -> tuple[Matcher, ...]:
    out: list[Matcher] = []
    for key, op in (("match", "="), ("match_re", "=~")):
        if key in spec:
            out.extend(_match_map(doc, spec[key], (*keys, key), op))
    return tuple(out)


def _match_map(doc: _Doc, raw: Any, keys: tuple[Any, ...], op: str) -> list[Matcher]:
    """``{label: value}`` (``=``: a value or a list of them, any of which matches)."""
    if not isinstance(raw, dict) or not raw:
        raise doc.error(keys, "must be a mapping of labels to values")
    out = []
    for label, wanted in raw.items():
        where = (*keys, label)
        if isinstance(wanted, list) and op == "=" and wanted:
            values = tuple(str(v) for v in wanted)
        elif isinstance(wanted, (str, int, float)) and not isinstance(wanted, bool):
            values = (str(wanted),)
        else:
            raise doc.error(
                where, "must be a value" + (" or a list of values" if op == "=" else "")
            )
        try:
            out.append(Matcher.make(str(label), op, values))
        except MatcherError as exc:
            raise doc.error(where, str(exc)) from None
    return out


def _inhibit(doc: _Doc, value: Any) -> tuple[InhibitRule, ...]:
    if not isinstance(value, list):
        raise doc.error(("inhibit",), "must be a list of rules")
    rules = []
    for i, raw in enumerate(value):
        keys: tuple[Any, ...] = ("inhibit", i)
        spec = doc.mapping(raw, keys, ("source", "target", "equal"), ("source", "target"))
        sides = [
            tuple(_match_map(doc, spec[side], (*keys, side), "=")) for side in ("source", "target")
        ]
        equal = spec.get("equal", [])
        if not isinstance(equal, list):
            raise doc.error((*keys, "equal"), "must be a list of labels")
        for j, label in enumerate(equal):
            if label not in LABELS:
                raise doc.error((*keys, "equal", j), f"unknown label (one of {', '.join(LABELS)})")
        rules.append(InhibitRule(source=sides[0], target=sides[1], equal=tuple(equal)))
    return tuple(rules)


def _delivery(doc: _Doc, value: Any) -> Delivery:
    keys: tuple[Any, ...] = ("delivery",)
    allowed = ("max_tries", "backoff", "max_backoff", "lease", "digest_limit", "max_wait")
    spec = doc.mapping(value, keys, allowed)
    base = Delivery()
    return Delivery(
        max_tries=doc.integer(spec.get("max_tries", base.max_tries), (*keys, "max_tries"), 1, 1000),
        backoff=doc.duration(spec["backoff"], (*keys, "backoff"))
        if "backoff" in spec
        else base.backoff,
        max_backoff=(
            doc.duration(spec["max_backoff"], (*keys, "max_backoff"))
            if "max_backoff" in spec
            else base.max_backoff
        ),
        lease=doc.duration(spec["lease"], (*keys, "lease")) if "lease" in spec else base.lease,
        digest_limit=doc.integer(
            spec.get("digest_limit", base.digest_limit), (*keys, "digest_limit"), 1, 1000
        ),
        max_wait=doc.duration(spec["max_wait"], (*keys, "max_wait"))
        if "max_wait" in spec
        else base.max_wait,
    )
