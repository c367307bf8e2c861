"""The only module that imports spaCy: tokenisers, term matchers, caption anatomy, language id.

Why spaCy is used where it is: a blank spaCy tokenizer manages only a few thousand
long, emoji-dense captions a second, far too slow to run over every caption of a
40,000-post check. So the caption's anatomy (hashtags, mentions, links, lines) comes
from a handful of compiled regular expressions, and spaCy tokenises and matches only
the short *windows* around places where a pack term could stand (found by a regex
built from the same terms). Every verdict about wording therefore comes from spaCy's
token patterns; the regular expressions only decide where it is worth looking.

Nothing here downloads anything: pipelines are ``spacy.blank(lang)`` with a tokenizer
tuned for social text (hashtags, mentions and links stay single tokens).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

import spacy
from spacy import attrs
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import (
    compile_infix_regex,
    compile_prefix_regex,
    compile_suffix_regex,
    registry,
)

# Languages with a blank spaCy pipeline we tokenise with; anything else uses the
# multi-language tokenizer, which splits on the same social-text rules.
SPACY_LANGUAGES = frozenset({"en", "de", "fr", "es", "it", "nl", "pt"})

# --- Caption anatomy (regular expressions, run once per caption) -----------------

URL_RE = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"']+|\b(?:[a-z0-9-]+\.)+(?:com|net|org|co|io|me|ly|to|it|shop|store|app|link|de|fr|es|uk|ca|au)(?:/[^\s<>\"']*)?"
)
# Cheap test for "could there be a link here" before the expensive URL regex. It
# starts with a literal '.', which the regex engine finds by a fast scan; an
# alternation with "www." in front would make it try every position.
_URL_HINT = re.compile(
    r"\.(?:com|net|org|co|io|me|ly|to|it|shop|store|app|link|de|fr|es|uk|ca|au)\b",
    re.IGNORECASE,
)
# Tags are found by their sigil and vetted by the character before it in Python
# (a look-behind regex is 3-5x slower on long captions).
# A hashtag runs over letters, digits and underscores, as Instagram and TikTok
# link them. '#' glued to a letter or digit ("love#ad") is not a tag: it is a word
# with a '#' inside; nor is '#' inside a link or after '&' (an HTML entity).
_TAG_BODY = re.compile(r"\w+")
_HANDLE_BODY = re.compile(r"\w(?:[\w.]*\w)?")
# After the '@': a domain makes it an e-mail address, not a tag.
_EMAIL_TAIL = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")


# Characters allowed between hashtags of one run: white space, punctuation and
# emoji, but no word or mention.
_RUN_GAP = re.compile(r"[\W_]*")


class Tag(NamedTuple):
    """A hashtag or mention: its text (with the sigil), span and index among its kind.

    A NamedTuple rather than a dataclass: captions carry dozens of tags and this is
    built for each of them on the hot path.
    """

    text: str
    start: int
    end: int
    # Its position among the caption's tags of its kind (0 = first). Not "index",
    # which would shadow tuple.index.
    nth: int


class Anatomy:
    """Where the hashtags, mentions and links of a caption are, and how hashtags run.

    Links and mentions are found up front (sponsorship signals need them); the
    hashtags and their runs only when first asked for, which most posts never do.
    """

    __slots__ = (
        "_by_start",
        "_hashtags",
        "_runs",
        "_scanned",
        "_tag_ends",
        "_tag_starts",
        "_url_starts",
        "mentions",
        "text",
        "urls",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self.urls: tuple[tuple[int, int], ...] = _links(text) if might_link(text) else ()
        # The links' starts, for a binary search: a caption may hold thousands of
        # links, and every tag and hit asks whether it stands in one.
        self._url_starts: list[int] = [s for s, _ in self.urls]
        self.mentions: tuple[Tag, ...] = self._mentions()
        # The hashtags' spans, found on first use: most posts never ask. A Tag is
        # built only for the tags asked for (usually one, a disclosure): building
        # one for each of a caption's dozens of tags cost more than finding them.
        self._scanned = False
        self._tag_starts: list[int] = []
        self._tag_ends: list[int] = []
        self._by_start: dict[int, int] = {}  # a hashtag's start -> its index
        self._runs: list[tuple[int, int]] = []  # per hashtag: its run's first and last index
        self._hashtags: tuple[Tag, ...] | None = None

    def in_url(self, start: int) -> bool:
        """True when ``start`` falls inside a link."""
        # Links are found left to right and do not overlap: only the last one that
        # starts at or before ``start`` can hold it.
        i = bisect_right(self._url_starts, start) - 1
        return i >= 0 and start < self.urls[i][1]

    # str.find plus a match at each sigil: finditer would build a match object for
    # every tag, which costs more than the rest of the scan together.
    def _mentions(self) -> tuple[Tag, ...]:
        text, urls = self.text, self.urls
        mentions: list[Tag] = []
        i = text.find("@")
        while i != -1:
            m = _HANDLE_BODY.match(text, i + 1)
            if m is not None:
                before = text[i - 1] if i else " "
                # "me@mail.com" is an address; "from@brand" (a lost space) is a tag.
                email = (before.isalnum() or before in "._+-") and _EMAIL_TAIL.match(text, i + 1)
                if not (before in "@/" or email or (urls and self.in_url(i))):
                    mentions.append(Tag(text[i : m.end()], i, m.end(), len(mentions)))
            i = text.find("@", i + 1)
        return tuple(mentions)

    @property
    def hashtags(self) -> tuple[Tag, ...]:
        """The caption's hashtags (not those inside links or glued to a word), in order."""
        if self._hashtags is None:
            self._scan_hashtags()
            text, ends = self.text, self._tag_ends
            self._hashtags = tuple(
                Tag(text[start : ends[n]], start, ends[n], n)
                for n, start in enumerate(self._tag_starts)
            )
        return self._hashtags

    def _scan_hashtags(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        text, urls = self.text, self.urls
        starts, ends = self._tag_starts, self._tag_ends
        i = text.find("#")
        while i != -1:
            m = _TAG_BODY.match(text, i + 1)
            if m is not None:
                before = text[i - 1] if i else " "
                glued = (before.isalnum() or before == "_") and not chained_tag(text, i)
                if not (glued or before in "&#/" or (urls and self.in_url(i))):
                    self._by_start[i] = len(starts)
                    starts.append(i)
                    ends.append(m.end())
            i = text.find("#", i + 1)
        # Each hashtag's run: consecutive tags with only spaces, punctuation or
        # emoji between them. First pass marks where runs start, second stretches
        # each run to its last member.
        firsts: list[int] = []
        first = 0
        for n, start in enumerate(starts):
            if n and not _RUN_GAP.fullmatch(text, ends[n - 1], start):
                first = n
            firsts.append(first)
        runs: list[tuple[int, int]] = [(0, 0)] * len(starts)
        n = len(starts) - 1
        while n >= 0:
            first = firsts[n]
            for j in range(first, n + 1):
                runs[j] = (first, n)
            n = first - 1
        self._runs = runs

    def hashtag_at(self, start: int) -> Tag | None:
        """The hashtag that starts at ``start``, if any."""
        # A lookup, not a scan: asked once per disclosure, and a caption of hashtags
        # can hold tens of thousands of both.
        self._scan_hashtags()
        n = self._by_start.get(start)
        if n is None:
            return None
        if self._hashtags is not None:
            return self._hashtags[n]
        end = self._tag_ends[n]
        return Tag(self.text[start:end], start, end, n)

    def run_length(self, tag: Tag) -> int:
        """How many hashtags stand in the run that holds ``tag``."""
        self._scan_hashtags()
        first, last = self._runs[tag.nth]
        return last - first + 1


def chained_tag(text: str, i: int) -> bool:
    """True when the '#' at ``i`` follows another tag with no space ("#granola#sponsored"):
    platforms link each tag of such a chain, unlike a '#' inside a word ("love#ad")."""
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "_"):
        j -= 1
    return j < i and j > 0 and text[j - 1] == "#"


def might_link(text: str) -> bool:
    """Cheap pre-test: could ``text`` hold a link?"""
    return "." in text and (
        "://" in text
        or _URL_HINT.search(text) is not None
        or any(w in text for w in ("www.", "WWW.", "Www."))
    )


# Every link holds a '.' or a ':' ("https://", "www.", "shop.com"), and none holds
# white space.
_LINK_MARK = re.compile(r"[.:]")
_NON_SPACE = re.compile(r"\S*")


def _links(text: str) -> tuple[tuple[int, int], ...]:
    """The spans of URL_RE's matches in ``text``, scanning only the words that hold a
    '.' or ':'.

    URL_RE opens with a word boundary, so the regex engine tries it at every position
    of the caption (~20 us for one with a link). No match holds white space nor looks
    past its own end, and a boundary looks at the character before the scan's start:
    so the matches in the runs of non-space characters are the matches in the text.
    Each character is looked at a bounded number of times: linear in any caption.
    """
    spans: list[tuple[int, int]] = []
    mark = _LINK_MARK.search(text)
    done = 0  # everything before this is scanned
    while mark is not None:
        start = mark.start()
        while start > done and not text[start - 1].isspace():
            start -= 1
        run = _NON_SPACE.match(text, mark.end())
        end = run.end() if run is not None else len(text)
        spans.extend(m.span() for m in URL_RE.finditer(text, start, end))
        done = end
        mark = _LINK_MARK.search(text, end)
    return tuple(spans)


def anatomy(text: str) -> Anatomy:
    """The anatomy of ``text`` (hashtags, mentions, links, hashtag runs)."""
    return Anatomy(text)


# --- spaCy pipelines ------------------------------------------------------------


_LEX_ATTRS = (
    attrs.LOWER, attrs.LIKE_NUM, attrs.IS_ALPHA, attrs.IS_DIGIT, attrs.IS_LOWER,
    attrs.IS_UPPER, attrs.IS_TITLE, attrs.IS_PUNCT, attrs.IS_SPACE,
)  # fmt: skip


_EMOJI_TAIL = "[\u200d\ufe00-\ufe0f\u20e3]"
_EMOJI_CHAR = "[\u200d\ufe00-\ufe0f\u20e3\u2600-\u27bf\U0001f000-\U0001faff]"


def _social_tokenizer(nlp: Language) -> Tokenizer:
    """The language's tokenizer, changed to keep tags and links whole."""
    # Creating a lexeme for every new word computes ~25 lexical attributes; the
    # term patterns use a handful, and captions bring new words (handles, codes,
    # numbers) without end, so keep only those.
    vocab: Any = nlp.vocab  # spaCy's stubs do not declare lex_attr_getters
    getters = vocab.lex_attr_getters
    vocab.lex_attr_getters = {k: getters[k] for k in _LEX_ATTRS if k in getters}
    defaults = nlp.Defaults
    # '#' and '@' must not be split off: "#ad" is one token, "#adventure" another.
    # Variation selectors, joiners and keycaps end emoji ("❤️", "🏃‍♀️"); glued to a
    # tag ("❤️#ad") they would stay on the tag's token and hide it.
    prefixes = [
        *(p for p in defaults.prefixes or () if p not in ("#", "@")),
        _EMOJI_TAIL,
    ]
    # Split punctuation or emoji glued before a tag: "Ad,#sp" -> "Ad" "," "#sp",
    # "love🔥#ad" -> "love🔥" "#ad".
    # A bar between words is a label's separator glued to the next word ("AD|New
    # serum"), never part of a word.
    infixes = [
        *(defaults.infixes or ()),
        rf"(?:[,;!?.:|)\]]|{_EMOJI_CHAR})(?=[#@])",
        r"(?<=\w)\|(?=\w)",
    ]
    return Tokenizer(
        nlp.vocab,
        rules=defaults.tokenizer_exceptions,
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(defaults.suffixes or ()).search,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=re.compile(r"^[#@][\w.]*\w$").match,
        url_match=defaults.url_match,
    )


@registry.tokenizers("compliance.social_tokenizer.v1")
def _social_tokenizer_factory() -> Callable[[Language], Tokenizer]:
    """spaCy's registry entry for the social tokenizer, so that spacy.blank builds it
    directly instead of building the default one first (its special cases cost a
    noticeable part of start-up)."""
    return _social_tokenizer


@cache
def pipeline(lang: str) -> Language:
    """A blank spaCy pipeline for ``lang`` whose tokenizer keeps tags and links whole.

    Cached: building one costs tens of milliseconds, and the vocab it owns is
    shared with the matchers compiled for it.
    """
    code = lang if lang in SPACY_LANGUAGES else "xx"
    nlp = spacy.blank(
        code, config={"nlp": {"tokenizer": {"@tokenizers": "compliance.social_tokenizer.v1"}}}
    )
    return nlp


# --- Term patterns --------------------------------------------------------------
#
# A pack writes its terms in a small pattern language, compiled here to spaCy
# Matcher patterns (one token dict per word):
#   word          the word, any case ("sponsored", "#ad", "ad:" is "ad" then ":")
#   {brand}       one token naming a brand: a @mention, or a capitalised word
#   {handle}      one @mention
#   {any}         any one token; {any:0-3} between 0 and 3 tokens
#   {num}         a number
#   #*partner     a hashtag ending in "partner" (the * is one or more letters)
#   a|b           either word
#   ^             (first) the term counts only at the start of the caption or of a line
#
# A term's "anchor" is its most distinctive literal; the regex made of all anchors
# finds the windows worth tokenising.

# Capitalised words that start sentences but never name a brand ("My partner").
_NOT_BRAND_WORDS = (
    "my|your|our|his|her|their|its|the|a|an|this|that|these|those|i|we|you|he|she|they|it|"
    "me|us|them|mom|mum|dad|mama|papa|grandma|grandpa|nana|sister|brother|husband|wife|"
    "boyfriend|girlfriend|babe|baby|family|friend|friends|god|everyone|everybody|all|"
    "best|business|life|crime|dance|gym|workout|travel|new|old|true|real|so|and|but|or|"
    "huge|big|special|massive|sincere|many|thanks|thank|also|just|really|again"
)
_BRAND_TOKEN = rf"^(?!(?i:{_NOT_BRAND_WORDS})$)(?:@[\w.]*\w|[A-Z0-9][\w'’&.-]*)$"
_HANDLE_TOKEN = r"^@[\w.]*\w$"
# Words too common to be a term's anchor: a window per "is" would tokenise half
# of every caption.
_COMMON = frozenset(
    "is was are were been being be not no my the a an for me i own to of with by from and it "
    "this that you your our post video content get got make made have has had on in at "
    "'s 's n't am 'm one thank thanks work works working link links shop store runs nobody "
    "free new love day time good like just all so more out up about what can will do did "
    "give gave sent send us we they them he she his her him its than then when who".split()
)
_PLACEHOLDER = re.compile(r"^\{(brand|handle|any|num)(?::(\d+)-(\d+))?\}$")


class PatternError(ValueError):
    """A term whose pattern cannot be compiled; the message says what is wrong."""


@dataclass(frozen=True)
class CompiledTerm:
    """A term ready for matching: its spaCy token pattern and its regex anchor."""

    key: str
    pattern: tuple[dict[str, Any], ...]
    # The term's most distinctive token: its words (several for "a|b"), or a tag
    # shape "#head*tail".
    anchor: tuple[str, ...]
    at_start: bool
    # Characters the rest of the term may take before and after its anchor.
    reach: tuple[int, int] = (60, 60)
    # The anchor is the term's first token and the term must open a line.
    anchor_first: bool = False

    @property
    def needs(self) -> tuple[tuple[str, ...], ...]:
        """Strings the lower-cased text around a match must contain, each as its choices.

        A necessary condition, checked with C-speed substring tests before a window
        is tokenised: a token whose LOWER is "free" cannot match where "free" is not
        a substring, and a {handle} needs an '@'. Optional tokens need nothing.
        """
        needs: list[tuple[str, ...]] = []
        for spec in self.pattern:
            if str(spec.get("OP", "")).startswith("{0"):
                continue
            value = spec.get("LOWER")
            if isinstance(value, str):
                needs.append((value,))
            elif isinstance(value, dict) and "IN" in value:
                needs.append(tuple(value["IN"]))
            elif spec.get("TEXT") == {"REGEX": _HANDLE_TOKEN}:
                needs.append(("@",))
        return tuple(needs)

    @property
    def literal_words(self) -> tuple[str, ...] | None:
        """The lower-case words when the pattern is plain words (PhraseMatcher material)."""
        words = []
        for spec in self.pattern:
            value = spec.get("LOWER")
            if len(spec) != 1 or not isinstance(value, str):
                return None
            words.append(value)
        return tuple(words)


def validate_pattern(pattern: str) -> None:
    """Check a term's syntax without building a tokenizer; raises PatternError.

    Used when packs load, so that start-up does not pay for spaCy pipelines of
    languages no post needs (the French one alone takes seconds to import).
    """
    _parse(pattern, None)


def compile_term(key: str, pattern: str, lang: str) -> CompiledTerm:
    """Compile one term of the pattern language for the ``lang`` tokenizer."""
    return _parse(pattern, pipeline(lang), key)


def _parse(pattern: str, nlp: Language | None, key: str = "") -> CompiledTerm:
    text = pattern.strip()
    at_start = text.startswith("^")
    if at_start:
        text = text[1:].strip()
    if not text:
        raise PatternError("empty pattern")
    tokens: list[dict[str, Any]] = []
    # How many characters each token may take, to size the window around an anchor.
    widths: list[int] = []
    anchors: list[tuple[int, tuple[str, ...], int]] = []  # (score, words, token index)
    literal = False

    def split(word: str) -> list[str]:
        # A literal may tokenise into several tokens ("ad:" -> "ad", ":").
        return [t.lower_ for t in nlp.make_doc(word)] if nlp is not None else [word.lower()]

    for word in text.split():
        ph = _PLACEHOLDER.match(word)
        if ph:
            kind, lo, hi = ph.groups()
            if kind == "brand":
                spec: dict[str, Any] = {"TEXT": {"REGEX": _BRAND_TOKEN}}
            elif kind == "handle":
                spec = {"TEXT": {"REGEX": _HANDLE_TOKEN}}
            elif kind == "num":
                spec = {"LIKE_NUM": True}
            else:
                spec = {}
            if lo is not None:
                if int(lo) > int(hi):
                    raise PatternError(f"bad range in {word!r}")
                spec = {**spec, "OP": f"{{{lo},{hi}}}"}
            tokens.append(spec)
            widths.append({"brand": 32, "handle": 32, "num": 12}.get(kind, 20) * int(hi or 1))
            continue
        if word.startswith("{") or word.endswith("}"):
            raise PatternError(
                f"unknown placeholder {word!r} (use {{brand}}, {{handle}}, {{any}}, {{num}})"
            )
        literal = True
        if "*" in word and word != "*":  # a lone "*" is the literal asterisk ("*affiliate")
            if not word.startswith("#") or word.count("*") != 1:
                raise PatternError(f"'*' is only allowed once, inside a hashtag: {word!r}")
            head, tail = word[1:].split("*")
            regex = f"(?i)^#{re.escape(head)}\\w+{re.escape(tail)}$"
            anchors.append(
                (len(head) + len(tail) + 5, (f"#{head.lower()}*{tail.lower()}",), len(tokens))
            )
            tokens.append({"TEXT": {"REGEX": regex}})
            widths.append(0)  # the tag itself is the anchor's own span
            continue
        # "a|b" is a choice; a lone "|" (as in "Ad | ...") is the literal bar.
        choices = word.split("|") if all(word.split("|")) else [word]
        if len(choices) > 1:
            toks = [split(c) for c in choices]
            if any(len(t) != 1 for t in toks):
                raise PatternError(f"alternatives must be single tokens: {word!r}")
            alts = [t[0] for t in toks]
            score = min(len(a) for a in alts) - 2 - (10 if any(a in _COMMON for a in alts) else 0)
            anchors.append((score, tuple(alts), len(tokens)))
            tokens.append({"LOWER": {"IN": alts}})
            widths.append(max(len(a) for a in alts) + 2)
        else:
            parts = split(word)
            for t in parts:
                # The anchor scan sees words (letters, digits, '_', a leading '#'); a
                # token such as "pr-paket" is found by its longest word piece.
                pieces = [p for p in _ANCHOR_WORD.findall(t) if p != "#"]
                if pieces:
                    a = max(pieces, key=len)
                    anchors.append((len(a) - (10 if a in _COMMON else 0), (a,), len(tokens)))
                tokens.append({"LOWER": t})
                widths.append(len(t) + 2)
    if not literal or not anchors:
        raise PatternError("a pattern needs at least one literal word")
    _score, anchor, at = max(anchors, key=lambda a: a[0])
    # A side with no tokens needs no reach: the window around a one-token term is
    # the token itself (widened to whole words), the same text in every post.
    reach = (
        sum(widths[:at]) + 2 if at > 0 else 0,
        sum(widths[at + 1 :]) + 2 if at + 1 < len(widths) else 0,
    )
    return CompiledTerm(key, tuple(tokens), anchor, at_start, reach, at_start and at == 0)


# A word, or a hashtag with its '#'. The same matches as r"#?\w+" (a '#' counts only
# before a word character), written so that a position where no word starts fails
# at once instead of after an optional '#' and a backtrack: ~15% less time over a
# caption, and every caption is scanned.
_ANCHOR_WORD = re.compile(r"\w+|#\w+")

# Words that make "#<x>partner" / "#<x>ambassador" an ordinary word, not a brand
# tag ("#mypartner", "#lifepartner", "#crimepartner").
NOT_BRANDS = frozenset(
    "my your our his her their the a best life crime dance gym workout travel business "
    "study running run climbing training love perfect dream new old true real fitness "
    "sparring tennis hiking yoga chess writing reading book cuddle partner "
    # "#team<x>" of ordinary words, countries and fandoms: no brand behind them.
    "work usa gb uk canada australia spirit building bride groom mates mate player players "
    "member members leader effort goals fam family friends jesus god home night sleep "
    "nosleep edward jacob blue red green pink black white nature summer winter".split()
)


def brand_like(core: str) -> bool:
    """Whether the <x> of a "#<x>partner"-style tag can name a brand (not "gym", "my")."""
    return len(core) >= 2 and core.lower() not in NOT_BRANDS


class Words:
    """A caption lower-cased and cut into words once, shared by the anchor scan and
    language identification (each would otherwise scan the caption again)."""

    __slots__ = ("list", "lower")

    def __init__(self, lower: str, words: list[str]) -> None:
        self.lower = lower
        self.list = words

    @classmethod
    def of(cls, text: str) -> Words:
        """The words of ``text`` (hashtags keep their '#')."""
        lower = text.lower()
        return cls(lower, _ANCHOR_WORD.findall(lower))


class Anchors:
    """Finds where any of a set of terms could stand, by its most distinctive token.

    Each term contributes its longest token that is not a common function word
    (or a hashtag shape for '#*partner' terms). A caption's words are collected
    with one C-speed ``findall`` and intersected with the anchor set, so a caption
    with no anchor costs almost nothing. Over-matching is fine (spaCy decides);
    missing is not. Each hit is reported with its anchor key, so that only the
    patterns anchored there need to run.
    """

    def __init__(self, terms: Iterable[CompiledTerm]) -> None:
        self.words: set[str] = set()
        self.shapes: list[tuple[str, str]] = []
        for term in terms:
            for word in term.anchor:
                if "*" in word:
                    head, tail = word[1:].split("*")
                    self.shapes.append(("#" + head, tail))
                else:
                    self.words.add(word)
        self._tails = tuple({t for _, t in self.shapes if t})
        self._heads = tuple({h for h, t in self.shapes if not t})

    def key(self, word: str) -> str | None:
        """The anchor key ``word`` hits (itself, or its tag shape), or None.

        A tag whose middle is an ordinary word ("#gympartner") fits no shape: no
        term could count it, so it is not worth tokenising.
        """
        if word in self.words:
            return word
        if word.startswith("#") and (word.endswith(self._tails) or word.startswith(self._heads)):
            for h, t in self.shapes:
                if (
                    word.startswith(h)
                    and word.endswith(t)
                    and len(word) > len(h) + len(t)
                    and brand_like(word[len(h) : len(word) - len(t)])
                ):
                    return f"{h}*{t}"
        return None

    def find(self, text: str, words: Words | None = None) -> list[tuple[int, int, str]]:
        """(start, end, anchor key) of every anchor word in ``text``."""
        words = words or Words.of(text)
        lower = words.lower
        if len(lower) != len(text):  # a few characters change length when lower-cased
            keyed = ((m.span(), self.key(m.group().lower())) for m in _ANCHOR_WORD.finditer(text))
            return [(s, e, k) for (s, e), k in keyed if k]
        # One pass over the caption's words, each anchor word or tag shape once. (Not
        # the distinct words: building that set costs more than the repeats, and
        # only language identification, which most posts skip, needs it.)
        anchor_words = self.words
        shapes = bool(self.shapes)
        found: dict[str, str] = {}
        for w in words.list:
            if w in anchor_words:
                found[w] = w
            elif (
                shapes
                and w.startswith("#")
                and (w.endswith(self._tails) or w.startswith(self._heads))
                and w not in found
            ):
                k = self.key(w)
                if k:
                    found[w] = k
        if not found:
            return []
        hits: list[tuple[int, int, str]] = []
        for word, key in found.items():
            # Locate each found word with str.find and check its edges: C-speed,
            # where a second regex pass over the caption would not be.
            i = lower.find(word)
            while i != -1:
                end = i + len(word)
                before_ok = (
                    i == 0
                    or not (lower[i - 1].isalnum() or lower[i - 1] in "_#")
                    or (word[0] == "#" and chained_tag(lower, i))
                )
                after_ok = end == len(lower) or not (lower[end].isalnum() or lower[end] == "_")
                if before_ok and after_ok:
                    hits.append((i, end, key))
                i = lower.find(word, i + 1)
        hits.sort()
        return hits


class Match(NamedTuple):
    """A term found in text: which term and where (offsets into the searched text).

    A NamedTuple (immutable, hashable, built at C speed) like Tag: many are made per caption.
    """

    key: str
    start: int
    end: int


# Windows whose matches are remembered; cleared when full (cheap, and a rebuild
# refills the common ones within a few hundred posts).
_WINDOW_CACHE = 20_000


def _anchor_key(anchor: str) -> str:
    """The key Anchors.find reports for an anchor word or tag shape."""
    return anchor  # words are their own key; shapes are "#head*tail" in both places


class TermMatcher:
    """spaCy matching over windows of a text, for one set of terms and one tokenizer.

    Plain-word terms go to one PhraseMatcher (a hash lookup per token). Terms with
    placeholders, alternatives or tag shapes go to token Matchers grouped by their
    anchor, and a window runs only the Matchers of the anchors found in it: a
    window around "thanks" never pays for the "#*partner" patterns.
    """

    def __init__(self, terms: Sequence[CompiledTerm], lang: str, *, gate: bool = True) -> None:
        """``gate=False`` tokenises every window around an anchor (for tests that
        check the gate changes nothing)."""
        self.lang = lang
        self.nlp = pipeline(lang)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.matchers: dict[str, Matcher] = {}
        self._start_only: set[str] = set()
        # Per anchor key, the reach of the terms that need nothing more than their
        # anchor (always tokenised), and the terms that do: (must open a line,
        # needed strings, reach before, reach after). A window is sized by the
        # terms that could match in it, so the window around "#sp" is the tag
        # alone unless "not a #sp" could be there: the same few windows recur
        # across posts and their matches come from the memo.
        self._base: dict[str, tuple[int, int]] = {}
        self._gated: dict[str, list[tuple[bool, tuple[tuple[str, ...], ...], int, int]]] = {}
        for term in terms:
            needs = term.needs
            for anchor in term.anchor:
                k = _anchor_key(anchor)
                # The anchor itself is found already; keep only the other needs.
                rest = tuple(n for n in needs if anchor not in n)
                if gate and (rest or term.anchor_first):
                    self._gated.setdefault(k, []).append((term.anchor_first, rest, *term.reach))
                else:
                    before, after = self._base.get(k, (-1, -1))
                    self._base[k] = (max(before, term.reach[0]), max(after, term.reach[1]))
            words = term.literal_words
            if words is not None:
                self.phrases.add(term.key, [Doc(self.nlp.vocab, words=list(words))])
            else:
                for anchor in term.anchor:
                    key = (
                        f"#{anchor[1:].split('*')[0]}*{anchor.split('*')[1]}"
                        if "*" in anchor
                        else anchor
                    )
                    matcher = self.matchers.get(key)
                    if matcher is None:
                        matcher = self.matchers[key] = Matcher(self.nlp.vocab, validate=True)
                    matcher.add(term.key, [list(term.pattern)])
            if term.at_start:
                self._start_only.add(term.key)
        self.anchors = Anchors(terms)
        self._cache: dict[tuple[str, frozenset[str]], tuple[tuple[str, int, int], ...]] = {}

    def _match_window(self, window: str, keys: frozenset[str]) -> tuple[tuple[str, int, int], ...]:
        """spaCy's matches in one window, as (term key, start, end) offsets into it.

        Memoised: the same short windows ("#ad", "#sponsored", "Thank you @x")
        recur across thousands of posts. The cache is bounded, so memory stays flat.
        """
        cache_key = (window, keys)
        hit = self._cache.get(cache_key)
        if hit is not None:
            return hit
        doc = self.nlp.make_doc(window)
        matches = list(self.phrases(doc))
        for key in keys:
            matcher = self.matchers.get(key)
            if matcher is not None:
                matches.extend(matcher(doc))
        strings = self.nlp.vocab.strings
        result = tuple(
            (strings[match_id], doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text))
            for match_id, s, e in matches
        )
        if len(self._cache) >= _WINDOW_CACHE:
            self._cache.clear()
        self._cache[cache_key] = result
        return result

    def _extent(
        self,
        key: str,
        text: str,
        lower: str | None,
        a_start: int,
        a_end: int,
        bounds: tuple[int, int],
    ) -> tuple[int, int] | None:
        """(start, end) of the window around one anchor, sized by the terms anchored
        there that could match in it; None when none could."""
        line_start, line_end = bounds
        before, after = self._base.get(key, (-1, -1))
        opens_line: bool | None = None
        for anchor_first, needs, b, a in self._gated.get(key, ()):
            if b <= before and a <= after:
                continue  # the window is as wide already
            if lower is None:  # offsets unreliable: let the term through
                before, after = max(before, b), max(after, a)
                continue
            if anchor_first:
                if opens_line is None:
                    opens_line = at_line_start(text, a_start)
                if not opens_line:
                    continue
            start, end = _widen(
                text, max(line_start, a_start - b), min(line_end, a_end + a), bounds
            )
            if all(any(lower.find(c, start, end) != -1 for c in choices) for choices in needs):
                before, after = max(before, b), max(after, a)
        if before < 0:
            return None
        return _widen(text, max(line_start, a_start - before), min(line_end, a_end + after), bounds)

    def windows(
        self, text: str, words: Words | None = None
    ) -> list[tuple[int, int, frozenset[str]]]:
        """Spans of ``text`` worth tokenising (the line around each anchor, cut to the
        reach of its terms), each with the anchor keys found in it. Terms that could
        not match around an anchor (a needed word is missing, a line-opening term
        not at a line start) neither widen its window nor, if none is left, make
        one: nothing is tokenised for them."""
        spans: list[tuple[int, int, frozenset[str]]] = []
        words = words or Words.of(text)
        # Lower-casing can change the length of a few characters; then the gate
        # would look at the wrong offsets, so it lets everything through.
        lower = words.lower if len(words.lower) == len(text) else None
        for a_start, a_end, key in self.anchors.find(text, words):
            line_start = text.rfind("\n", 0, a_start) + 1
            line_end = text.find("\n", a_end)
            if line_end == -1:
                line_end = len(text)
            if text[a_start] == "#" and a_start and text[a_start - 1].isalnum():
                # A tag in a chain ("#granola#sponsored#vegan"): the tokenizer would
                # see one token, so the tag is its own window.
                tag_end = a_end
                while tag_end < len(text) and (text[tag_end].isalnum() or text[tag_end] == "_"):
                    tag_end += 1
                spans.append((a_start, tag_end, frozenset((key,))))
                continue
            extent = self._extent(key, text, lower, a_start, a_end, (line_start, line_end))
            if extent is None:
                continue
            start, end = extent
            if spans and start <= spans[-1][1]:
                prev = spans[-1]
                spans[-1] = (prev[0], max(end, prev[1]), prev[2] | {key})
            else:
                spans.append((start, end, frozenset((key,))))
        return spans

    def find(self, text: str, words: Words | None = None) -> list[Match]:
        """All term matches in ``text`` (offsets into ``text``), longest first at each place."""
        found: list[Match] = []
        for w_start, w_end, keys in self.windows(text, words):
            for term_key, s, e in self._match_window(text[w_start:w_end], keys):
                start = s + w_start
                if term_key in self._start_only and not at_line_start(text, start):
                    continue
                found.append(Match(term_key, start, e + w_start))
        found = list(dict.fromkeys(found))  # overlapping windows find a term twice
        # Fully ordered (the key breaks ties), so results never depend on set order.
        found.sort(key=lambda m: (m.start, -(m.end - m.start), m.key))
        return found


# How far a window is widened to reach a space. spaCy strips a token's prefixes and
# suffixes one at a time, searching the whole remaining token for each, so a
# hundred thousand characters without a space (quote marks, emoji, punctuation)
# took minutes to tokenise; no word of a caption is anywhere near this long.
_WIDEN_REACH = 64
_WORD_CHAR = re.compile(r"\w")


def _widen(text: str, start: int, end: int, bounds: tuple[int, int]) -> tuple[int, int]:
    """Widen [start, end) to whole words within the line ``bounds``: a window must not
    start or end inside a token ("@koalacampers. Advertising" needs the '.' glued to
    the handle). Where no space is near, the window is cut between a word character
    and a non-word one (or, inside one endless word, at the reach)."""
    line_start, line_end = bounds
    if start > line_start:
        lo = max(line_start, start - _WIDEN_REACH)
        space = text.rfind(" ", lo, start)
        if space != -1 or lo == line_start:
            start = space + 1 if space != -1 else line_start
        else:
            start = _cut_after_word(text, lo, end)
    if end < line_end:
        hi = min(line_end, end + _WIDEN_REACH)
        space = text.find(" ", end, hi)
        if space != -1 or hi == line_end:
            end = space if space != -1 else line_end
        else:
            end = _cut_before_word(text, start, hi)
    return start, end


def _cut_after_word(text: str, lo: int, limit: int) -> int:
    """The first offset from ``lo`` (up to ``limit``) that does not split a word: past
    the word characters at ``lo``, so that no word is cut and read as a shorter one
    ("xxxnot sponsored" as "not sponsored"). Terms start at a word's edge, so this
    never passes the term the window is for."""
    i = lo
    while i < limit and i > 0 and _WORD_CHAR.match(text, i) and _WORD_CHAR.match(text, i - 1):
        i += 1
    return i


def _cut_before_word(text: str, limit: int, hi: int) -> int:
    """The last offset from ``hi`` (down to ``limit``) that does not split a word."""
    i = hi
    while i > limit and _WORD_CHAR.match(text, i - 1) and _WORD_CHAR.match(text, i):
        i -= 1
    return i


_LEADING = re.compile(r"[\W_]*")


def at_line_start(text: str, start: int) -> bool:
    """True when only spaces, punctuation or emoji stand between the line start and ``start``."""
    line_start = text.rfind("\n", 0, start) + 1
    return _LEADING.fullmatch(text, line_start, start) is not None


# --- Language identification ----------------------------------------------------
#
# Offline and fast: a caption is scored against the stop-word lists that ship with
# spaCy's language data, each word weighted by how few languages share it. A
# trained detector (lingua) would be more accurate on very short texts, but on this
# machine it labels ~9,400 captions/s against ~54,000/s for a blank tokenizer, which
# alone would break the throughput budget; captions long enough to matter carry
# plenty of function words.

_DETECT_LANGS = ("en", "de", "fr", "es", "it", "nl", "pt")
# Words that are in spaCy's stop lists but too brand- or slang-like in captions
# to count as evidence of a language.
# Words in spaCy's stop lists that are too short, shared or link-like ("com" is
# Portuguese for "with" and every link's ending) to count as evidence.
_NOISE = frozenset(
    {
        "me",
        "no",
        "a",
        "i",
        "o",
        "e",
        "y",
        "u",
        "de",
        "la",
        "on",
        "in",
        "so",
        "is",
        "com",
        "www",
        "http",
        "https",
        "s",
        "t",
    }
)
_DISTINCTIVE = {
    "en": "the and this my with you it's i'm our your just",
    "de": "ich und nicht ist mit für eine auch das die der",
    "fr": "je les et est pour avec une des du pas ce c'est",
    "es": "el los las y es muy pero mi del está estoy",
    "it": "il gli è per non che questo sono della anche",
    "nl": "ik het een en van niet met voor dit",
    "pt": "eu não você muito com uma os é em da dos das",
}


# Each word's weights, one per language, are packed into one integer in fields of
# _BITS bits, in units of 1/_UNIT (420 is divisible by 1..7, the possible numbers of
# languages sharing a word). One C-level sum over a caption's stop words then adds
# all seven scores at once, and integer sums do not depend on the order they are
# added in, so the answer is the same whatever the set order.
_UNIT = 420
_BITS = 24  # room for 19,000 words of the heaviest weight in one caption
_MASK = (1 << _BITS) - 1
_SHIFTS = tuple((i * _BITS, lang) for i, lang in enumerate(_DETECT_LANGS))


@lru_cache(maxsize=1)
def _stopword_weights() -> dict[str, int]:
    """Each stop word's packed weights (_UNIT/number of languages listing it)."""
    import importlib.util
    from pathlib import Path

    lists: dict[str, frozenset[str]] = {}
    lang_dir = Path(spacy.__file__).parent / "lang"
    for lang in _DETECT_LANGS:
        # Load stop_words.py on its own: importing spacy.lang.fr as a package
        # compiles its tokenizer exceptions, which takes seconds.
        spec = importlib.util.spec_from_file_location(
            f"_compliance_stop_words_{lang}", lang_dir / lang / "stop_words.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        lists[lang] = frozenset(w for w in module.STOP_WORDS if len(w) > 1 or w in "y")
    counts: dict[str, int] = {}
    for words in lists.values():
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    weights: dict[str, dict[str, int]] = {}
    for lang, words in lists.items():
        for w in words:
            if w not in _NOISE:
                weights.setdefault(w, {})[lang] = _UNIT // counts[w]
    # spaCy's lists share many short words across Romance languages; these few
    # are frequent in captions and tell the languages apart, so they weigh more.
    for lang, distinctive in _DISTINCTIVE.items():
        for w in distinctive.split():
            per_lang = weights.setdefault(w, {})
            per_lang[lang] = per_lang.get(lang, 0) + _UNIT
    packed = {
        w: sum(per_lang.get(lang, 0) << shift for shift, lang in _SHIFTS)
        for w, per_lang in weights.items()
    }
    return packed


def detect_language(text: str, words: Words | None = None) -> tuple[str | None, float]:
    """Guess the language of ``text``: (ISO 639-1 code or None when unsure, confidence 0-1).

    Hashtags are ignored: a pile of English tags on a German caption says nothing
    about the audience.
    """
    packed = _stopword_weights()
    # Distinct words are evidence enough: each stop word counts once (hashtags never
    # match: no stop word has a '#'). Only the stop words are kept track of, which
    # costs half of building the set of all distinct words.
    total = 0
    counted: set[str] = set()
    for w in (words or Words.of(text)).list:
        weights = packed.get(w)
        if weights is not None and w not in counted:
            counted.add(w)
            total += weights
    if not total:
        return None, 0.0
    # Highest score first, ties to the alphabetically first language.
    ranked = sorted([(-((total >> shift) & _MASK), lang) for shift, lang in _SHIFTS])
    best_score, best = -ranked[0][0], ranked[0][1]
    second = -ranked[1][0]
    # Under 1.5 words' worth, or under 1.4x the runner-up: not sure enough.
    if best_score * 2 < 3 * _UNIT or best_score * 5 < second * 7:
        return None, 0.0
    confidence = min(1.0, (best_score - second) / best_score) * min(1.0, best_score / (4 * _UNIT))
    return best, round(confidence, 2)
