"""What recording changed about violations, as values handed to whoever must hear of it.

:func:`compliance.store.record.record_batch` builds one :class:`ViolationChange` per
transition it makes (opened, regressed, fixed) and, when given ``on_changes``, calls it
with the session *inside the recording transaction*: the alerting layer writes its
outbox rows there, so a change and the alert it causes are committed together or not
at all. The store does not import the alerting layer; the callback is the seam.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from compliance.store.observed import Prepared

# The checker's transitions that people want to hear about.
ANNOUNCED = ("opened", "regressed", "fixed")
# A post without a declared jurisdiction is checked against the default pack (README).
DEFAULT_JURISDICTION = "US"


@dataclass(frozen=True)
class ViolationChange:
    """One violation's transition, with the post facts an alert needs (no database reads)."""

    violation_id: int
    action: str  # opened | regressed | fixed
    at: datetime
    rule: str
    code: str
    # The finding as the JSON verdict has it (rule, name, span, text, message, fix, source);
    # for "fixed", None: the fixing version has no such finding.
    finding: Mapping[str, Any] | None
    post_id: int
    version_id: int
    platform: str
    post_key: str
    url: str | None
    creator: str | None
    caption: str
    brand: str | None
    campaign: str | None
    jurisdiction: str
    pack: str


OnChanges = Callable[[Session, Sequence[ViolationChange]], None]


def collect(
    states: Mapping[int, Mapping[str, Any]], items: Iterable[Prepared]
) -> list[ViolationChange]:
    """The announced transitions of a recorded batch, in (post, rule, time) order.

    ``states`` are :class:`compliance.store.transitions.State` by post and rule, after
    writing (ids assigned); ``items`` the batch's prepared observations.
    """
    by_version = {item.version_id: item for item in items}
    changes: list[ViolationChange] = []
    for post_id in sorted(states):
        for rule in sorted(states[post_id]):
            state = states[post_id][rule]
            for event in state.events:
                if event["action"] not in ANNOUNCED or state.id is None:
                    continue
                item = by_version[event["version_id"]]
                changes.append(_change(state, event, item))
    return changes


def _change(state: Any, event: Mapping[str, Any], item: Prepared) -> ViolationChange:
    post = item.obs.verdict.post
    campaign = post.campaign
    fixed = event["action"] == "fixed"
    return ViolationChange(
        violation_id=state.id,
        action=event["action"],
        at=event["at"],
        rule=state.rule,
        code=state.code,
        finding=None if fixed else item.findings.get(state.rule),
        post_id=item.post_id,
        version_id=item.version_id,
        platform=item.platform,
        post_key=item.key,
        url=post.url,
        creator=item.handle,
        caption=post.caption,
        brand=campaign.brand if campaign else None,
        # A configured campaign's key in compliance.yaml (what routes match on); an inline
        # one has no name, and its first hashtag is what people call it.
        campaign=(
            campaign.name or (campaign.hashtags[0] if campaign.hashtags else None)
            if campaign
            else None
        ),
        jurisdiction=(post.jurisdiction or DEFAULT_JURISDICTION).upper(),
        pack=item.obs.verdict.pack,
    )
