"""A fake X API v2: the World rendered in the shapes of ``x_*.json``.

Routes: ``/2/users/by/username/:u``, ``/2/users/:id/tweets`` (``max_results``,
``pagination_token`` ↔ ``meta.next_token``, absent on the last page),
``/2/tweets/search/recent`` (``query=#tag -is:retweet``, ``next_token``) and
``/2/tweets/:id``. Long captions come as X sends them: ``text`` cut at 280 and the
whole in ``note_tweet.text``; ``&``, ``<`` and ``>`` are escaped in text. Missing
users and deleted posts are 200s with ``errors`` (resource-not-found), a private
(protected) account an authorization error, a suspended one "User has been
suspended"; a bearer token other than :data:`GOOD_TOKEN` is a 401, except
:data:`CAPPED_TOKEN`: the token of a project whose monthly usage cap is used up, answered
on every route with X's 429 ``UsageCapExceeded`` (platforms.md §6), reset headers and
all (its 15-minute window is not what is exhausted). The fixture user ``harborlinetech``
is served from the fixture files.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any

from fakes.server import FakeServer, Request, Response, fixture, fixture_json, json_response
from fakes.world import FakeAccount, FakePost, World

GOOD_TOKEN = "AAAAAAAAAAAAAAAAAAAAAfakebearer"
CAPPED_TOKEN = "AAAAAAAAAAAAAAAAAAAAAcappedbearer"
# X's usage-cap answer [REC in platforms.md §6: title, detail and type; the rest INF].
USAGE_CAP = {
    "account_id": 1432109876,
    "product_name": "standard-basic",
    "title": "UsageCapExceeded",
    "period": "Monthly",
    "scope": "Product",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": "https://api.twitter.com/2/problems/usage-capped",
}
FIXTURE_USER = "harborlinetech"
FIXTURE_USER_ID = "1432109876543210987"
FIXTURE_NEXT = fixture_json("x_user_tweets.json")["meta"]["next_token"]
_TWEET = fixture_json("x_user_tweets.json")["data"][1]
_TAG = re.compile(r"#(\w+)")
_PROBLEM = "https://api.twitter.com/2/problems/"


def escape(text: str) -> str:
    """X's escaping of post text: &, < and > only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tweet_json(post: FakePost, account: FakeAccount) -> dict[str, Any]:
    """A post object for ``post``, built on a fixture item."""
    data = copy.deepcopy(_TWEET)
    text = post.caption if len(post.caption) <= 280 else post.caption[:279] + "…"
    data.update(
        id=post.id,
        author_id=account.user_id,
        created_at=datetime.fromtimestamp(post.created, tz=timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"
        ),
        edit_history_tweet_ids=[post.id],
        text=escape(text),
        entities={
            "hashtags": [
                {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _TAG.finditer(text)
            ]
        },
    )
    if text != post.caption:
        data["note_tweet"] = {"text": post.caption}
    return data


def _user(account: FakeAccount) -> dict[str, str]:
    return {"id": account.user_id, "name": account.display_name, "username": account.handle}


def _error(resource: str, value: str, detail: str, kind: str, title: str) -> Response:
    return json_response(
        {
            "errors": [
                {
                    "value": value,
                    "detail": detail,
                    "title": title,
                    "resource_type": resource,
                    "parameter": "id" if resource == "tweet" else "username",
                    "resource_id": value,
                    "type": _PROBLEM + kind,
                }
            ]
        }
    )


def _account_error(account: FakeAccount | None, value: str) -> Response | None:
    if account is None:
        return _error(
            "user",
            value,
            f"Could not find user with username: [{value}].",
            "resource-not-found",
            "Not Found Error",
        )
    if account.suspended:
        return _error(
            "user", value, f"User has been suspended: [{value}].", "resource-not-found", "Forbidden"
        )
    if account.private:
        return _error(
            "user",
            value,
            f"Sorry, you are not authorized to see the user with id: [{account.user_id}].",
            "not-authorized-for-resource",
            "Authorization Error",
        )
    return None


def _page(
    posts: list[FakePost], token: str | None, limit: int
) -> tuple[list[FakePost], str | None]:
    start = int(token.removeprefix("tok")) if token and token.startswith("tok") else 0
    page = posts[start : start + limit]
    return page, (f"tok{start + limit}" if start + limit < len(posts) else None)


def _listing(world: World, page: list[FakePost], next_token: str | None) -> Response:
    users = {p.handle: world.get_account("x", p.handle) for p in page}
    body: dict[str, Any] = {
        "data": [tweet_json(p, users[p.handle]) for p in page],  # type: ignore[arg-type]
        "includes": {"users": [_user(a) for a in users.values() if a is not None]},
        "meta": {"result_count": len(page)},
    }
    if page:
        body["meta"].update(newest_id=page[0].id, oldest_id=page[-1].id)
    else:
        del body["data"], body["includes"]
    if next_token:
        body["meta"]["next_token"] = next_token
    return json_response(
        body, headers={"x-rate-limit-limit": "1500", "x-rate-limit-remaining": "1499"}
    )


def install(server: FakeServer, world: World) -> None:
    """Register the X API v2 routes on ``server``, rendering ``world``."""

    def refused(request: Request) -> Response | None:
        if request.headers.get("authorization") == f"Bearer {CAPPED_TOKEN}":
            reset = str(world.now + 900)  # the 15-minute window: not what is used up
            return json_response(
                USAGE_CAP,
                429,
                headers={
                    "x-rate-limit-limit": "1500",
                    "x-rate-limit-remaining": "1499",
                    "x-rate-limit-reset": reset,
                },
            )
        if request.headers.get("authorization") != f"Bearer {GOOD_TOKEN}":
            return json_response(
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                401,
            )
        return None

    @server.route("GET", r"/2/users/by/username/(\w+)")
    def by_username(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        name = match.group(1)
        if name.lower() == FIXTURE_USER and world.get_account("x", name) is None:
            return fixture("x_user_by_username.json")
        account = world.get_account("x", name)
        return _account_error(account, name) or json_response({"data": _user(account)})  # type: ignore[arg-type]

    @server.route("GET", r"/2/users/(\d+)/tweets")
    def user_tweets(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        limit = int(request.arg("max_results") or 10)
        if not 5 <= limit <= 100:
            return json_response(
                {
                    "errors": [{"message": "max_results must be 5..100"}],
                    "title": "Invalid Request",
                    "status": 400,
                },
                400,
            )
        if match.group(1) == FIXTURE_USER_ID:
            if request.arg("pagination_token") == FIXTURE_NEXT:
                return json_response({"meta": {"result_count": 0}})
            return fixture("x_user_tweets.json")
        account = world.get_account("x", match.group(1))
        error = _account_error(account, match.group(1))
        if error is not None or account is None:
            return error  # type: ignore[return-value]
        page, next_token = _page(account.visible(), request.arg("pagination_token"), limit)
        return _listing(world, page, next_token)

    @server.route("GET", r"/2/tweets/search/recent")
    def search_recent(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        found = _TAG.search(request.arg("query") or "")
        posts = world.tagged("x", found.group(1)) if found else []
        page, next_token = _page(
            posts, request.arg("next_token"), int(request.arg("max_results") or 10)
        )
        return _listing(world, page, next_token)

    @server.route("GET", r"/2/tweets/(\d+)")
    def one_tweet(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        post = world.find("x", match.group(1))
        if post is None or post.deleted:
            return _error(
                "tweet",
                match.group(1),
                f"Could not find tweet with id: [{match.group(1)}].",
                "resource-not-found",
                "Not Found Error",
            )
        account = world.get_account("x", post.handle)
        error = _account_error(account, post.handle)
        if error is not None or account is None:
            return error  # type: ignore[return-value]
        return json_response(
            {"data": tweet_json(post, account), "includes": {"users": [_user(account)]}}
        )
