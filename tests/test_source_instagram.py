"""The Instagram source against a loopback fake Graph API (and the fixture bytes themselves)."""

from __future__ import annotations

import pytest
from fakes import instagram as fake
from fakes.server import BOT_WALL, FakeServer, Response, fixture
from fakes.world import World
from source_helpers import Waits, client, fake_fixtures, settings_for, take

from monitors.errors import (
    AuthExpired,
    BotWall,
    Malformed,
    NotConfigured,
    NotFound,
    RateLimited,
    Unavailable,
)
from monitors.sources import source_class
from monitors.sources.instagram import InstagramSource

served, server, world = fake_fixtures(fake.install)

DISCOVERY = rf"/v25\.0/{fake.OUR_ID}$"


def source(server: FakeServer, waits: Waits | None = None, **kw: object) -> InstagramSource:
    settings = settings_for(server, **{"token": fake.GOOD_TOKEN, "user_id": fake.OUR_ID, **kw})
    return InstagramSource(client("instagram", waits if waits is not None else Waits()), settings)


def test_registered() -> None:
    assert source_class("instagram") is InstagramSource


def test_listing_over_several_pages(server: FakeServer, world: World) -> None:
    posts = [
        world.post("instagram", "pagesig", f"post {i} #ad", age=3600 * (i + 1)) for i in range(7)
    ]
    got = list(source(server, page_size=3).account_posts("@pagesig", {}))
    assert [f.post.id for f in got] == [fake.shortcode(p) for p in posts]
    requests = server.requests(DISCOVERY)
    assert len(requests) == 3
    assert requests[0].arg("fields") == (
        "business_discovery.username(pagesig){id,username,media_count,media.limit(3)"
        "{id,caption,comments_count,like_count,media_type,media_product_type,permalink,timestamp,username}}"
    )
    assert "media.after(QVFI3).limit(3)" in (requests[1].arg("fields") or "")
    assert requests[0].arg("access_token") == fake.GOOD_TOKEN
    post = got[0].post
    assert post.caption == "post 0 #ad"
    assert post.platform == "instagram" and post.author == "@pagesig"
    assert post.url == f"https://www.instagram.com/p/{fake.shortcode(posts[0])}/"
    assert post.posted_at is not None and post.posted_at.endswith("Z")
    assert post.paid_partnership is None and post.is_video is False
    assert f'"id":"{posts[0].id}"' in (got[0].raw or "")


def test_iterating_three_posts_fetches_one_page(server: FakeServer, world: World) -> None:
    for i in range(12):
        world.post("instagram", "lazyig", f"lazy {i}", age=60 * (i + 1))
    assert len(take(source(server, page_size=5).account_posts("lazyig", {}), 3)) == 3
    assert len(server.requests(DISCOVERY)) == 1


def test_fixture_bytes(server: FakeServer) -> None:
    got = list(source(server, page_size=3).account_posts("sunnysideup.sofia", {}))
    assert [f.post.id for f in got] == [
        "mYystfhUcEh", "aeCKefqDyA7", "xEyXBcQtYBf", "cgDDYDeKMLB", "V8fN6egKT9l",
    ]  # fmt: skip
    assert len(server.requests(DISCOVERY)) == 2
    first = got[0].post
    assert first.caption.startswith("Sunday pancakes but make them fluffy 🥞 Recipe below!\n\n#ad ")
    assert first.posted_at == "2026-11-13T16:02:11Z"
    assert first.author == "@sunnysideup.sofia"
    assert [f.post.is_video for f in got] == [False, True, None, True, False]
    assert got[3].post.caption.startswith("Pan de muerto casero 💀🍞 gracias @harinadelvalle")
    assert got[1].post.url == "https://www.instagram.com/reel/aeCKefqDyA7/"


def test_missing_or_personal_account_is_not_found_and_says_why(
    server: FakeServer, world: World
) -> None:
    world.account("instagram", "personal", private=True)
    for handle in ("nobodyhere", "personal"):
        with pytest.raises(NotFound, match="personal account"):
            list(source(server).account_posts(handle, {}))


def test_expired_token_and_missing_settings(server: FakeServer) -> None:
    with pytest.raises(AuthExpired, match="expired"):
        list(source(server, token="EAAB-old").account_posts("sunnysideup.sofia", {}))
    with pytest.raises(NotConfigured, match="token_env"):
        list(source(server, token=None).account_posts("sunnysideup.sofia", {}))
    with pytest.raises(NotConfigured, match="user_id_env"):
        list(source(server, user_id=None).account_posts("sunnysideup.sofia", {}))
    with pytest.raises(NotConfigured, match="code 100"):
        list(source(server, user_id="123").account_posts("sunnysideup.sofia", {}))


def test_token_never_appears_in_errors(server: FakeServer) -> None:
    server.fail(DISCOVERY, Response(503, b"down"), times=10)
    with pytest.raises(Unavailable) as caught:
        list(source(server).account_posts("sunnysideup.sofia", {}))
    assert fake.GOOD_TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "retry_after"),
    [("instagram_error_rate_limit.json", 17 * 60.0), ("instagram_error_app_rate_limit.json", None)],
)
def test_throttling_codes_are_rate_limits(
    server: FakeServer, name: str, retry_after: float | None
) -> None:
    server.fail(DISCOVERY, fixture(name))
    with pytest.raises(RateLimited) as caught:
        list(source(server).account_posts("sunnysideup.sofia", {}))
    assert caught.value.retry_after == retry_after


def test_bot_wall_and_truncated_json(server: FakeServer) -> None:
    server.fail(DISCOVERY, BOT_WALL)
    with pytest.raises(BotWall):
        list(source(server).account_posts("sunnysideup.sofia", {}))
    server.fail(
        DISCOVERY, Response(200, fixture("instagram_business_discovery.json").body, truncate=True)
    )
    with pytest.raises(Malformed):
        list(source(server).account_posts("sunnysideup.sofia", {}))


def test_hashtag_recent_media_pages_and_caches_the_id(server: FakeServer, world: World) -> None:
    for i in range(5):
        world.post("instagram", f"dancer{i}", f"entry {i} #guacdance", age=100 * (i + 1))
    state: dict[str, object] = {}
    got = list(source(server, page_size=2).hashtag_posts("#GuacDance", state))
    assert [f.post.caption for f in got] == [f"entry {i} #guacdance" for i in range(5)]
    assert all(f.post.author is None for f in got)  # hashtag media carries no owner
    assert state == {"hashtag_id": fake.hashtag_id("guacdance"), "hashtag": "guacdance"}
    assert len(server.requests("ig_hashtag_search")) == 1
    assert len(server.requests("recent_media")) == 3
    list(source(server).hashtag_posts("guacdance", state))
    assert len(server.requests("ig_hashtag_search")) == 1  # the id was reused


def test_unknown_hashtag_is_not_found(server: FakeServer) -> None:
    with pytest.raises(NotFound, match="hashtag"):
        list(source(server).hashtag_posts("nosuchtagatall", {}))


def test_post_by_url_needs_the_owner_and_finds_deleted_posts(
    server: FakeServer, world: World
) -> None:
    keep = world.post("instagram", "owner1", "keep me", age=100)
    gone = world.post("instagram", "owner1", "delete me", age=200)
    ig = source(server)
    fetched = ig.post(f"https://www.instagram.com/owner1/p/{fake.shortcode(keep)}/?igsh=abc")
    assert fetched.post.caption == "keep me"
    assert "media.limit(100)" in (server.requests(DISCOVERY)[0].arg("fields") or "")
    with pytest.raises(NotConfigured, match="names it"):
        ig.post(f"https://www.instagram.com/p/{fake.shortcode(keep)}/")
    world.delete(gone)
    with pytest.raises(NotFound, match="deleted"):
        ig.post(f"https://instagram.com/owner1/reel/{fake.shortcode(gone)}/")


def test_post_by_url_stops_at_the_search_limit(server: FakeServer, world: World) -> None:
    old = world.post("instagram", "busyowner", "old one", age=10_000)
    for i in range(4):
        world.post("instagram", "busyowner", f"new {i}", age=10 * (i + 1))
    ig = source(server, options={"post_search_limit": 3}, page_size=2)
    with pytest.raises(NotConfigured, match="newest 3"):
        ig.post(f"https://www.instagram.com/busyowner/p/{fake.shortcode(old)}/")


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("https://www.instagram.com/p/CSr71Gzlqo4/", "CSr71Gzlqo4"),
        ("instagram.com/reel/aeCKefqDyA7?igsh=MWQ1ZGUxMzBkMA==", "aeCKefqDyA7"),
        ("https://m.instagram.com/tv/CSr71Gzlqo4", "CSr71Gzlqo4"),
        ("https://www.instagram.com/sunnysideup.sofia/p/CSr71Gzlqo4/", "CSr71Gzlqo4"),
        ("https://www.instagram.com/reels/CSr71Gzlqo4/", "CSr71Gzlqo4"),
        ("https://instagr.am/p/CSr71Gzlqo4/", "CSr71Gzlqo4"),
        ("https://www.instagram.com/sunnysideup.sofia/", None),
        ("https://www.instagram.com/explore/tags/ad/", None),
        ("https://example.com/p/CSr71Gzlqo4/", None),
    ],
)
def test_post_ref(url: str, ref: str | None) -> None:
    assert InstagramSource.post_ref(url) == ref


def test_captions_keep_emoji_rtl_and_escapes(server: FakeServer, world: World) -> None:
    caption = 'إعلان ممول 🇸🇦 <b>bold</b> & "quotes" \\ / #ad'
    world.post("instagram", "rtlig", caption)
    (got,) = list(source(server).account_posts("rtlig", {}))
    assert got.post.caption == caption
