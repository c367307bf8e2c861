"""The shipped systemd unit is valid (systemd-analyze verify, where systemd is installed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "compliance.service"


def test_the_unit_runs_the_daemon_with_the_config_and_reloads_on_sighup():
    text = UNIT.read_text(encoding="utf-8")
    assert "compliance daemon --config /etc/compliance/compliance.yaml" in text
    assert "ExecReload=/bin/kill -HUP $MAINPID" in text
    assert "KillSignal=SIGTERM" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # verify checks that ExecStart's program exists: point it at this Python.
    unit = tmp_path / "compliance.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace(
            "/opt/compliance/venv/bin/compliance", sys.executable
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line for line in (done.stdout + done.stderr).splitlines() if "compliance.service" in line
    ]
    assert done.returncode == 0 and problems == [], done.stdout + done.stderr
