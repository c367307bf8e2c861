"""Sponsorship signals: is there a material connection behind this post?

Wording cues ("gifted", "partnered with", "not sponsored") are pack vocabulary and
arrive here as term hits found by spaCy. What lives here is structure that no
vocabulary can express: campaign matching, promo codes, affiliate links, the
platform label, and the decision that combines them.

The decision (../shared/regulatory.md §0): a post violates only when there is a
material connection. Campaign context decides when it is given; otherwise the
platform label and strong caption signals establish sponsorship, explicit
negations ("not sponsored", "I bought it myself") rule it out, and a tagged brand
with nothing else is left for a person to review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from compliance.model import Campaign, Post, Signal, Sponsorship
from compliance.nlp import Anatomy

# "use code MAYA15", "code: SAVE20", "Rabattcode LISA10", "código ANA15", "codice GIO20".
# The word before the code is language data, but it is a closed, structural cue
# (the code itself is what matters), so it is kept with the pattern.
_CODE_WORDS = (
    r"(?:promo|discount|coupon|rabatt|gutschein|voucher)?\s?code|c[oó]digo(?:\s(?:de\s)?descuento)?"
    r"|codice(?:\ssconto)?|code\spromo|cupom|cup[oó]n|kortingscode"
    # "Coupon: BOOK10", "voucher SAVE20", "Promo: GLOW20" (a bare "promo" only
    # before a colon: "promo video" is no offer).
    r"|coupon|voucher|promo(?=\s*:)"
)
PROMO_CODE_RE = re.compile(
    rf"(?i)(?<![\w])(?:{_CODE_WORDS})\b\s*[:\-–=]?\s*[\"'“‘«]?(?P<code>[A-Za-z0-9][A-Za-z0-9_\-]{{2,24}})"
)
# Words that follow "code" in ordinary speech ("dress code", "code of conduct").
_NOT_CODES = frozenset(
    "of is was for and the to in on at a an my your this that below above here there "
    "name names red blue black white works working word words".split()
)
_NOT_CODE_CONTEXT = re.compile(
    r"(?i)\b(?:dress|zip|post|postal|area|source|bar|qr|morse|secret|color|colour|genetic)\s*$"
)
# How far before a code its context word is looked for. Searching from the start
# of the caption for every code was quadratic: a caption of thousands of codes took
# a minute.
_CONTEXT_REACH = 64

AFFILIATE_HOSTS = (
    "amzn.to",
    "amzn.eu",
    "a.co",
    "rstyle.me",
    "shopstyle.it",
    "shopstyle.com",
    "liketk.it",
    "shopltk.com",
    "ltk.app",
    "go.magik.ly",
    "howl.me",
    "howl.link",
    "shareasale.com",
    "awin1.com",
    "linksynergy.com",
    "anrdoezrs.net",
    "jdoqocy.com",
    "tkqlhce.com",
    "dpbolvw.net",
    "kqzyfj.com",
    "skimresources.com",
    "go.skimresources.com",
    "geni.us",
    "fave.co",
    "pxf.io",
    "sjv.io",
    "prf.hn",
    "shop-links.co",
    "collabs.shop",
    "urlgeni.us",
    "mavely.app",
    "mavelyinfluencer.com",
    "shopmy.us",
    "amazon.com/shop",
)
_AFFILIATE_HOST_RE = re.compile(
    r"(?i)(?:^|[/.])(?:" + "|".join(re.escape(h) for h in AFFILIATE_HOSTS) + r")(?:[/?#:]|$)"
)
_AFFILIATE_PARAM_RE = re.compile(
    r"(?i)[?&](?:tag|aff|affid|aff_id|affiliate|affiliate_id|affiliateid|irclickid|clickref|ranmid|raneaid|afftrack|aff_sub)=|utm_medium=(?:affiliate|influencer)|/(?:aff|affiliate)/"
)
# Referral and code parameters of affiliate platforms (Refersion, UpPromote, Impact,
# Post Affiliate Pro, Shopify discount links): a sale through them pays the creator.
_REF_PARAM_RE = re.compile(
    r"(?i)[?&](?:ref|ref_id|refid|ref_code|refcode|referral|referral_code|partner|rfsn|sca_ref|"
    r"irgwc|a_aid|aff_code|afmc|discount|coupon|promo|code|dc)=(?P<value>[^&#\s]*)|/discount/(?P<path>[^/?#\s]+)"
)
# Values that name a page or a channel, not a creator ("?ref=share", Amazon's
# "ref=sr_1_1").
_GENERIC_REF = frozenset(
    "share web app nav home homepage email newsletter footer header menu search social "
    "producthunt hn reddit twitter instagram facebook tiktok youtube bio linkinbio direct "
    "organic button banner sidebar logo".split()
)
# Profile and link-in-bio hosts: a link there carrying the creator's handle is their
# own page, not a commission link.
_PROFILE_HOSTS = re.compile(
    r"(?i)^(?:https?://)?(?:[\w-]+\.)*(?:instagram\.com|tiktok\.com|youtube\.com|youtu\.be|"
    r"twitter\.com|x\.com|facebook\.com|fb\.com|threads\.net|twitch\.tv|linktr\.ee|beacons\.ai|"
    r"patreon\.com|ko-fi\.com|buymeacoffee\.com|pinterest\.com|snapchat\.com|spotify\.com|"
    r"soundcloud\.com|bsky\.app|linkedin\.com|substack\.com|discord\.gg|t\.me)(?:[/?#:]|$)"
)


@dataclass(frozen=True)
class Assessment:
    """The sponsorship answer plus the kinds of connection that were shown."""

    sponsorship: Sponsorship
    connections: frozenset[str]
    # True when campaign context decided (its relationship is authoritative).
    from_campaign: bool


# Substrings of every caption that can offer a code: the words of PROMO_CODE_RE and
# BARE_CODE_RE's anchors, lower-cased.
_CODE_HINTS = (
    "cod", "cód", "cup", "coupon", "voucher", "promo", "checkout", "% off", "%off",
    "kasse", "warenkorb", "pagar", "caja", "paiement", "panier", "cassa",
)  # fmt: skip
# One search for any of them: an alternation of literals lets the regex engine skip
# to the characters they start with, where sixteen substring tests (each converting
# its needle to the caption's wide string kind) cost twice as much.
_CODE_HINT_RE = re.compile("|".join(re.escape(h) for h in _CODE_HINTS))
# The words every PROMO_CODE_RE match contains (lower-cased), found wherever they
# start (a look-ahead, so that overlapping ones are found too), and how far before
# one a match can start ("gutschein code": the longest prefix word and a space).
_CODE_WORD_AT = re.compile("(?=cod|cód|cup|coupon|voucher|promo)")
_CODE_WORD_LEAD = 10


def might_offer_code(text: str, lower: str | None = None) -> bool:
    """Cheap pre-test: could ``text`` offer a promo code at all?

    ``lower`` is ``text.lower()`` when the caller has it already.
    """
    if lower is None:
        lower = text.lower()
    return _CODE_HINT_RE.search(lower) is not None


# A code offered without the word "code": "ARI10 at checkout", "MAYA15 for 15% off",
# "20% off with ARI10". The token must look typed (capitals and a digit), since
# "Summer at checkout" is no code.
_CODE_TOKEN = r"(?P<code>(?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z][A-Z0-9]{2,19})"
BARE_CODE_RE = re.compile(
    rf"(?<![\w@#/.=-]){_CODE_TOKEN}(?![\w@/.-])\s*(?:(?:at|@|in)\s+(?:the\s+)?check\s?-?out"
    # ... and the same in the packs' other languages (at the till / in the basket).
    r"|(?i:an\s+der\s+kasse|im\s+warenkorb|beim\s+checkout|al\s+pagar|en\s+el\s+checkout"
    r"|en\s+la\s+caja|au\s+paiement|au\s+panier|alla\s+cassa|al\s+checkout)"
    rf"|(?:for|=|gets?\s+you|saves?\s+you)\s+(?:an?\s+(?:extra\s+)?)?\d{{1,2}}\s?%)"
    rf"|\d{{1,2}}\s?%\s?off\s+(?:with|w/|using)\s+(?:my\s+)?{_CODE_TOKEN.replace('code', 'code2')}"
)
# Words that make a code the shop's own sale for everyone, not the creator's
# (a code per creator is what pays per sale; "20% off everything" is a sale).
_SHOP_WIDE = re.compile(
    r"(?i)\b(?:site\s?-?wide|store\s?-?wide|shop\s?-?wide|for\s+everyone|everyone\s+gets|all\s+customers|"
    r"public\s+(?:code|sale)|black\s+friday|cyber\s+monday|everything\s+is)\b"
)


# "use code", "my discount code": words saying outright that a token is a code.
_EXPLICIT_CODE = re.compile(r"(?i)(?:use|with|my|promo|discount|coupon|rabatt|gutschein)\W*\w*\W*$")


def promo_codes(
    text: str, lower: str | None = None, offers_code: bool | None = None
) -> list[Signal]:
    """Promo codes offered in the caption ("use code MAYA15").

    ``lower`` (``text.lower()``) and ``offers_code`` (``might_offer_code(text)``) are
    passed by a caller that has computed them already.
    """
    out: list[Signal] = []
    if lower is None:
        lower = text.lower()
    if offers_code is None:
        offers_code = might_offer_code(text, lower)
    if not offers_code:
        return out
    for m in _promo_matches(text, lower):
        code = m.group("code")
        if code.lower() in _NOT_CODES or _NOT_CODE_CONTEXT.search(
            text, max(0, m.start() - _CONTEXT_REACH), m.start()
        ):
            continue
        # A code is a token people type: it carries a digit or capitals, or the
        # caption says outright it is a code ("use code sunshine").
        if not (
            any(c.isdigit() for c in code)
            or code.isupper()
            or _EXPLICIT_CODE.search(text[max(0, m.start() - 25) : m.start() + 5])
        ):
            continue
        out.append(_code_signal(text, m.start("code"), m.end("code"), code))
    if out:
        return out  # one code shows the connection; skip the bare-code scan
    return _bare_codes(text, lower)


def _promo_matches(text: str, lower: str) -> list[re.Match[str]]:
    """``PROMO_CODE_RE.finditer(text)``, trying the regex only where a match can start:
    at most _CODE_WORD_LEAD characters before a code word.

    The regex opens with a look-behind, so a scan tries it at every position of the
    caption (~20 us). Here it is tried in the same order (left to right, on from
    the end of each match) at the few places a match can start, which gives the
    same matches; a look-behind still sees the text before the place it is tried at.
    """
    if len(lower) != len(text):  # lower-casing moved the offsets: scan it all
        return list(PROMO_CODE_RE.finditer(text))
    found: list[re.Match[str]] = []
    match = PROMO_CODE_RE.match
    pos = 0  # every place before this is tried, or inside a match
    for word in _CODE_WORD_AT.finditer(lower):
        at = max(pos, word.start() - _CODE_WORD_LEAD)
        while at <= word.start():
            m = match(text, at)
            if m is None:
                at += 1
            else:
                found.append(m)
                at = m.end()  # a match is never empty
        pos = at
    return found


def _bare_codes(text: str, lower: str) -> list[Signal]:
    """Codes offered without the word "code", looked for only around "checkout" and
    "%" (a regex tried at every position of a long caption costs more)."""
    out: list[Signal] = []
    seen: set[int] = set()
    for anchor in (
        "check",
        "%",
        "kasse",
        "warenkorb",
        "pagar",
        "caja",
        "paiement",
        "panier",
        "cassa",
    ):
        i = lower.find(anchor)
        while i != -1:
            for m in BARE_CODE_RE.finditer(text, max(0, i - 48), min(len(text), i + 48)):
                group = "code" if m.group("code") else "code2"
                if m.start(group) not in seen:
                    seen.add(m.start(group))
                    out.append(_code_signal(text, m.start(group), m.end(group), m.group(group)))
            i = lower.find(anchor, i + 1)
    return out


def _code_signal(text: str, start: int, end: int, code: str) -> Signal:
    """A promo-code signal: strong (a creator's code pays per sale), weak when the
    text around it says the code is the shop's own sale for everyone."""
    shop_wide = _SHOP_WIDE.search(text, max(0, start - 60), end + 60)
    return Signal("promo_code", (start, end), code, "weak" if shop_wide else "strong")


def brand_tags(anatomy: Anatomy, author: str | None) -> list[Signal]:
    """Tagged accounts other than the author: tags are endorsements (D101), but a tag
    alone does not show a material connection, so these are weak signals."""
    own = (author or "").lower().lstrip("@")
    text = anatomy.text
    return [
        Signal("brand_tag", (t.start, t.end), t.text, "weak")
        for t in anatomy.mentions
        if t.text[1:].lower() != own and not _social_tag(text, t.start)
    ]


# Tags that credit or greet a person rather than promote a brand: photo credits
# and greetings. ("with @x" is left out: "obsessed with @brand" is promotion.) Such a tag is no sign of a brand relationship.
_SOCIAL_TAG = re.compile(
    r"(?i)(?:📸|📷|🎥|photo(?:s|graphy)?(?:\s+by|\s+cred(?:it)?)?|pics?(?:\s+by)?|shot\s+by|"
    r"captured\s+by|credits?|\bph\b|me\s+(?:and|&)|happy\s+birthday|bday|"
    r"congrats|congratulations|love\s+you|miss\s+you|cc)\s*[:\-–]?\s*$"
)
# How far before a tag its credit or greeting is looked for.
_SOCIAL_REACH = 30
# The last letters of every _SOCIAL_TAG phrase ("photo", "photos", "by", "cred",
# "credit", "pic", "ph", "and", "&", "you", "cc", ...), with the same case folding.
_SOCIAL_LAST = re.compile(r"(?i)(?:[osydtcu&📸📷🎥]|ph)\Z")


def _social_tag(text: str, start: int) -> bool:
    """True when the tag at ``start`` credits or greets a person: _SOCIAL_TAG matches
    the text just before it.

    The regex tries each of the thirty places before the tag, with a score of
    alternatives at each; but its phrase must end where only spaces and one ':' or
    dash stand before the tag, and most tags follow a word that ends no credit or
    greeting ("obsessed with @x", "from @x"). That end is checked first.
    """
    lo = max(0, start - _SOCIAL_REACH)
    end = start
    while end > lo and text[end - 1].isspace():
        end -= 1
    if end > lo and text[end - 1] in ":-–":
        end -= 1
    while end > lo and text[end - 1].isspace():
        end -= 1
    if _SOCIAL_LAST.search(text, max(lo, end - 2), end) is None:
        return False
    return _SOCIAL_TAG.search(text, lo, start) is not None


def affiliate_links(text: str, anatomy: Anatomy, author: str | None = None) -> list[Signal]:
    """Links through affiliate networks, or carrying an affiliate, referral or code
    parameter, or the creator's own handle: each pays the creator per sale."""
    out: list[Signal] = []
    handle = (author or "").lower().lstrip("@")
    for start, end in anatomy.urls:
        url = text[start:end]
        if _AFFILIATE_HOST_RE.search(url) or _AFFILIATE_PARAM_RE.search(url):
            out.append(Signal("affiliate_link", (start, end), url))
            continue
        ref = _REF_PARAM_RE.search(url)
        if ref is not None:
            value = (ref.group("value") or ref.group("path") or "").lower()
            generic = not value or value in _GENERIC_REF or "_" in value
            out.append(Signal("affiliate_link", (start, end), url, "weak" if generic else "strong"))
        elif len(handle) >= 3 and handle in url.lower() and _carries_handle(url, handle):
            out.append(Signal("affiliate_link", (start, end), url))
    return out


def _carries_handle(url: str, handle: str) -> bool:
    """True when a shop link's path or parameters carry the creator's handle
    ("glowlab.com/maya", "glowlab.com/?utm_source=maya"): a link made for this
    creator. Their own profile and link-in-bio pages do not count."""
    if _PROFILE_HOSTS.match(url):
        return False
    rest = re.sub(r"(?i)^(?:https?://)?[^/?#]*", "", url).lower()
    return any(
        piece == handle or piece.removeprefix("@") == handle
        for piece in re.split(r"[/?&=#]+", rest)
        if piece
    )


@dataclass(frozen=True)
class _CampaignPatterns:
    """A campaign's identifiers, lower-cased once for matching many captions."""

    handles: frozenset[str]
    hashtags: frozenset[str]
    squashed: tuple[str, ...]
    # (signal kind, lower-case words, characters that may not touch a match's start)
    texts: tuple[tuple[str, tuple[str, ...], str], ...]


_NON_WORD = re.compile(r"[^\w]")


@lru_cache(maxsize=1024)
def _campaign_patterns(campaign: Campaign) -> _CampaignPatterns:
    handles = frozenset(h.lower().lstrip("@") for h in campaign.handles)
    hosts = tuple(
        d.lower().removeprefix("https://").removeprefix("http://").removeprefix("www.").strip("/")
        for d in campaign.domains
    )
    texts = (
        ("campaign_brand", tuple(b.lower() for b in campaign.brand_names), "#@"),
        ("promo_code", tuple(c.lower() for c in campaign.promo_codes), ""),
        ("campaign_domain", hosts, "-"),
    )
    return _CampaignPatterns(
        handles=handles,
        hashtags=frozenset(h.lower().lstrip("#") for h in campaign.hashtags),
        squashed=tuple(
            s for s in {_NON_WORD.sub("", b).lower() for b in campaign.brand_names} | handles if s
        ),
        texts=tuple(t for t in texts if t[1]),
    )


def _find_words(
    lower: str, words: Iterable[str], also_not_before: str
) -> Iterator[tuple[int, int]]:
    """Whole-word occurrences of ``words`` in ``lower`` (str.find with edge checks: most
    campaigns are seen on a few posts, where compiling a regex would cost more)."""
    for word in words:
        i = lower.find(word)
        while i != -1:
            end = i + len(word)
            before = lower[i - 1] if i else " "
            after = lower[end] if end < len(lower) else " "
            if not (before.isalnum() or before == "_" or before in also_not_before) and not (
                after.isalnum() or after == "_" or after in also_not_before.replace("#@", "")
            ):
                yield i, end
            i = lower.find(word, i + 1)


def campaign_matches(text: str, anatomy: Anatomy, campaign: Campaign) -> list[Signal]:
    """Places where the caption names the campaign: brand, handle, hashtag, code or domain."""
    p = _campaign_patterns(campaign)
    out: list[Signal] = []
    for tag in anatomy.mentions:
        if tag.text[1:].lower() in p.handles:
            out.append(Signal("campaign_handle", (tag.start, tag.end), tag.text))
    if "#" in text and (p.hashtags or p.squashed):
        for tag in anatomy.hashtags:
            body = tag.text[1:].lower()
            if body in p.hashtags:
                out.append(Signal("campaign_hashtag", (tag.start, tag.end), tag.text))
            elif any(s in body for s in p.squashed):
                out.append(Signal("campaign_brand", (tag.start, tag.end), tag.text))
    if p.texts:
        lower = text.lower()
        for kind, words, not_before in p.texts:
            if len(lower) == len(text):
                spans: Iterable[tuple[int, int]] = _find_words(lower, words, not_before)
            else:  # a few characters change length when lower-cased: use a regex
                alternation = "|".join(re.escape(w) for w in words)
                edge = re.escape(not_before)
                spans = (
                    m.span()
                    for m in re.finditer(rf"(?i)(?<![\w{edge}])(?:{alternation})(?!\w)", text)
                )
            out.extend(Signal(kind, (s, e), text[s:e]) for s, e in spans)
    out.sort(key=lambda s: s.span or (0, 0))
    return out


def assess(
    post: Post,
    text: str,
    anatomy: Anatomy,
    term_signals: Sequence[tuple[Signal, tuple[str, ...]]],
    lower: str | None = None,
    offers_code: bool | None = None,
) -> Assessment:
    """Decide whether ``post`` is sponsored from campaign, label and caption signals.

    ``term_signals`` are the vocabulary hits (disclosures, cues and negations) as
    signals, each with the connection kinds it shows. ``lower`` (``text.lower()``)
    and ``offers_code`` (``might_offer_code(text)``) spare recomputing what the
    caller knows already.
    """
    signals: list[Signal] = []
    connections: set[str] = set()
    campaign = post.campaign

    if post.paid_partnership:
        signals.append(Signal("platform_label", None, "platform paid-partnership label"))
        connections.add("paid")

    if campaign is not None and not campaign.is_empty:
        relationship = campaign.relationship
        matches = campaign_matches(text, anatomy, campaign)
        has_identifiers = bool(
            campaign.brand_names
            or campaign.handles
            or campaign.hashtags
            or campaign.promo_codes
            or campaign.domains
        )
        if relationship == "none":
            # The brand says there is no connection; only the platform label can
            # contradict that (it is the creator's own declaration).
            if post.paid_partnership:
                return Assessment(Sponsorship(True, tuple(signals)), frozenset(connections), False)
            neg = Signal("campaign_relationship", None, "campaign relationship: none", "negative")
            return Assessment(Sponsorship(False, (neg, *matches)), frozenset(), True)
        if matches or not has_identifiers:
            kind = relationship or "paid"
            signals.extend(matches)
            signals.append(Signal("campaign_relationship", None, f"campaign relationship: {kind}"))
            return Assessment(Sponsorship(True, tuple(signals)), frozenset({kind}), True)
        # The campaign is not mentioned: this post may be about something else,
        # so judge it on its own signals.

    signals.extend(brand_tags(anatomy, post.author))
    signals.extend(promo_codes(text, lower, offers_code))
    signals.extend(affiliate_links(text, anatomy, post.author))
    for signal, covers in term_signals:
        signals.append(signal)
        if signal.strength == "strong":
            connections.update(c for c in covers if c != "any")
    if any(s.kind == "affiliate_link" and s.strength == "strong" for s in signals):
        connections.add("affiliate")

    strong = [s for s in signals if s.strength == "strong"]
    negative = [s for s in signals if s.strength == "negative"]
    weak = [s for s in signals if s.strength == "weak"]
    if strong:
        value: bool | None = True
    elif negative:
        value = False
    elif weak:
        value = None
    else:
        value = False
    signals.sort(key=lambda s: s.span or (-1, -1))
    return Assessment(Sponsorship(value, tuple(signals)), frozenset(connections), False)
