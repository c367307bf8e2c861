"""YAML with line numbers, and the small checks every validated YAML file needs.

Shared by the rule packs (``compliance.packs``) and the configuration file
(``compliance.config``): both must report a typo as ``file:line: message``, so
the loader keeps the line of every mapping key and sequence item, and refuses
duplicate keys (PyYAML would silently keep the last one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml


class YamlError(ValueError):
    """A YAML file that does not validate; str() is 'file:line: message'."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass
class Located:
    """A parsed YAML document plus the line of every mapping key and sequence item.

    ``error_type`` is the :class:`YamlError` subclass that :meth:`error` builds,
    so that each caller keeps its own exception type (``PackError``, ...).
    """

    path: Path
    data: Any
    lines: dict[tuple[Any, ...], int]
    error_type: type[YamlError] = YamlError

    def line(self, *keys: Any) -> int | None:
        """The line of the deepest of ``keys`` that has a recorded line, or None."""
        for n in range(len(keys), -1, -1):
            line = self.lines.get(tuple(keys[:n]))
            if line is not None:
                return line
        return None

    def where(self, *keys: Any) -> str:
        """'file:line' for the deepest of ``keys`` that has a recorded line."""
        line = self.line(*keys)
        return f"{self.path}:{line}" if line is not None else str(self.path)

    def error(self, message: str, *keys: Any) -> YamlError:
        """An error (of ``error_type``) located at ``keys``."""
        return self.error_type(self.where(*keys), message)


# libyaml's parser when PyYAML was built with it: it keeps the same line marks and
# is ~15x faster, which is a third of `compliance check --text` start-up.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path, error_type: type[YamlError] = YamlError) -> Located:
    """Parse a YAML file, keeping line numbers; unreadable files, syntax errors and
    duplicate keys raise ``error_type``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error_type(str(path), f"cannot read: {exc}") from exc
    return parse_yaml(text, path, error_type)


def parse_yaml(text: str, path: Path, error_type: type[YamlError] = YamlError) -> Located:
    """Parse YAML ``text`` that came from ``path`` (used in messages), keeping line numbers."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error_type(where, f"invalid YAML: {problem}") from exc
    lines: dict[tuple[Any, ...], int] = {}
    data = _construct(node, (), lines, path, error_type) if node is not None else None
    return Located(path, data, lines, error_type)


def _construct(
    node: yaml.Node,
    key: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
    path: Path,
    error_type: type[YamlError],
) -> Any:
    lines.setdefault(key, node.start_mark.line + 1)
    if node.tag not in _PLAIN_TAGS:
        # Composing never runs a tag, but a !!python/... tag (or any other application tag)
        # in a config or rule file is an attack or a mistake: refuse it, naming the line.
        shown = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise error_type(
            f"{path}:{node.start_mark.line + 1}",
            f"unsupported YAML tag {shown!r}: only plain YAML values (strings, numbers, "
            "booleans, dates, lists and mappings) are read",
        )
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for k_node, v_node in node.value:
            k = _scalar(k_node)
            if k in out:
                raise error_type(f"{path}:{k_node.start_mark.line + 1}", f"duplicate key {k!r}")
            lines[(*key, k)] = k_node.start_mark.line + 1
            out[k] = _construct(v_node, (*key, k), lines, path, error_type)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, (*key, i), lines, path, error_type)
            for i, item in enumerate(node.value)
        ]
    return _scalar(node)


_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# The tags of plain YAML (what the safe loader resolves untagged values to).
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)


def _scalar(node: yaml.Node) -> Any:
    """Construct a scalar with the safe loader's type resolution (tags were resolved by compose)."""
    return _CONSTRUCTOR.construct_object(node, deep=True)


# --- Validation helpers -----------------------------------------------------------


def dotted(keys: Iterable[Any]) -> str:
    """``("a", 0, "b")`` → ``"a[0].b"``: a key path as a person would write it."""
    out = ""
    for k in keys:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out


def unknown_keys(data: Mapping[Any, Any], allowed: Iterable[str]) -> list[tuple[Any, str]]:
    """(key, hint) for each key of ``data`` not in ``allowed``; the hint is a 'did you mean'
    when a close match exists, else the list of allowed keys."""
    allowed_set = set(allowed)
    out = []
    for k in data:
        if k in allowed_set:
            continue
        guess = get_close_matches(str(k), sorted(allowed_set), n=1)
        hint = (
            f"did you mean {guess[0]!r}?" if guess else f"allowed: {', '.join(sorted(allowed_set))}"
        )
        out.append((k, hint))
    return out


def check_keys(
    doc: Located,
    data: Mapping[str, Any],
    allowed: Iterable[str],
    required: Iterable[str],
    *key: Any,
) -> None:
    """Raise for the first key of ``data`` not in ``allowed``, then for a missing required key."""
    allowed_set = set(allowed)
    for k in data:
        if k not in allowed_set:
            raise doc.error(
                f"unknown key {k!r} (allowed: {', '.join(sorted(allowed_set))})", *key, k
            )
    for k in required:
        if k not in data:
            raise doc.error(f"missing required key {k!r}", *key)


def get_str(doc: Located, value: Any, *key: Any, allow_empty: bool = False) -> str:
    """``value`` when it is a (non-empty) string; else an error naming ``key``."""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise doc.error(f"{'.'.join(map(str, key))}: expected a non-empty string", *key)
    return value


def get_str_list(doc: Located, value: Any, *key: Any) -> tuple[str, ...]:
    """``value`` as a tuple of strings (one string counts as a list of one)."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise doc.error(f"{'.'.join(map(str, key))}: expected a list of strings", *key)
    return tuple(value)


def get_choice(doc: Located, value: Any, choices: Iterable[str], *key: Any) -> str:
    """``value`` when it is one of ``choices``; else an error listing them."""
    options = tuple(choices)
    if value not in options:
        raise doc.error(
            f"{'.'.join(map(str, key))}: {value!r} is not one of {', '.join(options)}", *key
        )
    return value
