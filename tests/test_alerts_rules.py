"""Routing, grouping, inhibition, silences and the notification log, table-driven in the
style of Alertmanager's dispatch/route_test.go and inhibit_test.go."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alerts_helpers import config_from

from compliance.alerts import routing
from compliance.alerts.config import InhibitRule
from compliance.alerts.dedup import Logged, decide
from compliance.alerts.grouping import first_due, group_key
from compliance.alerts.inhibit import inhibited_by
from compliance.alerts.matchers import Matcher, MatcherError
from compliance.alerts.silences import Silence, silenced_by

TREE = """
alerts:
  receivers:
    default: {webhook: {url_env: A}}
    legal: {webhook: {url_env: B}}
    tickets: {webhook: {url_env: C}}
    glow: {webhook: {url_env: D}}
    glow-tiktok: {webhook: {url_env: E}}
    audit: {webhook: {url_env: F}}
  route:
    receiver: default
    group_by: [creator]
    routes:
      - match: {jurisdiction: GB}
        receiver: legal
        continue: true
      - match: {event: [monitor_failing, monitor_recovered]}
        receiver: tickets
        group_by: [monitor]
      - match: {brand: GlowLab}
        receiver: glow
        group_wait: 1m
        routes:
          - match: {platform: tiktok}
            receiver: glow-tiktok
      - match_re: {rule: 'FTC\\..*'}
        receiver: audit
        repeat_interval: 1d
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return config_from(tmp_path_factory.mktemp("routes"), TREE).route


ROUTES = [
    # (labels, [(route id, receiver)])
    ({"brand": "Other", "jurisdiction": "US", "rule": "ASA.X1"}, [("0", "default")]),
    # The parent's receiver gets only what no child matched.
    ({"rule": "FTC.C201"}, [("0.3", "audit")]),
    # continue: GB goes to legal AND on to the next matching sibling.
    ({"jurisdiction": "GB", "rule": "FTC.C201"}, [("0.0", "legal"), ("0.3", "audit")]),
    ({"jurisdiction": "GB", "rule": "ASA.D101"}, [("0.0", "legal")]),
    # No continue on the brand route: the first match stops the search.
    ({"brand": "glowlab", "rule": "FTC.C201", "platform": "instagram"}, [("0.2", "glow")]),
    ({"brand": "GlowLab", "platform": "tiktok"}, [("0.2.0", "glow-tiktok")]),
    ({"event": "monitor_failing", "brand": "GlowLab"}, [("0.1", "tickets")]),
    ({"event": "monitor_recovered"}, [("0.1", "tickets")]),
]


@pytest.mark.parametrize(("labels", "expected"), ROUTES)
def test_routing_tree(tree, labels, expected):
    assert [(r.id, r.receiver) for r in routing.match(tree, labels)] == expected


def test_children_inherit_and_override(tree):
    glow, tiktok = tree.routes[2], tree.routes[2].routes[0]
    assert glow.group_wait == timedelta(minutes=1) and tiktok.group_wait == timedelta(minutes=1)
    assert tiktok.group_by == ("creator",) and tree.routes[1].group_by == ("monitor",)
    assert tree.routes[3].repeat_interval == timedelta(days=1)
    assert tree.routes[3].group_interval == tree.group_interval


def test_trace_says_which_routes_matched_and_took_it(tree):
    steps = routing.trace(tree, {"jurisdiction": "GB", "rule": "FTC.C201"})
    seen = [(s.route.id, s.matched, s.took) for s in steps]
    assert ("0.0", True, True) in seen and ("0.3", True, True) in seen
    assert ("0", True, False) in seen and ("0.2", False, False) in seen


MATCHERS = [
    ("creator=@maya", {"creator": "@maya"}, True),
    ("creator=@MAYA", {"creator": "@maya"}, True),
    ("creator!=@maya", {"creator": "@maya"}, False),
    ("creator!=@maya", {}, True),
    ("code=~below.*", {"code": "below_fold"}, True),
    ("code=~fold", {"code": "below_fold"}, False),  # anchored, as in Alertmanager
    ("code!~below.*", {"code": "missing_disclosure"}, True),
    ("brand=", {}, True),  # a missing label is the empty value
    ("brand='Glow Lab'", {"brand": "glow lab"}, True),
]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCHERS)
def test_matchers(text, labels, expected):
    assert Matcher.parse(text).matches(labels) is expected


@pytest.mark.parametrize("bad", ["colour=red", "creator", "code=~(", "event=opend"])
def test_bad_matchers(bad):
    with pytest.raises(MatcherError):
        Matcher.parse(bad)


def test_group_keys_and_timing(tree):
    leaf = tree.routes[3]
    a = group_key(leaf, {"creator": "@maya", "rule": "FTC.C201"})
    b = group_key(leaf, {"creator": "@maya", "rule": "FTC.D101"})
    c = group_key(leaf, {"creator": "@ana", "rule": "FTC.C201"})
    assert a == b != c and a.startswith("0.3:")
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert first_due(leaf, t, None) == t + timedelta(seconds=30)
    assert first_due(leaf, t, t - timedelta(minutes=1)) == t + timedelta(minutes=4)
    assert first_due(leaf, t, t - timedelta(hours=1)) == t


def test_a_group_key_too_long_for_the_record_is_hashed(tree):
    leaf = tree.routes[3]
    long_a = group_key(leaf, {"creator": "@" + "m" * 600, "rule": "FTC.C201"})
    long_b = group_key(leaf, {"creator": "@" + "m" * 599 + "n", "rule": "FTC.C201"})
    assert len(long_a) <= 500 and long_a.startswith("0.3:sha256:") and long_a != long_b


RULE = InhibitRule(
    source=(Matcher.make("code", "=", "missing_disclosure"),),
    target=(Matcher.make("code", "=", ("below_fold", "buried_in_hashtags")),),
    equal=("post",),
)
INHIBIT = [
    # (target labels, sources, inhibited by)
    (
        {"code": "below_fold", "post": "tiktok:1"},
        [("v1", {"code": "missing_disclosure", "post": "tiktok:1"})],
        "v1",
    ),
    (
        {"code": "below_fold", "post": "tiktok:1"},
        [("v1", {"code": "missing_disclosure", "post": "tiktok:2"})],
        None,
    ),
    (
        {"code": "ambiguous_disclosure", "post": "tiktok:1"},
        [("v1", {"code": "missing_disclosure", "post": "tiktok:1"})],
        None,
    ),
    (
        {"code": "below_fold", "post": "tiktok:1", "event": "fixed"},
        [("v1", {"code": "missing_disclosure", "post": "tiktok:1"})],
        None,
    ),
    ({"code": "below_fold", "post": "tiktok:1"}, [], None),
    # A failing monitor mutes nothing else (no rule names it).
    ({"code": "below_fold", "post": "tiktok:1"}, [("m1", {"event": "monitor_failing"})], None),
]


@pytest.mark.parametrize(("labels", "sources", "expected"), INHIBIT)
def test_inhibition(labels, sources, expected):
    assert inhibited_by("v9", labels, sources, [RULE]) == expected


def test_an_alert_does_not_inhibit_itself():
    both = InhibitRule(
        source=(Matcher.make("code", "=", "x"),), target=(Matcher.make("code", "=", "x"),), equal=()
    )
    assert inhibited_by("v1", {"code": "x"}, [("v1", {"code": "x"})], [both]) is None


T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SILENCE = Silence(
    1,
    (Matcher.parse("creator=@maya"), Matcher.parse("code=~below.*")),
    "ana",
    "agreed",
    T0,
    T0 + timedelta(days=1),
)
SILENCES = [
    ({"creator": "@maya", "code": "below_fold"}, T0, 1),
    ({"creator": "@maya", "code": "below_fold"}, T0 - timedelta(seconds=1), None),  # not started
    (
        {"creator": "@maya", "code": "below_fold"},
        T0 + timedelta(days=1),
        None,
    ),  # expired (exclusive)
    ({"creator": "@maya", "code": "missing_disclosure"}, T0, None),  # all matchers must match
    ({"creator": "@ana", "code": "below_fold"}, T0, None),
]


@pytest.mark.parametrize(("labels", "at", "expected"), SILENCES)
def test_silences(labels, at, expected):
    hit = silenced_by(labels, [SILENCE], at)
    assert (hit.id if hit else None) == expected


DEDUP = [
    # (change key, logged, now offset, send?, reason)
    ("opened@1@t", None, 0, True, "first"),
    ("opened@1@t", Logged("opened@1@t", T0), 0, False, "already announced to this receiver"),
    ("regressed@3@t2", Logged("regressed@2@t1", T0), 0, True, "changed"),
    (
        "opened@1@t#repeat1",
        Logged("opened@1@t", T0),
        3600,
        False,
        "announced within repeat_interval",
    ),
    ("opened@1@t#repeat1", Logged("opened@1@t", T0), 4 * 3600, True, "repeat"),
]


@pytest.mark.parametrize(("key", "logged", "offset", "send", "reason"), DEDUP)
def test_notification_log_decisions(key, logged, offset, send, reason):
    got = decide(
        key, logged, now=T0 + timedelta(seconds=offset), repeat_interval=timedelta(hours=4)
    )
    assert got == (send, reason)
