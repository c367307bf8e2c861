"""Subtitle tracks (WebVTT) as plain spoken text, so that "this video is sponsored by" counts.

TikTok's ``subtitleInfos`` and YouTube's caption tracks are WebVTT. Automatic
tracks repeat each line in the next cue (rolling captions) and carry inline
timing and style tags (``<00:00:01.200><c> word</c>``); the rule engine wants
the words once, in order, as one text.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]*>")
_HEADER_BLOCKS = ("WEBVTT", "NOTE", "STYLE", "REGION")


def vtt_text(vtt: str) -> str:
    """The spoken text of a WebVTT track: no header, cue ids, timings, tags or rolling repeats.

    Lines are joined with single spaces (a sentence often runs over two cues).
    A line equal to one of the two lines before it is a rolling repeat and is dropped.
    """
    lines: list[str] = []
    text = vtt.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for block in re.split(r"\n[ \t]*\n", text):
        rows = [row for row in block.split("\n") if row.strip()]
        if not rows or rows[0].strip().startswith(_HEADER_BLOCKS):
            continue
        timing = next((i for i, row in enumerate(rows) if "-->" in row), None)
        if timing is None:  # not a cue (a stray line or a garbled block)
            continue
        for row in rows[timing + 1 :]:
            line = " ".join(html.unescape(_TAG.sub("", row)).split())
            if line and line not in lines[-2:]:
                lines.append(line)
    return " ".join(lines)
