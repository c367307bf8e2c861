"""The `compliance` command: a click group and its command groups, registered explicitly.

One module per command group; each is thin (parse options, call the core).
Registration is the plain list :data:`COMMANDS` below, not import side effects:
a new group (``monitor``, ``status``, ``daemon``, ``alerts``) is one module and
one line here. ``compliance.cli.monitor`` will be the only CLI module that
imports ``monitors``.

Exit status (every command): 0 clean, 1 violations found, 2 usage, config or input error.
"""

from __future__ import annotations

import click

from compliance.cli import check, db, report, rules, violations


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compliance")
def main() -> None:
    """Check influencer posts for advertising-disclosure compliance (FTC, ASA, Ad Standards, EU)."""


# In the order `compliance --help` lists them (click sorts them by name anyway).
COMMANDS: list[click.Command] = [
    check.check,
    rules.rules,
    violations.violations,
    report.report,
    db.db,
]

for _command in COMMANDS:
    main.add_command(_command)
