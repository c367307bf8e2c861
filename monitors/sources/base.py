"""The small interface every platform source implements, and the values it hands back.

A source turns a platform's answers into :class:`compliance.model.Post` values.
It is given its HTTP client (:class:`monitors.http.PlatformClient`: retries,
backoff, budget and conditional requests already handled) and its settings, so
tests point it at loopback fakes and users at proxies. It never touches the
database or the clock: the monitor run decides what is new, edited or gone.

Listings are lazy generators, newest post first: the next page is fetched only
when the caller asks for more, so a run stops paging as soon as it has read what
is new plus its re-read window. ``state`` is the monitor's own JSON-serialisable
dict: a source may keep resolved ids (a channel's uploads playlist, a TikTok
secUid), ETags or cursors there; the run persists it only after a successful run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import orjson

from compliance.model import Post

# What a source can do; the CLI and the config check ask before they plan a run.
ACCOUNT = "account"  # list an account's posts
HASHTAG = "hashtag"  # list a hashtag's posts (branded challenges)
POST = "post"  # read one post by URL
TRANSCRIPT = "transcript"  # read spoken text (subtitle / caption tracks)
PAID_LABEL = "paid_label"  # read the platform's own paid-partnership label
CONDITIONAL = "conditional"  # ETag / If-Modified-Since on listings


class NotModified(Exception):
    """The listing's first page is unchanged since the validators in ``state``: nothing new."""


@dataclass(frozen=True)
class Fetched:
    """One post as a platform gave it.

    ``raw_value`` is the platform's own JSON value (or HTML fragment, as text) for
    this item, kept as evidence with the caption version; :attr:`raw` is its text,
    made when asked (only new and edited posts are stored, and a run re-reads many
    unchanged ones). ``labels`` holds platform fields whose meaning is unconfirmed
    (TikTok's ``isAd``, ``brandOrganicType``...): recorded as they are, never read as
    a disclosure. ``transcript`` loads the spoken text on demand (one more request),
    so the run asks for it only for new or edited posts; ``post.transcript`` is set
    when the listing already carried it.
    """

    post: Post
    raw_value: Any = field(default=None, repr=False, compare=False)
    labels: Mapping[str, Any] = field(default_factory=dict)
    transcript: Callable[[], str | None] | None = field(default=None, compare=False)

    @property
    def raw(self) -> str | None:
        """The evidence as text: compact JSON with raw UTF-8 (see :func:`json_text`)."""
        value = self.raw_value
        if value is None or isinstance(value, str):
            return value
        return json_text(value)


def json_text(value: Any) -> str:
    """``value`` as compact JSON text with raw UTF-8: how platform answers are stored.

    orjson writes the same text as ``json.dumps(ensure_ascii=False, separators=(",",
    ":"))`` several times faster (a TikTok item is kilobytes, a cycle stores hundreds of
    thousands); what it refuses (integers beyond 64 bits, lone surrogates, keys that
    are not strings) goes to the standard library, which writes them as before.
    """
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class SourceSettings:
    """One platform's section of compliance.yaml, with its secrets already resolved.

    Secret values are excluded from ``repr`` so that they cannot reach a log line.
    """

    api_url: str | None = None
    web_url: str | None = None
    short_url: str | None = None  # TikTok's short-link hosts (vm./vt.tiktok.com), for tests
    token: str | None = field(default=None, repr=False)
    key: str | None = field(default=None, repr=False)
    user_id: str | None = None
    instances: Mapping[str, str] = field(default_factory=dict)
    page_size: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # Hosts beyond the platform's own that user-supplied URLs and accounts may reach
    # (``platforms.<name>.allow_hosts``, and the Mastodon instances of configured accounts).
    allow_hosts: tuple[str, ...] = ()

    @property
    def base_urls(self) -> tuple[str, ...]:
        """The base URLs written in compliance.yaml: their hosts are trusted as written."""
        urls = (self.api_url, self.web_url, self.short_url, *self.instances.values())
        return tuple(u for u in urls if u)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values, for redacting them from messages."""
        return tuple(s for s in (self.token, self.key) if s)


class Source(Protocol):
    """A platform fetcher. ``platform`` is one of :data:`compliance.model.PLATFORMS` (or ``x``)."""

    platform: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]

    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """The account's posts, newest first, fetched page by page as the caller iterates.

        Raises a :class:`monitors.errors.FetchError` for the account as a whole (not
        found, private, auth) and :class:`NotModified` when conditional requests show
        nothing changed.
        """
        ...

    def hashtag_posts(self, tag: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        """Recent posts carrying ``tag`` (without '#'), newest first where the platform allows."""
        ...

    def post(self, url: str) -> Fetched:
        """One post by its URL; :class:`monitors.errors.NotFound` when it is deleted."""
        ...

    @classmethod
    def post_ref(cls, url: str) -> str | None:
        """The post id when ``url`` is one of this platform's post URLs, else None (no network)."""
        ...
