"""Verdicts as plain data: the documented JSON shape, shared by the report and the store.

The store keeps each verdict as this JSON (byte for byte, hashed), and the report
writes the same for ``--format json``; this module is neutral ground so that the
store never imports the output module.
"""

from __future__ import annotations

from typing import Any

from compliance.model import Finding, Verdict


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def finding_dict(f: Finding, caption: str) -> dict[str, Any]:
    """A finding as the JSON schema has it, with line/column added."""
    out: dict[str, Any] = {
        "rule": f.rule,
        "name": f.name,
        "code": f.code,
        "level": f.level.value,
        "span": list(f.span) if f.span else None,
    }
    if f.span:
        out["line"], out["col"] = line_col(caption, f.span[0])
        out["text"] = caption[f.span[0] : f.span[1]]
    out.update(message=f.message, fix=f.fix, source=f.source)
    return out


def verdict_dict(v: Verdict, where: str | None = None) -> dict[str, Any]:
    """A verdict in the documented JSON shape."""
    post = v.post
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
        violations=[finding_dict(f, post.caption) for f in v.findings],
    )
    return out
