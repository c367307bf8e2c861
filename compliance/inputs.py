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

import csv
import json
import lzma
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from compliance.model import (
    CAMPAIGN_KEYS,
    PLATFORMS,
    Campaign,
    CampaignError,
    Post,
    campaign_from_mapping,
    normalise_jurisdiction,
    show_value,
)

__all__ = [
    "CAMPAIGN_FIELDS",
    "HARMLESS_FIELDS",
    "POST_FIELDS",
    "InputError",
    "InputFormatError",
    "post_from_record",
    "read_posts",
]

STDIN_NAME = "<stdin>"

POST_FIELDS = (
    "id",
    "platform",
    "caption",
    "author",
    "url",
    "posted_at",
    "paid_partnership",
    "is_video",
    "transcript",
    "jurisdiction",
    "language",
    "campaign",
)
# A record's campaign takes every key of the one campaign builder.
CAMPAIGN_FIELDS = CAMPAIGN_KEYS

# Top-level keys that are accepted and ignored. Datasets carry their labels
# (``sponsored``, ``label``, ``expected``/``expect``) and annotations (``notes``,
# ``cite``, ``comment``) next to the post; rejecting them would force people to
# strip their data, and they cannot be typos of a real field. Keys starting with
# ``_`` are ignored too, as a general escape hatch for private annotations.
HARMLESS_FIELDS = frozenset(
    {"sponsored", "label", "notes", "note", "expected", "expect", "cite", "comment"}
)

_POST_FIELD_SET = frozenset(POST_FIELDS)
_ACCEPTED_FIELDS = _POST_FIELD_SET | HARMLESS_FIELDS
_PLATFORM_SET = frozenset(PLATFORMS)
# "X" is what Twitter calls itself now; accepting it avoids a pointless error.
_PLATFORM_ALIASES = {"x": "twitter"}

# Keys that only Instagram's shapes have: a JSON Lines record carrying one of them
# is read as an Instagram post rather than rejected for unknown fields.
_INSTAGRAM_MARKERS = frozenset(
    {
        "node",
        "instaloader",
        "shortcode",
        "edge_media_to_caption",
        "edge_media_to_sponsor_user",
        "taken_at_timestamp",
        "graphql",
        "shortcode_media",
        "items",
        "data",
        "business_discovery",
    }
)
# instaloader's node types that are not posts (profile metadata, hashtag pages,
# resumable-download state): skipped without a word, they are expected in its folders.
_INSTALOADER_POST_TYPES = frozenset({"Post", "StoryItem"})
# Instagram's v1 API ``media_type`` (1 image, 2 video, 8 carousel) and the Graph
# API's names for the same thing; used only when ``is_video`` is absent.
_MEDIA_TYPE_IS_VIDEO: dict[object, bool] = {
    1: False,
    2: True,
    8: False,
    "IMAGE": False,
    "VIDEO": True,
    "CAROUSEL_ALBUM": False,
}
_INSTAGRAM_SUFFIXES = (".json", ".json.xz", ".info", ".info.xz")
# instaloader writes comments next to each post as ``<post>_comments.json``: a list
# of comments, not posts.
_INSTAGRAM_SKIP_SUFFIXES = ("_comments.json", "_comments.json.xz")

_CSV_BOOLEANS: dict[str, bool | None] = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
    "": None,
}
_JSON_BOOL_EXPECTED = "expected true, false or null"
_CSV_BOOL_EXPECTED = "expected true, false, yes, no, 1, 0 or empty"


# --- Errors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InputError:
    """A record that could not be read: reported in place of its post, the rest still read.

    ``where`` is ``file:line`` for JSON Lines and CSV (the line where the record
    starts), the file path for an Instagram JSON file, and ``file[i]`` for the
    i-th (0-based) post of a JSON array. ``message`` is one line naming the field.
    """

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class InputFormatError(Exception):
    """A whole input that cannot be read, or (from :func:`post_from_record`) one bad record.

    ``str()`` is ``'where: message'``, the same grammar as :class:`InputError`.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def _field_error(where: str, field: str, message: str) -> InputFormatError:
    """The error for one bad field, worded ``field 'name': message`` everywhere."""
    return InputFormatError(where, f"field '{field}': {message}")


# --- One record -----------------------------------------------------------------------


def post_from_record(
    record: Mapping[str, object],
    *,
    where: str,
    default_platform: str | None = None,
    default_jurisdiction: str | None = None,
) -> Post:
    """Validate one post record (the JSON Lines shape) and build its :class:`Post`.

    Raises :class:`InputFormatError` with ``where`` and a one-line message naming
    the offending field. ``default_platform`` / ``default_jurisdiction`` fill a
    record that has none; they must already be valid (see :func:`read_posts`).
    """
    # type() first: a plain dict (every JSON record) skips the slower ABC check.
    if type(record) is not dict and not isinstance(record, Mapping):
        raise InputFormatError(where, f"expected a JSON object, got {show_value(record)}")
    if not record.keys() <= _ACCEPTED_FIELDS:
        _check_unknown_fields(record, where)

    caption = record.get("caption")
    if not isinstance(caption, str):
        if "caption" not in record:
            raise _field_error(where, "caption", 'is required (use "" for a post without text)')
        raise _field_error(where, "caption", f"expected a string, got {show_value(caption)}")

    post_id = record.get("id")
    if post_id is not None and not isinstance(post_id, str):
        # Exports often carry numeric ids; bool is an int subclass but never an id.
        if isinstance(post_id, int) and not isinstance(post_id, bool):
            post_id = str(post_id)
        else:
            raise _field_error(
                where, "id", f"expected a string or an integer, got {show_value(post_id)}"
            )

    platform = record.get("platform")
    if platform is None or platform == "":
        platform = default_platform or "other"
    elif platform not in _PLATFORM_SET:  # fast path: already lower-case and valid
        if not isinstance(platform, str):
            raise _field_error(where, "platform", f"expected a string, got {show_value(platform)}")
        normalised = _normalise_platform(platform)
        if normalised is None:
            raise _field_error(
                where,
                "platform",
                f"unknown platform {platform!r} (allowed: {', '.join(PLATFORMS)})",
            )
        platform = normalised

    jurisdiction = record.get("jurisdiction")
    if jurisdiction is None or jurisdiction == "":
        jurisdiction = default_jurisdiction
    else:
        if not isinstance(jurisdiction, str):
            raise _field_error(
                where, "jurisdiction", f"expected a string, got {show_value(jurisdiction)}"
            )
        code = normalise_jurisdiction(jurisdiction)
        if code is None:
            raise _field_error(
                where,
                "jurisdiction",
                f"expected a 2-letter country code such as US or GB, got {jurisdiction!r}",
            )
        jurisdiction = code

    posted_at = record.get("posted_at")
    if posted_at is not None:
        if not isinstance(posted_at, str):
            raise _field_error(
                where,
                "posted_at",
                f"expected an ISO-8601 date-time string, got {show_value(posted_at)}",
            )
        if posted_at.strip():
            iso = _parse_iso(posted_at)
            if iso is None:
                raise _field_error(
                    where,
                    "posted_at",
                    f"expected an ISO-8601 date-time such as 2024-05-01T12:00:00Z, got {posted_at!r}",
                )
            posted_at = iso
        else:
            posted_at = None

    paid = record.get("paid_partnership")
    if paid is not None and not isinstance(paid, bool):
        raise _field_error(
            where, "paid_partnership", f"{_JSON_BOOL_EXPECTED}, got {show_value(paid)}"
        )
    is_video = record.get("is_video")
    if is_video is not None and not isinstance(is_video, bool):
        raise _field_error(where, "is_video", f"{_JSON_BOOL_EXPECTED}, got {show_value(is_video)}")

    language = record.get("language")
    if language is not None:
        if not isinstance(language, str):
            raise _field_error(where, "language", f"expected a string, got {show_value(language)}")
        if language.strip():
            tag = _normalise_language(language)
            if tag is None:
                raise _field_error(
                    where,
                    "language",
                    f"expected a language code such as en or es, got {language!r}",
                )
            language = tag
        else:
            language = None

    campaign = record.get("campaign")
    if campaign is not None:
        if type(campaign) is not dict and not isinstance(campaign, Mapping):
            raise _field_error(
                where, "campaign", f"expected an object or null, got {show_value(campaign)}"
            )
        campaign = _cached_campaign(campaign, where)

    return Post(
        caption=caption,
        id=post_id or None,
        platform=platform,
        author=_optional_text(record, "author", where),
        url=_optional_text(record, "url", where),
        posted_at=posted_at,
        paid_partnership=paid,
        is_video=is_video,
        # The transcript is kept byte for byte, like the caption: rules may quote it.
        transcript=_optional_text(record, "transcript", where, strip=False),
        jurisdiction=jurisdiction,
        language=language,
        campaign=campaign,
    )


def _check_unknown_fields(record: Mapping[str, object], where: str) -> None:
    """Raise for keys that are neither post fields nor harmless extras (the error path)."""
    unknown = sorted(
        str(k) for k in record if k not in _ACCEPTED_FIELDS and not str(k).startswith("_")
    )
    if not unknown:
        return
    first = unknown[0]
    guess = get_close_matches(first, POST_FIELDS, n=1)
    hint = f"did you mean '{guess[0]}'?" if guess else f"known fields: {', '.join(POST_FIELDS)}"
    names = ", ".join(f"'{k}'" for k in unknown)
    label = "field" if len(unknown) == 1 else "fields"
    raise InputFormatError(where, f"unknown {label} {names} ({hint})")


def _optional_text(
    record: Mapping[str, object], key: str, where: str, *, strip: bool = True
) -> str | None:
    """A string field that may be absent or null; blank becomes None."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _field_error(where, key, f"expected a string, got {show_value(value)}")
    text = value.strip() if strip else value
    return text if text.strip() else None


# Campaigns repeat: a brand's export carries the same campaign object on every
# post, and building one costs more than the rest of the record. Campaign is
# frozen, so equal inputs can share one value. Bounded so that a file of
# all-different campaigns cannot grow it without limit.
_CAMPAIGN_CACHE: dict[tuple[object, ...], Campaign | None] = {}
_CAMPAIGN_CACHE_SIZE = 512


def _cached_campaign(data: Mapping[str, object], where: str) -> Campaign | None:
    """:func:`_campaign`, remembered for campaign objects already seen."""
    try:
        key = tuple((k, tuple(v) if type(v) is list else v) for k, v in data.items())
        return _CAMPAIGN_CACHE[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (e.g. an object inside a list): no caching
        return _campaign(data, where)
    campaign = _campaign(data, where)  # raises for a bad campaign, which is never cached
    if len(_CAMPAIGN_CACHE) >= _CAMPAIGN_CACHE_SIZE:
        _CAMPAIGN_CACHE.clear()
    _CAMPAIGN_CACHE[key] = campaign
    return campaign


def _campaign(data: Mapping[str, object], where: str) -> Campaign | None:
    """Validate a campaign object (the one builder); None when it names nothing."""
    try:
        campaign = campaign_from_mapping(data)
    except CampaignError as err:
        raise _field_error(where, err.field, err.problem) from None
    return None if campaign.is_empty else campaign


def _normalise_platform(value: str) -> str | None:
    """``value`` as one of :data:`PLATFORMS` (case and spaces ignored), or None."""
    name = value.strip().lower()
    name = _PLATFORM_ALIASES.get(name, name)
    return name if name in _PLATFORM_SET else None


def _normalise_language(value: str) -> str | None:
    """A language tag (``en``, ``es``, ``pt-br``) lower-cased, or None if it is not one."""
    tag = value.strip().lower().replace("_", "-")
    primary = tag.split("-", 1)[0]
    if 2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha():
        return tag
    return None


def _parse_iso(value: str) -> str | None:
    """``value`` re-written by :meth:`datetime.isoformat`, or None if it is not ISO-8601."""
    text = value.strip()
    # Python 3.11 reads a trailing Z itself; 3.10 does not, and the cost is one check.
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return None


# --- Instagram JSON ---------------------------------------------------------------------


def _instagram_items(
    doc: object, where: str, jurisdiction: str | None
) -> Iterator[Post | InputError]:
    """Posts from one Instagram JSON document: a post, a wrapper around one, or a list of them."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _instagram_items(item, f"{where}[{i}]", jurisdiction)
        return
    if not isinstance(doc, dict):
        yield InputError(where, f"expected a JSON object or array, got {show_value(doc)}")
        return
    meta = doc.get("instaloader")
    if isinstance(meta, dict) and meta.get("node_type") not in _INSTALOADER_POST_TYPES:
        return  # a profile, hashtag or resume file that instaloader keeps beside the posts
    # Graph API pages ({"data": [...]}), business discovery and v1 media info
    # ({"items": [...]}) hold their posts in a list.
    discovery = doc.get("business_discovery")
    if isinstance(discovery, dict) and isinstance(discovery.get("media"), dict):
        doc = discovery["media"]
    for key in ("data", "items"):
        inner = doc.get(key)
        if isinstance(inner, list):
            for i, item in enumerate(inner):
                yield from _instagram_items(item, f"{where}[{i}]", jurisdiction)
            return
    node = _unwrap(doc)
    if _is_profile(node):
        return
    try:
        yield _instagram_post(node, where, jurisdiction)
    except InputFormatError as err:
        yield InputError(err.where, err.message)


def _unwrap(doc: dict[str, object]) -> dict[str, object]:
    """The post object inside instaloader's ``{"node": ...}`` or GraphQL's ``shortcode_media``."""
    node = doc.get("node")
    if isinstance(node, dict):
        doc = node
    for key in ("graphql", "data"):
        container = doc.get(key)
        if isinstance(container, dict) and isinstance(container.get("shortcode_media"), dict):
            return container["shortcode_media"]
    media = doc.get("shortcode_media")
    return media if isinstance(media, dict) else doc


# Keys that only a post has; a Graph API media object carries ``username`` too,
# so a username alone does not make a profile.
_POST_ONLY_KEYS = frozenset(
    {
        "shortcode",
        "code",
        "caption",
        "edge_media_to_caption",
        "permalink",
        "timestamp",
        "media_type",
        "taken_at_timestamp",
        "taken_at",
        "is_video",
    }
)


def _is_profile(node: Mapping[str, object]) -> bool:
    """True for a profile object: a username and nothing that makes a post."""
    return "username" in node and _POST_ONLY_KEYS.isdisjoint(node)


def _instagram_post(node: Mapping[str, object], where: str, jurisdiction: str | None) -> Post:
    """Map one Instagram post object (instaloader / web API / Graph API shape) to a Post."""
    shortcode = node.get("shortcode")
    if shortcode is None:
        shortcode = node.get("code")
    if shortcode is not None and not isinstance(shortcode, str):
        raise _field_error(where, "shortcode", f"expected a string, got {show_value(shortcode)}")
    post_id: object = shortcode
    for key in ("id", "pk"):
        if post_id is None:
            post_id = node.get(key)
    if post_id is None and "caption" not in node and "edge_media_to_caption" not in node:
        raise InputFormatError(where, "not an Instagram post: no shortcode, id or caption")

    permalink = node.get("permalink")
    if isinstance(permalink, str) and permalink:
        url: str | None = permalink
    else:
        url = f"https://www.instagram.com/p/{shortcode}/" if shortcode else None

    return Post(
        caption=_instagram_caption(node, where),
        id=None if post_id is None else str(post_id),
        platform="instagram",
        author=_instagram_author(node),
        url=url,
        posted_at=_instagram_time(node, where),
        paid_partnership=_instagram_paid(node),
        is_video=_instagram_is_video(node),
        jurisdiction=jurisdiction,
    )


def _instagram_caption(node: Mapping[str, object], where: str) -> str:
    """The caption text; instaloader's rule: the first caption edge, else ``caption``."""
    edges_container = node.get("edge_media_to_caption")
    if isinstance(edges_container, dict):
        edges = edges_container.get("edges")
        if isinstance(edges, list) and edges:
            first = edges[0]
            text = first.get("node", {}).get("text") if isinstance(first, dict) else None
            if not isinstance(text, str):
                raise _field_error(
                    where,
                    "edge_media_to_caption.edges[0].node.text",
                    f"expected a string, got {show_value(text)}",
                )
            return text
    caption = node.get("caption")
    if caption is None:
        return ""
    if isinstance(caption, str):
        return caption
    if isinstance(caption, dict):  # the v1 web API: {"caption": {"text": ..., "pk": ...}}
        text = caption.get("text")
        if isinstance(text, str):
            return text
        raise _field_error(where, "caption.text", f"expected a string, got {show_value(text)}")
    raise _field_error(
        where, "caption", f"expected a string or an object, got {show_value(caption)}"
    )


def _instagram_author(node: Mapping[str, object]) -> str | None:
    """``@username`` of the owner (instaloader ``owner``, v1 ``user``, Graph ``username``)."""
    username: object = None
    for key in ("owner", "user"):
        owner = node.get(key)
        if isinstance(owner, dict) and isinstance(owner.get("username"), str):
            username = owner["username"]
            break
    if username is None:
        username = node.get("username")
    if isinstance(username, str) and username.strip():
        return "@" + username.strip().lstrip("@")
    return None


def _instagram_time(node: Mapping[str, object], where: str) -> str | None:
    """When the post was taken: epoch seconds (GraphQL, v1, instaloader) or an ISO string (Graph API)."""
    for key in ("taken_at_timestamp", "taken_at", "date"):
        value = node.get(key)
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
            except (OverflowError, OSError, ValueError):
                pass
        raise _field_error(where, key, f"expected epoch seconds, got {show_value(value)}")
    stamp = node.get("timestamp")
    if isinstance(stamp, str):
        iso = _parse_iso(stamp)
        if iso is None:
            raise _field_error(where, "timestamp", f"expected an ISO-8601 date-time, got {stamp!r}")
        return iso
    return None


def _instagram_paid(node: Mapping[str, object]) -> bool | None:
    """The paid-partnership label: sponsor edges (GraphQL) or ``is_paid_partnership`` (web API).

    An empty ``edge_media_to_sponsor_user.edges`` list means Instagram said "no
    sponsor"; a missing key means the source did not say (None).
    """
    answers: list[bool] = []
    sponsors = node.get("edge_media_to_sponsor_user")
    if isinstance(sponsors, dict) and isinstance(sponsors.get("edges"), list):
        answers.append(bool(sponsors["edges"]))
    flag = node.get("is_paid_partnership")
    if isinstance(flag, bool):
        answers.append(flag)
    if not answers:
        return None
    return any(answers)


def _instagram_is_video(node: Mapping[str, object]) -> bool | None:
    """``is_video``, else derived from ``media_type`` (v1 numbers or Graph API names)."""
    value = node.get("is_video")
    if isinstance(value, bool):
        return value
    media_type = node.get("media_type")
    if isinstance(media_type, (int, str)) and not isinstance(media_type, bool):
        return _MEDIA_TYPE_IS_VIDEO.get(media_type)
    return None


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
            yield from _read_jsonl(text.split("\n"), {}, where, platform, jurisdiction)
            return
        yield InputError(where, f"invalid JSON: {err.msg} at line {err.lineno} column {err.colno}")
        return
    except RecursionError:
        yield InputError(where, "invalid JSON: nested too deeply")
        return
    yield from _instagram_items(doc, where, jurisdiction)


def _is_instagram_file(name: str) -> bool:
    """True for a file name a directory read picks up (not hidden, not a comments file)."""
    lower = name.lower()
    return (
        not name.startswith(".")
        and lower.endswith(_INSTAGRAM_SUFFIXES)
        and not lower.endswith(_INSTAGRAM_SKIP_SUFFIXES)
    )


def _directory_files(root: Path) -> list[Path]:
    """Instagram JSON files in ``root`` and its immediate subdirectories, sorted by path.

    One level of subdirectories covers instaloader's layout (one folder per
    profile or hashtag under the download directory).
    """
    found: list[Path] = []
    for entry in root.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found.extend(
                sub for sub in entry.iterdir() if _is_instagram_file(sub.name) and sub.is_file()
            )
        elif _is_instagram_file(entry.name) and entry.is_file():
            found.append(entry)
    return sorted(found)


# --- JSON Lines ---------------------------------------------------------------------------


def _json_line_error(line: str, err: ValueError) -> str:
    """The message for a JSON Lines line that does not decode (comments get their own)."""
    stripped = line.lstrip()
    if stripped.startswith(("//", "#")):
        return "comment lines are not allowed in JSON Lines (put notes in a 'notes' field)"
    if isinstance(err, json.JSONDecodeError):
        return f"invalid JSON: {err.msg} at column {err.colno}"
    return f"invalid JSON: {err}"


def _read_jsonl(
    lines: Iterable[str],
    bad_lines: Mapping[int, str],
    name: str,
    platform: str | None,
    jurisdiction: str | None,
    close: Callable[[], None] | None = None,
) -> Iterator[Post | InputError]:
    """Posts from JSON Lines, one line at a time; ``bad_lines`` are lines that were not UTF-8."""
    decode = json.JSONDecoder().decode  # skips json.loads' per-call argument checks
    try:
        for number, line in enumerate(lines, 1):
            if not line or line.isspace():
                continue
            where = f"{name}:{number}"
            if bad_lines and number in bad_lines:
                yield InputError(where, bad_lines[number])
                continue
            try:
                record = decode(line)
            except ValueError as err:
                yield InputError(where, _json_line_error(line, err))
                continue
            except RecursionError:
                yield InputError(where, "invalid JSON: nested too deeply")
                continue
            try:
                yield post_from_record(
                    record,
                    where=where,
                    default_platform=platform,
                    default_jurisdiction=jurisdiction,
                )
            except InputFormatError as err:
                # A line holding an Instagram object (a scraper's dump) is read as one.
                if isinstance(record, dict) and not _INSTAGRAM_MARKERS.isdisjoint(record):
                    yield from _instagram_items(record, where, jurisdiction)
                else:
                    yield InputError(err.where, err.message)
    finally:
        if close is not None:
            close()


# --- CSV --------------------------------------------------------------------------------

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


def _csv_delimiter(header_line: str) -> str:
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
                raise _field_error(where, column, f"{_CSV_BOOL_EXPECTED}, got {value!r}")
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
                raise _field_error(where, "campaign", f"invalid JSON: {message}") from None
            if parsed is None:
                continue
            if not isinstance(parsed, dict):
                raise _field_error(
                    where, "campaign", f"expected a JSON object, got {show_value(parsed)}"
                )
            nested = parsed
    if nested is not None:
        both = sorted(set(nested) & set(flat))
        if both:
            raise _field_error(
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


def _start_csv(
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
    if lower.endswith((*_INSTAGRAM_SUFFIXES, ".xz")):
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
        return _read_jsonl(stream, bad_lines, name, platform, jurisdiction, close)
    if kind in ("csv", "tsv"):
        delimiter = "\t" if kind == "tsv" else _csv_delimiter(first_line)
        try:
            return _start_csv(stream, bad_lines, name, delimiter, platform, jurisdiction, close)
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
    return _instagram_items(doc, name, jurisdiction)


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
        platform = _normalise_platform(default_platform)
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
            files = _directory_files(target)
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
