"""compliance.yaml: one file shared by the daemon, the alerts and the one-off checks.

:func:`load_config` reads it into a frozen :class:`Config`, validating everything
and collecting every problem (not just the first) as ``file:line: key: message``:
unknown keys (with "did you mean"), wrong types, bad durations and cron
expressions, bad account strings, unknown platforms, literal secrets, and dangling
references (named at the line where the reference is written). Every key is
described in docs/config.md; a test keeps the two in step.

Secrets are never written in the file: a platform names the environment variable
that holds each one (``token_env: TIKTOK_TOKEN``), and :meth:`Config.secret`
reads it when a run needs it. A Config holds only variable names, so its repr,
its errors and ``compliance status`` cannot leak a secret value.

Nothing here touches the network, the database or the clock; the environment is
read only through the ``environ`` mapping given to the methods that need it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.model import (
    CAMPAIGN_KEYS,
    Campaign,
    Level,
)
from compliance.yamlfile import Located, YamlError, load_yaml

if TYPE_CHECKING:
    from compliance.packs import Packs

# --- The keys (docs/config.md describes each; tests/test_config.py checks that) ----------

TOP_KEYS = (
    "database",
    "jurisdiction",
    "rules",
    "platforms",
    "campaigns",
    "creators",
    "hashtags",
    "schedule",
    "alerts",
)
RULES_KEYS = ("dir", "overrides")
OVERRIDE_KEYS = ("level",)
PLATFORM_KEYS = (
    "api_url",
    "web_url",
    "short_url",
    "token_env",
    "key_env",
    "user_id_env",
    "instances",
    "allow_hosts",
    "timeout",
    "requests_per_minute",
    "page_size",
    "user_agent",
    "connect_timeout",
    "retries",
    "backoff",
    "max_backoff",
    "max_wait",
    "options",
)
# The keys that tune the HTTP client (timeouts in seconds), as monitors.http.HttpSettings names them.
HTTP_KEYS = (
    "timeout",
    "connect_timeout",
    "retries",
    "backoff",
    "max_backoff",
    "max_wait",
    "requests_per_minute",
    "user_agent",
)
# A campaign's own keys; its name is its key in the file.
CAMPAIGN_CONFIG_KEYS = tuple(k for k in CAMPAIGN_KEYS if k != "name")
CREATOR_KEYS = ("accounts", "campaigns", "name", "jurisdiction", "schedule")
HASHTAG_KEYS = ("tag", "platforms", "campaigns", "jurisdiction", "schedule")
SCHEDULE_KEYS = ("every", "cron", "jitter", "window", "window_posts", "max_failures")

# The platforms a monitor can watch, as compliance.yaml and account strings name them.
PLATFORMS = ("tiktok", "instagram", "youtube", "bluesky", "mastodon", "x")
# The keys that name environment variables (their values are secrets).
ENV_KEYS = ("token_env", "key_env", "user_id_env")

DEFAULT_JURISDICTION = "US"
DEFAULT_EVERY = timedelta(hours=6)
DEFAULT_JITTER = timedelta(minutes=10)
DEFAULT_WINDOW = timedelta(days=30)
DEFAULT_WINDOW_POSTS = 100
DEFAULT_MAX_FAILURES = 3


# --- Errors --------------------------------------------------------------------------------


class ConfigError(YamlError):
    """A problem in compliance.yaml; str() is ``file:line: key: message``.

    ``errors`` holds every problem found (this one first): ``config check`` prints
    them all, other commands show the first and say how many more there are.
    """

    def __init__(self, where: str, message: str, errors: tuple[ConfigError, ...] = ()) -> None:
        super().__init__(where, message)
        self.errors: tuple[ConfigError, ...] = errors or (self,)

    @classmethod
    def of(cls, errors: list[ConfigError]) -> ConfigError:
        """One error standing for all of ``errors``: the first, with a count of the rest."""
        first = errors[0]
        more = len(errors) - 1
        message = first.message + (
            f" (and {more} more: run 'compliance config check')" if more else ""
        )
        return cls(first.where, message, tuple(errors))


# --- Values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a monitor runs (``every`` or ``cron``, plus ``jitter``) and how far back it re-reads."""

    every: timedelta | None = DEFAULT_EVERY
    cron: str | None = None
    jitter: timedelta = DEFAULT_JITTER
    window: timedelta = DEFAULT_WINDOW
    window_posts: int = DEFAULT_WINDOW_POSTS
    max_failures: int = DEFAULT_MAX_FAILURES


@dataclass(frozen=True)
class PlatformSettings:
    """One platform's section: hosts, the NAMES of the variables holding its secrets, limits."""

    name: str
    api_url: str | None = None
    web_url: str | None = None
    # TikTok only: the base that stands for the short-link hosts vm.tiktok.com / vt.tiktok.com.
    short_url: str | None = None
    token_env: str | None = None
    key_env: str | None = None
    user_id_env: str | None = None
    instances: Mapping[str, str] = field(default_factory=dict)
    # Extra hosts that URLs and accounts from the command line may reach (host or *.domain).
    allow_hosts: tuple[str, ...] = ()
    timeout: float | None = None
    requests_per_minute: int | None = None
    page_size: int | None = None
    user_agent: str | None = None
    connect_timeout: float | None = None
    retries: int | None = None
    backoff: float | None = None
    max_backoff: float | None = None
    max_wait: float | None = None
    # Source-specific settings (e.g. instagram version, youtube captions), passed through.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    """One account of a creator: ``platform`` (of :data:`PLATFORMS`) and ``handle`` as written
    after the colon (``@glowwithmara``, ``mara.bsky.social``, ``@mara@mastodon.social``)."""

    platform: str
    handle: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle}"


# What an account looks like on each platform, and an example for the message.
DOMAIN_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
_ACCOUNT_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "tiktok": (re.compile(r"^@[A-Za-z0-9_.]{2,24}$"), "tiktok:@glowwithmara"),
    "instagram": (re.compile(r"^@[A-Za-z0-9_.]{1,30}$"), "instagram:@glowwithmara"),
    "youtube": (
        re.compile(r"^(?:@[A-Za-z0-9_.\-·]{3,30}|UC[A-Za-z0-9_-]{22})$"),
        "youtube:@marabeauty or youtube:UC... (a channel id)",
    ),
    "bluesky": (
        re.compile(rf"^(?:{DOMAIN_PATTERN}|did:plc:[a-z2-7]{{24}}|did:web:{DOMAIN_PATTERN})$"),
        "bluesky:mara.bsky.social",
    ),
    "mastodon": (
        re.compile(rf"^@[A-Za-z0-9_]{{1,30}}@{DOMAIN_PATTERN}$"),
        "mastodon:@mara@mastodon.social",
    ),
    "x": (re.compile(r"^@[A-Za-z0-9_]{1,15}$"), "x:@glowwithmara"),
}


def parse_account(text: str) -> Account:
    """``platform:account`` (``tiktok:@glowwithmara``, ``bluesky:mara.bsky.social``,
    ``mastodon:@mara@mastodon.social``...) as an :class:`Account`; ValueError says what
    is wrong and shows the expected form. Shared by compliance.yaml and ``compliance check``."""
    platform, sep, handle = text.strip().partition(":")
    platform = platform.lower()
    if not sep or platform not in PLATFORMS:
        raise ValueError(
            f"expected 'platform:account' with a platform of {', '.join(PLATFORMS)}, got {text!r}"
        )
    handle = handle.strip()
    if platform == "bluesky":
        handle = handle.removeprefix("@").lower()
    pattern, example = _ACCOUNT_FORMS[platform]
    if not pattern.match(handle):
        raise ValueError(f"not a {platform} account: {text!r} (expected e.g. {example})")
    return Account(platform, handle)


@dataclass(frozen=True)
class Creator:
    """A creator the brand follows: their accounts and the campaigns they work on."""

    key: str
    accounts: tuple[Account, ...]
    campaigns: tuple[str, ...] = ()
    name: str | None = None
    jurisdiction: str | None = None
    schedule: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HashtagWatch:
    """A campaign hashtag watched on some platforms (a branded challenge's entries)."""

    key: str
    tag: str
    platforms: tuple[str, ...]
    campaigns: tuple[str, ...] = ()
    jurisdiction: str | None = None
    schedule: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleOverride:
    """A project's change to one rule: a new ``level``, or ``None`` to switch it off."""

    rule: str
    level: Level | None
    where: str


@dataclass(frozen=True)
class Monitor:
    """One thing the daemon watches: a creator's account or a hashtag on one platform.

    ``key`` is stable across restarts and config edits that do not touch it
    (``creator:mara:tiktok:@glowwithmara``, ``hashtag:guacdance:bluesky``); the
    monitor state in the database hangs off it.
    """

    key: str
    kind: str  # account | hashtag
    platform: str
    target: str
    campaigns: tuple[Campaign, ...]
    jurisdiction: str
    schedule: Schedule
    creator: str | None = None


@dataclass(frozen=True)
class Config:
    """compliance.yaml, validated. Holds no secret values (only variable names)."""

    path: Path
    database: str | None = None
    jurisdiction: str = DEFAULT_JURISDICTION
    rules_dir: Path | None = None
    overrides: tuple[RuleOverride, ...] = ()
    platforms: Mapping[str, PlatformSettings] = field(default_factory=dict)
    campaigns: Mapping[str, Campaign] = field(default_factory=dict)
    creators: Mapping[str, Creator] = field(default_factory=dict)
    hashtags: Mapping[str, HashtagWatch] = field(default_factory=dict)
    schedule: Schedule = Schedule()
    # The alerts: section, raw, for compliance.alerts to parse; and its lines, keyed
    # by the key path inside the section (() is the section itself).
    alerts: Mapping[str, Any] | None = None
    alerts_lines: Mapping[tuple[Any, ...], int] = field(default_factory=dict, repr=False)
    # Where each ``*_env`` key is written: (platform, key) -> 'file:line'.
    env_where: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def alerts_document(self) -> Located:
        """The ``alerts:`` section as a located document (``data == {"alerts": ...}``, lines as
        in the file), for ``compliance.alerts.config.parse_alerts(doc, "alerts")``."""
        lines = {("alerts", *keys): line for keys, line in self.alerts_lines.items()}
        return Located(self.path, {"alerts": self.alerts}, lines)

    def database_url(self, given: str | None, environ: Mapping[str, str] = os.environ) -> str:
        """The database to use: ``--db``, else $COMPLIANCE_DATABASE_URL, else ``database:``,
        else the default (the one rule, :func:`compliance.store.db.resolve_url`)."""
        from compliance.store.db import resolve_url

        return resolve_url(given, environ, configured=self.database)

    def http_settings(self, platform: str) -> dict[str, Any]:
        """The HTTP client settings this file sets for ``platform`` (only those it sets):
        keyword arguments for ``monitors.http.HttpSettings``."""
        settings = self.platforms.get(platform)
        if settings is None:
            return {}
        values = {key: getattr(settings, key) for key in HTTP_KEYS}
        return {key: value for key, value in values.items() if value is not None}

    def source_settings(
        self, platform: str, environ: Mapping[str, str] = os.environ
    ) -> dict[str, Any]:
        """Keyword arguments for ``monitors.sources.base.SourceSettings``: hosts, page size,
        options, and the secrets read from the environment (None where a named variable is
        unset: the source says when it needs one; :meth:`secret` gives the error naming it)."""
        settings = self.platforms.get(platform)
        if settings is None:
            return {}

        def value(key: str) -> str | None:
            name = getattr(settings, key)
            return (environ.get(name) or None) if name else None

        return {
            "api_url": settings.api_url,
            "web_url": settings.web_url,
            "short_url": settings.short_url,
            "token": value("token_env"),
            "key": value("key_env"),
            "user_id": value("user_id_env"),
            "instances": dict(settings.instances),
            "allow_hosts": settings.allow_hosts,
            "page_size": settings.page_size,
            "options": dict(settings.options),
        }

    def secret(
        self, platform: str, key: str, environ: Mapping[str, str] = os.environ
    ) -> str | None:
        """The value of the variable that ``platforms.<platform>.<key>`` names (e.g.
        ``secret("tiktok", "token_env")``); None when the file names none.

        Raises :class:`ConfigError` naming the variable and the line when it is unset
        or empty; the value itself never appears in a message.
        """
        settings = self.platforms.get(platform)
        name = getattr(settings, key, None) if settings and key in ENV_KEYS else None
        if name is None:
            return None
        value = environ.get(name)
        if not value:
            where = self.env_where.get((platform, key), str(self.path))
            raise ConfigError(
                where,
                f"platforms.{platform}.{key}: environment variable {name} is not set",
            )
        return value

    def warnings(self, environ: Mapping[str, str] = os.environ) -> list[str]:
        """``file:line: warning: key: message`` for each named variable that is unset (a run
        that needs it will fail; ``config check`` only warns)."""
        out = []
        for (platform, key), where in self.env_where.items():  # in file order
            name = getattr(self.platforms[platform], key)
            if not environ.get(name):
                out.append(
                    f"{where}: warning: platforms.{platform}.{key}: "
                    f"environment variable {name} is not set"
                )
        return out

    def packs(self, rules_dir: str | Path | None = None) -> Packs:
        """The rule packs (``rules_dir``, else ``rules.dir``, else the shipped ones) with
        ``rules.overrides`` applied. Raises ConfigError for an override naming no rule."""
        from compliance.packs import load_packs

        packs = load_packs(rules_dir if rules_dir is not None else self.rules_dir)
        if not self.overrides:
            return packs
        changes: dict[str, Level | None] = {}
        for override in self.overrides:
            try:
                rule = packs.rule(override.rule)
            except KeyError:
                raise ConfigError(
                    override.where, f"rules.overrides: no rule {override.rule!r}"
                ) from None
            changes[rule.id] = override.level
        return packs.with_overrides(changes)

    def monitors(self) -> list[Monitor]:
        """Every monitor: one per (creator, account) and one per (hashtag, platform), in file
        order, each with its campaigns, jurisdiction and effective schedule."""
        out = []
        for creator in self.creators.values():
            schedule = merge_schedule(self.schedule, creator.schedule)
            campaigns = tuple(self.campaigns[name] for name in creator.campaigns)
            for account in creator.accounts:
                out.append(
                    Monitor(
                        key=f"creator:{creator.key}:{account.platform}:{account.handle}",
                        kind="account",
                        platform=account.platform,
                        target=account.handle,
                        campaigns=campaigns,
                        jurisdiction=creator.jurisdiction or self.jurisdiction,
                        schedule=schedule,
                        creator=creator.key,
                    )
                )
        for watch in self.hashtags.values():
            schedule = merge_schedule(self.schedule, watch.schedule)
            campaigns = tuple(self.campaigns[name] for name in watch.campaigns)
            for platform in watch.platforms:
                out.append(
                    Monitor(
                        key=f"hashtag:{watch.key}:{platform}",
                        kind="hashtag",
                        platform=platform,
                        target=watch.tag,
                        campaigns=campaigns,
                        jurisdiction=watch.jurisdiction or self.jurisdiction,
                        schedule=schedule,
                    )
                )
        return out


def merge_schedule(defaults: Schedule, own: Mapping[str, Any]) -> Schedule:
    """A monitor's schedule: its own keys over the defaults (its ``cron`` replaces the
    default ``every`` and the other way round)."""
    if not own:
        return defaults
    changes = dict(own)
    if "cron" in changes:
        changes.setdefault("every", None)
    if "every" in changes:
        changes.setdefault("cron", None)
    return replace(defaults, **changes)


# --- Loading -------------------------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    """Read and validate compliance.yaml; raises :class:`ConfigError` carrying every problem.

    The environment is not read here (see :meth:`Config.secret` and
    :meth:`Config.warnings`), so a file validates the same on every machine.
    """
    from compliance.configreader import ConfigReader  # the validation, kept in its own module

    return ConfigReader(load_yaml(Path(path), ConfigError)).read()


def iter_keys() -> Iterator[tuple[str, tuple[str, ...]]]:
    """(section, keys) for every key the loader accepts: docs/config.md must describe each."""
    yield "top level", TOP_KEYS
    yield "rules", RULES_KEYS
    yield "rules.overrides", OVERRIDE_KEYS
    yield "platforms", PLATFORMS
    yield "platforms.<platform>", PLATFORM_KEYS
    yield "campaigns.<name>", CAMPAIGN_CONFIG_KEYS
    yield "creators.<name>", CREATOR_KEYS
    yield "hashtags.<name>", HASHTAG_KEYS
    yield "schedule", SCHEDULE_KEYS
