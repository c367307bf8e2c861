"""Normalisation, caption anatomy, term patterns, language id and signals: the engine's parts."""

from __future__ import annotations

import pytest

from compliance.nlp import (
    PatternError,
    TermMatcher,
    anatomy,
    compile_term,
    detect_language,
    validate_pattern,
)
from compliance.normalize import normalize
from compliance.packs import load_packs
from compliance.signals import affiliate_links, promo_codes


@pytest.mark.parametrize(
    ("caption", "folded", "kind"),
    [
        ("＃ａｄ loving", "#ad loving", "fullwidth"),
        ("#a\u200bd yes", "#ad yes", "zero_width"),
        ("#a\u200dd yes", "#ad yes", "zero_width"),
        ("#аd cyr", "#ad cyr", "homoglyph"),
        ("#a🔥d", "#ad", "emoji_inside"),
        ("𝐀𝐃: new drop", "AD: new drop", "stylised"),
    ],
)
def test_evasions_are_folded_and_reported(caption, folded, kind):
    n = normalize(caption)
    assert n.text == folded
    assert kind in n.evasions_in(0, 3)
    start, end = n.to_original(0, 3)
    assert caption[start:end].replace("\u200b", "").replace("\u200d", "") != ""
    assert start == 0


@pytest.mark.parametrize(
    "caption",
    ["Привет мир #ад", "👩‍💻 coding all night", "emoji 😍️ ok", "#black-friday deals", "Ελλάδα 🇬🇷"],
)
def test_ordinary_text_is_left_alone(caption):
    n = normalize(caption)
    assert n.text == caption
    assert n.evasions == ()


def test_spans_map_back_through_removed_characters():
    caption = "x\u200by #a\u200bd"
    n = normalize(caption)
    i = n.text.index("#ad")
    assert n.to_original(i, i + 3) == (4, 8)


def test_anatomy_tags_runs_links_and_emails():
    text = "Loving it https://x.com/#ad #a #b, love#c ✨ #d\nhi #e from@brand me@mail.com @ok."
    a = anatomy(text)
    assert [t.text for t in a.hashtags] == ["#a", "#b", "#d", "#e"]
    assert [t.text for t in a.mentions] == ["@brand", "@ok"]
    assert a.run_length(a.hashtags[0]) == 2
    assert a.run_length(a.hashtags[2]) == 1  # 'love#c' is a word, it breaks the run
    assert a.in_url(text.index("#ad"))


def test_hashtag_run_spans_emoji_and_punctuation():
    a = anatomy("text #a ✨ #b • #c, #d")
    assert {a.run_length(t) for t in a.hashtags} == {4}


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{brnd} partner", "unknown placeholder"),
        ("#ad*x*y", "only allowed once"),
        ("{any}", "at least one literal"),
        ("a:b|c d", "single tokens"),
    ],
)
def test_bad_patterns_are_rejected(pattern, message):
    with pytest.raises(PatternError, match=message):
        compile_term("k", pattern, "en") if "|" in pattern else validate_pattern(pattern)


def test_term_matcher_uses_tokens_not_substrings():
    terms = [
        compile_term("ad", "#ad", "en"),
        compile_term("colon", "^ad :", "en"),
        compile_term("bp", "#*partner", "en"),
        compile_term("thx", "thanks {brand} for {any:0-3} free", "en"),
    ]
    m = TermMatcher(terms, "en")
    keys = lambda t: [x.key for x in m.find(t)]  # noqa: E731
    assert keys("Ad: loving this #adventure") == ["colon"]
    assert keys("ad hoc plans, AD 79, add to cart, #adidas") == []
    assert keys("loving it #ad🔥 #glowlabpartner") == ["ad", "bp"]
    # Emoji glued in front, with variation selectors and joiners: "❤️#ad".
    assert keys("loving it ❤️#ad 🏃‍♀️#glowlabpartner love🔥#ad") == ["ad", "bp", "ad"]
    assert keys("thanks @glowlab for the free serum!!") == ["thx"]
    assert keys("so good\nAd: new line start") == ["colon"]
    assert keys("this is bad: no") == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Ich liebe dieses Serum, es ist einfach toll und ich benutze es jeden Tag", "de"),
        ("Me encanta este sérum, lo uso cada mañana y es increíble", "es"),
        ("J'adore ce sérum, je l'utilise tous les jours et c'est génial", "fr"),
        ("Adoro questo siero, lo uso ogni giorno ed è fantastico", "it"),
        ("Loving my new serum, I use it every morning and it is amazing", "en"),
        ("Eu amo este sérum, uso todos os dias e é incrível", "pt"),
    ],
)
def test_language_detection(text, lang):
    assert detect_language(text)[0] == lang


def test_language_detection_ignores_tags_and_declines_short_text():
    assert detect_language("#ad #fyp #skincare @glowlab")[0] is None


def test_promo_codes():
    assert [s.text for s in promo_codes("Use code MAYA15 for 15% off")] == ["MAYA15"]
    assert [s.text for s in promo_codes("use code sunshine at checkout")] == ["sunshine"]
    assert promo_codes("the dress code is black tie; code of conduct") == []
    assert [s.text for s in promo_codes("Rabattcode LISA10 gilt bis Sonntag")] == ["LISA10"]


@pytest.mark.parametrize(
    "caption",
    [
        "long day at the beach, then: gutschein code LISA10 gilt bis Sonntag",
        "so good!! discount code: SAVE20 and kortingscode ANNA15 and código de descuento ANA15",
        "cup of coffee first \u2615 then Coupon BOOK10, voucher SAVE20, Promo: GLOW20",
        "promocode ABC12 codecode XYZ99 code code code CODE12 coupon code SAVE10",
        "ＣＯＤＥ MAYA15 \u0130stanbul code MAYA20",  # lower-casing changes the length
        "no offer here at all, just a cupcake",
        "",
    ],
)
def test_promo_regex_tried_near_code_words_finds_every_code(caption):
    # Tried only where a match can start: the same matches as a scan of the caption.
    from compliance.signals import PROMO_CODE_RE, _promo_matches

    full = [m.span() for m in PROMO_CODE_RE.finditer(caption)]
    assert full == [m.span() for m in _promo_matches(caption, caption.lower())]


def test_affiliate_links():
    text = "shop: https://amzn.to/3xYz and https://shop.example.com/p?tag=maya-20 and https://example.com/about"
    sig = affiliate_links(text, anatomy(text))
    assert [s.text for s in sig] == [
        "https://amzn.to/3xYz",
        "https://shop.example.com/p?tag=maya-20",
    ]


def _captions_of_every_case() -> list[str]:
    """Every devset caption and rule example: the texts the gate must not change."""
    from pathlib import Path

    import yaml

    captions = []
    for path in sorted((Path(__file__).parent / "devset").glob("*.yaml")):
        captions += [c["caption"] for c in yaml.safe_load(path.read_text(encoding="utf-8"))]
    for pack in load_packs():
        for rule in pack.rules:
            captions += [e.caption for e in (*rule.fail, *rule.passes)]
    return captions


def test_window_gate_never_changes_what_is_found():
    # The gate skips windows where a term could not match (a needed word is
    # missing, a line-opening term not at a line start). Run every pack's matcher
    # with and without it over every case: the matches must be the same, and the
    # gate must actually skip some windows, or it is not doing its job.
    captions = [normalize(c).text for c in _captions_of_every_case()]
    skipped = 0
    for pack in load_packs():
        lang = pack.default_language
        terms = [compile_term(t.key, t.pattern, lang) for t in pack.terms]
        gated = TermMatcher(terms, lang)
        ungated = TermMatcher(terms, lang, gate=False)
        for text in captions:
            assert gated.find(text) == ungated.find(text), (pack.id, text)
            skipped += len(ungated.windows(text)) - len(gated.windows(text))
    assert skipped > 100


def test_ordinary_words_in_brand_tag_shapes_are_not_anchors():
    m = TermMatcher([compile_term("bp", "#*partner", "en")], "en")
    assert m.windows("#gympartner #lifepartner #mypartner #xpartner") == []
    assert m.find("#glowlabpartner") == [("bp", 0, 15)]


def test_social_tag_check_agrees_with_its_regex():
    # _social_tag looks at the phrase's last letters before trying the regex: the same
    # answers as the regex alone, whatever stands before the tag.
    from compliance.signals import _SOCIAL_REACH, _SOCIAL_TAG, _social_tag

    phrases = ["📸", "photo", "PHOTOS", "photography by", "Pics By", "shot  by", "credit", "ph"]
    phrases += ["graph", "me & ", "me and", "Happy Birthday", "bday", "congrats", "love you"]
    phrases += ["miss you", "CC", "with", "from", "to", "x", "", "caſ", "creditſ", "pho\u017f"]
    tails = ["", " ", ":", " - ", " – ", "::", "\n", "  :  ", "--", ": -"]
    for prefix in ("", "lol ", "a" * 40, "ok:"):
        for phrase in phrases:
            for tail in tails:
                caption = f"{prefix}{phrase}{tail}@brand"
                at = caption.index("@brand")
                expected = _SOCIAL_TAG.search(caption, max(0, at - _SOCIAL_REACH), at) is not None
                assert _social_tag(caption, at) is expected, repr(caption)
