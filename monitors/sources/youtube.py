"""YouTube: the Data API v3 with an API key, else the channel's RSS feed.

With ``settings.key``:

* ``channels?forHandle=@x`` (1 unit) resolves the channel once; its uploads
  playlist id is kept in ``state``.
* ``playlistItems`` (1 unit a page of 50) lists the uploads newest first; its
  snippet carries the full description. The first page is a conditional request
  (ETag in ``state``): a 304 raises NotModified.
* The platform's own paid-promotion label: ``search?channelId=…&type=video&
  videoPaidProductPlacement=true`` returns the channel's videos declared as paid
  promotion, but costs 100 units. It runs at most once per run and only when the
  cached id set in ``state`` is older than ``options.paid_refresh`` (default 24h).
  A video in that set gets ``paid_partnership=True``; any other video ``None``:
  the search returns at most ``options.paid_pages`` × 50 recent ids, so absence
  proves nothing.
* ``post(url)`` reads ``videos?id=`` (1 unit); ``hasPaidProductPlacement`` is
  only given to the video's owner [DOC], so True counts and anything else is None.
  The API leaves deleted and private videos out alike, so a missing id (and any
  video without a key) is read from the watch page, whose playability status
  tells deleted (NotFound) from private (Private) [INF: page markup].
* ``hashtag_posts`` uses ``search?q=%23tag`` (100 units a page of 50, then
  ``videos`` for the full descriptions): supported because branded campaigns
  need it, but each page costs as much as 100 uploads pages.

Without a key, the channel RSS feed (``/feeds/videos.xml?channel_id=UC…``, the
newest ~15 videos, no paging, no label). A ``@handle`` is resolved to its channel
id from the channel page's ``<link rel="canonical" href=".../channel/UC…">`` or
its ``"channelId":"UC…"`` [INF: page markup, not an API]; the id is kept in state.

The caption is the description alone, not ``title + description``: the rule
packs measure YouTube's "...more" fold (ftc: 150 characters) on the description
as YouTube shows it under the title, and a prepended title would push a
disclosure in the description's first line below that fold. The title is kept in
``raw``. Transcripts come from the public caption track (``/api/timedtext``,
WebVTT) when the video has one [INF: unofficial, may answer empty].
"""

from __future__ import annotations

import html
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Any, ClassVar, NoReturn
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

from compliance.durations import parse_duration
from compliance.model import Post
from monitors.errors import (
    AuthExpired,
    BotWall,
    Malformed,
    NotConfigured,
    NotFound,
    Private,
    QuotaExceeded,
    RateLimited,
    Unavailable,
)
from monitors.http import PlatformClient, decode_json
from monitors.sources.base import (
    ACCOUNT,
    CONDITIONAL,
    HASHTAG,
    PAID_LABEL,
    POST,
    TRANSCRIPT,
    Fetched,
    NotModified,
    SourceSettings,
)
from monitors.sources.common import iso_utc
from monitors.sources.subtitles import vtt_text

API_URL = "https://www.googleapis.com/youtube/v3"
WEB_URL = "https://www.youtube.com"
PAGE = 50  # maxResults ceiling of playlistItems, videos and search
PACIFIC = ZoneInfo("America/Los_Angeles")  # the daily quota resets at midnight Pacific [DOC]

_QUOTA = {"quotaExceeded", "dailyLimitExceeded", "RATE_LIMIT_EXCEEDED_DAILY"}
_THROTTLED = {"rateLimitExceeded", "userRateLimitExceeded"}
_AUTH = {"keyInvalid", "API_KEY_INVALID", "keyExpired", "API_KEY_EXPIRED", "forbidden"}
_GONE = {"playlistNotFound", "channelNotFound", "videoNotFound", "notFound"}
_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_CANONICAL = re.compile(r'<link[^>]+rel="canonical"[^>]+href="[^"]*/channel/(UC[A-Za-z0-9_-]{22})"')
_CHANNEL_JSON = re.compile(r'"(?:channelId|externalId)"\s*:\s*"(UC[A-Za-z0-9_-]{22})"')
_NS = {
    "a": "http://www.w3.org/2005/Atom",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "media": "http://search.yahoo.com/mrss/",
}


class YouTubeSource:
    """YouTube channels, hashtags (with a key) and single videos."""

    platform: ClassVar[str] = "youtube"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {ACCOUNT, HASHTAG, POST, TRANSCRIPT, PAID_LABEL, CONDITIONAL}
    )

    def __init__(self, http: PlatformClient, settings: SourceSettings) -> None:
        self.http = http
        self.settings = settings
        self.api_url = (settings.api_url or API_URL).rstrip("/")
        self.web_url = (settings.web_url or WEB_URL).rstrip("/")
        options = settings.options
        self.paid_refresh = parse_duration(str(options.get("paid_refresh", "24h")))
        self.paid_pages = int(options.get("paid_pages", 1))
        self.captions = bool(options.get("captions", True))
        # Wall clock (epoch s) for the paid-id cache age and the quota reset only;
        # tests replace it. Nothing about posts is decided on it.
        self.clock: Callable[[], float] = time.time

    # --- the Source interface ---------------------------------------------------
    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The channel's uploads, newest first (API with a key, else the RSS feed)."""
        name = _account_name(account)
        if state.get("account") != name:  # another channel: nothing cached applies
            state.clear()
            state["account"] = name
        if self.settings.key:
            return self._api_uploads(name, state)
        return self._rss(name, state)

    def hashtag_posts(self, tag: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """Recent videos found by searching ``#tag`` (100 quota units a page of 50; needs a key)."""
        tag = tag.lstrip("#")
        if not self.settings.key:
            raise NotConfigured(
                "YouTube hashtag search needs an API key (search costs 100 quota units a page)",
                platform=self.platform,
                target=f"#{tag}",
            )
        return self._search({"q": f"#{tag}", "order": "date"}, f"#{tag}")

    def post(self, url: str) -> Fetched:
        """One video by URL: ``videos?id=`` with a key, else (and to tell deleted from
        private when the API leaves the id out) the watch page's player response."""
        video_id = self.post_ref(url)
        if video_id is None:
            raise NotConfigured("not a YouTube video URL", platform=self.platform, target=url)
        if self.settings.key:
            found = self._videos([video_id], f"video {video_id}")
            if video_id in found:
                return found[video_id]
        return self._watch_page(video_id)

    @classmethod
    def post_ref(cls, url: str) -> str | None:
        """The 11-character video id of a YouTube URL (watch, youtu.be, shorts, live, embed)."""
        parts = urlsplit(url.strip() if "://" in url else f"https://{url.strip()}")
        host = (parts.hostname or "").lower()
        path = parts.path
        candidate: str | None = None
        if host == "youtu.be":
            candidate = path.strip("/").split("/")[0]
        elif host in ("youtube.com", "youtube-nocookie.com") or host.endswith(
            (".youtube.com", ".youtube-nocookie.com")
        ):
            if path.rstrip("/") == "/watch":
                candidate = (parse_qs(parts.query).get("v") or [""])[0]
            else:
                match = re.match(r"^/(?:shorts|live|embed|v|e)/([^/?#]+)", path)
                candidate = match.group(1) if match else None
        return candidate if candidate and _ID.match(candidate) else None

    # --- Data API ---------------------------------------------------------------
    def _api(self, path: str, params: dict[str, Any], target: str, **kw: Any) -> httpx.Response:
        """GET an API path with the key; errors in the body become typed errors."""
        response = self.http.get(
            f"{self.api_url}/{path}", params={**params, "key": self.settings.key}, **kw
        )
        if response.status_code in (200, 304):
            return response
        self._raise(response, target)

    def _raise(self, response: httpx.Response, target: str) -> NoReturn:
        payload = decode_json(response, platform=self.platform, target=target)
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            raise Malformed(
                f"HTTP {response.status_code} without an error object",
                platform=self.platform,
                target=target,
                status=response.status_code,
            )
        reasons = {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)}
        reasons |= {str(d.get("reason")) for d in error.get("details") or [] if isinstance(d, dict)}
        message = html.unescape(re.sub(r"<[^>]+>", "", str(error.get("message") or "")))
        message = f"{message} ({', '.join(sorted(r for r in reasons if r != 'None'))})"
        kw: dict[str, Any] = {
            "platform": self.platform,
            "target": target,
            "status": response.status_code,
        }
        if reasons & _QUOTA:
            raise QuotaExceeded(message, retry_after=self._seconds_to_quota_reset(), **kw)
        if reasons & _THROTTLED:
            raise RateLimited(message, retry_after=60.0, **kw)
        if reasons & _AUTH or response.status_code in (401, 403):
            raise AuthExpired(message, **kw)
        if reasons & _GONE or response.status_code == 404:
            raise NotFound(message, **kw)
        if response.status_code == 400:
            raise Malformed(f"request rejected: {message}", **kw)
        raise Unavailable(message, **kw)

    def _seconds_to_quota_reset(self) -> float:
        """Seconds from now to the next midnight in Pacific time, when the daily quota resets."""
        now = datetime.fromtimestamp(self.clock(), tz=PACIFIC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(1.0, (midnight - now).total_seconds())

    def _uploads_playlist(self, name: str, state: MutableMapping[str, Any]) -> str:
        if state.get("uploads"):
            return str(state["uploads"])
        target = name
        params: dict[str, Any] = {"part": "id,snippet,contentDetails"}
        if _CHANNEL_ID.match(name):
            params["id"] = name
        else:
            params["forHandle"] = name
        data = self._json(self._api("channels", params, target), target)
        items = data.get("items")
        if not items:  # "not found" is a 200 without items [INF]
            raise NotFound("no such channel", platform=self.platform, target=target)
        channel = items[0]
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get(
            "uploads"
        )
        channel_id = str(channel.get("id") or "")
        if not uploads and channel_id.startswith("UC"):
            uploads = "UU" + channel_id[2:]
        if not uploads:
            raise Malformed(
                "channel without an uploads playlist", platform=self.platform, target=target
            )
        handle = ((channel.get("snippet") or {}).get("customUrl")) or name
        state.update(uploads=str(uploads), channel_id=channel_id, handle=str(handle))
        return str(uploads)

    def _api_uploads(self, name: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        playlist = self._uploads_playlist(name, state)
        validators = state.setdefault("validators", {})
        size = min(self.settings.page_size or PAGE, PAGE)
        params: dict[str, Any] = {
            "part": "snippet,contentDetails,status",
            "playlistId": playlist,
            "maxResults": size,
        }
        response = self._api("playlistItems", params, name, validators=validators)
        if response.status_code == 304:
            raise NotModified(name)
        paid = self._paid_ids(state)
        author = _author(state.get("handle"), name)
        while True:
            data = self._json(response, name)
            if "items" not in data:
                raise NotFound(
                    "uploads playlist answered without items", platform=self.platform, target=name
                )
            for item in data["items"]:
                fetched = self._from_playlist_item(item, author, paid)
                if fetched is not None:
                    yield fetched
            token = data.get("nextPageToken")
            if not token or not data["items"]:
                return
            response = self._api("playlistItems", {**params, "pageToken": token}, name)

    def _paid_ids(self, state: MutableMapping[str, Any]) -> set[str]:
        """The channel's videos declared as paid promotion (cached; one search per refresh)."""
        cached = state.get("paid")
        now = self.clock()
        if (
            isinstance(cached, dict)
            and now - float(cached.get("at", 0)) < self.paid_refresh.total_seconds()
        ):
            return set(cached.get("ids") or [])
        ids: list[str] = []
        params: dict[str, Any] = {
            "part": "id",
            "channelId": state.get("channel_id"),
            "type": "video",
            "videoPaidProductPlacement": "true",
            "order": "date",
            "maxResults": PAGE,
        }
        for _ in range(max(self.paid_pages, 1)):
            data = self._json(self._api("search", params, f"{state.get('account')} paid"), "search")
            ids += [
                str((i.get("id") or {}).get("videoId"))
                for i in data.get("items") or []
                if (i.get("id") or {}).get("videoId")
            ]
            if not data.get("nextPageToken"):
                break
            params["pageToken"] = data["nextPageToken"]
        state["paid"] = {"at": now, "ids": ids}
        return set(ids)

    def _search(self, query: dict[str, Any], label: str) -> Iterator[Fetched]:
        params: dict[str, Any] = {"part": "id", "type": "video", "maxResults": PAGE, **query}
        while True:
            data = self._json(self._api("search", params, label), label)
            ids = [
                str((i.get("id") or {}).get("videoId"))
                for i in data.get("items") or []
                if (i.get("id") or {}).get("videoId")
            ]
            if ids:
                found = self._videos(ids, label)
                for video_id in ids:  # search order is newest first (order=date)
                    if video_id in found:
                        yield found[video_id]
            token = data.get("nextPageToken")
            if not token or not ids:
                return
            params["pageToken"] = token

    def _videos(self, ids: list[str], target: str) -> dict[str, Fetched]:
        """Full video resources by id (≤ 50 a call); missing ids are deleted or private."""
        params = {"part": "snippet,status,paidProductPlacementDetails", "id": ",".join(ids[:PAGE])}
        data = self._json(self._api("videos", params, target), target)
        found: dict[str, Fetched] = {}
        for video in data.get("items") or []:
            if not isinstance(video, dict) or not video.get("id"):
                continue
            snippet = video.get("snippet") or {}
            placement = (video.get("paidProductPlacementDetails") or {}).get(
                "hasPaidProductPlacement"
            )
            found[str(video["id"])] = self._fetched(
                str(video["id"]),
                snippet,
                author=_author(None, str(snippet.get("channelId") or "")),
                posted=snippet.get("publishedAt"),
                paid=True if placement is True else None,
                raw=video,
            )
        return found

    def _from_playlist_item(
        self, item: Mapping[str, Any], author: str, paid: set[str]
    ) -> Fetched | None:
        if not isinstance(item, dict):
            raise Malformed(
                "a playlist item that is not an object", platform=self.platform, target=author
            )
        snippet = item.get("snippet") or {}
        details = item.get("contentDetails") or {}
        video_id = str(
            details.get("videoId") or (snippet.get("resourceId") or {}).get("videoId") or ""
        )
        privacy = (item.get("status") or {}).get("privacyStatus")
        if privacy in ("private", "privacyStatusUnspecified"):
            return None  # playlists keep placeholders of private and deleted videos [INF]
        if not _ID.match(video_id):
            # Skipping it would read the page as one without this video and call it gone.
            raise Malformed(
                f"a playlist item without a valid video id ({video_id[:20]!r})",
                platform=self.platform,
                target=author,
            )
        return self._fetched(
            video_id,
            snippet,
            author=author,
            posted=details.get("videoPublishedAt") or snippet.get("publishedAt"),
            paid=True if video_id in paid else None,
            raw=item,
        )

    def _fetched(
        self,
        video_id: str,
        snippet: Mapping[str, Any],
        *,
        author: str,
        posted: Any,
        paid: bool | None,
        raw: Any,
    ) -> Fetched:
        post = Post(
            caption=str(snippet.get("description") or ""),
            id=video_id,
            platform=self.platform,
            author=author,
            url=f"https://www.youtube.com/watch?v={video_id}",
            posted_at=iso_utc(posted),
            paid_partnership=paid,
            is_video=True,
        )
        loader = (lambda: self._transcript(video_id)) if self.captions else None
        return Fetched(post, raw_value=raw, transcript=loader)

    def _json(self, response: httpx.Response, target: str) -> dict[str, Any]:
        data = decode_json(response, platform=self.platform, target=target)
        if not isinstance(data, dict):
            raise Malformed("answer is not a JSON object", platform=self.platform, target=target)
        if isinstance(data.get("error"), dict):  # an error object, whatever the status said
            self._raise(response, target)
        return data

    # --- without a key: RSS -------------------------------------------------------------
    def _rss(self, name: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        channel_id = state.get("channel_id") or self._channel_id(name)
        state["channel_id"] = channel_id
        validators = state.setdefault("validators", {})
        response = self._page(
            "feeds/videos.xml", name, params={"channel_id": channel_id}, validators=validators
        )
        if response.status_code == 304:
            raise NotModified(name)
        body = response.content.lstrip()
        if body[:200].lower().startswith((b"<!doctype html", b"<html")):
            raise BotWall(
                "HTML page instead of the feed (consent or bot wall)",
                platform=self.platform,
                target=name,
            )
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise Malformed(f"feed XML: {exc}", platform=self.platform, target=name) from None
        if root.tag != f"{{{_NS['a']}}}feed":
            raise Malformed("not an Atom feed", platform=self.platform, target=name)
        author = _author(None if _CHANNEL_ID.match(name) else name, channel_id)
        entries = [self._from_entry(entry, author) for entry in root.findall("a:entry", _NS)]
        # newest first, whatever order the feed has
        entries.sort(key=lambda f: f.post.posted_at or "", reverse=True)
        yield from entries

    def _page(self, path: str, target: str, **kw: Any) -> httpx.Response:
        """GET a youtube.com page or feed: 404 is NotFound, other failures Unavailable."""
        response = self.http.get(f"{self.web_url}/{path}", **kw)
        if response.status_code == 404:
            raise NotFound("no such channel", platform=self.platform, target=target, status=404)
        if response.status_code not in (200, 304):
            raise Unavailable(
                f"HTTP {response.status_code}",
                platform=self.platform,
                target=target,
                status=response.status_code,
            )
        return response

    def _channel_id(self, name: str) -> str:
        """``UC…`` for a channel id, or the id read from the @handle's channel page."""
        if _CHANNEL_ID.match(name):
            return name
        response = self._page(name, name)
        match = _CANONICAL.search(response.text) or _CHANNEL_JSON.search(response.text)
        if match is None:
            raise BotWall(
                "channel page without a channel id (consent or bot wall)",
                platform=self.platform,
                target=name,
            )
        return match.group(1)

    def _from_entry(self, entry: ET.Element, author: str) -> Fetched:
        video_id = entry.findtext("yt:videoId", default="", namespaces=_NS).strip()
        if not video_id:
            raise Malformed("feed entry without yt:videoId", platform=self.platform, target=author)
        description = entry.findtext("media:group/media:description", default="", namespaces=_NS)
        raw = {
            "videoId": video_id,
            "channelId": entry.findtext("yt:channelId", default="", namespaces=_NS),
            "title": entry.findtext("a:title", default="", namespaces=_NS),
            "published": entry.findtext("a:published", default="", namespaces=_NS),
            "updated": entry.findtext("a:updated", default="", namespaces=_NS),
            "description": description,
        }
        return self._fetched(
            video_id,
            {"description": description},
            author=author,
            posted=raw["published"],
            paid=None,
            raw=raw,
        )

    # --- the watch page ---------------------------------------------------------------
    def _watch_page(self, video_id: str) -> Fetched:
        """A video from its watch page's ``ytInitialPlayerResponse`` [INF: page markup].

        ``playabilityStatus.status`` tells the cases apart: ERROR is a removed or
        never-existing video (NotFound); LOGIN_REQUIRED, UNPLAYABLE and the age or
        content checks are videos that exist but are not shown to us (Private).
        """
        target = f"https://www.youtube.com/watch?v={video_id}"
        response = self.http.get(f"{self.web_url}/watch", params={"v": video_id})
        if response.status_code != 200:
            raise Unavailable(
                f"watch page: HTTP {response.status_code}",
                platform=self.platform,
                target=target,
                status=response.status_code,
            )
        player = _player_response(response.text)
        if player is None:
            raise BotWall(
                "watch page without a player response (consent or bot wall)",
                platform=self.platform,
                target=target,
            )
        playability = player.get("playabilityStatus") or {}
        status = str(playability.get("status") or "")
        reason = str(playability.get("reason") or status)
        if status == "ERROR":
            raise NotFound(f"video unavailable: {reason}", platform=self.platform, target=target)
        if status in (
            "LOGIN_REQUIRED",
            "UNPLAYABLE",
            "AGE_CHECK_REQUIRED",
            "CONTENT_CHECK_REQUIRED",
        ):
            raise Private(f"not visible: {reason}", platform=self.platform, target=target)
        details = player.get("videoDetails") or {}
        if status != "OK" or details.get("videoId") != video_id:
            raise Unavailable(
                f"watch page status {status or 'missing'}", platform=self.platform, target=target
            )
        micro = (player.get("microformat") or {}).get("playerMicroformatRenderer") or {}
        owner = _handle_in(str(micro.get("ownerProfileUrl") or ""))
        fetched = self._fetched(
            video_id,
            {"description": details.get("shortDescription") or ""},
            author=owner or str(details.get("channelId") or ""),
            posted=micro.get("publishDate") or micro.get("uploadDate"),
            paid=None,
            raw={"videoDetails": details, "microformat": micro},
        )
        # "Includes paid promotion" overlay: shown to viewers, but not a documented field.
        overlay = player.get("paidContentOverlay")
        if overlay:
            return Fetched(
                fetched.post, fetched.raw_value, {"paidContentOverlay": overlay}, fetched.transcript
            )
        return fetched

    # --- transcripts ----------------------------------------------------------------------
    def _transcript(self, video_id: str) -> str | None:
        """The public caption track as plain text, or None when the video has none."""
        response = self.http.get(
            f"{self.web_url}/api/timedtext", params={"v": video_id, "lang": "en", "fmt": "vtt"}
        )
        if response.status_code in (403, 404) or not response.content.strip():
            return None  # no public track (or it needs a signed player URL): no transcript
        if response.status_code != 200:
            raise Unavailable(
                f"caption track: HTTP {response.status_code}",
                platform=self.platform,
                target=video_id,
                status=response.status_code,
            )
        if not response.text.lstrip("\ufeff").startswith("WEBVTT"):
            return None  # an HTML page or another format: not a track we can read
        return vtt_text(response.text) or None


def _account_name(account: str) -> str:
    """``@handle`` (lower-cased) or a ``UC…`` channel id, from what a user wrote."""
    text = account.strip()
    if "/" in text:
        path = urlsplit(text if "://" in text else f"https://{text}").path.strip("/")
        parts = path.split("/")
        if parts[0] in ("channel", "c", "user") and len(parts) > 1:
            text = parts[1] if parts[0] == "channel" else f"@{parts[1]}"
        else:
            text = parts[0]
    if _CHANNEL_ID.match(text):
        return text
    return "@" + text.lstrip("@").lower()


def _player_response(page: str) -> dict[str, Any] | None:
    """The ``ytInitialPlayerResponse = {…};`` object of a watch page, or None."""
    match = re.search(r"ytInitialPlayerResponse\s*=\s*(?=\{)", page)
    if match is None:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(page, match.end())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _handle_in(url: str) -> str | None:
    """``@handle`` (lower-cased) from a channel URL like ``http://www.youtube.com/@x``."""
    match = re.search(r"/(@[A-Za-z0-9_.-]+)", url)
    return match.group(1).lower() if match else None


def _author(handle: Any, channel_id: str) -> str:
    """The author as shown on YouTube: ``@handle`` where known, else the channel id."""
    if handle and str(handle).startswith("@"):
        return str(handle).lower()
    return channel_id
