"""Bluesky: the public AppView's author feed, tag search and single posts (no login needed).

Endpoints (platforms.md §4): ``app.bsky.feed.getAuthorFeed`` [DOC] with
``filter=posts_no_replies``, ``limit`` ≤ 100 and an opaque ``cursor`` that is absent
on the last page; ``app.bsky.feed.getPostThread`` for one post by its at:// URI
[DOC lexicon; not in platforms.md]; ``app.bsky.feed.searchPosts`` with ``tag=`` for
hashtag monitors [DOC lexicon; not in platforms.md, so INF here]. Bluesky has no
"since" parameter: the listing is newest first and the run stops reading when it
has what it needs (the generator is lazy).

The caption is what the audience reads as the post, in this order:
1. ``record.text``, with link facets whose visible text is shortened followed by
   the full address (facet offsets count UTF-8 bytes [DOC]);
2. the hidden ``record.tags`` [DOC: "additional hashtags"], appended as ``#tag``
   words on their own line. Official clients do not show them, but issue 7 counts
   them as caption text (they are the creator's own tagging, and search shows the
   post under them); they are also listed in ``labels["hidden_tags"]`` so a report
   can say the disclosure was only there;
3. the link card (``embed.external`` title and description) on its own line. The
   card is part of the creator's own signed record (their client wrote it when
   posting) and every client renders it inside the post, directly under the text,
   so its words are seen with the post; a card disclosure therefore counts. It is
   also kept in ``labels["link_card"]``. Quoted posts are someone else's words and
   are left out.

The source keeps nothing in the monitor state: there is no id to resolve (the
AppView takes handles) and the run keeps its own high-water mark. It never filters
a listing by what an earlier run saw: the run re-reads its window and marks posts
missing from a complete listing as gone, so a filtered listing would read as deletions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from compliance.model import Post
from monitors.errors import (
    AuthExpired,
    FetchError,
    Malformed,
    NotConfigured,
    NotFound,
    Private,
    RateLimited,
    Unavailable,
)
from monitors.http import PlatformClient, decode_json
from monitors.sources.base import ACCOUNT, HASHTAG, POST, Fetched, SourceSettings
from monitors.sources.common import (
    base_url,
    error_body,
    iso_utc,
    link_text,
    one_line,
    page_size,
    require_dict,
)

PLATFORM = "bluesky"
API_URL = "https://public.api.bsky.app"
WEB_URL = "https://bsky.app"

_REPOST = "app.bsky.feed.defs#reasonRepost"
_POST_COLLECTION = "app.bsky.feed.post"
_HOSTS = frozenset({"bsky.app", "www.bsky.app", "staging.bsky.app", "main.bsky.dev"})
# bsky.app/profile/<handle or did>/post/<rkey>; rkeys are TIDs (13 base32 chars) but any
# record key is allowed by the protocol, so the pattern accepts the record-key alphabet.
_POST_PATH = re.compile(r"^/profile/([^/]+)/post/([A-Za-z0-9._:~-]{1,512})/?$")
_AT_URI = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]+)$")

# XRPC error names (400 bodies) that mean the account exists but we may not see it.
# A takedown or deactivation is not a deletion: the creator may come back.
_HIDDEN = {
    "BlockedActor": "the account blocks us or is blocked",
    "BlockedByActor": "the account blocks us or is blocked",
    "AccountTakedown": "the account was taken down by the moderation service",
    "AccountDeactivated": "the account is deactivated",
}
# XRPC error names for a refused login (the PDS/AppView auth verifier).
_AUTH = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"})


class BlueskySource:
    """Reads a Bluesky account's own posts, a hashtag's recent posts, or one post by URL."""

    platform: ClassVar[str] = PLATFORM
    capabilities: ClassVar[frozenset[str]] = frozenset({ACCOUNT, HASHTAG, POST})

    def __init__(self, http: PlatformClient, settings: SourceSettings) -> None:
        self.http = http
        self.settings = settings
        self.api = base_url(settings.api_url, API_URL)
        self.web = base_url(settings.web_url, WEB_URL)

    # --- the Source interface -------------------------------------------------------
    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The account's own posts (no replies, no reposts), newest first, page by page."""
        actor = account.strip().lstrip("@")
        params: dict[str, Any] = {
            "actor": actor,
            "filter": "posts_no_replies",
            "limit": page_size(self.settings, 50, 100),
        }
        while True:
            data = self._get("app.bsky.feed.getAuthorFeed", params, target=account)
            feed = data.get("feed")
            if not isinstance(feed, list):
                raise Malformed(
                    "no 'feed' list in the author feed", platform=PLATFORM, target=account
                )
            for entry in feed:
                entry = require_dict(entry, "a feed entry", platform=PLATFORM, target=account)
                reason = entry.get("reason")
                if isinstance(reason, dict) and reason.get("$type") == _REPOST:
                    continue  # someone else's post: not the creator's caption
                yield self._fetched(entry.get("post"), target=account)
            cursor = data.get("cursor")
            if not cursor or not feed:
                return
            params = {**params, "cursor": cursor}

    def hashtag_posts(self, tag: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """Recent posts carrying ``#tag`` in their text facets or hidden tags, newest first.

        ``searchPosts`` with ``tag=`` (the lexicon: "based on rich-text facet or tag
        field") and ``sort=latest``. Bluesky's public AppView often refuses
        unauthenticated search (403) and does not page it (a cursor is refused
        without a login, atproto issue 3583 / bsky-docs 296): without a token this
        reads one page of up to 100 posts; with ``token`` (an access JWT) it pages.
        """
        name = tag.strip().lstrip("#")
        params: dict[str, Any] = {
            "q": f"#{name}",
            "tag": name,
            "sort": "latest",
            "limit": page_size(self.settings, 100, 100),
        }
        while True:
            data = self._get("app.bsky.feed.searchPosts", params, target=f"#{name}")
            posts = data.get("posts")
            if not isinstance(posts, list):
                raise Malformed(
                    "no 'posts' list in the search result", platform=PLATFORM, target=f"#{name}"
                )
            for item in posts:
                yield self._fetched(item, target=f"#{name}")
            cursor = data.get("cursor")
            if not cursor or not posts or not self.settings.token:
                return
            params = {**params, "cursor": cursor}

    def post(self, url: str) -> Fetched:
        """One post by its bsky.app URL (or at:// URI); NotFound when it was deleted."""
        ref = _parse_url(url)
        if ref is None:
            raise NotFound(
                f"not a Bluesky post URL: {one_line(url)}", platform=PLATFORM, target=url
            )
        actor, rkey = ref
        uri = f"at://{actor}/{_POST_COLLECTION}/{rkey}"
        data = self._get(
            "app.bsky.feed.getPostThread",
            {"uri": uri, "depth": 0, "parentHeight": 0},
            target=url,
        )
        thread = require_dict(data.get("thread"), "'thread'", platform=PLATFORM, target=url)
        kind = str(thread.get("$type", ""))
        if kind.endswith("#notFoundPost") or thread.get("notFound") is True:
            raise NotFound("the post was deleted (or never existed)", platform=PLATFORM, target=url)
        if kind.endswith("#blockedPost") or thread.get("blocked") is True:
            raise Private(
                "the post's author blocks us or is blocked", platform=PLATFORM, target=url
            )
        return self._fetched(thread.get("post"), target=url)

    @classmethod
    def post_ref(cls, url: str) -> str | None:
        """The post's record key for ``bsky.app/profile/<handle|did>/post/<rkey>`` URLs."""
        ref = _parse_url(url)
        return ref[1] if ref else None

    # --- requests and errors --------------------------------------------------------
    def _get(self, method: str, params: dict[str, Any], *, target: str) -> dict[str, Any]:
        headers = (
            {"authorization": f"Bearer {self.settings.token}"} if self.settings.token else None
        )
        response = self.http.get(f"{self.api}/xrpc/{method}", params=params, headers=headers)
        if response.status_code >= 400:
            raise _error(response, method, target, authenticated=bool(self.settings.token))
        data = decode_json(response, platform=PLATFORM, target=target)
        return require_dict(data, f"the {method} answer", platform=PLATFORM, target=target)

    # --- mapping ------------------------------------------------------------------------
    def _fetched(self, view: Any, *, target: str) -> Fetched:
        view = require_dict(view, "a post view", platform=PLATFORM, target=target)
        uri = view.get("uri")
        record = view.get("record")
        author = view.get("author")
        match = _AT_URI.match(uri) if isinstance(uri, str) else None
        if match is None or not isinstance(record, dict) or not isinstance(author, dict):
            raise Malformed(
                "a post without uri, record or author", platform=PLATFORM, target=target
            )
        did, rkey = match.groups()
        handle = author.get("handle") if isinstance(author.get("handle"), str) else None
        caption, labels = caption_of(record, view.get("embed"))
        post = Post(
            caption=caption,
            id=rkey,
            platform=PLATFORM,
            author=f"@{handle}" if handle else did,
            # The did form: a handle can change hands, the did cannot, so stored
            # evidence keeps pointing at the same post.
            url=f"{self.web}/profile/{did}/post/{rkey}",
            # indexedAt is the AppView's own clock; createdAt is whatever the
            # client wrote (and can be back-dated), so it is only the fallback.
            posted_at=iso_utc(view.get("indexedAt")) or iso_utc(record.get("createdAt")),
            is_video=_is_video(view.get("embed")),
            # Bluesky has no paid-partnership label (self-labels are content warnings).
            paid_partnership=None,
            language=_language(record),
        )
        return Fetched(post, raw_value=view, labels=labels)

    def __repr__(self) -> str:
        return f"BlueskySource(api={self.api!r})"


def caption_of(record: dict[str, Any], embed_view: Any) -> tuple[str, dict[str, Any]]:
    """The caption text of a post record (see the module docstring) and its labels."""
    text = record.get("text")
    text = text if isinstance(text, str) else ""
    parts = [_with_links(text, record.get("facets"))]
    labels: dict[str, Any] = {}
    tags = [t.strip().lstrip("#") for t in record.get("tags") or () if isinstance(t, str)]
    tags = [t for t in tags if t]
    if tags:
        parts.append(" ".join(f"#{t}" for t in tags))
        labels["hidden_tags"] = tags
    card = _external(embed_view) or _external(record.get("embed"))
    if card:
        parts.append(card)
        labels["link_card"] = card
    return "\n".join(p for p in parts if p), labels


def _with_links(text: str, facets: Any) -> str:
    """``text`` with each shortened link facet followed by its full URI.

    Offsets are UTF-8 byte offsets [DOC], so the text is sliced as bytes; facets
    with offsets outside the text, overlapping or not on character boundaries are
    ignored (clients write them, and a bad one must not lose the caption).
    """
    if not isinstance(facets, list):
        return text
    raw = text.encode("utf-8")
    links: list[tuple[int, int, str]] = []
    for facet in facets:
        if not isinstance(facet, dict):
            continue
        index = facet.get("index")
        features = facet.get("features")
        if not isinstance(index, dict) or not isinstance(features, list):
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw)):
            continue
        for feature in features:
            if (
                isinstance(feature, dict)
                and str(feature.get("$type", "")).endswith("#link")
                and isinstance(feature.get("uri"), str)
            ):
                links.append((start, end, feature["uri"]))
    out: list[bytes] = []
    pos = 0
    for start, end, uri in sorted(links):
        if start < pos:
            continue
        try:
            visible = raw[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
        out.append(raw[pos:start])
        out.append(link_text(visible, uri).encode("utf-8"))
        pos = end
    out.append(raw[pos:])
    return b"".join(out).decode("utf-8")


def _external(embed: Any) -> str:
    """The link card's title and description (``external``, or inside ``recordWithMedia``)."""
    if not isinstance(embed, dict):
        return ""
    external = embed.get("external")
    if not isinstance(external, dict):
        media = embed.get("media")
        return _external(media) if isinstance(media, dict) else ""
    title = external.get("title") if isinstance(external.get("title"), str) else ""
    description = (
        external.get("description") if isinstance(external.get("description"), str) else ""
    )
    return " — ".join(p.strip() for p in (title, description) if p.strip())


def _is_video(embed: Any) -> bool:
    if not isinstance(embed, dict):
        return False
    kind = str(embed.get("$type", ""))
    if kind.startswith("app.bsky.embed.video"):
        return True
    media = embed.get("media")
    return _is_video(media) if isinstance(media, dict) else False


def _language(record: dict[str, Any]) -> str | None:
    langs = record.get("langs")
    if isinstance(langs, list) and len(langs) == 1 and isinstance(langs[0], str):
        return langs[0].split("-")[0].lower() or None
    return None  # none or several declared: let the engine detect


def _parse_url(url: str) -> tuple[str, str] | None:
    """(handle or did, rkey) of a Bluesky post URL or at:// URI; None otherwise."""
    text = url.strip()
    match = _AT_URI.match(text)
    if match:
        return match.group(1), match.group(2)
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if (parts.hostname or "").lower() not in _HOSTS:
        return None
    match = _POST_PATH.match(parts.path)
    return (match.group(1), match.group(2)) if match else None


def _error(
    response: httpx.Response, method: str, target: str, *, authenticated: bool
) -> FetchError:
    """The typed failure for an XRPC error response (``{"error": Name, "message": ...}``)."""
    status = response.status_code
    body = error_body(response)
    name = body.get("error") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    detail = one_line(message or name or f"HTTP {status}")
    kw: dict[str, Any] = {"platform": PLATFORM, "target": target, "status": status}
    if name in _HIDDEN:
        return Private(f"{_HIDDEN[name]} ({name})", **kw)
    if name == "NotFound" or (name == "InvalidRequest" and "not found" in detail.lower()):
        return NotFound(detail, **kw)
    if status == 429 or name == "RateLimitExceeded":
        return RateLimited(detail, retry_after=None, **kw)
    if name in _AUTH and authenticated:
        return AuthExpired(f"the AppView refused the token: {detail} ({name})", **kw)
    if status in (401, 403) and method == "app.bsky.feed.searchPosts" and not authenticated:
        return NotConfigured(
            "this AppView refuses unauthenticated post search (HTTP "
            f"{status}); set platforms.bluesky.token_env to an access token, or api_url "
            "to an AppView that allows it",
            **kw,
        )
    if status in (401, 403):
        return AuthExpired(f"the AppView refused the request: {detail}", **kw)
    if status >= 500:
        return Unavailable(detail, **kw)
    return Malformed(f"{method} refused the request: {detail}", **kw)
