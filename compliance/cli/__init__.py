"""The `compliance` command: a click group and its command groups, registered explicitly.

One module per command group; each is thin (parse options, call the core).
Registration is the plain list :data:`COMMANDS` below, not import side effects:
a new group (``monitor``, ``status``, ``daemon``, ``alerts``) is one module and
one line here. ``compliance.cli.monitor`` will be the only CLI module that
imports ``monitors``.

Exit status (every command): 0 clean, 1 violations found, 2 usage, config or input error.
"""

from __future__ import annotations

import importlib

import click

from compliance.cli import check, config, db, report, rules, violations


class _Main(click.Group):
    """The top group; the commands that need the monitors or the alerts (and so SQLAlchemy,
    httpx, Jinja, ...) are imported only when named, so `check --text` starts fast."""

    lazy: dict[str, str] = {
        "daemon": "compliance.cli.monitor:daemon",
        "status": "compliance.cli.monitor:status",
        "worker": "compliance.cli.monitor:worker",
        "alerts": "compliance.alerts.cli:alerts",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attr = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
    config.config,
]

for _command in COMMANDS:
    main.add_command(_command)
