"""Verdicts out: text for people, JSON / JSON Lines / CSV for machines; exit codes.

Spans are character offsets until here; this is the one place that turns them
into line:column and marked excerpts. Captions are attacker-controlled, so every
format escapes them for where it is going: control and bidi characters for
terminals, formula prefixes for spreadsheets (JSON needs nothing beyond json.dumps).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from compliance.excerpt import excerpt as cut_excerpt
from compliance.model import Level, Verdict, VerdictKind
from compliance.safe import csv_safe, json_safe, terminal_safe
from compliance.serialize import Lines, verdict_dict

FORMATS = ("text", "json", "jsonl", "csv")

EXIT_CLEAN = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


def _width(text: str) -> int:
    """Display width in terminal cells (wide and emoji characters take two)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200d\ufe0f":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def excerpt(text: str, span: tuple[int, int], context: int = 40) -> tuple[str, str]:
    """The line around ``span`` (trimmed to ``context`` characters each side), escaped for a
    terminal, and a caret marker under the span."""
    cut = cut_excerpt(text, span, context, one_line=True)
    prefix, marked = terminal_safe(cut.before), terminal_safe(cut.marked)
    return prefix + marked + terminal_safe(cut.after), " " * _width(prefix) + "^" * max(
        1, _width(marked)
    )


@dataclass
class Totals:
    """Counts over a run, for the summary line and the exit code."""

    posts: int = 0
    errors: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)

    def add_rendered(self, rendered: Rendered) -> None:
        """Count one verdict."""
        self.posts += 1
        self.verdicts[rendered.verdict] += 1
        self.codes.update(rendered.codes)

    @property
    def exit_code(self) -> int:
        """2 when any input was bad, else 1 when any post violates, else 0."""
        if self.errors:
            return EXIT_ERROR
        if self.verdicts[VerdictKind.VIOLATION.value]:
            return EXIT_VIOLATIONS
        return EXIT_CLEAN

    def summary(self) -> str:
        """One line: how many posts, how they came out, and the most common problems."""
        parts = [f"{self.posts} post{'s' if self.posts != 1 else ''} checked"]
        for kind in VerdictKind:
            n = self.verdicts[kind.value]
            if n:
                parts.append(f"{n} {kind.value.replace('_', ' ')}")
        if self.errors:
            parts.append(f"{self.errors} input error{'s' if self.errors != 1 else ''}")
        line = ", ".join(parts)
        if self.codes:
            common = ", ".join(f"{code} {n}" for code, n in self.codes.most_common(4))
            line += f" (most common: {common})"
        return line


# --- Writers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """One verdict already rendered, plus what the totals need: the unit that
    crosses from worker processes to the writer. ``result`` is the verdict itself,
    carried only when the caller records verdicts (``Renderer(keep_verdicts=True)``)."""

    chunk: str
    verdict: str
    codes: tuple[str, ...]
    result: Verdict | None = field(default=None, compare=False, repr=False)


class Renderer:
    """Turns a verdict into its text in one format; pure, so it can run in workers."""

    def __init__(
        self,
        fmt: str,
        *,
        color: bool = False,
        verbose: bool = False,
        keep_verdicts: bool = False,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
        self.fmt = fmt
        self.color = color
        self.verbose = verbose
        self.keep_verdicts = keep_verdicts

    def render(self, verdict: Verdict, where: str | None = None) -> Rendered:
        """The verdict's text (a JSON object for 'json', whole lines otherwise)."""
        if self.fmt in ("json", "jsonl"):
            chunk = json_safe(json.dumps(verdict_dict(verdict, where), ensure_ascii=False))
            if self.fmt == "jsonl":
                chunk += "\n"
        elif self.fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            for row in csv_rows(verdict, where):
                writer.writerow([csv_safe(c) for c in row])
            chunk = buf.getvalue()
        else:
            chunk = render_text(verdict, where, color=self.color, verbose=self.verbose)
        codes = tuple(f.code for f in verdict.findings if f.level is Level.VIOLATION)
        return Rendered(
            chunk, verdict.verdict.value, codes, verdict if self.keep_verdicts else None
        )


class Writer:
    """Writes rendered verdicts (and counts input errors) in one format to a stream."""

    def __init__(
        self,
        fmt: str,
        out: TextIO,
        *,
        color: bool = False,
        verbose: bool = False,
        keep_verdicts: bool = False,
    ) -> None:
        self.renderer = Renderer(fmt, color=color, verbose=verbose, keep_verdicts=keep_verdicts)
        self.fmt = fmt
        self.out = out
        self.totals = Totals()
        self._first_json = True
        if fmt == "json":
            out.write("[")
        elif fmt == "csv":
            csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)

    def write(self, verdict: Verdict, where: str | None = None) -> None:
        """Render and write one verdict."""
        self.write_rendered(self.renderer.render(verdict, where))

    def write_rendered(self, rendered: Rendered) -> None:
        """Write one verdict rendered elsewhere (e.g. in a worker process)."""
        self.totals.add_rendered(rendered)
        if self.fmt == "json":
            self.out.write(("\n" if self._first_json else ",\n") + rendered.chunk)
            self._first_json = False
        else:
            self.out.write(rendered.chunk)

    def error(self) -> None:
        """Count one input error (the message itself goes to stderr, from the CLI)."""
        self.totals.errors += 1

    def close(self) -> None:
        """Finish the document (and, for text, print the summary)."""
        if self.fmt == "json":
            self.out.write("\n]\n" if not self._first_json else "]\n")
        elif self.fmt == "text":
            self.out.write(self.totals.summary() + "\n")
        self.out.flush()


CSV_COLUMNS = (
    "id",
    "where",
    "platform",
    "author",
    "url",
    "pack",
    "verdict",
    "sponsored",
    "language",
    "rule",
    "code",
    "level",
    "line",
    "col",
    "text",
    "message",
    "fix",
    "source",
)


def csv_rows(v: Verdict, where: str | None) -> Iterable[list[object]]:
    """One row per finding; a post without findings still gets one row."""
    post = v.post
    head = [
        post.id,
        where,
        post.platform,
        post.author,
        post.url,
        v.pack,
        v.verdict.value,
        {True: "true", False: "false", None: ""}[v.sponsorship.value],
        v.language,
    ]
    if not v.findings:
        yield [*head, "", "", "", "", "", "", "", "", ""]
        return
    lines = Lines(post.caption)
    for f in v.findings:
        line, col = lines.line_col(f.span[0]) if f.span else ("", "")
        text = post.caption[f.span[0] : f.span[1]] if f.span else ""
        yield [*head, f.rule, f.code, f.level.value, line, col, text, f.message, f.fix, f.source]


_COLORS = {
    VerdictKind.VIOLATION: "\x1b[1;31m",
    VerdictKind.COMPLIANT: "\x1b[32m",
    VerdictKind.NEEDS_REVIEW: "\x1b[33m",
    VerdictKind.NOT_SPONSORED: "\x1b[2m",
}
_LEVEL_COLORS = {Level.VIOLATION: "\x1b[31m", Level.WARNING: "\x1b[33m", Level.INFO: "\x1b[36m"}
_RESET = "\x1b[0m"


def render_text(
    v: Verdict, where: str | None, *, color: bool = False, verbose: bool = False
) -> str:
    """The human report for one post: verdict line, then each finding with excerpt, fix and source.

    Grammar of a finding line: ``where:line:col: RULE name: message``.
    """
    post = v.post
    label = where or post.id or "<post>"
    name = terminal_safe(label)
    c = (lambda code, s: f"{code}{s}{_RESET}") if color else (lambda code, s: s)
    head = f"{name}: {c(_COLORS[v.verdict], v.verdict.value.upper())} [{v.pack}"
    if v.language:
        head += f", {v.language}"
    head += "]"
    if post.id and where and post.id not in where:
        head += f" id={terminal_safe(post.id)}"
    lines = [head]
    if v.verdict is VerdictKind.NEEDS_REVIEW:
        lines.append(
            "  sponsorship not established: a brand is promoted but nothing shows a material connection"
        )
    if verbose or v.verdict is not VerdictKind.NOT_SPONSORED:
        signals = [s for s in v.sponsorship.signals if s.strength != "negative" or verbose]
        if signals and verbose:
            lines.append(
                "  signals: "
                + ", ".join(f"{s.kind} {terminal_safe(s.text)!r}" for s in signals[:8])
            )
    where_in = Lines(post.caption) if v.findings else None
    for f in v.findings:
        if f.span and where_in is not None:
            line, col = where_in.line_col(f.span[0])
            loc = f"{name}:{line}:{col}"
        else:
            loc = name
        level = c(_LEVEL_COLORS[f.level], f.level.value)
        lines.append(f"{loc}: {f.rule} {f.name}: {terminal_safe(f.message)} ({level})")
        if f.span:
            text, marker = excerpt(post.caption, f.span)
            lines.append(f"    | {text}")
            lines.append(f"    | {marker}")
        lines.append(f"    fix: {terminal_safe(f.fix)}")
        lines.append(f"    source: {f.source}")
    return "\n".join(lines) + "\n\n"
