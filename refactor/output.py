"""Writing results: to stdout, or atomically to a file (temporary name, then rename)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from refactor.errors import RefactorError


def write_text(text: str, path: Path | None) -> None:
    """Write `text` to `path`, or to stdout when `path` is None.

    A file is written under a temporary name in the same directory and renamed into
    place, so an interrupted or failed write never leaves a partial file behind.
    """
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise RefactorError(f"cannot write {path}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise RefactorError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise RefactorError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
