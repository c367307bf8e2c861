"""Turn a rule's examples into posts and say whether they behave as the rule claims.

Used by the test-suite (every example of every rule runs) and by
``compliance rules test``, so a compliance officer who edits a rule file can see at
once whether its examples still hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from compliance.engine import check_with_pack
from compliance.model import Campaign, Post, Verdict, campaign_from_mapping
from compliance.packs import Example, Pack, Rule


def campaign_from(data: Mapping[str, Any] | None) -> Campaign | None:
    """A Campaign from a plain mapping (rule examples, test cases), via the one builder;
    None when it names nothing."""
    if not data:
        return None
    campaign = campaign_from_mapping(data)
    return None if campaign.is_empty else campaign


def example_post(example: Example, pack: Pack) -> Post:
    """The post an example describes, under the pack's first jurisdiction."""
    f = example.fields
    return Post(
        caption=example.caption,
        platform=f.get("platform", "other"),
        paid_partnership=f.get("paid_partnership"),
        is_video=f.get("is_video"),
        transcript=f.get("transcript"),
        language=f.get("language"),
        jurisdiction=pack.jurisdictions[0],
        campaign=campaign_from(f.get("campaign")),
    )


@dataclass(frozen=True)
class ExampleResult:
    """One example run: did the rule fire as the example says it should?"""

    rule: Rule
    example: Example
    expect_fire: bool
    verdict: Verdict

    @property
    def fired(self) -> bool:
        """True when the rule produced a finding for the example."""
        return any(f.rule == self.rule.id for f in self.verdict.findings)

    @property
    def ok(self) -> bool:
        """True when the rule behaved as the example claims."""
        return self.fired == self.expect_fire


def run_examples(pack: Pack, rule: Rule) -> Iterator[ExampleResult]:
    """Run every example of ``rule``."""
    for expect, examples in ((True, rule.fail), (False, rule.passes)):
        for example in examples:
            verdict = check_with_pack(example_post(example, pack), pack)
            yield ExampleResult(rule, example, expect, verdict)
