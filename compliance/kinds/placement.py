"""placement: a disclosure must be hard to miss.

``scope: fold`` — it must start before the platform's "... more" cut-off (the
pack's per-platform character count, or the pack's line-break limit).
``scope: hashtag_run`` — it must not sit in a run of hashtags (the pack's run
length), unless it opens the caption; packs may also cap its position among the
hashtags (Italy: within the first three).

Judged on the best candidate: if any clear disclosure is prominent, later copies do
not matter; otherwise the earliest candidate's problems are reported.
"""

from __future__ import annotations

from typing import Any

from compliance.analysis import Analysis, make_finding
from compliance.kinds.params import Param, choice
from compliance.model import Disclosure, Finding
from compliance.packs import Rule

PARAMS = {"scope": Param(None, choice("fold", "hashtag_run"), "where the disclosure must not be")}

_FINDINGS = {"fold": "below_fold", "hashtag_run": "buried_in_hashtags"}


def check_params(finding: str, params: dict[str, Any]) -> None:
    """The scope must fit the rule's finding code."""
    expected = _FINDINGS[params["scope"]]
    if finding != expected:
        raise ValueError(f"scope {params['scope']!r} reports {expected!r}, not {finding!r}")


def prominent(d: Disclosure) -> bool:
    """Above the fold and not buried among hashtags."""
    return d.above_fold and not d.in_hashtag_block


def evaluate(rule: Rule, a: Analysis) -> list[Finding]:
    """Findings of this rule for the analysed post."""
    if a.label_counts:
        return []
    candidates = a.candidates()
    if not candidates or any(prominent(d) for d in candidates):
        return []
    first = candidates[0]
    if rule.params["scope"] == "fold":
        if first.above_fold:
            return []
        start = first.span[0]
        breaks = a.norm.original.count("\n", 0, start)
        return [
            make_finding(rule, a, first.span, match=first.text, position=start + 1, line=breaks + 1)
        ]
    if not first.in_hashtag_block:
        return []
    tag = a.anatomy.hashtag_at(_norm_start(a, first))
    run = a.anatomy.run_length(tag) if tag else 0
    position = tag.nth + 1 if tag else 0
    return [make_finding(rule, a, first.span, match=first.text, run=run, position=position)]


def _norm_start(a: Analysis, d: Disclosure) -> int:
    """The disclosure's start in the normalised text (anatomy is computed there)."""
    index = a.norm.index
    if index is None:
        return d.span[0]
    for i, orig in enumerate(index):
        if orig >= d.span[0]:
            return i
    return len(index)
