"""A fake YouTube over a World: Data API v3 (channels, playlistItems, videos, search), RSS, pages.

Responses are the fixtures' items with the world's values filled in. Conventions:

* The only API key accepted is :data:`KEY`; any other gets the recorded 400 API_KEY_INVALID.
* A world account's channel id is ``UC`` + its user id padded to 22 characters; its
  uploads playlist is ``UU`` + the same 22.
* ``playlistItems`` pages carry an ETag and answer 304 to a matching If-None-Match.
* ``search?videoPaidProductPlacement=true`` returns the channel's posts with
  ``paid=True``; ``search?q=%23tag`` the world's posts tagged so. ``videos`` leaves
  out deleted and private videos (as YouTube does) and gives a non-owner's empty
  ``paidProductPlacementDetails``.
* ``/api/timedtext?v=ID`` serves a post's transcript as a rolling WebVTT track, and
  an empty 200 when it has none.

The plain fixtures are served for the fixture channel (``@harborlinetech``) when the
world has no such account.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
from datetime import datetime, timezone
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from fakes.server import FIXTURES, FakeServer, Request, Response, fixture, fixture_json
from fakes.tiktok import rolling_vtt
from fakes.world import FakeAccount, FakePost, World

KEY = "AIzaSyFakeKeyForLoopbackTests0000000"
FIXTURE_HANDLE = "harborlinetech"
FIXTURE_CHANNEL = "UCk3Jw8mQpZ1vN4xTr7yLbHe"
FIXTURE_UPLOADS = "UUk3Jw8mQpZ1vN4xTr7yLbHe"
_JSON = {"content-type": "application/json; charset=UTF-8"}


def channel_id(account: FakeAccount) -> str:
    """The fake channel id of a world account."""
    return "UC" + account.user_id.rjust(22, "0")


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pretty(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Google APIs answer pretty-printed JSON (two-space indent), unlike TikTok."""
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return Response(status, body, {**_JSON, **(headers or {})})


def install(server: FakeServer, world: World) -> None:
    """Register YouTube's routes on ``server``, rendering ``world``."""
    channel_template = fixture_json("youtube_channels_forhandle.json")
    item_template = fixture_json("youtube_playlistitems.json")["items"][0]
    page_template = fixture_json("youtube_playlistitems.json")
    video_template = fixture_json("youtube_videos_public_key.json")["items"][0]
    search_template = fixture_json("youtube_search_paid.json")
    fixture_ids = {v["id"] for v in fixture_json("youtube_videos_public_key.json")["items"]}

    def youtube_accounts() -> list[FakeAccount]:
        return [a for (plat, _), a in world.accounts.items() if plat == "youtube"]

    def by_channel(cid: str) -> FakeAccount | None:
        return next((a for a in youtube_accounts() if channel_id(a) == cid), None)

    def key_ok(request: Request) -> bool:
        return request.arg("key") == KEY

    def render_video(post: FakePost, account: FakeAccount) -> dict[str, Any]:
        video = copy.deepcopy(video_template)
        snippet = video["snippet"]
        snippet.update(
            publishedAt=_when(post.created),
            channelId=channel_id(account),
            title=post.title,
            description=post.caption,
            channelTitle=account.display_name,
            localized={"title": post.title, "description": post.caption},
        )
        video.update(id=post.id, paidProductPlacementDetails={})
        return video

    @server.route("GET", r"/youtube/v3/channels")
    def channels(request: Request, match: re.Match[str]) -> Response:
        if not key_ok(request):
            return fixture("youtube_error_key_invalid.json")
        handle = (request.arg("forHandle") or "").lstrip("@").lower()
        account = (
            world.get_account("youtube", handle) if handle else by_channel(request.arg("id") or "")
        )
        if account is None:
            if handle == FIXTURE_HANDLE or request.arg("id") == FIXTURE_CHANNEL:
                return fixture("youtube_channels_forhandle.json")
            return fixture("youtube_channels_forhandle_not_found.json")
        data = copy.deepcopy(channel_template)
        channel = data["items"][0]
        cid = channel_id(account)
        channel["id"] = cid
        channel["snippet"].update(title=account.display_name, customUrl=f"@{account.handle}")
        channel["contentDetails"]["relatedPlaylists"]["uploads"] = "UU" + cid[2:]
        return _pretty(data)

    @server.route("GET", r"/youtube/v3/playlistItems")
    def playlist_items(request: Request, match: re.Match[str]) -> Response:
        if not key_ok(request):
            return fixture("youtube_error_key_invalid.json")
        playlist = request.arg("playlistId") or ""
        token = request.arg("pageToken")
        account = by_channel("UC" + playlist[2:]) if playlist.startswith("UU") else None
        if account is None:
            if playlist == FIXTURE_UPLOADS:
                first = fixture_json("youtube_playlistitems.json")
                last = token == first["nextPageToken"]
                return fixture(
                    "youtube_playlistitems_last_page.json" if last else "youtube_playlistitems.json"
                )
            return fixture("youtube_error_playlist_not_found.json")
        size = min(int(request.arg("maxResults") or 5), 50)
        start = int(token[len("EAAa") :]) if token and token.startswith("EAAa") else 0
        with world.lock:
            posts = [
                p for p in account.posts if not p.deleted
            ]  # private ones stay, as placeholders
            chunk = posts[start : start + size]
            items = []
            for n, post in enumerate(chunk):
                item = copy.deepcopy(item_template)
                item["id"] = f"PLI{post.id}"
                item["snippet"].update(
                    publishedAt=_when(post.created),
                    channelId=channel_id(account),
                    title="Private video" if post.private else post.title,
                    description="This video is private." if post.private else post.caption,
                    channelTitle=account.display_name,
                    playlistId=playlist,
                    position=start + n,
                    resourceId={"kind": "youtube#video", "videoId": post.id},
                    videoOwnerChannelTitle=account.display_name,
                    videoOwnerChannelId=channel_id(account),
                )
                item["contentDetails"] = {
                    "videoId": post.id,
                    "videoPublishedAt": _when(post.created),
                }
                item["status"] = {"privacyStatus": "private" if post.private else "public"}
                items.append(item)
        data: dict[str, Any] = {"kind": page_template["kind"], "etag": ""}
        if start + size < len(posts):
            data["nextPageToken"] = f"EAAa{start + size}"
        if start:
            data["prevPageToken"] = f"EAEa{max(start - size, 0)}"
        data["items"] = items
        data["pageInfo"] = {"totalResults": len(posts), "resultsPerPage": size}
        etag = hashlib.sha1(json.dumps(items, sort_keys=True).encode()).hexdigest()[:27]
        data["etag"] = etag
        quoted = f'"{etag}"'
        if request.headers.get("if-none-match") == quoted:
            return Response(304, b"", {"etag": quoted})
        return _pretty(data, headers={"etag": quoted})

    @server.route("GET", r"/youtube/v3/videos")
    def videos(request: Request, match: re.Match[str]) -> Response:
        if not key_ok(request):
            return fixture("youtube_error_key_invalid.json")
        ids = [i for i in (request.arg("id") or "").split(",") if i]
        items = []
        for video_id in ids:
            post = world.find("youtube", video_id)
            if post is None:
                if video_id in fixture_ids:
                    items += [
                        v
                        for v in fixture_json("youtube_videos_public_key.json")["items"]
                        if v["id"] == video_id
                    ]
                continue
            account = world.get_account("youtube", post.handle)
            if post.deleted or post.private or account is None:
                continue
            items.append(render_video(post, account))
        return _pretty(
            {
                "kind": "youtube#videoListResponse",
                "etag": "v" + str(len(items)),
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )

    @server.route("GET", r"/youtube/v3/search")
    def search(request: Request, match: re.Match[str]) -> Response:
        if not key_ok(request):
            return fixture("youtube_error_key_invalid.json")
        cid = request.arg("channelId")
        if cid == FIXTURE_CHANNEL and by_channel(cid) is None:
            return fixture("youtube_search_paid.json")
        if request.arg("videoPaidProductPlacement") == "true" and cid:
            account = by_channel(cid)
            posts = [p for p in account.visible() if p.paid] if account else []
        else:
            posts = world.tagged("youtube", (request.arg("q") or "").lstrip("#"))
        size = min(int(request.arg("maxResults") or 5), 50)
        token = request.arg("pageToken")
        start = int(token[len("CDIQ") :]) if token and token.startswith("CDIQ") else 0
        chunk = posts[start : start + size]
        items = []
        for post in chunk:
            item = copy.deepcopy(search_template["items"][0])
            item["id"]["videoId"] = post.id
            description = post.caption if len(post.caption) <= 160 else post.caption[:160] + " ..."
            item["snippet"].update(
                publishedAt=_when(post.created),
                publishTime=_when(post.created),
                title=html.escape(post.title, quote=True).replace("&#x27;", "&#39;"),
                description=description.replace("\n", " "),
            )
            items.append(item)
        data: dict[str, Any] = dict(search_template, items=items)
        data.pop("nextPageToken", None)
        if start + size < len(posts):
            data["nextPageToken"] = f"CDIQ{start + size}"
        data["pageInfo"] = {"totalResults": len(posts), "resultsPerPage": size}
        return _pretty(data)

    @server.route("GET", r"/feeds/videos\.xml")
    def feed(request: Request, match: re.Match[str]) -> Response:
        cid = request.arg("channel_id") or ""
        account = by_channel(cid)
        if account is None:
            if cid == FIXTURE_CHANNEL:
                return fixture("youtube_rss.xml")
            return Response(
                404,
                b"<!DOCTYPE html><html><body>404 Not Found</body></html>",
                {"content-type": "text/html"},
            )
        entries = []
        for post in account.visible()[:15]:
            when = datetime.fromtimestamp(post.created, tz=timezone.utc).isoformat()
            entries.append(
                f" <entry>\n  <id>yt:video:{post.id}</id>\n  <yt:videoId>{post.id}</yt:videoId>\n"
                f"  <yt:channelId>{cid}</yt:channelId>\n  <title>{escape(post.title)}</title>\n"
                f'  <link rel="alternate" href="https://www.youtube.com/watch?v={post.id}"/>\n'
                f"  <published>{when}</published>\n  <updated>{when}</updated>\n"
                f"  <media:group>\n   <media:title>{escape(post.title)}</media:title>\n"
                f"   <media:description>{escape(post.caption)}</media:description>\n"
                f"  </media:group>\n </entry>\n"
            )
        head = (FIXTURES / "youtube_rss.xml").read_text(encoding="utf-8").split("<entry>")[0]
        head = head.replace(FIXTURE_CHANNEL, cid).replace(FIXTURE_CHANNEL[2:], cid[2:])
        head = head.replace("Harborline Tech", escape(account.display_name))
        body = (head.rstrip() + "\n" + "".join(entries) + "</feed>\n").encode()
        return Response(200, body, {"content-type": "text/xml; charset=UTF-8"})

    @server.route("GET", r"/@(?P<handle>[^/]+)")
    def channel_page(request: Request, match: re.Match[str]) -> Response:
        account = world.get_account("youtube", match["handle"])
        if account is None:
            if match["handle"].lower() == FIXTURE_HANDLE:
                cid = FIXTURE_CHANNEL
            else:
                return Response(
                    404,
                    b"<!DOCTYPE html><html><body>404</body></html>",
                    {"content-type": "text/html"},
                )
        else:
            cid = channel_id(account)
        page = (
            "<!DOCTYPE html><html><head><title>Channel - YouTube</title>"
            f'<link rel="canonical" href="https://www.youtube.com/channel/{cid}">'
            '</head><body><script>var ytInitialData = {"metadata":{"channelMetadataRenderer":'
            f'{{"externalId":"{cid}"}}}}}};</script></body></html>'
        )
        return Response(200, page.encode(), {"content-type": "text/html; charset=utf-8"})

    @server.route("GET", r"/watch")
    def watch(request: Request, match: re.Match[str]) -> Response:
        post = world.find("youtube", request.arg("v") or "")
        account = world.get_account("youtube", post.handle) if post else None
        if post is None or post.deleted or account is None:
            player: dict[str, Any] = {
                "playabilityStatus": {"status": "ERROR", "reason": "Video unavailable"}
            }
        elif post.private or account.private:
            player = {
                "playabilityStatus": {"status": "LOGIN_REQUIRED", "reason": "This video is private"}
            }
        else:
            player = {
                "playabilityStatus": {"status": "OK", "playableInEmbed": True},
                "videoDetails": {
                    "videoId": post.id,
                    "title": post.title,
                    "channelId": channel_id(account),
                    "shortDescription": post.caption,
                    "author": account.display_name,
                },
                "microformat": {
                    "playerMicroformatRenderer": {
                        "ownerProfileUrl": f"http://www.youtube.com/@{account.handle}",
                        "publishDate": datetime.fromtimestamp(post.created, tz=timezone.utc)
                        .astimezone(ZoneInfo("America/Los_Angeles"))
                        .isoformat(),
                    }
                },
            }
            if post.paid:
                player["paidContentOverlay"] = {
                    "paidContentOverlayRenderer": {
                        "text": {"simpleText": "Includes paid promotion"}
                    }
                }
        text = json.dumps(player, ensure_ascii=False).replace("</", "\\u003c/")
        page = (
            "<!DOCTYPE html><html><head><title>YouTube</title></head><body>"
            f"<script>var ytInitialPlayerResponse = {text};var meta = {{}};</script></body></html>"
        )
        return Response(200, page.encode(), {"content-type": "text/html; charset=utf-8"})

    @server.route("GET", r"/api/timedtext")
    def timedtext(request: Request, match: re.Match[str]) -> Response:
        post = world.find("youtube", request.arg("v") or "")
        if post is None or not post.transcript:
            return Response(200, b"", {"content-type": "text/html; charset=UTF-8"})
        return Response(
            200, rolling_vtt(post.transcript).encode(), {"content-type": "text/vtt; charset=utf-8"}
        )
