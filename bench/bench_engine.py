"""Engine-alone throughput, against a warm blank-spaCy tokenizer pass measured in the same run.

For each corpus, (a) ../shared/corpora/instasynth/synthetic_captions.csv and (b) a
generated corpus of 100,000 realistic captions (``bench/corpus.py``), this measures
in one process:

* ``tokenizer``: a warm ``spacy.blank("en").tokenizer.pipe(captions)`` pass, best of 3
  (the yardstick the project's targets are stated against);
* ``regex``: a plain ``re.findall(r"#\\w+|@\\w+", c)`` scan, for reference;
* ``engine``: ``compliance.check()`` over pre-built ``Post`` objects after a warm-up
  (best of N passes on instasynth, one pass on the 100k corpus);

and prints captions/s, the engine/tokenizer ratio, memory, the verdict distribution
and how the verdicts line up with the corpus labels.

Memory: ``peak RSS`` is measured in a child process that streams the same posts
from a file through ``check()`` one at a time, so the figure is the engine's own
(imports, packs, spaCy, caches) and not this script's corpus held in memory. The
parent's own ru_maxrss is printed too. ``--tracemalloc`` adds the Python-heap
peak of an engine pass over a sample.

Targets (issue): engine >= 2x the tokenizer pass over real-looking captions (the
generated corpus; instasynth's short captions are reported, not judged); peak memory
< 300 MB. The final line says PASS or FAIL; the exit status is 0 either way
(benchmarks report, they do not gate).

    python bench/bench_engine.py            # full run (~2-3 minutes on 2 cores)
    python bench/bench_engine.py --quick    # smoke run (~20 s)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common
import corpus
from _common import INSTASYNTH, current_rss_mb, machine, maxrss_mb, peak_rss_mb, regex_rate

ENGINE_RATIO_TARGET = 2.0
PEAK_RSS_TARGET_MB = 300.0
VERDICTS = ("violation", "compliant", "needs_review", "not_sponsored")


@dataclass
class Result:
    """The measurements of one corpus."""

    name: str
    n: int
    tokenizer: float = 0.0
    regex: float = 0.0
    engine: float = 0.0
    engine_first: float = 0.0
    engine_passes: int = 0
    peak_rss_mb: float | None = None
    probe_rate: float | None = None
    traced_peak_mb: float | None = None
    verdicts: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    @property
    def ratio(self) -> float:
        return self.engine / self.tokenizer if self.tokenizer else 0.0


def _load_packs(rules: str | None) -> Any:
    from compliance import load_packs

    return load_packs(rules)


def engine_pass(posts: Sequence[Any], packs: Any) -> tuple[float, list[str]]:
    """Time one ``check()`` pass; return (seconds, verdict per post)."""
    from compliance import check

    out: list[str] = [""] * len(posts)
    t0 = time.perf_counter()
    for i, post in enumerate(posts):
        out[i] = check(post, packs).verdict.value
    return time.perf_counter() - t0, out


def measure(
    name: str,
    captions: Sequence[str],
    posts: Sequence[Any],
    packs: Any,
    *,
    warmup: Sequence[Any],
    engine_repeats: int,
    tracemalloc_sample: int,
) -> tuple[Result, list[str]]:
    """Tokenizer, regex and engine passes over one corpus, in that order.

    ``warmup`` are posts from elsewhere, checked once before timing.
    """
    res = Result(name, len(captions))
    print(f"\n== {name}: {len(captions):,} captions", flush=True)
    res.tokenizer = _common.tokenizer_rate(captions, repeats=3)
    print(f"tokenizer: {res.tokenizer:,.0f} captions/s (warm spacy.blank('en'), best of 3)")
    res.regex = regex_rate(captions, repeats=3)
    print(
        f"regex:     {res.regex:,.0f} captions/s (re.findall(r'#\\w+|@\\w+'), best of 3; "
        f"{res.regex / res.tokenizer:.1f}x tokenizer)"
    )
    verdicts: list[str] = []
    try:
        # Warm up on other posts: matchers get built and code paths run, but the
        # engine's memo of window matches does not yet hold this corpus's windows.
        engine_pass(warmup, packs)
        times: list[float] = []
        for _ in range(engine_repeats):
            seconds, verdicts = engine_pass(posts, packs)
            times.append(seconds)
        res.engine = len(posts) / min(times)
        res.engine_first = len(posts) / times[0]
        res.engine_passes = engine_repeats
        res.verdicts = Counter(verdicts)
        if engine_repeats == 1:
            how = "single pass over unseen captions"
        else:
            how = (
                f"best of {engine_repeats}; the first pass, over captions it had not seen, "
                f"ran at {res.engine_first:,.0f}/s = {res.engine_first / res.tokenizer:.2f}x"
            )
        print(
            f"engine:    {res.engine:,.0f} captions/s ({res.ratio:.2f}x tokenizer "
            f"{res.tokenizer:,.0f}/s; {how})",
            flush=True,
        )
        if tracemalloc_sample:
            sample = posts[:tracemalloc_sample]
            tracemalloc.start()
            engine_pass(sample, packs)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            res.traced_peak_mb = peak / 1024 / 1024
            print(
                f"tracemalloc: engine pass over {len(sample):,} posts peaked at "
                f"{res.traced_peak_mb * 1024:,.0f} KB of Python heap (spaCy's C allocations not included)"
            )
    except Exception as exc:  # the engine is being changed while we measure: report it
        res.error = f"{type(exc).__name__}: {exc}"
        print(f"engine:    ERROR {res.error}")
    return res, verdicts


def print_verdicts(res: Result) -> None:
    """The verdict distribution, so behaviour regressions show up next to speed."""
    total = sum(res.verdicts.values()) or 1
    parts = [
        f"{k} {res.verdicts.get(k, 0):,} ({res.verdicts.get(k, 0) / total:.0%})" for k in VERDICTS
    ]
    print("verdicts:  " + ", ".join(parts))


def print_confusion(labels: Sequence[bool | None], verdicts: Sequence[str], title: str) -> None:
    """Label True/False x (not_sponsored | needs_review | sponsored verdicts)."""
    table: Counter[tuple[bool | None, str]] = Counter()
    for label, verdict in zip(labels, verdicts, strict=True):
        col = (
            "not_sponsored"
            if verdict == "not_sponsored"
            else "needs_review"
            if verdict == "needs_review"
            else "sponsored"
        )
        table[(label, col)] += 1
    cols = ("not_sponsored", "needs_review", "sponsored")
    print(f"{title}  (sponsored = violation or compliant)")
    print(f"  {'label':<16}" + "".join(f"{c:>15}" for c in cols) + f"{'total':>9}")
    for label in (True, False):
        row = [table[(label, c)] for c in cols]
        n = sum(row) or 1
        cells = "".join(f"{v:>8,} {v / n:>5.0%}" for v in row)
        print(f"  {'sponsored=' + str(label):<16}{cells}{sum(row):>9,}")
    tp = table[(True, "sponsored")] + table[(True, "needs_review")]
    pos = sum(table[(True, c)] for c in cols) or 1
    neg_ok = table[(False, "not_sponsored")]
    neg = sum(table[(False, c)] for c in cols) or 1
    print(
        f"  agreement: {tp / pos:.0%} of sponsored-labelled rows get verdict != not_sponsored; "
        f"{neg_ok / neg:.0%} of the others get not_sponsored"
    )


def print_disclosure_table(records: Sequence[dict[str, Any]], verdicts: Sequence[str]) -> None:
    """Where the generator put a disclosure x the verdict it got."""
    table: Counter[tuple[str, str]] = Counter()
    for r, v in zip(records, verdicts, strict=True):
        if r.get("_disclosure"):
            table[(r["_disclosure"][0], v)] += 1
    if not table:
        return
    print("disclosed sponsored posts by position of the disclosure:")
    print(f"  {'position':<10}" + "".join(f"{v:>15}" for v in VERDICTS))
    for pos in ("start", "middle", "end", "buried"):
        print(f"  {pos:<10}" + "".join(f"{table[(pos, v)]:>15,}" for v in VERDICTS))


# --- Memory probe (child process) -----------------------------------------------------


def memory_probe(path: Path, rules: str | None) -> None:
    """Child mode: stream posts from ``path`` through ``check()``; print JSON with ru_maxrss."""
    from compliance import check
    from compliance.inputs import InputError, read_posts

    packs = _load_packs(rules)
    t0 = time.perf_counter()
    n = 0
    for item in read_posts(str(path)):
        if isinstance(item, InputError):
            continue
        check(item, packs)
        n += 1
    seconds = time.perf_counter() - t0
    print(json.dumps({"n": n, "seconds": seconds, "maxrss_mb": peak_rss_mb()}))


def run_probe(path: Path, rules: str | None) -> tuple[float, float] | str:
    """(peak RSS MB, posts/s incl. parsing) of a child streaming ``path``, or an error line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-probe", str(path)]
    if rules:
        cmd += ["--rules", rules]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"probe failed (exit {proc.returncode}): {tail}"
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["maxrss_mb"], data["n"] / data["seconds"]


def probe(res: Result, records: Sequence[dict[str, Any]], rules: str | None) -> None:
    """Fill ``res`` with the engine's peak RSS, measured in a child over the same posts."""
    with tempfile.TemporaryDirectory(prefix="compliance-bench-") as tmp:
        path = Path(tmp) / "posts.jsonl"
        corpus.write_jsonl(records, path)
        out = run_probe(path, rules)
    if isinstance(out, str):
        print(f"memory:    {out}")
        return
    res.peak_rss_mb, res.probe_rate = out
    print(
        f"memory:    peak RSS {res.peak_rss_mb:,.0f} MB (child process streaming the "
        f"{res.n:,} posts through check(), {res.probe_rate:,.0f} posts/s incl. JSON parsing)"
    )


# --- Main ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small corpora, for a smoke run")
    ap.add_argument(
        "-n", type=int, help="generated corpus size (default 100,000; 10,000 with --quick)"
    )
    ap.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    ap.add_argument(
        "--repeats", type=int, help="engine passes on instasynth (default 3; 2 with --quick)"
    )
    ap.add_argument(
        "--rules", help="rule-pack directory for load_packs() (default: the built-in packs)"
    )
    ap.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace the Python heap of an engine pass over a sample",
    )
    ap.add_argument("--memory-probe", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_probe:
        memory_probe(args.memory_probe, args.rules)
        return 0

    n = args.n or (10_000 if args.quick else 100_000)
    repeats = args.repeats or (2 if args.quick else 3)
    sample = (2_000 if args.quick else 10_000) if args.tracemalloc else 0
    print(machine())
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}; pid {os.getpid()}; {'quick' if args.quick else 'full'} run"
    )

    from compliance import Post
    from compliance.inputs import post_from_record

    t0 = time.perf_counter()
    try:
        packs = _load_packs(args.rules)
    except Exception as exc:
        print(f"load_packs: ERROR {type(exc).__name__}: {exc}")
        print("FAIL: the packs did not load (nothing measured)")
        return 0
    print(
        f"load_packs: {time.perf_counter() - t0:.2f} s; RSS {current_rss_mb():,.0f} MB after import + packs"
    )

    results: list[Result] = []
    warmup = [
        post_from_record(r, where=f"warm#{i}")
        for i, r in enumerate(corpus.generate(2_000, seed=args.seed + 1_000_003))
    ]

    # (a) instasynth
    if INSTASYNTH.exists():
        rows = _common.read_instasynth()
        captions = [c for c, _ in rows]
        posts = [Post(caption=c, platform="instagram") for c in captions]
        res, verdicts = measure(
            "instasynth",
            captions,
            posts,
            packs,
            warmup=warmup,
            engine_repeats=repeats,
            tracemalloc_sample=sample,
        )
        if verdicts:
            print_verdicts(res)
            print_confusion([lab for _, lab in rows], verdicts, "instasynth label x verdict:")
            records = [{"caption": c, "platform": "instagram"} for c in captions]
            probe(res, records, args.rules)
        results.append(res)
    else:
        print(f"\n== instasynth: not found at {INSTASYNTH}; skipped")

    # (b) generated corpus
    t0 = time.perf_counter()
    records = corpus.generate(n, seed=args.seed)
    print(f"\n(generated {n:,} posts, seed {args.seed}, in {time.perf_counter() - t0:.1f} s)")
    corpus.describe(records, echo=lambda s: print("  " + s))
    captions = [r["caption"] for r in records]
    posts = [post_from_record(r, where=f"#{i}") for i, r in enumerate(records)]
    res, verdicts = measure(
        f"generated-{n // 1000}k",
        captions,
        posts,
        packs,
        warmup=warmup,
        engine_repeats=1 if n >= 50_000 else repeats,
        tracemalloc_sample=sample,
    )
    if verdicts:
        print_verdicts(res)
        print_confusion([r["sponsored"] for r in records], verdicts, "generated label x verdict:")
        print_disclosure_table(records, verdicts)
        del posts, captions
        probe(res, records, args.rules)
    results.append(res)
    print(
        f"\nthis process: peak RSS {maxrss_mb():,.0f} MB (holds the corpora, the tokenizer and the engine)"
    )

    # Summary
    print("\nsummary:")
    failures: list[str] = []
    for r in results:
        mem = f"; peak RSS {r.peak_rss_mb:,.0f} MB" if r.peak_rss_mb is not None else ""
        if r.error:
            print(f"  {r.name}: engine ERROR {r.error}")
            failures.append(f"{r.name}: engine error")
            continue
        print(
            f"  {r.name}: engine: {r.engine:,.0f} captions/s ({r.ratio:.1f}x tokenizer "
            f"{r.tokenizer:,.0f}/s; regex {r.regex:,.0f}/s){mem}"
        )
        if r.engine_passes > 1:
            print(
                f"  {r.name}: engine first pass over unseen captions: {r.engine_first:,.0f} "
                f"captions/s ({r.engine_first / r.tokenizer:.1f}x tokenizer)"
            )
        if r.name == "instasynth":
            # The issue states the 2x target against real-looking (long, emoji-dense)
            # captions and asks for instasynth's figures to be printed: its short
            # captions take the tokenizer ~50 us each, where the engine's fixed
            # per-post work (normalising, the word scan, sponsorship) dominates.
            print(
                f"  {r.name}: {r.ratio:.2f}x tokenizer (reported; the target is on real-looking captions)"
            )
        elif r.ratio < ENGINE_RATIO_TARGET:
            failures.append(f"{r.name}: engine {r.ratio:.2f}x tokenizer < {ENGINE_RATIO_TARGET:g}x")
        if r.peak_rss_mb is None:
            failures.append(f"{r.name}: peak RSS not measured")
        elif r.peak_rss_mb >= PEAK_RSS_TARGET_MB:
            failures.append(
                f"{r.name}: peak RSS {r.peak_rss_mb:,.0f} MB >= {PEAK_RSS_TARGET_MB:g} MB"
            )
    targets = f"engine >= {ENGINE_RATIO_TARGET:g}x tokenizer, peak RSS < {PEAK_RSS_TARGET_MB:g} MB"
    if failures:
        print(f"FAIL ({targets}): " + "; ".join(failures))
    else:
        print(f"PASS ({targets})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
