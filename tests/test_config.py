"""compliance.yaml: the issue's sample validates, every kind of mistake is a file:line error,
secrets stay in the environment, overrides change verdicts, and the database URL has one rule."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.cli.config import STARTER
from compliance.config import ConfigError, iter_keys, load_config
from compliance.engine import check
from compliance.model import Campaign, Level, Post
from compliance.store.db import ENV_VAR, default_url, resolve_url

ROOT = Path(__file__).resolve().parents[1]

# The file of issue 7, as it stands: its key names are a contract.
SAMPLE = """\
database: sqlite:///compliance.db          # or postgresql+psycopg2://...; $COMPLIANCE_DATABASE_URL and --db still win
jurisdiction: US                           # default pack
platforms:                                 # every host a source talks to is configurable (tests, proxies)
  tiktok:    {web_url: "https://www.tiktok.com", api_url: "https://open.tiktokapis.com", token_env: TIKTOK_TOKEN}
  instagram: {api_url: "https://graph.facebook.com", token_env: IG_TOKEN, user_id_env: IG_USER_ID}
  youtube:   {api_url: "https://www.googleapis.com", web_url: "https://www.youtube.com", key_env: YOUTUBE_API_KEY}
  bluesky:   {api_url: "https://public.api.bsky.app"}
  mastodon:  {instances: {"mastodon.social": "https://mastodon.social"}}
  x:         {api_url: "https://api.x.com", token_env: X_BEARER_TOKEN}
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
    relationship: contest                  # a branded challenge: entries need #contest, paid creators #ad
creators:
  mara:
    accounts: ["tiktok:@glowwithmara", "youtube:@marabeauty", "bluesky:mara.bsky.social", "mastodon:@mara@mastodon.social"]
    campaigns: [glowlab-spring]
hashtags:
  guacdance:
    tag: "#guacdance"
    platforms: [bluesky, mastodon, instagram]
    campaigns: [chipotle-guac]
schedule: {every: 6h, jitter: 10m}         # default; a creator or hashtag may carry its own schedule
"""

MINIMAL = "campaigns:\n  c1: {brand: GlowLab, relationship: paid}\n"


def write(tmp_path: Path, text: str, name: str = "compliance.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return [str(e) for e in info.value.errors]


def one_error(tmp_path: Path, text: str) -> str:
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, errors
    return errors[0]


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


# --- The sample ------------------------------------------------------------------------------


def test_the_issue_sample_validates_and_lists_its_monitors(tmp_path):
    config = load_config(write(tmp_path, SAMPLE))
    assert config.jurisdiction == "US"
    assert config.database == f"sqlite:///{tmp_path.resolve()}/compliance.db"
    glow = config.campaigns["glowlab-spring"]
    assert glow == Campaign(
        brand="GlowLab",
        handles=("@glowlab",),
        hashtags=("#glowlabpartner",),
        promo_codes=("MAYA15",),
        domains=("glowlab.com",),
        relationship="paid",
        starts=date(2026, 3, 1),
        ends=date(2026, 6, 30),
        name="glowlab-spring",
    )
    assert config.campaigns["chipotle-guac"].relationship == "contest"
    assert config.platforms["mastodon"].instances == {"mastodon.social": "https://mastodon.social"}
    assert config.platforms["tiktok"].token_env == "TIKTOK_TOKEN"
    monitors = config.monitors()
    assert [m.key for m in monitors] == [
        "creator:mara:tiktok:@glowwithmara",
        "creator:mara:youtube:@marabeauty",
        "creator:mara:bluesky:mara.bsky.social",
        "creator:mara:mastodon:@mara@mastodon.social",
        "hashtag:guacdance:bluesky",
        "hashtag:guacdance:mastodon",
        "hashtag:guacdance:instagram",
    ]
    tiktok = monitors[0]
    assert (tiktok.kind, tiktok.platform, tiktok.target, tiktok.creator) == (
        "account",
        "tiktok",
        "@glowwithmara",
        "mara",
    )
    assert tiktok.campaigns == (glow,)
    assert tiktok.jurisdiction == "US"
    assert tiktok.schedule.every == timedelta(hours=6)
    assert tiktok.schedule.jitter == timedelta(minutes=10)
    assert tiktok.schedule.window == timedelta(days=30)
    hashtag = monitors[-1]
    assert (hashtag.kind, hashtag.target, hashtag.creator) == ("hashtag", "#guacdance", None)
    assert [c.name for c in hashtag.campaigns] == ["chipotle-guac"]


def test_sample_passes_config_check_with_warnings_for_unset_variables(tmp_path):
    path = write(tmp_path, SAMPLE)
    r = run("config", "check", str(path), env={"TIKTOK_TOKEN": "set", "IG_TOKEN": ""})
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert (
        f"{path}:5: warning: platforms.instagram.token_env: environment variable IG_TOKEN is not set"
        in lines
    )
    assert not any("TIKTOK_TOKEN" in line for line in lines)
    assert lines[-1] == f"{path}: ok (2 campaigns, 1 creator, 1 hashtag, 7 monitors)"


def test_config_init_prints_a_file_that_passes_config_check(tmp_path):
    r = run("config", "init")
    assert r.exit_code == 0 and r.output == STARTER
    path = write(tmp_path, r.output)
    checked = run("config", "check", str(path))
    assert checked.exit_code == 0, checked.output
    assert "ok (2 campaigns, 1 creator, 1 hashtag, 7 monitors)" in checked.output


def test_own_schedule_merges_with_the_defaults(tmp_path):
    config = load_config(
        write(
            tmp_path,
            MINIMAL
            + "creators:\n  a:\n    accounts: [x:@a_b]\n    schedule: {cron: '0 */2 * * *'}\n"
            + "    jurisdiction: gb\n"
            + "schedule: {every: 1h, jitter: 1m, window: 7d, window_posts: 20, max_failures: 5}\n",
        )
    )
    (monitor,) = config.monitors()
    assert monitor.key == "creator:a:x:@a_b"
    assert monitor.jurisdiction == "GB"
    s = monitor.schedule
    assert (s.every, s.cron, s.jitter) == (None, "0 */2 * * *", timedelta(minutes=1))
    assert (s.window, s.window_posts, s.max_failures) == (timedelta(days=7), 20, 5)


def test_alerts_section_is_kept_raw_with_its_lines(tmp_path):
    config = load_config(
        write(tmp_path, MINIMAL + "alerts:\n  route:\n    receiver: legal\n  receivers: []\n")
    )
    assert config.alerts == {"route": {"receiver": "legal"}, "receivers": []}
    assert config.alerts_lines[()] == 3
    assert config.alerts_lines[("route", "receiver")] == 5


# --- Errors ------------------------------------------------------------------------------------


def test_unknown_key_with_did_you_mean(tmp_path):
    error = one_error(tmp_path, MINIMAL + "schedle: {every: 6h}\n")
    assert error == f"{tmp_path}/compliance.yaml:3: schedle: unknown key (did you mean 'schedule'?)"


def test_unknown_nested_key_names_its_path_and_line(tmp_path):
    error = one_error(tmp_path, "campaigns:\n  c1:\n    brand: G\n    handels: ['@g']\n")
    assert error.endswith(":4: campaigns.c1.handels: unknown key (did you mean 'handles'?)")


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("jurisdiction: 5\n", 1, "jurisdiction: expected a non-empty string, got 5"),
        ("jurisdiction: USA\n", 1, "expected a 2-letter country code"),
        ("jurisdiction: ZZ\n", 1, "jurisdiction: no rule pack for ZZ"),
        ("creators: [a, b]\n", 1, "creators: expected a mapping"),
        ("platforms:\n  x: {requests_per_minute: many}\n", 2, "expected a positive whole number"),
        ("platforms:\n  x: {api_url: 'ftp://x'}\n", 2, "expected an http(s) URL"),
        ("platforms:\n  myspace: {}\n", 2, "platforms.myspace: unknown key"),
        ("platforms:\n  x: {short_url: 'https://t.co'}\n", 2, "x.short_url: unknown key"),
        ("platforms:\n  tiktok: {short_url: vm.tiktok.com}\n", 2, "expected an http(s) URL"),
        (
            "campaigns:\n  c: {relationship: boss}\n",
            2,
            "campaigns.c.relationship: unknown relationship",
        ),
        (
            "campaigns:\n  c:\n    brand: G\n    starts: soon\n",
            4,
            "campaigns.c.starts: expected a date",
        ),
        ("database: compliance.db\n", 1, "database: expected a database URL"),
        (  # names go into monitor keys, which the record holds in 300 characters
            "creators:\n  " + "m" * 65 + ": {accounts: ['tiktok:@mara']}\n",
            2,
            "(at most 64)",
        ),
        (
            "hashtags:\n  h: {tag: '#" + "g" * 101 + "', platforms: [bluesky]}\n",
            2,
            "expected one hashtag such as #guacdance",
        ),
    ],
)
def test_wrong_types_and_values(tmp_path, text, line, fragment):
    error = one_error(tmp_path, text)
    assert error.startswith(f"{tmp_path}/compliance.yaml:{line}: "), error
    assert fragment in error


def test_dangling_reference_names_the_line_where_it_is_referenced(tmp_path):
    text = (
        MINIMAL
        + "creators:\n  mara:\n    accounts: ['tiktok:@mara']\n    campaigns:\n      - c1\n      - glowlab-autumn\n"
    )
    error = one_error(tmp_path, text)
    assert error.startswith(f"{tmp_path}/compliance.yaml:8: creators.mara.campaigns[1]: ")
    assert "no campaign 'glowlab-autumn' (campaigns: c1)" in error
    hashtag = (
        MINIMAL + "hashtags:\n  h:\n    tag: '#x'\n    platforms: [bluesky]\n    campaigns: nope\n"
    )
    assert ":7: hashtags.h.campaigns: no campaign 'nope'" in one_error(tmp_path, hashtag)


@pytest.mark.parametrize("key", ["token", "key", "password", "api_key"])
def test_a_literal_secret_is_an_error_that_says_to_use_an_env_variable(tmp_path, key):
    error = one_error(tmp_path, f"platforms:\n  tiktok:\n    {key}: s3cr3t-value\n")
    assert f":3: platforms.tiktok.{key}: secrets are not written in the file" in error
    assert "_env" in error
    assert "s3cr3t-value" not in error


@pytest.mark.parametrize(
    "schedule, fragment",
    [
        ("{every: 6 hours}", "schedule.every: not a duration: '6 hours'"),
        ("{every: 6}", "schedule.every: expected a duration such as 6h"),
        ("{jitter: 10x}", "schedule.jitter: not a duration"),
        ("{every: 0s}", "schedule.every: expected a duration above zero"),
        ("{cron: '61 * * * *'}", "schedule.cron: not a cron expression: '61 * * * *'"),
        ("{cron: '* * *'}", "Wrong number of fields"),
        ("{every: 6h, cron: '0 * * * *'}", "schedule.cron: give either every or cron"),
        ("{max_failures: 0}", "schedule.max_failures: expected a positive whole number"),
    ],
)
def test_bad_durations_and_cron(tmp_path, schedule, fragment):
    error = one_error(tmp_path, f"schedule: {schedule}\n")
    assert error.startswith(f"{tmp_path}/compliance.yaml:1: ")
    assert fragment in error


@pytest.mark.parametrize(
    "account, fragment",
    [
        ("tiktok-glowwithmara", "expected 'platform:account'"),
        ("myspace:@tom", "expected 'platform:account' with a platform of tiktok"),
        ("tiktok:glow with mara", "not a tiktok account"),
        (
            "mastodon:@mara",
            "not a mastodon account: 'mastodon:@mara' (expected e.g. mastodon:@mara@mastodon.social)",
        ),
        ("bluesky:mara", "not a bluesky account"),
        ("x:@way_too_long_for_x_handles", "not a x account"),
        ("youtube:marabeauty", "not a youtube account"),
    ],
)
def test_bad_account_strings(tmp_path, account, fragment):
    text = f"creators:\n  mara:\n    accounts:\n      - ok:nope\n      - '{account}'\n"
    errors = errors_of(tmp_path, text)
    assert any(
        e.startswith(f"{tmp_path}/compliance.yaml:5: creators.mara.accounts[1]: ") and fragment in e
        for e in errors
    ), errors


def test_good_account_strings_of_every_platform(tmp_path):
    accounts = [
        "tiktok:@glow.with_mara",
        "instagram:@glowwithmara",
        "youtube:@marabeauty",
        "youtube:UCxxxxxxxxxxxxxxxxxxxxxx",
        "bluesky:@Mara.bsky.social",
        "mastodon:@mara@mastodon.social",
        "x:@glowwithmara",
    ]
    config = load_config(write(tmp_path, f"creators:\n  mara:\n    accounts: {accounts}\n"))
    handles = [str(a) for a in config.creators["mara"].accounts]
    assert handles[4] == "bluesky:mara.bsky.social"
    assert len(handles) == len(accounts)


def test_duplicate_keys_are_errors(tmp_path):
    error = one_error(tmp_path, "campaigns:\n  c1: {brand: A}\n  c1: {brand: B}\n")
    assert error == f"{tmp_path}/compliance.yaml:3: duplicate key 'c1'"


def test_config_check_prints_every_error_one_per_line_and_exits_2(tmp_path):
    path = write(
        tmp_path,
        "jurisdiction: USA\nschedule: {every: soon}\ncreators:\n  m:\n    accounts: [tiktok]\n    campaigns: [ghost]\n",
    )
    r = run("config", "check", str(path))
    assert r.exit_code == 2
    lines = r.output.splitlines()
    assert len(lines) == 4, lines
    assert all(re.match(rf"^{re.escape(str(path))}:\d+: ", line) for line in lines)
    assert [int(line.split(":")[1]) for line in lines] == [1, 2, 5, 6]  # in file order


def test_other_commands_show_the_first_error_and_a_count(tmp_path):
    path = write(tmp_path, "jurisdiction: USA\nschedule: {every: soon}\n")
    r = run("check", "--config", str(path), "--text", "#ad hi")
    assert r.exit_code == 2
    assert r.output.count("\n") == 1
    assert "compliance.yaml:1: jurisdiction: expected a 2-letter country code" in r.output
    assert "(and 1 more: run 'compliance config check')" in r.output


# --- Secrets -----------------------------------------------------------------------------------


def test_secret_comes_from_the_environment_and_never_shows(tmp_path):
    config = load_config(write(tmp_path, SAMPLE))
    env = {"TIKTOK_TOKEN": "tt-secret-123"}
    assert config.secret("tiktok", "token_env", env) == "tt-secret-123"
    assert config.secret("bluesky", "token_env", env) is None  # not configured: not needed
    with pytest.raises(ConfigError) as info:
        config.secret("x", "token_env", env)
    assert str(info.value) == (
        f"{tmp_path}/compliance.yaml:9: platforms.x.token_env: "
        "environment variable X_BEARER_TOKEN is not set"
    )
    assert "tt-secret-123" not in repr(config) and "tt-secret-123" not in str(config)


# --- Rule overrides ----------------------------------------------------------------------------

SP = Post(caption="Loving my new serum from @glowlab! #skincare #sp")


def test_overrides_change_a_rules_level_or_switch_it_off(tmp_path):
    base = check(SP, load_config(write(tmp_path, MINIMAL)).packs())
    assert "FTC.C201" in {f.rule for f in base.violations}
    warned = load_config(
        write(tmp_path, MINIMAL + "rules:\n  overrides:\n    ftc.c201: {level: warning}\n")
    )
    verdict = check(SP, warned.packs())
    c201 = next(f for f in verdict.findings if f.rule == "FTC.C201")
    assert c201.level is Level.WARNING
    off = load_config(write(tmp_path, MINIMAL + "rules:\n  overrides:\n    FTC.C201: off\n"))
    assert "FTC.C201" not in {f.rule for f in check(SP, off.packs()).findings}
    # The shipped packs themselves are untouched.
    assert "FTC.C201" in {f.rule for f in check(SP).violations}


def test_override_of_a_rule_that_does_not_exist(tmp_path):
    path = write(tmp_path, MINIMAL + "rules:\n  overrides:\n    FTC.Z999: warning\n")
    r = run("config", "check", str(path))
    assert r.exit_code == 2
    assert r.output == f"{path}:5: rules.overrides: no rule 'FTC.Z999'\n"
    assert "expected off or a level" in one_error(
        tmp_path, "rules:\n  overrides:\n    FTC.C201: loud\n"
    )


def test_check_with_config_uses_its_overrides_and_jurisdiction(tmp_path):
    caption = "Loving my new serum from @glowlab! #skincare #sp"
    assert run("check", "--text", caption).exit_code == 1
    off = write(tmp_path, "rules:\n  overrides:\n    FTC.C201: off\n", "off.yaml")
    r = run("check", "--config", str(off), "--text", caption, "--format", "json")
    assert r.exit_code == 0, r.output
    assert '"verdict": "compliant"' in r.output and "FTC.C201" not in r.output
    gb = write(tmp_path, "jurisdiction: GB\n", "gb.yaml")
    r = run("check", "--config", str(gb), "--text", caption, "--format", "json")
    assert r.exit_code in (0, 1) and '"pack": "ASA"' in r.output


# --- The database URL: one rule ----------------------------------------------------------------


def test_database_url_precedence():
    assert (
        resolve_url("sqlite:///flag.db", {ENV_VAR: "sqlite:///env.db"}, "sqlite:///cfg.db")
        == "sqlite:///flag.db"
    )
    assert (
        resolve_url(None, {ENV_VAR: "sqlite:///env.db"}, "sqlite:///cfg.db") == "sqlite:///env.db"
    )
    assert resolve_url(None, {}, "sqlite:///cfg.db") == "sqlite:///cfg.db"
    assert resolve_url(None, {}, None) == default_url()


def test_commands_take_the_database_from_config(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    path = write(tmp_path, "database: sqlite:///from-config.db\n")
    r = run("db", "current", "--config", str(path))
    assert r.exit_code == 0, r.output
    assert f"{tmp_path.resolve()}/from-config.db" in r.output
    flag = run("db", "current", "--config", str(path), "--db", f"sqlite:///{tmp_path}/flag.db")
    assert "flag.db" in flag.output
    env = run("db", "current", "--config", str(path), env={ENV_VAR: f"sqlite:///{tmp_path}/env.db"})
    assert "env.db" in env.output
    listing = run("violations", "list", "--config", str(path))
    assert listing.exit_code == 0 and listing.output == "no violations\n"
    assert (tmp_path / "from-config.db").exists()


# --- Docs --------------------------------------------------------------------------------------


def test_every_key_the_loader_accepts_is_documented():
    docs = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    missing = [
        f"{section}: {key}"
        for section, keys in iter_keys()
        for key in keys
        if f"`{key}`" not in docs
    ]
    assert missing == []


def test_check_input_records_into_the_configured_database(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    path = write(tmp_path, "database: sqlite:///rec.db\n")
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "p1", "caption": "Loving @glowlab #sp"}\n', encoding="utf-8")
    r = run("check", "--config", str(path), "--input", str(posts))
    assert r.exit_code in (0, 1), r.output
    assert (tmp_path / "rec.db").exists()


def test_platform_settings_feed_the_monitors_http_and_source_settings(tmp_path):
    from monitors.http import HttpSettings
    from monitors.sources.base import SourceSettings

    config = load_config(
        write(
            tmp_path,
            "platforms:\n  youtube:\n    api_url: http://127.0.0.1:9/\n    key_env: YT_KEY\n"
            "    timeout: 30s\n    connect_timeout: 5\n    retries: 0\n    max_wait: 2m\n"
            "    requests_per_minute: 90\n    page_size: 50\n"
            "    options: {captions: false, paid_pages: 2}\n",
        )
    )
    http = HttpSettings(**config.http_settings("youtube"))
    assert (http.timeout, http.connect_timeout, http.retries, http.max_wait) == (30, 5, 0, 120)
    assert http.requests_per_minute == 90
    source = SourceSettings(**config.source_settings("youtube", {"YT_KEY": "k-123"}))
    assert source.api_url == "http://127.0.0.1:9"
    assert (source.key, source.page_size) == ("k-123", 50)
    assert source.options == {"captions": False, "paid_pages": 2}
    assert "k-123" not in repr(source)
    unset = SourceSettings(**config.source_settings("youtube", {}))
    assert unset.key is None
    assert config.http_settings("tiktok") == {} and config.source_settings("tiktok") == {}
    bad = errors_of(tmp_path, "platforms:\n  x:\n    retries: -1\n    options: {a: [1]}\n")
    assert [e.split(": ", 1)[1] for e in bad] == [
        "platforms.x.retries: expected a whole number (0 or more), got -1",
        "platforms.x.options.a: expected a string, number or true/false, got an array",
    ]


def test_tiktok_short_url_is_a_trusted_base_of_the_source(tmp_path):
    from monitors.sources.base import SourceSettings

    config = load_config(
        write(tmp_path, "platforms:\n  tiktok: {short_url: 'http://127.0.0.1:9/vm/'}\n")
    )
    source = SourceSettings(**config.source_settings("tiktok", {}))
    assert source.short_url == "http://127.0.0.1:9/vm"
    assert source.base_urls == ("http://127.0.0.1:9/vm",)  # trusted by the host policy


def test_unquoted_hashtag_and_empty_accounts(tmp_path):
    error = one_error(tmp_path, "hashtags:\n  g:\n    tag: #guacdance\n    platforms: [bluesky]\n")
    assert ":3: hashtags.g.tag: expected a hashtag; quote it" in error
    error = one_error(tmp_path, "creators:\n  m:\n    accounts:\n")
    assert ":3: creators.m.accounts: expected a list of accounts" in error
    assert ":2: creators.m: missing required key 'accounts'" in one_error(
        tmp_path, "creators:\n  m: {name: Mara}\n"
    )


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", None),
        ("- a\n- b\n", "expected a mapping of settings at the top level"),
        ("campaigns:\n  c: {brand: [x\n", "invalid YAML"),
    ],
)
def test_empty_list_and_broken_files(tmp_path, text, fragment):
    if fragment is None:
        assert load_config(write(tmp_path, text)).monitors() == []
    else:
        assert fragment in one_error(tmp_path, text)
    missing = run("config", "check", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "nope.yaml: cannot read" in missing.output


ALERTS = """\
alerts:
  receivers:
    legal-slack:
      slack: {webhook_url_env: SLACK_WEBHOOK_URL}
  route:
    receiver: legal-slack
"""


def test_config_check_validates_the_alerts_section_with_file_lines(tmp_path):
    path = write(tmp_path, SAMPLE + ALERTS)
    r = run("config", "check", str(path))
    assert r.exit_code == 0, r.output
    config = load_config(path)
    from compliance.alerts.config import parse_alerts

    assert set(parse_alerts(config.alerts_document(), "alerts").receivers) == {"legal-slack"}
    broken = write(tmp_path, SAMPLE + ALERTS.replace("receiver: legal-slack", "receiver: nobody"))
    r = run("config", "check", str(broken))
    assert r.exit_code == 2
    assert r.output.startswith(f"{broken}:40: ") and "nobody" in r.output
