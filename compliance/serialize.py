"""Verdicts as plain data: the documented JSON shape, shared by the report and the store.

The store keeps each verdict as this JSON (byte for byte, hashed), and the report
writes the same for ``--format json``; this module is neutral ground so that the
store never imports the output module.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from compliance.model import Finding, Verdict


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


class Lines:
    """:func:`line_col` for many offsets into one text: the line starts are found once
    and each offset is a bisection. A hostile caption can carry tens of thousands of
    findings, and counting the newlines before each one was quadratic."""

    def __init__(self, text: str) -> None:
        self._starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]

    def line_col(self, offset: int) -> tuple[int, int]:
        """The same as ``line_col(text, offset)``."""
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


_NEWLINE = re.compile("\n")


def finding_dict(f: Finding, caption: str, lines: Lines | None = None) -> dict[str, Any]:
    """A finding as the JSON schema has it, with line/column added (``lines``: the
    caption's, when many findings of one caption are turned into dicts)."""
    out: dict[str, Any] = {
        "rule": f.rule,
        "name": f.name,
        "code": f.code,
        "level": f.level.value,
        "span": list(f.span) if f.span else None,
    }
    if f.span:
        out["line"], out["col"] = (lines or Lines(caption)).line_col(f.span[0])
        out["text"] = caption[f.span[0] : f.span[1]]
    out.update(message=f.message, fix=f.fix, source=f.source)
    return out


def verdict_dict(v: Verdict, where: str | None = None) -> dict[str, Any]:
    """A verdict in the documented JSON shape."""
    post = v.post
    lines = Lines(post.caption)
    out: dict[str, Any] = {"id": post.id}
    if where:
        out["where"] = where
    out.update(
        platform=post.platform,
        author=post.author,
        url=post.url,
        pack=v.pack,
        verdict=v.verdict.value,
        sponsored={
            "value": v.sponsorship.value,
            "signals": [
                {
                    "kind": s.kind,
                    "strength": s.strength,
                    "span": list(s.span) if s.span else None,
                    "text": s.text,
                }
                for s in v.sponsorship.signals
            ],
        },
        language=v.language,
        disclosures=[
            {
                "text": d.text,
                "span": list(d.span),
                "clarity": d.clarity,
                "language": d.language,
                "above_fold": d.above_fold,
                "in_hashtag_block": d.in_hashtag_block,
                **({"evasion": list(d.evasion)} if d.evasion else {}),
            }
            for d in v.disclosures
        ],
        violations=[finding_dict(f, post.caption, lines) for f in v.findings],
    )
    return out
