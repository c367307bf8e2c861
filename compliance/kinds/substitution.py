"""substitution: wording that must be replaced by the pack's clear wording.

``select: ambiguous`` reports each ambiguous term (#sp, #collab, "thanks @brand")
on a post that has no clear disclosure, with the term's own suggestion.
``select: obfuscated`` reports a disclosure written so that scanners miss it
(full-width, invisible, look-alike or emoji-broken characters): it is still a
disclosure, but the brand should know it was hidden.
"""

from __future__ import annotations

from typing import Any

from compliance.analysis import Analysis, evasion_text, make_finding
from compliance.kinds.params import Param, choice
from compliance.model import Finding
from compliance.packs import Rule

PARAMS = {"select": Param(None, choice("ambiguous", "obfuscated"), "which wording to replace")}

_FINDINGS = {"ambiguous": "ambiguous_disclosure", "obfuscated": "obfuscated_disclosure"}


def check_params(finding: str, params: dict[str, Any]) -> None:
    """The selection must fit the rule's finding code."""
    expected = _FINDINGS[params["select"]]
    if finding != expected:
        raise ValueError(f"select {params['select']!r} reports {expected!r}, not {finding!r}")


def evaluate(rule: Rule, a: Analysis) -> list[Finding]:
    """Findings of this rule for the analysed post."""
    out: list[Finding] = []
    if rule.params["select"] == "ambiguous":
        if a.clear or a.label_counts:
            return out
        for d in a.ambiguous:
            term = a.pack.terms_by_key.get(d.term)
            suggestion = term.suggest if term and term.suggest else a.suggestion()
            out.append(make_finding(rule, a, d.span, match=d.text, suggestion=suggestion))
        return out
    for d in a.disclosures:
        if d.evasion:
            out.append(make_finding(rule, a, d.span, match=d.text, evasion=evasion_text(d.evasion)))
    return out
