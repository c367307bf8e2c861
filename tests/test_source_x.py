"""The X source against a loopback fake API v2 (and the fixture bytes themselves)."""

from __future__ import annotations

import httpx
import pytest
from fakes import x as fake
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
    QuotaExceeded,
    RateLimited,
    Unavailable,
)
from monitors.sources import source_class
from monitors.sources.x import XSource, http_error, text_of

served, server, world = fake_fixtures(fake.install)

TWEETS = r"/2/users/\d+/tweets"


def source(server: FakeServer, waits: Waits | None = None, **kw: object) -> XSource:
    settings = settings_for(server, **{"token": fake.GOOD_TOKEN, **kw})
    return XSource(client("x", waits if waits is not None else Waits()), settings)


def test_registered_as_x_and_twitter() -> None:
    assert source_class("x") is XSource and source_class("twitter") is XSource


def test_listing_over_several_pages(server: FakeServer, world: World) -> None:
    posts = [world.post("x", "pagerx", f"post {i} #tag{i}", age=3600 * (i + 1)) for i in range(12)]
    state: dict[str, object] = {}
    got = list(source(server, page_size=5).account_posts("@PagerX", state))
    assert [f.post.id for f in got] == [p.id for p in posts]
    requests = server.requests(TWEETS)
    assert len(requests) == 3
    assert requests[0].arg("exclude") == "retweets,replies"
    assert requests[0].arg("max_results") == "5"
    assert "note_tweet" in (requests[0].arg("tweet.fields") or "")
    assert requests[1].arg("pagination_token") == "tok5"
    assert requests[0].headers["authorization"] == f"Bearer {fake.GOOD_TOKEN}"
    post = got[0].post
    assert post.platform == "twitter"  # the packs' name: X's 280-character fold
    assert post.author == "@pagerx"
    assert post.url == f"{server.url}/pagerx/status/{posts[0].id}"
    assert post.posted_at is not None and post.posted_at.endswith("Z")
    assert post.is_video is False and post.paid_partnership is None
    account = world.get_account("x", "pagerx")
    assert account is not None
    assert state == {"user_id": account.user_id, "username": "pagerx"}
    list(source(server).account_posts("pagerx", state))
    assert len(server.requests("/2/users/by/username")) == 1  # the id was cached


def test_iterating_three_posts_fetches_one_page(server: FakeServer, world: World) -> None:
    for i in range(12):
        world.post("x", "lazyx", f"lazy {i}", age=60 * (i + 1))
    assert len(take(source(server, page_size=5).account_posts("lazyx", {}), 3)) == 3
    assert len(server.requests(TWEETS)) == 1


def test_fixture_bytes(server: FakeServer) -> None:
    got = list(source(server).account_posts("harborlinetech", {}))
    assert len(got) == 3
    assert server.requests(TWEETS)[1].arg("pagination_token") == fake.FIXTURE_NEXT
    first = got[0].post
    assert first.caption == (
        "#ad I tested 5 budget mechanical keyboards so you don't have to ⌨️ thanks "
        "@keyforgelabs for sponsoring youtu.be/dSX7Rr4KjwM"
    )
    assert first.author == "@harborlinetech"
    assert first.url == f"{server.url}/harborlinetech/status/2120896331128235930"
    assert first.posted_at == "2026-11-12T15:07:44Z"
    assert first.language == "en"
    assert got[2].post.caption == "No sponsor today — free fixes for slow Wi-Fi #wifi #techtips"


def test_long_posts_read_in_full_and_entities_unescaped(server: FakeServer, world: World) -> None:
    long = "Tom & Jerry <3 " + "very long review " * 20 + "#ad"
    world.post("x", "longx", long)
    (got,) = list(source(server).account_posts("longx", {}))
    assert got.post.caption == long


def test_text_of_edge_cases() -> None:
    tweet = {
        "text": "مرحبا 🎉 &lt;b&gt; &amp;lt; code https://t.co/abc https://t.co/pic",
        "entities": {
            "urls": [
                {
                    "url": "https://t.co/abc",
                    "expanded_url": "https://shop.example/very/long/path?code=MAYA15",
                    "display_url": "shop.example/very/long/pa…",
                },
                {
                    "url": "https://t.co/pic",
                    "expanded_url": "https://x.com/u/status/1/photo/1",
                    "display_url": "pic.x.com/pic",
                    "media_key": "3_1",
                },
            ]
        },
    }
    assert text_of(tweet) == (
        "مرحبا 🎉 <b> &lt; code shop.example/very/long/pa… "
        "(https://shop.example/very/long/path?code=MAYA15)"
    )


def test_an_edited_post_keeps_its_original_id(server: FakeServer) -> None:
    edited = {
        "data": {
            "id": "2120896331128299999",
            "text": "fixed: #ad thanks @keyforgelabs",
            "edit_history_tweet_ids": ["2120896331128235930", "2120896331128299999"],
            "author_id": fake.FIXTURE_USER_ID,
            "created_at": "2026-11-12T15:07:44.000Z",
        },
        "includes": {
            "users": [{"id": fake.FIXTURE_USER_ID, "username": "harborlinetech", "name": "H"}]
        },
    }
    server.fail(r"/2/tweets/\d+$", json_response(edited))
    got = source(server).post("https://x.com/harborlinetech/status/2120896331128299999")
    assert got.post.id == "2120896331128235930"
    assert got.post.url.endswith("/harborlinetech/status/2120896331128299999")  # type: ignore[union-attr]
    assert got.labels["edit_history_tweet_ids"] == edited["data"]["edit_history_tweet_ids"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("flag", "error"), [(None, NotFound), ("private", Private), ("suspended", Private)]
)
def test_missing_protected_and_suspended_accounts(
    server: FakeServer, world: World, flag: str | None, error: type[Exception]
) -> None:
    name = f"acct{flag or 'missing'}"
    if flag:
        account = world.account("x", name)
        world.post("x", name, "hello")
        setattr(account, flag, True)
    with pytest.raises(error):
        list(source(server).account_posts(name, {}))


def test_protected_account_found_by_cached_id(server: FakeServer, world: World) -> None:
    account = world.account("x", "lockedlater")
    account.private = True
    state = {"user_id": account.user_id, "username": "lockedlater"}
    with pytest.raises(Private, match="not authorized"):
        list(source(server).account_posts("lockedlater", state))


def test_token_missing_or_refused(server: FakeServer) -> None:
    with pytest.raises(NotConfigured, match="token_env"):
        list(source(server, token=None).account_posts("harborlinetech", {}))
    with pytest.raises(AuthExpired, match="token_env"):
        list(source(server, token="old-token").account_posts("harborlinetech", {}))


def test_rate_limit_fixture_waits_for_reset_or_gives_up(server: FakeServer) -> None:
    # x-rate-limit-reset (epoch s) is 400 s after the injected clock: more than max_wait.
    server.fail(TWEETS, fixture("x_error_rate_limit.json"))
    with pytest.raises(RateLimited) as caught:
        list(source(server).account_posts("harborlinetech", {}))
    assert caught.value.retry_after == 400.0
    server.fail(TWEETS, fixture("x_error_rate_limit.json"))
    waits = Waits()
    x = XSource(client("x", waits, max_wait=600.0), settings_for(server, token=fake.GOOD_TOKEN))
    assert len(list(x.account_posts("harborlinetech", {}))) == 3
    assert waits == [400.0]


def test_usage_cap_is_quota_exceeded() -> None:
    request = httpx.Request("GET", "https://api.x.com/2/users/1/tweets")
    response = httpx.Response(
        429,
        json={
            "title": "UsageCapExceeded",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": "https://api.twitter.com/2/problems/usage-capped",
            "period": "Monthly",
        },
        request=request,
    )
    assert isinstance(http_error(response, "@u"), QuotaExceeded)


def test_monthly_usage_cap_is_quota_exceeded_at_once_not_retried(
    server: FakeServer, world: World
) -> None:
    world.post("x", "cappedx", "a post nobody can read this month")
    waits = Waits()
    x = source(server, waits, token=fake.CAPPED_TOKEN)
    with pytest.raises(QuotaExceeded) as caught:
        list(x.account_posts("cappedx", {}))
    error = caught.value
    assert error.kind == "quota" and error.status == 429 and error.retry_after is None
    assert "monthly usage cap is exhausted" in str(error)
    assert "not a rate limit" in str(error) and "\n" not in str(error)
    # One request: waiting out the 15-minute window (as for a rate limit) would not help.
    assert len(server.log) == 1 and waits == []
    with pytest.raises(QuotaExceeded):
        x.post(f"https://x.com/cappedx/status/{world.accounts[('x', 'cappedx')].posts[0].id}")
    # A plain 429 stays a rate limit (the fixture's reset is beyond max_wait).
    server.fail(TWEETS, fixture("x_error_rate_limit.json"))
    with pytest.raises(RateLimited) as limited:
        list(source(server).account_posts("harborlinetech", {}))
    assert limited.value.kind == "rate_limited"


def test_5xx_bot_wall_and_truncated_json(server: FakeServer) -> None:
    server.fail(TWEETS, Response(503, b"over capacity"), times=2)
    assert len(list(source(server).account_posts("harborlinetech", {}))) == 3
    server.fail(TWEETS, Response(500, b"oops"), times=10)
    with pytest.raises(Unavailable):
        list(source(server).account_posts("harborlinetech", {}))
    server.faults.clear()
    server.fail(TWEETS, BOT_WALL)
    with pytest.raises(BotWall):
        list(source(server).account_posts("harborlinetech", {}))
    server.fail(TWEETS, Response(200, fixture("x_user_tweets.json").body, truncate=True))
    with pytest.raises(Malformed):
        list(source(server).account_posts("harborlinetech", {}))


def test_post_by_url_and_deleted_post(server: FakeServer, world: World) -> None:
    post = world.post("x", "singlex", "one post #ad")
    x = source(server)
    for url in (
        f"https://x.com/singlex/status/{post.id}",
        f"https://mobile.twitter.com/singlex/status/{post.id}?s=20",
        f"twitter.com/i/web/status/{post.id}",
    ):
        got = x.post(url)
        assert got.post.caption == "one post #ad" and got.post.author == "@singlex"
    world.delete(post)
    with pytest.raises(NotFound, match="Could not find tweet"):
        x.post(f"https://x.com/singlex/status/{post.id}")


def test_hashtag_recent_search(server: FakeServer, world: World) -> None:
    for i in range(12):
        world.post("x", f"dancerx{i}", f"entry {i} #GuacDance", age=100 * (i + 1))
    got = list(source(server, page_size=10).hashtag_posts("#GuacDance", {}))
    assert [f.post.caption for f in got] == [f"entry {i} #GuacDance" for i in range(12)]
    assert [f.post.author for f in got[:2]] == ["@dancerx0", "@dancerx1"]
    requests = server.requests("search/recent")
    assert len(requests) == 2
    assert requests[0].arg("query") == "#GuacDance -is:retweet"
    assert requests[1].arg("next_token") == "tok10"


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("https://x.com/harborlinetech/status/2120896331128235930", "2120896331128235930"),
        (
            "https://twitter.com/harborlinetech/status/2120896331128235930?s=20&t=abc",
            "2120896331128235930",
        ),
        ("mobile.twitter.com/harborlinetech/statuses/2120896331128235930", "2120896331128235930"),
        ("https://www.x.com/i/web/status/2120896331128235930", "2120896331128235930"),
        ("https://x.com/u/status/2120896331128235930/photo/1", "2120896331128235930"),
        ("https://t.co/AbCdEf1234", None),
        ("https://x.com/harborlinetech", None),
        ("https://bsky.app/profile/x/post/3mzdar4h4sypr", None),
    ],
)
def test_post_ref(url: str, ref: str | None) -> None:
    assert XSource.post_ref(url) == ref


def test_bearer_token_never_appears_in_errors(server: FakeServer) -> None:
    server.fail(TWEETS, Response(503, b"Bearer " + fake.GOOD_TOKEN.encode()), times=10)
    with pytest.raises(Unavailable) as caught:
        list(source(server).account_posts("harborlinetech", {}))
    assert fake.GOOD_TOKEN not in str(caught.value)
    assert fake.GOOD_TOKEN not in repr(source(server).settings)
