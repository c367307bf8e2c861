"""The TikTok source against the loopback fake TikTok (tests/fakes/tiktok.py) and the fixtures."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fakes import tiktok as fake_tiktok
from fakes.harness import reset, serve
from fakes.server import (
    BOT_WALL,
    FakeServer,
    Loop,
    Response,
    fixture,
    fixture_json,
    json_response,
)
from fakes.world import World
from source_helpers import loopback

from monitors.errors import (
    AuthExpired,
    BotWall,
    HostRefused,
    Malformed,
    NotConfigured,
    NotFound,
    Private,
    RateLimited,
    Unavailable,
)
from monitors.http import HostPolicy, HttpSettings, make_client
from monitors.sources import source_class
from monitors.sources.base import ACCOUNT, HASHTAG, PAID_LABEL, POST, TRANSCRIPT, SourceSettings
from monitors.sources.subtitles import vtt_text
from monitors.sources.tiktok import MAX_HOPS, TikTokSource

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@dataclass
class Setup:
    server: FakeServer
    world: World
    waits: list[float]

    def source(self, token: str | None = None, **kw: object) -> TikTokSource:
        http = make_client(
            "tiktok",
            HttpSettings(retries=2, backoff=0.5),
            sleep=self.waits.append,
            hosts=loopback("tiktok"),
        )
        settings = SourceSettings(
            api_url=self.server.url,
            web_url=self.server.url,
            token=token,
            **kw,  # type: ignore[arg-type]
        )
        return TikTokSource(http, settings)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeServer, World]]:
    yield from serve(fake_tiktok.install)


@pytest.fixture
def tt(served: tuple[FakeServer, World]) -> Setup:
    reset(*served)
    return Setup(*served, [])


def add_posts(world: World, handle: str, n: int) -> list[str]:
    """``n`` posts, one an hour, newest first; returns their ids."""
    posts = [world.post("tiktok", handle, f"post {i} #fyp", age=3600 * (i + 1)) for i in range(n)]
    return [p.id for p in posts]


# --- Display API (token) ---------------------------------------------------------


def test_api_listing_pages_newest_first(tt: Setup) -> None:
    ids = add_posts(tt.world, "maya", 45)
    fetched = list(tt.source("act.maya").account_posts("@maya", {}))
    assert [f.post.id for f in fetched] == ids
    requests = tt.server.requests("/v2/video/list/")
    assert len(requests) == 3
    assert requests[0].json() == {"max_count": 20}
    assert requests[1].json()["cursor"] == (int(ids[19]) >> 32) * 1000
    assert requests[0].headers["authorization"] == "Bearer act.maya"
    post = fetched[0].post
    assert post.author == "@maya"
    assert post.url == f"https://www.tiktok.com/@maya/video/{post.id}"
    assert ISO_Z.match(post.posted_at or "")
    assert post.is_video is True and post.paid_partnership is None
    assert post.caption == "post 0 #fyp"
    assert json.loads(fetched[0].raw or "")["id"] == post.id


def test_api_listing_is_lazy(tt: Setup) -> None:
    add_posts(tt.world, "maya", 45)
    three = list(itertools.islice(tt.source("act.maya").account_posts("maya", {}), 3))
    assert len(three) == 3
    assert len(tt.server.requests("/v2/video/list/")) == 1


def test_api_page_size_is_capped_at_20(tt: Setup) -> None:
    add_posts(tt.world, "maya", 5)
    list(tt.source("act.maya", page_size=50).account_posts("maya", {}))
    assert tt.server.requests("/v2/video/list/")[0].json()["max_count"] == 20


def test_api_token_of_another_creator_is_a_config_error(tt: Setup) -> None:
    add_posts(tt.world, "maya", 2)
    add_posts(tt.world, "other", 2)
    with pytest.raises(NotConfigured, match="belongs to @other"):
        next(tt.source("act.other").account_posts("maya", {}))


def test_api_invalid_token_is_auth_expired_and_not_leaked(tt: Setup) -> None:
    add_posts(tt.world, "maya", 2)
    with pytest.raises(AuthExpired) as caught:
        next(tt.source("act.wrongsecretvalue").account_posts("maya", {}))
    assert "access_token_invalid" in str(caught.value)
    assert "wrongsecretvalue" not in str(caught.value)


def test_api_scope_not_authorized_is_auth_expired(tt: Setup) -> None:
    add_posts(tt.world, "maya", 2)
    tt.server.fail("/v2/video/list/", fixture("tiktok_error_scope_not_authorized.json"))
    with pytest.raises(AuthExpired, match="scope_not_authorized"):
        next(tt.source("act.maya").account_posts("maya", {}))


def test_api_rate_limit_retried_then_raised(tt: Setup) -> None:
    add_posts(tt.world, "maya", 2)
    tt.server.fail("/v2/video/list/", fixture("tiktok_error_rate_limit.json"), times=10)
    with pytest.raises(RateLimited):
        next(tt.source("act.maya").account_posts("maya", {}))
    assert len(tt.server.requests("/v2/video/list/")) == 3  # first + 2 retries
    assert len(tt.waits) == 2


def test_api_rate_limit_burst_then_success(tt: Setup) -> None:
    ids = add_posts(tt.world, "maya", 2)
    tt.server.fail("/v2/video/list/", fixture("tiktok_error_rate_limit.json"), times=1)
    tt.server.fail("/v2/video/list/", Response(500, b"oops"), times=1)
    assert [f.post.id for f in tt.source("act.maya").account_posts("maya", {})] == ids


def test_api_error_in_a_200_body_is_raised(tt: Setup) -> None:
    add_posts(tt.world, "maya", 2)
    body = {"data": {}, "error": {"code": "internal_error", "message": "try later", "log_id": "1"}}
    tt.server.fail("/v2/video/list/", json_response(body, 200))
    with pytest.raises(Unavailable, match="internal_error"):
        next(tt.source("act.maya").account_posts("maya", {}))


def test_api_bare_error_struct_is_understood(tt: Setup) -> None:
    body = {"code": "access_token_invalid", "message": "bad", "log_id": "1"}
    tt.server.fail("/v2/video/list/", json_response(body, 401))
    with pytest.raises(AuthExpired):
        next(tt.source("act.maya").account_posts("maya", {}))


def test_api_truncated_json_is_malformed(tt: Setup) -> None:
    add_posts(tt.world, "maya", 2)
    tt.server.fail(
        "/v2/video/list/", Response(200, fixture("tiktok_video_list.json").body, truncate=True)
    )
    with pytest.raises(Malformed):
        next(tt.source("act.maya").account_posts("maya", {}))


def test_api_fixture_bytes(tt: Setup) -> None:
    fetched = list(tt.source(fake_tiktok.FIXTURE_TOKEN).account_posts("glowwithmara", {}))
    first = fixture_json("tiktok_video_list.json")["data"]["videos"]
    last = fixture_json("tiktok_video_list_last_page.json")["data"]["videos"]
    assert [f.post.id for f in fetched] == [v["id"] for v in first + last]
    assert [f.post.caption for f in fetched] == [v["video_description"] for v in first + last]
    assert fetched[0].post.posted_at == "2026-11-12T17:04:09Z"  # create_time 1794503049
    assert fetched[0].post.url == "https://www.tiktok.com/@glowwithmara/video/7707331909408313948"
    assert tt.server.requests("/v2/video/list/")[1].json()["cursor"] == 1793956382000


# --- public web (no token) -----------------------------------------------------------


def test_web_listing_pages_and_caches_sec_uid(tt: Setup) -> None:
    ids = add_posts(tt.world, "maya", 25)
    state: dict[str, object] = {}
    fetched = list(tt.source(page_size=10).account_posts("@Maya", state))
    assert [f.post.id for f in fetched] == ids
    assert len(tt.server.requests("/api/post/item_list/")) == 3
    assert state["sec_uid"] == fake_tiktok.sec_uid(tt.world.get_account("tiktok", "maya"))  # type: ignore[arg-type]
    json.dumps(state)  # state stays JSON-serialisable
    profile_requests = len(tt.server.requests("^/@maya$"))
    list(tt.source(page_size=10).account_posts("maya", state))
    assert len(tt.server.requests("^/@maya$")) == profile_requests  # the cached secUid is used
    post = fetched[0].post
    assert post.author == "@maya" and post.is_video is True and post.paid_partnership is None
    assert ISO_Z.match(post.posted_at or "")


def test_web_listing_is_lazy(tt: Setup) -> None:
    add_posts(tt.world, "maya", 25)
    three = list(itertools.islice(tt.source(page_size=10).account_posts("maya", {}), 3))
    assert len(three) == 3
    assert len(tt.server.requests("/api/post/item_list/")) == 1


def test_web_creator_item_list_option(tt: Setup) -> None:
    ids = add_posts(tt.world, "maya", 12)
    source = tt.source(page_size=5, options={"item_list": "creator"})
    assert [f.post.id for f in source.account_posts("maya", {})] == ids
    requests = tt.server.requests("/api/creator/item_list/")
    assert len(requests) == 3
    assert requests[0].arg("type") == "1"
    assert int(requests[1].arg("cursor") or 0) == (int(ids[4]) >> 32) * 1000


def test_web_missing_account_is_not_found(tt: Setup) -> None:
    with pytest.raises(NotFound, match="10221"):
        next(tt.source().account_posts("nobody", {}))


def test_web_private_account_is_private(tt: Setup) -> None:
    tt.world.account("tiktok", "hidden", private=True)
    with pytest.raises(Private):
        next(tt.source().account_posts("hidden", {}))


def test_web_private_fixture_page(tt: Setup) -> None:
    with pytest.raises(Private):
        next(tt.source().account_posts(fake_tiktok.FIXTURE_PRIVATE_HANDLE, {}))


def test_web_blocked_account_is_private_not_deleted(tt: Setup) -> None:
    tt.world.account("tiktok", "gone").suspended = True
    with pytest.raises(Private, match="10204"):
        next(tt.source().account_posts("gone", {}))


def test_web_unknown_status_code_is_transient_not_private(tt: Setup) -> None:
    tt.world.account("tiktok", "maya")
    tt.server.fail("/api/post/item_list/", json_response({"statusCode": 10000, "itemList": []}))
    with pytest.raises(Unavailable, match="unknown statusCode 10000"):
        next(tt.source().account_posts("maya", {}))


def test_video_under_review_is_private(tt: Setup) -> None:
    body = {"statusCode": 10299, "statusMsg": "status_reviewing"}
    tt.server.fail("/api/post/item_list/", json_response(body))
    tt.world.account("tiktok", "maya")
    with pytest.raises(Private, match="status_reviewing"):
        next(tt.source().account_posts("maya", {}))


def test_web_bot_wall_on_profile(tt: Setup) -> None:
    tt.server.fail("^/@maya$", BOT_WALL)
    with pytest.raises(BotWall):
        next(tt.source().account_posts("maya", {}))


def test_web_empty_item_list_is_a_bot_wall_not_no_posts(tt: Setup) -> None:
    add_posts(tt.world, "maya", 3)
    tt.server.fail("/api/post/item_list/", Response(200, b"", {"content-type": "application/json"}))
    with pytest.raises(BotWall):
        next(tt.source().account_posts("maya", {}))


def test_web_truncated_item_list_is_malformed(tt: Setup) -> None:
    add_posts(tt.world, "maya", 3)
    tt.server.fail(
        "/api/post/item_list/",
        Response(200, fixture("tiktok_web_item_list.json").body, truncate=True),
    )
    with pytest.raises(Malformed):
        next(tt.source().account_posts("maya", {}))


def test_web_5xx_burst_is_retried(tt: Setup) -> None:
    ids = add_posts(tt.world, "maya", 3)
    tt.server.fail("/api/post/item_list/", Response(503, b""), times=2)
    assert [f.post.id for f in tt.source().account_posts("maya", {})] == ids
    assert len(tt.waits) == 2


def test_web_fixture_bytes_and_labels(tt: Setup) -> None:
    fetched = list(tt.source().account_posts("glowwithmara", {}))
    items = fixture_json("tiktok_web_item_list.json")["itemList"]
    assert [f.post.id for f in fetched] == [i["id"] for i in items]
    assert [f.post.caption for f in fetched] == [i["desc"] for i in items]
    second = fetched[1]
    assert second.labels == {
        "isAd": True,
        "adAuthorization": True,
        "adLabelVersion": 2,
        "brandOrganicType": 0,
        "BAInfo": "",
    }
    assert second.post.paid_partnership is None  # isAd's meaning is unconfirmed
    assert all(f.transcript is None for f in fetched)  # the fixture items carry no subtitles


def test_web_legacy_sigi_profile(tt: Setup) -> None:
    tt.server.fail("^/@glowwithmara$", fixture("tiktok_profile_page_legacy_sigi.html"))
    state: dict[str, object] = {}
    fetched = list(tt.source().account_posts("glowwithmara", state))
    assert state["sec_uid"] == fake_tiktok.FIXTURE_SEC_UID
    assert len(fetched) == len(fixture_json("tiktok_web_item_list.json")["itemList"])


def test_web_photo_post_and_contents_caption(tt: Setup) -> None:
    item = fixture_json("tiktok_web_item_list.json")["itemList"][0]
    item.update(
        desc="",
        imagePost={"images": []},
        contents=[{"desc": "slide one #ad"}, {"desc": "slide two"}],
    )
    body = {"itemList": [item], "hasMore": False, "cursor": "0", "statusCode": 0}
    add_posts(tt.world, "maya", 1)
    tt.server.fail("/api/post/item_list/", json_response(body))
    fetched = next(tt.source().account_posts("maya", {}))
    assert fetched.post.is_video is False
    assert fetched.post.caption == "slide one #ad slide two"
    assert fetched.post.url == f"https://www.tiktok.com/@glowwithmara/photo/{item['id']}"


def test_web_status_code_in_item_list(tt: Setup) -> None:
    tt.world.account("tiktok", "maya")
    tt.server.fail("/api/post/item_list/", json_response({"statusCode": 10222, "itemList": []}))
    with pytest.raises(Private):
        next(tt.source().account_posts("maya", {}))


def test_caption_edge_cases_survive_both_paths(tt: Setup) -> None:
    caption = 'שלום 👋🏽 مرحبا &amp; <b>bold</b> "quotes" </script> #ad\u200f'
    tt.world.post("tiktok", "maya", caption)
    assert next(tt.source("act.maya").account_posts("maya", {})).post.caption == caption
    assert next(tt.source().account_posts("maya", {})).post.caption == caption
    fetched = tt.source().post(
        f"https://www.tiktok.com/@maya/video/{tt.world.accounts[('tiktok', 'maya')].posts[0].id}"
    )
    assert fetched.post.caption == caption


# --- subtitles --------------------------------------------------------------------------


def test_transcript_loader_reads_the_subtitle_track(tt: Setup) -> None:
    spoken = (
        "hey everyone quick heads up this video is sponsored by keyforge labs and you will love it"
    )
    tt.world.post("tiktok", "maya", "new keyboard day", transcript=spoken)
    fetched = next(tt.source().account_posts("maya", {}))
    assert fetched.transcript is not None
    requests_before = len(tt.server.requests("/subtitles/"))
    assert requests_before == 0  # loaded only on demand
    assert fetched.transcript() == spoken
    assert len(tt.server.requests("/subtitles/")) == 1


def test_transcript_of_an_expired_track_is_none(tt: Setup) -> None:
    tt.world.post("tiktok", "maya", "x", transcript="some words here")
    fetched = next(tt.source().account_posts("maya", {}))
    tt.server.fail("/subtitles/", Response(403, b"expired"))
    assert fetched.transcript is not None and fetched.transcript() is None


def test_creator_captions_are_preferred_over_automatic_ones(tt: Setup) -> None:
    item = fixture_json("tiktok_web_item_list.json")["itemList"][0]
    item["video"]["subtitleInfos"] = [
        {"Format": "webvtt", "Source": "ASR", "Url": f"{tt.server.url}/subtitles/auto.vtt"},
        {
            "Format": "creator_caption",
            "Source": "creator_caption",
            "Url": f"{tt.server.url}/subtitles/own.vtt",
        },
    ]
    tt.server.fail(
        "/subtitles/own.vtt",
        Response(200, b"WEBVTT\n\n00:00.000 --> 00:02.000\npaid partnership with keyforge\n"),
    )
    tt.world.account("tiktok", "maya")
    tt.server.fail(
        "/api/post/item_list/",
        json_response({"itemList": [item], "hasMore": False, "statusCode": 0}),
    )
    fetched = next(tt.source().account_posts("maya", {}))
    assert fetched.transcript is not None
    assert fetched.transcript() == "paid partnership with keyforge"


def test_vtt_text_of_the_caption_fixture() -> None:
    text = fixture("youtube_captions.vtt").body.decode()
    spoken = vtt_text(text)
    assert spoken.startswith(
        "hey everyone welcome back to harborline quick heads up this video is sponsored by"
    )
    assert "-->" not in spoken and "WEBVTT" not in spoken and "Kind:" not in spoken


def test_vtt_text_strips_tags_entities_and_rolling_repeats() -> None:
    vtt = (
        "WEBVTT\nKind: captions\n\nNOTE a comment\nwith two lines\n\n"
        "1\n00:00:00.000 --> 00:00:02.000 align:start\nthis video is\n\n"
        "2\n00:00:02.000 --> 00:00:04.000\nthis video is\n<00:00:02.500><c> sponsored</c><c> by</c> Tom &amp; Jerry\n\n"
        "00:00:04.000 --> 00:00:06.000\nsponsored by Tom & Jerry\n<v Speaker>thanks</v>\n"
    )
    assert vtt_text(vtt) == "this video is sponsored by Tom & Jerry thanks"


# --- one post by URL -----------------------------------------------------------------------


def test_post_by_url_uses_oembed(tt: Setup) -> None:
    post = tt.world.post("tiktok", "maya", "Loving this #ad")
    fetched = tt.source().post(f"https://m.tiktok.com/v/{post.id}.html?lang=en")
    assert fetched.post.caption == "Loving this #ad"  # oEmbed's trailing space is gone
    assert fetched.post.id == post.id and fetched.post.author == "@maya"
    assert fetched.post.posted_at == _iso(post.created)
    assert len(tt.server.requests("/oembed")) == 1
    assert not tt.server.requests("/video/")


def test_deleted_post_is_not_found(tt: Setup) -> None:
    post = tt.world.post("tiktok", "maya", "soon gone")
    tt.world.delete(post)
    with pytest.raises(NotFound, match="status_deleted"):
        tt.source().post(f"https://www.tiktok.com/@maya/video/{post.id}")
    assert len(tt.server.requests("/oembed")) == 1
    assert len(tt.server.requests(f"/video/{post.id}")) == 1


def test_private_post_is_private_not_deleted(tt: Setup) -> None:
    post = tt.world.post("tiktok", "maya", "friends only", private=True)
    with pytest.raises(Private, match="10216"):
        tt.source().post(f"https://www.tiktok.com/@maya/video/{post.id}")


def test_post_of_a_private_account_is_private(tt: Setup) -> None:
    post = tt.world.post("tiktok", "hidden", "x")
    tt.world.account("tiktok", "hidden").private = True
    with pytest.raises(Private):
        tt.source().post(f"https://www.tiktok.com/@hidden/video/{post.id}")


def test_oembed_fixture_bytes(tt: Setup) -> None:
    fetched = tt.source().post(
        f"https://www.tiktok.com/@glowwithmara/video/{fake_tiktok.FIXTURE_OEMBED_ID}"
    )
    title = fixture_json("tiktok_oembed.json")["title"]
    assert fetched.post.caption == title.rstrip()
    assert fetched.post.author == "@glowwithmara"


def test_video_page_fixture_when_oembed_refuses(tt: Setup) -> None:
    fetched = tt.source().post(
        f"https://www.tiktok.com/@glowwithmara/video/{fake_tiktok.FIXTURE_VIDEO_PAGE_ID}"
    )
    assert fetched.post.caption.startswith("#ad Obsessed with the new @lumenskin")
    assert fetched.labels["adAuthorization"] is True
    assert fetched.post.posted_at == "2026-11-12T17:04:09Z"


def test_video_page_private_fixture(tt: Setup) -> None:
    tt.server.fail("/video/", fixture("tiktok_video_page_private.html"))
    with pytest.raises(Private, match="status_self_see"):
        tt.source().post("https://www.tiktok.com/@someone/video/7700000000000000001")


def test_video_page_bot_wall(tt: Setup) -> None:
    tt.server.fail("/video/", BOT_WALL)
    with pytest.raises(BotWall):
        tt.source().post("https://www.tiktok.com/@someone/video/7700000000000000001")


# --- short links -----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["vm.tiktok.com", "vt.tiktok.com", "www.tiktok.com"])
def test_a_short_link_is_resolved_to_its_video(tt: Setup, host: str) -> None:
    post = tt.world.post("tiktok", "maya", "Loving this #ad")
    link = fake_tiktok.short_link(post, host)
    assert TikTokSource.post_ref(link) is None and TikTokSource.short_link(link) == link
    fetched = tt.source(short_url=f"{tt.server.url}/vm").post(link)
    assert fetched.post.id == post.id and fetched.post.caption == "Loving this #ad"
    # The canonical video URL, without the fake's host or TikTok's tracking query.
    assert fetched.post.url == f"https://www.tiktok.com/@maya/video/{post.id}"
    code = link.rstrip("/").rsplit("/", 1)[1]
    (hop,) = tt.server.requests(code)  # one hop, the redirect read by hand
    assert hop.path == (f"/t/{code}/" if host == "www.tiktok.com" else f"/vm/{code}/")
    # Its target was not requested: the video is read through oEmbed as for any URL.
    assert not tt.server.requests("/video/")
    (oembed,) = tt.server.requests("/oembed")
    assert oembed.arg("url") == f"https://www.tiktok.com/@maya/video/{post.id}"


def test_a_short_link_of_a_deleted_video_is_not_found_naming_the_video(tt: Setup) -> None:
    post = tt.world.post("tiktok", "maya", "soon gone")
    tt.world.delete(post)
    with pytest.raises(NotFound, match="status_deleted") as caught:
        tt.source(short_url=f"{tt.server.url}/vm").post(fake_tiktok.short_link(post))
    assert caught.value.target == f"https://www.tiktok.com/@maya/video/{post.id}"


def test_a_short_link_that_404s_is_not_found_naming_the_link(tt: Setup) -> None:
    link = "https://vm.tiktok.com/ZMnothing1/"
    with pytest.raises(NotFound, match="no such short link") as caught:
        tt.source(short_url=f"{tt.server.url}/vm").post(link)
    assert caught.value.target == link and link in str(caught.value)


@pytest.mark.parametrize("page", ["/", "/foryou?lang=en", "/login?redirect_url=x"])
def test_a_short_link_to_a_page_that_is_no_video_is_an_error(tt: Setup, page: str) -> None:
    # TikTok sends an expired link to its home page.
    tt.server.fail("/vm/", Response(302, b"", {"location": f"{tt.server.url}{page}"}))
    link = "https://vm.tiktok.com/ZMexpired1/"
    with pytest.raises(NotFound, match="not to a video") as caught:
        tt.source(short_url=f"{tt.server.url}/vm").post(link)
    assert caught.value.target == link
    assert f"leads to https://www.tiktok.com{page.split('?')[0]}," in str(caught.value)
    assert len(tt.server.log) == 1


def test_a_short_link_that_answers_without_a_redirect_is_malformed(tt: Setup) -> None:
    tt.server.fail("/vm/", BOT_WALL)
    with pytest.raises(Malformed, match="HTTP 200 without a redirect"):
        tt.source(short_url=f"{tt.server.url}/vm").post("https://vm.tiktok.com/ZMwalled1/")


def test_a_short_link_redirecting_to_itself_is_a_loop(tt: Setup) -> None:
    tt.server.faults.append(Loop("/vm/", Response(), times=50))
    with pytest.raises(Unavailable, match="loop"):
        tt.source(short_url=f"{tt.server.url}/vm").post("https://vm.tiktok.com/ZMloop0001/")
    assert len(tt.server.log) == 1


def test_short_links_redirecting_round_and_on_and_on_stop(tt: Setup) -> None:
    base = f"{tt.server.url}/vm"
    # A -> B -> A: a loop through another link.
    tt.server.fail("/vm/ZMaaaa", Response(301, b"", {"location": f"{base}/ZMbbbb/"}))
    tt.server.fail("/vm/ZMbbbb", Response(301, b"", {"location": "/vm/ZMaaaa"}))
    with pytest.raises(Unavailable, match="loop"):
        tt.source(short_url=base).post("https://vm.tiktok.com/ZMaaaa/")
    assert len(tt.server.log) == 2
    # A chain of new links: given up after MAX_HOPS requests.
    tt.server.log.clear()
    for n in range(MAX_HOPS + 2):
        tt.server.fail(f"/vm/ZMhop{n}/", Response(302, b"", {"location": f"/vm/ZMhop{n + 1}/"}))
    with pytest.raises(Unavailable, match=f"more than {MAX_HOPS} times"):
        tt.source(short_url=base).post("https://vm.tiktok.com/ZMhop0/")
    assert len(tt.server.log) == MAX_HOPS


def _policed(tt: Setup, resolve: object = None) -> TikTokSource:
    """A source whose client has the real host policy: only the fake's URL is configured."""
    kw = {"resolve": resolve} if resolve is not None else {}
    hosts = HostPolicy.build("tiktok", trusted_urls=(tt.server.url,), **kw)  # type: ignore[arg-type]
    http = make_client("tiktok", HttpSettings(retries=1), sleep=tt.waits.append, hosts=hosts)
    settings = SourceSettings(web_url=tt.server.url, short_url=f"{tt.server.url}/vm")
    return TikTokSource(http, settings)


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("http://127.0.0.1:9/@x/video/7700000000000000001", "127.0.0.1 is not a tiktok host"),
        ("http://localhost/latest/meta-data/", "localhost is not a tiktok host"),
        ("https://evil.example/@x/video/7700000000000000001", "evil.example is not a tiktok host"),
        ("http://www.tiktok.com/@x/video/7700000000000000001", "must be reached over https"),
    ],
)
def test_a_short_link_redirecting_off_tiktok_is_refused(tt: Setup, location: str, why: str) -> None:
    tt.server.fail("/vm/", Response(302, b"", {"location": location}))
    link = "https://vm.tiktok.com/ZMevil0001/"
    with pytest.raises(HostRefused, match="redirected to a host that is not allowed") as caught:
        _policed(tt).post(link)
    assert why in str(caught.value) and caught.value.target == link
    assert len(tt.server.log) == 1  # nothing followed


def test_a_short_link_to_a_tiktok_name_on_a_private_address_is_refused(tt: Setup) -> None:
    tt.server.fail(
        "/vm/",
        Response(302, b"", {"location": "https://www.tiktok.com/@x/video/7700000000000000001"}),
    )
    source = _policed(tt, resolve=lambda host, port: ["10.0.0.7"])
    with pytest.raises(HostRefused, match=r"resolves to 10\.0\.0\.7, a private address"):
        source.post("https://vm.tiktok.com/ZMinside1/")
    assert not tt.server.requests("/oembed")


def test_without_short_url_the_link_is_asked_at_its_own_host(tt: Setup) -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        raise OSError("no network in tests")

    http = make_client(
        "tiktok",
        HttpSettings(retries=1),
        sleep=tt.waits.append,
        hosts=HostPolicy.build("tiktok", trusted_urls=(tt.server.url,), resolve=resolve),
    )
    source = TikTokSource(http, SourceSettings(web_url=tt.server.url))
    with pytest.raises(Unavailable):
        source.post("https://vt.tiktok.com/ZSxyz123/")
    assert asked == ["vt.tiktok.com", "vt.tiktok.com"]  # the first try and one retry
    assert tt.server.log == []  # never sent to web_url


# --- references, capabilities, registry ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.tiktok.com/@glowwithmara/video/7707331909408313948", "7707331909408313948"),
        (
            "https://tiktok.com/@glow.with_mara/video/7707331909408313948?is_from_webapp=1&sender_device=pc",
            "7707331909408313948",
        ),
        ("www.tiktok.com/@u/video/7707331909408313948/", "7707331909408313948"),
        ("https://m.tiktok.com/v/7707331909408313948.html", "7707331909408313948"),
        ("https://www.tiktok.com/@u/photo/7707331909408313948", "7707331909408313948"),
        ("https://www.tiktok.com/embed/v2/7707331909408313948", "7707331909408313948"),
        (
            "https://www.tiktok.com/player/v1/7707331909408313948?utm_campaign=x",
            "7707331909408313948",
        ),
        ("https://vm.tiktok.com/ZMabc123/", None),  # short links: see SHORT_LINKS
        ("https://vt.tiktok.com/ZSabc123/", None),
        ("https://www.tiktok.com/@glowwithmara", None),
        ("https://www.tiktok.com/tag/ad", None),
        ("https://www.youtube.com/watch?v=7707331909408313948", None),
        ("https://eviltiktok.com/@u/video/7707331909408313948", None),
    ],
)
def test_post_ref(url: str, expected: str | None) -> None:
    assert TikTokSource.post_ref(url) == expected
    assert TikTokSource.short_link(url) is None or expected is None


SHORT_LINKS = {
    "https://vm.tiktok.com/ZMabc123/": "https://vm.tiktok.com/ZMabc123/",
    "vt.tiktok.com/ZSxyz99?lang=en": "https://vt.tiktok.com/ZSxyz99",
    "https://www.tiktok.com/t/ZTabc123/": "https://www.tiktok.com/t/ZTabc123/",
    "https://tiktok.com/t/ZTabc123": "https://www.tiktok.com/t/ZTabc123",
    "https://vm.tiktok.com/": None,
    "https://vm.tiktok.com/ZM/abc/": None,
    "https://www.tiktok.com/ZMabc123/": None,
    "https://www.tiktok.com/@u/video/7707331909408313948": None,
    "https://vm.tiktok.com.evil.example/ZMabc123/": None,
}


def test_short_link() -> None:
    assert {url: TikTokSource.short_link(url) for url in SHORT_LINKS} == SHORT_LINKS


def test_hashtag_listing_is_not_configured(tt: Setup) -> None:
    with pytest.raises(NotConfigured, match="Research API"):
        next(tt.source().hashtag_posts("lumenskinpartner", {}))
    assert HASHTAG not in TikTokSource.capabilities
    assert PAID_LABEL not in TikTokSource.capabilities
    assert {ACCOUNT, POST, TRANSCRIPT} <= TikTokSource.capabilities


def test_registered() -> None:
    assert source_class("tiktok") is TikTokSource


def _iso(epoch: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
