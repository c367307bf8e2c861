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

from compliance.durations import parse_duration
from compliance.model import (
    CAMPAIGN_KEYS,
    Campaign,
    CampaignError,
    Level,
    campaign_from_mapping,
    normalise_jurisdiction,
    show_value,
)
from compliance.yamlfile import Located, YamlError, dotted, load_yaml, unknown_keys

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
    "token_env",
    "key_env",
    "user_id_env",
    "instances",
    "timeout",
    "requests_per_minute",
    "page_size",
    "user_agent",
)
# A campaign's own keys; its name is its key in the file.
CAMPAIGN_CONFIG_KEYS = tuple(k for k in CAMPAIGN_KEYS if k != "name")
CREATOR_KEYS = ("accounts", "campaigns", "name", "jurisdiction", "schedule")
HASHTAG_KEYS = ("tag", "platforms", "campaigns", "jurisdiction", "schedule")
SCHEDULE_KEYS = ("every", "cron", "jitter", "window", "window_posts", "max_failures")

# The platforms a monitor can watch, as compliance.yaml and account strings name them.
PLATFORMS = ("tiktok", "instagram", "youtube", "bluesky", "mastodon", "x")
# Keys that would put a secret in the file; the message says what to write instead.
_SECRET_KEYS = {
    "token": "token_env",
    "access_token": "token_env",
    "bearer_token": "token_env",
    "key": "key_env",
    "api_key": "key_env",
    "password": "token_env",
    "secret": "token_env",
    "client_secret": "token_env",
    "user_id": "user_id_env",
}
_ENV_KEYS = ("token_env", "key_env", "user_id_env")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]{1,11}\.[A-Z][0-9]{3}$")
_URL = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_HASHTAG = re.compile(r"^#\w+$")
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
# What an account looks like on each platform, and an example for the message.
_ACCOUNT_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "tiktok": (re.compile(r"^@[A-Za-z0-9_.]{2,24}$"), "tiktok:@glowwithmara"),
    "instagram": (re.compile(r"^@[A-Za-z0-9_.]{1,30}$"), "instagram:@glowwithmara"),
    "youtube": (
        re.compile(r"^(?:@[A-Za-z0-9_.\-·]{3,30}|UC[A-Za-z0-9_-]{22})$"),
        "youtube:@marabeauty or youtube:UC... (a channel id)",
    ),
    "bluesky": (
        re.compile(rf"^(?:{_DOMAIN}|did:plc:[a-z2-7]{{24}}|did:web:{_DOMAIN})$"),
        "bluesky:mara.bsky.social",
    ),
    "mastodon": (
        re.compile(rf"^@[A-Za-z0-9_]{{1,30}}@{_DOMAIN}$"),
        "mastodon:@mara@mastodon.social",
    ),
    "x": (re.compile(r"^@[A-Za-z0-9_]{1,15}$"), "x:@glowwithmara"),
}

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
    token_env: str | None = None
    key_env: str | None = None
    user_id_env: str | None = None
    instances: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    requests_per_minute: int | None = None
    page_size: int | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Account:
    """One account of a creator: ``platform`` (of :data:`PLATFORMS`) and ``handle`` as written
    after the colon (``@glowwithmara``, ``mara.bsky.social``, ``@mara@mastodon.social``)."""

    platform: str
    handle: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle}"


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

    def database_url(self, given: str | None, environ: Mapping[str, str] = os.environ) -> str:
        """The database to use: ``--db``, else $COMPLIANCE_DATABASE_URL, else ``database:``,
        else the default (the one rule, :func:`compliance.store.db.resolve_url`)."""
        from compliance.store.db import resolve_url

        return resolve_url(given, environ, configured=self.database)

    def secret(
        self, platform: str, key: str, environ: Mapping[str, str] = os.environ
    ) -> str | None:
        """The value of the variable that ``platforms.<platform>.<key>`` names (e.g.
        ``secret("tiktok", "token_env")``); None when the file names none.

        Raises :class:`ConfigError` naming the variable and the line when it is unset
        or empty; the value itself never appears in a message.
        """
        settings = self.platforms.get(platform)
        name = getattr(settings, key, None) if settings and key in _ENV_KEYS else None
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
    path = Path(path)
    doc = load_yaml(path, ConfigError)
    return _Reader(doc).read()


class _Reader:
    """Walks one compliance.yaml document, collecting every problem instead of stopping."""

    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.errors: list[ConfigError] = []

    # -- reporting

    def error(self, message: str, *keys: Any) -> None:
        """Record a problem at ``keys`` (its line, and its dotted path as the key)."""
        where = self.doc.where(*keys)
        self.errors.append(ConfigError(where, f"{dotted(keys)}: {message}" if keys else message))

    def mapping(self, value: Any, allowed: tuple[str, ...], *keys: Any) -> dict[str, Any]:
        """``value`` as a mapping with only ``allowed`` keys (others reported); {} if not one."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(f"expected a mapping, got {show_value(value)}", *keys)
            return {}
        for key, hint in unknown_keys(value, allowed):
            secret_hint = _SECRET_KEYS.get(str(key))
            if secret_hint and "token_env" in allowed:
                self.error(
                    "secrets are not written in the file: put it in an environment variable "
                    f"and name that variable with {secret_hint}",
                    *keys,
                    key,
                )
            else:
                self.error(f"unknown key ({hint})", *keys, key)
        return {k: v for k, v in value.items() if k in allowed}

    def names(self, value: Any, *keys: Any) -> tuple[str, ...]:
        """A list of strings (one string counts as a list of one); () after an error."""
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.error(f"expected a list of strings, got {show_value(value)}", *keys)
        return ()

    def string(self, value: Any, *keys: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(f"expected a non-empty string, got {show_value(value)}", *keys)
            return None
        return value.strip()

    def positive_int(self, value: Any, *keys: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.error(f"expected a positive whole number, got {show_value(value)}", *keys)
            return None
        return value

    def duration(self, value: Any, *keys: Any) -> timedelta | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(
                f"expected a duration such as 6h, 10m or 30d, got {show_value(value)}", *keys
            )
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.error(str(exc), *keys)
            return None

    def jurisdiction(self, value: Any, *keys: Any) -> str | None:
        text = self.string(value, *keys)
        if text is None:
            return None
        code = normalise_jurisdiction(text)
        if code is None:
            self.error(f"expected a 2-letter country code such as US or GB, got {text!r}", *keys)
        return code

    def url(self, value: Any, *keys: Any) -> str | None:
        text = self.string(value, *keys)
        if text is not None and not _URL.match(text):
            self.error(
                f"expected an http(s) URL such as https://api.example.com, got {text!r}", *keys
            )
            return None
        return text.rstrip("/") if text else None

    # -- sections

    def read(self) -> Config:
        data = self.doc.data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(self.doc.where(), "expected a mapping of settings at the top level")
        top = self.mapping(data, TOP_KEYS)
        rules_dir, overrides = self.rules(top.get("rules"))
        campaigns = self.campaigns(top.get("campaigns"))
        platforms, env_where = self.platforms(top.get("platforms"))
        config = Config(
            path=self.doc.path,
            database=self.database(top.get("database")),
            jurisdiction=self.jurisdiction(top.get("jurisdiction"), "jurisdiction")
            or DEFAULT_JURISDICTION,
            rules_dir=rules_dir,
            overrides=overrides,
            platforms=platforms,
            campaigns=campaigns,
            creators=self.creators(top.get("creators"), campaigns),
            hashtags=self.hashtags(top.get("hashtags"), campaigns),
            schedule=self.schedule_defaults(top.get("schedule")),
            alerts=self.alerts(top),
            alerts_lines={
                k[1:]: line for k, line in self.doc.lines.items() if k[:1] == ("alerts",)
            },
            env_where=env_where,
        )
        self.check_jurisdictions(config)
        if self.errors:
            # In file order, whatever order the sections were read in.
            raise ConfigError.of(sorted(self.errors, key=_line_of))
        return config

    def database(self, value: Any) -> str | None:
        url = self.string(value, "database")
        if url is None:
            return None
        if "://" not in url:
            self.error(
                f"expected a database URL such as sqlite:///compliance.db, got {url!r}", "database"
            )
            return None
        # A relative SQLite path is relative to the config file, not to wherever the
        # daemon happens to be started.
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix) :]
            name, sep, query = rest.partition("?")
            if name and name != ":memory:":
                url = prefix + str(self.doc.path.resolve().parent / name) + sep + query
        return url

    def rules(self, value: Any) -> tuple[Path | None, tuple[RuleOverride, ...]]:
        section = self.mapping(value, RULES_KEYS, "rules")
        rules_dir = None
        text = self.string(section.get("dir"), "rules", "dir")
        if text is not None:
            rules_dir = (self.doc.path.resolve().parent / Path(text).expanduser()).resolve()
            if not rules_dir.is_dir():
                self.error(f"no such directory: {rules_dir}", "rules", "dir")
                rules_dir = None
        overrides = []
        raw = section.get("overrides")
        if raw is not None and not isinstance(raw, dict):
            self.error(
                f"expected a mapping rule id -> off or a level, got {show_value(raw)}",
                "rules",
                "overrides",
            )
            raw = None
        levels = [lv.value for lv in Level]
        for rule_id, setting in (raw or {}).items():
            keys = ("rules", "overrides", rule_id)
            if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id.upper()):
                self.error("expected a rule id such as FTC.C201", *keys)
                continue
            if isinstance(setting, dict):
                setting = self.mapping(setting, OVERRIDE_KEYS, *keys).get("level")
                keys = (*keys, "level")
            # YAML 1.1 reads a bare `off` as false.
            if setting is False or setting == "off":
                level = None
            elif isinstance(setting, str) and setting.lower() in levels:
                level = Level(setting.lower())
            else:
                self.error(
                    f"expected off or a level ({', '.join(levels)}), got {show_value(setting)}",
                    *keys,
                )
                continue
            overrides.append(RuleOverride(rule_id.upper(), level, self.doc.where(*keys)))
        return rules_dir, tuple(overrides)

    def platforms(
        self, value: Any
    ) -> tuple[dict[str, PlatformSettings], dict[tuple[str, str], str]]:
        section = self.mapping(value, PLATFORMS, "platforms")
        out: dict[str, PlatformSettings] = {}
        env_where: dict[tuple[str, str], str] = {}
        for name, raw in section.items():
            keys = ("platforms", name)
            allowed = (
                PLATFORM_KEYS
                if name == "mastodon"
                else tuple(k for k in PLATFORM_KEYS if k != "instances")
            )
            data = self.mapping(raw, allowed, *keys)
            settings: dict[str, Any] = {}
            for key in ("api_url", "web_url"):
                settings[key] = self.url(data.get(key), *keys, key)
            for key in _ENV_KEYS:
                env = self.string(data.get(key), *keys, key)
                if env is not None and not _ENV_NAME.match(env):
                    self.error(
                        f"expected an environment variable name such as TIKTOK_TOKEN, got {env!r}",
                        *keys,
                        key,
                    )
                    env = None
                if env is not None:
                    env_where[(name, key)] = self.doc.where(*keys, key)
                settings[key] = env
            settings["instances"] = self.instances(data.get("instances"), *keys, "instances")
            timeout = self.duration_or_seconds(data.get("timeout"), *keys, "timeout")
            settings["timeout"] = timeout
            settings["requests_per_minute"] = self.positive_int(
                data.get("requests_per_minute"), *keys, "requests_per_minute"
            )
            settings["page_size"] = self.positive_int(data.get("page_size"), *keys, "page_size")
            settings["user_agent"] = self.string(data.get("user_agent"), *keys, "user_agent")
            out[name] = PlatformSettings(name=name, **settings)
        return out, env_where

    def duration_or_seconds(self, value: Any, *keys: Any) -> float | None:
        """A timeout: a number of seconds or a duration string (``30s``)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value <= 0:
                self.error(f"expected a positive number of seconds, got {show_value(value)}", *keys)
                return None
            return float(value)
        span = self.duration(value, *keys)
        return span.total_seconds() if span is not None else None

    def instances(self, value: Any, *keys: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(
                f"expected a mapping instance domain -> base URL, got {show_value(value)}", *keys
            )
            return {}
        out = {}
        for domain, url in value.items():
            if not isinstance(domain, str) or not re.fullmatch(_DOMAIN, domain):
                self.error(
                    f"expected an instance domain such as mastodon.social, got {show_value(domain)}",
                    *keys,
                    domain,
                )
                continue
            checked = self.url(url, *keys, domain)
            if checked:
                out[domain.lower()] = checked
        return out

    def entries(
        self, value: Any, section: str, allowed: tuple[str, ...]
    ) -> Iterator[tuple[str, tuple[str, str], dict[str, Any]]]:
        """(name, key path, checked mapping) for each entry of a named section (campaigns,
        creators, hashtags); the names go into monitor keys, so they are checked too."""
        if value is None:
            return
        if not isinstance(value, dict):
            self.error(f"expected a mapping of names to entries, got {show_value(value)}", section)
            return
        for name, raw in value.items():
            keys = (section, name)
            if not isinstance(name, str) or not _NAME.match(name):
                self.error("expected a name of letters, digits, '-', '_' and '.'", *keys)
                continue
            yield name, keys, self.mapping(raw, allowed, *keys)

    def campaigns(self, value: Any) -> dict[str, Campaign]:
        out = {}
        for name, keys, data in self.entries(value, "campaigns", CAMPAIGN_CONFIG_KEYS):
            try:
                campaign = campaign_from_mapping({**data, "name": name})
            except CampaignError as exc:
                self.error(exc.problem, *keys, *((exc.key,) if exc.key else ()))
                continue
            if campaign.is_empty:
                self.error(
                    "a campaign needs a brand, handles, hashtags, promo codes, domains or a relationship",
                    *keys,
                )
                continue
            out[name] = campaign
        return out

    def references(
        self, value: Any, campaigns: Mapping[str, Campaign], *keys: Any
    ) -> tuple[str, ...]:
        """Campaign names; each one that does not exist is an error at its own line."""
        names = self.names(value, *keys)
        out = []
        for i, name in enumerate(names):
            if name in campaigns:
                out.append(name)
            else:
                at = (*keys, i) if isinstance(value, list) else keys
                known = ", ".join(campaigns) or "none are defined"
                self.error(f"no campaign {name!r} (campaigns: {known})", *at)
        return tuple(out)

    def creators(self, value: Any, campaigns: Mapping[str, Campaign]) -> dict[str, Creator]:
        out = {}
        for key, keys, data in self.entries(value, "creators", CREATOR_KEYS):
            if "accounts" not in data:
                self.error("missing required key 'accounts' (e.g. [\"tiktok:@handle\"])", *keys)
            accounts = []
            raw_accounts = data.get("accounts")
            for i, text in enumerate(self.names(raw_accounts, *keys, "accounts")):
                at = (
                    (*keys, "accounts", i)
                    if isinstance(raw_accounts, list)
                    else (*keys, "accounts")
                )
                account = self.account(text, *at)
                if account is not None:
                    accounts.append(account)
            if raw_accounts == []:
                self.error("expected at least one account", *keys, "accounts")
            out[key] = Creator(
                key=key,
                accounts=tuple(dict.fromkeys(accounts)),
                campaigns=self.references(data.get("campaigns"), campaigns, *keys, "campaigns"),
                name=self.string(data.get("name"), *keys, "name"),
                jurisdiction=self.jurisdiction(data.get("jurisdiction"), *keys, "jurisdiction"),
                schedule=self.schedule(data.get("schedule"), *keys, "schedule"),
            )
        return out

    def account(self, text: str, *keys: Any) -> Account | None:
        platform, sep, handle = text.strip().partition(":")
        platform = platform.lower()
        if not sep or platform not in PLATFORMS:
            self.error(
                f"expected 'platform:account' with a platform of {', '.join(PLATFORMS)}, got {text!r}",
                *keys,
            )
            return None
        handle = handle.strip()
        if platform == "bluesky":
            handle = handle.removeprefix("@").lower()
        pattern, example = _ACCOUNT_FORMS[platform]
        if not pattern.match(handle):
            self.error(f"not a {platform} account: {text!r} (expected e.g. {example})", *keys)
            return None
        return Account(platform, handle)

    def hashtags(self, value: Any, campaigns: Mapping[str, Campaign]) -> dict[str, HashtagWatch]:
        out = {}
        for key, keys, data in self.entries(value, "hashtags", HASHTAG_KEYS):
            tag = self.string(data.get("tag"), *keys, "tag")
            if "tag" not in data:
                self.error("missing required key 'tag' (e.g. \"#guacdance\")", *keys)
            elif tag is not None:
                tag = tag if tag.startswith("#") else "#" + tag
                if not _HASHTAG.match(tag):
                    self.error(
                        f"expected one hashtag such as #guacdance, got {tag!r}", *keys, "tag"
                    )
                    tag = None
            platforms = []
            raw_platforms = data.get("platforms")
            if raw_platforms is None:
                self.error(
                    f"missing required key 'platforms' (any of {', '.join(PLATFORMS)})", *keys
                )
            for i, name in enumerate(self.names(raw_platforms, *keys, "platforms")):
                at = (
                    (*keys, "platforms", i)
                    if isinstance(raw_platforms, list)
                    else (*keys, "platforms")
                )
                if name.lower() in PLATFORMS:
                    platforms.append(name.lower())
                else:
                    self.error(
                        f"unknown platform {name!r} (platforms: {', '.join(PLATFORMS)})", *at
                    )
            out[key] = HashtagWatch(
                key=key,
                tag=tag or "",
                platforms=tuple(dict.fromkeys(platforms)),
                campaigns=self.references(data.get("campaigns"), campaigns, *keys, "campaigns"),
                jurisdiction=self.jurisdiction(data.get("jurisdiction"), *keys, "jurisdiction"),
                schedule=self.schedule(data.get("schedule"), *keys, "schedule"),
            )
        return out

    def schedule(self, value: Any, *keys: Any) -> dict[str, Any]:
        """The keys of a schedule mapping that are set, validated (merged later)."""
        data = self.mapping(value, SCHEDULE_KEYS, *keys)
        out: dict[str, Any] = {}
        if "every" in data and "cron" in data:
            self.error("give either every or cron, not both", *keys, "cron")
        for key in ("every", "jitter", "window"):
            if key in data:
                span = self.duration(data[key], *keys, key)
                if span is not None:
                    if key == "every" and span <= timedelta(0):
                        self.error("expected a duration above zero", *keys, key)
                        continue
                    out[key] = span
        if "cron" in data:
            cron = self.string(data["cron"], *keys, "cron")
            if cron is not None:
                problem = cron_problem(cron)
                if problem:
                    self.error(f"not a cron expression: {cron!r} ({problem})", *keys, "cron")
                else:
                    out["cron"] = cron
        for key in ("window_posts", "max_failures"):
            if key in data:
                number = self.positive_int(data[key], *keys, key)
                if number is not None:
                    out[key] = number
        return out

    def schedule_defaults(self, value: Any) -> Schedule:
        return merge_schedule(Schedule(), self.schedule(value, "schedule"))

    def alerts(self, top: Mapping[str, Any]) -> Mapping[str, Any] | None:
        value = top.get("alerts")
        if value is not None and not isinstance(value, dict):
            self.error(f"expected a mapping, got {show_value(value)}", "alerts")
            return None
        return value

    def check_jurisdictions(self, config: Config) -> None:
        """Every jurisdiction named must have a rule pack (read from the packs' headers only)."""
        from compliance.packs import PackError, load_packs

        try:
            available = set(load_packs(config.rules_dir).jurisdictions)
        except PackError as exc:
            self.errors.append(ConfigError(exc.where, exc.message))
            return
        named: list[tuple[str | None, tuple[Any, ...]]] = [(config.jurisdiction, ("jurisdiction",))]
        named += [
            (c.jurisdiction, ("creators", c.key, "jurisdiction")) for c in config.creators.values()
        ]
        named += [
            (h.jurisdiction, ("hashtags", h.key, "jurisdiction")) for h in config.hashtags.values()
        ]
        for name, campaign in config.campaigns.items():
            named += [(j, ("campaigns", name, "jurisdictions")) for j in campaign.jurisdictions]
        for code, keys in named:
            if code and code not in available:
                self.error(
                    f"no rule pack for {code} (available: {', '.join(sorted(available))})", *keys
                )


def _line_of(error: ConfigError) -> int:
    """The line number of an error's 'file:line' (0 when it names only the file)."""
    _, _, line = error.where.rpartition(":")
    return int(line) if line.isdigit() else 0


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a 5-field crontab expression, or None when it is one
    (checked by APScheduler's own parser, the one the daemon uses)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression)
    except ValueError as exc:
        return str(exc)
    return None


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
