"""Turn input files into :class:`~compliance.model.Post` values for ``compliance check --input``.

Three formats are read, and one bad record never costs the good ones around it:

* **JSON Lines** (``.jsonl``, ``.ndjson``): one post object per line, validated
  strictly (unknown keys are errors, so a typo such as ``"captoin"`` cannot make a
  field silently disappear).
* **CSV** (``.csv``, ``.tsv``): a header row with at least a ``caption`` column;
  the other columns use the JSON names, campaign fields as flat columns or as a
  ``campaign`` column holding JSON. Unknown columns are ignored, because exports
  from spreadsheets and social tools carry many columns that mean nothing to us.
* **Instagram JSON** as instaloader and Instagram's web API write it (``.json``,
  ``.json.xz``, ``.info``), one file or a directory of them.

``-`` reads standard input and sniffs JSON Lines or CSV (or one JSON document).

A bad *record* becomes an :class:`InputError` in the output stream, and reading
goes on. A bad *file* (missing, unreadable, not text, no ``caption`` column)
raises :class:`InputFormatError` from :func:`read_posts` itself, before anything
is yielded. Inside a directory, a file that does not parse is a bad record: the
other files are still read.

Everything is streamed line by line; this module sits on the hot path of a
40,000-post check, so per record it does one ``json`` decode and a few dict
lookups, and everything else (error wording, typo suggestions) happens only on
the error path.
"""

from __future__ import annotations

import json
import lzma
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from compliance.inputs.instagram import (
    INSTAGRAM_SUFFIXES,
    directory_files,
    instagram_items,
    instagram_post,
)
from compliance.inputs.jsonl import read_jsonl
from compliance.inputs.records import (
    CAMPAIGN_FIELDS,
    HARMLESS_FIELDS,
    POST_FIELDS,
    InputError,
    InputFormatError,
    normalise_platform,
    post_from_record,
)
from compliance.inputs.tables import csv_delimiter, start_csv
from compliance.model import PLATFORMS, Post, normalise_jurisdiction

__all__ = [
    "CAMPAIGN_FIELDS",
    "HARMLESS_FIELDS",
    "POST_FIELDS",
    "InputError",
    "InputFormatError",
    "instagram_post",
    "post_from_record",
    "read_posts",
]

STDIN_NAME = "<stdin>"


def _read_instagram_file(
    path: Path, platform: str | None, jurisdiction: str | None
) -> Iterator[Post | InputError]:
    """Posts from one Instagram JSON file; a file that does not parse becomes one InputError."""
    where = str(path)
    try:
        if path.name.lower().endswith(".xz"):
            with lzma.open(path, "rb") as fh:
                data = fh.read()
        else:
            data = path.read_bytes()
    except lzma.LZMAError as err:
        yield InputError(where, f"not a valid .xz file: {err}")
        return
    except EOFError:
        yield InputError(where, "truncated .xz file")
        return
    except OSError as err:
        yield InputError(where, f"cannot read: {err.strerror or err}")
        return
    try:
        # json.loads on bytes detects UTF-8/16/32 and a UTF-8 BOM by itself.
        doc = json.loads(data)
    except UnicodeDecodeError:
        yield InputError(where, "not UTF-8 text")
        return
    except json.JSONDecodeError as err:
        if err.msg == "Extra data" and "\n" not in err.doc[: err.pos].strip():
            # A first object that fits on its first line, then more: JSON Lines
            # saved under a .json name. Split on \n only: JSON strings may hold
            # U+2028 and friends, which str.splitlines would cut at.
            text = err.doc if isinstance(err.doc, str) else data.decode("utf-8-sig", "replace")
            yield from read_jsonl(text.split("\n"), {}, where, platform, jurisdiction)
            return
        yield InputError(where, f"invalid JSON: {err.msg} at line {err.lineno} column {err.colno}")
        return
    except RecursionError:
        yield InputError(where, "invalid JSON: nested too deeply")
        return
    yield from instagram_items(doc, where, jurisdiction)


# --- Text sources and sniffing -----------------------------------------------------------


def _utf8_lines(raw: Iterable[bytes], bad_lines: dict[int, str]) -> Iterator[str]:
    """Decode byte lines as UTF-8 one by one, so one bad line costs one record, not the file.

    An undecodable line is recorded in ``bad_lines`` (the readers report it in
    place of its record) and passed on with replacement characters so that CSV
    quoting stays in step.
    """
    first = True
    for number, line in enumerate(raw, 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            bad_lines[number] = (
                f"not valid UTF-8 (byte 0x{line[err.start]:02x} at column {err.start + 1})"
            )
            text = line.decode("utf-8", "replace")
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        yield text


def _str_lines(stream: Iterable[str]) -> Iterator[str]:
    """Lines of an already-decoded text stream, without a leading BOM."""
    first = True
    for line in stream:
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line


def _check_bytes(head: bytes, name: str) -> None:
    """Refuse input that is not UTF-8 text at all (UTF-16/32 or binary), naming the file."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFormatError(name, "file is UTF-16 (or UTF-32) encoded; save it as UTF-8")
    if b"\x00" in head:
        raise InputFormatError(name, "not a text file (contains NUL bytes)")


def _peek_first_line(lines: Iterator[str]) -> tuple[list[str], str]:
    """Read up to the first non-blank line: (lines read, that line stripped or "")."""
    taken: list[str] = []
    for line in lines:
        taken.append(line)
        if line.strip():
            return taken, line.strip()
    return taken, ""


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    """Put the lines read while sniffing back in front of the rest of the stream."""
    yield from first
    yield from rest


def _sniff(first_line: str) -> str:
    """'jsonl', 'json' (one JSON document over several lines) or 'csv', from the first line."""
    if first_line.startswith("{") and first_line != "{":
        return "jsonl"
    if first_line.startswith(("{", "[")):
        return "json"
    return "csv"


def _format_of(name: str) -> str | None:
    """The format named by a file's extension, or None to sniff the content."""
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".tsv"):
        return "tsv"
    if lower.endswith((*INSTAGRAM_SUFFIXES, ".xz")):
        return "instagram"
    return None


def _open_text(
    lines: Iterator[str],
    bad_lines: dict[int, str],
    name: str,
    fmt: str | None,
    platform: str | None,
    jurisdiction: str | None,
    close: Callable[[], None] | None,
) -> Iterator[Post | InputError]:
    """Dispatch a line stream to its reader, sniffing the format when ``fmt`` is None."""
    taken, first_line = _peek_first_line(lines)
    stream = _chain(taken, lines)
    kind = fmt or (_sniff(first_line) if first_line else "jsonl")
    if kind == "jsonl":
        return read_jsonl(stream, bad_lines, name, platform, jurisdiction, close)
    if kind in ("csv", "tsv"):
        delimiter = "\t" if kind == "tsv" else csv_delimiter(first_line)
        try:
            return start_csv(stream, bad_lines, name, delimiter, platform, jurisdiction, close)
        except InputFormatError as err:
            if fmt is not None:
                raise
            # CSV was only our last guess; say that the format itself is unknown.
            raise InputFormatError(
                name, f"unknown format: not JSON Lines or JSON, and as CSV: {err.message}"
            ) from None
    # One JSON document (pretty-printed) on stdin or under an unknown extension.
    text = "".join(stream)
    if close is not None:
        close()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputFormatError(
            name, f"not JSON Lines, CSV or a JSON document: {err.msg} at line {err.lineno}"
        ) from None
    return instagram_items(doc, name, jurisdiction)


# --- Entry point ------------------------------------------------------------------------


def read_posts(
    path: str | Path,
    *,
    default_platform: str | None = None,
    default_jurisdiction: str | None = None,
) -> Iterator[Post | InputError]:
    """Yield posts (and errors for bad records) from a JSONL, CSV or Instagram-JSON file, a directory of Instagram JSON files, or '-' (stdin, JSONL or CSV sniffed).

    The file is opened and checked now: a missing or unreadable file, a file that
    is not UTF-8 text, a CSV without a ``caption`` column or an empty directory
    raises :class:`InputFormatError` from this call, before anything is yielded.
    Records are then read lazily, one line at a time.

    ``default_platform`` / ``default_jurisdiction`` fill records that do not name
    one (Instagram posts always have platform ``instagram``); an invalid default
    raises :class:`ValueError`.
    """
    platform = None
    if default_platform is not None:
        platform = normalise_platform(default_platform)
        if platform is None:
            raise ValueError(
                f"default_platform: unknown platform {default_platform!r} (allowed: {', '.join(PLATFORMS)})"
            )
    jurisdiction = None
    if default_jurisdiction is not None:
        jurisdiction = normalise_jurisdiction(default_jurisdiction)
        if jurisdiction is None:
            raise ValueError(
                f"default_jurisdiction: expected a 2-letter country code, got {default_jurisdiction!r}"
            )

    if str(path) == "-":
        return _read_stdin(platform, jurisdiction)

    target = Path(path)
    name = str(target)
    if target.is_dir():
        try:
            files = directory_files(target)
        except OSError as err:
            raise InputFormatError(name, f"cannot list directory: {err.strerror or err}") from None
        if not files:
            raise InputFormatError(
                name, "no Instagram post files (.json, .json.xz, .info) in this directory"
            )
        return _read_files(files, platform, jurisdiction)
    if not target.exists():
        raise InputFormatError(name, "no such file or directory")

    fmt = _format_of(target.name)
    try:
        handle = target.open("rb")
    except OSError as err:
        raise InputFormatError(name, f"cannot read: {err.strerror or err}") from None
    if fmt == "instagram":
        handle.close()  # readable; the file is read whole (it is one JSON document)
        return _read_instagram_file(target, platform, jurisdiction)
    try:
        _check_bytes(handle.peek(4096)[:4096], name)
        bad_lines: dict[int, str] = {}
        return _open_text(
            _utf8_lines(handle, bad_lines),
            bad_lines,
            name,
            fmt,
            platform,
            jurisdiction,
            handle.close,
        )
    except BaseException:
        handle.close()
        raise


def _read_files(
    files: list[Path], platform: str | None, jurisdiction: str | None
) -> Iterator[Post | InputError]:
    """The posts of each file in turn; a broken file yields its error and the next one follows."""
    for file in files:
        yield from _read_instagram_file(file, platform, jurisdiction)


def _read_stdin(platform: str | None, jurisdiction: str | None) -> Iterator[Post | InputError]:
    """Standard input: bytes decoded line by line when available, else the text stream as is."""
    stream = sys.stdin
    buffer = getattr(stream, "buffer", None)
    bad_lines: dict[int, str] = {}
    if buffer is not None:
        peek = getattr(buffer, "peek", None)
        if peek is not None:
            _check_bytes(peek(4096)[:4096], STDIN_NAME)
        lines = _utf8_lines(buffer, bad_lines)
    else:
        lines = _str_lines(stream)
    return _open_text(lines, bad_lines, STDIN_NAME, None, platform, jurisdiction, None)
