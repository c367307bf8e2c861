"""consistency: a disclosure must fit the post it is on.

``check: language`` — the disclosure must be in the language of the post's audience
(FTC D101: "in the same language as the endorsement"; 16 CFR 14.9). Judged when the
post's language is known and the pack requires it.
``check: coverage`` — the disclosure must cover the connection there is: "gifted" is
not enough for a paid post (FTC, Warner Bros. 2016); "link affiliato" alone is not
enough in Italy. ``satisfies`` maps each connection to the ``covers`` values of
terms that disclose it.
"""

from __future__ import annotations

from typing import Any

from compliance.analysis import LANGUAGE_NAMES, Analysis, make_finding
from compliance.kinds.params import Param, choice, mapping_of_lists
from compliance.model import Finding
from compliance.packs import CONNECTIONS, Rule

DEFAULT_SATISFIES = {
    "paid": ("any", "paid"),
    "free_product": ("any", "paid", "free_product"),
    "affiliate": ("any", "paid", "affiliate"),
    "employee": ("any", "employee"),
    "family": ("any", "family"),
    "contest": ("any", "paid", "contest"),
}

PARAMS = {
    "check": Param(None, choice("language", "coverage"), "what must be consistent"),
    "satisfies": Param(None, mapping_of_lists, "connection -> covers values that disclose it"),
}

_FINDINGS = {"language": "language_mismatch", "coverage": "incomplete_disclosure"}


def check_params(finding: str, params: dict[str, Any]) -> None:
    """The check must fit the finding; ``satisfies`` names known connections."""
    expected = _FINDINGS[params["check"]]
    if finding != expected:
        raise ValueError(f"check {params['check']!r} reports {expected!r}, not {finding!r}")
    for key, values in (params.get("satisfies") or {}).items():
        for name in (key, *values):
            if name not in CONNECTIONS:
                raise ValueError(
                    f"satisfies: unknown connection {name!r} (known: {', '.join(CONNECTIONS)})"
                )


def evaluate(rule: Rule, a: Analysis) -> list[Finding]:
    """Findings of this rule for the analysed post."""
    if rule.params["check"] == "language":
        return _language(rule, a)
    return _coverage(rule, a)


def _language(rule: Rule, a: Analysis) -> list[Finding]:
    if not a.pack.require_audience_language or a.language is None or a.label_counts:
        return []
    candidates = a.candidates()
    if not candidates:
        return []
    if any(d.language in (a.language, "und") for d in candidates):
        return []
    first = candidates[0]
    return [
        make_finding(
            rule,
            a,
            first.span,
            match=first.text,
            disclosure_language=LANGUAGE_NAMES.get(first.language, first.language),
        )
    ]


def _coverage(rule: Rule, a: Analysis) -> list[Finding]:
    clear = a.clear
    if not clear or not a.connections:
        return []
    satisfies = rule.params.get("satisfies") or DEFAULT_SATISFIES
    covered = {c for d in clear for c in d.covers}
    missing = sorted(
        conn for conn in a.connections if not covered & set(satisfies.get(conn, ("any",)))
    )
    if not missing:
        return []
    first = clear[0]
    return [
        make_finding(
            rule,
            a,
            first.span,
            match=first.text,
            connection=", ".join(m.replace("_", " ") for m in missing),
        )
    ]
