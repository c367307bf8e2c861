"""compliance: check influencer posts for advertising-disclosure compliance.

Public API::

    from compliance import Campaign, Post, check, load_packs

    packs = load_packs()
    verdict = check(Post("Loving my new serum from @glowlab! #sp"), packs)
    verdict.verdict        # VerdictKind.VIOLATION
    verdict.findings       # (Finding(rule='FTC.C201', code='ambiguous_disclosure', ...),)
"""

from __future__ import annotations

from compliance.engine import check
from compliance.model import (
    Campaign,
    Disclosure,
    Finding,
    Level,
    Post,
    Signal,
    Sponsorship,
    Verdict,
    VerdictKind,
)
from compliance.packs import PackError, load_packs

__all__ = [
    "Campaign",
    "Disclosure",
    "Finding",
    "Level",
    "PackError",
    "Post",
    "Signal",
    "Sponsorship",
    "Verdict",
    "VerdictKind",
    "check",
    "load_packs",
]
