"""``compliance config init|check``: write a starting compliance.yaml, and validate one."""

from __future__ import annotations

import sys

import click

from compliance.report import EXIT_CLEAN, EXIT_ERROR
from compliance.safe import terminal_safe

# `compliance config init` prints this; a test checks that it passes `config check`.
STARTER = """\
# compliance.yaml: what compliance watches and how it judges (docs/config.md lists every key).
# Validate after each edit:  compliance config check compliance.yaml

# The database of record. --db and $COMPLIANCE_DATABASE_URL still win over it; a
# relative SQLite path is relative to this file. For a server:
# postgresql+psycopg2://user@host/dbname (the password from ~/.pgpass, never here).
database: sqlite:///compliance.db

# Whose rules apply when a creator or hashtag does not say: US (FTC), GB (ASA/CMA),
# CA, AU, DE, FR, ES, IT.
jurisdiction: US

# Rule packs: the shipped ones unless `dir` names your own copy; `overrides`
# switch a rule off or change its level for this project (as Vale allows).
# rules:
#   dir: ./rules
#   overrides:
#     FTC.C201: warning        # or: off, violation, info, {level: warning}

# Where each platform's API lives (point them at a proxy or a test server) and the
# NAMES of the environment variables holding the credentials: secrets are never
# written in this file.
platforms:
  tiktok: {web_url: "https://www.tiktok.com", api_url: "https://open.tiktokapis.com", token_env: TIKTOK_TOKEN}
  instagram: {api_url: "https://graph.facebook.com", token_env: IG_TOKEN, user_id_env: IG_USER_ID}
  youtube: {api_url: "https://www.googleapis.com", web_url: "https://www.youtube.com", key_env: YOUTUBE_API_KEY}
  bluesky: {api_url: "https://public.api.bsky.app"}
  mastodon: {instances: {"mastodon.social": "https://mastodon.social"}}
  x: {api_url: "https://api.x.com", token_env: X_BEARER_TOKEN, requests_per_minute: 60}

# What the brand knows about each campaign. relationship: paid, free_product,
# affiliate, employee, family, contest (a branded challenge or sweepstakes) or none.
campaigns:
  glowlab-spring:
    brand: GlowLab
    handles: ["@glowlab"]
    hashtags: ["#glowlabpartner"]
    promo_codes: [MAYA15]
    domains: [glowlab.com]
    relationship: paid
    starts: 2026-03-01
    ends: 2026-06-30
  chipotle-guac:
    brand: Chipotle
    handles: ["@chipotle"]
    hashtags: ["#guacdance"]
    relationship: contest      # entries need #contest; creators paid by the brand need #ad

# The creators you follow: each account as platform:handle, and their campaigns.
creators:
  mara:
    name: Mara Lin
    accounts: ["tiktok:@glowwithmara", "youtube:@marabeauty", "bluesky:mara.bsky.social", "mastodon:@mara@mastodon.social"]
    campaigns: [glowlab-spring]
    # schedule: {cron: "0 */2 * * *"}   # her own schedule; the rest comes from the default

# Campaign hashtags watched wherever a platform allows it (branded challenges).
hashtags:
  guacdance:
    tag: "#guacdance"
    platforms: [bluesky, mastodon, instagram]
    campaigns: [chipotle-guac]

# The default schedule of every monitor: `every` (6h, 30m) or `cron` ("0 */6 * * *"),
# a random `jitter`, the re-read `window` (edits and deletions are noticed within it),
# at most `window_posts` posts re-read, and `max_failures` failed runs in a row
# before a monitor is reported failing.
schedule: {every: 6h, jitter: 10m, window: 30d, window_posts: 100, max_failures: 3}

# alerts: who hears about new, fixed and regressed violations (docs/alerts.md).
"""


@click.group("config")
def config() -> None:
    """Write a starting compliance.yaml and validate one."""


@config.command("init")
def config_init() -> None:
    """Print a commented starting compliance.yaml (compliance config init > compliance.yaml)."""
    click.echo(STARTER, nl=False)


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def config_check(file: str) -> None:
    """Validate FILE: print every problem as file:line: key: message.

    The alerts: section is validated too (its first problem is shown). An environment
    variable named by a *_env key that is unset is a warning here (a run that needs it
    fails). Exit status: 0 valid, 2 any error.
    """
    from compliance.config import ConfigError, load_config
    from compliance.packs import PackError

    try:
        cfg = load_config(file)
        packs = cfg.packs()  # overrides must name real rules
        packs.for_jurisdiction(cfg.jurisdiction)  # loads and validates the default pack
    except ConfigError as exc:
        for error in exc.errors:
            click.echo(terminal_safe(str(error)))
        sys.exit(EXIT_ERROR)
    except PackError as exc:
        click.echo(terminal_safe(str(exc)))
        sys.exit(EXIT_ERROR)
    if cfg.alerts is not None:
        from compliance.alerts.config import parse_alerts
        from compliance.yamlfile import YamlError

        try:
            parse_alerts(cfg.alerts_document(), "alerts")
        except YamlError as exc:
            click.echo(terminal_safe(str(exc)))
            sys.exit(EXIT_ERROR)
    for warning in cfg.warnings():
        click.echo(terminal_safe(warning))
    counts = {
        "campaign": len(cfg.campaigns),
        "creator": len(cfg.creators),
        "hashtag": len(cfg.hashtags),
        "monitor": len(cfg.monitors()),
    }
    summary = ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for noun, n in counts.items())
    click.echo(terminal_safe(f"{file}: ok ({summary})"))
    sys.exit(EXIT_CLEAN)
