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

from corpus import generate, tokenizer_rate  # noqa: E402  (needs BENCH on sys.path)

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


def process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far, from /proc (0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_steal_seconds() -> float:
    """CPU seconds the hypervisor has given other guests so far, all cores (Linux's
    /proc/stat "steal"; 0 elsewhere). On a shared virtual machine the same run can
    take far longer while a neighbour is busy: the benchmarks print it beside their times."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


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


# --- a fake TikTok of N creators in a child process (bench_monitors, bench_celery, bench_load) ---


def _serve_tiktok(creators: int, posts_each: int, conn: Any, now: int | None) -> None:
    """Child process: a fake TikTok over a populated world, every caption a distinct one
    from bench/corpus.py (so that no check repeats another). ``now``: the world's clock
    (default: the fakes' fixed start). Commands on ``conn``:
    ``("change", edits, new)`` edits ``edits`` random captions and adds ``new`` posts (the
    world's clock moves 10 minutes first) and answers the world's new "now"; ``"stop"``
    answers the number of requests served and ends."""
    import random

    sys.path.insert(0, str(REPO / "tests"))
    from fakes import tiktok
    from fakes.server import FakeServer
    from fakes.world import World

    captions = [r["caption"] for r in generate(creators * posts_each, seed=11)]
    world = World() if now is None else World(now=now)
    world.populate("tiktok", creators, posts_each, captions=captions)
    del captions
    server = FakeServer()
    tiktok.install(server, world)
    server.start()
    conn.send((server.url, world.now))
    rng = random.Random(11)
    n = 0
    while True:
        command = conn.recv()
        if command == "stop":
            conn.send(len(server.log))
            server.log.clear()
            break
        _, edits, new = command
        server.log.clear()  # the log would be the fake's own leak over many cycles
        with world.lock:
            world.now += 600
            for _ in range(edits):
                account = world.accounts[("tiktok", f"creator{rng.randrange(creators):05d}")]
                n += 1
                post = rng.choice(account.visible())
                world.edit(post, f"{post.caption} (edit {n})")
            for _ in range(new):
                n += 1
                handle = f"creator{rng.randrange(creators):05d}"
                world.post("tiktok", handle, f"new @glowlab serum {n}, code MAYA15", age=60)
        conn.send(world.now)
    server.stop()


class FakeTikTok:
    """A fake TikTok with ``creators`` x ``posts_each`` posts served from a child process
    (its CPU and memory are not the measured process's)."""

    def __init__(self, creators: int, posts_each: int, *, now: int | None = None) -> None:
        import multiprocessing

        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.Process(
            target=_serve_tiktok, args=(creators, posts_each, child, now), daemon=True
        )
        self._proc.start()
        self.url, self.now = self._conn.recv()

    def change(self, edits: int, new: int) -> float:
        """Edit ``edits`` captions and add ``new`` posts; the world's "now" after it."""
        self._conn.send(("change", edits, new))
        self.now = self._conn.recv()
        return self.now

    def cpu_seconds(self) -> float:
        """CPU time the fake's process has used so far (user + system; 0 where /proc is missing)."""
        return process_cpu_seconds(self._proc.pid)

    def stop(self) -> int:
        """Stop the fake; the requests it served since the last change."""
        self._conn.send("stop")
        served = self._conn.recv()
        self._proc.join(10)
        return served


def tiktok_key(i: int) -> str:
    """The monitor key of the ``i``-th fake creator."""
    return f"creator:c{i}:tiktok:@creator{i:05d}"


def tiktok_jobs(creators: int) -> list[Any]:
    """One account monitor per fake creator."""
    from monitors.run import Job

    return [
        Job(key=tiktok_key(i), kind="account", platform="tiktok", target=f"@creator{i:05d}")
        for i in range(creators)
    ]


def tiktok_runtime(store: Any, url: str, now: Callable[[], Any], **kw: Any) -> Any:
    """A Runtime whose TikTok source reads the fake at ``url`` (``kw``: Runtime's others)."""
    from compliance.packs import load_packs
    from monitors.http import HttpSettings
    from monitors.runtime import Runtime
    from monitors.sources.base import SourceSettings

    return Runtime(
        store,
        load_packs(),
        settings={"tiktok": SourceSettings(api_url=url, web_url=url)},
        http={"tiktok": HttpSettings(retries=2, backoff=0.05, timeout=60)},
        now=now,
        **kw,
    )
