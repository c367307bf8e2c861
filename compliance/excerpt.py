"""The one caption excerpt: the text around a finding's span, cut with "…".

Every output that shows where a finding is (the terminal report, ``violations
show``, the HTML/Markdown report) cuts the caption here; each then escapes the
three parts for where it is going (terminal, HTML, Markdown). Spans are
character offsets into the caption.
"""

from __future__ import annotations

from dataclasses import dataclass

ELLIPSIS = "…"


@dataclass(frozen=True)
class Excerpt:
    """A caption cut around a span: text before, the span itself, text after (unescaped).

    ``before`` starts with "…" and ``after`` ends with it where text was cut.
    """

    before: str
    marked: str
    after: str


def excerpt(
    text: str, span: tuple[int, int] | list[int] | None, context: int, *, one_line: bool = False
) -> Excerpt:
    """``text`` around ``span`` with up to ``context`` characters each side.

    ``one_line``: stay within the line the span starts on, and mark at least one
    character (a terminal draws carets under it). Without a span, the first
    ``2 * context`` characters.
    """
    if not span:
        head = text[: 2 * context]
        return Excerpt(head + (ELLIPSIS if len(text) > len(head) else ""), "", "")
    start, end = span
    if one_line:
        # The line's ends are looked for only as far as the excerpt reaches: a
        # caption of one 100 KB line with thousands of findings made a whole-line
        # scan per finding quadratic. Beyond the reach, any line end gives the same
        # cut and the same "…".
        reach_lo = max(0, start - context - 1)
        nl = text.rfind("\n", reach_lo, start)
        lo = nl + 1 if nl != -1 else reach_lo
        reach_hi = min(len(text), max(end, start + 1) + context + 1)
        hi = text.find("\n", start, reach_hi)
        hi = reach_hi if hi == -1 else hi
        end = min(max(end, start + 1), hi) if hi > start else start + 1
    else:
        lo, hi = 0, len(text)
    left = max(lo, start - context)
    right = min(hi, end + context)
    return Excerpt(
        (ELLIPSIS if left > lo else "") + text[left:start],
        text[start:end],
        text[end:right] + (ELLIPSIS if right < hi else ""),
    )
