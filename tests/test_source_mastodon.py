"""The Mastodon source against a loopback fake instance (and the fixture bytes themselves)."""

from __future__ import annotations

import pytest
from fakes import mastodon as fake
from fakes.server import BOT_WALL, FakeServer, Response, fixture
from fakes.world import FakeAccount, FakePost, World
from source_helpers import Waits, client, fake_fixtures, fresh, settings_for, take

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
from monitors.sources.mastodon import MastodonSource, html_to_text

STATUSES = r"/statuses$"
INSTANCE = "fake.social"


served, server, world = fake_fixtures(fake.install)


def source(server: FakeServer, waits: Waits | None = None, **kw: object) -> MastodonSource:
    settings = settings_for(
        server, instances={INSTANCE: server.url, "mastodon.social": server.url}, **kw
    )
    return MastodonSource(client("mastodon", waits if waits is not None else Waits()), settings)


def test_registered() -> None:
    assert source_class("mastodon") is MastodonSource


def test_listing_over_several_pages_and_state(server: FakeServer, world: World) -> None:
    posts = [
        world.post("mastodon", "pager", f"toot {i} #tag{i}", age=3600 * (i + 1)) for i in range(7)
    ]
    state: dict[str, object] = {}
    masto = source(server, page_size=3)
    got = list(masto.account_posts(f"@pager@{INSTANCE}", state))
    account = world.get_account("mastodon", "pager")
    assert account is not None
    assert [f.post.id for f in got] == [p.id for p in posts]
    assert len(server.requests("/accounts/lookup")) == 1
    assert len(server.requests(STATUSES)) == 3
    first = server.requests(STATUSES)[0]
    assert first.arg("exclude_replies") == "true" and first.arg("exclude_reblogs") == "true"
    assert first.arg("limit") == "3"
    post = got[0].post
    assert post.caption == "toot 0 #tag0"
    assert post.author == f"@pager@{INSTANCE}"
    assert post.url == f"{server.url}/@pager/{posts[0].id}"
    assert post.platform == "mastodon" and post.paid_partnership is None
    assert state == {"account_id": account.user_id, "acct": f"pager@{INSTANCE}"}
    # A second run reuses the cached id: no lookup.
    fresh(server)
    assert len(list(masto.account_posts(f"@pager@{INSTANCE}", state))) == 7
    assert server.requests("/accounts/lookup") == []


def test_iterating_three_posts_fetches_one_page(server: FakeServer, world: World) -> None:
    for i in range(12):
        world.post("mastodon", "lazy", f"lazy {i}", age=60 * (i + 1))
    got = take(source(server, page_size=5).account_posts(f"lazy@{INSTANCE}", {}), 3)
    assert len(got) == 3
    assert len(server.requests(STATUSES)) == 1


def test_fixture_bytes(server: FakeServer) -> None:
    got = list(source(server).account_posts("@harborline@mastodon.social", {}))
    assert len(got) == 4
    # The fixture's Link header names mastodon.social; only its max_id is used, on our URL.
    assert server.requests(STATUSES)[1].arg("max_id") == fake.FIXTURE_LAST_MAX_ID
    assert got[0].post.caption == (
        "#ad New video: I tested 5 budget mechanical keyboards so you don't have to ⌨️ "
        "Sponsored by Keyforge Labs.\n\nyoutu.be/dSX7Rr4KjwM"
    )
    assert got[0].post.url == "https://mastodon.social/@harborline/117604085386959149"
    assert got[0].post.id == "117604085386959149"
    assert got[0].post.author == "@harborline@mastodon.social"
    assert got[0].post.posted_at == "2026-11-12T15:05:31Z"
    assert got[2].post.caption == (
        "Why your Wi-Fi is slow & how to fix it for free. No sponsor today 🙂 #wifi #TechTips"
    )
    assert got[3].post.language == "es"


def test_html_edge_cases() -> None:
    html = (
        '<p>Read <a href="https://shop.example/very/long/path?code=MAYA15" rel="nofollow noopener">'
        '<span class="invisible">https://</span><span class="ellipsis">shop.example/very/long/pa</span>'
        '<span class="invisible">th?code=MAYA15</span></a> now<br />'
        "line 2 &lt;b&gt; &amp; more 🎉</p>"
        '<p dir="rtl">إعلان <a href="https://x.example/" rel="nofollow">my shop</a> '
        '<span class="h-card"><a href="https://m.s/@glowlab" class="u-url mention">@<span>glowlab</span></a></span>'
        '<!-- a comment --> <a href="https://m.s/tags/ad" class="mention hashtag" rel="tag">#<span>ad</span></a></p>'
    )
    assert html_to_text(html) == (
        "Read shop.example/very/long/pa… (https://shop.example/very/long/path?code=MAYA15) now\n"
        "line 2 <b> & more 🎉\n\n"
        "إعلان my shop (https://x.example/) @glowlab #ad"
    )


def test_content_warning_comes_first(server: FakeServer) -> None:
    from monitors.sources.mastodon import caption_of

    status = {"spoiler_text": "#ad GlowLab", "content": "<p>my new serum</p>"}
    assert caption_of(status) == "#ad GlowLab\n\nmy new serum"


def test_missing_account_is_not_found(server: FakeServer) -> None:
    with pytest.raises(NotFound, match="Record not found"):
        list(source(server).account_posts(f"@nobody@{INSTANCE}", {}))


def test_suspended_and_locked_accounts_are_private(server: FakeServer, world: World) -> None:
    world.account("mastodon", "banned").suspended = True
    with pytest.raises(Private, match="suspended"):
        list(source(server).account_posts(f"@banned@{INSTANCE}", {}))
    locked = world.account("mastodon", "locked")
    world.post("mastodon", "locked", "followers only")
    locked.private = True
    with pytest.raises(Private, match="locked"):
        list(source(server).account_posts(f"@locked@{INSTANCE}", {}))


def test_quiet_public_account_is_just_empty(server: FakeServer, world: World) -> None:
    world.account("mastodon", "quiet")
    assert list(source(server).account_posts(f"@quiet@{INSTANCE}", {})) == []


def test_cached_id_of_a_suspended_account_answers_410(server: FakeServer, world: World) -> None:
    account = world.account("mastodon", "gone410")
    account.suspended = True
    state = {"account_id": account.user_id, "acct": f"gone410@{INSTANCE}"}
    with pytest.raises(Private, match="410"):
        list(source(server).account_posts(f"@gone410@{INSTANCE}", state))


def test_login_required_and_refused_token(world: World) -> None:
    world.post("mastodon", "members", "hello")
    server = FakeServer()
    fake.install(server, world, require_auth=True)
    with server:
        with pytest.raises(NotConfigured, match="token_env"):
            list(source(server).account_posts(f"@members@{INSTANCE}", {}))
        with pytest.raises(AuthExpired):
            list(source(server, token="expired").account_posts(f"@members@{INSTANCE}", {}))
        got = list(source(server, token=fake.GOOD_TOKEN).account_posts(f"@members@{INSTANCE}", {}))
        assert [f.post.caption for f in got] == ["hello"]
        assert server.requests(STATUSES)[-1].headers["authorization"] == f"Bearer {fake.GOOD_TOKEN}"


def test_rate_limit_fixture_waits_for_the_iso_reset(server: FakeServer, world: World) -> None:
    world.post("mastodon", "busy", "hello")
    server.fail(STATUSES, fixture("mastodon_error_rate_limit.json"))
    waits = Waits()
    assert len(list(source(server, waits).account_posts(f"@busy@{INSTANCE}", {}))) == 1
    assert waits == [pytest.approx(100.123456)]
    server.fail(STATUSES, fixture("mastodon_error_rate_limit.json"), times=10)
    with pytest.raises(RateLimited):
        list(source(server).account_posts(f"@busy@{INSTANCE}", {}))


def test_5xx_bot_wall_and_truncated_json(server: FakeServer, world: World) -> None:
    world.post("mastodon", "flaky", "a caption long enough to be cut in half by the fault")
    server.fail(STATUSES, Response(502, b"bad gateway"), times=2)
    assert len(list(source(server).account_posts(f"@flaky@{INSTANCE}", {}))) == 1
    server.fail(STATUSES, Response(500, b"oops"), times=10)
    with pytest.raises(Unavailable):
        list(source(server).account_posts(f"@flaky@{INSTANCE}", {}))
    server.faults.clear()
    server.fail(STATUSES, BOT_WALL)
    with pytest.raises(BotWall):
        list(source(server).account_posts(f"@flaky@{INSTANCE}", {}))
    server.fail(STATUSES, Response(200, b'[{"id":"1","con', {"content-type": "application/json"}))
    with pytest.raises(Malformed):
        list(source(server).account_posts(f"@flaky@{INSTANCE}", {}))


def test_status_by_url_and_deleted_status(server: FakeServer, world: World) -> None:
    post = world.post("mastodon", "single", "one toot #ad")
    masto = source(server)
    for url in (
        f"https://{INSTANCE}/@single/{post.id}",
        f"{INSTANCE}/users/single/statuses/{post.id}?utm_source=x",
    ):
        fetched = masto.post(url)
        assert fetched.post.caption == "one toot #ad" and fetched.post.id == post.id
    world.delete(post)
    with pytest.raises(NotFound):
        masto.post(f"https://{INSTANCE}/@single/{post.id}")


def test_hashtag_timeline(server: FakeServer, world: World) -> None:
    for i in range(5):
        world.post("mastodon", f"dancer{i}", f"entry {i} #GuacDance", age=100 * (i + 1))
    got = list(source(server, page_size=2).hashtag_posts("#guacdance", {}))
    assert [f.post.caption for f in got] == [f"entry {i} #GuacDance" for i in range(5)]
    assert len(server.requests("/timelines/tag/guacdance")) == 3


def test_hashtag_without_instances_is_not_configured(server: FakeServer) -> None:
    masto = MastodonSource(client("mastodon", Waits()), settings_for(server))
    with pytest.raises(NotConfigured, match="instances"):
        list(masto.hashtag_posts("guacdance", {}))


def test_bare_handle_needs_one_instance(server: FakeServer) -> None:
    with pytest.raises(NotConfigured, match="@user@instance"):
        list(source(server).account_posts("@someone", {}))


def test_unknown_instance_defaults_to_https(server: FakeServer) -> None:
    assert source(server).instance_url("Example.Social") == "https://example.social"
    assert source(server).instance_url(INSTANCE) == server.url


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("https://mastodon.social/@harborline/117604085386959149", "117604085386959149"),
        ("mastodon.social/@harborline/117604085386959149?utm=1", "117604085386959149"),
        ("https://fosstodon.org/@bob@mastodon.social/1234567", "1234567"),
        (
            "https://mastodon.social/users/harborline/statuses/117604085386959149",
            "117604085386959149",
        ),
        ("https://mastodon.social/web/statuses/42", "42"),
        ("https://mastodon.social/@harborline", None),
        ("https://www.tiktok.com/@someone/123", None),
        ("https://x.com/someone/status/123", None),
        ("not a url", None),
    ],
)
def test_post_ref(url: str, ref: str | None) -> None:
    assert MastodonSource.post_ref(url) == ref


def test_remote_status_in_a_tag_timeline_keeps_its_origin_id(server: FakeServer) -> None:
    status = fake.status_json(
        FakePost("555", "mastodon", "bob", "#guacdance from afar", 1_794_000_000),
        FakeAccount("mastodon", "bob", "77", "Bob"),
        "https://other.example",
    )
    status["id"] = "999000111"  # this instance's local id for the remote status
    status["account"]["acct"] = "bob@other.example"
    server.fail("/timelines/tag/", fake.rails_json([status]))
    (got,) = list(source(server).hashtag_posts("guacdance", {}))
    assert got.post.id == "555"  # as post_ref() reads it from the link people paste
    assert got.post.url == "https://other.example/@bob/555"
    assert got.post.author == "@bob@other.example"
