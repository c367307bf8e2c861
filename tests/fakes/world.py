"""An in-memory world of platform accounts and posts that the platform fakes render.

Tests build a world (accounts, posts, hashtags), start the fakes over it, run
monitors, then change the world between runs: a new post, an edited caption, a
deleted post, an account turned private. Ids are derived the way each platform
derives them (TikTok ``id >> 32 == create_time``, X and Mastodon snowflakes,
Bluesky TIDs), so sources can be tested on their real id arithmetic.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

_B32 = "234567abcdefghijklmnopqrstuvwxyz"  # the sortable base32 alphabet of atproto TIDs
_YT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
START = 1_794_000_000  # 2026-11-06, the world's default "now" in epoch seconds


def platform_id(platform: str, created: int, n: int) -> str:
    """A post id in ``platform``'s own form for a post created at ``created`` (epoch s)."""
    if platform == "tiktok":
        return str((created << 32) | (n & 0xFFFFFFFF))
    if platform == "x":
        return str(((created * 1000 - 1_288_834_974_657) << 22) | (n & 0x3FFFFF))
    if platform == "mastodon":
        return str(((created * 1000) << 16) | (n & 0xFFFF))
    if platform == "bluesky":
        value = (created * 1_000_000) << 10 | (n & 0x3FF)
        return "".join(_B32[(value >> (5 * i)) & 31] for i in range(12, -1, -1))
    if platform == "youtube":
        rng = random.Random(n)
        return "".join(rng.choice(_YT) for _ in range(11))
    if platform == "instagram":
        return str(17_840_000_000_000_000 + n)
    return f"{platform}-{n}"


@dataclass
class FakePost:
    """One post in the world."""

    id: str
    platform: str
    handle: str
    caption: str
    created: int
    paid: bool | None = None  # the platform's own label, where it has one
    transcript: str | None = (
        None  # spoken text, served as a WebVTT track where the platform has them
    )
    tags: list[str] = field(default_factory=list)  # hidden tags (Bluesky record.tags)
    title: str = ""  # YouTube title
    deleted: bool = False
    private: bool = False


@dataclass
class FakeAccount:
    """One account on one platform; ``posts`` newest first."""

    platform: str
    handle: str  # without '@'
    user_id: str
    display_name: str
    posts: list[FakePost] = field(default_factory=list)
    private: bool = False
    suspended: bool = False

    def visible(self) -> list[FakePost]:
        """The posts a listing shows now, newest first."""
        return [p for p in self.posts if not p.deleted and not p.private]


class World:
    """Accounts and posts on every platform; thread-safe enough for a threaded fake server."""

    def __init__(self, now: int = START) -> None:
        self.now = now
        self.accounts: dict[tuple[str, str], FakeAccount] = {}
        self._by_user_id: dict[tuple[str, str], FakeAccount] = {}
        self._counter = itertools.count(1)
        self.lock = threading.RLock()

    # --- building --------------------------------------------------------------
    def account(
        self, platform: str, handle: str, *, display_name: str | None = None, private: bool = False
    ) -> FakeAccount:
        """The account ``handle`` on ``platform`` (created when new)."""
        handle = handle.lstrip("@").lower()
        with self.lock:
            key = (platform, handle)
            if key not in self.accounts:
                n = next(self._counter)
                self.accounts[key] = FakeAccount(
                    platform,
                    handle,
                    user_id=str(6_900_000_000_000_000_000 + n)
                    if platform == "tiktok"
                    else str(1000 + n),
                    display_name=display_name or handle.title(),
                    private=private,
                )
                made = self.accounts[key]
                self._by_user_id[(platform, made.user_id)] = made
            return self.accounts[key]

    def post(
        self,
        platform: str,
        handle: str,
        caption: str,
        *,
        age: int = 3600,
        **kw: object,
    ) -> FakePost:
        """Add a post ``age`` seconds old to ``handle``'s account; returns it."""
        with self.lock:
            account = self.account(platform, handle)
            created = self.now - age
            post = FakePost(
                platform_id(platform, created, next(self._counter)),
                platform,
                account.handle,
                caption,
                created,
                **kw,  # type: ignore[arg-type]
            )
            account.posts.append(post)
            account.posts.sort(key=lambda p: p.created, reverse=True)
            return post

    def find(self, platform: str, post_id: str) -> FakePost | None:
        """The post with ``post_id`` (deleted ones too)."""
        with self.lock:
            for (plat, _), account in self.accounts.items():
                if plat == platform:
                    for post in account.posts:
                        if post.id == post_id:
                            return post
        return None

    def get_account(self, platform: str, handle_or_id: str) -> FakeAccount | None:
        """The account by handle (with or without '@') or user id."""
        key = handle_or_id.lstrip("@").lower()
        with self.lock:
            found = self.accounts.get((platform, key))
            if found is None:
                found = self._by_user_id.get((platform, handle_or_id))
            return found

    # --- changing between runs -------------------------------------------------
    def edit(self, post: FakePost, caption: str) -> None:
        """The creator edits the caption."""
        with self.lock:
            post.caption = caption

    def delete(self, post: FakePost) -> None:
        """The creator deletes the post."""
        with self.lock:
            post.deleted = True

    def tagged(self, platform: str, tag: str) -> list[FakePost]:
        """Visible posts on ``platform`` whose caption or hidden tags carry ``#tag``, newest first."""
        needle = "#" + tag.lstrip("#").lower()
        with self.lock:
            found = [
                p
                for (plat, _), account in self.accounts.items()
                if plat == platform and not account.private
                for p in account.visible()
                if needle in p.caption.lower().split()
                or tag.lstrip("#").lower() in p.tags
                or any(
                    w.startswith(needle) and not w[len(needle) : len(needle) + 1].isalnum()
                    for w in p.caption.lower().split()
                )
            ]
        return sorted(found, key=lambda p: p.created, reverse=True)

    def populate(
        self,
        platform: str,
        creators: int,
        posts_each: int,
        *,
        seed: int = 7,
        prefix: str = "creator",
        captions: Sequence[str] | None = None,
    ) -> list[FakeAccount]:
        """``creators`` accounts with ``posts_each`` posts each (a mix of disclosed, undisclosed and
        unsponsored captions), for scale tests and benchmarks. ``captions``: used in turn
        instead (a benchmark passes distinct ones, so that no check repeats another)."""
        rng = random.Random(seed)
        mix = (
            "#ad Loving my new serum from @glowlab! Use code MAYA15",
            "Morning routine with @glowlab serum, code MAYA15 for 15% off #skincare #fyp",
            "Just a walk in the park today #nature #weekend",
            "Thanks @glowlab for the gifted serum #gifted #skincare",
            "Sponsored by @keyforge: the best keyboard I've used. #tech",
            "Tried the #guacdance challenge with my sister!",
        )
        turn = itertools.count()
        made = []
        for i in range(creators):
            handle = f"{prefix}{i:05d}"
            self.account(platform, handle)
            for j in range(posts_each):
                caption = captions[next(turn) % len(captions)] if captions else rng.choice(mix)
                self.post(platform, handle, caption, age=3600 * (j + 1) + i % 3600)
            made.append(self.accounts[(platform, handle)])
        return made
