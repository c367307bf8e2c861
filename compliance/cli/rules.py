"""``compliance rules list|show|docs|test``: the rule packs, for people who read or edit them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from compliance.cli.errors import UsageError
from compliance.cli.options import load_rule_packs, rules_option
from compliance.safe import terminal_safe


@click.group()
def rules() -> None:
    """List, show and test the rules of the packs."""


@rules.command("list")
@click.option("--pack", "pack_id", help="Only this pack (e.g. FTC) or jurisdiction (e.g. GB).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@rules_option
def rules_list(pack_id: str | None, fmt: str, rules_dir: str | None) -> None:
    """Every rule of every pack: id, name, level and what it checks."""
    from compliance.docs import what_it_does

    packs = load_rule_packs(rules_dir, every=True)
    if pack_id:
        one = packs.by_id(pack_id)
        if one is None:
            raise UsageError(f"no pack or jurisdiction {pack_id!r}")
        selected = [one]
    else:
        selected = list(packs)
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "level": r.level.value,
            "code": r.finding,
            "pack": p.id,
            "summary": what_it_does(r),
        }
        for p in selected
        for r in sorted(p.rules, key=lambda r: r.code)
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for p in selected:
        click.echo(f"{p.id}  {p.name}  ({', '.join(p.jurisdictions)})")
        for row in rows:
            if row["pack"] == p.id:
                click.echo(
                    f"  {row['id']:<18} {row['name']:<30} {row['level']:<9} {row['summary']}"
                )
        click.echo("")


@rules.command("show")
@click.argument("rule_id")
@rules_option
def rules_show(rule_id: str, rules_dir: str | None) -> None:
    """What a rule does, why, its source, and failing and passing examples."""
    from compliance.docs import rule_doc

    packs = load_rule_packs(rules_dir, every=True)
    try:
        rule = packs.rule(rule_id)
    except KeyError:
        raise UsageError(f"no rule {rule_id!r}; see 'compliance rules list'") from None
    click.echo(rule_doc(rule))


@rules.command("docs")
@click.argument("directory", type=click.Path(file_okay=False))
@rules_option
def rules_docs(directory: str, rules_dir: str | None) -> None:
    """Write one Markdown reference page per pack into DIRECTORY (generated from the rule files)."""
    from compliance.docs import pack_markdown

    packs = load_rule_packs(rules_dir, every=True)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for pack in packs:
        (out / f"{pack.id.lower()}.md").write_text(pack_markdown(pack) + "\n", encoding="utf-8")
        click.echo(f"wrote {out / (pack.id.lower() + '.md')}")


@rules.command("test")
@rules_option
def rules_test(rules_dir: str | None) -> None:
    """Run every rule's examples; exit 1 when any example does not behave as written."""
    from compliance.examples import run_examples

    packs = load_rule_packs(rules_dir, every=True)
    total = bad = 0
    for pack in packs:
        for rule in pack.rules:
            for result in run_examples(pack, rule):
                total += 1
                if not result.ok:
                    bad += 1
                    want = "fire" if result.expect_fire else "stay silent"
                    click.echo(
                        f"{result.example.where}: {rule.id} should {want} on "
                        f"{terminal_safe(result.example.caption)!r} (verdict {result.verdict.verdict.value})"
                    )
    click.echo(f"{total - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)
