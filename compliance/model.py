"""The values that flow through the house: posts and campaigns in, verdicts out.

Everything here is a frozen dataclass so that a verdict can be cached, compared,
stored and sent without anybody changing it on the way. Spans are character
offsets ``(start, end)`` into the post's original caption; line and column are
computed only at the output edge (``compliance.report``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import get_close_matches
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

# ``contest``: a branded hashtag challenge or sweepstakes entry (16 CFR 255.5: the
# chance to win is a material connection; "#contest"/"#sweepstakes" disclose it).
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
    case-insensitive. ``starts``/``ends`` (inclusive dates), ``jurisdictions``
    and ``name`` (its key in compliance.yaml) come from configured campaigns;
    the engine does not read them. Build one from a mapping with
    :func:`campaign_from_mapping`.
    """

    brand: str | None = None
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    promo_codes: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    relationship: str | None = None
    starts: date | None = None
    ends: date | None = None
    jurisdictions: tuple[str, ...] = ()
    name: str | None = None

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


# The keys of a campaign mapping (input records, rule examples, compliance.yaml, CLI flags).
CAMPAIGN_KEYS = (
    "brand",
    "aliases",
    "handles",
    "hashtags",
    "promo_codes",
    "domains",
    "relationship",
    "starts",
    "ends",
    "jurisdictions",
    "name",
)
_CAMPAIGN_KEY_SET = frozenset(CAMPAIGN_KEYS)
_RELATIONSHIP_SET = frozenset(RELATIONSHIPS)
# The list keys and the prefix each item is given when it lacks it.
_CAMPAIGN_LISTS = (
    ("aliases", ""),
    ("handles", "@"),
    ("hashtags", "#"),
    ("promo_codes", ""),
    ("domains", ""),
)
# ISO 3166 reserves "UK" for the United Kingdom, whose code is GB; people (and
# the ASA's own domain) write UK, so we fold it rather than refuse it.
JURISDICTION_ALIASES = {"UK": "GB"}


class CampaignError(ValueError):
    """A campaign mapping that does not validate.

    ``key`` is the offending key of the mapping (None: the mapping itself),
    ``problem`` says what is wrong; ``str()`` is ``field 'campaign.key': problem``,
    the wording of the input readers. Callers add where the mapping came from.
    """

    def __init__(self, key: str | None, problem: str, *, field: str = "campaign") -> None:
        self.key = key
        self.problem = problem
        self.field = field if key is None else f"{field}.{key}"
        super().__init__(f"field '{self.field}': {problem}")


def show_value(value: object) -> str:
    """A short, one-line rendering of a bad value for an error message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def normalise_jurisdiction(value: str) -> str | None:
    """``value`` as an upper-case ISO 3166 alpha-2 code, or None if it is not one."""
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    return JURISDICTION_ALIASES.get(code, code)


def campaign_from_mapping(data: Mapping[str, object], *, field: str = "campaign") -> Campaign:
    """THE way to build a :class:`Campaign` from a mapping (an input record's ``campaign``,
    a rule example, a campaign of compliance.yaml, the ``check`` flags).

    Lists may be given as one string; blanks are dropped, handles get their ``@``
    and hashtags their ``#``, domains are lower-cased, the relationship is folded
    (``free product`` → ``free_product``), dates are ISO dates. Raises
    :class:`CampaignError` naming the key (``field`` prefixes it in the message).
    The result may be empty (:attr:`Campaign.is_empty`): callers decide what that means.
    """
    if not data.keys() <= _CAMPAIGN_KEY_SET:
        unknown = sorted(str(k) for k in data if k not in _CAMPAIGN_KEY_SET)
        guess = get_close_matches(unknown[0], CAMPAIGN_KEYS, n=1)
        hint = f"did you mean '{guess[0]}'?" if guess else f"known keys: {', '.join(CAMPAIGN_KEYS)}"
        names = ", ".join(f"'{k}'" for k in unknown)
        raise CampaignError(None, f"unknown key {names} ({hint})", field=field)
    lists = {key: _text_list(data.get(key), key, prefix, field) for key, prefix in _CAMPAIGN_LISTS}
    starts = _date(data.get("starts"), "starts", field)
    ends = _date(data.get("ends"), "ends", field)
    if starts and ends and ends < starts:
        raise CampaignError("ends", f"{ends} is before starts ({starts})", field=field)
    return Campaign(
        brand=_optional_str(data.get("brand"), "brand", field),
        aliases=lists["aliases"],
        handles=lists["handles"],
        hashtags=lists["hashtags"],
        promo_codes=lists["promo_codes"],
        domains=tuple(d.lower() for d in lists["domains"]),
        relationship=_relationship(data.get("relationship"), field),
        starts=starts,
        ends=ends,
        jurisdictions=_jurisdictions(data.get("jurisdictions"), field),
        name=_optional_str(data.get("name"), "name", field),
    )


def _optional_str(value: object, key: str, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CampaignError(key, f"expected a string, got {show_value(value)}", field=field)
    return value.strip() or None


def _relationship(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CampaignError(
            "relationship", f"expected a string, got {show_value(value)}", field=field
        )
    # "free product" and "free-product" are how people write free_product.
    folded = value.strip().lower().replace("-", "_").replace(" ", "_")
    if folded == "":
        return None
    if folded not in _RELATIONSHIP_SET:
        raise CampaignError(
            "relationship",
            f"unknown relationship {value!r} (allowed: {', '.join(RELATIONSHIPS)})",
            field=field,
        )
    return folded


def _text_list(value: object, key: str, prefix: str, field: str) -> tuple[str, ...]:
    """A list of strings or one string; blanks dropped, ``prefix`` ensured."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise CampaignError(
            key, f"expected a string or a list of strings, got {show_value(value)}", field=field
        )
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise CampaignError(
                key, f"item {i + 1} is not a string: {show_value(item)}", field=field
            )
        text = item.strip()
        if not text:
            continue
        if prefix and not text.startswith(prefix):
            text = prefix + text
        out.append(text)
    return tuple(out)


def _date(value: object, key: str, field: str) -> date | None:
    """An ISO date (YAML gives a ``date``; JSON and flags a string)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CampaignError(
        key, f"expected a date such as 2026-03-01, got {show_value(value)}", field=field
    )


def _jurisdictions(value: object, field: str) -> tuple[str, ...]:
    out = []
    for item in _text_list(value, "jurisdictions", "", field):
        code = normalise_jurisdiction(item)
        if code is None:
            raise CampaignError(
                "jurisdictions",
                f"expected 2-letter country codes such as US or GB, got {item!r}",
                field=field,
            )
        out.append(code)
    return tuple(out)


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
