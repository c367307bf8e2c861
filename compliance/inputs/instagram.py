"""Instagram posts as instaloader, Instagram's web API and the Graph API write them.

:func:`instagram_post` maps one media object to a :class:`~compliance.model.Post`;
it is public so that the monitors map Graph API media dicts (``id, caption,
permalink, timestamp "2021-08-17T19:00:42+0000", media_type, media_product_type,
username``) the same way the file reader maps instaloader nodes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from compliance.inputs.records import InputError, InputFormatError, check_unicode, field_error
from compliance.model import Post, show_value
from compliance.timeparse import iso_or_none, parse_timestamp

# Keys that only Instagram's shapes have: a JSON Lines record carrying one of them
# is read as an Instagram post rather than rejected for unknown fields.
INSTAGRAM_MARKERS = frozenset(
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
# An album (v1 type 8, Graph CAROUSEL_ALBUM) may hold videos among its pictures: unknown
# (None), not "no video", so that an in-video disclosure is not ruled out or required.
_MEDIA_TYPE_IS_VIDEO: dict[object, bool | None] = {
    1: False,
    2: True,
    8: None,
    "IMAGE": False,
    "VIDEO": True,
    "CAROUSEL_ALBUM": None,
}
INSTAGRAM_SUFFIXES = (".json", ".json.xz", ".info", ".info.xz")
# instaloader writes comments next to each post as ``<post>_comments.json``: a list
# of comments, not posts.
_INSTAGRAM_SKIP_SUFFIXES = ("_comments.json", "_comments.json.xz")


def instagram_items(
    doc: object, where: str, jurisdiction: str | None
) -> Iterator[Post | InputError]:
    """Posts from one Instagram JSON document: a post, a wrapper around one, or a list of them."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from instagram_items(item, f"{where}[{i}]", jurisdiction)
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
                yield from instagram_items(item, f"{where}[{i}]", jurisdiction)
            return
    node = _unwrap(doc)
    if _is_profile(node):
        return
    try:
        yield _post_from_node(node, where, jurisdiction)
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


def instagram_post(node: Mapping[str, object], where: str, jurisdiction: str | None = None) -> Post:
    """Map one Instagram media object to a :class:`Post`: an instaloader node (bare or as
    ``{"node": ...}``), a web API ``shortcode_media`` or v1 item, or a Graph API media dict.

    ``where`` names the object in errors; raises :class:`InputFormatError` naming the
    field when the object is not a post or a field has the wrong type.
    """
    if isinstance(node, dict):
        node = _unwrap(node)
    return _post_from_node(node, where, jurisdiction)


def _post_from_node(node: Mapping[str, object], where: str, jurisdiction: str | None) -> Post:
    """Map one unwrapped Instagram post object to a Post."""
    shortcode = node.get("shortcode")
    if shortcode is None:
        shortcode = node.get("code")
    if shortcode is not None and not isinstance(shortcode, str):
        raise field_error(where, "shortcode", f"expected a string, got {show_value(shortcode)}")
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
        caption=_unicode_caption(node, where),
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
                raise field_error(
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
        raise field_error(where, "caption.text", f"expected a string, got {show_value(text)}")
    raise field_error(
        where, "caption", f"expected a string or an object, got {show_value(caption)}"
    )


def _unicode_caption(node: Mapping[str, object], where: str) -> str:
    """The caption, refused (as this record's error) if it holds a lone surrogate."""
    caption = _instagram_caption(node, where)
    check_unicode(caption, where, "caption")
    return caption


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
                return parse_timestamp(value).isoformat()
            except ValueError:
                pass
        raise field_error(where, key, f"expected epoch seconds, got {show_value(value)}")
    stamp = node.get("timestamp")
    if isinstance(stamp, str):
        iso = iso_or_none(stamp)
        if iso is None:
            raise field_error(where, "timestamp", f"expected an ISO-8601 date-time, got {stamp!r}")
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


def is_instagram_file(name: str) -> bool:
    """True for a file name a directory read picks up (not hidden, not a comments file)."""
    lower = name.lower()
    return (
        not name.startswith(".")
        and lower.endswith(INSTAGRAM_SUFFIXES)
        and not lower.endswith(_INSTAGRAM_SKIP_SUFFIXES)
    )


def directory_files(root: Path) -> list[Path]:
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
                sub for sub in entry.iterdir() if is_instagram_file(sub.name) and sub.is_file()
            )
        elif is_instagram_file(entry.name) and entry.is_file():
            found.append(entry)
    return sorted(found)
