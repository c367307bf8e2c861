"""The closed set of rule kinds: the Python behind the YAML rules.

A rule file names its kind with ``extends:``; the kind validates the rule's own
parameters at load (``PARAMS``, ``check_params``) and judges a post
(``evaluate(rule, analysis) -> list[Finding]``). The registry is an explicit
dict, not import-time registration, so what exists is visible here.
"""

from __future__ import annotations

from types import ModuleType

from compliance.kinds import consistency, existence, placement, substitution

KINDS: dict[str, ModuleType] = {
    "existence": existence,
    "substitution": substitution,
    "placement": placement,
    "consistency": consistency,
}
