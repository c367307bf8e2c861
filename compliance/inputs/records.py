"""One post record (the JSON Lines shape) to a :class:`~compliance.model.Post`, strictly.

Shared by every reader: CSV rows become records of the same shape first. Unknown
keys are errors (a typo such as ``"captoin"`` cannot make a field silently
disappear); every error names its field. This is the hot path of a 40,000-post
check: per record one dict walk, and error wording only on the error path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches

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
from compliance.safe import lone_surrogate
from compliance.timeparse import iso_or_none

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

_JSON_BOOL_EXPECTED = "expected true, false or null"


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


def field_error(where: str, field: str, message: str) -> InputFormatError:
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
    check_unicode(record, where)

    caption = record.get("caption")
    if not isinstance(caption, str):
        if "caption" not in record:
            raise field_error(where, "caption", 'is required (use "" for a post without text)')
        raise field_error(where, "caption", f"expected a string, got {show_value(caption)}")

    post_id = record.get("id")
    if post_id is not None and not isinstance(post_id, str):
        # Exports often carry numeric ids; bool is an int subclass but never an id.
        if isinstance(post_id, int) and not isinstance(post_id, bool):
            post_id = str(post_id)
        else:
            raise field_error(
                where, "id", f"expected a string or an integer, got {show_value(post_id)}"
            )

    platform = record.get("platform")
    if platform is None or platform == "":
        platform = default_platform or "other"
    elif platform not in _PLATFORM_SET:  # fast path: already lower-case and valid
        if not isinstance(platform, str):
            raise field_error(where, "platform", f"expected a string, got {show_value(platform)}")
        normalised = normalise_platform(platform)
        if normalised is None:
            raise field_error(
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
            raise field_error(
                where, "jurisdiction", f"expected a string, got {show_value(jurisdiction)}"
            )
        code = normalise_jurisdiction(jurisdiction)
        if code is None:
            raise field_error(
                where,
                "jurisdiction",
                f"expected a 2-letter country code such as US or GB, got {jurisdiction!r}",
            )
        jurisdiction = code

    posted_at = record.get("posted_at")
    if posted_at is not None:
        if not isinstance(posted_at, str):
            raise field_error(
                where,
                "posted_at",
                f"expected an ISO-8601 date-time string, got {show_value(posted_at)}",
            )
        if posted_at.strip():
            iso = iso_or_none(posted_at)
            if iso is None:
                raise field_error(
                    where,
                    "posted_at",
                    f"expected an ISO-8601 date-time such as 2024-05-01T12:00:00Z, got {posted_at!r}",
                )
            posted_at = iso
        else:
            posted_at = None

    paid = record.get("paid_partnership")
    if paid is not None and not isinstance(paid, bool):
        raise field_error(
            where, "paid_partnership", f"{_JSON_BOOL_EXPECTED}, got {show_value(paid)}"
        )
    is_video = record.get("is_video")
    if is_video is not None and not isinstance(is_video, bool):
        raise field_error(where, "is_video", f"{_JSON_BOOL_EXPECTED}, got {show_value(is_video)}")

    language = record.get("language")
    if language is not None:
        if not isinstance(language, str):
            raise field_error(where, "language", f"expected a string, got {show_value(language)}")
        if language.strip():
            tag = _normalise_language(language)
            if tag is None:
                raise field_error(
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
            raise field_error(
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


def check_unicode(value: object, where: str, key: str = "") -> None:
    """Refuse a record holding a lone surrogate anywhere (JSON's "\\ud800"): such text is not
    Unicode and cannot be hashed or stored, so it is this record's error, not the run's."""
    if isinstance(value, str):
        at = lone_surrogate(value)
        if at is not None:
            raise field_error(
                where,
                key or "record",
                f"contains a lone surrogate (\\u{ord(value[at]):04x}) at character {at + 1}: "
                "not valid Unicode (fix the export that wrote it)",
            )
    elif isinstance(value, Mapping):
        for k, v in value.items():
            check_unicode(v, where, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for n, v in enumerate(value):
            check_unicode(v, where, f"{key}[{n}]")


def _optional_text(
    record: Mapping[str, object], key: str, where: str, *, strip: bool = True
) -> str | None:
    """A string field that may be absent or null; blank becomes None."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise field_error(where, key, f"expected a string, got {show_value(value)}")
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
        raise field_error(where, err.field, err.problem) from None
    return None if campaign.is_empty else campaign


def normalise_platform(value: str) -> str | None:
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
