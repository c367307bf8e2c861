"""Build hook: compile the engine's hot modules with mypyc when possible.

Package metadata lives in setup.cfg; this file only adds the optional compiled
modules. The engine's per-caption work is many small string and set operations,
where the interpreter's overhead is most of the cost; mypyc turns the typed
Python of these modules into C extensions (as black and mypy ship) for roughly a
quarter less time per caption. The Python sources are installed too: where no C
compiler is available, or with COMPLIANCE_PURE_PYTHON=1, the build skips the
extensions and the same code runs interpreted, with the same results.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

# The modules every caption passes through (see bench/README.md for the profile).
COMPILED = [
    "compliance/nlp.py",
    "compliance/normalize.py",
    "compliance/signals.py",
    "compliance/engine.py",
    "compliance/analysis.py",
    "compliance/kinds/existence.py",
    "compliance/kinds/placement.py",
    "compliance/kinds/substitution.py",
    "compliance/kinds/consistency.py",
    "compliance/kinds/params.py",
]


def _ext_modules() -> list:
    if os.environ.get("COMPLIANCE_PURE_PYTHON", "").strip() not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # built without the build requirements (e.g. --no-build-isolation)
        print("compliance: mypyc not available; installing pure Python", file=sys.stderr)
        return []
    try:
        extensions = mypycify(
            ["--ignore-missing-imports", "--follow-imports=silent", *COMPILED],
            opt_level="3",
        )
    except (Exception, SystemExit) as exc:  # mypy found a type error: never block an install
        print(f"compliance: mypyc failed ({exc!r}); installing pure Python", file=sys.stderr)
        return []
    for ext in extensions:
        # No compiler (or headers): build_ext warns and skips, the .py files remain.
        ext.optional = True
    return extensions


setup(ext_modules=_ext_modules())
