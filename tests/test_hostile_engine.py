"""Hostile captions through the engine (issue 10, "Hostile and broken input").

Property tests (hypothesis) over the classes of ``hostile.py`` — arbitrary Unicode with
lone surrogates, C0/C1 controls, bidi overrides, zero-width characters, look-alike
"#ad"s, combining marks, emoji ZWJ sequences, mixed scripts, under every jurisdiction —
through ``compliance.engine.check`` (what ``compliance check --text`` calls) and every
``--format``. Then the regressions that these tests and ``bench/bench_fuzz.py`` found:
each was a crash or a quadratic slowdown.

``COMPLIANCE_HOSTILE_EXAMPLES`` sets the examples per property (default 120, ~15 s in
all); e.g. ``COMPLIANCE_HOSTILE_EXAMPLES=5000`` for a long run. No test here times
anything: speed is ``bench/bench_fuzz.py``'s business. The slowdowns are pinned by what
made them slow (how much text a window hands spaCy, how many lines of Python run per
caption as it grows) instead.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner
from hostile import CLASSES, HUGE, JURISDICTIONS, generate, make_post, post_strategy
from hypothesis import HealthCheck, given, settings

from compliance.cli import main
from compliance.engine import check
from compliance.excerpt import ELLIPSIS
from compliance.excerpt import excerpt as cut_excerpt
from compliance.model import Level, Post, Verdict, VerdictKind
from compliance.nlp import TermMatcher
from compliance.normalize import EvasionIndex, normalize
from compliance.packs import load_packs
from compliance.report import FORMATS, Renderer
from compliance.safe import terminal_safe
from compliance.serialize import Lines, line_col, verdict_dict

PACKS = load_packs()
T = TypeVar("T")

EXAMPLES = int(os.environ.get("COMPLIANCE_HOSTILE_EXAMPLES", "120"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# What a terminal must never receive raw: C0/C1 controls but tab and newline, DEL,
# bidi controls, lone surrogates (the documented escaping: compliance.safe).
_RAW_TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# What a CSV cell must never hold raw (tab, newline and carriage return are caption text).
_RAW_CSV = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_FORMULA_START = tuple("=+-@\t\r|%")
# Characters the engine folds and must then call an evasion: full-width forms,
# invisible characters, stylised letters (mathematical, circled, squared), and
# Cyrillic/Greek letters (every pack's vocabulary is Latin, so one inside a
# disclosure was folded from a look-alike).
_EVASIVE = re.compile(
    "[\uff01-\uff5e\u200b\u200c\u2060-\u2064\ufeff\u00ad\u180e\u24b6-\u24e9"
    "\U0001d400-\U0001d7ff\U0001f130-\U0001f189\u0370-\u03ff\u0400-\u052f]"
)


def assert_sane(post: Post, *, twice: bool = True) -> Verdict:
    """Check ``post`` and assert every property a hostile caption must not break
    (``twice``: check it again and compare, which 100 KB captions skip for time)."""
    v = check(post, PACKS)
    caption = post.caption
    n = len(caption)

    # The verdict is one of the documented values and agrees with the findings.
    assert isinstance(v.verdict, VerdictKind)
    violations = [f for f in v.findings if f.level is Level.VIOLATION]
    if v.verdict is VerdictKind.NOT_SPONSORED:
        assert v.sponsorship.value is False and not v.findings
    elif v.verdict is VerdictKind.NEEDS_REVIEW:
        assert v.sponsorship.value is None and not violations
    elif v.verdict is VerdictKind.VIOLATION:
        assert v.sponsorship.value is True and violations
    else:
        assert v.sponsorship.value is True and not violations

    # Every span lies inside the caption, and each text is the caption's own.
    for f in v.findings:
        if f.span:
            assert 0 <= f.span[0] <= f.span[1] <= n, f
    for d in v.disclosures:
        assert 0 <= d.span[0] < d.span[1] <= n, d
        assert d.text == caption[d.span[0] : d.span[1]]
    for s in v.sponsorship.signals:
        if s.span:
            assert 0 <= s.span[0] <= s.span[1] <= n, s
            assert s.text == caption[s.span[0] : s.span[1]], s

    # Look-alike disclosures count, and are never silently clean: each carries its
    # evasion, and a post whose rules ran gets the obfuscated_disclosure finding for it
    # (rules/*/obfuscated-disclosure.yaml: "it is counted; but ...").
    flagged = {f.span for f in v.findings if f.code == "obfuscated_disclosure"}
    for d in v.disclosures:
        if _EVASIVE.search(d.text):
            assert d.evasion, d
        if d.evasion and v.sponsorship.value is not False:
            assert d.span in flagged, d

    # The same caption gives the same verdict.
    if twice:
        assert verdict_dict(check(post, PACKS)) == verdict_dict(v)

    for fmt in FORMATS:
        chunk = Renderer(fmt).render(v, "<hostile>").chunk
        chunk.encode("utf-8")  # what every output stream does with it
        if fmt == "text":
            _assert_text_report(chunk, v)
        elif fmt == "csv":
            for row in csv.reader(io.StringIO(chunk)):
                for cell in row:
                    assert not cell.startswith(_FORMULA_START), cell
                    assert not _RAW_CSV.search(cell), cell
        else:
            doc = json.loads(chunk)
            assert len(doc["violations"]) == len(v.findings)
            for f, out in _some(list(zip(v.findings, doc["violations"], strict=True))):
                if f.span:
                    assert out["text"] == caption[f.span[0] : f.span[1]]
                    assert (out["line"], out["col"]) == line_col(caption, f.span[0])
    return v


def _assert_text_report(chunk: str, v: Verdict) -> None:
    """The terminal report: nothing raw, and each finding's excerpt is the caption's text
    around its span (cut with "…" and escaped, as documented in compliance.excerpt)."""
    assert not _RAW_TERMINAL.search(chunk)
    caption = v.post.caption
    for f in _some(v.findings):
        if not f.span:
            continue
        cut = cut_excerpt(caption, f.span, 40, one_line=True)
        start = f.span[0]
        before = cut.before
        if before.startswith(ELLIPSIS) and not caption.endswith(before, 0, start):
            before = before[len(ELLIPSIS) :]
        after = cut.after
        end = start + len(cut.marked)
        if after.endswith(ELLIPSIS) and not caption.startswith(after, end):
            after = after[: -len(ELLIPSIS)]
        assert caption.endswith(before, 0, start)
        assert caption[start:end] == cut.marked
        assert caption.startswith(after, end)
        assert "\n" not in before + cut.marked + after
        assert "    | " + terminal_safe(cut.before + cut.marked + cut.after) in chunk


def _some(items: Sequence[T]) -> Sequence[T]:
    """The first and last 20 of ``items``: what a 100 KB caption's 25,000 findings are
    checked on, so that the checks themselves stay linear."""
    return items if len(items) <= 40 else [*items[:20], *items[-20:]]


@PROPERTY
@given(post_strategy())
def test_hostile_captions_keep_every_property(post):
    assert_sane(post)


@settings(PROPERTY, max_examples=max(10, EXAMPLES // 6))
@given(post_strategy(runs=True))
def test_runs_of_hashtags_keep_every_property(post):
    # The same, with runs of up to thousands of hashtags among the classes.
    assert_sane(post)


def test_an_emoji_inside_a_tag_keeps_the_later_look_alikes_marked():
    # Cutting the emoji out of "#a🔥d" left every evasion found before at its old
    # offset: the Cyrillic "#аd" after it lost its mark and passed for a plain "#ad".
    caption = "#\u0430d #a\U0001f525d #\u0430d @glowlab"
    v = assert_sane(Post(caption=caption, jurisdiction="AU", language="en"))
    assert [d.evasion for d in v.disclosures] == [("homoglyph",), ("emoji_inside",), ("homoglyph",)]
    norm = normalize(caption)
    assert [norm.text[s:e] for s, e, _ in norm.evasions] == ["a", "#ad", "a"]


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_every_jurisdiction_reads_look_alike_disclosures_the_same_way(jurisdiction):
    # Full-width and Cyrillic "#ad" count as disclosures and are reported as obfuscated,
    # under every pack: never a clear disclosure without a word said.
    for caption in (
        "\uff03\uff41\uff44 Loving this serum @glowlab",
        "#\u0430d Loving this @glowlab",
    ):
        v = assert_sane(Post(caption=caption, jurisdiction=jurisdiction))
        assert v.disclosures and v.disclosures[0].evasion, (jurisdiction, caption)
        assert "obfuscated_disclosure" in v.codes, (jurisdiction, caption)


# --- 100 KB captions: the shapes that were quadratic ----------------------------------


@pytest.mark.parametrize(
    "unit",
    ['"', "#ad", "\uff03\uff41\uff44 ", "code SAVE10 ", "#a\U0001f525d ", "#ad\n", "#sp "],
)
def test_a_100_kb_caption_is_checked_and_rendered(unit):
    # Each of these took from a minute to ~40 minutes before (see the regressions below).
    caption = unit * (HUGE // len(unit)) + " @glowlab"
    v = assert_sane(Post(caption=caption, jurisdiction="US"), twice=False)
    assert v.verdict is not VerdictKind.NOT_SPONSORED


def test_spacy_never_gets_a_long_token_to_tokenise():
    # spaCy strips a token's affixes one at a time, searching the rest of the token
    # each time: a window widened to the nearest space handed it 100,000 quote marks
    # (~40 min). Windows now stop 64 characters beyond a term's reach.
    matcher = _matcher_for("US")
    for unit in ('"', "'", "\U0001f525", "!?", "\u00bb", "-_-"):
        text = unit * (20_000 // len(unit)) + "#ad" + unit * (20_000 // len(unit))
        windows = matcher.windows(text)
        assert windows, unit
        assert max(end - start for start, end, _ in windows) < 400, unit


def test_windows_cut_without_splitting_a_word():
    # Cutting a long chunk must not make "xxxnot sponsored" read "not sponsored".
    matcher = _matcher_for("US")
    text = "-" * 500 + "x" * 200 + "not sponsored #ad @glowlab"
    for start, end, _ in matcher.windows(text):
        assert start == 0 or not (text[start - 1].isalnum() and text[start].isalnum())
        assert end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum())
    v = check(Post(caption=text), PACKS)
    assert not any(s.kind == "negation" for s in v.sponsorship.signals)


def _matcher_for(jurisdiction: str) -> TermMatcher:
    """The pack's compiled matcher, as the engine builds it."""
    from compliance.engine import _MATCHERS

    return _MATCHERS.get(PACKS.for_jurisdiction(jurisdiction))


def _python_lines(fn: Callable[[], Any]) -> int:
    """How many lines of the compliance package's Python run during ``fn()``: a measure of
    work that does not depend on the machine or its load."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if "compliance" not in frame.f_code.co_filename:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.skipif(
    not hasattr(check, "__code__"), reason="the engine is mypyc-compiled: no Python lines to count"
)
@pytest.mark.parametrize(
    "unit", ["#ad ", "\uff03\uff41\uff44 ", "not sponsored #ad ", "#ad? ", "#glowlabpartner "]
)
def test_the_work_per_caption_grows_linearly(unit):
    # Each disclosure was compared with every other one (overlaps, containment,
    # 'in disclosing'), with every evasion range and every hashtag before it: 4x the
    # caption was 16x the work. Linear work is 4x; allow some slack, not a square.
    def work(n: int) -> int:
        post = Post(caption=unit * n + "@glowlab", jurisdiction="US")
        return _python_lines(lambda: Renderer("text").render(check(post, PACKS)))

    small, large = work(150), work(600)
    assert large < 6 * small, (small, large)


# --- The indexes that replaced the scans give the scans' answers -------------------------


def test_lines_give_the_same_line_and_column_as_counting():
    rng = random.Random(7)
    for _ in range(200):
        text = "".join(rng.choice("ab\n\r ") for _ in range(rng.randrange(0, 60)))
        lines = Lines(text)
        for offset in range(len(text) + 1):
            assert lines.line_col(offset) == line_col(text, offset), (text, offset)


def test_evasion_index_gives_the_same_kinds_as_the_scan():
    rng = random.Random(11)
    pieces = ["#ad", "\uff03\uff41\uff44", "#a\u200bd", "#\u0430d", "#a\U0001f525d", " ", "x", "#"]
    for _ in range(300):
        caption = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 30)))
        norm = normalize(caption)
        index = EvasionIndex(norm.evasions)
        for start in range(len(norm.text)):
            for end in range(start, min(len(norm.text), start + 6) + 1):
                assert index.kinds_in(start, end) == norm.evasions_in(start, end)


def _naive_excerpt(text: str, span: tuple[int, int], context: int) -> tuple[str, str, str]:
    """excerpt(one_line=True) as it was, scanning the whole line (the reference)."""
    start, end = span
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", start)
    hi = len(text) if hi == -1 else hi
    end = min(max(end, start + 1), hi) if hi > start else start + 1
    left = max(lo, start - context)
    right = min(hi, end + context)
    return (
        (ELLIPSIS if left > lo else "") + text[left:start],
        text[start:end],
        text[end:right] + (ELLIPSIS if right < hi else ""),
    )


def test_bounded_excerpt_is_the_whole_line_excerpt():
    rng = random.Random(3)
    for _ in range(2000):
        text = "".join(rng.choice("ab \n") for _ in range(rng.randrange(0, 40)))
        start = rng.randrange(0, len(text) + 1)
        span = (start, min(len(text), start + rng.randrange(0, 6)))
        context = rng.randrange(0, 8)
        cut = cut_excerpt(text, span, context, one_line=True)
        assert (cut.before, cut.marked, cut.after) == _naive_excerpt(text, span, context)


# --- Crashes ----------------------------------------------------------------------------


def test_a_lone_surrogate_inside_a_term_window_is_checked():
    # spaCy hashes every token as UTF-8: a lone surrogate next to "#ad" crashed check().
    for caption in ("#ad\ud83d @glowlab", "\ud800#sponsored by @glowlab", "#a\udcffd code X1"):
        v = assert_sane(Post(caption=caption))
        assert v.verdict is not None


def test_every_format_writes_a_caption_with_lone_surrogates():
    # A finding's excerpt or text with a lone surrogate raised UnicodeEncodeError while
    # writing the report; now escaped as "\\udcff" (text, CSV) or a JSON escape.
    post = Post(caption="\udcff loving it #s\udcfep #sp @glowlab \ud800", paid_partnership=True)
    v = check(post, PACKS)
    assert v.findings
    for fmt in FORMATS:
        chunk = Renderer(fmt).render(v, "<x>").chunk
        chunk.encode("utf-8")
        if fmt == "text":
            assert "\\udcff loving it" in chunk
    # The surrogate inside "#s?p" reads as a symbol inside the tag (U+FFFD), so the
    # finding's text carries it: JSON escapes it and reads it back as it was.
    doc = json.loads(Renderer("json").render(v).chunk)
    assert doc["violations"][0]["text"] == "#s\udcfep"


def test_text_given_as_bytes_that_are_not_utf8_is_a_usage_error():
    # On a Latin-1 terminal Python hands "\xff" over as a lone surrogate: the report
    # crashed with a traceback (and a --record would fail to hash it).
    result = CliRunner().invoke(
        main, ["check", "--relationship", "paid", "--text", "\udcff loving it #sp @x"]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "--text: not valid UTF-8 (\\udcff at character 1)" in result.output


def test_signal_text_is_the_captions_own():
    # Signal texts came from the normalised text: a typographic apostrophe (or a lone
    # surrogate) differed from the caption at the same span ("Today's sponsor").
    v = assert_sane(Post(caption="Today\u2019s sponsor is @glowlab \ud800, use code MAYA15"))
    assert "Today\u2019s sponsor" in [s.text for s in v.sponsorship.signals]


# --- The report of record (compliance report --format html|md) ----------------------------


def test_the_report_of_hostile_posts_has_nothing_raw(db_url, clock):
    # Recorded captions reach `compliance report`: Markdown escaped them already, but
    # the HTML page carried their control characters and bidi overrides raw.
    from dataclasses import replace

    from store_helpers import record

    from compliance.safe import scrub_surrogates
    from compliance.store.db import open_store
    from compliance.store.report import collect, render

    rng = random.Random(5)
    verdicts = []
    for n, kind in enumerate(k for k in CLASSES if k not in ("huge", "hashtag_run")):
        for i in range(4):
            # As the monitors store them: a lone surrogate cannot be stored or hashed.
            post = make_post(rng, scrub_surrogates(generate(rng, kind)))
            post = replace(post, id=f"p{n}-{i}", platform="tiktok", author="@maya")
            verdicts.append(check(post, PACKS))
    assert any(v.verdict is VerdictKind.VIOLATION for v in verdicts)
    store = open_store(db_url)
    record(store, verdicts, clock)
    with store.read() as s:
        data = collect(s, since=None, now=clock, database="db")
        pages = {fmt: render(data, fmt) for fmt in ("html", "md")}
    for fmt, page in pages.items():
        page.encode("utf-8")
        assert not _RAW_CSV.search(page), (fmt, _RAW_CSV.findall(page)[:5])
