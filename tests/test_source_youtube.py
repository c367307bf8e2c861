"""The YouTube source against the loopback fake YouTube (tests/fakes/youtube.py) and the fixtures."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fakes import youtube as fake_youtube
from fakes.harness import reset, serve
from fakes.server import BOT_WALL, FakeServer, Response, fixture, fixture_json
from fakes.world import World
from source_helpers import loopback

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
from monitors.http import HttpSettings, make_client
from monitors.sources import source_class
from monitors.sources.base import NotModified, SourceSettings
from monitors.sources.youtube import YouTubeSource

KEY = fake_youtube.KEY
NOON_PACIFIC = datetime(2026, 11, 14, 12, 0, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()


@dataclass
class Setup:
    server: FakeServer
    world: World
    waits: list[float]

    def source(self, key: str | None = KEY, **kw: object) -> YouTubeSource:
        http = make_client(
            "youtube",
            HttpSettings(retries=2, backoff=0.5),
            sleep=self.waits.append,
            hosts=loopback("youtube"),
        )
        settings = SourceSettings(
            api_url=f"{self.server.url}/youtube/v3", web_url=self.server.url, key=key, **kw
        )  # type: ignore[arg-type]
        source = YouTubeSource(http, settings)
        source.clock = lambda: NOON_PACIFIC
        return source


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeServer, World]]:
    yield from serve(fake_youtube.install)


@pytest.fixture
def yt(served: tuple[FakeServer, World]) -> Setup:
    reset(*served)
    return Setup(*served, [])


def add_videos(world: World, handle: str, n: int, **kw: object) -> list[str]:
    posts = [
        world.post(
            "youtube",
            handle,
            f"video {i} description #tech",
            age=3600 * (i + 1),
            title=f"Video {i}",
            **kw,
        )
        for i in range(n)
    ]
    return [p.id for p in posts]


# --- Data API ---------------------------------------------------------------------------


def test_api_listing_pages_newest_first_and_caches_the_playlist(yt: Setup) -> None:
    ids = add_videos(yt.world, "harbor", 120)
    state: dict[str, object] = {}
    fetched = list(yt.source().account_posts("@Harbor", state))
    assert [f.post.id for f in fetched] == ids
    assert len(yt.server.requests("/playlistItems")) == 3  # 50 + 50 + 20
    assert len(yt.server.requests("/channels")) == 1
    account = yt.world.get_account("youtube", "harbor")
    assert account is not None
    assert state["uploads"] == "UU" + fake_youtube.channel_id(account)[2:]
    json.dumps(state)
    post = fetched[0].post
    assert post.caption == "video 0 description #tech"  # the description alone (see the module doc)
    assert post.url == f"https://www.youtube.com/watch?v={post.id}"
    assert post.author == "@harbor" and post.is_video is True
    assert post.posted_at and post.posted_at.endswith("Z")
    assert json.loads(fetched[0].raw or "")["snippet"]["title"] == "Video 0"
    with pytest.raises(NotModified):  # the next run: same ETag, and the channel id is cached
        next(yt.source().account_posts("@harbor", state))
    assert len(yt.server.requests("/channels")) == 1


def test_api_listing_is_lazy(yt: Setup) -> None:
    add_videos(yt.world, "harbor", 120)
    three = list(itertools.islice(yt.source().account_posts("harbor", {}), 3))
    assert len(three) == 3
    assert len(yt.server.requests("/playlistItems")) == 1


def test_paid_search_labels_and_is_cached(yt: Setup) -> None:
    paid = yt.world.post(
        "youtube", "harbor", "sponsored by keyforge", title="Keys", paid=True, age=100
    )
    add_videos(yt.world, "harbor", 3)
    state: dict[str, object] = {}
    source = yt.source()
    fetched = list(source.account_posts("harbor", state))
    labels = {f.post.id: f.post.paid_partnership for f in fetched}
    assert labels.pop(paid.id) is True
    assert set(labels.values()) == {None}  # absence from the search proves nothing
    search = yt.server.requests("/search")
    assert len(search) == 1
    assert search[0].arg("videoPaidProductPlacement") == "true"
    assert search[0].arg("channelId") == state["channel_id"]
    # next run, within the refresh interval: no search (100 units saved)
    yt.world.post("youtube", "harbor", "new", age=10)
    list(source.account_posts("harbor", state))
    assert len(yt.server.requests("/search")) == 1
    # a day later: one search again
    source.clock = lambda: NOON_PACIFIC + 86400
    yt.world.post("youtube", "harbor", "newer", age=5)
    fetched = list(source.account_posts("harbor", state))
    assert len(yt.server.requests("/search")) == 2
    assert {f.post.id for f in fetched if f.post.paid_partnership} == {paid.id}


def test_conditional_listing_raises_not_modified(yt: Setup) -> None:
    add_videos(yt.world, "harbor", 3)
    state: dict[str, object] = {}
    list(yt.source().account_posts("harbor", state))
    with pytest.raises(NotModified):
        next(yt.source().account_posts("harbor", state))
    assert yt.server.requests("/playlistItems")[-1].headers["if-none-match"]
    yt.world.post("youtube", "harbor", "fresh", age=5)
    assert next(yt.source().account_posts("harbor", state)).post.caption == "fresh"


def test_private_and_deleted_videos_are_left_out(yt: Setup) -> None:
    ids = add_videos(yt.world, "harbor", 4)
    yt.world.find("youtube", ids[1]).private = True  # type: ignore[union-attr]
    yt.world.delete(yt.world.find("youtube", ids[2]))  # type: ignore[arg-type]
    fetched = list(yt.source().account_posts("harbor", {}))
    assert [f.post.id for f in fetched] == [ids[0], ids[3]]


def test_unknown_handle_is_not_found(yt: Setup) -> None:
    with pytest.raises(NotFound, match="no such channel"):
        next(yt.source().account_posts("@nobody", {}))


def test_playlist_not_found(yt: Setup) -> None:
    add_videos(yt.world, "harbor", 2)
    yt.server.fail("/playlistItems", fixture("youtube_error_playlist_not_found.json"))
    with pytest.raises(NotFound, match="playlistNotFound"):
        next(yt.source().account_posts("harbor", {}))


def test_missing_items_is_not_found(yt: Setup) -> None:
    add_videos(yt.world, "harbor", 2)
    yt.server.fail(
        "/playlistItems", Response(200, b'{"kind":"youtube#playlistItemListResponse"}', {})
    )
    with pytest.raises(NotFound):
        next(yt.source().account_posts("harbor", {}))


def test_quota_exceeded_waits_for_midnight_pacific(yt: Setup) -> None:
    add_videos(yt.world, "harbor", 2)
    yt.server.fail("/channels", fixture("youtube_error_quota_exceeded.json"))
    with pytest.raises(QuotaExceeded) as caught:
        next(yt.source().account_posts("harbor", {}))
    assert caught.value.retry_after == 12 * 3600
    assert caught.value.kind == "quota"
    assert "<a" not in str(caught.value)  # the message's HTML link is stripped
    assert len(yt.server.requests("/channels")) == 1  # not retried
    assert yt.waits == []


def test_invalid_key_is_auth_expired_and_not_leaked(yt: Setup) -> None:
    with pytest.raises(AuthExpired, match="API_KEY_INVALID") as caught:
        next(yt.source(key="AIzaWrongSecretKey").account_posts("harbor", {}))
    assert "AIzaWrongSecretKey" not in str(caught.value)


def test_legacy_key_invalid_shape(yt: Setup) -> None:
    body = b'{"error":{"errors":[{"domain":"usageLimits","reason":"keyInvalid","message":"Bad Request"}],"code":400,"message":"Bad Request"}}'
    yt.server.fail("/channels", Response(400, body, {"content-type": "application/json"}))
    with pytest.raises(AuthExpired, match="keyInvalid"):
        next(yt.source().account_posts("harbor", {}))


def test_rate_limit_reason_is_rate_limited(yt: Setup) -> None:
    body = b'{"error":{"code":403,"message":"slow down","errors":[{"reason":"rateLimitExceeded","domain":"youtube.quota"}]}}'
    yt.server.fail("/channels", Response(403, body, {"content-type": "application/json"}))
    with pytest.raises(RateLimited) as caught:
        next(yt.source().account_posts("harbor", {}))
    assert not isinstance(caught.value, QuotaExceeded)


def test_5xx_burst_is_retried_and_forever_is_unavailable(yt: Setup) -> None:
    ids = add_videos(yt.world, "harbor", 2)
    yt.server.fail("/playlistItems", Response(503, b""), times=2)
    assert [f.post.id for f in yt.source().account_posts("harbor", {})] == ids
    yt.server.fail("/playlistItems", Response(500, b""), times=10)
    with pytest.raises(Unavailable):
        next(yt.source().account_posts("harbor", {}))


def test_truncated_json_is_malformed_and_html_is_bot_wall(yt: Setup) -> None:
    add_videos(yt.world, "harbor", 2)
    yt.server.fail(
        "/playlistItems", Response(200, fixture("youtube_playlistitems.json").body, truncate=True)
    )
    with pytest.raises(Malformed):
        next(yt.source().account_posts("harbor", {}))
    yt.server.fail("/playlistItems", BOT_WALL)
    with pytest.raises(BotWall):
        next(yt.source().account_posts("harbor", {}))


def test_api_fixture_bytes(yt: Setup) -> None:
    state: dict[str, object] = {}
    fetched = list(yt.source().account_posts("@harborlinetech", state))
    items = (
        fixture_json("youtube_playlistitems.json")["items"]
        + fixture_json("youtube_playlistitems_last_page.json")["items"]
    )
    assert [f.post.id for f in fetched] == [i["contentDetails"]["videoId"] for i in items]
    assert [f.post.caption for f in fetched] == [i["snippet"]["description"] for i in items]
    assert state["uploads"] == fake_youtube.FIXTURE_UPLOADS
    paid_ids = {i["id"]["videoId"] for i in fixture_json("youtube_search_paid.json")["items"]}
    assert {f.post.id for f in fetched if f.post.paid_partnership} == paid_ids & {
        f.post.id for f in fetched
    }
    assert fetched[0].post.paid_partnership is True  # dSX7Rr4KjwM is in the paid search fixture
    assert fetched[0].post.posted_at == "2026-11-12T15:00:06Z"
    assert fetched[0].post.author == "@harborlinetech"


# --- one video ------------------------------------------------------------------------------


def test_post_by_url(yt: Setup) -> None:
    post = yt.world.post("youtube", "harbor", "Full description 🎧 עברית &amp; <b>", title="T")
    for url in (
        f"https://www.youtube.com/watch?v={post.id}&t=30s",
        f"https://youtu.be/{post.id}?si=abc",
        f"https://m.youtube.com/shorts/{post.id}",
    ):
        fetched = yt.source().post(url)
        assert fetched.post.id == post.id
        assert fetched.post.caption == "Full description 🎧 עברית &amp; <b>"
        assert fetched.post.paid_partnership is None  # non-owner key: {} proves nothing


def test_post_fixture_owner_flag(yt: Setup) -> None:
    yt.server.fail("/videos", fixture("youtube_videos_paid.json"))
    fetched = yt.source().post("https://www.youtube.com/watch?v=dSX7Rr4KjwM")
    assert fetched.post.paid_partnership is True
    yt.server.fail("/videos", fixture("youtube_videos_paid.json"))
    assert (
        yt.source().post("https://www.youtube.com/watch?v=jUV_DGjll07").post.paid_partnership
        is None
    )


def test_deleted_post_is_not_found_private_post_is_private(yt: Setup) -> None:
    gone = yt.world.post("youtube", "harbor", "bye", title="T")
    hidden = yt.world.post("youtube", "harbor", "hush", title="T", private=True)
    yt.world.delete(gone)
    for key in (KEY, None):
        with pytest.raises(NotFound, match="Video unavailable"):
            yt.source(key=key).post(f"https://youtu.be/{gone.id}")
        with pytest.raises(Private, match="private"):
            yt.source(key=key).post(f"https://youtu.be/{hidden.id}")


def test_post_without_key_reads_the_watch_page(yt: Setup) -> None:
    caption = 'Line one 🎧\nשלום "quoted" </script> &amp;'
    post = yt.world.post("youtube", "harbor", caption, title="T", paid=True)
    fetched = yt.source(key=None).post(f"https://www.youtube.com/shorts/{post.id}")
    assert fetched.post.caption == caption
    assert fetched.post.author == "@harbor"
    assert fetched.post.posted_at == datetime.fromtimestamp(
        post.created, tz=ZoneInfo("UTC")
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert fetched.post.paid_partnership is None  # the overlay is recorded, not trusted
    assert "paidContentOverlay" in fetched.labels
    assert not yt.server.requests("/youtube/v3/")


def test_watch_page_bot_wall(yt: Setup) -> None:
    yt.server.fail("^/watch$", BOT_WALL)
    with pytest.raises(BotWall):
        yt.source(key=None).post("https://youtu.be/dSX7Rr4KjwM")


def test_post_of_a_non_video_url_is_not_configured(yt: Setup) -> None:
    with pytest.raises(NotConfigured):
        yt.source().post("https://www.youtube.com/@harbor")


# --- hashtags -------------------------------------------------------------------------------


def test_hashtag_search_reads_full_descriptions(yt: Setup) -> None:
    long = "Our #keyforgecollab haul " + "x" * 300 + " #ad"
    tagged = yt.world.post("youtube", "harbor", long, title="Haul", age=50)
    yt.world.post("youtube", "other", "nothing here", title="N")
    fetched = list(yt.source().hashtag_posts("#keyforgecollab", {}))
    assert [f.post.id for f in fetched] == [tagged.id]
    assert fetched[0].post.caption == long  # from videos, not the truncated search snippet
    assert yt.server.requests("/search")[0].arg("q") == "#keyforgecollab"


def test_hashtag_without_key_is_not_configured(yt: Setup) -> None:
    with pytest.raises(NotConfigured, match="API key"):
        yt.source(key=None).hashtag_posts("ad", {})


# --- without a key: RSS ---------------------------------------------------------------------------


def test_rss_listing_resolves_the_handle_once(yt: Setup) -> None:
    ids = add_videos(yt.world, "harbor", 20)
    state: dict[str, object] = {}
    fetched = list(yt.source(key=None).account_posts("@harbor", state))
    assert [f.post.id for f in fetched] == ids[:15]  # the feed holds the newest 15
    assert state["channel_id"] == fake_youtube.channel_id(yt.world.get_account("youtube", "harbor"))  # type: ignore[arg-type]
    assert fetched[0].post.caption == "video 0 description #tech"
    assert fetched[0].post.author == "@harbor"
    assert fetched[0].post.paid_partnership is None
    list(yt.source(key=None).account_posts("@harbor", state))
    assert len(yt.server.requests("^/@harbor$")) == 1


def test_rss_fixture_bytes(yt: Setup) -> None:
    fetched = list(yt.source(key=None).account_posts(fake_youtube.FIXTURE_CHANNEL, {}))
    assert fetched[0].post.id == "dSX7Rr4KjwM"
    assert fetched[0].post.caption.startswith("This video is sponsored by Keyforge Labs")
    assert fetched[0].post.caption.endswith("#keyboards #techreview #ad")
    assert fetched[0].post.posted_at == "2026-11-12T15:00:06Z"
    assert fetched[0].post.author == fake_youtube.FIXTURE_CHANNEL
    dates = [f.post.posted_at for f in fetched]
    assert dates == sorted(dates, reverse=True)


def test_rss_fixture_through_the_channel_page(yt: Setup) -> None:
    fetched = list(yt.source(key=None).account_posts("https://www.youtube.com/@HarborlineTech", {}))
    assert fetched[0].post.author == "@harborlinetech"


def test_rss_missing_channel_and_bot_walls(yt: Setup) -> None:
    with pytest.raises(NotFound):
        next(yt.source(key=None).account_posts("@nobody", {}))
    yt.world.account("youtube", "harbor")
    yt.server.fail("/feeds/videos.xml", BOT_WALL)
    with pytest.raises(BotWall):
        next(yt.source(key=None).account_posts("@harbor", {}))
    yt.server.fail("^/@harbor$", BOT_WALL)
    with pytest.raises(BotWall):
        next(yt.source(key=None).account_posts("@harbor", {}))


def test_rss_truncated_is_malformed(yt: Setup) -> None:
    yt.server.fail(
        "/feeds/videos.xml", Response(200, fixture("youtube_rss.xml").body, truncate=True)
    )
    with pytest.raises(Malformed):
        next(yt.source(key=None).account_posts(fake_youtube.FIXTURE_CHANNEL, {}))


# --- transcripts ------------------------------------------------------------------------------------


def test_transcript_from_the_caption_track(yt: Setup) -> None:
    spoken = "hey everyone quick heads up this video is sponsored by keyforge labs"
    yt.world.post("youtube", "harbor", "desc", title="T", transcript=spoken)
    fetched = next(yt.source().account_posts("harbor", {}))
    assert not yt.server.requests("/api/timedtext")
    assert fetched.transcript is not None and fetched.transcript() == spoken


def test_no_track_is_no_transcript(yt: Setup) -> None:
    yt.world.post("youtube", "harbor", "desc", title="T")
    fetched = next(yt.source().account_posts("harbor", {}))
    assert fetched.transcript is not None and fetched.transcript() is None


def test_caption_fixture_as_transcript(yt: Setup) -> None:
    yt.world.post("youtube", "harbor", "desc", title="T")
    yt.server.fail("/api/timedtext", fixture("youtube_captions.vtt"))
    fetched = next(yt.source().account_posts("harbor", {}))
    assert fetched.transcript is not None
    assert "this video is sponsored by keyforge labs" in (fetched.transcript() or "")


def test_captions_can_be_switched_off(yt: Setup) -> None:
    yt.world.post("youtube", "harbor", "desc", title="T")
    assert (
        next(yt.source(options={"captions": False}).account_posts("harbor", {})).transcript is None
    )


# --- references, registry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/watch?v=dSX7Rr4KjwM", "dSX7Rr4KjwM"),
        ("https://youtube.com/watch?feature=share&v=dSX7Rr4KjwM&t=10", "dSX7Rr4KjwM"),
        ("youtube.com/watch?v=dSX7Rr4KjwM", "dSX7Rr4KjwM"),
        ("https://m.youtube.com/watch?v=dSX7Rr4KjwM", "dSX7Rr4KjwM"),
        ("https://music.youtube.com/watch?v=dSX7Rr4KjwM", "dSX7Rr4KjwM"),
        ("https://youtu.be/dSX7Rr4KjwM?si=Xy", "dSX7Rr4KjwM"),
        ("https://www.youtube.com/shorts/dSX7Rr4KjwM", "dSX7Rr4KjwM"),
        ("https://www.youtube.com/live/dSX7Rr4KjwM?feature=shared", "dSX7Rr4KjwM"),
        ("https://www.youtube.com/embed/dSX7Rr4KjwM", "dSX7Rr4KjwM"),
        ("https://www.youtube-nocookie.com/embed/dSX7Rr4KjwM", "dSX7Rr4KjwM"),
        ("https://www.youtube.com/@harborlinetech", None),
        ("https://www.youtube.com/watch?v=short", None),
        ("https://notyoutube.com/watch?v=dSX7Rr4KjwM", None),
        ("https://www.tiktok.com/@u/video/7707331909408313948", None),
    ],
)
def test_post_ref(url: str, expected: str | None) -> None:
    assert YouTubeSource.post_ref(url) == expected


def test_registered() -> None:
    assert source_class("youtube") is YouTubeSource
