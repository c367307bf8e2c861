"""The Bluesky source against the loopback fake AppView (and the fixture bytes themselves)."""

from __future__ import annotations

import httpx
import pytest
from fakes import bluesky as fake
from fakes.server import BOT_WALL, FakeServer, Response, fixture, json_response
from fakes.world import World
from source_helpers import Waits, client, fake_fixtures, settings_for, take

from monitors.errors import (
    AuthExpired,
    BotWall,
    Malformed,
    NotConfigured,
    NotFound,
    Private,
    RateLimited,
    Unavailable,
)
from monitors.sources import source_class
from monitors.sources.bluesky import BlueskySource, caption_of

FEED = r"getAuthorFeed"


served, server, world = fake_fixtures(fake.install)


def source(server: FakeServer, waits: Waits | None = None, **kw: object) -> BlueskySource:
    return BlueskySource(
        client("bluesky", waits if waits is not None else Waits()), settings_for(server, **kw)
    )


def test_registered() -> None:
    assert source_class("bluesky") is BlueskySource


def test_listing_over_several_pages_newest_first(server: FakeServer, world: World) -> None:
    posts = [
        world.post("bluesky", "pages.bsky.social", f"post {i} #tag{i}", age=3600 * (i + 1))
        for i in range(7)
    ]
    state: dict[str, object] = {}
    got = list(source(server, page_size=3).account_posts("@pages.bsky.social", state))
    assert [f.post.id for f in got] == [p.id for p in posts]
    assert len(server.requests(FEED)) == 3
    assert [r.arg("filter") for r in server.requests(FEED)] == ["posts_no_replies"] * 3
    first = got[0].post
    account = world.get_account("bluesky", "pages.bsky.social")
    assert account is not None
    assert first.caption == "post 0 #tag0"
    assert first.platform == "bluesky"
    assert first.author == "@pages.bsky.social"
    assert first.url == f"{server.url}/profile/{fake.did_of(account)}/post/{posts[0].id}"
    assert first.posted_at is not None and first.posted_at.endswith("Z")
    assert first.is_video is False and first.paid_partnership is None
    assert state == {}
    assert '"text":"post 0 #tag0"' in (got[0].raw or "")


def test_iterating_three_posts_fetches_one_page(server: FakeServer, world: World) -> None:
    for i in range(12):
        world.post("bluesky", "lazy.bsky.social", f"lazy {i}", age=60 * (i + 1))
    got = take(source(server, page_size=5).account_posts("lazy.bsky.social", {}), 3)
    assert len(got) == 3
    assert len(server.requests(FEED)) == 1


def test_fixture_bytes_skip_reposts_and_read_hidden_tags_and_card(server: FakeServer) -> None:
    got = list(source(server, page_size=4).account_posts("glowwithmara.bsky.social", {}))
    # 4 entries on page one, one of them a repost of the brand's post; 2 on the last page.
    assert len(got) == 5
    assert all(f.post.author == "@glowwithmara.bsky.social" for f in got)
    assert len(server.requests(FEED)) == 2
    assert server.requests(FEED)[1].arg("cursor") == fake.FIXTURE_CURSOR
    card = got[0]
    assert card.post.caption.startswith("#ad new @lumenskin.bsky.social Dew Serum")
    assert card.post.caption.endswith(
        "\nDew Serum — 2 week review — Sponsored review of the Lumen Dew Serum."
    )
    assert card.labels["link_card"].endswith("Sponsored review of the Lumen Dew Serum.")
    # The link facet's visible text is the address itself: it is not doubled.
    assert card.post.caption.count("glowwithmara.example/dew") == 1
    hidden = got[-1]
    assert hidden.post.caption == "Packing list for the Dolomites trip 🏔️ #adventure #travel\n#ad"
    assert hidden.labels == {"hidden_tags": ["ad"]}
    assert hidden.post.posted_at == "2026-11-02T11:45:19Z"
    assert hidden.post.id == "3mzdar4h4sypr"
    assert got[2].post.language == "es"


def test_missing_account_is_not_found(server: FakeServer) -> None:
    with pytest.raises(NotFound, match="Profile not found"):
        list(source(server).account_posts("nobody.bsky.social", {}))


@pytest.mark.parametrize("flag", ["private", "suspended"])
def test_blocked_or_taken_down_account_is_private_not_gone(
    server: FakeServer, world: World, flag: str
) -> None:
    account = world.account("bluesky", f"{flag}.bsky.social")
    setattr(account, flag, True)
    with pytest.raises(Private):
        list(source(server).account_posts(f"{flag}.bsky.social", {}))


def test_rate_limit_fixture_is_waited_out_then_succeeds(server: FakeServer, world: World) -> None:
    world.post("bluesky", "busy.bsky.social", "hello")
    server.fail(FEED, fixture("bluesky_error_rate_limit.json"), times=2)
    waits = Waits()
    got = list(source(server, waits).account_posts("busy.bsky.social", {}))
    assert [f.post.caption for f in got] == ["hello"]
    # RateLimit-Reset (epoch s) is 100 s after the injected clock.
    assert waits == [100.0, 100.0]


def test_rate_limit_forever_raises_rate_limited(server: FakeServer, world: World) -> None:
    world.post("bluesky", "busy2.bsky.social", "hello")
    server.fail(FEED, fixture("bluesky_error_rate_limit.json"), times=10)
    with pytest.raises(RateLimited):
        list(source(server).account_posts("busy2.bsky.social", {}))


def test_5xx_burst_then_success(server: FakeServer, world: World) -> None:
    world.post("bluesky", "flaky.bsky.social", "still here")
    server.fail(FEED, Response(502, b"bad gateway"), times=2)
    got = list(source(server).account_posts("flaky.bsky.social", {}))
    assert [f.post.caption for f in got] == ["still here"]
    server.fail(FEED, Response(503, b"down"), times=10)
    with pytest.raises(Unavailable):
        list(source(server).account_posts("flaky.bsky.social", {}))


def test_bot_wall_and_truncated_json(server: FakeServer, world: World) -> None:
    world.post("bluesky", "walls.bsky.social", "a post with a long enough caption to cut in half")
    server.fail(FEED, BOT_WALL)
    with pytest.raises(BotWall):
        list(source(server).account_posts("walls.bsky.social", {}))
    server.fail(FEED, Response(200, json_body_of(server, "walls.bsky.social"), truncate=True))
    with pytest.raises(Malformed):
        list(source(server).account_posts("walls.bsky.social", {}))


def json_body_of(server: FakeServer, actor: str) -> bytes:
    return httpx.get(
        f"{server.url}/xrpc/app.bsky.feed.getAuthorFeed", params={"actor": actor}
    ).content


def test_a_200_without_feed_is_malformed(server: FakeServer) -> None:
    server.fail(FEED, json_response({"cursor": "x"}))
    with pytest.raises(Malformed, match="feed"):
        list(source(server).account_posts("whoever.bsky.social", {}))


def test_post_by_url_and_deleted_post(server: FakeServer, world: World) -> None:
    post = world.post("bluesky", "single.bsky.social", "one post #ad")
    bsky = source(server)
    for url in (
        f"https://bsky.app/profile/single.bsky.social/post/{post.id}",
        f"bsky.app/profile/did:plc:fake{world.get_account('bluesky', 'single.bsky.social').user_id}/post/{post.id}",  # type: ignore[union-attr]
    ):
        fetched = bsky.post(url)
        assert fetched.post.id == post.id and fetched.post.caption == "one post #ad"
    world.delete(post)
    with pytest.raises(NotFound):
        bsky.post(f"https://bsky.app/profile/single.bsky.social/post/{post.id}")


@pytest.mark.parametrize(
    ("thread", "error"),
    [
        (
            {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x/y/z", "notFound": True},
            NotFound,
        ),
        (
            {"$type": "app.bsky.feed.defs#blockedPost", "uri": "at://x/y/z", "blocked": True},
            Private,
        ),
    ],
)
def test_thread_placeholders(
    server: FakeServer, thread: dict[str, object], error: type[Exception]
) -> None:
    server.fail("getPostThread", json_response({"thread": thread}))
    with pytest.raises(error):
        source(server).post("https://bsky.app/profile/someone.bsky.social/post/3mzdar4h4sypr")


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("https://bsky.app/profile/mara.bsky.social/post/3mzdar4h4sypr", "3mzdar4h4sypr"),
        ("http://www.bsky.app/profile/did:plc:abc/post/3mzdar4h4sypr/", "3mzdar4h4sypr"),
        ("bsky.app/profile/mara.bsky.social/post/3mzdar4h4sypr?ref_src=embed", "3mzdar4h4sypr"),
        ("at://did:plc:abc/app.bsky.feed.post/3mzdar4h4sypr", "3mzdar4h4sypr"),
        ("https://bsky.app/profile/mara.bsky.social", None),
        ("https://bsky.app/profile/mara.bsky.social/post/", None),
        ("https://example.com/profile/mara/post/3mzdar4h4sypr", None),
        ("https://x.com/mara/status/123", None),
    ],
)
def test_post_ref(url: str, ref: str | None) -> None:
    assert BlueskySource.post_ref(url) == ref


def test_hashtag_search_without_login_reads_one_page(server: FakeServer, world: World) -> None:
    for i in range(5):
        world.post(
            "bluesky", f"dancer{i}.bsky.social", f"my entry #guacdance {i}", age=100 * (i + 1)
        )
    world.post("bluesky", "hidden.bsky.social", "no visible tag", tags=["guacdance"], age=50)
    state: dict[str, object] = {}
    got = list(source(server, page_size=4).hashtag_posts("#guacdance", state))
    assert len(got) == 4  # one page: the public AppView does not page unauthenticated search
    assert got[0].post.caption == "no visible tag\n#guacdance"
    (request,) = server.requests("searchPosts")
    assert request.arg("tag") == "guacdance" and request.arg("sort") == "latest"


def test_hashtag_search_with_token_pages(server: FakeServer, world: World) -> None:
    for i in range(5):
        world.post("bluesky", f"stepper{i}.bsky.social", f"#stepchallenge {i}", age=100 * (i + 1))
    got = list(
        source(server, page_size=2, token=fake.GOOD_TOKEN).hashtag_posts("stepchallenge", {})
    )
    assert [f.post.caption for f in got] == [f"#stepchallenge {i}" for i in range(5)]
    assert len(server.requests("searchPosts")) == 3


def test_hashtag_search_refused_without_login(world: World) -> None:
    server = FakeServer()
    fake.install(server, world, search_requires_auth=True)
    with server:
        with pytest.raises(NotConfigured, match="token_env"):
            list(source(server).hashtag_posts("guacdance", {}))
        with pytest.raises(AuthExpired):
            list(source(server, token="stale-token").hashtag_posts("guacdance", {}))


def test_caption_links_facets_count_utf8_bytes() -> None:
    text = "🌙 مرحبا read example.com/very/lo... and glowlab.com #ad"
    raw = text.encode()

    def facet(fragment: str, uri: str) -> dict[str, object]:
        start = raw.index(fragment.encode())
        return {
            "index": {"byteStart": start, "byteEnd": start + len(fragment.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
        }

    record = {
        "text": text,
        "facets": [
            facet("example.com/very/lo...", "https://example.com/very/long?code=MAYA15"),
            facet("glowlab.com", "https://glowlab.com"),
            {"index": {"byteStart": 5, "byteEnd": 9999}, "features": []},  # a bad facet is ignored
        ],
    }
    caption, labels = caption_of(record, None)
    assert caption == (
        "🌙 مرحبا read example.com/very/lo... (https://example.com/very/long?code=MAYA15)"
        " and glowlab.com #ad"
    )
    assert labels == {}


def test_slow_answers_past_the_timeout_are_unavailable(server: FakeServer, world: World) -> None:
    world.post("bluesky", "slow.bsky.social", "eventually")
    server.fail(FEED, Response(200, b'{"feed":[]}', delay=1.0), times=2)
    waits = Waits()
    bsky = BlueskySource(client("bluesky", waits, timeout=0.2, retries=1), settings_for(server))
    with pytest.raises(Unavailable, match="timed out"):
        list(bsky.account_posts("slow.bsky.social", {}))
    assert len(waits) == 1  # one backoff between the two attempts


def test_video_embeds_and_quoted_posts(server: FakeServer, world: World) -> None:
    post = world.post("bluesky", "video.bsky.social", "watch this #ad")
    account = world.get_account("bluesky", "video.bsky.social")
    assert account is not None
    view = fake.post_view(post, account)
    view["embed"] = {
        "$type": "app.bsky.embed.recordWithMedia#view",
        "media": {
            "$type": "app.bsky.embed.video#view",
            "cid": "bafkrei",
            "playlist": "https://v/x.m3u8",
        },
        "record": {"record": {"value": {"text": "someone else's words #notmine"}}},
    }
    server.fail(FEED, json_response({"feed": [{"post": view}]}))
    (got,) = list(source(server).account_posts("video.bsky.social", {}))
    assert got.post.is_video is True
    assert got.post.caption == "watch this #ad"  # the quoted post is not the creator's caption
