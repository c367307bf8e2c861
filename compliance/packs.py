"""Load and validate rule packs from ``rules/<pack>/``: pack.yaml, vocab/<lang>.yaml, one rule per file.

Rules are data (legal wording, term lists, fold lengths, citations); the Python
behind them is a small closed set of kinds (``compliance.kinds``). Everything is
validated at load: unknown keys, wrong types, unknown kinds and uncompilable term
patterns are errors that name the file and line, so a typo in a rule can never
silently switch it off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compliance.model import (
    CAMPAIGN_KEYS,
    FINDING_CODES,
    PLATFORMS,
    RELATIONSHIPS,
    CampaignError,
    Level,
    campaign_from_mapping,
)
from compliance.yamlfile import (
    Located,
    YamlError,
    check_keys,
    get_choice,
    get_str,
    get_str_list,
)
from compliance.yamlfile import load_yaml as _load_yaml


def _shipped_rules() -> Path:
    """The packs shipped with compliance: installed as compliance/_rules, or rules/ in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_rules"
    return installed if installed.is_dir() else here.parent / "rules"


RULES_DIR = _shipped_rules()

# "ordinary": a phrase that holds a disclosure word used as an ordinary word
# ("music for an advertisement", "a job in advertising"); a disclosure inside it
# does not count, and it shows nothing itself.
CLARITIES = ("clear", "ambiguous", "negation", "signal", "ordinary")
CONNECTIONS = (*[r for r in RELATIONSHIPS if r != "none"], "any")
STRENGTHS = ("strong", "weak")
PROVENANCE = ("V", "Q", "S", "P", "M")
_CODE_RE = re.compile(r"^[A-Z][0-9]{3}$")
_PACK_ID_RE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class PackError(YamlError):
    """A pack, vocabulary or rule file that does not validate; str() is 'file:line: message'."""


def load_yaml(path: Path) -> Located:
    """Parse a pack's YAML file, keeping line numbers; errors are PackError."""
    return _load_yaml(path, PackError)


# --- Values ----------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One entry of a pack vocabulary: a pattern plus what it means when found."""

    key: str
    pattern: str
    lang: str
    clarity: str
    covers: tuple[str, ...]
    strength: str
    suggest: str | None
    note: str | None
    where: str
    # "space_limited": clear only on the pack's space-limited platforms (FTC D101:
    # "Acme Partner" on a platform like Twitter), ambiguous elsewhere.
    clear_on: str | None = None


@dataclass(frozen=True)
class Example:
    """A rule example: a caption plus optional post fields (platform, campaign, ...)."""

    caption: str
    fields: Mapping[str, Any]
    where: str


@dataclass(frozen=True)
class Rule:
    """One rule file: what it checks (kind + params), what it says, and why."""

    id: str
    code: str
    name: str
    finding: str
    kind: str
    level: Level
    message: str
    fix: str
    why: str
    source: str
    provenance: str
    params: Mapping[str, Any]
    fail: tuple[Example, ...]
    passes: tuple[Example, ...]
    path: Path


@dataclass(frozen=True)
class Pack:
    """The rules of one jurisdiction, with its vocabulary and placement parameters."""

    id: str
    name: str
    jurisdictions: tuple[str, ...]
    version: str
    languages: tuple[str, ...]
    default_language: str
    folds: Mapping[str, int | None]
    max_line_breaks: int
    hashtag_run: int
    max_hashtag_position: int | None
    label_accepted: bool
    label_name: str
    require_audience_language: bool
    # Platforms the pack's sources call space-limited (where a term marked
    # 'clear_on: space_limited' is clear).
    space_limited: tuple[str, ...]
    suggestions: Mapping[str, str]
    sources: Mapping[str, str]
    notes: tuple[str, ...]
    terms: tuple[Term, ...]
    rules: tuple[Rule, ...]
    path: Path
    terms_by_key: Mapping[str, Term] = field(default_factory=dict)

    def fold_for(self, platform: str) -> int | None:
        """Characters visible before the platform's "more" cut-off (None: no fold)."""
        if platform in self.folds:
            return self.folds[platform]
        return self.folds.get("other")


class Packs:
    """The packs of a rules directory, by id and by jurisdiction.

    Each pack is loaded (and fully validated) the first time it is needed, so a
    one-off check of a US post does not pay for parsing the other jurisdictions;
    iterating loads them all.
    """

    def __init__(
        self,
        index: Sequence[tuple[Path, str, tuple[str, ...]]],
        *,
        base: Packs | None = None,
        overrides: Mapping[str, Level | None] | None = None,
    ) -> None:
        self._index = tuple(index)  # (directory, pack id, jurisdictions)
        self._loaded: dict[Path, Pack] = {}
        # Jurisdiction code -> its pack, once looked up: asked for every post checked.
        self._by_code: dict[str, Pack] = {}
        self._base = base
        self._overrides = dict(overrides or {})

    def _get(self, directory: Path) -> Pack:
        pack = self._loaded.get(directory)
        if pack is None:
            if self._base is None:
                pack = load_pack(directory)
            else:
                pack = apply_overrides(self._base._get(directory), self._overrides)
            self._loaded[directory] = pack
        return pack

    def with_overrides(self, overrides: Mapping[str, Level | None]) -> Packs:
        """These packs with some rules switched off (``None``) or given another level, as a
        project's compliance.yaml asks (like Vale's per-project rule settings). Rule ids
        are full ids such as ``FTC.C201``; the packs themselves stay as they are."""
        return Packs(self._index, base=self, overrides=overrides)

    @property
    def packs(self) -> tuple[Pack, ...]:
        """Every pack, loaded."""
        return tuple(self._get(d) for d, _, _ in self._index)

    @property
    def jurisdictions(self) -> tuple[str, ...]:
        """Every jurisdiction some pack covers, sorted."""
        return tuple(sorted(j for _, _, js in self._index for j in js))

    def for_jurisdiction(self, jurisdiction: str | None) -> Pack:
        """The pack for an ISO country code (default US); KeyError names the choices."""
        code = (jurisdiction or "US").upper()
        pack = self._by_code.get(code)
        if pack is not None:
            return pack
        for directory, _, jurisdictions in self._index:
            if code in jurisdictions:
                pack = self._by_code[code] = self._get(directory)
                return pack
        available = ", ".join(self.jurisdictions)
        raise KeyError(f"no rule pack for jurisdiction {code!r} (available: {available})")

    def by_id(self, pack_id: str) -> Pack | None:
        """The pack with this id (or jurisdiction), or None."""
        wanted = pack_id.upper()
        for directory, pid, jurisdictions in self._index:
            if wanted == pid or wanted in jurisdictions:
                return self._get(directory)
        return None

    def rule(self, rule_id: str) -> Rule:
        """A rule by its full id such as 'FTC.C201' (case-insensitive)."""
        pack_id, _, _code = rule_id.upper().partition(".")
        pack = self.by_id(pack_id)
        for rule in pack.rules if pack else ():
            if rule.id.upper() == rule_id.upper():
                return rule
        raise KeyError(f"no rule {rule_id!r}")

    def __iter__(self) -> Iterator[Pack]:
        return iter(self.packs)


def apply_overrides(pack: Pack, overrides: Mapping[str, Level | None]) -> Pack:
    """``pack`` with each rule named in ``overrides`` dropped (None) or re-levelled."""
    if not any(rule.id in overrides for rule in pack.rules):
        return pack
    rules = []
    for rule in pack.rules:
        if rule.id not in overrides:
            rules.append(rule)
            continue
        level = overrides[rule.id]
        if level is not None:
            rules.append(replace(rule, level=level))
    return replace(pack, rules=tuple(rules))


# --- Loading ------------------------------------------------------------------------

_PACK_KEYS = {
    "id",
    "name",
    "jurisdictions",
    "version",
    "languages",
    "default_language",
    "folds",
    "max_line_breaks",
    "hashtag_run",
    "max_hashtag_position",
    "label_accepted",
    "label_name",
    "require_audience_language",
    "space_limited",
    "suggestions",
    "sources",
    "notes",
}
_PACK_REQUIRED = {"id", "name", "jurisdictions", "version", "languages", "folds", "sources"}
_TERM_KEYS = {"term", "clarity", "covers", "strength", "suggest", "note", "clear_on"}
CLEAR_ON = ("space_limited",)
_RULE_COMMON = {
    "code",
    "name",
    "finding",
    "extends",
    "level",
    "message",
    "fix",
    "why",
    "source",
    "provenance",
    "examples",
}
_RULE_REQUIRED = _RULE_COMMON - {"provenance"}
_EXAMPLE_FIELDS = {
    "caption",
    "platform",
    "paid_partnership",
    "is_video",
    "transcript",
    "language",
    "campaign",
}


def load_pack(directory: Path) -> Pack:
    """Load one pack directory, validating everything; raises PackError."""
    from compliance.kinds import KINDS  # the kinds validate their own parameters

    doc = load_yaml(directory / "pack.yaml")
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("expected a mapping")
    check_keys(doc, data, _PACK_KEYS, _PACK_REQUIRED)
    pack_id = get_str(doc, data["id"], "id")
    if not _PACK_ID_RE.match(pack_id):
        raise doc.error("id: expected 2-12 upper-case letters or digits, e.g. FTC", "id")
    jurisdictions = tuple(
        j.upper() for j in get_str_list(doc, data["jurisdictions"], "jurisdictions")
    )
    languages = get_str_list(doc, data["languages"], "languages")
    folds_raw = data["folds"]
    if not isinstance(folds_raw, dict):
        raise doc.error("folds: expected a mapping platform -> characters (or null)", "folds")
    folds: dict[str, int | None] = {}
    for platform, chars in folds_raw.items():
        get_choice(doc, platform, PLATFORMS, "folds", platform)
        if chars is not None and (not isinstance(chars, int) or chars < 0):
            raise doc.error(
                f"folds.{platform}: expected a character count or null", "folds", platform
            )
        folds[platform] = chars
    if "other" not in folds:
        raise doc.error("folds: needs an 'other' entry (the default fold)", "folds")
    ints = {}
    for key, default in (("max_line_breaks", 3), ("hashtag_run", 3)):
        value = data.get(key, default)
        if not isinstance(value, int) or value < 1:
            raise doc.error(f"{key}: expected a positive integer", key)
        ints[key] = value
    max_pos = data.get("max_hashtag_position")
    if max_pos is not None and (not isinstance(max_pos, int) or max_pos < 1):
        raise doc.error(
            "max_hashtag_position: expected a positive integer or null", "max_hashtag_position"
        )
    for key in ("label_accepted", "require_audience_language"):
        if key in data and not isinstance(data[key], bool):
            raise doc.error(f"{key}: expected true or false", key)
    sources = data["sources"]
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise doc.error("sources: expected a mapping of short name -> citation", "sources")
    suggestions = data.get("suggestions", {})
    if not isinstance(suggestions, dict) or not all(
        isinstance(v, str) for v in suggestions.values()
    ):
        raise doc.error(
            "suggestions: expected a mapping language -> disclosure to suggest", "suggestions"
        )
    default_language = data.get("default_language", languages[0])
    space_limited = tuple(get_str_list(doc, data.get("space_limited", []), "space_limited"))
    for platform in space_limited:
        get_choice(doc, platform, PLATFORMS, "space_limited")

    terms = _load_vocab(directory / "vocab", languages)
    rules = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "pack.yaml":
            continue
        rules.append(_load_rule(path, pack_id, KINDS))
    codes: dict[str, Path] = {}
    for rule in rules:
        if rule.code in codes:
            raise PackError(
                str(rule.path), f"code {rule.code} is already used by {codes[rule.code].name}"
            )
        codes[rule.code] = rule.path
    if not rules:
        raise doc.error(f"pack {pack_id} has no rule files")
    return Pack(
        id=pack_id,
        name=get_str(doc, data["name"], "name"),
        jurisdictions=jurisdictions,
        version=str(data["version"]),
        languages=languages,
        default_language=default_language,
        folds=folds,
        max_line_breaks=ints["max_line_breaks"],
        hashtag_run=ints["hashtag_run"],
        max_hashtag_position=max_pos,
        label_accepted=bool(data.get("label_accepted", False)),
        label_name=str(data.get("label_name", "Paid partnership")),
        require_audience_language=bool(data.get("require_audience_language", True)),
        space_limited=space_limited,
        suggestions=dict(suggestions),
        sources=dict(sources),
        notes=get_str_list(doc, data.get("notes", []), "notes"),
        terms=terms,
        rules=tuple(rules),
        path=directory,
        terms_by_key={t.key: t for t in terms},
    )


def _load_vocab(directory: Path, languages: tuple[str, ...]) -> tuple[Term, ...]:
    from compliance.nlp import PatternError, validate_pattern

    if not directory.is_dir():
        raise PackError(str(directory), "missing vocab/ directory")
    terms: list[Term] = []
    for path in sorted(directory.glob("*.yaml")):
        lang = path.stem
        doc = load_yaml(path)
        if not isinstance(doc.data, list):
            raise doc.error("expected a list of terms")
        seen: set[str] = set()
        for i, entry in enumerate(doc.data):
            if isinstance(entry, str):
                entry = {"term": entry, "clarity": "clear"}
            if not isinstance(entry, dict):
                raise doc.error("expected a term (mapping with 'term' and 'clarity')", i)
            check_keys(doc, entry, _TERM_KEYS, {"term", "clarity"}, i)
            pattern = get_str(doc, entry["term"], i, "term")
            clarity = get_choice(doc, entry["clarity"], CLARITIES, i, "clarity")
            if pattern.lower() in seen:
                raise doc.error(f"term {pattern!r} is listed twice", i)
            seen.add(pattern.lower())
            covers = get_str_list(doc, entry.get("covers", ["any"]), i, "covers")
            for c in covers:
                get_choice(doc, c, CONNECTIONS, i, "covers")
            strength = get_choice(doc, entry.get("strength", "strong"), STRENGTHS, i, "strength")
            suggest = entry.get("suggest")
            if suggest is not None:
                get_str(doc, suggest, i, "suggest")
            clear_on = entry.get("clear_on")
            if clear_on is not None:
                get_choice(doc, clear_on, CLEAR_ON, i, "clear_on")
                if clarity != "clear":
                    raise doc.error("clear_on: only a clear term can be clear on some platforms", i)
            if (clarity == "ambiguous" or clear_on) and suggest is None:
                raise doc.error("an ambiguous term needs 'suggest' (the clear wording to use)", i)
            key = f"{lang}:{i}:{pattern}"
            try:
                validate_pattern(pattern)
            except PatternError as exc:
                raise doc.error(f"term {pattern!r}: {exc}", i, "term") from exc
            terms.append(
                Term(
                    key,
                    pattern,
                    lang,
                    clarity,
                    covers,
                    strength,
                    suggest,
                    entry.get("note"),
                    doc.where(i),
                    clear_on,
                )
            )
    if not terms:
        raise PackError(str(directory), "no vocabulary terms")
    return tuple(terms)


def _load_rule(path: Path, pack_id: str, kinds: Mapping[str, Any]) -> Rule:
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("expected a mapping")
    kind_name = data.get("extends")
    if not isinstance(kind_name, str) or kind_name not in kinds:
        raise doc.error(
            f"extends: unknown kind {kind_name!r} (kinds: {', '.join(sorted(kinds))})", "extends"
        )
    kind = kinds[kind_name]
    check_keys(doc, data, _RULE_COMMON | set(kind.PARAMS), _RULE_REQUIRED)
    code = get_str(doc, data["code"], "code")
    if not _CODE_RE.match(code):
        raise doc.error("code: expected a family letter and three digits, e.g. C201", "code")
    name = get_str(doc, data["name"], "name")
    if not _NAME_RE.match(name):
        raise doc.error("name: expected kebab-case, e.g. ambiguous-disclosure", "name")
    if name != path.stem:
        raise doc.error(f"name {name!r} must match the file name {path.stem!r}", "name")
    finding = get_choice(doc, data["finding"], FINDING_CODES, "finding")
    level = Level(get_choice(doc, data["level"], [lv.value for lv in Level], "level"))
    provenance = data.get("provenance", "")
    if provenance:
        for tag in str(provenance).replace(",", " ").split():
            get_choice(doc, tag, PROVENANCE, "provenance")
    params: dict[str, Any] = {}
    for pname, spec in kind.PARAMS.items():
        value = data.get(pname, spec.default)
        try:
            params[pname] = spec.validate(value)
        except ValueError as exc:
            raise doc.error(f"{pname}: {exc}", pname) from exc
    try:
        kind.check_params(finding, params)
    except ValueError as exc:
        raise doc.error(str(exc)) from exc
    examples = data["examples"]
    if not isinstance(examples, dict):
        raise doc.error("examples: expected {fail: [...], pass: [...]}", "examples")
    check_keys(doc, examples, {"fail", "pass"}, {"fail", "pass"}, "examples")
    fail = _examples(doc, examples["fail"], "fail")
    passes = _examples(doc, examples["pass"], "pass")
    if not fail or not passes:
        raise doc.error(
            "examples: every rule needs at least one failing and one passing example", "examples"
        )
    return Rule(
        id=f"{pack_id}.{code}",
        code=code,
        name=name,
        finding=finding,
        kind=kind_name,
        level=level,
        message=get_str(doc, data["message"], "message"),
        fix=get_str(doc, data["fix"], "fix"),
        why=get_str(doc, data["why"], "why"),
        source=get_str(doc, data["source"], "source"),
        provenance=str(provenance),
        params=params,
        fail=fail,
        passes=passes,
        path=path,
    )


def _examples(doc: Located, items: Any, which: str) -> tuple[Example, ...]:
    if not isinstance(items, list):
        raise doc.error(f"examples.{which}: expected a list", "examples", which)
    out = []
    for i, item in enumerate(items):
        key = ("examples", which, i)
        if isinstance(item, str):
            out.append(Example(item, {}, doc.where(*key)))
            continue
        if not isinstance(item, dict):
            raise doc.error("an example is a caption string or a mapping with 'caption'", *key)
        check_keys(doc, item, _EXAMPLE_FIELDS, {"caption"}, *key)
        campaign = item.get("campaign")
        if campaign is not None:
            if not isinstance(campaign, dict):
                raise doc.error("campaign: expected a mapping", *key, "campaign")
            check_keys(doc, campaign, CAMPAIGN_KEYS, (), *key, "campaign")
            try:
                campaign_from_mapping(campaign)
            except CampaignError as exc:
                raise doc.error(str(exc), *key, "campaign", exc.key or "") from exc
        fields = {k: v for k, v in item.items() if k != "caption"}
        out.append(
            Example(
                get_str(doc, item["caption"], *key, "caption", allow_empty=True),
                fields,
                doc.where(*key),
            )
        )
    return tuple(out)


def load_packs(directory: Path | str | None = None, *, reload: bool = False) -> Packs:
    """Load every pack under ``directory`` (default: the packs shipped with compliance).

    The packs of a directory are loaded once per process; ``reload=True`` reads the
    files again (a daemon re-reading its configuration after the rules were edited).
    """
    root = (Path(directory) if directory is not None else RULES_DIR).resolve()
    packs = None if reload else _PACKS.get(root)
    if packs is None:
        packs = _index_packs(root)
        if len(_PACKS) >= _PACKS_KEPT and root not in _PACKS:
            _PACKS.clear()
        _PACKS[root] = packs
    return packs


# The packs of each rules directory already loaded, by resolved path.
_PACKS: dict[Path, Packs] = {}
_PACKS_KEPT = 8


def _index_packs(root: Path) -> Packs:
    """Index the packs of ``root`` (each pack itself is loaded when first needed)."""
    if not root.is_dir():
        raise PackError(str(root), "rules directory not found")
    index: list[tuple[Path, str, tuple[str, ...]]] = []
    seen: dict[str, Path] = {}
    for directory in sorted(root.iterdir()):
        if not (directory / "pack.yaml").is_file():
            continue
        pack_id, jurisdictions = _pack_header(directory / "pack.yaml")
        for j in (pack_id, *jurisdictions):
            key = f"{'id' if j == pack_id else 'jurisdiction'}:{j}"
            if key in seen:
                raise PackError(
                    str(directory / "pack.yaml"), f"{j} is already claimed by {seen[key]}"
                )
            seen[key] = directory
        index.append((directory, pack_id, jurisdictions))
    if not index:
        raise PackError(str(root), "no packs found (a pack is a directory with pack.yaml)")
    return Packs(index)


def _pack_header(path: Path) -> tuple[str, tuple[str, ...]]:
    """A pack's id and jurisdictions, read without loading the rest of the pack."""
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict) or "id" not in data or "jurisdictions" not in data:
        raise doc.error("a pack.yaml needs at least 'id' and 'jurisdictions'")
    pack_id = get_str(doc, data["id"], "id")
    return pack_id, tuple(
        j.upper() for j in get_str_list(doc, data["jurisdictions"], "jurisdictions")
    )
