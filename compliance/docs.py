"""Rule reference text, generated from the rule files (``compliance rules show``).

The same text is what the docs would publish: it cannot drift from the rule,
because it is the rule.
"""

from __future__ import annotations

import textwrap

from compliance.packs import Example, Pack, Rule

_KIND_SUMMARY = {
    ("existence", "missing"): "Flags a sponsored post whose caption carries no disclosure at all.",
    (
        "existence",
        "label_only",
    ): "Flags a post disclosed only by the platform's paid-partnership label.",
    ("existence", "contradicted"): "Flags a sponsored post that says it is not sponsored.",
    ("existence", "transcript"): "Flags a video whose transcript carries no disclosure.",
    (
        "existence",
        "unverified_video",
    ): "Notes a video whose in-video disclosure cannot be checked from the caption.",
    (
        "substitution",
        "ambiguous",
    ): "Flags wording that regulators call unclear and names the clear wording to use.",
    (
        "substitution",
        "obfuscated",
    ): "Flags a disclosure written with look-alike, invisible or decorated characters.",
    (
        "placement",
        "fold",
    ): "Flags a disclosure that starts after the platform's '... more' cut-off.",
    ("placement", "hashtag_run"): "Flags a disclosure lost in a run of hashtags.",
    ("consistency", "language"): "Flags a disclosure in another language than the post.",
    (
        "consistency",
        "coverage",
    ): "Flags a disclosure that names a lesser connection than the real one.",
}


def what_it_does(rule: Rule) -> str:
    """One line saying what the rule checks."""
    key = next(iter(rule.params.values()), None)
    return _KIND_SUMMARY.get((rule.kind, key), f"A {rule.kind} rule.")


def _example(ex: Example) -> str:
    extra = ", ".join(f"{k}={v!r}" for k, v in ex.fields.items())
    return f"  {ex.caption!r}" + (f"\n      ({extra})" if extra else "")


def rule_doc(rule: Rule) -> str:
    """The reference page of one rule, in ruff's section order."""

    def wrap(s: str) -> str:
        return textwrap.fill(
            " ".join(s.split()), width=88, initial_indent="  ", subsequent_indent="  "
        )

    parts = [
        f"{rule.id} {rule.name} ({rule.level.value}; finding code: {rule.finding})",
        "",
        "What it does",
        wrap(what_it_does(rule)),
        "",
        "Why is this bad?",
        wrap(rule.why),
        "",
        "Example (fails)",
        *(_example(e) for e in rule.fail),
        "",
        "Use instead (passes)",
        *(_example(e) for e in rule.passes),
        "",
        "Message",
        wrap(rule.message),
        "Fix",
        wrap(rule.fix),
        "",
        "References",
        wrap(rule.source),
    ]
    if rule.provenance:
        parts.append(
            f"  provenance: {rule.provenance} (V verbatim, Q quoted, S summarised, P practice, M unconfirmed)"
        )
    parts.append(f"  file: {rule.path}")
    return "\n".join(parts)


def _md_example(ex: Example) -> str:
    extra = ", ".join(f"`{k}: {v}`" for k, v in ex.fields.items())
    caption = ex.caption.replace("\n", "⏎").replace("`", "'")
    return f"- `{caption}`" + (f" ({extra})" if extra else "")


def pack_markdown(pack: Pack) -> str:
    """The reference page of one pack, in Markdown, generated from its files."""
    lines = [
        f"# {pack.id}: {pack.name}",
        "",
        f"Jurisdictions: {', '.join(pack.jurisdictions)}. Languages: {', '.join(pack.languages)}. "
        f"Version {pack.version}. Platform paid-partnership label accepted on its own: "
        f"{'yes' if pack.label_accepted else 'no'}.",
        "",
        "Fold ('... more' cut-off, characters): "
        + ", ".join(f"{k} {'none' if v is None else v}" for k, v in pack.folds.items())
        + f"; or after {pack.max_line_breaks} line breaks. "
        + (
            f"A disclosure must be among the first {pack.max_hashtag_position} hashtags."
            if pack.max_hashtag_position
            else f"A run of {pack.hashtag_run} or more hashtags buries a disclosure."
        ),
        "",
    ]
    if pack.space_limited:
        lines += [
            "Space-limited platforms (where a brand-plus-word tag such as '#AcmePartner' is "
            f"clear; elsewhere it is ambiguous): {', '.join(pack.space_limited)}.",
            "",
        ]
    if pack.notes:
        lines += ["Notes:", *(f"- {n}" for n in pack.notes), ""]
    lines += ["Sources:", *(f"- **{k}**: {v}" for k, v in pack.sources.items()), ""]
    lines += ["| rule | name | level | finding |", "|---|---|---|---|"]
    for rule in sorted(pack.rules, key=lambda r: r.code):
        lines.append(
            f"| [{rule.id}](#{rule.id.lower().replace('.', '')}) | {rule.name} | {rule.level.value} | `{rule.finding}` |"
        )
    lines.append("")
    for rule in sorted(pack.rules, key=lambda r: r.code):
        lines += [
            f"## {rule.id}",
            "",
            f"`{rule.name}` · {rule.level.value} · finding `{rule.finding}` · provenance {rule.provenance or '-'}",
            "",
            "**What it does.** " + what_it_does(rule),
            "",
            "**Why is this bad?** " + " ".join(rule.why.split()),
            "",
            "**Example** (fails):",
            *(_md_example(e) for e in rule.fail),
            "",
            "**Use instead** (passes):",
            *(_md_example(e) for e in rule.passes),
            "",
            "**References.** " + rule.source,
            "",
        ]
    return "\n".join(lines)
