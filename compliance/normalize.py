"""Undo the tricks that hide a disclosure from scanners, keeping a map back to the original.

Creators (or their agencies) sometimes write ``＃ａｄ`` in full-width letters, put a
zero-width space inside ``#a​d``, swap a Latin ``a`` for the Cyrillic ``а`` or put an
emoji inside the tag. People still read "#ad"; naive scanners do not. We fold those
forms back to plain ASCII so the rules see the disclosure, and we remember where we
did it so the engine can report the evasion itself.

Spans found in the normalised text are mapped back to the caption with
:meth:`Normalized.to_original`; the caption is what users see and what spans index.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from compliance.safe import scrub_surrogates

# Characters that render as nothing. Soft hyphen and word joiner included: all of
# them split a tag for a machine while the reader sees one word.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e")
# Variation selectors only change how the previous emoji is drawn; they carry no
# meaning for matching, so they are dropped without being called an evasion.
_SELECTORS = frozenset(chr(c) for c in range(0xFE00, 0xFE10))

# Cyrillic and Greek letters that look like Latin ones (the common confusables).
_HOMOGLYPHS = {
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "һ": "h",
    "ӏ": "l",
    "ɡ": "g",
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "У": "Y",
    "Х": "X",
    "І": "I",
    "Ј": "J",
    "Ѕ": "S",
    "Ԁ": "D",
    "α": "a",
    "ο": "o",
    "ρ": "p",
    "ν": "v",
    "τ": "t",
    "ι": "i",
    "κ": "k",
    "υ": "u",
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
}

_CYRILLIC_GREEK = "\u0370-\u03ff\u0400-\u052f\u0261"
# Characters worth folding wherever they stand: invisible ones, full-width ASCII,
# circled, mathematical and squared letters.
_ALWAYS = (
    "\u200b\u200c\u2060-\u2064\ufeff\u00ad\u180e"
    "\uff01-\uff5e"  # full-width ASCII
    "\u24b6-\u24e9"  # circled letters
    "\U0001d400-\U0001d7ff"  # mathematical alphanumerics (bold, italic, script ...)
    "\U0001f130-\U0001f189"  # squared / negative squared letters
)
# The gate of the slow path: a character worth folding. Joiners and variation
# selectors are ordinary inside emoji and count only between two Latin letters;
# look-alike letters count only next to a Latin letter or after '#' (a Russian or
# Greek caption is no evasion). One regex opening with a character class, so that
# the regex engine skips to the few candidate characters and vets their neighbours
# itself (a loop vetting each emoji's joiner in Python cost ~40% more).
_SUSPICIOUS = re.compile(
    f"[{_ALWAYS}\u200d\ufe00-\ufe0f{_CYRILLIC_GREEK}]"
    f"(?:(?<=[{_ALWAYS}])"
    "|(?<=[A-Za-z][\u200d\ufe00-\ufe0f])(?=[A-Za-z])"
    f"|(?<=[A-Za-z#][{_CYRILLIC_GREEK}])"
    f"|(?<=[{_CYRILLIC_GREEK}])(?=[A-Za-z]))"
)


def _suspicious(caption: str) -> bool:
    """True when the caption holds a character worth folding (see _SUSPICIOUS)."""
    return _SUSPICIOUS.search(caption) is not None


# The characters the slow path rewrites or drops, one at a time.
_REWRITE = re.compile(
    "[\u200b\u200c\u2060-\u2064\ufeff\u00ad\u180e\uff01-\uff5e\u24b6-\u24e9"
    "\U0001d400-\U0001d7ff\U0001f130-\U0001f189]"
    "|(?<=[A-Za-z])[\u200d\ufe00-\ufe0f]+(?=[A-Za-z])"
)
_WORD = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[A-Za-z]")
# Starts with a literal '#' (not a look-behind) so the regex engine can skip to
# each '#' instead of trying every position. The letters are taken whole by a
# look-ahead and a back-reference (an atomic group; Python 3.10 has no possessive
# '+'): giving letters back could never help, since a letter is no symbol, and
# trying to at every tag of every caption cost twice the scan.
_HASH_INNER_SYMBOL = re.compile(r"#(?=([A-Za-z]+))\1([^\w\s#@]+)(?=[A-Za-z])")

FULLWIDTH = "fullwidth"
INVISIBLE = "zero_width"
HOMOGLYPH = "homoglyph"
STYLISED = "stylised"
EMOJI_INSIDE = "emoji_inside"
EMOJI_GLUED = "emoji_glued"

EVASION_LABELS = {
    FULLWIDTH: "full-width characters",
    INVISIBLE: "zero-width (invisible) characters",
    HOMOGLYPH: "look-alike letters from another alphabet",
    STYLISED: "stylised Unicode letters",
    EMOJI_INSIDE: "an emoji inside the tag",
    EMOJI_GLUED: "an emoji glued to the tag",
}


@dataclass(frozen=True)
class Normalized:
    """A caption folded to plain characters, with the way back to the original offsets."""

    original: str
    text: str
    # index[i] is the original offset of normalised character i; None means identity.
    index: tuple[int, ...] | None
    # (start, end, kind) ranges in the normalised text where an evasion was undone.
    evasions: tuple[tuple[int, int, str], ...] = ()

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span back to a span of the original caption."""
        if self.index is None:
            return start, end
        if start >= len(self.index):
            return len(self.original), len(self.original)
        o_start = self.index[start]
        o_end = self.index[end - 1] + 1 if end > start else o_start
        return o_start, o_end

    def evasions_in(self, start: int, end: int) -> tuple[str, ...]:
        """The kinds of evasion undone inside ``[start, end)`` of the normalised text."""
        return tuple(dict.fromkeys(kind for s, e, kind in self.evasions if s < end and e > start))


class EvasionIndex:
    """:meth:`Normalized.evasions_in` for many spans of one caption, each in log time.

    A caption of tens of thousands of full-width or look-alike tags has as many
    disclosures as evasion ranges; asking each disclosure's range of the whole list
    was quadratic. The ranges are dealt into layers of non-overlapping ranges (a
    range from an emoji inside a tag can overlap the others; there are rarely more
    than two layers), and each layer is searched by bisection.
    """

    def __init__(self, evasions: tuple[tuple[int, int, str], ...]) -> None:
        # Per layer: starts, ends (both ascending: its ranges do not overlap) and the
        # ranges' positions in ``evasions``, which fix the order kinds are reported in.
        self._layers: list[tuple[list[int], list[int], list[int]]] = []
        self._kinds = [kind for _, _, kind in evasions]
        for n, (s, e, _kind) in sorted(enumerate(evasions), key=lambda item: item[1][:2]):
            for starts, ends, order in self._layers:
                if ends[-1] <= s:
                    starts.append(s)
                    ends.append(e)
                    order.append(n)
                    break
            else:
                self._layers.append(([s], [e], [n]))

    def kinds_in(self, start: int, end: int) -> tuple[str, ...]:
        """The same as ``Normalized.evasions_in(start, end)``."""
        found: list[int] = []
        for starts, ends, order in self._layers:
            # The layer's ranges with s < end and e > start are one slice of it.
            found.extend(order[bisect_right(ends, start) : bisect_left(starts, end)])
        found.sort()
        return tuple(dict.fromkeys(self._kinds[n] for n in found))


def _fold_char(ch: str) -> tuple[str, str | None]:
    """Return the replacement for one character and the evasion kind, if any."""
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0), FULLWIDTH
    if 0x24B6 <= code <= 0x24E9 or 0x1D400 <= code <= 0x1D7FF:
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1 and folded.isascii():
            return folded, STYLISED
    if 0x1F130 <= code <= 0x1F149:  # squared capital letters
        return chr(ord("A") + code - 0x1F130), STYLISED
    if 0x1F170 <= code <= 0x1F189:  # negative squared capital letters
        return chr(ord("A") + code - 0x1F170), STYLISED
    return ch, None


def normalize(caption: str) -> Normalized:
    """Fold full-width, stylised, invisible and look-alike characters to plain text.

    Most captions take the fast path (no suspicious character) and are returned
    as they are, without an offset map; the slow path touches only the
    characters it rewrites.
    """
    if caption.isascii():
        return _fold_inner_symbols(Normalized(caption, caption, None))
    original = caption
    # A lone surrogate (JSON's "\ud800", or bytes that were not UTF-8) is no character:
    # the tokenizer cannot even hash it. Read as U+FFFD, one for one, so every offset
    # still points into the caption as given.
    caption = scrub_surrogates(caption)
    if not _suspicious(caption):
        return _fold_inner_symbols(Normalized(original, _plain_quotes(caption), None))

    pieces: list[str] = []
    index: list[int] = []
    marks: dict[int, str] = {}  # normalised offset -> evasion kind
    pos = 0
    out_len = 0
    invisible_before = False
    for m in _REWRITE.finditer(caption):
        if m.start() > pos:
            pieces.append(caption[pos : m.start()])
            index.extend(range(pos, m.start()))
            if invisible_before:
                marks.setdefault(out_len, INVISIBLE)
                invisible_before = False
            out_len += m.start() - pos
        ch = m.group()
        if ch[0] in _INVISIBLE or ch[0] in _SELECTORS:
            # Dropped; the evasion is marked on the characters either side of it.
            if out_len and ch[0] in _INVISIBLE:
                marks.setdefault(out_len - 1, INVISIBLE)
                invisible_before = True
        else:
            folded, kind = _fold_char(ch)
            pieces.append(folded)
            index.append(m.start())
            if kind or invisible_before:
                marks[out_len] = kind or INVISIBLE
            invisible_before = False
            out_len += 1
        pos = m.end()
    pieces.append(caption[pos:])
    index.extend(range(pos, len(caption)))
    if invisible_before and pos < len(caption):
        marks.setdefault(out_len, INVISIBLE)
    text = _plain_quotes("".join(pieces))

    # Look-alike letters count only inside words that also use Latin letters, or
    # inside tags: a Russian or Greek caption must stay Russian or Greek.
    if _HOMOGLYPH_CHARS.search(text):
        out = list(text)
        for m in _WORD.finditer(text):
            word = m.group()
            if not any(c in _HOMOGLYPHS for c in word):
                continue
            tag = m.start() > 0 and text[m.start() - 1] == "#"
            # A tag spelled wholly in look-alikes ("#аd" in Cyrillic) is folded too,
            # but only when every letter has a Latin twin: "#ад" is Russian, not "#ad".
            if not (_LATIN.search(word) or (tag and all(c in _HOMOGLYPHS for c in word))):
                continue
            for j, c in enumerate(word, m.start()):
                if c in _HOMOGLYPHS:
                    out[j] = _HOMOGLYPHS[c]
                    marks[j] = HOMOGLYPH
        text = "".join(out)

    evasions = _ranges(marks)
    return _fold_inner_symbols(Normalized(original, text, tuple(index), evasions))


_HOMOGLYPH_CHARS = re.compile("[" + "".join(_HOMOGLYPHS) + "]")


def _plain_quotes(text: str) -> str:
    """Typographic apostrophes as plain ones ("l’envoi" matches "l'envoi"); same length."""
    return text.replace("’", "'").replace("‘", "'") if "’" in text or "‘" in text else text


def _ranges(marks: dict[int, str]) -> tuple[tuple[int, int, str], ...]:
    """Collapse per-character evasion marks into (start, end, kind) ranges."""
    ranges: list[tuple[int, int, str]] = []
    for i in sorted(marks):
        kind = marks[i]
        if ranges and ranges[-1][2] == kind and ranges[-1][1] == i:
            ranges[-1] = (ranges[-1][0], i + 1, kind)
        else:
            ranges.append((i, i + 1, kind))
    return tuple(ranges)


def _fold_inner_symbols(norm: Normalized) -> Normalized:
    """Drop emoji and symbols put between the letters of a hashtag ("#a🔥d" → "#ad")."""
    text = norm.text
    if "#" not in text or not _HASH_INNER_SYMBOL.search(text):
        return norm
    index = list(norm.index) if norm.index is not None else list(range(len(text)))
    added: list[tuple[int, int, str]] = []
    pieces: list[str] = []
    keep: list[int] = []
    # Where symbols were cut, and how many characters were cut up to each cut's end.
    cut_ends: list[int] = []
    cut_total: list[int] = []
    pos = 0
    removed = 0
    for m in _HASH_INNER_SYMBOL.finditer(text):
        sym_start, sym_end = m.start(2), m.end(2)
        # Only single emoji-like runs: punctuation such as "#black-friday" is a
        # different, legitimate hashtag shape and stays as it is.
        if any(unicodedata.category(c)[0] not in "S" for c in m.group(2) if c not in _SELECTORS):
            continue
        pieces.append(text[pos:sym_start])
        keep.extend(index[pos:sym_start])
        new_pos = sym_start - removed
        added.append((max(new_pos - len(m.group(1)) - 1, 0), new_pos + 1, EMOJI_INSIDE))
        removed += sym_end - sym_start
        cut_ends.append(sym_end)
        cut_total.append(removed)
        pos = sym_end
    if not pieces:
        return norm
    pieces.append(text[pos:])
    keep.extend(index[pos:])

    def moved(offset: int) -> int:
        # An offset of the text before the cuts, in the text after them. (The evasions
        # found before were left at their old offsets: a look-alike "#аd" after a
        # "#a🔥d" lost its mark and passed for a plain disclosure.)
        n = bisect_right(cut_ends, offset)
        shifted = offset - (cut_total[n - 1] if n else 0)
        if n < len(cut_ends):
            # Inside the next cut: at its start.
            cut_start = cut_ends[n] - (cut_total[n] - (cut_total[n - 1] if n else 0))
            shifted = min(shifted, cut_start - (cut_total[n - 1] if n else 0))
        return shifted

    evasions = [(moved(s), moved(e), kind) for s, e, kind in norm.evasions]
    evasions = [(s, e, kind) for s, e, kind in evasions if e > s] + added
    return Normalized(norm.original, "".join(pieces), tuple(keep), tuple(sorted(evasions)))
