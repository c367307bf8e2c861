"""Engine behaviours found on generated and real-looking corpora, pinned down."""

from __future__ import annotations

import pytest

from compliance import Campaign, Post, check, load_packs

PACKS = load_packs()


def verdict(caption: str, **kw) -> tuple[str, list[str]]:
    v = check(Post(caption, **kw), PACKS)
    return v.verdict.value, sorted({f.code for f in v.findings if f.level.value == "violation"})


def test_label_position_disclosure_is_not_a_question():
    assert verdict("Sponsored: This bone broth slaps, no notes?") == ("compliant", [])
    assert verdict("Ad: Tag someone who needs to see this? @brothco") == ("compliant", [])
    assert verdict("Is this sponsored? Nope, I just love it") == ("not_sponsored", [])


def test_tags_chained_without_spaces_are_tags():
    v = check(
        Post("Breakfast bowl 🥣 #granola#sponsored#vegan @oatly.co", platform="instagram"), PACKS
    )
    assert [d.text for d in v.disclosures] == ["#sponsored"]
    assert v.codes == ("buried_in_hashtags",)
    # ...but a '#' inside a word is still no tag.
    assert verdict("I love#ad hoc plans") == ("not_sponsored", [])


def test_photo_credits_and_greetings_are_not_brand_tags():
    assert verdict("Golden hour 📸 @maya.shoots") == ("not_sponsored", [])
    assert verdict("Happy birthday @sam_lee 🎂 love you") == ("not_sponsored", [])
    assert verdict("Obsessed with @velora.studio's new collection")[0] == "needs_review"


def test_creator_collab_is_a_hint_not_proof():
    assert verdict("New dance collab with @jaymoves 🕺")[0] == "needs_review"


@pytest.mark.parametrize(
    ("caption", "kind"),
    [
        ("Discovering hidden gems, brought to you by WanderWisely 🗺", "ambiguous_disclosure"),
        ("Makeup look in collaboration with @bellabeauty 💄", "ambiguous_disclosure"),
    ],
)
def test_sponsorship_idioms_are_ambiguous(caption, kind):
    assert verdict(caption) == ("violation", [kind])


def test_campaign_matching_is_case_insensitive_and_finds_codes_and_domains():
    campaign = Campaign(
        brand="Glow Lab", promo_codes=("MAYA15",), domains=("glowlab.com",), relationship="paid"
    )
    v = check(Post("use maya15 at GLOWLAB.com ✨", campaign=campaign), PACKS)
    assert {s.kind for s in v.sponsorship.signals} >= {"promo_code", "campaign_domain"}
    assert v.verdict.value == "violation"
    unrelated = check(Post("Sunday pancakes 🥞", campaign=campaign), PACKS)
    assert unrelated.verdict.value == "not_sponsored"


def test_campaign_matching_survives_text_that_changes_length_when_lowercased():
    campaign = Campaign(brand="GlowLab", promo_codes=("MAYA15",), relationship="paid")
    v = check(Post("İstanbul trip with glowlab code maya15", campaign=campaign), PACKS)
    assert [s.kind for s in v.sponsorship.signals] == [
        "campaign_brand",
        "promo_code",
        "campaign_relationship",
    ]


def test_ordinary_phrase_cancels_the_disclosure_inside_it():
    """'a track for an advertisement': the clear word is an ordinary noun there."""
    from compliance import Post, check

    plain = check(Post("This is an advertisement for @glowlab", platform="instagram"))
    music = check(Post("Great track for an advertisement @beatsbyjo", platform="instagram"))
    assert [d.text for d in plain.disclosures] == ["advertisement"]
    assert music.disclosures == ()


def test_brand_partner_tag_clarity_depends_on_platform():
    """FTC D101: 'Acme Partner' on a space-limited platform like Twitter (regulatory.md §9)."""
    from compliance import Post, check

    on_x = check(Post("#AcmePartner new shoes", platform="twitter"))
    on_ig = check(Post("#AcmePartner new shoes", platform="instagram"))
    assert [d.clarity for d in on_x.disclosures] == ["clear"]
    assert [d.clarity for d in on_ig.disclosures] == ["ambiguous"]
