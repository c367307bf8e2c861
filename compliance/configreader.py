"""Reading compliance.yaml: every key checked, every problem collected with its file:line.

:class:`ConfigReader` walks the parsed document once and builds the values of
:mod:`compliance.config`; instead of stopping at the first problem it records
each one (``file:line: key: message``) and raises them together, in file order,
so that ``compliance config check`` can show them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from compliance.config import (
    CAMPAIGN_CONFIG_KEYS,
    CREATOR_KEYS,
    DEFAULT_JURISDICTION,
    DOMAIN_PATTERN,
    ENV_KEYS,
    HASHTAG_KEYS,
    OVERRIDE_KEYS,
    PLATFORM_KEYS,
    PLATFORMS,
    RULES_KEYS,
    SCHEDULE_KEYS,
    TOP_KEYS,
    Account,
    Config,
    ConfigError,
    Creator,
    HashtagWatch,
    PlatformSettings,
    RuleOverride,
    Schedule,
    merge_schedule,
    parse_account,
)
from compliance.durations import parse_duration
from compliance.model import (
    Campaign,
    CampaignError,
    Level,
    campaign_from_mapping,
    normalise_jurisdiction,
    show_value,
)
from compliance.yamlfile import Located, dotted, unknown_keys

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
# Platform keys that only one platform reads (elsewhere they are unknown keys, as typos are).
_ONLY_FOR = {"instances": "mastodon", "short_url": "tiktok"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]{1,11}\.[A-Z][0-9]{3}$")
_URL = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$")
# Names go into monitor keys, which the record holds in 300 characters.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HASHTAG = re.compile(r"^#\w{1,100}$")


class ConfigReader:
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
            allowed = tuple(k for k in PLATFORM_KEYS if _ONLY_FOR.get(k, name) == name)
            data = self.mapping(raw, allowed, *keys)
            settings: dict[str, Any] = {}
            for key in ("api_url", "web_url", "short_url"):
                settings[key] = self.url(data.get(key), *keys, key)
            for key in ENV_KEYS:
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
            settings["allow_hosts"] = self.hosts(data.get("allow_hosts"), *keys, "allow_hosts")
            timeout = self.duration_or_seconds(data.get("timeout"), *keys, "timeout")
            settings["timeout"] = timeout
            settings["requests_per_minute"] = self.positive_int(
                data.get("requests_per_minute"), *keys, "requests_per_minute"
            )
            settings["page_size"] = self.positive_int(data.get("page_size"), *keys, "page_size")
            settings["user_agent"] = self.string(data.get("user_agent"), *keys, "user_agent")
            for key in ("connect_timeout", "backoff", "max_backoff", "max_wait"):
                settings[key] = self.duration_or_seconds(data.get(key), *keys, key)
            settings["retries"] = self.count(data.get("retries"), *keys, "retries")
            settings["options"] = self.options(data.get("options"), *keys, "options")
            out[name] = PlatformSettings(name=name, **settings)
        return out, env_where

    def count(self, value: Any, *keys: Any) -> int | None:
        """A whole number, zero or more."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(f"expected a whole number (0 or more), got {show_value(value)}", *keys)
            return None
        return value

    def options(self, value: Any, *keys: Any) -> dict[str, Any]:
        """A source's own settings: a mapping of names to strings, numbers or booleans."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(
                f"expected a mapping of option names to values, got {show_value(value)}", *keys
            )
            return {}
        out = {}
        for name, item in value.items():
            if isinstance(item, (str, int, float, bool)):
                out[str(name)] = item
            else:
                self.error(
                    f"expected a string, number or true/false, got {show_value(item)}", *keys, name
                )
        return out

    def duration_or_seconds(self, value: Any, *keys: Any) -> float | None:
        """A timeout: a number of seconds or a duration string (``30s``)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value <= 0:
                self.error(f"expected a positive number of seconds, got {show_value(value)}", *keys)
                return None
            return float(value)
        span = self.duration(value, *keys)
        return span.total_seconds() if span is not None else None

    def hosts(self, value: Any, *keys: Any) -> tuple[str, ...]:
        """Host names (``social.example``) or ``*.`` and a domain (every subdomain); no scheme,
        port or path: the SSRF guard matches names, and checks the addresses itself."""
        out = []
        names = self.names(value, *keys)
        for i, host in enumerate(names):
            bare = host.strip().lower()
            name = bare[2:] if bare.startswith("*.") else bare
            if not re.fullmatch(DOMAIN_PATTERN, name):
                at = (*keys, i) if isinstance(value, list) else keys
                self.error(
                    f"expected a host name such as social.example or *.example.org "
                    f"(no scheme, port or path), got {host!r}",
                    *at,
                )
                continue
            out.append(bare)
        return tuple(out)

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
            if not isinstance(domain, str) or not re.fullmatch(DOMAIN_PATTERN, domain):
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
                self.error(
                    "expected a name of letters, digits, '-', '_' and '.' (at most 64)", *keys
                )
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
            elif data["accounts"] is None:
                self.error(
                    'expected a list of accounts such as ["tiktok:@handle"]', *keys, "accounts"
                )
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
        try:
            return parse_account(text)
        except ValueError as exc:
            self.error(str(exc), *keys)
            return None

    def hashtags(self, value: Any, campaigns: Mapping[str, Campaign]) -> dict[str, HashtagWatch]:
        out = {}
        for key, keys, data in self.entries(value, "hashtags", HASHTAG_KEYS):
            tag = self.string(data.get("tag"), *keys, "tag")
            if "tag" not in data:
                self.error("missing required key 'tag' (e.g. \"#guacdance\")", *keys)
            elif data["tag"] is None:
                # `tag: #guacdance` unquoted: YAML reads everything after # as a comment.
                self.error(
                    'expected a hashtag; quote it ("#guacdance"): YAML reads # as a comment',
                    *keys,
                    "tag",
                )
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
