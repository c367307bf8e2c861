"""A fake TikTok over a World: Display API v2, profile and video pages, web item list, oEmbed.

Responses are the fixtures' own items with the world's values filled in (same
envelopes, key order and compact JSON). Conventions of this fake:

* Display API tokens are ``act.<handle>`` for the world's accounts (each creator
  authorises their own token); any other token gets the recorded 401.
* ``secUid`` of a world account is ``MS4wLjABAAAA<user_id>``.
* A post with a transcript carries one automatic WebVTT subtitle track served at
  ``/subtitles/<id>.vtt`` with rolling repeated lines, as TikTok's ASR tracks have.
* A deleted video's page says ``statusCode 10204, statusMsg status_deleted`` (the
  message is what TikTok sends [REC]; the code is a guess); a private video's page
  says ``10216 status_self_see`` (the fixture).

* Short links: :func:`short_link` gives a post's share link; its code is a two-letter
  prefix and the video id in base 36 (real codes are opaque). ``/vm/<code>/`` stands
  for vm./vt.tiktok.com (configure ``short_url: <fake>/vm``) and answers 301, the
  ``/t/<code>/`` form 302, each to the video URL on the fake with the tracking query
  TikTok adds; a code of no post of the world is a 404. A deleted post's link still
  redirects (its page then says deleted) [INF].

The plain fixtures are served for the fixture creator (``glowwithmara``, token
``act.example12345Example12345Example``) when the world has no such account, so a
test can run the source on the recorded bytes themselves.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import unquote

from fakes.server import (
    FIXTURES,
    FakeServer,
    Request,
    Response,
    fixture,
    fixture_json,
    json_response,
)
from fakes.world import FakeAccount, FakePost, World
from monitors.sources.base import json_text

FIXTURE_HANDLE = "glowwithmara"
FIXTURE_PRIVATE_HANDLE = "quietkoi.studio"
FIXTURE_TOKEN = "act.example12345Example12345Example"
FIXTURE_SEC_UID = "MS4wLjABAAAAIe9Q_D4e3TD1wyice6TbvYy9lPXtW61SJcXOuWqR4kWTwhScXHT292tyTqtua-_T"
FIXTURE_VIDEO_PAGE_ID = "7707331909408313948"
FIXTURE_OEMBED_ID = "7706548173101700867"
_SCRIPT = re.compile(
    r'(<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__"[^>]*>)(.*?)(</script>)', re.S
)
_HTML = {"content-type": "text/html; charset=utf-8"}


SEC_UID_PREFIX = "MS4wLjABAAAA"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def short_code(post: FakePost, prefix: str = "ZM") -> str:
    """The fake share code of ``post``: ``prefix`` and its id in base 36."""
    number, digits = int(post.id), ""
    while number:
        number, digit = divmod(number, 36)
        digits = _BASE36[digit] + digits
    return prefix + (digits or "0")


def short_link(post: FakePost, host: str = "vm.tiktok.com") -> str:
    """The share link the app gives for ``post``: ``https://vm.tiktok.com/ZM.../`` (or vt.),
    or with ``host="www.tiktok.com"`` the ``/t/ZT.../`` form."""
    if host == "www.tiktok.com":
        return f"https://www.tiktok.com/t/{short_code(post, 'ZT')}/"
    return f"https://{host}/{short_code(post, 'ZS' if host.startswith('vt.') else 'ZM')}/"


def sec_uid(account: FakeAccount) -> str:
    """The fake secUid of a world account."""
    return f"{SEC_UID_PREFIX}{account.user_id}"


def install(server: FakeServer, world: World) -> None:
    """Register TikTok's routes on ``server``, rendering ``world``."""
    video_template = fixture_json("tiktok_video_list.json")["data"]["videos"][0]
    item_template = fixture_json("tiktok_web_item_list.json")["itemList"][0]
    list_template = fixture_json("tiktok_web_item_list.json")
    oembed_template = fixture_json("tiktok_oembed.json")
    profile_html = (FIXTURES / "tiktok_profile_page.html").read_text(encoding="utf-8")
    video_html = (FIXTURES / "tiktok_video_page.html").read_text(encoding="utf-8")

    def account_for_token(request: Request) -> FakeAccount | None:
        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if not token.startswith("act."):
            return None
        return world.get_account("tiktok", token[len("act.") :])

    def render_video(post: FakePost) -> dict[str, Any]:
        video = copy.deepcopy(video_template)
        url = f"https://www.tiktok.com/@{post.handle}/video/{post.id}"
        video.update(
            id=post.id,
            create_time=post.created,
            share_url=f"{url}?utm_campaign=tt4d_open_api&utm_source=awexample1234567",
            embed_link=f"https://www.tiktok.com/player/v1/{post.id}?utm_campaign=tt4d_open_api",
            video_description=post.caption,
            title="",
        )
        return video

    # Rendered items by post id, with what they were rendered from: the scale
    # benchmark serves the same unchanged items every cycle, and a deepcopy of the
    # template per item per request made the fake, not the monitors, the bottleneck.
    # Cached items are shared: nothing may change them after rendering.
    rendered: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
    item_json = json.dumps(item_template)

    def render_item(post: FakePost, account: FakeAccount) -> dict[str, Any]:
        fingerprint = (
            post.caption,
            post.created,
            post.paid,
            post.transcript,
            account.user_id,
            account.handle,
            account.display_name,
            account.private,
            server.url,
        )
        cached = rendered.get(post.id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        item = json.loads(item_json)
        item.update(
            id=post.id, createTime=post.created, desc=post.caption, textExtra=[], challenges=[]
        )
        item["contents"] = [{"desc": post.caption, "textExtra": []}]
        item["author"].update(
            id=account.user_id,
            uniqueId=account.handle,
            nickname=account.display_name,
            secUid=sec_uid(account),
            privateAccount=account.private,
        )
        item["video"]["id"] = post.id
        if post.paid is not None:
            item["isAd"] = post.paid
        if post.transcript:
            item["video"]["subtitleInfos"] = [
                {
                    "LanguageCodeName": "eng-US",
                    "LanguageID": "2",
                    "Format": "webvtt",
                    "Source": "ASR",
                    "Url": f"{server.url}/subtitles/{post.id}.vtt",
                    "UrlExpire": str(post.created + 86400),
                }
            ]
        rendered[post.id] = (fingerprint, item)
        return item

    # Each page template split around its JSON, parsed once (the pages are large).
    parsed: dict[int, tuple[str, dict[str, Any], str]] = {}

    def split_page(template: str) -> tuple[str, dict[str, Any], str]:
        found = parsed.get(id(template))
        if found is None:
            match = _SCRIPT.search(template)
            assert match is not None
            data = json.loads(match.group(2))
            found = (template[: match.start(2)], data, template[match.end(2) :])
            parsed[id(template)] = found
        return found

    def page(template: str, scope_key: str, value: dict[str, Any]) -> Response:
        head, base, tail = split_page(template)
        scope = dict(base["__DEFAULT_SCOPE__"])
        scope.pop("webapp.user-detail", None)
        scope.pop("webapp.video-detail", None)
        scope[scope_key] = value
        data = {**base, "__DEFAULT_SCOPE__": scope}
        text = json_text(data).replace("</", "\\u003c/")
        return Response(200, (head + text + tail).encode(), dict(_HTML))

    profile_detail = json.dumps(
        split_page(profile_html)[1]["__DEFAULT_SCOPE__"]["webapp.user-detail"]
    )

    @server.route("POST", r"/v2/video/list/")
    def video_list(request: Request, match: re.Match[str]) -> Response:
        if request.headers.get(
            "authorization"
        ) == f"Bearer {FIXTURE_TOKEN}" and not world.get_account("tiktok", FIXTURE_HANDLE):
            body = request.json() or {}
            last = fixture_json("tiktok_video_list.json")["data"]["cursor"]
            return fixture(
                "tiktok_video_list_last_page.json"
                if body.get("cursor") == last
                else "tiktok_video_list.json"
            )
        account = account_for_token(request)
        if account is None:
            return fixture("tiktok_error_access_token_invalid.json")
        body = request.json() or {}
        count = int(body.get("max_count", 10))
        if not 0 < count <= 20:
            return json_response(
                {
                    "data": {},
                    "error": {
                        "code": "invalid_params",
                        "message": "max_count must be 1..20",
                        "log_id": "x",
                    },
                },
                400,
            )
        cursor = body.get("cursor")
        with world.lock:
            posts = [
                p for p in account.visible() if cursor is None or p.created * 1000 < int(cursor)
            ]
        chunk = posts[:count]
        data = {
            "cursor": chunk[-1].created * 1000 if chunk else (cursor or 0),
            "has_more": len(posts) > count,
            "videos": [render_video(p) for p in chunk],
        }
        return json_response(
            {"data": data, "error": {"code": "ok", "message": "", "log_id": "202611140800"}}
        )

    @server.route("GET", r"/@(?P<handle>[^/]+)/?")
    def profile(request: Request, match: re.Match[str]) -> Response:
        handle = unquote(match["handle"]).lower()
        account = world.get_account("tiktok", handle)
        if account is None:
            if handle == FIXTURE_HANDLE:
                return fixture("tiktok_profile_page.html")
            if handle == FIXTURE_PRIVATE_HANDLE:
                return fixture("tiktok_profile_page_private.html")
            return fixture("tiktok_profile_page_not_found.html")
        if account.suspended:
            return page(profile_html, "webapp.user-detail", {"statusCode": 10204, "statusMsg": ""})
        detail = json.loads(profile_detail)
        user = detail["userInfo"]["user"]
        user.update(
            id=account.user_id,
            uniqueId=account.handle,
            nickname=account.display_name,
            secUid=sec_uid(account),
            privateAccount=account.private,
            secret=account.private,
        )
        detail["userInfo"]["stats"]["videoCount"] = len(account.visible())
        return page(profile_html, "webapp.user-detail", detail)

    @server.route("GET", r"/api/(?P<kind>post|creator)/item_list/")
    def item_list(request: Request, match: re.Match[str]) -> Response:
        wanted = request.arg("secUid") or ""
        cursor = int(request.arg("cursor") or 0)
        count = int(request.arg("count") or 30)
        if wanted == FIXTURE_SEC_UID and not world.get_account("tiktok", FIXTURE_HANDLE):
            if cursor == 0:
                return fixture("tiktok_web_item_list.json")
            empty = dict(list_template, itemList=[], hasMore=False, cursor=str(cursor))
            return json_response(empty)
        with world.lock:
            # secUid is "MS4wLjABAAAA<user id>" here: an index lookup, not a scan
            # (the scale benchmark serves 10,000 creators).
            account = world.get_account("tiktok", wanted.removeprefix(SEC_UID_PREFIX))
            if account is not None and sec_uid(account) != wanted:
                account = None
            if account is None:
                return Response(
                    200, b"", {"content-type": "application/json"}
                )  # TikTok's empty 200
            if account.private:
                return json_response({"statusCode": 10222, "statusMsg": "", "itemList": []})
            posts = [p for p in account.visible() if not cursor or p.created * 1000 < cursor]
            chunk = posts[:count]
            items = [render_item(p, account) for p in chunk]
        more = len(posts) > count
        body = dict(
            list_template,
            itemList=items,
            hasMore=more,
            hasMorePrevious=more,
            cursor=str(chunk[-1].created * 1000 if chunk else cursor),
        )
        return json_response(body)

    @server.route("GET", r"/@(?P<handle>[^/]+)/(?:video|photo)/(?P<id>\d+)")
    def video_page(request: Request, match: re.Match[str]) -> Response:
        post = world.find("tiktok", match["id"])
        if post is None and match["id"] == FIXTURE_VIDEO_PAGE_ID:
            return fixture("tiktok_video_page.html")
        if post is not None and post.private:
            return fixture("tiktok_video_page_private.html")
        if post is None or post.deleted:
            return page(
                video_html,
                "webapp.video-detail",
                {"statusCode": 10204, "statusMsg": "status_deleted"},
            )
        account = world.get_account("tiktok", post.handle)
        assert account is not None
        if account.private:
            return page(
                video_html,
                "webapp.video-detail",
                {"statusCode": 10222, "statusMsg": "author_secret"},
            )
        detail = {
            "itemInfo": {"itemStruct": render_item(post, account)},
            "shareMeta": {"title": f"{account.display_name} on TikTok", "desc": post.caption},
            "statusCode": 0,
            "statusMsg": "",
        }
        return page(video_html, "webapp.video-detail", detail)

    def short_redirect(code: str, status: int) -> Response:
        try:
            video_id = str(int(code[2:], 36))
        except ValueError:
            video_id = ""
        post = world.find("tiktok", video_id) if video_id else None
        if post is None:
            return Response(404, b"", dict(_HTML))
        location = f"{server.url}/@{post.handle}/video/{post.id}?_r=1&_t={code}"
        return Response(status, b"", {"location": location, **_HTML})

    @server.route("GET", r"/vm/(?P<code>[A-Za-z0-9_-]+)/?")
    def short_vm(request: Request, match: re.Match[str]) -> Response:
        return short_redirect(match["code"], 301)

    @server.route("GET", r"/t/(?P<code>[A-Za-z0-9_-]+)/?")
    def short_t(request: Request, match: re.Match[str]) -> Response:
        return short_redirect(match["code"], 302)

    @server.route("GET", r"/oembed")
    def oembed(request: Request, match: re.Match[str]) -> Response:
        url = request.arg("url") or ""
        found = re.search(r"/video/(\d+)", url)
        video_id = found.group(1) if found else ""
        post = world.find("tiktok", video_id)
        if post is None and video_id == FIXTURE_OEMBED_ID:
            return fixture("tiktok_oembed.json")
        account = world.get_account("tiktok", post.handle) if post else None
        if post is None or account is None or post.deleted or post.private or account.private:
            return fixture("tiktok_oembed_error_not_found.json")
        data = dict(
            oembed_template,
            title=post.caption + " ",
            author_url=f"https://www.tiktok.com/@{account.handle}",
            author_name=account.display_name,
            author_unique_id=account.handle,
            embed_product_id=post.id,
            html=f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@{account.handle}/video/{post.id}" '
            f'data-video-id="{post.id}"></blockquote>',
        )
        return json_response(data)

    @server.route("GET", r"/subtitles/(?P<id>\d+)\.vtt")
    def subtitles(request: Request, match: re.Match[str]) -> Response:
        post = world.find("tiktok", match["id"])
        if post is None or not post.transcript:
            return Response(404, b"", {})
        return Response(
            200, rolling_vtt(post.transcript).encode(), {"content-type": "text/vtt; charset=utf-8"}
        )


def rolling_vtt(text: str, words_per_line: int = 5) -> str:
    """``text`` as an automatic WebVTT track: each cue repeats the previous line (rolling captions)."""
    words = text.split()
    lines = [" ".join(words[i : i + words_per_line]) for i in range(0, len(words), words_per_line)]
    cues = ["WEBVTT", ""]
    for n, line in enumerate(lines):
        start, end = _stamp(n * 2), _stamp(n * 2 + 2)
        shown = [lines[n - 1], f"<{start}><c>{line}</c>"] if n else [line]
        cues += [f"{start} --> {end} align:start position:0%", *shown, ""]
    return "\n".join(cues)


def _stamp(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    return f"00:{minutes:02d}:{seconds:02d}.000"
