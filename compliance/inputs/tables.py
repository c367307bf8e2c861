"""CSV and TSV: a header row with at least a ``caption`` column.

The other columns use the JSON names, campaign fields as flat columns or as a
``campaign`` column holding JSON. Unknown columns are ignored: exports from
spreadsheets and social tools carry many columns that mean nothing to us. Each
row becomes a record of the JSON Lines shape and goes through
:func:`~compliance.inputs.records.post_from_record`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from compliance.inputs.records import InputError, InputFormatError, field_error, post_from_record
from compliance.model import Post, show_value

_CSV_BOOLEANS: dict[str, bool | None] = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
    "": None,
}
_CSV_BOOL_EXPECTED = "expected true, false, yes, no, 1, 0 or empty"


# How each known column is read; anything else in the header is ignored.
_CSV_TEXT = 0  # a plain optional string field
_CSV_CAPTION = 1
_CSV_BOOL = 2
_CSV_LIST = 3  # campaign list split on | , or whitespace
_CSV_NAMES = 4  # campaign aliases: brand names contain spaces, so split on | or , only
_CSV_CAMPAIGN_SCALAR = 5  # brand, relationship
_CSV_CAMPAIGN_JSON = 6
_CSV_KINDS = {
    "caption": _CSV_CAPTION,
    "id": _CSV_TEXT,
    "platform": _CSV_TEXT,
    "author": _CSV_TEXT,
    "url": _CSV_TEXT,
    "posted_at": _CSV_TEXT,
    "transcript": _CSV_TEXT,
    "jurisdiction": _CSV_TEXT,
    "language": _CSV_TEXT,
    "paid_partnership": _CSV_BOOL,
    "is_video": _CSV_BOOL,
    "campaign": _CSV_CAMPAIGN_JSON,
    "brand": _CSV_CAMPAIGN_SCALAR,
    "relationship": _CSV_CAMPAIGN_SCALAR,
    "aliases": _CSV_NAMES,
    "handles": _CSV_LIST,
    "hashtags": _CSV_LIST,
    "promo_codes": _CSV_LIST,
    "domains": _CSV_LIST,
}


def csv_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file, guessed from its header line (``,`` unless ``;``/tab win)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_record(
    row: list[str], plan: list[tuple[int, str, int]], width: int, where: str
) -> dict[str, object]:
    """One CSV row as a JSON-shaped record, ready for :func:`post_from_record`."""
    if len(row) > width and any(cell.strip() for cell in row[width:]):
        raise InputFormatError(
            where,
            f"row has {len(row)} cells but the header has {width} (an unquoted comma in the caption?)",
        )
    record: dict[str, object] = {}
    flat: dict[str, object] = {}
    nested: dict[str, object] | None = None
    size = len(row)
    for index, column, kind in plan:
        value = row[index] if index < size else ""
        if kind == _CSV_CAPTION:
            record["caption"] = value
            continue
        text = value.strip()
        if not text:
            continue
        if kind == _CSV_TEXT:
            record[column] = value if column == "transcript" else text
        elif kind == _CSV_BOOL:
            flag = _CSV_BOOLEANS.get(text.lower(), ...)
            if flag is ...:
                raise field_error(where, column, f"{_CSV_BOOL_EXPECTED}, got {value!r}")
            record[column] = flag
        elif kind == _CSV_LIST:
            flat[column] = text.replace("|", " ").replace(",", " ").split()
        elif kind == _CSV_NAMES:
            flat[column] = text.replace("|", ",").split(",")
        elif kind == _CSV_CAMPAIGN_SCALAR:
            flat[column] = text
        else:  # _CSV_CAMPAIGN_JSON
            try:
                parsed = json.loads(text)
            except ValueError as err:
                message = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
                raise field_error(where, "campaign", f"invalid JSON: {message}") from None
            if parsed is None:
                continue
            if not isinstance(parsed, dict):
                raise field_error(
                    where, "campaign", f"expected a JSON object, got {show_value(parsed)}"
                )
            nested = parsed
    if nested is not None:
        both = sorted(set(nested) & set(flat))
        if both:
            raise field_error(
                where,
                f"campaign.{both[0]}",
                f"given both in the 'campaign' column and the '{both[0]}' column",
            )
        record["campaign"] = {**nested, **flat}
    elif flat:
        record["campaign"] = flat
    return record


def _csv_error_message(err: csv.Error) -> str:
    """The csv module's complaint, reworded where its own words are cryptic."""
    text = str(err)
    if text == "unexpected end of data":
        return "malformed CSV: a quoted field opened in this record is never closed"
    return f"malformed CSV: {text}"


def start_csv(
    lines: Iterator[str],
    bad_lines: Mapping[int, str],
    name: str,
    delimiter: str,
    platform: str | None,
    jurisdiction: str | None,
    close: Callable[[], None] | None = None,
) -> Iterator[Post | InputError]:
    """Read and check the CSV header now (raising InputFormatError), then stream the rows."""
    # strict: a quote in the wrong place is reported instead of being silently
    # glued into the text, and a quote never closed is an error, not a caption
    # that quietly swallows the rest of the file.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header: list[str] = []
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except StopIteration:
        raise InputFormatError(
            name, "empty CSV: a header row with a 'caption' column is required"
        ) from None
    except csv.Error as err:
        raise InputFormatError(name, f"unreadable CSV header: {err}") from None
    columns = [cell.strip().lower() for cell in header]
    if "caption" not in columns:
        shown = ", ".join(repr(c) for c in columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise InputFormatError(name, f"CSV header has no 'caption' column (columns: {shown})")
    plan: list[tuple[int, str, int]] = []
    seen: set[str] = set()
    for index, column in enumerate(columns):
        kind = _CSV_KINDS.get(column)
        if kind is None:
            continue
        if column in seen:
            raise InputFormatError(name, f"CSV header names column '{column}' twice")
        seen.add(column)
        plan.append((index, column, kind))
    return _read_csv_rows(
        reader, plan, len(columns), bad_lines, name, platform, jurisdiction, close
    )


def _read_csv_rows(
    reader: Any,  # a csv reader; its type is private to the csv module
    plan: list[tuple[int, str, int]],
    width: int,
    bad_lines: Mapping[int, str],
    name: str,
    platform: str | None,
    jurisdiction: str | None,
    close: Callable[[], None] | None,
) -> Iterator[Post | InputError]:
    """Posts from the CSV rows after the header; errors cite the line the record starts on."""
    line_num = reader.line_num
    try:
        while True:
            start = line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                line_num = reader.line_num
                yield InputError(f"{name}:{start}", _csv_error_message(err))
                continue
            line_num = reader.line_num
            if not any(row):
                continue  # blank lines and the ",,,," rows spreadsheets leave behind
            where = f"{name}:{start}"
            if bad_lines:
                problem = next(
                    (bad_lines[n] for n in range(start, line_num + 1) if n in bad_lines), None
                )
                if problem is not None:
                    yield InputError(where, problem)
                    continue
            try:
                yield post_from_record(
                    _csv_record(row, plan, width, where),
                    where=where,
                    default_platform=platform,
                    default_jurisdiction=jurisdiction,
                )
            except InputFormatError as err:
                yield InputError(err.where, err.message)
    finally:
        if close is not None:
            close()
