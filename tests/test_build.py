"""Which build of the engine the tests run: mypyc-compiled (installed) or interpreted.

The engine's hot modules are compiled with mypyc when the package is installed with
a C compiler (setup.py). ``COMPLIANCE_EXPECT_COMPILED=1`` (set by .ci/run for the
installed run) makes a silent fallback to pure Python a failure, and ``=0`` (the
run over the checkout's sources) makes sure those really are the sources.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

HOT = [
    "compliance.nlp",
    "compliance.normalize",
    "compliance.signals",
    "compliance.engine",
    "compliance.analysis",
    "compliance.kinds.existence",
    "compliance.kinds.placement",
    "compliance.kinds.substitution",
    "compliance.kinds.consistency",
    "compliance.kinds.params",
]


def _compiled(name: str) -> bool:
    return Path(importlib.import_module(name).__file__).suffix in (".so", ".pyd")


def test_setup_compiles_the_listed_modules():
    # setup.py and this list must name the same modules.
    setup_py = (Path(__file__).parent.parent / "setup.py").read_text(encoding="utf-8")
    listed = {line.strip().strip('",') for line in setup_py.splitlines() if "compliance/" in line}
    assert listed == {name.replace(".", "/") + ".py" for name in HOT}


@pytest.mark.parametrize("name", HOT)
def test_build_is_the_expected_one(name):
    expect = os.environ.get("COMPLIANCE_EXPECT_COMPILED")
    if expect is None:
        pytest.skip("COMPLIANCE_EXPECT_COMPILED not set (set by .ci/run)")
    assert _compiled(name) == (expect == "1"), importlib.import_module(name).__file__
