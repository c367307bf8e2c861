"""The README's Alerts section cannot rot: its YAML validates and every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

from alerts_helpers import config_from

from compliance.alerts.cli import alerts

README = Path(__file__).resolve().parent.parent / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## Alerts", 1)[1].split("\n## ", 1)[0]


def test_the_readme_config_validates(tmp_path):
    [yaml_block] = re.findall(r"```yaml\n(.*?)```", _section(), re.DOTALL)
    config = config_from(tmp_path, yaml_block)
    assert set(config.receivers) == {"brand-email", "legal-slack", "tickets", "teams"}
    assert config.delivery.max_tries == 10


def test_every_alerts_command_is_in_the_readme():
    section = _section()
    names = []
    for name, command in alerts.commands.items():
        subs = getattr(command, "commands", None)
        names.extend(f"{name} {sub}" for sub in subs) if subs else names.append(name)
    missing = [
        n for n in names if f"compliance alerts {n}" not in section and not _listed(section, n)
    ]
    assert missing == []


def _listed(section: str, name: str) -> bool:
    """``silence list | expire 3``: later subcommands of a group on one line."""
    group, _, sub = name.partition(" ")
    return any(
        f"compliance alerts {group} " in line and f"| {sub}" in line
        for line in section.splitlines()
    )
