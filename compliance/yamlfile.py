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
    """Parse a YAML file, keeping line numbers; unreadable files, bytes that are not UTF-8,
    syntax errors, duplicate keys, tags beyond plain YAML, and alias bombs raise
    ``error_type`` (one line: file, line where there is one, message)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error_type(str(path), f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error_type(
            f"{path}:{line}",
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
            "(save the file as UTF-8)",
        ) from exc
    return parse_yaml(text, path, error_type)


def parse_yaml(text: str, path: Path, error_type: type[YamlError] = YamlError) -> Located:
    """Parse YAML ``text`` that came from ``path`` (used in messages), keeping line numbers."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (NUL, other controls): the reader says where
        # by character position only, over two lines.
        line = text.count("\n", 0, exc.position) + 1
        raise error_type(
            f"{path}:{line}", f"invalid YAML: character {exc.character!r} is not allowed"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error_type(where, f"invalid YAML: {problem}") from exc
    lines: dict[tuple[Any, ...], int] = {}
    data = None
    if node is not None:
        data = _Builder(path, error_type, lines, _count_nodes(node)).build(node, ())
    return Located(path, data, lines, error_type)


# Plain YAML: what a configuration or rule file needs. Anything else (!!python/object,
# !!binary, local tags) is refused instead of silently read as a plain value.
_ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")
)
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# Deeper than any configuration or rule file; Python's recursion limit is near 1,000.
MAX_DEPTH = 64


def _count_nodes(root: yaml.Node) -> int:
    """How many distinct nodes the document has (aliases share their anchor's node)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return len(seen)


class _Builder:
    """Python values from a composed YAML node graph, with the line of every key and item.

    Aliases make the graph share nodes: a few lines of anchors can stand for a billion
    values ("billion laughs"), or for themselves (``&a [*a]``). Both are refused, as is
    nesting deeper than :data:`MAX_DEPTH`, instead of running out of memory or stack.
    """

    def __init__(
        self,
        path: Path,
        error_type: type[YamlError],
        lines: dict[tuple[Any, ...], int],
        distinct: int,
    ) -> None:
        self.path = path
        self.error_type = error_type
        self.lines = lines
        # Aliases may repeat a list or mapping here and there, not multiply the file.
        self.budget = 10 * distinct + 100_000
        self.active: set[int] = set()

    def error(self, node: yaml.Node, message: str) -> YamlError:
        return self.error_type(f"{self.path}:{node.start_mark.line + 1}", message)

    def build(self, node: yaml.Node, key: tuple[Any, ...]) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.error(node, "too many values through aliases (an alias bomb?)")
        if len(key) > MAX_DEPTH:
            raise self.error(node, f"nested deeper than {MAX_DEPTH} levels")
        if id(node) in self.active:
            raise self.error(node, "an alias refers to a value that holds it (recursive alias)")
        self.lines.setdefault(key, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                raise self.error(node, f"tag {_short(node.tag)} is not allowed (plain YAML only)")
            self.active.add(id(node))
            out: dict[Any, Any] = {}
            for k_node, v_node in node.value:
                if not isinstance(k_node, yaml.ScalarNode):
                    raise self.error(k_node, "a key must be a plain value, not a list or mapping")
                k = self.scalar(k_node)
                if k in out:
                    raise self.error(k_node, f"duplicate key {k!r}")
                self.lines[(*key, k)] = k_node.start_mark.line + 1
                out[k] = self.build(v_node, (*key, k))
            self.active.discard(id(node))
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self.error(node, f"tag {_short(node.tag)} is not allowed (plain YAML only)")
            self.active.add(id(node))
            items = [self.build(item, (*key, i)) for i, item in enumerate(node.value)]
            self.active.discard(id(node))
            return items
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        """A scalar, typed by the safe loader's rules (tags were resolved by compose)."""
        if node.tag not in _ALLOWED_TAGS:
            raise self.error(node, f"tag {_short(node.tag)} is not allowed (plain YAML only)")
        try:
            return _CONSTRUCTOR.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            # e.g. a date that is no date: "starts: 2026-13-45".
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise self.error(node, f"cannot read {node.value!r}: {problem}") from exc


def _short(tag: str) -> str:
    """'tag:yaml.org,2002:python/object' as written in a file: '!!python/object'."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


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
