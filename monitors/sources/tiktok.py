"""TikTok: the Display API with a creator's token, else the public web pages' embedded JSON.

Two ways in, chosen by the settings:

* **Display API v2** (``settings.token``, a creator-authorised ``act.…`` token with
  scope ``video.list``): ``POST /v2/video/list/`` pages newest first with ``cursor``
  (epoch ms, "videos posted before") and ``max_count`` ≤ 20. The token names the
  creator, so a monitor of another account with this token is a configuration
  error (checked on ``share_url``), never someone else's posts filed under the
  wrong name. The Video Object has no paid-partnership flag [DOC].
* **Public web** (no token): the profile page's embedded JSON
  (``__UNIVERSAL_DATA_FOR_REHYDRATION__``, legacy ``SIGI_STATE``) gives the
  account's ``secUid`` (kept in ``state``) and its status; the items come from the
  web item list (``api/post/item_list/`` by default, ``api/creator/item_list/``
  with ``options: {item_list: creator}``). These endpoints want signed parameters
  in real life and often answer with an empty 200 or a CAPTCHA: that is a
  :class:`BotWall`, never "no posts" and never "deleted".

One post by URL uses oEmbed (no auth), and the video page when oEmbed answers
400, because only the page's ``statusCode``/``statusMsg`` tells a deleted video
(``status_deleted``: NotFound) from a private or blocked one (Private).

Short links (what the mobile app shares: ``https://vm.tiktok.com/ZMabc123/``,
``https://vt.tiktok.com/ZSxyz/``, ``https://www.tiktok.com/t/ZTabc/``) carry no video
id: only the redirect they answer says which video they open. :meth:`post` follows
it hop by hop (``Location`` read by hand, at most :data:`MAX_HOPS`), each hop and
its target through the client and its host policy, until a video URL, which is then
read as any other. vm./vt.tiktok.com are requested at ``short_url`` when that is
configured (as the other hosts are at ``api_url``/``web_url``), ``/t/`` links at
``web_url``; a redirect to a base written in the config counts as one to the TikTok
host that base stands for. A short link that 404s, loops, or ends anywhere but a
video (TikTok sends expired links to its home page) is an error naming the link.

TikTok has no hashtag listing a commercial product may use (the Research API is
for approved academic, non-commercial use only), so ``hashtag_posts`` raises
NotConfigured.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from compliance.model import Post
from monitors.errors import (
    AuthExpired,
    BotWall,
    FetchError,
    Malformed,
    NotConfigured,
    NotFound,
    Private,
    RateLimited,
    Unavailable,
)
from monitors.http import PlatformClient, decode_json
from monitors.sources.base import ACCOUNT, POST, TRANSCRIPT, Fetched, SourceSettings
from monitors.sources.common import iso_utc
from monitors.sources.subtitles import vtt_text

API_URL = "https://open.tiktokapis.com"
WEB_URL = "https://www.tiktok.com"
SHORT_HOSTS = ("vm.tiktok.com", "vt.tiktok.com")  # the app's share links
MAX_HOPS = 5  # one expected [INF]: vm.tiktok.com -> the video page
VIDEO_FIELDS = "id,create_time,share_url,video_description,title,duration,embed_link"
MAX_COUNT = 20  # the Display API's maximum page size [DOC]
WEB_PAGE = 30  # what the web app asks for per item-list page [SDK yt-dlp]

# Web fields that may concern advertising. What they mean is not confirmed
# (platforms.md §1d): isAd probably marks promoted/Spark-Ads items, not the
# creator's "Paid partnership" toggle, and no web key is proven to carry branded
# content. They are recorded raw as labels, so Post.paid_partnership stays None.
AD_FIELDS = (
    "isAd",
    "adAuthorization",
    "adLabelVersion",
    "brandOrganicType",
    "BAInfo",
    "commerceVideoAuthInfo",
)

# Web statusCode values [SDK yt-dlp, REC]. 10204 is "blocked / not available":
# it says nothing about deletion, so it is Private, never NotFound.
NO_SUCH_USER = 10221
PRIVATE_ACCOUNT = 10222
PRIVATE_POST = 10216
BLOCKED = 10204

_HIDDEN_CODES = {PRIVATE_POST, PRIVATE_ACCOUNT, BLOCKED}
# statusMsg values seen on existing but invisible videos [REC]
_HIDDEN_MESSAGES = {
    "status_self_see",
    "status_friend_see",
    "author_secret",
    "status_reviewing",
    "status_audit_not_pass",
    "cross_border_violation",
    "content_classification",
}
_AUTH_CODES = {"access_token_invalid", "scope_not_authorized", "scope_permission_missed"}
_DATA_SCRIPT = re.compile(
    r'<script[^>]+id="(__UNIVERSAL_DATA_FOR_REHYDRATION__|SIGI_STATE|sigi-persisted-data)"'
    r"[^>]*>(.*?)</script>",
    re.S,
)
_VIDEO_PATH = re.compile(r"^/(?:@[^/]+/)?(?:video|photo)/(\d{8,25})(?:/|$)")
_SHORT_CODE = r"[A-Za-z0-9_-]{4,32}"
_SHORT_PATH = re.compile(rf"^/{_SHORT_CODE}/?$")  # vm./vt.tiktok.com/CODE/
_T_PATH = re.compile(rf"^/t/{_SHORT_CODE}/?$")  # www.tiktok.com/t/CODE/
_REDIRECTS = (301, 302, 303, 307, 308)
_OTHER_PATHS = (
    re.compile(r"^/v/(\d{8,25})(?:\.html)?/?$"),  # m.tiktok.com/v/ID.html
    re.compile(r"^/embed(?:/v2)?/(\d{8,25})/?$"),
    re.compile(r"^/player/v1/(\d{8,25})/?$"),
)


class TikTokSource:
    """TikTok accounts and single posts (see the module docstring for the two ways in)."""

    platform: ClassVar[str] = "tiktok"
    capabilities: ClassVar[frozenset[str]] = frozenset({ACCOUNT, POST, TRANSCRIPT})

    def __init__(self, http: PlatformClient, settings: SourceSettings) -> None:
        self.http = http
        self.settings = settings
        self.api_url = (settings.api_url or API_URL).rstrip("/")
        self.web_url = (settings.web_url or WEB_URL).rstrip("/")
        short = settings.short_url.rstrip("/") if settings.short_url else None
        self.short_url = short
        # Configured bases and the public host each stands for, longest first (a base may
        # be another's prefix: one fake serving the web pages and, under /vm, short links).
        self._bases = sorted(
            ((b, h) for b, h in ((short, "https://vm.tiktok.com"), (self.web_url, WEB_URL)) if b),
            key=lambda pair: -len(pair[0]),
        )

    # --- the Source interface ---------------------------------------------------
    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """``account``'s posts, newest first, one page per request as the caller iterates."""
        handle = account.strip().lstrip("@").lower()
        if self.settings.token:
            return self._api_posts(handle)
        return self._web_posts(handle, state)

    def hashtag_posts(self, tag: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """Not offered: TikTok has no hashtag listing open to commercial use."""
        raise NotConfigured(
            "TikTok offers no hashtag listing for commercial use (the Research API is for "
            "approved academic, non-commercial research only); monitor the creators' accounts",
            platform=self.platform,
            target=f"#{tag.lstrip('#')}",
        )

    def post(self, url: str) -> Fetched:
        """One video or photo post by URL (a short link is resolved first): oEmbed, then the
        video page to tell deleted from private."""
        link = self.short_link(url)
        if link is not None:
            url = self._resolve(link)
        video_id = self.post_ref(url)
        if video_id is None:
            raise NotConfigured(
                "not a TikTok post URL with a video id", platform=self.platform, target=url
            )
        handle = _handle_in(url)
        permalink = f"{WEB_URL}/@{handle or '_'}/video/{video_id}"
        response = self.http.get(f"{self.web_url}/oembed", params={"url": permalink})
        if response.status_code == 200:
            data = decode_json(response, platform=self.platform, target=permalink)
            # Without a title (the caption) it is not an embed of the post: an error object,
            # a trimmed answer. Read as one it would record the caption as emptied.
            if (
                isinstance(data, dict)
                and data.get("embed_type", "video") == "video"
                and isinstance(data.get("title"), str)
            ):
                return self._from_oembed(data, video_id, handle)
        elif response.status_code not in (400, 403, 404):
            raise self._refused(response, permalink, "oEmbed")
        # oEmbed says 400 for deleted and private alike: the page says which.
        item = self._video_page(handle or "_", video_id)
        return self._from_web(item)

    @classmethod
    def post_ref(cls, url: str) -> str | None:
        """The video id of a TikTok post URL (web, mobile, embed, photo); None for short links."""
        parts = urlsplit(url.strip() if "://" in url else f"https://{url.strip()}")
        host = (parts.hostname or "").lower()
        if not (host == "tiktok.com" or host.endswith(".tiktok.com")):
            return None
        if host.split(".")[0] in ("vm", "vt"):
            return None  # a redirect whose target only the network knows
        match = _VIDEO_PATH.match(parts.path)
        if match is None:
            for pattern in _OTHER_PATHS:
                match = pattern.match(parts.path)
                if match:
                    break
        return match.group(1) if match else None

    @classmethod
    def short_link(cls, url: str) -> str | None:
        """``url`` as a canonical short link (https, no query) when it is one, else None."""
        parts = urlsplit(url.strip() if "://" in url else f"https://{url.strip()}")
        host = (parts.hostname or "").lower()
        if host in SHORT_HOSTS and _SHORT_PATH.match(parts.path):
            return f"https://{host}{parts.path}"
        if host in ("tiktok.com", "www.tiktok.com", "m.tiktok.com") and _T_PATH.match(parts.path):
            return f"{WEB_URL}{parts.path}"
        return None

    # --- short links ------------------------------------------------------------
    def _resolve(self, link: str) -> str:
        """The video URL that short ``link`` redirects to, following at most MAX_HOPS hops."""
        current, seen = link, {link.rstrip("/")}
        for _ in range(MAX_HOPS):
            asked = self._configured(current)
            response = self.http.get(asked, follow_redirects=False)
            status = response.status_code
            if status in (404, 410):
                raise NotFound(
                    f"no such short link (HTTP {status})",
                    platform=self.platform,
                    target=link,
                    status=status,
                )
            if status >= 400:
                raise self._refused(response, link, "short link")
            location = response.headers.get("location")
            if status not in _REDIRECTS or not location:
                raise Malformed(
                    f"the short link answered HTTP {status} without a redirect",
                    platform=self.platform,
                    target=link,
                    status=status,
                )
            hop = httpx.URL(asked).join(location.strip())
            self._allowed(hop, link)
            public = self._public(str(hop.copy_with(query=None, fragment=None)))
            if self.post_ref(public):
                return public
            following = self.short_link(public)
            if following is None:
                # TikTok sends an expired or mistyped link to its home page (or a login page).
                raise NotFound(
                    f"the short link leads to {public}, not to a video (expired or mistyped?)",
                    platform=self.platform,
                    target=link,
                )
            if following.rstrip("/") in seen:
                raise Unavailable(
                    f"the short link redirects in a loop (back to {following})",
                    platform=self.platform,
                    target=link,
                )
            seen.add(following.rstrip("/"))
            current = following
        raise Unavailable(
            f"the short link redirected more than {MAX_HOPS} times",
            platform=self.platform,
            target=link,
        )

    def _configured(self, link: str) -> str:
        """Where to request a canonical short link: at ``short_url`` (vm./vt.) or ``web_url``
        (/t/) when configured, else at its own host."""
        parts = urlsplit(link)
        if parts.hostname in SHORT_HOSTS:
            return f"{self.short_url}{parts.path}" if self.short_url else link
        return f"{self.web_url}{parts.path}"

    def _public(self, url: str) -> str:
        """``url`` with a configured base replaced by the public TikTok host it stands for."""
        for base, public in self._bases:
            if url == base or url.startswith((f"{base}/", f"{base}?")):
                return public + url[len(base) :]
        return url

    def _allowed(self, hop: httpx.URL, link: str) -> None:
        """The host policy on a redirect's target, even one only read and never requested:
        a short link that leads off TikTok (or to a private address) is refused."""
        try:
            self.http.check_redirect(hop, link)
        except httpx.ConnectError as exc:
            raise Unavailable(str(exc), platform=self.platform, target=link) from None

    # --- Display API ------------------------------------------------------------
    def _api_posts(self, handle: str) -> Iterator[Fetched]:
        headers = {"authorization": f"Bearer {self.settings.token}"}
        count = min(self.settings.page_size or MAX_COUNT, MAX_COUNT)
        body: dict[str, Any] = {"max_count": count}
        while True:
            response = self.http.post(
                f"{self.api_url}/v2/video/list/",
                params={"fields": VIDEO_FIELDS},
                json=body,
                headers=headers,
            )
            data = self._api_data(response, f"@{handle}")
            videos = data.get("videos") or []
            for video in videos:
                yield self._from_api(video, handle)
            cursor = data.get("cursor")
            if not data.get("has_more") or not videos or cursor is None:
                return
            body = {"cursor": int(cursor), "max_count": count}

    def _api_data(self, response: httpx.Response, target: str) -> dict[str, Any]:
        """``data`` of a Display API answer; its ``error`` struct becomes a typed error."""
        payload = decode_json(response, platform=self.platform, target=target)
        if not isinstance(payload, dict):
            raise Malformed("answer is not a JSON object", platform=self.platform, target=target)
        # The documented error is a bare {code, message, log_id}; the envelope wraps it [INF].
        error = payload.get("error") if "error" in payload else payload
        code = error.get("code", "ok") if isinstance(error, dict) else "ok"
        kw: dict[str, Any] = {
            "platform": self.platform,
            "target": target,
            "status": response.status_code,
        }
        if not isinstance(
            code, str
        ):  # the documented codes are strings ("ok", "access_token_invalid")
            raise Malformed(
                f"error object with a {type(code).__name__} code (HTTP {response.status_code})",
                **kw,
            )
        if code == "ok" and response.status_code == 200:
            data = payload.get("data")
            if not isinstance(data, dict):
                raise Malformed("no data object", platform=self.platform, target=target)
            return data
        detail = error.get("message") if isinstance(error, dict) else None
        message = (
            f"{code}: {detail}"
            if code != "ok"
            # A refusal without TikTok's error struct (a proxy, a CDN): its status says most.
            else f"HTTP {response.status_code} without an error code"
        )
        if code in _AUTH_CODES or response.status_code == 401:
            raise AuthExpired(message, **kw)
        if code == "rate_limit_exceeded":  # TikTok sends no Retry-After; a minute is its window
            raise RateLimited(message, retry_after=60.0, **kw)
        if code == "invalid_params" or response.status_code == 400:
            raise Malformed(f"request rejected: {message}", **kw)
        raise Unavailable(message, **kw)

    def _from_api(self, video: Mapping[str, Any], handle: str) -> Fetched:
        video_id = _video_id(video, self.platform, f"@{handle}")
        owner = _handle_in(str(video.get("share_url") or ""))
        if owner and owner != handle:
            raise NotConfigured(
                f"the TikTok token belongs to @{owner}, not @{handle}: each creator authorises "
                "their own token",
                platform=self.platform,
                target=f"@{handle}",
            )
        description = str(video.get("video_description") or "")
        title = str(video.get("title") or "").strip()
        # title is usually empty; where set and not already the caption's start, it is shown too.
        caption = (
            f"{title}\n{description}"
            if title and not description.startswith(title)
            else description
        )
        post = Post(
            caption=caption,
            id=video_id,
            platform=self.platform,
            author=f"@{handle}",
            url=f"{WEB_URL}/@{handle}/video/{video_id}",
            posted_at=_iso(video.get("create_time"), video_id),
            paid_partnership=None,  # the Video Object has no such field [DOC]
            is_video=True,
        )
        return Fetched(post, raw_value=video)

    # --- public web -------------------------------------------------------------
    def _web_posts(self, handle: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        sec_uid = state.get("sec_uid") if state.get("handle") == handle else None
        if not sec_uid:
            sec_uid = self._sec_uid(handle)
            state["handle"], state["sec_uid"] = handle, sec_uid
        creator = self.settings.options.get("item_list") == "creator"
        path = "api/creator/item_list/" if creator else "api/post/item_list/"
        count = self.settings.page_size or WEB_PAGE
        # The creator list pages backwards from a time (epoch ms) [SDK yt-dlp]: start at
        # "now". The only clock read in the sources, and it decides nothing about posts.
        cursor = int(time.time() * 1000) if creator else 0
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"secUid": sec_uid, "count": count, "cursor": cursor}
            if creator:  # newest first from "now" backwards [SDK yt-dlp]
                params["type"] = 1
            response = self.http.get(f"{self.web_url}/{path}", params=params)
            data = self._web_json(response, f"@{handle}")
            self._check_status(data, f"@{handle}", account=True)
            if not any(k in data for k in ("itemList", "statusCode", "status_code")):
                # Not an item list at all (an error object, a changed API): reading it as
                # an empty one would call every recorded post gone.
                raise Malformed(
                    "neither itemList nor statusCode in the item list answer",
                    platform=self.platform,
                    target=f"@{handle}",
                )
            items = data.get("itemList") or []
            for item in items:
                video_id = _video_id(item, self.platform, f"@{handle}")
                if video_id not in seen:  # the web list repeats items across pages
                    seen.add(video_id)
                    yield self._from_web(item)
            more = data.get("hasMorePrevious") if creator else data.get("hasMore")
            if not more or not items:
                return
            next_cursor = data.get("cursor")
            if creator or next_cursor in (None, "", 0, "0"):
                next_cursor = _int(items[-1].get("createTime")) * 1000
            if int(next_cursor) == cursor:
                raise Malformed(
                    "item list cursor did not move", platform=self.platform, target=f"@{handle}"
                )
            cursor = int(next_cursor)

    def _sec_uid(self, handle: str) -> str:
        """The account's secUid from its profile page; typed errors for missing/private/walled."""
        target = f"@{handle}"
        response = self.http.get(f"{self.web_url}/@{handle}")
        if response.status_code == 404:
            raise NotFound("no such account", platform=self.platform, target=target, status=404)
        data = self._page_data(response, target)
        scope = data.get("__DEFAULT_SCOPE__")
        if isinstance(scope, dict):
            detail = scope.get("webapp.user-detail")
            if not isinstance(detail, dict):
                raise BotWall(
                    "profile page without user data", platform=self.platform, target=target
                )
            self._check_status(detail, target, account=True)
            user = (detail.get("userInfo") or {}).get("user") or {}
        else:  # legacy SIGI_STATE: UserModule.users keyed by handle
            users = (data.get("UserModule") or {}).get("users") or {}
            user = users.get(handle) or next(
                (u for u in users.values() if str(u.get("uniqueId", "")).lower() == handle), {}
            )
        if not user:
            raise BotWall("profile page without user data", platform=self.platform, target=target)
        if user.get("privateAccount") or user.get("secret"):
            raise Private("private account", platform=self.platform, target=target)
        sec_uid = user.get("secUid")
        if not sec_uid:
            raise Malformed("profile without secUid", platform=self.platform, target=target)
        return str(sec_uid)

    def _video_page(self, handle: str, video_id: str) -> Mapping[str, Any]:
        """The itemStruct of a video page, or the typed error its statusCode means."""
        target = f"{WEB_URL}/@{handle}/video/{video_id}"
        response = self.http.get(f"{self.web_url}/@{handle}/video/{video_id}")
        if response.status_code == 404:
            raise NotFound("no such video", platform=self.platform, target=target, status=404)
        data = self._page_data(response, target)
        detail = (data.get("__DEFAULT_SCOPE__") or {}).get("webapp.video-detail")
        if not isinstance(detail, dict):
            item = (data.get("ItemModule") or {}).get(video_id)  # legacy SIGI_STATE
            if isinstance(item, dict):
                return item
            raise BotWall("video page without video data", platform=self.platform, target=target)
        self._check_status(detail, target, account=False)
        item = (detail.get("itemInfo") or {}).get("itemStruct")
        if not isinstance(item, dict) or not item.get("id"):
            raise Malformed("video page without itemStruct", platform=self.platform, target=target)
        return item

    def _page_data(self, response: httpx.Response, target: str) -> dict[str, Any]:
        """The JSON embedded in a TikTok HTML page; a page without it is a bot wall."""
        if response.status_code >= 400:
            raise self._refused(response, target)
        match = _DATA_SCRIPT.search(response.text)
        if match is None:
            raise BotWall(
                "page without embedded data (CAPTCHA, login wall or empty page)",
                platform=self.platform,
                target=target,
            )
        try:
            data = json.loads(match.group(2))
        except ValueError as exc:
            raise Malformed(
                f"embedded JSON: {exc}", platform=self.platform, target=target
            ) from None
        if not isinstance(data, dict):
            raise Malformed("embedded JSON is not an object", platform=self.platform, target=target)
        return data

    def _web_json(self, response: httpx.Response, target: str) -> dict[str, Any]:
        """A web JSON answer; the empty 200 TikTok sends unsigned requests is a bot wall."""
        if response.status_code == 200 and not response.content.strip():
            raise BotWall(
                "empty answer (unsigned request refused)", platform=self.platform, target=target
            )
        if response.status_code >= 400:
            raise self._refused(response, target)
        data = decode_json(response, platform=self.platform, target=target)
        if not isinstance(data, dict):
            raise Malformed("answer is not a JSON object", platform=self.platform, target=target)
        return data

    def _refused(self, response: httpx.Response, target: str, what: str = "") -> FetchError:
        """The error for an HTTP failure the client did not retry (4xx other than handled ones)."""
        message = f"{what + ': ' if what else ''}HTTP {response.status_code}"
        # TikTok's web answers 403 to clients it does not trust (no cookies, datacenter IPs).
        kind = BotWall if response.status_code == 403 else Unavailable
        return kind(message, platform=self.platform, target=target, status=response.status_code)

    def _check_status(self, data: Mapping[str, Any], target: str, *, account: bool) -> None:
        """Raise the typed error for a web ``statusCode``/``statusMsg`` other than 0."""
        code = _int(data.get("statusCode", data.get("status_code", 0)))
        message = str(data.get("statusMsg") or data.get("status_msg") or "")
        if code == 0:
            return
        detail = f"statusCode {code}" + (f" ({message})" if message else "")
        if message == "status_deleted" or (code == NO_SUCH_USER and account):
            raise NotFound(
                f"deleted or no such {'account' if account else 'video'}: {detail}",
                platform=self.platform,
                target=target,
            )
        if code in _HIDDEN_CODES or message in _HIDDEN_MESSAGES:
            # Private, friends-only, under review, blocked or region-limited: all
            # exist but are not visible to us, and none of them means deleted.
            raise Private(f"not visible: {detail}", platform=self.platform, target=target)
        # A code we do not know: say so, and let the next run try again.
        raise Unavailable(f"unknown {detail}", platform=self.platform, target=target)

    def _from_web(self, item: Mapping[str, Any]) -> Fetched:
        video_id = str(item.get("id") or "")
        author = item.get("author") or item.get("authorInfo") or {}
        handle = (author.get("uniqueId") if isinstance(author, dict) else author) or ""
        handle = str(handle).lower()
        caption = str(item.get("desc") or "")
        if not caption.strip():  # photo posts and some edits keep the text only in contents[]
            caption = " ".join(
                str(c.get("desc") or "") for c in item.get("contents") or [] if isinstance(c, dict)
            ).strip()
        is_video = not item.get("imagePost")
        kind = "video" if is_video else "photo"
        post = Post(
            caption=caption,
            id=video_id,
            platform=self.platform,
            author=f"@{handle}" if handle else None,
            url=f"{WEB_URL}/@{handle or '_'}/{kind}/{video_id}",
            posted_at=_iso(item.get("createTime"), video_id),
            paid_partnership=None,  # see AD_FIELDS: no web field is confirmed to mean it
            is_video=is_video,
        )
        labels = {name: item[name] for name in AD_FIELDS if name in item}
        track = _subtitle_url(item)
        loader = (lambda: self._transcript(track, post.url or video_id)) if track else None
        return Fetched(post, raw_value=item, labels=labels, transcript=loader)

    def _from_oembed(self, data: Mapping[str, Any], video_id: str, handle: str | None) -> Fetched:
        owner = str(data.get("author_unique_id") or handle or "").lower()
        if not owner:
            owner = _handle_in(str(data.get("author_url") or "")) or ""
        post = Post(
            caption=str(data.get("title") or "").rstrip(),  # oEmbed appends a space [REC]
            id=str(data.get("embed_product_id") or video_id),
            platform=self.platform,
            author=f"@{owner}" if owner else None,
            url=f"{WEB_URL}/@{owner or '_'}/video/{video_id}",
            posted_at=_iso(None, video_id),  # oEmbed has no time: the id carries it
            paid_partnership=None,
            is_video=True,
        )
        return Fetched(post, raw_value=data)

    def _transcript(self, url: str, target: str) -> str | None:
        """The subtitle track as plain text (one request, only when the run asks)."""
        response = self.http.get(url)
        if response.status_code in (403, 404, 410):  # signed CDN links expire: no transcript
            return None
        if response.status_code >= 400:
            raise self._refused(response, target, "subtitle track")
        text = vtt_text(response.text)
        return text or None


def _subtitle_url(item: Mapping[str, Any]) -> str | None:
    """The best WebVTT track of an item: the creator's own captions, then automatic ones."""
    infos = (item.get("video") or {}).get("subtitleInfos") or []
    tracks = [t for t in infos if isinstance(t, dict) and t.get("Url")]

    def rank(track: Mapping[str, Any]) -> int:
        kind = f"{track.get('Source', '')} {track.get('Format', '')}".lower()
        return 0 if "creator_caption" in kind else 1 if "webvtt" in kind or "asr" in kind else 2

    tracks.sort(key=rank)  # stable: the platform's order within each rank
    return str(tracks[0]["Url"]) if tracks and rank(tracks[0]) < 2 else None


def _handle_in(url: str) -> str | None:
    """The @handle in a TikTok URL path, lower-cased, without '@'."""
    match = re.search(r"/@([A-Za-z0-9_.]+)", url)
    return match.group(1).lower() if match else None


def _video_id(item: Any, platform: str, target: str) -> str:
    """The id of a listed video: a string (or number) of digits, whose top bits are its
    creation time; anything else means the answer is not what we read it as."""
    if not isinstance(item, dict):
        raise Malformed(
            f"a listed video that is not an object ({type(item).__name__})",
            platform=platform,
            target=target,
        )
    value = item.get("id")
    video_id = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not video_id.isdigit() or int(video_id) >> 32 == 0:
        raise Malformed(
            f"a video without a valid id ({value!r:.40})", platform=platform, target=target
        )
    return video_id


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _iso(epoch: Any, video_id: str) -> str | None:
    """ISO 8601 UTC of an epoch-seconds value (int or string), else from the id (``id >> 32``)."""
    seconds = _int(epoch)
    if seconds <= 0 and video_id.isdigit():
        seconds = int(video_id) >> 32  # TikTok ids start with the creation time [INF]
    if seconds <= 0:
        return None
    return iso_utc(seconds)
