"""check(): post → facts → rules → findings → verdict. Pure: no network, database, clock or env.

The work per post, cheapest first:
1. fold evasions back to plain text (``normalize``; most captions take a no-op path);
2. find hashtags, mentions, links and hashtag runs (compiled regexes, once);
3. let spaCy tokenise and match the pack's vocabulary in the windows where a term
   could stand (``nlp.TermMatcher``);
4. decide sponsorship from campaign, label and signals (``signals``);
5. run the pack's rules (``kinds``) over the resulting :class:`Analysis`.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import replace

from compliance.analysis import Analysis, TermHit, downgrade
from compliance.kinds import KINDS
from compliance.model import (
    Disclosure,
    Finding,
    Post,
    Signal,
    Sponsorship,
    Verdict,
    VerdictKind,
)
from compliance.nlp import (
    Anatomy,
    Match,
    PatternError,
    TermMatcher,
    Words,
    anatomy,
    at_line_start,
    brand_like,
    compile_term,
    detect_language,
    might_link,
)
from compliance.normalize import EMOJI_GLUED, EvasionIndex, Normalized, normalize
from compliance.packs import Pack, PackError, Packs, Term, load_packs
from compliance.signals import assess, might_offer_code

_SIGNAL_KIND = {
    "free_product": "gifted",
    "paid": "partnership",
    "affiliate": "affiliate",
    "employee": "employment",
    "family": "family",
    "contest": "contest",
    "any": "sponsorship_cue",
}

_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "‘": "’", "'": "'", "‹": "›"}


class _PackMatchers:
    """The compiled spaCy matchers of each pack, built on first use and kept while the pack lives.

    Keyed by ``id(pack)`` because a lookup happens for every post and a Pack is not
    hashable (it holds dicts). An id is only unique while its object lives, and a
    long-running daemon reloads its packs: so each entry is dropped the moment its
    pack is freed (``weakref.finalize``), before Python can hand the id to a new
    pack, which then gets a matcher for its own vocabulary.
    """

    def __init__(self) -> None:
        self._cache: dict[int, TermMatcher] = {}

    def __len__(self) -> int:
        return len(self._cache)

    def holds(self, pack_id: int) -> bool:
        """True while a matcher is kept for the pack whose ``id()`` this is."""
        return pack_id in self._cache

    def get(self, pack: Pack) -> TermMatcher:
        key = id(pack)
        matcher = self._cache.get(key)
        if matcher is None:
            lang = pack.default_language
            compiled = []
            for t in pack.terms:
                try:
                    compiled.append(compile_term(t.key, t.pattern, lang))
                except PatternError as exc:
                    # Only the pack's tokenizer can tell, e.g., that an alternative
                    # splits into two tokens; say where the term is written.
                    raise PackError(t.where, f"term {t.pattern!r}: {exc}") from exc
            matcher = TermMatcher(compiled, lang)
            self._cache[key] = matcher
            weakref.finalize(pack, self._cache.pop, key, None)
        return matcher


_MATCHERS = _PackMatchers()


def check(post: Post, packs: Packs | None = None) -> Verdict:
    """Judge one post under the pack of its jurisdiction (default US/FTC).

    Raises KeyError (with the available jurisdictions) for a jurisdiction
    without a pack.
    """
    packs = packs if packs is not None else load_packs()
    pack = packs.for_jurisdiction(post.jurisdiction)
    return check_with_pack(post, pack)


def check_with_pack(post: Post, pack: Pack) -> Verdict:
    """Judge one post under ``pack``."""
    a = analyse(post, pack)
    findings: list[Finding] = []
    if a.sponsorship.value is not False:
        for rule in pack.rules:
            findings.extend(KINDS[rule.kind].evaluate(rule, a))
    if a.sponsorship.value is None:
        findings = [downgrade(f) for f in findings]
    findings.sort(key=lambda f: (f.span[0] if f.span else -1, f.rule))
    if a.sponsorship.value is False:
        kind = VerdictKind.NOT_SPONSORED
    elif a.sponsorship.value is None:
        kind = VerdictKind.NEEDS_REVIEW
    elif any(f.is_violation for f in findings):
        kind = VerdictKind.VIOLATION
    else:
        kind = VerdictKind.COMPLIANT
    return Verdict(
        post=post,
        verdict=kind,
        sponsorship=a.sponsorship,
        language=a.language,
        pack=pack.id,
        disclosures=a.disclosures,
        findings=tuple(findings),
    )


def analyse(post: Post, pack: Pack) -> Analysis:
    """Compute the facts every rule reads."""
    norm = normalize(post.caption)
    text = norm.text
    matcher = _MATCHERS.get(pack)
    words = Words.of(text)
    found = matcher.find(text, words)
    # Asked up to three times per post (the quiet test, lone tags, promo codes): once.
    offers_code = might_offer_code(text, words.lower)
    if not found and _quiet(post, text, offers_code):
        # Nothing that could disclose or show a connection: the common case for
        # ordinary posts, answered without the rest of the work.
        return _not_sponsored(post, pack, norm)

    anat = anatomy(text)
    hits = _filter_hits(text, anat, pack, found)
    negations = [h for h in hits if pack.terms_by_key[h.key].clarity == "negation"]
    negated = _Spans((n.start, n.end) for n in negations)
    ordinary = _Spans(
        (h.start, h.end) for h in hits if pack.terms_by_key[h.key].clarity == "ordinary"
    )
    disclosing = [
        h
        for h in hits
        if pack.terms_by_key[h.key].clarity in ("clear", "ambiguous")
        and not negated.overlaps(h.start, h.end)
        and not ordinary.covers(h.start, h.end)
    ]
    language = post.language
    if language is None and disclosing:
        language = _language(text, words)
    if language is not None:
        # A clear term marked weak is a disclosure only in its own language: "#pub"
        # on an English post about a pub is the pub.
        hits = [h for h in hits if not _foreign_weak(pack.terms_by_key[h.key], language)]
        # Sets, not lists, for membership: a caption can hold tens of thousands of hits.
        kept_hits = set(hits)
        disclosing = [h for h in disclosing if h in kept_hits]
    disclosing = _drop_contained(disclosing, pack, language)
    fold = pack.fold_for(post.platform)
    disclosures: tuple[Disclosure, ...] = ()
    if disclosing:  # most posts have none: skip what only disclosures ask about
        place = _Places(norm)
        disclosures = tuple(
            _disclosure(norm, place, anat, pack, h, fold, post.platform) for h in disclosing
        )

    term_signals: list[tuple[Signal, tuple[str, ...]]] = []
    disclosing_set = set(disclosing)
    for h in hits:
        term = pack.terms_by_key[h.key]
        if (term.clarity in ("clear", "ambiguous") and h not in disclosing_set) or (
            term.clarity == "ordinary"
        ):
            continue
        signal = _signal(term, h, text)
        if signal.strength == "weak" and _tags_named_brand(signal.text, term.pattern, anat):
            # "#teamglowlab ... @glowlab": the tag names a brand the post tags.
            signal = replace(signal, strength="strong")
        term_signals.append((signal, term.covers))
    if _lone_ad_like_tag(post, text, anat, pack, hits, disclosing, offers_code):
        # "#ad #abudhabi #uae": an ad-like tag in a pile of tags, with no advertiser
        # named or tagged and nothing else showing a connection, may be a place or a
        # shop's initials. At most a post for review, never a violation.
        term_signals = [(replace(sig, strength="weak"), covers) for sig, covers in term_signals]
    assessment = assess(post, text, anat, term_signals, words.lower, offers_code)
    sponsorship = _remap(assessment.sponsorship, norm)

    # The language matters only to judge a disclosure; skip the work otherwise.
    if language is None and sponsorship.value is not False:
        language = _language(text, words)
    transcript = None
    if post.transcript is not None:
        transcript = _transcript_disclosures(post.transcript, pack, matcher)
    return Analysis(
        post=post,
        pack=pack,
        norm=norm,
        anatomy=anat,
        language=language,
        sponsorship=sponsorship,
        connections=assessment.connections,
        disclosures=disclosures,
        negations=tuple(
            TermHit(pack.terms_by_key[n.key], norm.to_original(n.start, n.end), _orig_text(norm, n))
            for n in negations
        ),
        fold=fold,
        transcript_disclosures=transcript,
    )


_EMPTY_ANATOMY = Anatomy("")

# The longest tag body that can be an abbreviation of something else ("#AD" Abu
# Dhabi or a shop's initials, "#pub" a pub).
_ABBREVIATION = 3


def _lone_ad_like_tag(
    post: Post,
    text: str,
    anat: Anatomy,
    pack: Pack,
    hits: list[Match],
    disclosing: list[Match],
    offers_code: bool,
) -> bool:
    """True when the post's only sign of a connection is short disclosure tags buried
    in a run of hashtags, with no brand tagged, no link, code, campaign or label.
    ``offers_code`` is ``might_offer_code(text)``."""
    if (
        not disclosing
        or len(hits) != len(disclosing)
        or post.campaign is not None
        or post.paid_partnership
        or anat.mentions
        or anat.urls
        or offers_code
    ):
        return False
    for h in disclosing:
        tag = anat.hashtag_at(h.start) if text.startswith("#", h.start) else None
        if (
            tag is None
            or len(tag.text) - 1 > _ABBREVIATION
            or not any(ch.isalnum() for ch in text[: h.start])
            or anat.run_length(tag) < pack.hashtag_run
        ):
            return False
    return True


def _quiet(post: Post, text: str, offers_code: bool) -> bool:
    """True when nothing but vocabulary could show a connection: no campaign, label,
    transcript, tag, promo code (``offers_code`` is ``might_offer_code(text)``) or link."""
    return (
        post.campaign is None
        and not post.paid_partnership
        and post.transcript is None
        and "@" not in text
        and not offers_code
        and not might_link(text)
    )


# The answer for a quiet post: values, so shared by every such post.
_NO_SPONSORSHIP = Sponsorship(False, ())
_NO_CONNECTIONS: frozenset[str] = frozenset()


def _not_sponsored(post: Post, pack: Pack, norm: Normalized) -> Analysis:
    return Analysis(
        post=post,
        pack=pack,
        norm=norm,
        anatomy=_EMPTY_ANATOMY,
        language=post.language,
        sponsorship=_NO_SPONSORSHIP,
        connections=_NO_CONNECTIONS,
        disclosures=(),
        negations=(),
        fold=pack.fold_for(post.platform),
        transcript_disclosures=None,
    )


# --- Filtering term hits ---------------------------------------------------------------


def _filter_hits(text: str, anat: Anatomy, pack: Pack, found: list[Match]) -> list[Match]:
    """Drop hits inside links, brand-tag look-alikes, quoted speech and questions."""
    out: list[Match] = []
    for m in found:
        term = pack.terms_by_key[m.key]
        if anat.urls and anat.in_url(m.start):
            continue
        if (
            "#" in term.pattern
            and "*" in term.pattern
            and not _brand_tag(text[m.start : m.end], term.pattern)
        ):
            continue
        if term.clarity in ("clear", "ambiguous") and (
            _quoted(text, m.start, m.end) or _questioned(text, m.start, m.end)
        ):
            continue
        out.append(m)
    return out


def _brand_tag(tag: str, pattern: str) -> bool:
    """True when a '#<x>partner'-style tag has a brand-like <x>, not an ordinary word."""
    return brand_like(_tag_core(tag, pattern))


def _tag_core(tag: str, pattern: str) -> str:
    """The <x> of a '#<head><x><tail>' brand tag matched by a star pattern."""
    star = next(w for w in pattern.split() if "*" in w and w != "*")
    head, tail = star.lstrip("^#").split("*")
    body = tag.lstrip("#").lower()
    return body[len(head) : len(body) - len(tail)] if tail else body[len(head) :]


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def _tags_named_brand(tag: str, pattern: str, anat: Anatomy) -> bool:
    """True when a brand-tag hit ('#team<x>') names an account the caption tags (@x)."""
    if not (tag.startswith("#") and "*" in pattern and anat.mentions):
        return False
    core = _tag_core(tag, pattern)
    handles = {_NOT_ALNUM.sub("", t.text[1:].lower()) for t in anat.mentions}
    return any(len(h) >= 3 and (core == h or core in h or h in core) for h in handles)


_SPEECH = re.compile(
    r"(?i)\b(?:said|says|say|asked|asks|ask|commented|comments|wrote|writes|texted|called|"
    r"replied|dm'?d|messaged|like|goes|went|yelled|told me)\W{0,3}$"
)


_QUOTE_OPEN = re.compile("[" + re.escape("".join(_QUOTES)) + "]")

# How far around a hit a quotation is looked for, and how many opening quotes are
# tried: quoted speech in a caption is a sentence or two. Unbounded, each hit cost
# a scan of its whole line, and a caption of 100,000 quote marks took minutes.
_QUOTE_REACH = 300
_QUOTE_OPENINGS = 16
# The longest text _SPEECH can match ("commented" and three more characters), with room.
_SPEECH_REACH = 24
_THREE_WORDS = re.compile(r"\S+\s+\S+\s+\S")


def _quoted(text: str, start: int, end: int) -> bool:
    """True when [start, end) is quoted speech: a quotation of 3+ words, or one introduced by a speech verb."""
    lo = max(0, start - _QUOTE_REACH)
    line_start = text.rfind("\n", lo, start) + 1 or lo
    hi = min(len(text), end + _QUOTE_REACH)
    line_end = text.find("\n", end, hi)
    line_end = hi if line_end == -1 else line_end
    # Nearest opening quote first; the regex finds them at C speed (a character
    # loop over a long line cost more than the rest of the hit's filtering).
    openings = [m.start() for m in _QUOTE_OPEN.finditer(text, line_start, start)]
    closing: dict[str, int] = {}
    for i in reversed(openings[-_QUOTE_OPENINGS:]):
        ch = text[i]
        close = _QUOTES[ch]
        if ch == "'" and i > line_start and text[i - 1].isalnum():
            continue  # an apostrophe, not a quote
        j = closing.get(close)
        if j is None:
            j = closing[close] = text.find(close, end, line_end)
        if j == -1:
            continue
        if _THREE_WORDS.search(text, i + 1, j) or _SPEECH.search(
            text, max(line_start, i - _SPEECH_REACH), i
        ):
            return True
    return False


_SENTENCE_END = re.compile(r"[.!?\n]")


def _questioned(text: str, start: int, end: int) -> bool:
    """True when the hit is asked about ("Is this sponsored?", '"#ad??"'), not stated."""
    if at_line_start(text, start) and not text.startswith("?", end):
        return False  # a label ("Sponsored: ... no notes?") is a statement
    if text.startswith("#", start):
        # A tag is a statement unless a question mark is glued to it.
        return text.startswith("?", end)
    # Only the next 40 characters matter: searching on to the end of a long caption
    # for every hit was quadratic.
    m = _SENTENCE_END.search(text, end, end + 41)
    return bool(m and m.group() == "?")


def _foreign_weak(term: Term, language: str) -> bool:
    """True for a weak clear term in another language than the post's."""
    return (
        term.clarity == "clear" and term.strength == "weak" and term.lang not in (language, "und")
    )


def _drop_contained(hits: list[Match], pack: Pack, language: str | None) -> list[Match]:
    """Keep the longest hit where hits overlap; at equal length prefer clear over
    ambiguous, then a term in the post's language ("#publi" is Spanish and Portuguese)."""

    def rank(m: Match) -> tuple[int, bool, bool, str]:
        term = pack.terms_by_key[m.key]
        # The key last, so that equal candidates are always decided the same way.
        return (m.end - m.start, term.clarity == "clear", term.lang == language, m.key)

    kept: list[Match] = []
    # The kept hits never overlap, so sorted by start their ends ascend too: the one
    # kept hit that could overlap a new one is the last that starts before its end.
    # (Comparing each hit with every kept one was quadratic in a caption of tags.)
    starts: list[int] = []
    ends: list[int] = []
    for m in sorted(hits, key=rank, reverse=True):
        i = bisect_left(starts, m.end)
        if i and ends[i - 1] > m.start:
            continue
        starts.insert(i, m.start)
        ends.insert(i, m.end)
        kept.append(m)
    kept.sort(key=lambda m: m.start)
    return kept


class _Spans:
    """Spans, asked whether a span overlaps one of them or lies inside one, in log time.

    A hostile caption can hold tens of thousands of disclosure hits and as many
    negations; comparing every pair was quadratic.
    """

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        # _reach[i]: the furthest end among the first i + 1 spans (by start).
        self._reach: list[int] = []
        furthest = -1
        for _, e in ordered:
            furthest = max(furthest, e)
            self._reach.append(furthest)

    def overlaps(self, start: int, end: int) -> bool:
        """True when some span has s < end and start < e."""
        i = bisect_left(self._starts, end)
        return i > 0 and self._reach[i - 1] > start

    def covers(self, start: int, end: int) -> bool:
        """True when some span has s <= start and end <= e."""
        i = bisect_right(self._starts, start)
        return i > 0 and self._reach[i - 1] >= end


# --- Building values ---------------------------------------------------------------------


def _orig_text(norm: Normalized, m: Match) -> str:
    s, e = norm.to_original(m.start, m.end)
    return norm.original[s:e]


def _clarity(term: Term, pack: Pack, platform: str) -> str:
    """The term's clarity on this platform: a term clear only on space-limited
    platforms ("#AcmePartner", FTC D101) is ambiguous elsewhere."""
    if term.clear_on == "space_limited" and platform not in pack.space_limited:
        return "ambiguous"
    return term.clarity


_ALNUM = re.compile(r"[^\W_]")  # exactly str.isalnum()


class _Places:
    """What every disclosure of one caption asks about its place, computed once.

    Per disclosure these were a scan of the text before it and of every evasion
    range: quadratic for a caption of tens of thousands of tags.
    """

    def __init__(self, norm: Normalized) -> None:
        first = _ALNUM.search(norm.text)
        # The offset of the first letter or digit in the normalised text.
        self.first_alnum = first.start() if first else len(norm.text)
        self.evasions = EvasionIndex(norm.evasions)


def _disclosure(
    norm: Normalized,
    place: _Places,
    anat: Anatomy,
    pack: Pack,
    m: Match,
    fold: int | None,
    platform: str,
) -> Disclosure:
    term = pack.terms_by_key[m.key]
    start, end = norm.to_original(m.start, m.end)
    caption = norm.original
    first_element = m.start <= place.first_alnum
    if fold is None:
        above = True
    else:
        above = start < fold and caption.count("\n", 0, start) < pack.max_line_breaks
    above = above or first_element
    buried = False
    tag = anat.hashtag_at(m.start) if norm.text.startswith("#", m.start) else None
    if tag is not None and not first_element:
        if pack.max_hashtag_position is not None:
            # The regulator's own number (Italy: "within the first three
            # hashtags") replaces the operational run length.
            buried = tag.nth + 1 > pack.max_hashtag_position
        else:
            buried = anat.run_length(tag) >= pack.hashtag_run
    evasion = place.evasions.kinds_in(m.start, m.end)
    if (
        tag is not None
        and m.end < len(norm.text)
        and unicodedata.category(norm.text[m.end])[0] == "S"
    ):
        evasion = (*evasion, EMOJI_GLUED)
    return Disclosure(
        text=caption[start:end],
        span=(start, end),
        term=term.key,
        clarity=_clarity(term, pack, platform),
        language=term.lang,
        covers=term.covers,
        above_fold=above,
        in_hashtag_block=buried,
        evasion=evasion,
    )


def _signal(term: Term, m: Match, text: str) -> Signal:
    """A sponsorship signal for a vocabulary hit (spans in normalised text until remapped)."""
    matched = text[m.start : m.end]
    if term.clarity == "negation":
        return Signal("negation", (m.start, m.end), matched, "negative")
    if term.clarity == "clear":
        # A disclosure is the creator's own word that the post is sponsored. (A
        # weak clear term only matters in another language: see _foreign_weak.)
        return Signal("disclosure", (m.start, m.end), matched, "strong")
    if term.clarity == "ambiguous":
        return Signal("ambiguous_disclosure", (m.start, m.end), matched, term.strength)
    if term.strength == "weak" and term.covers == ("any",):
        return Signal("brand_tag", (m.start, m.end), matched, "weak")
    kind = _SIGNAL_KIND.get(term.covers[0], "sponsorship_cue")
    return Signal(kind, (m.start, m.end), matched, term.strength)


def _remap(sponsorship: Sponsorship, norm: Normalized) -> Sponsorship:
    """Move signal spans from the normalised text back to the caption, and take each
    signal's text from the caption (the normalised text may differ one for one:
    typographic apostrophes, lone surrogates)."""
    if norm.index is None and norm.text is norm.original:
        return sponsorship
    signals = tuple(
        replace(
            s, span=norm.to_original(*s.span), text=norm.original[slice(*norm.to_original(*s.span))]
        )
        if s.span
        else s
        for s in sponsorship.signals
    )
    return Sponsorship(sponsorship.value, signals)


def _language(text: str, words: Words) -> str | None:
    """The caption's language (None when the caption does not say enough)."""
    lang, _confidence = detect_language(text, words)
    return lang


def _transcript_disclosures(
    transcript: str, pack: Pack, matcher: TermMatcher
) -> tuple[TermHit, ...]:
    """Clear, non-negated disclosures in a video's transcript."""
    norm = normalize(transcript)
    anat = anatomy(norm.text)
    hits = _filter_hits(norm.text, anat, pack, matcher.find(norm.text))
    negations = [h for h in hits if pack.terms_by_key[h.key].clarity in ("negation", "ordinary")]
    out = []
    for h in hits:
        term = pack.terms_by_key[h.key]
        if term.clarity != "clear" or any(n.start < h.end and h.start < n.end for n in negations):
            continue
        out.append(TermHit(term, norm.to_original(h.start, h.end), _orig_text(norm, h)))
    return tuple(out)
