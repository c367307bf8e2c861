"""monitors.sources.base.json_text: the stored evidence text of a platform item.

It writes with orjson and falls back to the standard library; either way the text
must be exactly ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``,
the format evidence has always been stored in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from compliance.model import Post
from monitors.http import _SLOW, _fast_json, decode_json
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


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 12345678901234567890, "n": -98765432109876543210}',  # beyond 64 bits
        b'{"id": 9223372036854775807, "f": 1.12345678901234567890123, "e": 1e19}',
        b'{"id": "12345678901234567890", "x": [true, false, null, -0, 0.5]}',
        b"[12345678901234567890, -12345678901234567890]",
        b'{"a" :\n 12345678901234567890\n}',
        b"12345678901234567890",
        b'{"s": "note:12345678901234567890,", "n": 1}',  # looks like a value: the slow reading
        b'{"a": NaN, "b": Infinity}',
        b'{"desc": "lone \\ud800 surrogate"}',
        b'{"desc": "pair \\ud83d\\ude00 and \\u00e9 and \xc3\xa9"}',
        b'{"a": 1, "a": 2}',
        '{"a": "é"}'.encode("utf-16"),
    ],
)
def test_platform_answers_read_as_the_standard_library_reads_them(body: bytes) -> None:
    response = httpx.Response(200, content=body, request=httpx.Request("GET", "http://x"))
    got = decode_json(response, platform="tiktok")
    want = httpx.Response(200, content=body).json()
    assert json.dumps(got) == json.dumps(want)  # NaN != NaN: compare the text
    assert [type(v) for v in _values(got)] == [type(v) for v in _values(want)]


@pytest.mark.parametrize(
    ("body", "fast"),
    [
        # TikTok's ids are 19-digit strings: every item list would go the slow way
        # if any 19-digit run counted.
        (
            b'{"itemList":[{"id":"7312345678901234567","author":{"id":"6812345678901234567"}}]}',
            True,
        ),
        # Within 64 bits orjson reads integers exactly.
        (b'{"id": 9999999999999999999, "m": -123456789012345678, "n": 1e19}', True),
        (b'{"id": 12345678901234567890}', False),
        (b'{"ids": [1, 12345678901234567890]}', False),
        (b"[-1234567890123456789 ]", False),
    ],
)
def test_only_long_integer_values_take_the_standard_library(body: bytes, fast: bool) -> None:
    assert (_fast_json(body) is not _SLOW) is fast


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [value]
