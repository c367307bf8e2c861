"""Evidence bundles: one violation, as files a lawyer can archive and anybody can verify.

A bundle is a directory::

    violation.json            the violation, post (with ``gone_at`` and its gone/reappeared
                              history), campaign, caption versions (metadata),
                              finding, waiver and full history, plus when and from
                              which database the bundle was made
    captions/v<id>.txt        each caption version, byte for byte (UTF-8); its SHA-256
                              is the one recorded when the caption was first seen
    checks/c<id>.json         each stored verdict, byte for byte; its SHA-256 is the
                              one recorded with the check
    raw/v<id>.txt             the platform's response a version came from, when stored
    README.txt                what the files are and how to verify them
    SHA256SUMS                SHA-256 of every file above, in ``sha256sum`` format:
                              ``sha256sum -c SHA256SUMS`` checks the whole bundle

The bundle is written into an empty (or new) directory so that evidence is never
mixed with, or written over, other files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from compliance.private import make_dirs, write_private
from compliance.store.queries import check_results, iso, raw_responses, violation_detail

MANIFEST = "SHA256SUMS"

_README = """\
Evidence bundle for violation {id} ({rule}), made {made} by compliance {tool}.

violation.json      the violation, the post, its caption versions, the finding and its history
captions/           every caption version seen for the post, byte for byte (UTF-8)
checks/             every verdict recorded for those versions, byte for byte (JSON)
raw/                the platform's responses the captions came from, when recorded
SHA256SUMS          the SHA-256 of every file; verify with:  sha256sum -c SHA256SUMS

The SHA-256 of captions/v<id>.txt equals the "sha256" recorded for that version
in violation.json, and that of checks/c<id>.json the "verdict_sha256" of that check.{gone}"""


class EvidenceError(Exception):
    """The bundle cannot be written (unknown violation, directory not empty, I/O error)."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bundle(
    session: Session,
    violation_id: int,
    directory: Path,
    *,
    now: Callable[[], datetime],
    database: str,
    tool_version: str,
) -> list[Path]:
    """Write the evidence bundle of one violation into ``directory``; return the files written.

    ``database`` is how the database is named in the bundle (a URL with the
    password masked).
    """
    detail = violation_detail(session, violation_id)
    if detail is None:
        raise EvidenceError(f"no violation {violation_id}")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise EvidenceError(f"{directory} exists and is not an empty directory")

    version_ids = [v["id"] for v in detail["versions"]]
    results = check_results(session, version_ids)
    raws = raw_responses(session, version_ids)
    made = now()
    files: dict[str, bytes] = {}
    for version in detail["versions"]:
        files[f"captions/v{version['id']}.txt"] = version["caption"].encode("utf-8")
        version["file"] = f"captions/v{version['id']}.txt"
        for check in version["checks"]:
            name = f"checks/c{check['id']}.json"
            files[name] = results[check["id"]].encode("utf-8")
            check["file"] = name
            del check["result"]  # the exact text is in the file; no second copy to disagree
        if version["id"] in raws:
            name = f"raw/v{version['id']}.txt"
            files[name] = raws[version["id"]].encode("utf-8")
            version["raw_response_file"] = name
    document: dict[str, Any] = {
        "bundle": {
            "made_at": iso(made),
            "tool": f"compliance {tool_version}",
            "database": database,
        },
        **detail,
    }
    files["violation.json"] = (
        json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    ).encode("utf-8")
    gone_at = detail["post"]["gone_at"]
    gone = (
        f"\nThe post is gone from its platform since {gone_at} (see post.history in "
        "violation.json);\nthe captions and responses above are what was recorded before.\n"
        if gone_at
        else ""
    )
    files["README.txt"] = _README.format(
        id=violation_id, rule=detail["rule"], made=iso(made), tool=tool_version, gone=gone
    ).encode("utf-8")

    try:
        written = []
        # Captions, notes and raw responses: owner-only files and directories.
        for name, data in sorted(files.items()):
            path = directory / name
            make_dirs(path.parent)
            write_private(path, data)
            written.append(path)
        lines = [
            f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
        ]
        manifest = directory / MANIFEST
        write_private(manifest, "".join(lines).encode("utf-8"))
        written.append(manifest)
    except OSError as exc:
        raise EvidenceError(f"cannot write {directory}: {exc.strerror or exc}") from None
    return written


def verify_bundle(directory: Path) -> list[str]:
    """Problems found checking a bundle against its manifest (empty: it verifies).

    Every listed file must exist with the listed hash, and every file must be listed.
    """
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return [f"{MANIFEST} is missing"]
    problems = []
    listed = set()
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            problems.append(f"{MANIFEST}:{number}: not a 'hash  path' line")
            continue
        listed.add(name)
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: SHA-256 does not match")
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            problems.append(f"{name}: not in {MANIFEST}")
    return problems
