"""Mastodon: an account's public statuses, a tag timeline, or one status, on any instance.

Endpoints (platforms.md §5, [DOC]): ``/api/v1/accounts/lookup?acct=`` (the id is
cached in the monitor state), ``/api/v1/accounts/:id/statuses`` with
``exclude_replies``, ``exclude_reblogs`` and ``limit`` ≤ 40, paged by the ``Link``
header's ``rel="next"`` (``max_id``); ``/api/v1/timelines/tag/:tag`` for hashtag
monitors; ``/api/v1/statuses/:id`` for one status. The instance of
``@user@instance`` is looked up in ``settings.instances`` (name -> base URL, so
tests and proxies can redirect it) and otherwise is ``https://<instance>``. Only
the ``max_id`` of the next link is used, on our own base URL: a proxy or test
server must not be bypassed by the absolute URLs an instance writes.

State: the account's id (``account_id``, with the ``acct`` it belongs to), so a run
costs no lookup. Listings are not filtered with ``since_id``/``min_id``: the run
re-reads its window and marks what is missing from a complete listing as gone, so
a listing cut at the last id seen would read as deletions; the run stops paging
by itself once it is past what is new (the generator is lazy).

Caption: ``spoiler_text`` (the content warning, shown first, and able to hold a
disclosure) then the ``content`` HTML as text: ``<br>`` is a line break, paragraphs
are separated by a blank line, hashtags and mentions read as ``#tag`` / ``@user``,
and other links read as their visible text, followed by the full address in
parentheses when the visible text is shortened (Mastodon hides the scheme and cuts
long URLs with an ellipsis): the audience reads the short form, the engine needs
the real domain (see :func:`monitors.sources.common.link_text`). The link preview
``card`` is left out: unlike Bluesky's, it is not part of the creator's post but
built by each server from the linked page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from bs4 import BeautifulSoup, NavigableString, Tag

from compliance.model import Post
from monitors.errors import (
    AuthExpired,
    FetchError,
    Malformed,
    NotConfigured,
    NotFound,
    Private,
    RateLimited,
    Unavailable,
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

PLATFORM = "mastodon"

# https://inst/@user/123, https://inst/@user@remote/123 (a remote status seen on inst),
# https://inst/users/user/statuses/123 (the ActivityPub id), https://inst/web/statuses/123.
_STATUS_PATHS = (
    re.compile(r"^/@[A-Za-z0-9_.-]+(?:@[A-Za-z0-9.-]+)?/(\d{1,20})/?$"),
    re.compile(r"^/users/[A-Za-z0-9_.-]+/statuses/(\d{1,20})/?$"),
    re.compile(r"^/web/statuses/(\d{1,20})/?$"),
    re.compile(r"^/web/@[A-Za-z0-9_.-]+(?:@[A-Za-z0-9.-]+)?/(\d{1,20})/?$"),
)
# Hosts whose /@user/<digits> paths are not Mastodon statuses.
_NOT_MASTODON = frozenset(
    {"tiktok.com", "www.tiktok.com", "m.tiktok.com", "youtube.com", "www.youtube.com",
     "m.youtube.com", "medium.com", "bsky.app", "x.com", "twitter.com", "threads.net",
     "www.threads.net", "instagram.com", "www.instagram.com"}
)  # fmt: skip
_BLOCKS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4"})


class MastodonSource:
    """Reads a Mastodon account's public statuses, a tag timeline, or one status by URL."""

    platform: ClassVar[str] = PLATFORM
    capabilities: ClassVar[frozenset[str]] = frozenset({ACCOUNT, HASHTAG, POST})

    def __init__(self, http: PlatformClient, settings: SourceSettings) -> None:
        self.http = http
        self.settings = settings

    # --- the Source interface -------------------------------------------------------
    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The account's own public statuses (no replies, no boosts), newest first."""
        user, instance = self._split_account(account)
        base = self.instance_url(instance)
        acct = f"{user}@{instance}"
        account_id = state.get("account_id") if state.get("acct") == acct else None
        found: Any = None
        if not isinstance(account_id, str) or not account_id.isdigit():
            found = self._lookup(base, user, account)
            account_id = _account_id(found, account)
            state["account_id"], state["acct"] = account_id, acct
        params: dict[str, Any] = {
            "exclude_replies": "true",
            "exclude_reblogs": "true",
            "limit": page_size(self.settings, 40, 40),
        }
        empty = True
        for fetched in self._timeline(
            base,
            f"/api/v1/accounts/{account_id}/statuses",
            params,
            target=account,
            home=instance,
        ):
            empty = False
            yield fetched
        if empty:
            # Nothing public at all: a locked account whose posts are followers-only
            # (or one suspended since we cached its id) must not read as "every post
            # deleted". The lookup tells them apart from a quiet public account.
            found = found if found is not None else self._lookup(base, user, account)
            _account_id(found, account)
            if found.get("locked") is True:
                raise Private(
                    "the account is locked and shows no public posts",
                    platform=PLATFORM,
                    target=account,
                )

    def hashtag_posts(self, tag: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The tag timeline of the first configured instance (what it knows of the fediverse).

        One instance's tag timeline holds its own users' posts and the remote posts it
        has received; a monitor that needs more instances lists them first in
        ``platforms.mastodon.instances``. Instances may require a login for tag
        timelines (an admin setting): that is a NotConfigured with the reason.
        """
        name = tag.strip().lstrip("#")
        if not self.settings.instances:
            raise NotConfigured(
                "a Mastodon hashtag monitor needs an instance: list one under "
                "platforms.mastodon.instances",
                platform=PLATFORM,
                target=f"#{name}",
            )
        home, configured = next(iter(self.settings.instances.items()))
        base = base_url(configured, f"https://{home}")
        params: dict[str, Any] = {"limit": page_size(self.settings, 40, 40)}
        yield from self._timeline(
            base,
            f"/api/v1/timelines/tag/{quote(name, safe='')}",
            params,
            target=f"#{name}",
            home=home,
        )

    def post(self, url: str) -> Fetched:
        """One status by URL. A 404 means deleted: a status's visibility cannot be changed
        after posting, so a status that was public does not turn 404 by becoming private."""
        parts = urlsplit(url.strip() if "://" in url else "https://" + url.strip())
        status_id = self.post_ref(url)
        host = (parts.hostname or "").lower()
        if status_id is None or not host:
            raise NotFound(
                f"not a Mastodon status URL: {one_line(url)}", platform=PLATFORM, target=url
            )
        base = self.instance_url(host)
        response = self._get(base, f"/api/v1/statuses/{status_id}", None, target=url)
        return self._fetched(_json(response, url), url, home=host)

    @classmethod
    def post_ref(cls, url: str) -> str | None:
        """The status id of a Mastodon status URL on any instance (by its path shape)."""
        text = url.strip()
        parts = urlsplit(text if "://" in text else "https://" + text)
        host = (parts.hostname or "").lower()
        if not host or "." not in host or host in _NOT_MASTODON:
            return None
        for pattern in _STATUS_PATHS:
            match = pattern.match(parts.path)
            if match:
                return match.group(1)
        return None

    # --- instances and accounts ---------------------------------------------------
    def instance_url(self, instance: str) -> str:
        """The base URL of ``instance``: configured, else ``https://<instance>``."""
        configured = self.settings.instances.get(instance) or self.settings.instances.get(
            instance.lower()
        )
        return base_url(configured, f"https://{instance.lower()}")

    def _split_account(self, account: str) -> tuple[str, str]:
        """(user, instance) of ``@user@instance``; a bare ``@user`` needs exactly one instance."""
        text = account.strip()
        if "://" in text:  # a profile URL: https://inst/@user
            parts = urlsplit(text)
            path = parts.path.strip("/")
            if path.startswith("@") and "/" not in path:
                return path[1:], (parts.hostname or "").lower()
        user, _, instance = text.lstrip("@").partition("@")
        if user and instance:
            return user, instance.lower()
        if user and len(self.settings.instances) == 1:
            return user, next(iter(self.settings.instances))
        raise NotConfigured(
            f"write the Mastodon account as @user@instance (got {one_line(account)!r})",
            platform=PLATFORM,
            target=account,
        )

    # --- requests --------------------------------------------------------------------
    def _lookup(self, base: str, user: str, target: str) -> Any:
        return _json(
            self._get(base, "/api/v1/accounts/lookup", {"acct": user}, target=target), target
        )

    def _timeline(
        self,
        base: str,
        path: str,
        params: dict[str, Any],
        *,
        target: str,
        home: str,
    ) -> Iterator[Fetched]:
        while True:
            response = self._get(base, path, params, target=target)
            statuses = _json(response, target)
            if not isinstance(statuses, list):
                raise Malformed("expected a list of statuses", platform=PLATFORM, target=target)
            for status in statuses:
                yield self._fetched(status, target, home=home)
            max_id = _next_max_id(response)
            if not statuses or max_id is None:
                return
            params = {**params, "max_id": max_id}

    def _get(
        self, base: str, path: str, params: dict[str, Any] | None, *, target: str
    ) -> httpx.Response:
        headers = (
            {"authorization": f"Bearer {self.settings.token}"} if self.settings.token else None
        )
        response = self.http.get(base + path, params=params, headers=headers)
        if response.status_code >= 400:
            raise self._error(response, target)
        return response

    def _error(self, response: httpx.Response, target: str) -> FetchError:
        status = response.status_code
        body = error_body(response)
        detail = one_line(
            body.get("error") if isinstance(body, dict) and body.get("error") else f"HTTP {status}"
        )
        kw: dict[str, Any] = {"platform": PLATFORM, "target": target, "status": status}
        if status == 401:
            if self.settings.token:
                return AuthExpired(f"the instance refused the token: {detail}", **kw)
            return NotConfigured(
                f"the instance requires a login ({detail}); set platforms.mastodon.token_env "
                "to an access token with read scope",
                **kw,
            )
        if status == 403:
            return AuthExpired(f"forbidden: {detail}", **kw)
        if status == 404:
            return NotFound(detail, **kw)
        if status == 410:
            return Private(f"the account is suspended (HTTP 410): {detail}", **kw)
        if status == 422:
            return NotConfigured(f"the instance refused the request: {detail}", **kw)
        if status == 429:
            return RateLimited(detail, retry_after=None, **kw)
        if status >= 500:
            return Unavailable(detail, **kw)
        return Malformed(f"unexpected HTTP {status}: {detail}", **kw)

    # --- mapping ------------------------------------------------------------------------
    def _fetched(self, status: Any, target: str, *, home: str) -> Fetched:
        """One status as a Post; ``home`` is the instance asked (local accounts' domain)."""
        # The API documents every id as a string; a number here means we misread the answer.
        if not isinstance(status, dict) or not isinstance(status.get("id"), str):
            raise Malformed("a status without an id", platform=PLATFORM, target=target)
        shown = status.get("reblog") if isinstance(status.get("reblog"), dict) else status
        account = shown.get("account") if isinstance(shown.get("account"), dict) else {}
        url = shown.get("url") if isinstance(shown.get("url"), str) else None
        url = url or (shown.get("uri") if isinstance(shown.get("uri"), str) else None)
        # A remote status has this instance's local id; its URL carries the origin's,
        # which is what post_ref() reads from a pasted link: prefer that.
        post_id = (self.post_ref(url) if url else None) or str(shown.get("id"))
        acct = account.get("acct")
        author = None
        if isinstance(acct, str) and acct:
            author = "@" + acct if "@" in acct else "@" + acct + "@" + home.lower()
        media = shown.get("media_attachments")
        is_video = (
            any(isinstance(m, dict) and m.get("type") in ("video", "gifv") for m in media)
            if isinstance(media, list)
            else None
        )
        language = shown.get("language")
        post = Post(
            caption=caption_of(shown),
            id=post_id,
            platform=PLATFORM,
            author=author,
            url=url,
            posted_at=iso_utc(shown.get("created_at")),
            is_video=is_video,
            paid_partnership=None,  # Mastodon has no paid-partnership label
            language=language.split("-")[0].lower()
            if isinstance(language, str) and language
            else None,
        )
        labels: dict[str, Any] = {}
        if shown.get("edited_at"):
            labels["edited_at"] = shown["edited_at"]
        return Fetched(post, raw_value=status, labels=labels)


def caption_of(status: dict[str, Any]) -> str:
    """The content warning and the content of a status, as the audience reads them."""
    spoiler = status.get("spoiler_text")
    content = status.get("content")
    parts = [
        spoiler.strip() if isinstance(spoiler, str) else "",
        html_to_text(content) if isinstance(content, str) else "",
    ]
    return "\n\n".join(p for p in parts if p)


def html_to_text(html: str) -> str:
    """Mastodon's sanitized status HTML as plain text (see the module docstring)."""
    soup = BeautifulSoup(html, "html.parser")
    out: list[str] = []
    _walk(soup, out)
    text = "".join(out)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _walk(node: Tag, out: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not comments, CDATA or doctype
                out.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name == "br":
            out.append("\n")
        elif name == "a":
            out.append(_anchor(child))
        elif name == "li":
            out.append("\n")
            _walk(child, out)
        elif name in _BLOCKS:
            out.append("\n\n")
            _walk(child, out)
            out.append("\n\n")
        else:
            _walk(child, out)


def _anchor(a: Tag) -> str:
    classes = a.get("class") or []
    text = a.get_text()
    if "mention" in classes or "hashtag" in classes or a.get("rel") == ["tag"]:
        return text  # '#ad', '@user': exactly what the audience reads
    # Mastodon writes the whole URL and hides parts with CSS classes: "invisible"
    # (the scheme, the cut-off tail) and "ellipsis" (shown with a trailing "…").
    visible = "".join(str(piece) for piece in a.find_all(string=True) if not _hidden(piece, a))
    if a.find("span", class_="ellipsis"):
        visible += "…"
    href = a.get("href")
    return link_text(visible, href if isinstance(href, str) else None)


def _hidden(piece: NavigableString, a: Tag) -> bool:
    """True when a text piece inside link ``a`` sits in an ``invisible`` span."""
    parent = piece.parent
    while parent is not None and parent is not a:
        if "invisible" in (parent.get("class") or []):
            return True
        parent = parent.parent
    return False


def _account_id(found: Any, target: str) -> str:
    if not isinstance(found, dict) or not isinstance(found.get("id"), (str, int)):
        raise Malformed("the account lookup has no id", platform=PLATFORM, target=target)
    if found.get("suspended") is True:
        # Mastodon ≥ 3.3 answers a suspended account with a stub flagged "suspended":
        # not visible, but not deleted either.
        raise Private("the account is suspended", platform=PLATFORM, target=target)
    return str(found["id"])


def _json(response: httpx.Response, target: str) -> Any:
    return decode_json(response, platform=PLATFORM, target=target)


def _next_max_id(response: httpx.Response) -> str | None:
    """``max_id`` of the Link header's ``rel="next"`` (None on the last page)."""
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    values = parse_qs(urlsplit(link["url"]).query).get("max_id")
    return values[0] if values and values[0].isdigit() else None
