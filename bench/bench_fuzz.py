"""Fuzz run: N hostile captions (default 100,000) through the engine and every output format.

The captions come from ``tests/hostile.py``'s seeded generators (the same classes the
property tests draw from: lone surrogates, C0/C1 controls, bidi overrides, zero-width
characters, look-alike disclosures, combining marks, emoji ZWJ sequences, mixed scripts,
quote runs, runs of thousands of hashtags, 100 KB captions), under every jurisdiction.
Seed 0 gives the same cases on every machine; no hypothesis, no shrinking.

Each case runs in this process: ``compliance.engine.check`` timed on its own, then the
verdict rendered in each ``--format`` and encoded as UTF-8, each timed apart. A crash is
counted and its caption saved (``repr`` and traceback) to the output directory. A
watchdog thread reports a stage (the check, or one format's rendering) still running
after ``--hang`` seconds (default 5) as a hang and saves its caption; one still running
after ``--give-up`` seconds ends the run (the engine cannot be interrupted from outside).

Prints: cases run, crashes, hangs, the worst time per caption (check alone, and check
plus the text report, which is what ``compliance check --text`` does) with its class and
length, the worst rendering of one format, p50/p99/p99.9 of the check time, throughput,
and the same per class. The exit status is 0 with no crash and no hang, else 1.

    python bench/bench_fuzz.py                 # 100,000 cases (~10 min on 2 shared cores)
    python bench/bench_fuzz.py -n 5000         # a quick look
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from _common import BENCH, REPO, machine, rate

# tests/hostile.py holds the generators the property tests use too.
sys.path.insert(0, str(REPO / "tests"))

import hostile

from compliance.engine import check
from compliance.model import Post
from compliance.packs import Packs, load_packs
from compliance.report import FORMATS, Renderer


@dataclass
class ClassStats:
    """Check times (seconds) of one class of captions, and its worst case."""

    times: list[float] = field(default_factory=list)
    worst_render: float = 0.0
    longest: int = 0


@dataclass
class Watch:
    """What the watchdog reads: the case running now and since when (None between cases)."""

    case: int = -1
    kind: str = ""
    caption: str = ""
    stage: str = ""
    started: float | None = None
    reported: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def save(out: Path, name: str, kind: str, caption: str, detail: str = "") -> Path:
    """Write a failing caption (its repr, so every character survives) and what happened."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(f"class: {kind}\nlength: {len(caption)}\n{detail}\n{caption!r}\n")
    return path


def watchdog(watch: Watch, hang: float, give_up: float, out: Path, done: threading.Event) -> None:
    """Report a case running longer than ``hang`` seconds; end the process after ``give_up``."""
    while not done.wait(0.25):
        with watch.lock:
            started, case, kind, caption = watch.started, watch.case, watch.kind, watch.caption
            stage = watch.stage
        if started is None:
            continue
        elapsed = time.perf_counter() - started
        if elapsed > hang and case not in watch.reported:
            watch.reported.add(case)
            detail = f"{stage} running for > {hang:.0f} s"
            path = save(out, f"hang-{case}.txt", kind, caption, detail)
            print(f"HANG case {case} ({kind}, {len(caption):,} chars, {stage}): saved {path}")
        if elapsed > give_up:
            print(f"case {case} still running after {give_up:.0f} s: giving up", flush=True)
            os._exit(3)


def warm_up(packs: Packs) -> None:
    """Load every pack and the spaCy pipelines they use, so no case pays for loading."""
    for j in hostile.JURISDICTIONS:
        for caption in ("#ad Loving this serum @glowlab", "Werbung Anzeige publicidad @glowlab"):
            check(Post(caption=caption, jurisdiction=j), packs)
            check(Post(caption=caption, jurisdiction=j, language="de"), packs)


def percentile(sorted_times: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of already sorted values (nearest rank)."""
    if not sorted_times:
        return 0.0
    k = min(len(sorted_times) - 1, max(0, round(p / 100 * len(sorted_times)) - 1))
    return sorted_times[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="cases to run (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang", type=float, default=5.0, help="seconds that make a hang")
    parser.add_argument("--give-up", type=float, default=120.0, help="seconds before giving up")
    parser.add_argument(
        "--out", type=Path, default=BENCH / "out" / "fuzz", help="where failing captions go"
    )
    args = parser.parse_args()

    print(machine())
    print(f"cases: {args.n:,}, seed {args.seed}, hang after {args.hang:.0f} s", flush=True)
    packs = load_packs()
    t0 = time.perf_counter()
    warm_up(packs)
    print(f"warm-up (every pack, its pipelines): {time.perf_counter() - t0:.1f} s", flush=True)

    renderers = [Renderer(fmt) for fmt in FORMATS]
    stats: dict[str, ClassStats] = defaultdict(ClassStats)
    crashes = 0
    worst = (0.0, "", 0, -1)  # check seconds, class, caption length, case
    worst_render = (0.0, "", 0, -1, "")  # seconds, class, length, case, format
    worst_text = (0.0, "", 0, -1)  # check + the text report
    watch = Watch()
    done = threading.Event()
    dog = threading.Thread(
        target=watchdog, args=(watch, args.hang, args.give_up, args.out, done), daemon=True
    )
    dog.start()
    gen_time = 0.0
    start = time.perf_counter()
    last_report = start
    cases = hostile.hostile_posts(args.n, args.seed)
    for case in range(args.n):
        g0 = time.perf_counter()
        kind, post = next(cases)
        gen_time += time.perf_counter() - g0
        renders: dict[str, float] = {}
        with watch.lock:
            watch.case, watch.kind, watch.caption = case, kind, post.caption
            watch.stage, watch.started = "check", time.perf_counter()
        try:
            c0 = time.perf_counter()
            verdict = check(post, packs)
            c1 = time.perf_counter()
            for renderer in renderers:
                with watch.lock:
                    watch.stage, watch.started = f"--format {renderer.fmt}", time.perf_counter()
                r0 = time.perf_counter()
                renderer.render(verdict, "<fuzz>").chunk.encode("utf-8")
                renders[renderer.fmt] = time.perf_counter() - r0
        except Exception:
            crashes += 1
            path = save(args.out, f"crash-{case}.txt", kind, post.caption, traceback.format_exc())
            print(f"CRASH case {case} ({kind}): saved {path}", flush=True)
            continue
        finally:
            with watch.lock:
                watch.started = None
        s = stats[kind]
        s.times.append(c1 - c0)
        fmt, slowest = max(renders.items(), key=lambda item: item[1])
        s.worst_render = max(s.worst_render, slowest)
        s.longest = max(s.longest, len(post.caption))
        if c1 - c0 > worst[0]:
            worst = (c1 - c0, kind, len(post.caption), case)
        if slowest > worst_render[0]:
            worst_render = (slowest, kind, len(post.caption), case, fmt)
        if c1 - c0 + renders["text"] > worst_text[0]:
            worst_text = (c1 - c0 + renders["text"], kind, len(post.caption), case)
        now = time.perf_counter()
        if now - last_report > 60:
            last_report = now
            print(f"  {case + 1:,} cases, {now - start:.0f} s", flush=True)
    elapsed = time.perf_counter() - start
    done.set()

    times = sorted(t for s in stats.values() for t in s.times)
    run = len(times) + crashes
    print()
    print(
        f"cases run: {run:,} ({len(watch.reported)} hangs > {args.hang:.0f} s, {crashes} crashes)"
    )
    print(
        f"wall time: {elapsed:.1f} s ({gen_time:.1f} s generating captions); "
        f"throughput {rate(run, elapsed - gen_time)} (check + all four formats)"
    )
    print(
        f"check per caption: p50 {percentile(times, 50) * 1000:.2f} ms, "
        f"p99 {percentile(times, 99) * 1000:.1f} ms, p99.9 {percentile(times, 99.9) * 1000:.0f} ms, "
        f"worst {worst[0]:.2f} s ({worst[1]}, {worst[2]:,} chars, case {worst[3]})"
    )
    print(
        f"check + text report per caption: worst {worst_text[0]:.2f} s "
        f"({worst_text[1]}, {worst_text[2]:,} chars, case {worst_text[3]})"
    )
    print(
        f"rendering one format: worst {worst_render[0]:.2f} s (--format {worst_render[4]}; "
        f"{worst_render[1]}, {worst_render[2]:,} chars, case {worst_render[3]})"
    )
    print()
    print(
        f"{'class':<14} {'cases':>7} {'p50 ms':>8} {'p99 ms':>8} {'worst s':>8} {'render s':>9} {'longest':>9}"
    )
    for kind in hostile.CLASSES:
        s = stats.get(kind)
        if s is None:
            continue
        ts = sorted(s.times)
        print(
            f"{kind:<14} {len(ts):>7,} {statistics.median(ts) * 1000:>8.2f} "
            f"{percentile(ts, 99) * 1000:>8.1f} {ts[-1]:>8.2f} {s.worst_render:>9.2f} {s.longest:>9,}"
        )
    failed = crashes or watch.reported
    print(f"\n{'FAIL' if failed else 'PASS'}: {crashes} crashes, {len(watch.reported)} hangs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
