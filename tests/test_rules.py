"""Every rule proves itself: its failing examples fire it, its passing ones do not."""

from __future__ import annotations

import pytest

from compliance.examples import run_examples
from compliance.packs import load_packs

PACKS = load_packs()
RULES = [(pack, rule) for pack in PACKS for rule in pack.rules]


@pytest.mark.parametrize(("pack", "rule"), RULES, ids=[r.id for _, r in RULES])
def test_rule_examples(pack, rule):
    bad = [r for r in run_examples(pack, rule) if not r.ok]
    assert not bad, "\n".join(
        f"{r.example.where}: expected {rule.id} to {'fire' if r.expect_fire else 'stay silent'}"
        f" on {r.example.caption!r}; got {r.verdict.verdict.value} "
        f"{[(f.rule, f.level.value) for f in r.verdict.findings]}"
        for r in bad
    )


def test_every_rule_has_examples():
    for _, rule in RULES:
        assert rule.fail and rule.passes, rule.id


def test_every_pack_reports_every_core_code():
    core = {
        "missing_disclosure",
        "ambiguous_disclosure",
        "buried_in_hashtags",
        "below_fold",
        "language_mismatch",
        "incomplete_disclosure",
        "video_disclosure_missing",
    }
    for pack in PACKS:
        codes = {r.finding for r in pack.rules}
        assert core <= codes, f"{pack.id} lacks rules for {sorted(core - codes)}"
