"""The development set: hand-written cases, each tied to a regulatory statement.

Each case states the verdict and the exact set of violation-level finding codes the
engine must produce (see tests/devset/README.md). Cases run through the public API.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compliance import Level, Post, check, load_packs
from compliance.examples import campaign_from

DEVSET = Path(__file__).parent / "devset"
PACKS = load_packs()


def _cases():
    for path in sorted(DEVSET.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield pytest.param(case, id=case["id"])


CASES = list(_cases())


def test_devset_is_large_and_unique():
    ids = [c.values[0]["id"] for c in CASES]
    assert len(ids) >= 250
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    post = Post(
        caption=case["caption"],
        platform=case.get("platform", "other"),
        author=case.get("author"),
        jurisdiction=case.get("jurisdiction", "US"),
        paid_partnership=case.get("paid_partnership"),
        is_video=case.get("is_video"),
        transcript=case.get("transcript"),
        language=case.get("language"),
        campaign=campaign_from(case.get("campaign")),
    )
    verdict = check(post, PACKS)
    expect = case["expect"]
    got_codes = sorted({f.code for f in verdict.findings if f.level is Level.VIOLATION})
    got_warnings = {f.code for f in verdict.findings if f.level is Level.WARNING}
    detail = (
        f"{case['id']} ({case.get('cite', '')})\n  caption: {case['caption']!r}\n"
        f"  findings: {[(f.rule, f.level.value, f.message) for f in verdict.findings]}\n"
        f"  signals: {[(s.kind, s.text, s.strength) for s in verdict.sponsorship.signals]}\n"
        f"  disclosures: {[(d.text, d.clarity, d.language) for d in verdict.disclosures]}, language {verdict.language}"
    )
    assert verdict.verdict.value == expect["verdict"], detail
    assert got_codes == sorted(set(expect["codes"])), detail
    assert set(expect.get("warnings") or ()) <= got_warnings, detail
