"""Files that hold captions, evidence or the record: readable by their owner only.

The database, its WAL and shared-memory files, evidence bundles and every
``--output`` file can hold what creators posted, reviewers' notes and platform
responses. On a shared machine the default umask (022) would make them readable
by every user, so they are created with explicit modes, whatever the umask:
files 0600 and the directories we create 0700. A file that already exists keeps
its owner's choice unless we write it whole again (then it is made 0600 too).
Depends on nothing, like :mod:`compliance.safe`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_dirs(directory: Path) -> None:
    """``directory`` and its missing parents, each created 0700 (existing ones are left alone)."""
    missing = []
    for path in (directory, *directory.parents):
        if path.exists():
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made by another process in between: theirs
            continue
        os.chmod(path, DIR_MODE)  # mkdir's mode is reduced by the umask, never widened: exact


def create_private(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 if it does not exist; True when we created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def open_private(path: Path | str, mode: str = "w", encoding: str | None = "utf-8") -> IO:  # type: ignore[type-arg]
    """``path`` opened for writing (truncated) with mode 0600, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600)."""
    with open_private(path, "wb") as f:
        f.write(data)
