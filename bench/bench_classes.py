"""Accuracy of the engine per issue-9 class and per platform, and a keyword baseline.

Prints, for the checkout's own sources (accuracy, not speed, is measured here):

1. the labelled real-post genres of ``tests/devset/platforms.yaml`` (each case has a
   ``class``): per class and per platform, how many cases get the expected verdict
   and the exact expected set of violation codes; the rest of the development set
   per platform for context;
2. instasynth (``../shared/corpora/instasynth``, 1,999 Instagram captions labelled
   sponsored or not): whether the engine sees the sponsorship;
3. the generated corpus (``bench/corpus.py``): the same, per platform and per kind
   of connection (paid, gifted, affiliate);
4. YouTube affiliate disclosures: the engine against a plain keyword search
   (``affiliate|commission|amazon associate|paid link|sponsor|#ad``) on the labelled
   descriptions of ``bench/data/youtube_affiliate.yaml``, the YouTube affiliate cases
   of the development set (a disclosure made, clear or ambiguous, counts), and the
   generated corpus's YouTube affiliate posts (whose labels mark clear ones only).

The labelled cases are the ones the rules were written against, so their figures
show coverage, not held-out accuracy; instasynth and the generated corpus were not
used to write the rules.

    python bench/bench_classes.py            # ~1 min: 20,000 generated posts
    python bench/bench_classes.py --quick    # 5,000 generated posts
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# Accuracy of the sources in this checkout, not of an installed copy.
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(BENCH))

import corpus  # noqa: E402
from _common import INSTASYNTH, read_instasynth  # noqa: E402

from compliance import Level, Post, Verdict, check, load_packs  # noqa: E402
from compliance.examples import campaign_from  # noqa: E402
from compliance.model import Campaign  # noqa: E402

DEVSET = REPO / "tests" / "devset"
YOUTUBE_SET = BENCH / "data" / "youtube_affiliate.yaml"
# The plain keyword search a reviewer would start with.
KEYWORDS = re.compile(r"(?i)affiliate|commission|amazon associate|paid link|sponsor|#ad\b")
SPONSORED = ("violation", "compliant")


def _post(case: dict[str, Any]) -> Post:
    campaign = case.get("campaign")
    return Post(
        caption=case["caption"],
        platform=case.get("platform", "other"),
        jurisdiction=case.get("jurisdiction", "US"),
        author=case.get("author"),
        paid_partnership=case.get("paid_partnership"),
        is_video=case.get("is_video"),
        transcript=case.get("transcript"),
        language=case.get("language"),
        campaign=campaign if isinstance(campaign, Campaign) else campaign_from(campaign),
    )


def _codes(verdict: Verdict) -> list[str]:
    return sorted({f.code for f in verdict.findings if f.level is Level.VIOLATION})


def _pct(hits: int, n: int) -> str:
    return f"{hits:>4}/{n:<4} {100 * hits / n:5.1f}%" if n else "   -/0        -"


def _table(title: str, rows: dict[str, tuple[int, int, int]], heads: tuple[str, str]) -> None:
    print(f"  {title:<18} {'n':>4}  {heads[0]:<16} {heads[1]:<16}")
    for key in sorted(rows):
        n, a, b = rows[key]
        print(f"  {key:<18} {n:>4}  {_pct(a, n):<16} {_pct(b, n):<16}")


def devset_section(packs: Any) -> list[tuple[dict[str, Any], Verdict]]:
    """Per class and per platform accuracy on the labelled genres; returns the results."""
    print("== labelled cases (tests/devset/platforms.yaml): expected verdict / exact codes")
    by_class: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_platform: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    rest: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    results = []
    for path in sorted(DEVSET.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            verdict = check(_post(case), packs)
            expect = case["expect"]
            ok_verdict = verdict.verdict.value == expect["verdict"]
            ok_exact = ok_verdict and _codes(verdict) == sorted(set(expect["codes"]))
            platform = case.get("platform", "other")
            tables = [rest[platform]]
            if path.name == "platforms.yaml":
                tables = [by_class[case.get("class", "?")], by_platform[platform]]
                results.append((case, verdict))
            for t in tables:
                t[0] += 1
                t[1] += ok_verdict
                t[2] += ok_exact
    heads = ("verdict", "verdict+codes")
    _table("class", {k: tuple(v) for k, v in by_class.items()}, heads)  # type: ignore[misc]
    print()
    _table("platform", {k: tuple(v) for k, v in by_platform.items()}, heads)  # type: ignore[misc]
    print("\n  the rest of the development set (other files), per platform:")
    _table("platform", {k: tuple(v) for k, v in rest.items()}, heads)  # type: ignore[misc]
    print()
    return results


def _sponsorship_rows(
    items: Iterable[tuple[str, bool, str]],
) -> dict[str, tuple[int, int, int]]:
    """key -> (n, right with needs_review counted as flagged, right strictly)."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, label, verdict in items:
        flagged = verdict != "not_sponsored"
        strict = verdict in SPONSORED
        row = rows[key]
        row[0] += 1
        row[1] += flagged == label
        row[2] += strict == label
    return {k: (v[0], v[1], v[2]) for k, v in rows.items()}


def instasynth_section(packs: Any) -> None:
    """Sponsorship detection on instasynth."""
    if not INSTASYNTH.exists():
        print(f"== instasynth: not found at {INSTASYNTH}; skipped\n")
        return
    rows = read_instasynth()
    items = []
    for caption, label in rows:
        if label is None:
            continue
        v = check(Post(caption, platform="instagram"), packs).verdict.value
        items.append(("sponsored" if label else "not sponsored", label, v))
        items.append(("all (instagram)", label, v))
    print(f"== instasynth ({len(rows):,} Instagram captions): is the sponsorship seen?")
    print("  (review = needs_review counted as flagged; strict = only violation/compliant)")
    _table("label", _sponsorship_rows(items), ("right (review)", "right (strict)"))
    print()


def generated_section(packs: Any, records: Sequence[dict[str, Any]]) -> list[Verdict]:
    """Sponsorship detection on the generated corpus, per platform and kind."""
    verdicts = [check(_post(r), packs) for r in records]
    by_platform = []
    by_kind = []
    for r, v in zip(records, verdicts, strict=True):
        label = bool(r.get("sponsored"))
        by_platform.append((r["platform"], label, v.verdict.value))
        by_kind.append((r.get("_kind", "none"), label, v.verdict.value))
    print(f"== generated corpus ({len(records):,} posts, seed 0): is the sponsorship seen?")
    _table("platform", _sponsorship_rows(by_platform), ("right (review)", "right (strict)"))
    print()
    _table("kind", _sponsorship_rows(by_kind), ("right (review)", "right (strict)"))
    disclosed = [
        (r["_disclosure"][0], bool(v.disclosures))
        for r, v in zip(records, verdicts, strict=True)
        if r.get("_disclosure")
    ]
    found = Counter(pos for pos, seen in disclosed if seen)
    total = Counter(pos for pos, _ in disclosed)
    print("\n  generated disclosures found by the engine, by position:")
    for pos in sorted(total):
        print(f"  {pos:<18} {_pct(found[pos], total[pos])}")
    print()
    return verdicts


def _engine_disclosed(verdict: Verdict, clear_only: bool) -> bool:
    return any(d.clarity == "clear" or not clear_only for d in verdict.disclosures)


def _compare(
    name: str, items: Sequence[tuple[str, bool, Callable[[], Verdict]]], clear_only: bool = False
) -> None:
    n = len(items)
    kw = eng = 0
    misses: list[str] = []
    for caption, label, run in items:
        k = bool(KEYWORDS.search(caption))
        e = _engine_disclosed(run(), clear_only)
        kw += k == label
        eng += e == label
        if e != label:
            misses.append(caption.replace("\n", " ⏎ ")[:90])
    print(f"  {name:<44} n={n:<4} keyword {_pct(kw, n)}   engine {_pct(eng, n)}")
    for m in misses[:5]:
        print(f"      engine wrong: {m!r}")


def youtube_section(
    packs: Any,
    labelled: Sequence[tuple[dict[str, Any], Verdict]],
    records: Sequence[dict[str, Any]],
    verdicts: Sequence[Verdict],
) -> None:
    """Does a YouTube description disclose its affiliate links? Engine vs keywords."""
    print("== YouTube affiliate disclosures: engine vs a plain keyword search")
    print(f"  keywords: {KEYWORDS.pattern}")
    data = yaml.safe_load(YOUTUBE_SET.read_text(encoding="utf-8"))
    _compare(
        "bench/data/youtube_affiliate.yaml",
        [(d["caption"], bool(d["disclosed"]), _bind(packs, d["caption"], "youtube")) for d in data],
    )
    dev = [
        (case["caption"], _dev_disclosed(case), _const(v))
        for case, v in labelled
        if case.get("platform") == "youtube" and case.get("class") in ("affiliate", "youtube")
    ]
    _compare("devset platforms.yaml (YouTube, affiliate/youtube)", dev)
    gen = [
        (r["caption"], bool(r.get("_disclosure")), _const(v))
        for r, v in zip(records, verdicts, strict=True)
        if r["platform"] == "youtube" and r.get("_kind") == "affiliate"
    ]
    # The generator marks only clear disclosures (its #sp / #collab are "undisclosed"),
    # so the engine is scored on clear ones there.
    _compare("generated corpus (YouTube affiliate; clear only)", gen, clear_only=True)
    print()


def _dev_disclosed(case: dict[str, Any]) -> bool:
    """A devset case discloses when it is sponsored and its codes do not say 'missing'."""
    expect = case["expect"]
    return expect["verdict"] in SPONSORED and "missing_disclosure" not in expect["codes"]


def _bind(packs: Any, caption: str, platform: str) -> Callable[[], Verdict]:
    return lambda: check(Post(caption, platform=platform), packs)


def _const(verdict: Verdict) -> Callable[[], Verdict]:
    return lambda: verdict


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 generated posts")
    parser.add_argument("-n", type=int, default=None, help="generated posts (default 20,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n = args.n or (5_000 if args.quick else 20_000)
    import compliance

    print(f"compliance: {Path(compliance.__file__).parent}")
    packs = load_packs()
    labelled = devset_section(packs)
    instasynth_section(packs)
    records = corpus.generate(n, seed=args.seed)
    verdicts = generated_section(packs, records)
    youtube_section(packs, labelled, records, verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
