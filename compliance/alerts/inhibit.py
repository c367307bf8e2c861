"""Inhibition: an unresolved alert matching a rule's ``source`` mutes alerts matching its
``target`` that have the same values of the ``equal`` labels (a missing disclosure makes
"below the fold" on the same post moot). An alert never inhibits itself, and "fixed" or
"recovered" notices are never inhibited: they close what people were told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from compliance.alerts.config import InhibitRule
from compliance.alerts.matchers import matches_all

NEVER_INHIBITED = ("fixed", "monitor_recovered")


def inhibited_by(
    subject: str,
    labels: Mapping[str, str],
    sources: Sequence[tuple[str, Mapping[str, str]]],
    rules: Iterable[InhibitRule],
) -> str | None:
    """The subject of the first active source that mutes this alert, or None.

    ``sources`` are the active (unresolved) alerts as (subject, labels).
    """
    if labels.get("event") in NEVER_INHIBITED:
        return None
    for rule in rules:
        if not matches_all(rule.target, labels):
            continue
        for source_subject, source in sources:
            if source_subject == subject or source.get("event") in NEVER_INHIBITED:
                continue
            if matches_all(rule.source, source) and all(
                (source.get(n) or "") == (labels.get(n) or "") for n in rule.equal
            ):
                return source_subject
    return None
