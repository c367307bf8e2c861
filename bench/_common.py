"""Helpers shared by the benchmark scripts: paths, timing passes, memory and formatting.

Importing this module puts the repository root at the end of ``sys.path`` so that
the scripts run as plain ``python bench/<script>.py`` from a checkout, installed or
not. At the end: an installed ``compliance`` (with its mypyc-compiled modules, see
setup.py) is the one measured; the checkout's sources only stand in when nothing is
installed. ``machine()`` says which one ran.
"""

from __future__ import annotations

import csv
import gc
import math
import os
import platform
import re
import resource
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# shared/ sits beside the checkout; a git worktree one level deeper (wt/<name>)
# finds it one level further up.
SHARED = next(
    (d for d in (REPO.parent / "shared", REPO.parent.parent / "shared") if d.is_dir()),
    REPO.parent / "shared",
)
INSTASYNTH = SHARED / "corpora" / "instasynth" / "synthetic_captions.csv"

if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

from corpus import tokenizer_rate  # noqa: E402  (needs BENCH on sys.path)

__all__ = [
    "BENCH",
    "INSTASYNTH",
    "REPO",
    "SHARED",
    "best_of",
    "current_rss_mb",
    "machine",
    "maxrss_mb",
    "peak_rss_mb",
    "rate",
    "read_instasynth",
    "regex_rate",
    "tokenizer_rate",
]

# The reference "plain regular-expression scan" of the issue.
TAGS_RE = re.compile(r"#\w+|@\w+")


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn`` (seconds)."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def regex_rate(captions: Sequence[str], repeats: int = 3) -> float:
    """Captions per second of a plain ``re.findall(r"#\\w+|@\\w+", c)`` scan (best of ``repeats``)."""
    findall = TAGS_RE.findall

    def scan() -> None:
        for c in captions:
            findall(c)

    scan()
    return len(captions) / best_of(scan, repeats)


def rate(n: int, seconds: float) -> str:
    """``12,345/s``."""
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "inf/s"


def maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far, in MB (Linux reports ru_maxrss in KiB)."""
    kib = resource.getrusage(who).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024


def peak_rss_mb() -> float:
    """This process image's own peak RSS in MB: VmHWM, falling back to ru_maxrss.

    Prefer this over ru_maxrss in a child process: Linux carries the parent's peak
    over fork and exec into the child's ru_maxrss (and into RUSAGE_CHILDREN), so a
    small child of a big benchmark process reports the benchmark's memory. VmHWM
    belongs to the address space, which exec replaces.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return maxrss_mb()


def current_rss_mb() -> float:
    """Resident set size now, in MB (from /proc; 0 where it is not available)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024
    except (OSError, ValueError, IndexError):
        return 0.0


def read_instasynth(path: Path = INSTASYNTH) -> list[tuple[str, bool | None]]:
    """(caption, sponsored label) for each row of the instasynth CSV."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    label = {"true": True, "false": False}
    return [(r["caption"], label.get((r.get("sponsored") or "").strip().lower())) for r in rows]


def machine() -> str:
    """One line naming the machine: cores, Python, spaCy, OS."""
    try:
        import spacy

        spacy_version = spacy.__version__
    except ImportError:  # pragma: no cover - spaCy is a dependency
        spacy_version = "?"
    return (
        f"machine: nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"spaCy {spacy_version}, {platform.system()} {platform.machine()}\n{build()}"
    )


def build() -> str:
    """Which compliance is measured: where it is imported from, compiled or interpreted."""
    import compliance.nlp

    where = Path(compliance.nlp.__file__)
    how = "mypyc-compiled" if where.suffix in (".so", ".pyd") else "interpreted (pure Python)"
    return f"compliance: {how}, from {where.parent}"


def quiet_gc(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` after a full collection, so earlier garbage is not billed to it."""
    gc.collect()
    return fn()


def consume(items: Iterable[Any]) -> None:
    """Exhaust an iterator without keeping its items."""
    for _ in items:
        pass
