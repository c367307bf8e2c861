"""The facts about one post that every rule kind reads, computed once per post.

``compliance.engine`` builds an :class:`Analysis`; the kinds in ``compliance.kinds``
only read it. Keeping the facts in one value means each rule is a few lines of
judgement, and no rule can see a different caption than another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.model import Disclosure, Finding, Level, Post, Span, Sponsorship
from compliance.nlp import Anatomy
from compliance.normalize import EVASION_LABELS, Normalized
from compliance.packs import Pack, Rule, Term

LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "und": "no particular language",
}


@dataclass(frozen=True)
class TermHit:
    """A vocabulary term found in the caption (or transcript)."""

    term: Term
    span: Span  # offsets into the original text
    text: str


@dataclass(frozen=True)
class Analysis:
    """Everything the rule kinds need to judge one post under one pack."""

    post: Post
    pack: Pack
    norm: Normalized
    anatomy: Anatomy
    language: str | None
    sponsorship: Sponsorship
    connections: frozenset[str]
    disclosures: tuple[Disclosure, ...]
    negations: tuple[TermHit, ...]
    fold: int | None
    # None when there is no transcript; else the clear disclosures found in it.
    transcript_disclosures: tuple[TermHit, ...] | None

    @property
    def label(self) -> bool:
        """True when the platform's paid-partnership label is on."""
        return bool(self.post.paid_partnership)

    @property
    def label_counts(self) -> bool:
        """True when the label is on and this pack accepts it as a disclosure."""
        return self.label and self.pack.label_accepted

    @property
    def clear(self) -> tuple[Disclosure, ...]:
        """Clear disclosures in the caption."""
        return tuple(d for d in self.disclosures if d.clarity == "clear")

    @property
    def ambiguous(self) -> tuple[Disclosure, ...]:
        """Ambiguous disclosures in the caption."""
        return tuple(d for d in self.disclosures if d.clarity == "ambiguous")

    def candidates(self) -> tuple[Disclosure, ...]:
        """The disclosures placement and language are judged on: the clear ones, else the ambiguous."""
        return self.clear or self.ambiguous

    def suggestion(self) -> str:
        """The disclosure to suggest, in the post's language when the pack has one."""
        lang = self.language or self.pack.default_language
        return self.pack.suggestions.get(lang) or self.pack.suggestions.get(
            self.pack.default_language, "#ad"
        )


def make_finding(rule: Rule, analysis: Analysis, span: Span | None, **values: Any) -> Finding:
    """A finding for ``rule`` with its message and fix filled in from ``values``."""
    brand = _brand(analysis)
    if isinstance(values.get("suggestion"), str):
        values["suggestion"] = values["suggestion"].replace("{brand}", brand)
    context = _Context(
        {
            "platform": analysis.post.platform,
            "fold": analysis.fold,
            "suggestion": analysis.suggestion().replace("{brand}", brand),
            "language": LANGUAGE_NAMES.get(analysis.language or "", analysis.language or "unknown"),
            "label": analysis.pack.label_name,
            "brand": brand,
            **values,
        }
    )
    return Finding(
        rule=rule.id,
        code=rule.finding,
        level=rule.level,
        span=span,
        message=rule.message.format_map(context),
        fix=rule.fix.format_map(context),
        source=rule.source,
        name=rule.name,
        provenance=rule.provenance,
    )


def evasion_text(kinds: tuple[str, ...]) -> str:
    """'full-width characters and zero-width (invisible) characters'."""
    return " and ".join(EVASION_LABELS.get(k, k) for k in kinds)


def _brand(analysis: Analysis) -> str:
    campaign = analysis.post.campaign
    if campaign is not None:
        if campaign.handles:
            return campaign.handles[0]
        if campaign.brand_names:
            return campaign.brand_names[0]
    for tag in analysis.anatomy.mentions:
        return tag.text
    return "the brand"


class _Context(dict):  # type: ignore[type-arg]
    """format_map context that leaves unknown placeholders visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def downgrade(finding: Finding) -> Finding:
    """A violation restated as a warning for a post whose sponsorship is not established."""
    if finding.level is not Level.VIOLATION:
        return finding
    return Finding(
        rule=finding.rule,
        code=finding.code,
        level=Level.WARNING,
        span=finding.span,
        message="If this post is sponsored: " + finding.message,
        fix=finding.fix,
        source=finding.source,
        name=finding.name,
        provenance=finding.provenance,
    )


__all__ = [
    "Analysis",
    "TermHit",
    "downgrade",
    "evasion_text",
    "make_finding",
]
