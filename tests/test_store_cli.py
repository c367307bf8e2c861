"""The record from the command line: check records, violations list/show/ack/waive/export,
report, db upgrade; exit codes and one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from store_helpers import AMBIGUOUS, COMPLIANT, MISSING

from compliance.cli import main
from compliance.store.evidence import verify_bundle

CAMPAIGN = {"brand": "GlowLab", "handles": ["@glowlab"], "relationship": "paid"}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def posts_file(tmp_path: Path, records: list[dict], name: str = "posts.jsonl") -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


RECORDS = [
    {
        "id": "tt-1",
        "platform": "tiktok",
        "author": "@maya",
        "caption": AMBIGUOUS,
        "campaign": CAMPAIGN,
    },
    {"id": "tt-2", "platform": "tiktok", "author": "@maya", "caption": COMPLIANT},
    {"id": "ig-1", "platform": "instagram", "author": "@leo", "caption": MISSING},
]


@pytest.fixture
def recorded(db_url, tmp_path):
    """A database with RECORDS checked into it: (url, input file)."""
    f = posts_file(tmp_path, RECORDS)
    r = run("check", "--input", f, "--db", db_url, "--jobs", "1")
    assert r.exit_code == 1, r.output
    return db_url, f


def ids(url: str, *args: str) -> list[int]:
    r = run("violations", "list", "--db", url, "--format", "json", *args)
    assert r.exit_code == 0, r.output
    return [row["id"] for row in json.loads(r.stdout)]


def test_check_records_and_its_report_is_byte_identical(recorded, tmp_path):
    url, f = recorded
    on = run("check", "--input", f, "--db", url, "--format", "jsonl", "--jobs", "1")
    off = run("check", "--input", f, "--no-record", "--format", "jsonl", "--jobs", "1")
    assert on.stdout == off.stdout and on.stdout.count("\n") == 3
    assert "recorded 3 posts" in on.stderr and "recorded" not in off.stderr
    assert len(ids(url)) == 2  # FTC.C201 on tt-1, FTC.D101 on ig-1: recorded once each


def test_check_records_from_worker_processes_too(db_url, tmp_path):
    f = posts_file(tmp_path, [{**RECORDS[0], "id": f"tt-{i}"} for i in range(450)])
    r = run("check", "--input", f, "--db", db_url, "--format", "jsonl", "--jobs", "2")
    assert r.exit_code == 1 and "recorded 450 posts: violations 450 opened" in r.stderr
    assert len(ids(db_url, "--limit", "0")) == 450


def test_text_checks_are_scratch_unless_asked(tmp_path):
    db = tmp_path / "scratch.db"
    url = f"sqlite:///{db}"
    assert run("check", "--text", AMBIGUOUS, "--db", url).exit_code == 1
    assert not db.exists()  # not even created
    r = run("check", "--text", AMBIGUOUS, "--db", url, "--record")
    assert r.exit_code == 1 and "recorded 1 post" in r.stderr
    assert len(ids(url)) == 1


def test_list_filters(recorded):
    url, _ = recorded
    everything = ids(url)
    assert len(everything) == 2
    assert len(ids(url, "--platform", "tiktok")) == 1
    assert len(ids(url, "--creator", "leo")) == 1  # handles match with or without '@'
    assert len(ids(url, "--creator", "@nobody")) == 0
    assert len(ids(url, "--rule", "FTC.C201")) == 1
    assert len(ids(url, "--since", "7d")) == 2
    assert len(ids(url, "--since", "2999-01-01")) == 0
    assert len(ids(url, "--status", "fixed")) == 0
    assert len(ids(url, "--status", "all")) == 2
    assert len(ids(url, "--limit", "1")) == 1


def test_list_and_export_filter_by_campaign_name_or_brand(db_url, tmp_path):
    spring = {**CAMPAIGN, "name": "glowlab-spring"}
    fall = {**CAMPAIGN, "name": "glowlab-fall", "hashtags": ["#glowfall"]}
    other = {"brand": "KeyForge", "handles": ["@keyforge"], "relationship": "paid"}
    f = posts_file(
        tmp_path,
        [
            {**RECORDS[0], "id": "tt-s", "campaign": spring},
            {**RECORDS[0], "id": "tt-f", "campaign": fall},
            {**RECORDS[0], "id": "tt-i"},  # inline GlowLab campaign, no name
            {**RECORDS[0], "id": "tt-k", "campaign": other, "caption": "Thanks @keyforge!"},
            {**RECORDS[2], "id": "ig-n"},  # no campaign at all
        ],
    )
    assert run("check", "--input", f, "--db", db_url, "--jobs", "1").exit_code == 1

    def posts(*args: str) -> list[str]:
        r = run("violations", "list", "--db", db_url, "--format", "json", *args)
        assert r.exit_code == 0, r.output
        return sorted(row["post"] for row in json.loads(r.stdout))

    assert len(posts()) == 5
    assert posts("--campaign", "glowlab-spring") == ["tt-s"]
    assert posts("--campaign", "glowlab-fall") == ["tt-f"]
    assert posts("--campaign", "glowlab") == ["tt-f", "tt-i", "tt-s"]  # the brand, any case
    assert posts("--campaign", "KeyForge", "--platform", "tiktok") == ["tt-k"]
    assert posts("--campaign", "nope") == []
    out = tmp_path / "spring.csv"
    r = run("violations", "export", "--db", db_url, "--campaign", "glowlab-spring", "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["post"] for row in rows] == ["tt-s"]
    md = tmp_path / "spring.md"
    r = run(
        "report", "--db", db_url, "--format", "md", "--campaign", "glowlab-spring", "-o", str(md)
    )
    assert r.exit_code == 0, r.output
    text = md.read_text(encoding="utf-8")
    assert "campaign glowlab-spring only" in text and "tt-s" in text and "tt-f" not in text


def test_list_formats(recorded):
    url, _ = recorded
    text = run("violations", "list", "--db", url)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "STATUS",
        "RULE",
        "PLATFORM",
        "CREATOR",
        "POST",
        "OPENED",
        "(UTC)",
        "TEXT",
    ]
    assert any("FTC.C201" in x and "@maya" in x and "'#sp'" in x for x in lines)
    assert lines[-1] == "2 violations"
    short = run("violations", "list", "--db", url, "--limit", "1")
    assert short.stdout.splitlines()[-1] == "1 of 2 violations shown (--limit 0 for all)"
    rows = list(
        csv.DictReader(
            io.StringIO(run("violations", "list", "--db", url, "--format", "csv").stdout)
        )
    )
    assert {r["rule"] for r in rows} == {"FTC.C201", "FTC.D101"}
    assert {r["creator"] for r in rows} == {"'@maya", "'@leo"}  # '@' cells defused


def test_show_ack_waive_and_history(recorded, tmp_path):
    url, _ = recorded
    vid = ids(url, "--rule", "FTC.C201")[0]
    r = run(
        "violations",
        "ack",
        str(vid),
        "--by",
        "ana@brand.com",
        "--note",
        "creator contacted",
        "--db",
        url,
    )
    assert r.exit_code == 0 and "(status: open)" in r.stdout
    r = run(
        "violations",
        "waive",
        str(vid),
        "--by",
        "legal@brand.com",
        "--until",
        "2999-12-31",
        "--reason",
        "approved in-video disclosure",
        "--db",
        url,
    )
    assert r.exit_code == 0 and "until 3000-01-01T00:00:00Z" in r.stdout
    assert ids(url, "--status", "waived") == [vid]

    shown = run("violations", "show", str(vid), "--db", url)
    assert shown.exit_code == 0
    out = shown.stdout
    assert out.startswith(f"violation {vid}: waived by legal@brand.com until 3000-01-01T00:00:00Z")
    assert "acknowledged by ana@brand.com" in out
    assert "rule: FTC.C201 ambiguous-disclosure (ambiguous_disclosure)" in out
    assert "^^^" in out and "campaign: GlowLab (paid)" in out
    assert "[current, violated]" in out
    history = out.split("history:\n", 1)[1].splitlines()
    assert [h.split()[3] for h in history] == ["opened", "acknowledged", "waived"]
    assert "'creator contacted'" in history[1]

    detail = json.loads(run("violations", "show", str(vid), "--db", url, "--format", "json").stdout)
    assert detail["waiver"]["reason"] == "approved in-video disclosure"
    assert detail["versions"][0]["caption"] == AMBIGUOUS


def test_show_names_the_campaign_with_its_dates_and_jurisdictions(db_url, tmp_path):
    spring = {
        **CAMPAIGN,
        "name": "glowlab-spring",
        "starts": "2026-03-01",
        "ends": "2026-06-30",
        "jurisdictions": ["US", "GB", "DE"],
    }
    fall = {**CAMPAIGN, "name": "glowlab-fall", "ends": "2026-11-30"}
    f = posts_file(
        tmp_path,
        [
            {**RECORDS[0], "campaign": spring},
            {**RECORDS[0], "id": "tt-9", "campaign": fall},
            {**RECORDS[0], "id": "tt-10"},  # inline: brand and relationship only
        ],
    )
    assert run("check", "--input", f, "--db", db_url, "--jobs", "1").exit_code == 1
    listed = run("violations", "list", "--db", db_url, "--format", "json")
    vids = {row["post"]: row["id"] for row in json.loads(listed.stdout)}

    def shown(post: str) -> tuple[list[str], dict]:
        """The campaign lines of the text form (before the finding), the JSON's campaign."""
        text = run("violations", "show", str(vids[post]), "--db", db_url)
        assert text.exit_code == 0, text.output
        head = text.stdout.split("finding:", 1)[0].splitlines()
        lines = [line for line in head if line.startswith(("  campaign:", "    "))]
        js = run("violations", "show", str(vids[post]), "--db", db_url, "--format", "json")
        return lines, json.loads(js.stdout)["campaign"]

    lines, campaign = shown("tt-1")
    assert lines == [
        "  campaign: glowlab-spring: GlowLab (paid)",
        "    runs 2026-03-01 to 2026-06-30",
        "    jurisdictions: US, GB, DE",
    ]
    assert campaign == {
        "name": "glowlab-spring",
        "brand": "GlowLab",
        "handles": ["@glowlab"],
        "hashtags": [],
        "promo_codes": [],
        "domains": [],
        "relationship": "paid",
        "starts": "2026-03-01",
        "ends": "2026-06-30",
        "jurisdictions": ["US", "GB", "DE"],
    }
    lines, campaign = shown("tt-9")
    assert lines == ["  campaign: glowlab-fall: GlowLab (paid)", "    runs until 2026-11-30"]
    assert (campaign["name"], campaign["starts"], campaign["ends"], campaign["jurisdictions"]) == (
        "glowlab-fall",
        None,
        "2026-11-30",
        [],
    )
    lines, campaign = shown("tt-10")
    assert lines == ["  campaign: GlowLab (paid)"]
    assert (campaign["name"], campaign["starts"], campaign["ends"], campaign["jurisdictions"]) == (
        None,
        None,
        None,
        [],
    )


def test_a_fixed_post_shows_which_version_fixed_it(recorded, tmp_path):
    url, _ = recorded
    vid = ids(url, "--rule", "FTC.C201")[0]
    fixed = posts_file(tmp_path, [{**RECORDS[0], "caption": COMPLIANT}], "later.jsonl")
    r = run("check", "--input", fixed, "--db", url, "--jobs", "1")
    assert r.exit_code == 0 and "violations 1 fixed" in r.stderr
    out = run("violations", "show", str(vid), "--db", url).stdout
    assert out.startswith(f"violation {vid}: fixed")
    assert "[current, fixed it]" in out and "[violated]" in out


def test_listing_reopens_a_waiver_that_ran_out(recorded):
    from datetime import datetime, timedelta, timezone

    from compliance.store.db import open_store
    from compliance.store.lifecycle import waive

    url, _ = recorded
    vid = ids(url, "--rule", "FTC.C201")[0]
    # Waived two days ago (the store takes its clock from the caller) until yesterday.
    then = datetime.now(timezone.utc) - timedelta(days=2)
    with open_store(url).write() as session:
        waive(
            session,
            vid,
            by="legal@brand.com",
            reason="one-off",
            until=then + timedelta(days=1),
            now=lambda: then,
        )
    assert vid in ids(url)  # back among the unresolved, without anyone asking
    history = json.loads(
        run("violations", "show", str(vid), "--db", url, "--format", "json").stdout
    )["history"]
    assert [h["action"] for h in history] == ["opened", "waived", "waiver_expired"]
    assert history[-1]["actor"] == "system"


def test_show_writes_an_evidence_bundle(recorded, tmp_path):
    url, _ = recorded
    vid = ids(url, "--rule", "FTC.C201")[0]
    out = tmp_path / "evidence"
    r = run("violations", "show", str(vid), "--db", url, "--evidence", str(out))
    assert r.exit_code == 0 and "files written" in r.stderr
    assert verify_bundle(out) == []
    again = run("violations", "show", str(vid), "--db", url, "--evidence", str(out))
    assert again.exit_code == 2 and "not an empty directory" in again.stderr


def test_export_is_safe_to_open_in_a_spreadsheet(db_url, tmp_path):
    evil = '=HYPERLINK("http://evil","x") ' + AMBIGUOUS
    f = posts_file(
        tmp_path, [{"id": "-1+1", "platform": "tiktok", "author": "@maya", "caption": evil}]
    )
    run("check", "--input", f, "--db", db_url)
    out = tmp_path / "out.csv"
    r = run("violations", "export", "--db", db_url, "--format", "csv", "--output", str(out))
    assert r.exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1
    row = rows[0]
    assert row["caption"] == "'" + evil and row["post"] == "'-1+1" and row["creator"] == "'@maya"
    for cell in row.values():
        assert not cell or cell[0] not in "=+-@\t\r"
    data = json.loads(run("violations", "export", "--db", db_url, "--format", "json").stdout)
    assert data[0]["caption"] == evil  # JSON needs no such protection


def test_report_html_and_markdown(recorded, tmp_path):
    url, _ = recorded
    page = tmp_path / "report.html"
    r = run("report", "--since", "30d", "--output", str(page), "--db", url)
    assert r.exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 5
    md = run("report", "--format", "md", "--db", url)
    assert md.exit_code == 0 and "## Disclosure compliance report" in md.stdout
    assert "| FTC.C201 | ambiguous\\_disclosure | 1 |" in md.stdout


def test_db_upgrade_and_current(tmp_path):
    from compliance.store.migrate import HEAD

    url = f"sqlite:///{tmp_path / 'new.db'}"

    r = run("db", "upgrade", "--db", url)
    assert r.exit_code == 0 and r.stdout.strip().endswith(f"schema (empty) -> {HEAD}")
    assert run("db", "upgrade", "--db", url).stdout.strip().endswith(f"schema {HEAD}, up to date")
    assert run("db", "current", "--db", url).stdout.strip().endswith(f"schema {HEAD}, up to date")


def test_the_database_url_comes_from_the_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.db"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{db}")
    f = posts_file(tmp_path, RECORDS)
    assert run("check", "--input", f).exit_code == 1
    assert db.exists()
    assert len(ids(f"sqlite:///{db}")) == 2


# --- Errors: one line, exit 2, no traceback, no password --------------------------------------


def one_line_error(r) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "cannot parse the database URL"),
        ("nosuchdb://x/y", "database nosuchdb://x/y:"),
        ("sqlite:////nonexistent-dir/x.db", "unable to open database file"),
    ],
)
def test_bad_database_urls(url, expected, tmp_path):
    f = posts_file(tmp_path, RECORDS)
    for args in (["check", "--input", f], ["violations", "list"], ["report"], ["db", "upgrade"]):
        r = run(*args, "--db", url)
        assert expected in one_line_error(r)
        assert r.stdout == ""  # failed before writing any report


def test_an_unreachable_server_is_one_line_and_the_password_stays_hidden():
    url = "postgresql+psycopg2://ana:s3cret-pw@127.0.0.1:1/compliance?connect_timeout=2"
    r = run("violations", "list", "--db", url)
    line = one_line_error(r)
    assert "s3cret-pw" not in r.output
    assert "postgresql+psycopg2://ana:***@127.0.0.1:1/compliance" in line
    assert "Connection refused" in line or "connection" in line.lower()


def test_a_locked_sqlite_database_stops_the_run_with_exit_2(tmp_path):
    import sqlite3

    db = tmp_path / "locked.db"
    url = f"sqlite:///{db}?timeout=0.2"
    assert run("db", "upgrade", "--db", url).exit_code == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        f = posts_file(tmp_path, RECORDS)
        line = one_line_error(run("check", "--input", f, "--db", url, "--jobs", "1"))
        assert "database is locked" in line and "recording stopped" in line
        assert "database is locked" in one_line_error(
            run("violations", "ack", "1", "--by", "ana", "--db", url)
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_usage_errors(recorded):
    url, _ = recorded
    assert "no violation 999" in one_line_error(run("violations", "show", "999", "--db", url))
    assert "no violation 999" in one_line_error(
        run("violations", "ack", "999", "--by", "ana", "--db", url)
    )
    r = run("violations", "list", "--since", "yesterday", "--db", url)
    assert r.exit_code == 2 and "not a time or duration" in r.output
    r = run(
        "violations", "waive", "1", "--by", "x", "--reason", "y", "--until", "soon", "--db", url
    )
    assert r.exit_code == 2 and "not a time or duration" in r.output
    r = run("violations", "waive", "1", "--by", "x", "--db", url)
    assert r.exit_code == 2 and "--reason" in r.output
