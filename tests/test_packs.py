"""Rule packs load strictly: every mistake is an error naming the file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compliance.packs import PackError, load_pack, load_packs

FTC = Path(__file__).resolve().parents[1] / "rules" / "ftc"


@pytest.fixture
def pack_dir(tmp_path):
    shutil.copytree(FTC, tmp_path / "ftc")
    return tmp_path / "ftc"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def error_of(directory: Path) -> str:
    with pytest.raises(PackError) as exc:
        load_pack(directory)
    return str(exc.value)


def test_shipped_packs_load():
    packs = load_packs()
    assert packs.for_jurisdiction("US").id == "FTC"
    assert packs.rule("ftc.d101").finding == "missing_disclosure"


def test_unknown_key_names_file_and_line(pack_dir):
    edit(pack_dir / "below-fold.yaml", "scope: fold", "scope: fold\nscop: fold")
    assert (
        error_of(pack_dir)
        == f"{pack_dir / 'below-fold.yaml'}:6: unknown key 'scop' (allowed: "
        + error_of(pack_dir).split("(allowed: ")[1]
    )


def test_bad_value_names_the_field(pack_dir):
    edit(pack_dir / "below-fold.yaml", "scope: fold", "scope: fould")
    assert "below-fold.yaml:5: scope: 'fould' is not one of fold, hashtag_run" in error_of(pack_dir)


def test_yaml_syntax_error_has_a_line(pack_dir):
    edit(pack_dir / "below-fold.yaml", "level: violation", "level: [violation")
    assert "below-fold.yaml:" in error_of(pack_dir) and "invalid YAML" in error_of(pack_dir)


def test_rule_without_examples_is_refused(pack_dir):
    path = pack_dir / "below-fold.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text[: text.index("examples:")] + "examples: {fail: [], pass: []}\n", encoding="utf-8"
    )
    assert "at least one failing and one passing example" in error_of(pack_dir)


def test_finding_must_fit_kind(pack_dir):
    edit(pack_dir / "below-fold.yaml", "finding: below_fold", "finding: buried_in_hashtags")
    assert "scope 'fold' reports 'below_fold', not 'buried_in_hashtags'" in error_of(pack_dir)


def test_bad_term_pattern_names_the_vocab_line(pack_dir):
    vocab = pack_dir / "vocab" / "en.yaml"
    edit(vocab, '- {term: "#ads", clarity: clear}', '- {term: "{brnd} ads", clarity: clear}')
    line = (
        vocab.read_text(encoding="utf-8")
        .splitlines()
        .index('- {term: "{brnd} ads", clarity: clear}')
        + 1
    )
    assert f"en.yaml:{line}: term '{{brnd}} ads': unknown placeholder" in error_of(pack_dir)


def test_ambiguous_term_needs_a_suggestion(pack_dir):
    vocab = pack_dir / "vocab" / "en.yaml"
    edit(
        vocab,
        '- {term: "#sp", clarity: ambiguous, suggest: "#ad"}',
        '- {term: "#sp", clarity: ambiguous}',
    )
    assert "needs 'suggest'" in error_of(pack_dir)


def test_duplicate_code_is_refused(pack_dir):
    edit(pack_dir / "below-fold.yaml", "code: P301", "code: P302")
    assert "code P302 is already used" in error_of(pack_dir)


def test_name_must_match_file(pack_dir):
    edit(pack_dir / "below-fold.yaml", "name: below-fold", "name: below-the-fold")
    assert "must match the file name" in error_of(pack_dir)


def test_reloaded_packs_use_their_own_vocabulary(tmp_path):
    """A daemon reloads its packs; the engine's matcher cache must never hand a new pack the
    compiled vocabulary of a freed one (ids are recycled)."""
    import gc

    from compliance.engine import _MATCHERS, check
    from compliance.model import Campaign, Post

    root = tmp_path / "rules"
    shutil.copytree(FTC, root / "ftc")
    vocab = root / "ftc" / "vocab" / "en.yaml"
    original = vocab.read_text(encoding="utf-8")
    post = Post(
        caption="#glowpaidpost loving this serum",
        campaign=Campaign(handles=("@glowlab",), relationship="paid"),
    )

    def disclosed() -> bool:
        verdict = check(post, load_packs(root, reload=True))
        return any(d.text == "#glowpaidpost" for d in verdict.disclosures)

    before = len(_MATCHERS)
    for round_ in range(4):
        with_term = round_ % 2 == 1
        vocab.write_text(
            original + ('- {term: "#glowpaidpost", clarity: clear}\n' if with_term else ""),
            encoding="utf-8",
        )
        assert disclosed() is with_term, f"round {round_}"
        gc.collect()
    # Freed packs take their matchers with them, so a recycled id finds nothing.
    assert len(_MATCHERS) <= before + 1
    packs = load_packs(root, reload=True)
    check(post, packs)
    key = id(packs.for_jurisdiction("US"))
    assert _MATCHERS.holds(key)
    del packs
    load_packs(root, reload=True)  # the process-wide cache lets go of the old packs
    gc.collect()
    assert not _MATCHERS.holds(key)


def test_load_packs_is_cached_until_reload(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(FTC, root / "ftc")
    first = load_packs(root)
    assert load_packs(root) is first
    assert load_packs(root, reload=True) is not first


def test_space_limited_names_known_platforms(pack_dir):
    edit(pack_dir / "pack.yaml", "space_limited: [twitter, bluesky]", "space_limited: [twiter]")
    assert "pack.yaml:" in error_of(pack_dir) and "'twiter' is not one of" in error_of(pack_dir)


def test_clear_on_only_for_clear_terms(pack_dir):
    vocab = pack_dir / "vocab" / "en.yaml"
    edit(
        vocab,
        '- {term: "#sp", clarity: ambiguous, suggest: "#ad"}',
        '- {term: "#sp", clarity: ambiguous, clear_on: space_limited, suggest: "#ad"}',
    )
    assert "clear_on: only a clear term" in error_of(pack_dir)


def test_clear_on_value_is_checked(pack_dir):
    vocab = pack_dir / "vocab" / "en.yaml"
    edit(
        vocab,
        '- {term: "#*partner", clarity: clear, clear_on: space_limited,',
        '- {term: "#*partner", clarity: clear, clear_on: short_platforms,',
    )
    assert "'short_platforms' is not one of space_limited" in error_of(pack_dir)


def test_space_limited_platforms_are_loaded():
    pack = load_packs().for_jurisdiction("US")
    assert pack.space_limited == ("twitter", "bluesky")
    partner = next(t for t in pack.terms if t.pattern == "#*partner")
    assert partner.clear_on == "space_limited"
