"""Malformed YAML in compliance.yaml and in rule packs (issue 10, "Hostile and broken input").

One table of broken shapes, each fed to ``compliance config check FILE`` and, as a rule
file and as a pack.yaml, to the commands that load packs (``compliance rules list --rules``,
``compliance check --rules --text``). Every one must end in exit status 2 and one line
naming the file (and the line, where there is one), never a traceback, never a hang or an
exhausted memory: an alias bomb took 35 s and gigabytes before it died with
MemoryError, a recursive alias, a list as a key and a bad date ended in tracebacks, and
``!!python/...`` tags were silently read as plain values.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import main

FTC = Path(__file__).resolve().parents[1] / "rules" / "ftc"
TEN_MB = 10 * 1024 * 1024


def _alias_bomb() -> bytes:
    """'Billion laughs': nine levels of nine aliases, 9**9 strings once expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return ("\n".join(lines) + "\n").encode()


# name -> (file content, a fragment of the message, the line it must name or None)
SHAPES: dict[str, tuple[bytes, str, int | None]] = {
    "tab indentation": (
        b"jurisdiction: US\ncampaigns:\n\tc: {brand: X}\n",
        "invalid YAML: found character that cannot start any token",
        3,
    ),
    "duplicate key": (b"jurisdiction: US\njurisdiction: GB\n", "duplicate key 'jurisdiction'", 2),
    "list at the top": (b"- a\n- b\n", "expected a mapping", 1),
    "string at the top": (b"just a string\n", "expected a mapping", 1),
    "binary garbage": (bytes(range(256)) * 8, "not UTF-8 text: byte 0x80", 2),
    "NUL character": (b"jurisdiction: US\x00\n", "character 0 is not allowed", 1),
    "Latin-1 bytes": (b"jurisdiction: US\nname: caf\xe9\n", "not UTF-8 text: byte 0xe9", 2),
    "10 MB then a tab": (
        b"# padding\n" * (TEN_MB // 10) + b"jurisdiction: US\n\tbad: tab\n",
        "invalid YAML",
        TEN_MB // 10 + 2,
    ),
    "10 MB string never closed": (
        b'jurisdiction: US\nname: "' + b"a" * TEN_MB + b"\n",
        "invalid YAML",
        None,
    ),
    "alias bomb": (_alias_bomb(), "too many values through aliases", None),
    "recursive alias": (b"a: &a [1, *a]\n", "recursive alias", 1),
    "deep nesting": (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "invalid YAML", 1),
    "python object tag": (
        b"jurisdiction: !!python/object/apply:os.system ['echo pwned']\n",
        "tag !!python/object/apply:os.system is not allowed",
        1,
    ),
    "python tag on a mapping": (
        b"campaigns: !!python/object:collections.OrderedDict {a: 1}\n",
        "tag !!python/object:collections.OrderedDict is not allowed",
        1,
    ),
    "local tag": (b"jurisdiction: !shell US\n", "tag !shell is not allowed", 1),
    "list as a key": (b"? [a, b]\n: c\n", "a key must be a plain value", 1),
    "two documents": (b"a: 1\n---\nb: 2\n", "invalid YAML: but found another document", 2),
    "undefined alias": (b"a: *nope\n", "invalid YAML: found undefined alias", 1),
    "impossible date": (
        b"campaigns:\n  c:\n    brand: X\n    starts: 2026-13-45\n",
        "cannot read '2026-13-45'",
        4,
    ),
}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_one_line_error(result, path: Path, fragment: str, line: int | None) -> None:
    """Exit 2, no traceback, and exactly one line naming the file (and line), with ``fragment``."""
    assert result.exit_code == 2, (result.exit_code, result.output[:500], result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    message = lines[0]
    assert len(message) < 300, message
    where = f"{path}:{line}:" if line is not None else f"{path}"
    assert where in message, message
    assert fragment in message, message
    if line is None:
        assert re.search(rf"{re.escape(str(path))}(:\d+)?: ", message), message


@pytest.mark.parametrize("shape", list(SHAPES))
def test_config_check_of_a_malformed_file(tmp_path, shape):
    content, fragment, line = SHAPES[shape]
    path = tmp_path / "compliance.yaml"
    path.write_bytes(content)
    fragment = "expected a mapping of settings" if fragment == "expected a mapping" else fragment
    assert_one_line_error(run("config", "check", str(path)), path, fragment, line)


@pytest.fixture(scope="module")
def rules_copy(tmp_path_factory):
    """A copy of the shipped FTC pack, one rule file of which each test breaks."""
    root = tmp_path_factory.mktemp("rules")
    shutil.copytree(FTC, root / "ftc")
    return root


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_malformed_rule_file(rules_copy, shape):
    content, fragment, line = SHAPES[shape]
    path = rules_copy / "ftc" / "below-fold.yaml"
    good = path.read_bytes()
    path.write_bytes(content)
    try:
        result = run("rules", "list", "--rules", str(rules_copy))
        assert_one_line_error(result, path, fragment, line)
    finally:
        path.write_bytes(good)


@pytest.mark.parametrize(
    "shape", ["duplicate key", "Latin-1 bytes", "alias bomb", "recursive alias", "list as a key"]
)
@pytest.mark.parametrize("target", ["pack.yaml", "vocab/en.yaml"])
def test_a_malformed_pack_file_when_checking_a_caption(rules_copy, shape, target):
    content, fragment, line = SHAPES[shape]
    path = rules_copy / "ftc" / target
    good = path.read_bytes()
    path.write_bytes(content)
    try:
        result = run("check", "--rules", str(rules_copy), "--text", "#ad Loving @glowlab")
        assert_one_line_error(result, path, fragment, line)
    finally:
        path.write_bytes(good)


def test_aliases_that_repeat_a_value_are_still_fine(tmp_path):
    # The alias budget is for bombs: reusing a list across entries stays valid.
    path = tmp_path / "compliance.yaml"
    path.write_text(
        "campaigns:\n"
        "  a: {brand: A, handles: &h ['@glowlab', '@glow']}\n"
        "  b: {brand: B, handles: *h}\n",
        encoding="utf-8",
    )
    result = run("config", "check", str(path))
    assert result.exit_code == 0, result.output
    assert "2 campaigns" in result.output
