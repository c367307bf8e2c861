"""existence: "a sponsored post must carry a disclosure" and its relatives.

``condition`` picks what must exist:
- ``missing``: a sponsored post with no disclosure at all in the caption (and no
  platform label the pack accepts). Ambiguous wording counts as *some* disclosure
  here; substitution rules judge it.
- ``label_only``: the platform's paid-partnership label is on, the caption says
  nothing, and the pack does not accept the label alone (FTC D101: "Do not assume
  that a platform's disclosure tool is good enough").
- ``contradicted``: a sponsored post says it is not sponsored (16 CFR 255.0(f)).
- ``transcript``: a video whose transcript is known carries no clear disclosure
  (D101: "in the video and not just in the description") while the caption has one.
- ``unverified_video``: a video with no transcript; the in-video disclosure cannot
  be checked from the caption (an info note, not a violation).
"""

from __future__ import annotations

from typing import Any

from compliance.analysis import Analysis, TermHit, make_finding
from compliance.kinds.params import Param, choice
from compliance.model import Finding
from compliance.packs import Rule

PARAMS = {
    "condition": Param(
        None,
        choice("missing", "label_only", "contradicted", "transcript", "unverified_video"),
        "what must exist",
    ),
}

_FINDINGS = {
    "missing": "missing_disclosure",
    "label_only": "platform_label_only",
    "contradicted": "contradicted_disclosure",
    "transcript": "video_disclosure_missing",
    "unverified_video": "video_disclosure_missing",
}


def check_params(finding: str, params: dict[str, Any]) -> None:
    """The condition must fit the rule's finding code."""
    expected = _FINDINGS[params["condition"]]
    if finding != expected:
        raise ValueError(f"condition {params['condition']!r} reports {expected!r}, not {finding!r}")


def evaluate(rule: Rule, a: Analysis) -> list[Finding]:
    """Findings of this rule for the analysed post."""
    condition = rule.params["condition"]
    if condition == "missing":
        # A disclosure spoken in the video (known from the transcript) counts.
        if not a.disclosures and not a.label and not a.transcript_disclosures:
            return [make_finding(rule, a, None)]
    elif condition == "label_only":
        if a.label and not a.disclosures and not a.pack.label_accepted:
            return [make_finding(rule, a, None)]
    elif condition == "contradicted":
        negations = [n for n in a.negations if not _true_of_affiliate_post(n, a)]
        if a.sponsorship.value is not False and negations:
            hit = negations[0]
            return [make_finding(rule, a, hit.span, match=hit.text)]
    elif condition == "transcript":
        # Only when the caption does disclose: with nothing anywhere, the post's
        # problem is the missing disclosure, reported once by the 'missing' rule.
        # A platform label the pack accepts is shown on the video itself.
        described = bool(a.disclosures) or a.label
        if a.post.is_video and described and not a.label_counts and a.transcript_disclosures == ():
            return [make_finding(rule, a, None)]
    elif condition == "unverified_video" and a.post.is_video and a.transcript_disclosures is None:
        return [make_finding(rule, a, None)]
    return []


def _true_of_affiliate_post(negation: TermHit, a: Analysis) -> bool:
    """True when "not sponsored" is the truth about a post whose only connection is
    commission links that the caption does disclose ("this video is not sponsored;
    links below are affiliate links"): nothing is contradicted. A denial of the
    commission itself ("no affiliate links") still contradicts."""
    return (
        bool(a.connections)
        and a.connections <= {"affiliate"}
        and "affiliate" not in negation.term.covers
        and any("affiliate" in d.covers for d in a.disclosures)
    )
