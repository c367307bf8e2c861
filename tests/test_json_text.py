"""monitors.sources.base.json_text: the stored evidence text of a platform item.

It writes with orjson and falls back to the standard library; either way the text
must be exactly ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``,
the format evidence has always been stored in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compliance.model import Post
from monitors.sources.base import Fetched, json_text

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"


def _reference(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _fixture_values() -> list[Any]:
    values = []
    for path in sorted(FIXTURES.rglob("*.json")):
        try:
            values.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:  # truncated and otherwise broken bodies are fixtures too
            continue
    return values


def test_platform_fixtures_are_written_as_the_standard_library_writes_them() -> None:
    values = _fixture_values()
    assert len(values) > 10, f"no JSON fixtures found under {FIXTURES}"
    for value in values:
        assert json_text(value) == _reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {"id": 10**20},  # beyond 64 bits: orjson refuses
        {"desc": "lone \ud800 surrogate"},  # orjson refuses
        {1: "integer key"},  # orjson refuses
        {"text": 'é \u2028 </script> "q" \\ \n\t\x00', "n": [1.5, 1e16, -0.0, None, True]},
        [],
        "",
    ],
)
def test_odd_values(value: Any) -> None:
    assert json_text(value) == _reference(value)


def test_fetched_serialises_its_raw_value_when_asked() -> None:
    post = Post("hi", id="1", platform="tiktok")
    assert Fetched(post, raw_value={"id": "1", "desc": "hé"}).raw == '{"id":"1","desc":"hé"}'
    assert Fetched(post, raw_value="<div>html</div>").raw == "<div>html</div>"
    assert Fetched(post).raw is None
