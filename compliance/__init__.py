"""compliance: check influencer posts for advertising-disclosure compliance.

Public API::

    from compliance import Campaign, Post, check, load_packs

    packs = load_packs()
    verdict = check(Post("Loving my new serum from @glowlab! #sp"), packs)
    verdict.verdict        # VerdictKind.VIOLATION
    verdict.findings       # (Finding(rule='FTC.C201', code='ambiguous_disclosure', ...),)

The names are imported on first use: commands that never check a caption (listing
violations, writing a report) should not pay for importing spaCy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "check": "compliance.engine",
    "load_packs": "compliance.packs",
    "PackError": "compliance.packs",
    "Campaign": "compliance.model",
    "Disclosure": "compliance.model",
    "Finding": "compliance.model",
    "Level": "compliance.model",
    "Post": "compliance.model",
    "Signal": "compliance.model",
    "Sponsorship": "compliance.model",
    "Verdict": "compliance.model",
    "VerdictKind": "compliance.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'compliance' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
