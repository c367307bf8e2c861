"""What a new user ran into (issue 9, "Bugs found when tried as a new user would"), each fixed."""

from __future__ import annotations

from click.testing import CliRunner
from store_helpers import MISSING, record, verdict

from compliance.cli import main
from compliance.store.db import open_store
from compliance.store.report import collect, render


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_lone_surrogate_is_that_records_error_and_the_rest_is_checked(tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        '{"id": "a", "caption": "hello \\ud800 #ad @x"}\n'
        '{"id": "b", "caption": "#ad fine"}\n'
        '{"id": "c", "caption": "ok", "campaign": {"brand": "Glow\\udfff"}}\n',
        encoding="utf-8",
    )
    result = run("check", "--input", str(posts), "--db", f"sqlite:///{tmp_path / 'r.db'}")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert (
        f"{posts}:1: field 'caption': contains a lone surrogate (\\ud800) at character 7"
        in result.output
    )
    assert (
        f"{posts}:3: field 'campaign.brand': contains a lone surrogate (\\udfff)" in result.output
    )
    assert f"{posts}:b: COMPLIANT" in result.output
    assert "recorded 1 post" in result.output


def test_an_output_file_that_cannot_be_written_is_one_line_and_exit_2(tmp_path):
    target = tmp_path / "missing-dir" / "r.txt"
    checked = run("check", "--text", "#ad x", "-o", str(target))
    assert checked.exit_code == 2
    assert (
        checked.output.strip()
        == f"compliance: error: {target}: cannot write: No such file or directory"
    )
    reported = run("report", "--output", str(target), "--db", f"sqlite:///{tmp_path / 'r.db'}")
    assert reported.exit_code == 2 and "Traceback" not in reported.output
    assert "cannot write" in reported.output


ESCAPES = "\x1b]0;owned\x07 \x1b[2J"


def test_markdown_report_and_csv_export_do_not_pass_terminal_escapes(tmp_path, clock):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    store = open_store(db)
    record(store, [verdict(MISSING.replace("!", "!" + ESCAPES), id="tt-1")], clock)
    with store.read() as session:
        md = render(collect(session, since=None, now=clock, database="db"), "md")
    assert "\x1b" not in md and "\x07" not in md and "\\u001b" in md.replace("\\\\", "\\")
    exported = run("violations", "export", "--format", "csv", "--db", db)
    assert exported.exit_code == 0, exported.output
    assert "\x1b" not in exported.output and "\x07" not in exported.output
    assert "\\u001b]0;owned\\u0007" in exported.output
    shown = run("report", "--format", "md", "--db", db)
    assert shown.exit_code == 0 and "\x1b" not in shown.output


def test_a_malformed_json_line_says_at_once(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"caption": "tab\x01x"}\n', encoding="utf-8")
    result = run("check", "--input", str(bad), "--no-record")
    assert result.exit_code == 2
    assert "Invalid control character at column" in result.output
    assert "at at" not in result.output


def test_a_postgresql_url_without_its_driver_names_the_extra(tmp_path):
    result = run("violations", "list", "--db", "postgresql+pg8000://postgres@127.0.0.1/x")
    assert result.exit_code == 2
    assert "pip install 'compliance[postgres]'" in result.output
    assert "No module named" not in result.output


def test_an_empty_input_is_an_error_not_a_clean_run(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = run("check", "--input", str(empty), "--no-record")
    assert result.exit_code == 2
    assert f"{empty}: no posts in this input" in result.output


def test_a_repeated_jurisdiction_is_refused_not_silently_the_last(tmp_path):
    result = run("check", "--text", "#ad x", "-j", "GB", "-j", "DE")
    assert result.exit_code == 2
    assert "given 2 times (GB, DE): give it once" in result.output
    once = run("check", "--text", "#ad x", "-j", "GB")
    assert once.exit_code == 0 and "[ASA" in once.output


def test_html_report_times_read_as_times_and_breakdowns_say_top_n_of_m(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    record(
        store,
        [verdict(MISSING, id=f"tt-{n}", author=f"@creator{n:02d}") for n in range(15)],
        clock,
    )
    with store.read() as session:
        html = render(collect(session, since=None, now=clock, database="db"), "html")
    assert "The top 12 of 15 creators, worst first." in html
    assert '<span class="muted when">2026-11-05 14:00 UTC</span>' in html
    assert "T14:00:00" not in html.split("<body>", 1)[1]
