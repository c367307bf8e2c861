"""Hostile captions, the classes of issue 10 ("Hostile and broken input"), generated two ways
from the same pieces:

- :func:`generate` / :func:`hostile_posts`: plain seeded generators (``random.Random``), so
  that ``bench/bench_fuzz.py`` can make 100,000 of them deterministically and fast, without
  hypothesis's search or shrinking;
- :func:`caption_strategy` / :func:`post_strategy`: hypothesis strategies for
  ``tests/test_hostile_engine.py``, which draw the same fragments (so that a failure shrinks
  to a few of them) plus arbitrary Unicode text, lone surrogates included.

Captions are attacker-controlled: these are the shapes an attacker or a broken exporter
sends. Lone surrogates stand for what ``json.loads`` hands over for ``"\\ud800"``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from compliance.model import PLATFORMS, Campaign, Post, campaign_from_mapping
from compliance.packs import load_packs

# Every jurisdiction of every shipped pack: each caption is checked under one of them.
JURISDICTIONS: tuple[str, ...] = load_packs().jurisdictions

# --- Fragments -------------------------------------------------------------------------

WORDS = (
    "loving", "this", "serum", "so", "much", "new", "drop", "link", "in", "bio", "today",
    "honestly", "obsessed", "with", "my", "skin", "routine", "thanks", "to", "the", "team",
    "ad", "add", "adventure", "paid", "partner", "gifted", "sponsored", "not", "is", "this",
)  # fmt: skip
DISCLOSURES = (
    "#ad", "#Ad", "#AD", "#sponsored", "Sponsored", "Ad:", "#paidpartnership",
    "Paid partnership with @glowlab", "#sp", "#spon", "#collab", "#gifted", "#partner",
    "#glowlabpartner", "#Werbung", "Anzeige", "#publicidad", "#publi", "#partenariat",
    "#pubblicità", "#adv", "not sponsored", "#ad?", "is this #ad", "#adventure", "#adidas",
)  # fmt: skip
SIGNALS = (
    "@glowlab", "@acme", "use code MAYA15", "code SAVE20 at checkout", "20% off with MAYA15",
    "https://amzn.to/3xYz", "glowlab.com/?ref=maya", "https://example.com/p?utm_source=ig",
    "thanks @glowlab for the gift", "#glowlab",
)  # fmt: skip
# Look-alikes of "#ad" and "sponsored": Cyrillic/Greek letters, full-width forms,
# stylised (mathematical, circled, squared) letters.
HOMOGLYPHS = (
    "#\u0430d", "#a\u0501", "#\u0430\u0501", "\uff03\uff41\uff44", "#\uff41\uff44", "\uff03ad",
    "\uff03\uff21\uff24", "#\u0455ponsored", "#sp\u043ensored", "\u0405PONSORED",
    "#\U0001d41a\U0001d41d", "#\u24d0\u24d3", "#\U0001f130\U0001f133", "#\u03b1d",
    "\uff33\uff50\uff4f\uff4e\uff53\uff4f\uff52\uff45\uff44",
)  # fmt: skip
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\ufe0f")
BIDI = (
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u200e", "\u200f", "\u061c",
)  # fmt: skip
CONTROLS = (
    *(chr(c) for c in range(0x20)),
    "\x7f",
    *(chr(c) for c in range(0x80, 0xA0)),
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\r\n",
    "\u2028",
    "\u2029",
)
COMBINING = (
    "\u0301", "\u0300", "\u0308", "\u0327", "\u20dd", "\u20e3", "\u0489", "\u036f", "\u1dc0",
)  # fmt: skip
EMOJI = (
    "\U0001f469\u200d\U0001f4bb", "\U0001f3c3\U0001f3fd\u200d\u2640\ufe0f",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308", "\u2764\ufe0f\u200d\U0001f525", "1\ufe0f\u20e3",
    "\U0001f1fa\U0001f1f8", "\U0001f44d\U0001f3ff", "\U0001f525", "\u2728", "\U0001f9f4",
)  # fmt: skip
SCRIPTS = (
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0643\u0645", "\u05e9\u05dc\u05d5\u05dd",
    "\u4f60\u597d\u4e16\u754c", "\u3053\u3093\u306b\u3061\u306f", "\uc548\ub155\ud558\uc138\uc694",
    "\u041f\u0440\u0438\u0432\u0435\u0442 \u0440\u0435\u043a\u043b\u0430\u043c\u0430",
    "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5", "\u0938\u094d\u092a\u0949\u0928\u094d\u0938\u0930",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35", "#\u0440\u0435\u043a\u043b\u0430\u043c\u0430",
    "#\u5e7f\u544a", "#\u0625\u0639\u0644\u0627\u0646",
)  # fmt: skip
QUOTES = ('"', "\u201c", "\u201d", "\u201e", "\u00ab", "\u00bb", "'", "\u2018", "\u2019", "\u2039")
SEPARATORS = (" ", " ", " ", "\n", "\n\n", ", ", ". ", "\t", "", " \u00b7 ", "\n.\n.\n")
# Every lone surrogate is as good as another for the engine; these are the edges.
SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff", "\udcff", "\ud83d")

# A hundred kilobytes: over every platform's limit, the size a hostile or broken
# export sends.
HUGE = 100_000

# What a 100 KB caption is made of: the shapes that were quadratic once (issue 10).
HUGE_UNITS = (
    "#ad", "#ad ", "#sp ", '"', "'", '"#ad ', "\uff03\uff41\uff44 ", "#\u0430d ", "#a\u200bd ",
    "#a\U0001f525d ", "code SAVE10 ", "#ad\n", "@u1 ", "x.com/a ", "not sponsored #ad ",
    "sponsored ", "#ad? ", "#glowlabpartner ", "\u202e#ad\u202c ", "\x1b[31m#ad\x00 ",
    "\U0001f469\u200d\U0001f4bb", "a\u0301", " ", "\n", "x", "#", "@",
)  # fmt: skip

FragmentSource = tuple[str, ...]


def _pick(rng: random.Random, pool: FragmentSource) -> str:
    return pool[rng.randrange(len(pool))]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(_pick(rng, WORDS) for _ in range(n))


def _hashtag_run(rng: random.Random, n: int) -> str:
    tags = [f"#tag{rng.randrange(10**6)}" for _ in range(n)]
    tags.insert(rng.randrange(n + 1), _pick(rng, DISCLOSURES + HOMOGLYPHS))
    return rng.choice((" ", "", "\n", " \U0001f525 ")).join(tags)


def _interleave(rng: random.Random, pool: FragmentSource, rate: float) -> str:
    """A caption of words, disclosures and signals with characters of ``pool`` put
    between and inside them at about ``rate`` per character."""
    base = _mix(rng)
    out: list[str] = []
    for ch in base:
        out.append(ch)
        if rng.random() < rate:
            out.append(_pick(rng, pool))
    return "".join(out)


def _mix(rng: random.Random, pieces: int | None = None) -> str:
    """A caption of ordinary words, disclosures, signals and emoji, in random order."""
    n = pieces if pieces is not None else rng.randrange(1, 12)
    parts: list[str] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.35:
            parts.append(_sentence(rng, rng.randrange(1, 8)))
        elif roll < 0.6:
            parts.append(_pick(rng, DISCLOSURES))
        elif roll < 0.8:
            parts.append(_pick(rng, SIGNALS))
        else:
            parts.append(_pick(rng, EMOJI))
        parts.append(_pick(rng, SEPARATORS))
    return "".join(parts)


def _any_unicode(rng: random.Random) -> str:
    """Code points from the whole range (surrogates included), in a few random shapes."""
    n = rng.randrange(0, 300)
    out = []
    for _ in range(n):
        plane = rng.random()
        if plane < 0.5:
            out.append(chr(rng.randrange(0x20, 0x3000)))
        elif plane < 0.8:
            out.append(chr(rng.randrange(0x3000, 0x10000)))
        else:
            out.append(chr(rng.randrange(0x10000, 0x110000)))
    return "".join(out)


def _huge(rng: random.Random) -> str:
    """About 100 KB: one unit repeated, sometimes two alternating, a disclosure and a brand
    somewhere so that the engine does its whole work."""
    unit = _pick(rng, HUGE_UNITS)
    if rng.random() < 0.3:
        unit += _pick(rng, HUGE_UNITS)
    body = unit * max(1, HUGE // len(unit))
    cut = rng.randrange(len(body) + 1)
    return body[:cut] + " @glowlab #ad " + body[cut:]


def _bidi(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 6)):
        open_, close = _pick(rng, BIDI), _pick(rng, BIDI)
        parts.append(f"{_sentence(rng, 2)} {open_}{_pick(rng, DISCLOSURES)}{close}")
    return " ".join(parts) + " " + _pick(rng, SIGNALS)


def _zero_width(rng: random.Random) -> str:
    tag = list(_pick(rng, DISCLOSURES))
    for _ in range(rng.randrange(1, 4)):
        tag.insert(rng.randrange(len(tag) + 1), _pick(rng, ZERO_WIDTH))
    return f"{_mix(rng, 3)} {''.join(tag)} {_pick(rng, SIGNALS)}"


def _homoglyph(rng: random.Random) -> str:
    return f"{_mix(rng, 3)} {_pick(rng, HOMOGLYPHS)} {_pick(rng, SIGNALS)}"


def _combining(rng: random.Random) -> str:
    tag = _pick(rng, DISCLOSURES)
    marked = "".join(
        ch + "".join(_pick(rng, COMBINING) for _ in range(rng.randrange(0, 3))) for ch in tag
    )
    zalgo = "".join(ch + _pick(rng, COMBINING) * rng.randrange(0, 30) for ch in "zalgo")
    return f"{zalgo} {marked} {_pick(rng, SIGNALS)}"


def _emoji(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 10)):
        e = "".join(_pick(rng, EMOJI) for _ in range(rng.randrange(1, 5)))
        tag = _pick(rng, DISCLOSURES)
        parts.append(rng.choice((e + tag, tag + e, e + " " + tag, tag[:2] + e + tag[2:])))
    return " ".join(parts) + " " + _pick(rng, SIGNALS)


def _mixed_script(rng: random.Random) -> str:
    parts = [_pick(rng, SCRIPTS + DISCLOSURES + HOMOGLYPHS + SIGNALS) for _ in range(8)]
    return _pick(rng, SEPARATORS).join(parts)


def _quotes(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 8)):
        q = _pick(rng, QUOTES)
        parts.append(rng.choice((q * rng.randrange(1, 50), q + _sentence(rng, 3) + q)))
        parts.append(_pick(rng, DISCLOSURES))
    return " ".join(parts) + " " + _pick(rng, SIGNALS)


def _surrogates(rng: random.Random) -> str:
    return _interleave(rng, SURROGATES, 0.05)


def _controls(rng: random.Random) -> str:
    return _interleave(rng, CONTROLS, 0.08)


def _hashtags(rng: random.Random) -> str:
    return f"{_sentence(rng, 5)} @glowlab {_hashtag_run(rng, rng.randrange(50, 3000))}"


def _realistic(rng: random.Random) -> str:
    pools = (ZERO_WIDTH, BIDI, CONTROLS, COMBINING, EMOJI, HOMOGLYPHS, QUOTES, SURROGATES)
    return _interleave(rng, _pick(rng, pools), 0.02)


# Class name -> (generator, weight in a fuzz run). The weights keep the costly classes
# (100 KB captions, runs of thousands of hashtags) rare enough that 100,000 cases run in
# minutes on two cores, and frequent enough that hundreds of each are run.
CLASSES: dict[str, tuple[Callable[[random.Random], str], float]] = {
    "unicode": (_any_unicode, 10),
    "surrogates": (_surrogates, 8),
    "controls": (_controls, 10),
    "bidi": (_bidi, 8),
    "zero_width": (_zero_width, 8),
    "homoglyph": (_homoglyph, 10),
    "combining": (_combining, 6),
    "emoji_zwj": (_emoji, 8),
    "mixed_script": (_mixed_script, 8),
    "quotes": (_quotes, 6),
    "realistic": (_realistic, 14),
    "hashtag_run": (_hashtags, 0.6),
    "huge": (_huge, 0.2),
}


def generate(rng: random.Random, kind: str) -> str:
    """One caption of class ``kind`` (see :data:`CLASSES`)."""
    return CLASSES[kind][0](rng)


def _campaign(rng: random.Random) -> Campaign | None:
    roll = rng.random()
    if roll < 0.6:
        return None
    # The one way to build a campaign, as an input record's "campaign" would.
    return campaign_from_mapping(
        {
            "brand": "GlowLab",
            "handles": ["@glowlab"],
            "hashtags": ["#glowlabpartner"],
            "promo_codes": ["MAYA15"],
            "relationship": rng.choice(("paid", "free_product", "affiliate", "contest", "none")),
        }
    )


def make_post(rng: random.Random, caption: str) -> Post:
    """``caption`` as a post on a random platform, under a random jurisdiction, sometimes
    with a campaign, the paid-partnership label, a video transcript or a declared language."""
    video = rng.random() < 0.1
    return Post(
        caption=caption,
        platform=_pick(rng, PLATFORMS),
        jurisdiction=_pick(rng, JURISDICTIONS),
        paid_partnership=rng.choice((None, None, None, True, False)),
        is_video=video or None,
        transcript=_mix(rng, 2) if video else None,
        language=rng.choice((None,) * 8 + ("en", "de")),
        campaign=_campaign(rng),
    )


def hostile_posts(n: int, seed: int = 0) -> Iterator[tuple[str, Post]]:
    """``n`` (class, post) pairs, the same for the same seed on every machine."""
    rng = random.Random(seed)
    names = list(CLASSES)
    weights = [CLASSES[k][1] for k in names]
    for _ in range(n):
        kind = rng.choices(names, weights)[0]
        yield kind, make_post(rng, generate(rng, kind))


# --- Hypothesis strategies ---------------------------------------------------------------


def caption_strategy(*, runs: bool = False) -> Any:
    """Captions for property tests: fragments of every class joined by separators (these
    shrink to the few fragments that matter), arbitrary Unicode text with lone surrogates
    and controls, and the seeded generators' classes. ``runs`` adds the runs of thousands
    of hashtags. The 100 KB class is left to explicit tests and the bench: hypothesis
    would spend minutes shrinking one."""
    from hypothesis import strategies as st

    fragment = st.one_of(
        st.sampled_from(
            WORDS + DISCLOSURES + SIGNALS + HOMOGLYPHS + EMOJI + SCRIPTS + QUOTES + SURROGATES
        ),
        st.sampled_from(ZERO_WIDTH + BIDI + CONTROLS + COMBINING),
        # Any code point, surrogates included (hypothesis leaves category Cs out by default).
        st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    )
    pieces = st.lists(st.tuples(fragment, st.sampled_from(SEPARATORS)), max_size=25).map(
        lambda parts: "".join(a + b for a, b in parts)
    )
    kinds = [k for k in CLASSES if k != "huge" and (runs or k != "hashtag_run")]
    seeded = st.builds(
        lambda kind, seed: generate(random.Random(seed), kind),
        st.sampled_from(kinds),
        st.integers(0, 2**32 - 1),
    )
    anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
    return st.one_of(pieces, anything, seeded)


def post_strategy(*, runs: bool = False) -> Any:
    """Posts around :func:`caption_strategy`, under every jurisdiction and platform."""
    from hypothesis import strategies as st

    return st.builds(
        lambda caption, seed: make_post(random.Random(seed), caption),
        caption_strategy(runs=runs),
        st.integers(0, 2**32 - 1),
    )
