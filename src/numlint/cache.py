"""Results of unchanged files, kept between runs so an unchanged tree re-checks in a blink.

A result is reused when the file's content (SHA-256) is the same and the run's fingerprint is the
same: numlint's version and own source, the rule files, the selected rules, per-file ignores and
whether unsafe fixes are offered. One index file per fingerprint in the cache folder (default
`.numlint_cache` next to the configuration), read once at the start and written once at the end,
atomically. The folder holds a `.gitignore` of `*`, so git never sees it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

from numlint import __version__
from numlint.diagnostics import FileResult

_KEEP = 4  # index files of other fingerprints kept (other rule selections, branches)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _own_source() -> str:
    """A hash of numlint's own code, so a changed engine never reuses old results."""
    root = Path(__file__).resolve().parent
    hasher = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")) + sorted((root / "rules").glob("*.toml")):
        hasher.update(path.relative_to(root).as_posix().encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def fingerprint(parts: Iterable[str]) -> str:
    hasher = hashlib.sha256(_own_source().encode())
    for part in parts:
        hasher.update(b"\0" + part.encode())
    return hasher.hexdigest()[:32]


class Cache:
    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.path = directory / f"results-{key}.pickle"
        self.entries: Dict[str, Tuple[str, FileResult]] = {}
        self.changed = False
        try:
            with open(self.path, "rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
            self.entries = {}  # a missing or unreadable cache is an empty one

    def get(self, path: str, content: str) -> Optional[FileResult]:
        entry = self.entries.get(path)
        if entry is not None and entry[0] == content:
            return entry[1]
        return None

    def put(self, path: str, content: str, result: FileResult) -> None:
        if any(e.code for e in result.errors):
            return  # numlint's own failures are not worth remembering
        self.entries[path] = (content, result)
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by numlint: results cache.\n*\n")
            fd, tmp = tempfile.mkstemp(prefix=".results-", dir=self.directory)
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(self.entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
            others = sorted(self.directory.glob("results-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in others[_KEEP + 1:]:
                old.unlink()
        except OSError:
            pass  # a read-only tree still gets checked; it just is not cached
