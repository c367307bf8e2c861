"""X (Twitter): a user's posts, recent hashtag search and one post, with API v2 and a bearer token.

Endpoints (platforms.md §6): ``/2/users/by/username/:u`` (the id is cached in the
monitor state), ``/2/users/:id/tweets`` with ``exclude=retweets,replies``,
``max_results`` ≤ 100 and ``pagination_token`` ↔ ``meta.next_token`` [DOC];
``/2/tweets/search/recent?query=#tag -is:retweet`` (the last 7 days, ``next_token``)
and ``/2/tweets/:id`` [DOC on X's site, not in platforms.md, so INF here]. Failures
inside a 200 (``{"errors": [...]}`` without ``data``) are mapped like HTTP errors.

Text: the FULL text of long posts is ``note_tweet.text`` (``text`` stops at 280);
X escapes ``&``, ``<`` and ``>`` as entities and nothing else, so exactly those
three are unescaped (``&amp;`` last, so a literal "&lt;" typed by the creator
survives). t.co links read as X shows them (``display_url``), followed by the full
address when that is shortened (see :func:`monitors.sources.common.link_text`);
the t.co link of attached media is dropped, as X shows the media instead.

Ids: an edited post gets a new id on X, listed with ``edit_history_tweet_ids``
(oldest first). ``Post.id`` is the ORIGINAL id, so an edit is one post with a new
caption version (and not a new post plus a deleted one); ``url`` opens the
current version.

Platform name: the source is registered as ``x`` (and ``twitter``); its posts
carry ``platform="twitter"``, the name the rule packs' folds use (X cuts at 280).
Monthly usage cap: X answers a project whose monthly post cap is used up with a 429
``UsageCapExceeded`` (type ``.../problems/usage-capped``, platforms.md §6) [REC].
Unlike a 15-minute rate limit no wait within a run lifts it, so the client hands
that 429 over at once (``final``) instead of retrying it, and it becomes
:class:`QuotaExceeded` (error kind ``quota``), saying the monthly cap is exhausted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from compliance.model import Post
from monitors.errors import (
    AuthExpired,
    FetchError,
    Malformed,
    NotConfigured,
    NotFound,
    Private,
    QuotaExceeded,
    RateLimited,
)
from monitors.http import PlatformClient, decode_json
from monitors.sources.base import ACCOUNT, HASHTAG, POST, Fetched, SourceSettings
from monitors.sources.common import (
    base_url,
    error_body,
    iso_utc,
    link_text,
    one_line,
    page_size,
)

PLATFORM = "x"
ENGINE_PLATFORM = "twitter"  # compliance.model.PLATFORMS and the packs' folds
API_URL = "https://api.x.com"
WEB_URL = "https://x.com"
TWEET_FIELDS = "created_at,entities,lang,note_tweet,author_id,edit_history_tweet_ids,attachments"
_HOSTS = frozenset(
    {"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com",
     "mobile.twitter.com", "m.twitter.com"}
)  # fmt: skip
_STATUS_PATH = re.compile(
    r"^/(?:[A-Za-z0-9_]{1,50}|i/web|i)/status(?:es)?/(\d{1,20})(?:/(?:photo|video)/\d+)?/?$"
)
_MEDIA_LINK = re.compile(r"/status/\d+/(?:photo|video)/\d+$")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,50}$")
_NOT_MEANINGFUL_LANGS = frozenset({"und", "zxx", "qme", "qam", "qct", "qht", "qst"})


class XSource:
    """Reads an X account's own posts, recent posts with a hashtag, or one post by URL."""

    platform: ClassVar[str] = PLATFORM
    capabilities: ClassVar[frozenset[str]] = frozenset({ACCOUNT, HASHTAG, POST})

    def __init__(self, http: PlatformClient, settings: SourceSettings) -> None:
        self.http = http
        self.settings = settings
        self.api = base_url(settings.api_url, API_URL)
        self.web = base_url(settings.web_url, WEB_URL)

    # --- the Source interface -------------------------------------------------------
    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The account's own posts (no reposts, no replies), newest first, 100 a page."""
        username = account.strip().lstrip("@")
        if not _USERNAME.match(username):
            raise NotFound(
                f"not an X username: {one_line(account)!r}", platform=PLATFORM, target=account
            )
        cached = str(state.get("username") or "")
        user_id = state.get("user_id") if cached.lower() == username.lower() else None
        if not isinstance(user_id, str) or not user_id.isdigit():
            user = self._get(f"/2/users/by/username/{username}", {}, target=account).get("data")
            if not isinstance(user, dict) or not isinstance(user.get("id"), str):
                raise Malformed("the user lookup has no id", platform=PLATFORM, target=account)
            user_id = user["id"]
            cached = user["username"] if isinstance(user.get("username"), str) else username
            state["user_id"], state["username"] = user_id, cached
        params: dict[str, Any] = {
            "exclude": "retweets,replies",
            "max_results": max(5, page_size(self.settings, 100, 100)),  # X accepts 5..100
            "tweet.fields": TWEET_FIELDS,
            "expansions": "attachments.media_keys,author_id",
            "media.fields": "type",
            "user.fields": "username",
        }
        yield from self._pages(
            f"/2/users/{user_id}/tweets", params, "pagination_token", target=account, owner=cached
        )

    def hashtag_posts(self, tag: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """Posts of the last 7 days with ``#tag`` (recent search), reposts left out."""
        name = tag.strip().lstrip("#")
        params: dict[str, Any] = {
            "query": f"#{name} -is:retweet",
            "max_results": max(10, page_size(self.settings, 100, 100)),  # search: 10..100
            "tweet.fields": TWEET_FIELDS,
            "expansions": "attachments.media_keys,author_id",
            "media.fields": "type",
            "user.fields": "username",
        }
        yield from self._pages("/2/tweets/search/recent", params, "next_token", target=f"#{name}")

    def post(self, url: str) -> Fetched:
        """One post by its URL (x.com, twitter.com, mobile hosts); NotFound when deleted."""
        tweet_id = self.post_ref(url)
        if tweet_id is None:
            raise NotFound(f"not an X post URL: {one_line(url)}", platform=PLATFORM, target=url)
        body = self._get(
            f"/2/tweets/{tweet_id}",
            {
                "tweet.fields": TWEET_FIELDS,
                "expansions": "attachments.media_keys,author_id",
                "media.fields": "type",
                "user.fields": "username",
            },
            target=url,
        )
        tweet = body.get("data")
        if not isinstance(tweet, dict):
            raise Malformed("no 'data' for the post", platform=PLATFORM, target=url)
        return self._fetched(tweet, _Includes(body.get("includes")), target=url)

    @classmethod
    def post_ref(cls, url: str) -> str | None:
        """The post id of ``x.com/<user>/status/<id>`` (twitter.com, mobile, ``/i/web/status``)."""
        text = url.strip()
        parts = urlsplit(text if "://" in text else "https://" + text)
        if (parts.hostname or "").lower() not in _HOSTS:
            return None
        match = _STATUS_PATH.match(parts.path)
        return match.group(1) if match else None

    # --- requests and errors --------------------------------------------------------
    def _pages(
        self,
        path: str,
        params: dict[str, Any],
        token_param: str,
        *,
        target: str,
        owner: str | None = None,
    ) -> Iterator[Fetched]:
        while True:
            body = self._get(path, params, target=target)
            if "data" not in body and not isinstance(body.get("meta"), dict):
                # An empty page still says {"meta": {"result_count": 0}}: without either,
                # this is not a listing, and reading it as an empty one would call posts gone.
                raise Malformed(
                    "neither 'data' nor 'meta' in the answer", platform=PLATFORM, target=target
                )
            tweets = body.get("data", [])
            if not isinstance(tweets, list):
                raise Malformed("'data' is not a list of posts", platform=PLATFORM, target=target)
            includes = _Includes(body.get("includes"))
            for tweet in tweets:
                yield self._fetched(tweet, includes, target=target, owner=owner)
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            token = meta.get("next_token")
            if not tweets or not isinstance(token, str) or not token:
                return
            params = {**params, token_param: token}

    def _get(self, path: str, params: dict[str, Any], *, target: str) -> dict[str, Any]:
        if not self.settings.token:
            raise NotConfigured(
                "X needs an API bearer token: set platforms.x.token_env to the environment "
                "variable that holds it",
                platform=PLATFORM,
                target=target,
            )
        response = self.http.get(
            self.api + path,
            params=params,
            headers={"authorization": f"Bearer {self.settings.token}"},
            final=usage_capped,
        )
        if response.status_code >= 400:
            raise http_error(response, target)
        body = decode_json(response, platform=PLATFORM, target=target)
        if not isinstance(body, dict):
            raise Malformed("expected a JSON object", platform=PLATFORM, target=target)
        if "data" not in body and isinstance(body.get("errors"), list) and body["errors"]:
            raise _problem(body["errors"][0], target, response.status_code)
        return body

    # --- mapping ------------------------------------------------------------------------
    def _fetched(
        self, tweet: Any, includes: _Includes, *, target: str, owner: str | None = None
    ) -> Fetched:
        """One post as a Post; ``owner`` is the username when listing one account's posts."""
        if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
            raise Malformed("a post without an id", platform=PLATFORM, target=target)
        current = tweet["id"]
        history = tweet.get("edit_history_tweet_ids")
        original = (
            history[0]
            if isinstance(history, list) and history and isinstance(history[0], str)
            else current
        )
        username = includes.username(tweet.get("author_id")) or owner
        lang = tweet.get("lang")
        media = includes.media_types(tweet.get("attachments"))
        post = Post(
            caption=text_of(tweet),
            id=original,
            platform=ENGINE_PLATFORM,
            author=f"@{username}" if username else None,
            url=f"{self.web}/{username or 'i/web'}/status/{current}",
            posted_at=iso_utc(tweet.get("created_at")),
            is_video=bool(media & {"video", "animated_gif"}),
            paid_partnership=None,  # X has no paid-partnership field in its API
            language=lang if isinstance(lang, str) and lang not in _NOT_MEANINGFUL_LANGS else None,
        )
        labels = (
            {"edit_history_tweet_ids": history}
            if isinstance(history, list) and len(history) > 1
            else {}
        )
        return Fetched(post, raw_value=tweet, labels=labels)

    def __repr__(self) -> str:
        return f"XSource(api={self.api!r})"


class _Includes:
    """The ``includes`` of a response: users by id, media types by key."""

    def __init__(self, includes: Any) -> None:
        includes = includes if isinstance(includes, dict) else {}
        self.users = {
            u["id"]: u["username"]
            for u in includes.get("users") or ()
            if isinstance(u, dict)
            and isinstance(u.get("id"), str)
            and isinstance(u.get("username"), str)
        }
        self.media = {
            m["media_key"]: m.get("type")
            for m in includes.get("media") or ()
            if isinstance(m, dict) and isinstance(m.get("media_key"), str)
        }

    def username(self, author_id: Any) -> str | None:
        return self.users.get(author_id) if isinstance(author_id, str) else None

    def media_types(self, attachments: Any) -> set[str]:
        keys = attachments.get("media_keys") if isinstance(attachments, dict) else None
        return {
            str(self.media.get(k)) for k in keys or () if isinstance(k, str) and k in self.media
        }


def text_of(tweet: Mapping[str, Any]) -> str:
    """The post's full text as the audience reads it (see the module docstring)."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        text, entities = note["text"], note.get("entities")
    else:
        text = tweet.get("text") if isinstance(tweet.get("text"), str) else ""
        entities = tweet.get("entities")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    for entity in urls or ():
        if not isinstance(entity, dict) or not isinstance(entity.get("url"), str):
            continue
        short = entity["url"]
        if entity.get("media_key") or _is_media_link(entity):
            text = text.replace(short, "").rstrip() if text.rstrip().endswith(short) else text
            continue
        shown = entity.get("display_url") if isinstance(entity.get("display_url"), str) else None
        expanded = (
            entity.get("expanded_url") if isinstance(entity.get("expanded_url"), str) else None
        )
        if shown or expanded:
            text = text.replace(short, link_text(shown or expanded or short, expanded))
    return text


def _is_media_link(entity: Mapping[str, Any]) -> bool:
    """The t.co link X appends for attached media (shown as the media, not as text)."""
    shown = str(entity.get("display_url") or "")
    expanded = str(entity.get("expanded_url") or "")
    return shown.startswith(("pic.twitter.com/", "pic.x.com/")) or bool(
        _MEDIA_LINK.search(expanded)
    )


def http_error(response: httpx.Response, target: str) -> FetchError:
    """The typed failure for an X API error response (problem JSON or ``errors``)."""
    body = error_body(response)
    problem = (
        body["errors"][0]
        if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]
        else body
    )
    return _problem(problem if isinstance(problem, dict) else {}, target, response.status_code)


def usage_capped(response: httpx.Response) -> bool:
    """Whether ``response`` is X's usage-cap answer (a 429 that waiting minutes will not lift)."""
    if response.status_code != 429:
        return False
    body = error_body(response)
    return isinstance(body, dict) and _is_usage_cap(body)


def _is_usage_cap(problem: Mapping[str, Any]) -> bool:
    kind = str(problem.get("type") or "")
    return problem.get("title") == "UsageCapExceeded" or kind.endswith("/usage-capped")


def _problem(problem: Mapping[str, Any], target: str, status: int) -> FetchError:
    kind = str(problem.get("type") or "")
    title = str(problem.get("title") or "")
    detail = one_line(problem.get("detail") or problem.get("message") or title or f"HTTP {status}")
    kw: dict[str, Any] = {"platform": PLATFORM, "target": target, "status": status}
    if _is_usage_cap(problem):
        # When the cap resets depends on the project's billing day, which the answer does not
        # say: no retry_after, so the schedule keeps trying and the status keeps saying why.
        period = str(problem.get("period") or "monthly").lower()
        return QuotaExceeded(
            f"the X API {period} usage cap is exhausted ({detail}): no reads until the cap "
            "resets with the next billing period or the plan is raised in the X developer "
            "portal; this is not a rate limit that lifts in 15 minutes",
            retry_after=None,
            **kw,
        )
    if status == 429:
        return RateLimited(detail, retry_after=None, **kw)  # the client normally handles 429
    if status == 401:
        return AuthExpired(
            f"the bearer token was refused ({detail}): renew it and update the variable named "
            "by platforms.x.token_env",
            **kw,
        )
    if "suspended" in detail.lower() or kind.endswith("/not-authorized-for-resource"):
        return Private(detail, **kw)
    if kind.endswith("/resource-not-found") or status == 404:
        return NotFound(detail, **kw)
    if status == 403 or kind.endswith(("/client-forbidden", "/client-not-enrolled")):
        return NotConfigured(f"X refused this endpoint for the app's access level: {detail}", **kw)
    return Malformed(f"X refused the request: {detail}", **kw)
