"""The routing tree, with Alertmanager's semantics exactly.

An alert enters at the root (which matches everything). At each node the children
are tried in order; the first child that matches takes the alert, and the search
stops there unless that child says ``continue: true``, in which case later
siblings are tried too. A matching child hands the alert to its own children the
same way; a node whose children took nothing keeps the alert itself. So the
parent's receiver gets only what no child matched. Options (receiver, group_by,
the three intervals) were inherited from the parent when the config was parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from compliance.alerts.config import Route
from compliance.alerts.matchers import matches_all


def match(route: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes (leaves of the matching path) that take an alert with these labels."""
    if not matches_all(route.matchers, labels):
        return []
    taken: list[Route] = []
    for child in route.routes:
        got = match(child, labels)
        if got:
            taken.extend(got)
            if not child.continue_:
                break
    return taken or [route]


@dataclass(frozen=True)
class Step:
    """One node visited while routing, for ``alerts routes test``: why it matched or not."""

    route: Route
    depth: int
    matched: bool
    took: bool


def trace(route: Route, labels: Mapping[str, str], depth: int = 0) -> list[Step]:
    """Every node the router looks at, in order, with whether it matched and took the alert."""
    if not matches_all(route.matchers, labels):
        return [Step(route, depth, False, False)]
    steps: list[Step] = []
    own = Step(route, depth, True, False)
    steps.append(own)
    any_child = False
    for child in route.routes:
        sub = trace(child, labels, depth + 1)
        steps.extend(sub)
        if sub[0].matched:
            any_child = True
            if not child.continue_:
                break
    if not any_child:
        steps[0] = Step(route, depth, True, True)
    return steps


def receivers(route: Route, labels: Mapping[str, str]) -> list[Route]:
    """:func:`match`, keeping one route per receiver (the first): a receiver reached by two
    ``continue`` branches gets the alert once."""
    seen: set[str] = set()
    out = []
    for leaf in match(route, labels):
        if leaf.receiver not in seen:
            seen.add(leaf.receiver)
            out.append(leaf)
    return out
