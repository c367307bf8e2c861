"""The `compliance` command end to end through click's runner: outputs, escaping, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from compliance.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_text_violation_exit_1_and_grammar():
    r = run("check", "--text", "Loving my new serum from @glowlab! Use code MAYA15 #skincare #sp")
    assert r.exit_code == 1, r.output
    line = next(x for x in r.output.splitlines() if "FTC.C201" in x)
    # where:line:col: RULE name: message
    assert line.startswith("<text>:1:62: FTC.C201 ambiguous-disclosure: '#sp'")
    assert "fix: Replace '#sp' with '#ad'" in r.output
    assert "source: FTC, Disclosures 101" in r.output


def test_text_compliant_exit_0():
    r = run("check", "--text", "#ad Loving my new serum from @glowlab!")
    assert r.exit_code == 0, r.output
    assert "COMPLIANT" in r.output


def test_not_sponsored_and_needs_review_exit_0():
    assert run("check", "--text", "Best #adventure ever, ad hoc road trip").exit_code == 0
    r = run("check", "--text", "Obsessed with my new tote from @linnea.studio", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.output)[0]["verdict"] == "needs_review"


def test_campaign_flags_make_a_post_sponsored():
    r = run(
        "check",
        "--text",
        "My glow routine with @glowlab ✨",
        "--handle",
        "glowlab",
        "--relationship",
        "paid",
        "--format",
        "jsonl",
    )
    assert r.exit_code == 1
    v = json.loads(r.output.splitlines()[0])
    assert v["verdict"] == "violation"
    assert [x["code"] for x in v["violations"]] == ["missing_disclosure"]
    assert {"campaign_handle", "campaign_relationship"} <= {
        s["kind"] for s in v["sponsored"]["signals"]
    }


def test_json_schema_fields():
    r = run(
        "check",
        "--text",
        "Glow routine with @glowlab #skincare #glow #selfcare #sp",
        "--format",
        "json",
        "--platform",
        "instagram",
        "--relationship",
        "paid",
        "--handle",
        "@glowlab",
    )
    v = json.loads(r.output)[0]
    assert set(v) >= {"id", "verdict", "sponsored", "language", "disclosures", "violations"}
    d = v["disclosures"][0]
    assert set(d) >= {"text", "span", "clarity", "above_fold", "in_hashtag_block"}
    f = v["violations"][0]
    assert set(f) >= {"rule", "code", "level", "span", "message", "fix", "source"}
    assert {x["code"] for x in v["violations"]} == {"ambiguous_disclosure", "buried_in_hashtags"}


def test_input_file_with_a_bad_line_checks_the_rest_and_exits_2(tmp_path):
    f = tmp_path / "posts.jsonl"
    f.write_text(
        '{"id": "a", "caption": "#ad new serum @glowlab"}\n'
        '{"id": "b", "caption": 5}\n'
        "{not json\n"
        '{"id": "c", "caption": "Use code MAYA15 at @glowlab"}\n',
        encoding="utf-8",
    )
    r = CliRunner().invoke(main, ["check", "--input", str(f), "--format", "jsonl"])
    assert r.exit_code == 2
    ids = [json.loads(x)["id"] for x in r.stdout.splitlines()]
    assert ids == ["a", "c"]
    assert f"{f}:2: field 'caption'" in r.stderr
    assert f"{f}:3: invalid JSON" in r.stderr


def test_unknown_jurisdiction_is_a_usage_error():
    r = run("check", "--text", "#ad hi", "--jurisdiction", "ZZ")
    assert r.exit_code == 2
    assert "no rule pack for jurisdiction 'ZZ'" in r.output


def test_neither_text_nor_input_is_a_usage_error():
    assert run("check").exit_code == 2


def test_csv_output_neutralises_formulas(tmp_path):
    f = tmp_path / "posts.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "caption"])
        w.writerow(['=HYPERLINK("http://evil")', "=1+1 use code MAYA15 #sp"])
    r = CliRunner().invoke(main, ["check", "--input", str(f), "--format", "csv"])
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0][:3] == ["id", "where", "platform"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row


def test_text_output_escapes_terminal_control_characters():
    evil = "Use code MAYA15 \x1b[2J\x1b]0;pwned\x07 #sp \u202e"
    r = run("check", "--text", evil)
    assert "\x1b[2J" not in r.output and "\x07" not in r.output and "\u202e" not in r.output
    assert "\\u001b[2J" in r.output


def test_rules_list_show_and_test():
    r = run("rules", "list")
    assert r.exit_code == 0
    assert "FTC.C201" in r.output and "ambiguous-disclosure" in r.output
    r = run("rules", "show", "ftc.c201")
    assert r.exit_code == 0
    for section in (
        "What it does",
        "Why is this bad?",
        "Example (fails)",
        "Use instead (passes)",
        "References",
    ):
        assert section in r.output
    assert run("rules", "show", "FTC.X999").exit_code == 2
    r = run("rules", "test")
    assert r.exit_code == 0, r.output
    assert " 0 failed" in r.output


def test_broken_rule_file_is_a_clear_error(tmp_path):
    import shutil

    shutil.copytree(ROOT / "rules" / "ftc", tmp_path / "ftc")
    rule = tmp_path / "ftc" / "ambiguous-disclosure.yaml"
    rule.write_text(
        rule.read_text(encoding="utf-8").replace("select: ambiguous", "selekt: ambiguous"),
        encoding="utf-8",
    )
    r = run("check", "--text", "#ad", "--rules", str(tmp_path))
    assert r.exit_code == 2
    assert f"{rule}:5: unknown key 'selekt'" in r.output


def test_example_file_runs():
    r = CliRunner().invoke(
        main, ["check", "--input", str(ROOT / "examples" / "posts.jsonl"), "--format", "jsonl"]
    )
    verdicts = [json.loads(x)["verdict"] for x in r.stdout.splitlines()]
    assert len(verdicts) == 12
    assert {"violation", "compliant", "needs_review", "not_sponsored"} <= set(verdicts)
    assert r.exit_code == 1


def test_parallel_check_keeps_order_and_output(tmp_path):
    f = tmp_path / "posts.jsonl"
    lines = []
    for i in range(450):  # more than two chunks
        cap = [
            "#ad new serum @glowlab",
            "Use code MAYA{} at @glowlab #sp",
            "Sunny walk #adventure",
        ][i % 3]
        lines.append(json.dumps({"id": f"p{i}", "caption": cap.format(i)}))
    lines.insert(7, "{broken")
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = CliRunner().invoke(main, ["check", "--input", str(f), "--format", "jsonl", "--jobs", "1"])
    two = CliRunner().invoke(main, ["check", "--input", str(f), "--format", "jsonl", "--jobs", "2"])
    assert one.exit_code == two.exit_code == 2
    assert one.stdout == two.stdout
    assert [json.loads(x)["id"] for x in two.stdout.splitlines()] == [f"p{i}" for i in range(450)]
    assert f"{f}:8: invalid JSON" in two.stderr


def test_rule_docs_in_the_repository_are_up_to_date(tmp_path):
    r = run("rules", "docs", str(tmp_path))
    assert r.exit_code == 0, r.output
    committed = ROOT / "docs" / "rules"
    for page in tmp_path.glob("*.md"):
        assert (committed / page.name).read_text(encoding="utf-8") == page.read_text(
            encoding="utf-8"
        ), f"docs/rules/{page.name} is stale: run 'compliance rules docs docs/rules'"


def test_verdicts_do_not_depend_on_the_hash_seed(tmp_path):
    """Set and dict order change with PYTHONHASHSEED; verdicts must not (the record
    would otherwise see spurious fixes and regressions)."""
    import os
    import subprocess
    import sys

    import yaml

    f = tmp_path / "posts.jsonl"
    with f.open("w", encoding="utf-8") as out:
        for path in sorted((ROOT / "tests" / "devset").glob("*.yaml")):
            for case in yaml.safe_load(path.read_text(encoding="utf-8")):
                record = {
                    "id": case["id"],
                    "caption": case["caption"],
                    "jurisdiction": case.get("jurisdiction", "US"),
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "compliance.cli",
                "check",
                "--input",
                str(f),
                "--format",
                "jsonl",
                "--no-record",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        assert r.returncode in (0, 1), r.stderr
        outputs.add(r.stdout)
    assert len(outputs) == 1


def test_listing_commands_do_not_import_spacy():
    import subprocess
    import sys

    code = "import sys, compliance.cli; print('spacy' in sys.modules)"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert r.stdout.strip() == "False"
