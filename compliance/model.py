"""The values that flow through the house: posts and campaigns in, verdicts out.

Everything here is a frozen dataclass so that a verdict can be cached, compared,
stored and sent without anybody changing it on the way. Spans are character
offsets ``(start, end)`` into the post's original caption; line and column are
computed only at the output edge (``compliance.report``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

PLATFORMS = (
    "instagram",
    "tiktok",
    "youtube",
    "facebook",
    "twitter",
    "pinterest",
    "bluesky",
    "mastodon",
    "twitch",
    "other",
)

RELATIONSHIPS = ("paid", "free_product", "affiliate", "employee", "family", "contest", "none")

Span = tuple[int, int]


class Level(str, Enum):
    """How much a finding weighs: only ``violation`` makes a post fail."""

    VIOLATION = "violation"
    WARNING = "warning"
    INFO = "info"


class VerdictKind(str, Enum):
    """The one-word answer for a post."""

    VIOLATION = "violation"
    COMPLIANT = "compliant"
    NEEDS_REVIEW = "needs_review"
    NOT_SPONSORED = "not_sponsored"


# The closed vocabulary of finding codes shared by every pack
# (../shared/regulatory.md, "Finding codes"), plus the two this engine adds:
# ``obfuscated_disclosure`` (a disclosure hidden from scanners with look-alike or
# invisible characters) and ``contradicted_disclosure`` (16 CFR 255.0(f): a
# disclosure "should not be contradicted or mitigated", e.g. "not sponsored" on
# a paid post).
FINDING_CODES = (
    "missing_disclosure",
    "ambiguous_disclosure",
    "buried_in_hashtags",
    "below_fold",
    "language_mismatch",
    "platform_label_only",
    "incomplete_disclosure",
    "video_disclosure_missing",
    "obfuscated_disclosure",
    "contradicted_disclosure",
)


@dataclass(frozen=True)
class Campaign:
    """What the brand knows about a creator's post: who pays, and how to recognise it.

    ``relationship`` is one of :data:`RELATIONSHIPS` or ``None`` (unknown).
    Handles keep their leading ``@``, hashtags their ``#``; matching is
    case-insensitive.
    """

    brand: str | None = None
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    promo_codes: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    relationship: str | None = None

    @property
    def brand_names(self) -> tuple[str, ...]:
        """The brand's name followed by its aliases, empty ones dropped."""
        return tuple(n for n in (self.brand, *self.aliases) if n)

    @property
    def is_empty(self) -> bool:
        """True when the campaign carries no identifier and no relationship."""
        return not (
            self.brand_names
            or self.handles
            or self.hashtags
            or self.promo_codes
            or self.domains
            or self.relationship
        )


@dataclass(frozen=True)
class Post:
    """One piece of content to check. Only ``caption`` is required.

    ``paid_partnership`` is the platform's own branded-content label (``None``
    when the source does not say). ``jurisdiction`` selects the rule pack
    (ISO 3166 alpha-2, default US). ``language`` is a declared language that
    overrides detection when given.
    """

    caption: str
    id: str | None = None
    platform: str = "other"
    author: str | None = None
    url: str | None = None
    posted_at: str | None = None
    paid_partnership: bool | None = None
    is_video: bool | None = None
    transcript: str | None = None
    jurisdiction: str | None = None
    language: str | None = None
    campaign: Campaign | None = None


@dataclass(frozen=True)
class Signal:
    """One piece of evidence that the post has (or lacks) a material connection."""

    kind: str
    span: Span | None
    text: str
    strength: str = "strong"  # strong | weak | negative


@dataclass(frozen=True)
class Sponsorship:
    """Whether the post is sponsored: True, False, or None when it cannot be established."""

    value: bool | None
    signals: tuple[Signal, ...] = ()


@dataclass(frozen=True)
class Disclosure:
    """A disclosure (clear or ambiguous) found in the caption."""

    text: str
    span: Span
    term: str
    clarity: str  # clear | ambiguous
    language: str
    covers: tuple[str, ...]
    above_fold: bool
    in_hashtag_block: bool
    evasion: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """What one rule says about one post."""

    rule: str
    code: str
    level: Level
    span: Span | None
    message: str
    fix: str
    source: str
    name: str = ""
    provenance: str = ""

    @property
    def is_violation(self) -> bool:
        """True when this finding makes the post fail."""
        return self.level is Level.VIOLATION


@dataclass(frozen=True)
class Verdict:
    """All findings for a post plus the sponsorship assessment."""

    post: Post
    verdict: VerdictKind
    sponsorship: Sponsorship
    language: str | None
    pack: str
    disclosures: tuple[Disclosure, ...] = ()
    findings: tuple[Finding, ...] = field(default=())

    @property
    def violations(self) -> tuple[Finding, ...]:
        """The findings at violation level."""
        return tuple(f for f in self.findings if f.is_violation)

    @property
    def codes(self) -> tuple[str, ...]:
        """Distinct finding codes, in order of first appearance."""
        return tuple(dict.fromkeys(f.code for f in self.findings))
