"""The one campaign builder: every way in (records, rule examples, CLI flags) normalises alike."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.examples import campaign_from
from compliance.inputs import post_from_record
from compliance.model import RELATIONSHIPS, Campaign, CampaignError, campaign_from_mapping
from compliance.store.observed import campaign_fingerprint, sha256_text

RAW = {
    "brand": " GlowLab ",
    "handles": ["glowlab", "@GlowLabUK", " "],
    "hashtags": "glowlabpartner",
    "promo_codes": ["MAYA15"],
    "domains": ["GlowLab.com"],
    "relationship": "Free product",
}
EXPECTED = Campaign(
    brand="GlowLab",
    handles=("@glowlab", "@GlowLabUK"),
    hashtags=("#glowlabpartner",),
    promo_codes=("MAYA15",),
    domains=("glowlab.com",),
    relationship="free_product",
)


def test_builder_normalises_prefixes_case_and_blanks():
    assert campaign_from_mapping(RAW) == EXPECTED


def test_records_and_rule_examples_use_the_same_builder():
    post = post_from_record({"caption": "x", "campaign": RAW}, where="p.jsonl:1")
    assert post.campaign == EXPECTED
    assert campaign_from(RAW) == EXPECTED


def test_cli_flags_use_the_same_builder():
    r = CliRunner().invoke(
        main,
        [
            *("check", "--text", "love @glowlab", "--handle", "glowlab"),
            *("--hashtag", "glowlabpartner", "--relationship", "contest"),
            *("--domain", "GlowLab.com", "--format", "json"),
        ],
    )
    assert r.exit_code in (0, 1), r.output
    signals = json.loads(r.output)[0]["sponsored"]["signals"]
    assert {"campaign_handle", "campaign_relationship"} <= {s["kind"] for s in signals}
    assert any(s["text"] == "campaign relationship: contest" for s in signals)


def test_contest_is_a_relationship_in_records_and_flags():
    assert "contest" in RELATIONSHIPS
    post = post_from_record(
        {"caption": "my #guacdance entry", "campaign": {"relationship": "contest"}}, where="x"
    )
    assert post.campaign is not None and post.campaign.relationship == "contest"


def test_config_fields_dates_jurisdictions_name_and_hashable():
    c = campaign_from_mapping(
        {
            "brand": "Chipotle",
            "starts": date(2026, 3, 1),
            "ends": "2026-06-30",
            "jurisdictions": ["us", "UK"],
            "name": "chipotle-guac",
        }
    )
    assert (c.starts, c.ends) == (date(2026, 3, 1), date(2026, 6, 30))
    assert c.jurisdictions == ("US", "GB")
    assert c.name == "chipotle-guac"
    assert {c: 1}[c] == 1  # frozen and hashable


@pytest.mark.parametrize(
    "data, key, fragment",
    [
        ({"brnd": "x"}, None, "did you mean 'brand'?"),
        ({"brand": 5}, "brand", "expected a string, got 5"),
        ({"relationship": "sponsor"}, "relationship", "unknown relationship 'sponsor'"),
        ({"handles": ["@a", 2]}, "handles", "item 2 is not a string"),
        ({"starts": "March"}, "starts", "expected a date"),
        ({"starts": "2026-06-01", "ends": "2026-05-01"}, "ends", "is before starts"),
        ({"jurisdictions": ["USA"]}, "jurisdictions", "2-letter country codes"),
    ],
)
def test_builder_errors_name_the_key(data, key, fragment):
    with pytest.raises(CampaignError) as info:
        campaign_from_mapping(data)
    assert info.value.key == key
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"field 'campaign{'.' + key if key else ''}'")


def test_fingerprint_of_a_campaign_without_the_new_fields_is_unchanged():
    """Campaign rows recorded before starts/ends/jurisdictions/name existed keep their key."""
    old_fields = ("brand", "aliases", "handles", "hashtags", "promo_codes", "domains")
    old = {k: v for k, v in asdict(EXPECTED).items() if k in (*old_fields, "relationship")}
    assert campaign_fingerprint(EXPECTED) == sha256_text(
        json.dumps(old, sort_keys=True, ensure_ascii=False)
    )
    dated = campaign_from_mapping({**RAW, "starts": "2026-03-01"})
    assert campaign_fingerprint(dated) != campaign_fingerprint(EXPECTED)
