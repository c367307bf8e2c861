"""``compliance status`` as text: one block per monitor, from the stored states (pure).

The JSON form is ``[state.as_dict() for state in list_monitor_states(store)]``;
this module makes the text form from the same states, with no database and no
clock of its own (``now`` is passed in, to say what is overdue). Keys and
targets come from the config and errors from platforms: each is printed through
:func:`compliance.store.monitors.one_line` (no control characters, one line), and
the cursor as ASCII-only JSON, so nothing printed can move or recolour the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from compliance.store.monitors import MonitorRun, MonitorState, one_line

# Longest cursor shown; the JSON form has all of it.
CURSOR_CHARS = 160


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _safe(text: str | None) -> str:
    return one_line(text) or ""


def outcome_text(state: MonitorState) -> str:
    """``ok``, ``failed (rate_limited)``, ``never run``."""
    if state.last_outcome is None:
        return "never run"
    if state.last_error_kind:
        return f"{state.last_outcome} ({state.last_error_kind})"
    return state.last_outcome


def status_text(states: Sequence[MonitorState], *, now: datetime) -> str:
    """Every monitor: last run, outcome, posts, next run, failures, then error and cursor."""
    if not states:
        return "no monitors have run yet\n"
    head = ["MONITOR", "PLATFORM", "LAST RUN (UTC)", "OUTCOME", "POSTS", "NEXT RUN (UTC)", "FAILS"]
    table = []
    for s in states:
        nxt = _time(s.next_run_at)
        if s.next_run_at is not None and s.next_run_at < now:
            nxt += " overdue"
        table.append(
            [
                _safe(s.key),
                _safe(s.platform),
                _time(s.last_run_at),
                outcome_text(s),
                str(s.posts_total),
                nxt,
                f"{s.consecutive_failures}/{s.failure_threshold}",
            ]
        )
    widths = [max(len(row[i]) for row in [head, *table]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    for s, row in zip(states, table, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if s.failing:
            lines.append(f"  FAILING since {_time(s.failing_since)} UTC")
        if s.last_error:
            lines.append(f"  last error: {_safe(s.last_error)}")
        if s.cursor:
            cursor = json.dumps(dict(s.cursor), ensure_ascii=True, sort_keys=True)
            if len(cursor) > CURSOR_CHARS:
                cursor = cursor[: CURSOR_CHARS - 3] + "..."
            lines.append(f"  cursor: {cursor}")
    failing = sum(1 for s in states if s.failing)
    foot = f"{len(states)} monitor{'s' if len(states) != 1 else ''}"
    if failing:
        foot += f", {failing} failing"
    return "\n".join([*lines, foot]) + "\n"


def runs_text(runs: Sequence[MonitorRun]) -> str:
    """A monitor's logged runs, newest first (``compliance status KEY``)."""
    if not runs:
        return "no runs logged\n"
    lines = []
    for r in runs:
        c = r.counts
        seconds = (r.finished_at - r.started_at).total_seconds()
        line = (
            f"{_time(r.finished_at)}  {r.outcome:<12} {seconds:6.1f} s  fetched {c.fetched}, "
            f"new {c.new}, edited {c.edited}, gone {c.gone}; "
            f"violations opened {c.opened}, fixed {c.fixed}, regressed {c.regressed}"
        )
        if r.error_kind:
            line += f"  [{r.error_kind}] {_safe(r.error)}"
        lines.append(line)
    return "\n".join(lines) + "\n"
