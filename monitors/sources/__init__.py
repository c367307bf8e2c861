"""One fetcher per platform, behind :class:`monitors.sources.base.Source`.

The registry is an explicit table (no import-time registration): platform name to
``module:Class``, imported only when a monitor of that platform runs, so that a
one-off check of a TikTok account never imports the Mastodon HTML parser.
"""

from __future__ import annotations

from importlib import import_module

from monitors.sources.base import Source

SOURCES: dict[str, str] = {
    "bluesky": "monitors.sources.bluesky:BlueskySource",
    "instagram": "monitors.sources.instagram:InstagramSource",
    "mastodon": "monitors.sources.mastodon:MastodonSource",
    "tiktok": "monitors.sources.tiktok:TikTokSource",
    "twitter": "monitors.sources.x:XSource",
    # X posts carry platform "twitter" (the packs' name); both names reach the one source.
    "x": "monitors.sources.x:XSource",
    "youtube": "monitors.sources.youtube:YouTubeSource",
}


def source_class(platform: str) -> type[Source]:
    """The Source class for ``platform``; KeyError names the platforms we have."""
    try:
        module, _, name = SOURCES[platform].partition(":")
    except KeyError:
        raise KeyError(
            f"no source for platform {platform!r} (have: {', '.join(sorted(SOURCES))})"
        ) from None
    return getattr(import_module(module), name)  # type: ignore[no-any-return]
