"""Instagram: the Graph API's Business Discovery and hashtag search (token and user id needed).

Endpoints (platforms.md §2): Business Discovery on our own professional account
``GET /{version}/{settings.user_id}?fields=business_discovery.username(<handle>){…media.limit(N){…}}``
[DOC], paged by field expansion ``media.after(<cursor>).limit(N)`` with
``paging.cursors.after`` (BD has no ``next`` URL and no ``before`` [SDK]; the last
page has no ``paging`` or no ``after`` [INF]); hashtag monitors via
``ig_hashtag_search?user_id=&q=`` then ``/{hashtag-id}/recent_media?user_id=&fields=…``
[DOC on Meta's site, not in platforms.md, so INF here: the field list, the 24-hour
window of recent media, ``paging.cursors.after``]. The token goes as the
``access_token`` parameter (what the SDKs do); the client redacts it from messages.

Only professional (business or creator) accounts can be read, and Meta answers a
personal account exactly like a missing one (code 110 / subcode 2207013): the
NotFound message says so, and it must not be read as a deletion.

What the API gives is what the public sees, with one exception that matters to
the engine: **the ``@`` of mentions is stripped from ``caption`` unless the
caller has admin rights on the media's account** [DOC]. A caption that reads
"in partnership with @goldenmill" on Instagram may arrive as "in partnership with
goldenmill", so the engine's brand-handle matching must also accept the bare
handle for Instagram posts that came through the Graph API.

There is no paid-partnership label for third parties (it exists only on the
brand-side branded-content endpoints [DOC]): ``paid_partnership`` stays None.

The Post mapping below is a private copy of the Graph-API part of
``compliance.inputs``' Instagram mapping; when that module's split exposes the
mapping publicly, this should call it instead (the id is the shortcode, as there,
so a post imported from instaloader and the same post fetched here agree).

Monitor state: ``hashtag_id`` (and ``hashtag``) for hashtag monitors, because Meta
allows only 30 distinct hashtag searches per account per 7 days [DOC].
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from compliance.inputs.instagram import instagram_post
from compliance.inputs.records import InputFormatError
from compliance.model import Post
from compliance.safe import scrub_surrogates
from monitors.errors import (
    AuthExpired,
    FetchError,
    Malformed,
    NotConfigured,
    NotFound,
    RateLimited,
    Unavailable,
)
from monitors.http import PlatformClient, decode_json
from monitors.sources.base import ACCOUNT, HASHTAG, POST, Fetched, SourceSettings
from monitors.sources.common import (
    base_url,
    error_body,
    header_json,
    iso_utc,
    one_line,
    page_size,
    require_dict,
)

PLATFORM = "instagram"
API_URL = "https://graph.facebook.com"
VERSION = "v25.0"
MEDIA_FIELDS = "id,caption,comments_count,like_count,media_type,media_product_type,permalink,timestamp,username"
# Hashtag media has no owner fields (username is not among them) [INF].
HASHTAG_FIELDS = "id,caption,comments_count,like_count,media_type,permalink,timestamp"
POST_SEARCH_LIMIT = 500  # how many of an owner's newest posts post(url) reads at most

_HOSTS = frozenset(
    {"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"}
)
_KINDS = "p|reel|reels|tv"
_POST_PATH = re.compile(rf"^/(?:([A-Za-z0-9._]{{1,30}})/)?(?:{_KINDS})/([A-Za-z0-9_-]{{5,64}})/?$")
_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,30}$")
_RATE_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80004, 80006, 80008})
_AUTH_CODES = frozenset({102, 190, 10}) | frozenset(range(200, 300))


class InstagramSource:
    """Reads a professional Instagram account's media, a hashtag's recent media, or one post."""

    platform: ClassVar[str] = PLATFORM
    capabilities: ClassVar[frozenset[str]] = frozenset({ACCOUNT, HASHTAG, POST})

    def __init__(self, http: PlatformClient, settings: SourceSettings) -> None:
        self.http = http
        self.settings = settings
        version = str(settings.options.get("version") or VERSION).strip("/")
        self.api = f"{base_url(settings.api_url, API_URL)}/{version}"

    # --- the Source interface -------------------------------------------------------
    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The account's media, newest first, through Business Discovery."""
        yield from self._discovery(account, page_size(self.settings, 25, 100))

    def _discovery(self, account: str, size: int) -> Iterator[Fetched]:
        handle = account.strip().lstrip("@")
        if not _HANDLE.match(handle):
            raise NotFound(
                f"not an Instagram username: {one_line(account)!r}",
                platform=PLATFORM,
                target=account,
            )
        user_id = self._user_id()
        media = f"media.limit({size}){{{MEDIA_FIELDS}}}"
        fields = f"business_discovery.username({handle}){{id,username,media_count,{media}}}"
        while True:
            data = self._get(f"/{user_id}", {"fields": fields}, target=account)
            discovery = require_dict(
                data.get("business_discovery"),
                "'business_discovery'",
                platform=PLATFORM,
                target=account,
            )
            owner = (
                discovery.get("username") if isinstance(discovery.get("username"), str) else handle
            )
            page = discovery.get("media")
            if page is None:
                return  # an account without media has no "media" edge [INF]
            page = require_dict(page, "'media'", platform=PLATFORM, target=account)
            for node in _items(page, account):
                yield Fetched(media_post(node, owner=owner), raw_value=node)
            after = _after(page)
            if after is None:
                return
            media = f"media.after({after}).limit({size}){{{MEDIA_FIELDS}}}"
            fields = f"business_discovery.username({handle}){{{media}}}"

    def hashtag_posts(self, tag: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The hashtag's recent media (the last 24 hours, as Meta defines recent)."""
        name = tag.strip().lstrip("#").lower()
        user_id = self._user_id()
        hashtag_id = state.get("hashtag_id") if state.get("hashtag") == name else None
        if not isinstance(hashtag_id, str) or not hashtag_id:
            data = self._get(
                "/ig_hashtag_search", {"user_id": user_id, "q": name}, target=f"#{name}"
            )
            found = data.get("data")
            if not isinstance(found, list):
                raise Malformed(
                    "no 'data' in the hashtag search", platform=PLATFORM, target=f"#{name}"
                )
            if not found or not isinstance(found[0], dict) or not found[0].get("id"):
                raise NotFound(
                    "Instagram knows no such hashtag", platform=PLATFORM, target=f"#{name}"
                )
            hashtag_id = str(found[0]["id"])
            state["hashtag_id"], state["hashtag"] = hashtag_id, name
        params: dict[str, Any] = {
            "user_id": user_id,
            "fields": HASHTAG_FIELDS,
            "limit": page_size(self.settings, 50, 50),
        }
        while True:
            page = self._get(f"/{hashtag_id}/recent_media", params, target=f"#{name}")
            for node in _items(page, f"#{name}"):
                yield Fetched(media_post(node, owner=None), raw_value=node)
            after = _after(page)
            if after is None:
                return
            params = {**params, "after": after}

    def post(self, url: str) -> Fetched:
        """One post by permalink, found among its owner's newest posts.

        The Graph API cannot look up another account's post by its shortcode, so
        this needs a URL that names the owner (``instagram.com/<user>/p/<code>/``,
        as the share button now writes them) and reads that account's media until
        it finds the post: NotFound when the whole list was read without it (it was
        deleted), NotConfigured when it is older than the newest POST_SEARCH_LIMIT.
        """
        ref = _parse_url(url)
        if ref is None:
            raise NotFound(
                f"not an Instagram post URL: {one_line(url)}", platform=PLATFORM, target=url
            )
        owner, code = ref
        if owner is None:
            raise NotConfigured(
                "the Instagram Graph API cannot look up another account's post by its "
                "link alone; check the account (instagram:@user) or use a link that "
                "names it (instagram.com/<user>/p/<code>/)",
                platform=PLATFORM,
                target=url,
            )
        limit = int(self.settings.options.get("post_search_limit") or POST_SEARCH_LIMIT)
        # The largest pages: this reads far back, and every request counts against
        # the account's Business Use Case budget.
        for n, fetched in enumerate(self._discovery(owner, 100), start=1):
            if fetched.post.id == code:
                return fetched
            if n >= limit:
                raise NotConfigured(
                    f"not among @{owner}'s newest {limit} posts; the Graph API cannot "
                    "look up older posts of other accounts",
                    platform=PLATFORM,
                    target=url,
                )
        raise NotFound(f"not among @{owner}'s posts: deleted", platform=PLATFORM, target=url)

    @classmethod
    def post_ref(cls, url: str) -> str | None:
        """The shortcode of ``instagram.com/p|reel|tv/<code>/`` URLs (with or without the owner)."""
        ref = _parse_url(url)
        return ref[1] if ref else None

    # --- requests and errors --------------------------------------------------------
    def _user_id(self) -> str:
        if not self.settings.token:
            raise NotConfigured(
                "Instagram needs a Graph API access token: set platforms.instagram.token_env "
                "to the environment variable that holds it",
                platform=PLATFORM,
            )
        if not self.settings.user_id:
            raise NotConfigured(
                "Instagram needs your own professional account's id: set "
                "platforms.instagram.user_id_env to the environment variable that holds it",
                platform=PLATFORM,
            )
        return self.settings.user_id

    def _get(self, path: str, params: dict[str, Any], *, target: str) -> dict[str, Any]:
        response = self.http.get(
            self.api + path, params={**params, "access_token": self.settings.token}
        )
        if response.status_code >= 400:
            body = error_body(response)
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                raise graph_error(body["error"], response, target)
            decode_json(response, platform=PLATFORM, target=target)  # an HTML page: BotWall
            raise Malformed(
                f"HTTP {response.status_code} without a Graph API error",
                platform=PLATFORM,
                target=target,
                status=response.status_code,
            )
        body = decode_json(response, platform=PLATFORM, target=target)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise graph_error(body["error"], response, target)
        return require_dict(body, "the Graph API answer", platform=PLATFORM, target=target)

    def __repr__(self) -> str:
        return f"InstagramSource(api={self.api!r})"


def graph_error(error: Mapping[str, Any], response: httpx.Response, target: str) -> FetchError:
    """The typed failure for a Graph API ``{"error": {...}}`` body (platforms.md §2)."""
    code = error.get("code")
    sub = error.get("error_subcode")
    message = one_line(error.get("message") or f"Graph API error {code}")
    kw: dict[str, Any] = {"platform": PLATFORM, "target": target, "status": response.status_code}
    if code == 190:
        why = "expired" if sub == 463 else "invalid"
        return AuthExpired(
            f"the access token is {why} (code 190/{sub}): renew it and update the variable "
            f"named by platforms.instagram.token_env ({message})",
            **kw,
        )
    if code == 110 or sub == 2207013:
        return NotFound(
            "no Instagram professional account by that name: it does not exist, or it is a "
            "personal account (Meta answers both the same way) "
            f"(code {code}/{sub}: {message})",
            **kw,
        )
    if code in _RATE_CODES:
        return RateLimited(
            f"Instagram throttled us (code {code}): {message}",
            retry_after=regain_seconds(response.headers),
            **kw,
        )
    if code in _AUTH_CODES or (code == 100 and "permission" in message.lower()):
        return AuthExpired(f"the token lacks a permission (code {code}): {message}", **kw)
    if code == 100:
        return NotConfigured(
            "the Graph API refused the request (code 100): check platforms.instagram."
            f"user_id_env names your professional account's id ({message})",
            **kw,
        )
    if error.get("is_transient") is True or code in (1, 2):
        return Unavailable(f"Graph API error {code}: {message}", **kw)
    return Malformed(f"Graph API error {code}: {message}", **kw)


def regain_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds until access returns, from ``x-business-use-case-usage`` (minutes) [SDK]."""
    usage = header_json(headers, "x-business-use-case-usage")
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in (usage.values() if isinstance(usage, dict) else ())
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    minutes = [m for m in minutes if isinstance(m, (int, float)) and not isinstance(m, bool)]
    return max(minutes) * 60.0 if minutes and max(minutes) > 0 else None


def media_post(node: Mapping[str, Any], *, owner: str | None) -> Post:
    """One Graph API media object as a Post, by the one Instagram mapping that the file
    imports use too (:func:`compliance.inputs.instagram.instagram_post`).

    Graph media carry no shortcode field: it is taken from the permalink, so that a post
    has the same id whether it came from an instaloader export or from the API. The
    mention '@' may be missing from the caption: see the module docstring.
    """
    data = dict(node)
    permalink = data.get("permalink") if isinstance(data.get("permalink"), str) else None
    ref = _parse_url(permalink) if permalink else None
    if not isinstance(data.get("shortcode"), str) and ref is not None:
        data["shortcode"] = ref[1]
    if not isinstance(data.get("username"), str) and owner:
        data["username"] = owner
    if isinstance(data.get("caption"), str):
        # One bad character must not fail the whole listing: U+FFFD, as for every source.
        data["caption"] = scrub_surrogates(data["caption"])
    try:
        post = instagram_post(data, f"instagram media {data.get('id')!r}")
    except InputFormatError as exc:
        raise Malformed(exc.message, platform=PLATFORM, target=owner) from None
    if data.get("media_product_type") == "REELS":
        post = replace(post, is_video=True)
    # The Graph API says nothing of the paid-partnership label to third parties.
    return replace(
        post, platform=PLATFORM, paid_partnership=None, posted_at=iso_utc(post.posted_at)
    )


def _items(page: Mapping[str, Any], target: str) -> list[dict[str, Any]]:
    data = page.get("data")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise Malformed("no 'data' list of media", platform=PLATFORM, target=target)
    return data


def _after(page: Mapping[str, Any]) -> str | None:
    paging = page.get("paging")
    cursors = paging.get("cursors") if isinstance(paging, dict) else None
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if not isinstance(after, str) or not after or not page.get("data"):
        return None
    return after


def _parse_url(url: str) -> tuple[str | None, str] | None:
    """(owner or None, shortcode) of an Instagram post URL; None when it is not one."""
    text = url.strip()
    parts = urlsplit(text if "://" in text else "https://" + text)
    if (parts.hostname or "").lower() not in _HOSTS:
        return None
    match = _POST_PATH.match(parts.path)
    if match is None:
        return None
    owner = match.group(1)
    if owner in ("p", "reel", "reels", "tv", "explore", "stories"):
        return None
    return owner, match.group(2)
