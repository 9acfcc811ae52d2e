"""Results of unchanged files, kept between runs so an unchanged tree re-checks in a blink.

A result is reused when the file's content (SHA-256) is the same and the run's fingerprint is the
same: numlint's version and own source, the rule files, the selected rules, per-file ignores,
whether unsafe fixes are offered, and a secret of this user (below). One index file per
fingerprint in the cache folder (default `.numlint_cache` next to the configuration), read once
at the start and written once at the end, atomically. The folder holds a `.gitignore` of `*`, so
git never sees it.

The cache folder lies inside the project, which may be a stranger's repository, so what is read
from it is untrusted input (docs/reliability.md, "Untrusted input"):

- The format is JSON, which cannot run code (the pickles it replaced could), and every entry is
  validated field by field on load; one that does not validate is dropped, and the file is
  rewritten without it at the end of the run.
- The fingerprint mixes in a random secret kept in the user's own cache folder, so a file
  planted in the repository cannot have the name a run reads: without it, anyone could commit a
  valid-looking index that marks their hazardous files clean.
- Only files numlint can prove it wrote are ever deleted: a `results-<key>.json` name that it
  makes, holding the header it writes, with the same key inside.

The format, version 1 (one JSON object, keys in this order):

    {"format": "numlint-cache", "version": 1, "key": "<fingerprint>",
     "files": {"<path>": {"content": "<sha256 of the bytes>", "result": {...}, "extra": {...}}}}

`result` is a `FileResult` (see `_result_to_json`). `extra` holds further per-file data by name,
each a JSON object (a module summary, say), validated here only as "a JSON object": its owner
checks its own fields. A new field of an entry goes in `extra`; a change to `result` bumps
`VERSION`, and a file of another version is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

from numlint import __version__
from numlint.diagnostics import DISPLAY_ONLY, SAFE, UNSAFE, CellIndex, Edit, FileError, FileResult, Finding, Fix, Position

FORMAT = "numlint-cache"
VERSION = 2  # 2: results carry the names a file asked other modules for
_KEEP = 4  # index files of other fingerprints kept (other rule selections, branches)
_NAME = re.compile(r"^results-([0-9a-f]{32})\.json$")
# Every index file starts with these bytes (json.dumps keeps key order): part of the proof that
# numlint wrote a file before it deletes it.
_HEADER = b'{"format": "numlint-cache", "version": '
# An index file larger than this is not read (a planted one could exhaust memory); it is
# replaced at the end of the run like any invalid one.
MAX_BYTES = 512 * 1024 * 1024
_SAFETIES = (SAFE, UNSAFE, DISPLAY_ONLY)


class CacheLocationError(ValueError):
    """The cache folder would lie outside the project and the user's cache folder."""


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


def user_cache_dir() -> Path:
    """The user's own cache folder: $XDG_CACHE_HOME (when absolute), else ~/.cache; on Windows
    %LOCALAPPDATA%."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"])
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg)
    return Path.home() / ".cache"


def user_secret() -> Optional[str]:
    """This user's random cache secret (created on first use, mode 0600), or None when it cannot be
    read or written: then nothing is cached, rather than cached under a name a repository could
    predict."""
    path = user_cache_dir() / "numlint" / "secret"
    try:
        if path.is_file() and not path.is_symlink():
            text = path.read_text(encoding="ascii").strip()
            if re.fullmatch(r"[0-9a-f]{64}", text):
                return text
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(value + "\n")
        os.replace(tmp, path)  # two runs racing: each uses its own value once, the last one stays
        return value
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def fingerprint(parts: Iterable[str], secret: str = "") -> str:
    hasher = hashlib.sha256(_own_source().encode())
    hasher.update(b"\0" + secret.encode())
    for part in parts:
        hasher.update(b"\0" + part.encode("utf-8", "surrogateescape"))
    return hasher.hexdigest()[:32]


def contained_dir(directory: Path, project: Path) -> Path:
    """`directory` with symlinks resolved, if that lies inside `project` or the user's cache
    folder; otherwise CacheLocationError. A committed symlink `.numlint_cache -> elsewhere` (or
    `cache-dir = "../elsewhere"`) must not make numlint write, or delete, outside the project."""
    real = Path(os.path.realpath(directory))
    for base in (project, user_cache_dir()):
        base_real = Path(os.path.realpath(base))
        if real == base_real or base_real in real.parents:
            return real
    raise CacheLocationError(f"{directory} resolves to {real}, outside the project ({project}) and the user's cache folder")


# -- the format ------------------------------------------------------------------------------------


class _Invalid(ValueError):
    """An entry that does not follow the format: it is dropped."""


def _position_to_json(position: Position) -> list:
    return [position.row, position.column]


def _edit_to_json(edit: Edit) -> dict:
    return {"start": edit.start_offset, "end": edit.end_offset, "content": edit.content,
            "location": _position_to_json(edit.location), "end_location": _position_to_json(edit.end_location)}


def _finding_to_json(finding: Finding) -> dict:
    fix = None
    if finding.fix is not None:
        fix = {"applicability": finding.fix.applicability, "message": finding.fix.message,
               "edits": [_edit_to_json(e) for e in finding.fix.edits]}
    return {"code": finding.code, "name": finding.name, "message": finding.message,
            "location": _position_to_json(finding.location), "end_location": _position_to_json(finding.end_location),
            "fix": fix, "help": finding.help, "noqa_row": finding.noqa_row}


def _result_to_json(result: FileResult) -> dict:
    cells = None
    if result.cells is not None:
        cells = {"cells": list(result.cells.cells), "first_rows": list(result.cells.first_rows)}
    return {
        "findings": [_finding_to_json(f) for f in result.findings],
        "errors": [{"message": e.message, "location": _position_to_json(e.location), "code": e.code}
                   for e in result.errors],
        "source": result.source,
        "fixed_source": result.fixed_source,
        "fixes_applied": result.fixes_applied,
        "cells": cells,
        "asked": list(result.asked),
    }


def _object(value: Any, fields: Tuple[str, ...], what: str) -> dict:
    if not isinstance(value, dict) or set(value) != set(fields):
        raise _Invalid(f"{what} must be an object with exactly {', '.join(fields)}")
    return value


def _str(value: Any, what: str, optional: bool = False) -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{what} must be a string")
    return value


def _int(value: Any, what: str, low: int, high: Optional[int] = None) -> int:
    # bool is an int in Python, not in the format
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise _Invalid(f"{what} out of range")
    return value


def _position(value: Any, rows: Optional[int], what: str) -> Position:
    if not isinstance(value, list) or len(value) != 2:
        raise _Invalid(f"{what} must be [row, column]")
    return Position(_int(value[0], what, 1, rows), _int(value[1], what, 1))


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise _Invalid(f"{what} must be a list")
    return value


def _edit(value: Any, length: Optional[int], rows: Optional[int]) -> Edit:
    raw = _object(value, ("start", "end", "content", "location", "end_location"), "edit")
    start = _int(raw["start"], "edit start", 0, length)
    end = _int(raw["end"], "edit end", start, length)
    location = _position(raw["location"], rows, "edit location")
    end_location = _position(raw["end_location"], rows, "edit end")
    if end_location < location:
        raise _Invalid("edit ends before it starts")
    return Edit(start, end, _str(raw["content"], "edit content"), location, end_location)


def _finding(value: Any, length: Optional[int], rows: Optional[int]) -> Finding:
    raw = _object(value, ("code", "name", "message", "location", "end_location", "fix", "help", "noqa_row"), "finding")
    location = _position(raw["location"], rows, "location")
    end_location = _position(raw["end_location"], rows, "end location")
    if end_location < location:
        raise _Invalid("finding ends before it starts")
    fix = None
    if raw["fix"] is not None:
        fix_raw = _object(raw["fix"], ("applicability", "message", "edits"), "fix")
        if fix_raw["applicability"] not in _SAFETIES:
            raise _Invalid("unknown fix applicability")
        edits = tuple(_edit(e, length, rows) for e in _list(fix_raw["edits"], "edits"))
        fix = Fix(fix_raw["applicability"], _str(fix_raw["message"], "fix message"), edits)
    return Finding(
        code=_str(raw["code"], "code"), name=_str(raw["name"], "name"), message=_str(raw["message"], "message"),
        location=location, end_location=end_location, fix=fix, help=_str(raw["help"], "help", optional=True),
        noqa_row=_int(raw["noqa_row"], "noqa row", 1, rows),
    )


def _cells(value: Any) -> Optional[CellIndex]:
    if value is None:
        return None
    raw = _object(value, ("cells", "first_rows"), "cells")
    cells = tuple(_int(c, "cell", 1) for c in _list(raw["cells"], "cells"))
    rows = tuple(_int(r, "first row", 1) for r in _list(raw["first_rows"], "first rows"))
    if len(cells) != len(rows) or any(a >= b for a, b in zip(cells, cells[1:])) or any(a > b for a, b in zip(rows, rows[1:])):
        raise _Invalid("cells and first rows must be increasing and of one length")
    return CellIndex(cells, rows)


def _rows(text: str) -> int:
    """The number of rows `source.LineIndex` counts (\r\n, \r and \n end a line), without
    building the index: loading a warm cache must stay cheap."""
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def _result_from_json(path: str, value: Any) -> FileResult:
    raw = _object(value, ("findings", "errors", "source", "fixed_source", "fixes_applied", "cells", "asked"), "result")
    source = _str(raw["source"], "source", optional=True)
    # Positions must lie in the text a reporter will index into (its snippet lines, its edits).
    length = len(source) if source is not None else None
    rows = _rows(source) if source is not None else None
    findings = tuple(_finding(f, length, rows) for f in _list(raw["findings"], "findings"))
    errors = []
    for error in _list(raw["errors"], "errors"):
        fields = _object(error, ("message", "location", "code"), "error")
        errors.append(FileError(_str(fields["message"], "error message"), _position(fields["location"], rows, "error location"),
                                _str(fields["code"], "error code", optional=True)))
    return FileResult(
        path=path, findings=findings, errors=tuple(errors), source=source,
        fixed_source=_str(raw["fixed_source"], "fixed source", optional=True),
        fixes_applied=_int(raw["fixes_applied"], "fixes applied", 0), cells=_cells(raw["cells"]),
        asked=tuple(_str(q, "asked name") for q in _list(raw["asked"], "asked")),
    )


def _extra(value: Any) -> Dict[str, dict]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise _Invalid("extra must be an object of objects")
    return value


class _Entry:
    __slots__ = ("content", "result", "extra")

    def __init__(self, content: str, result: FileResult, extra: Mapping[str, dict]) -> None:
        self.content, self.result, self.extra = content, result, dict(extra)


def _entry_from_json(path: str, value: Any) -> _Entry:
    raw = _object(value, ("content", "result", "extra"), "entry")
    content = _str(raw["content"], "content")
    if not re.fullmatch(r"[0-9a-f]{64}", content):
        raise _Invalid("content must be a SHA-256")
    return _Entry(content, _result_from_json(path, raw["result"]), _extra(raw["extra"]))


def _entry_to_json(entry: _Entry) -> dict:
    return {"content": entry.content, "result": _result_to_json(entry.result), "extra": entry.extra}


def _read_regular(path: Path, limit: int, head: Optional[int] = None) -> Optional[bytes]:
    """The bytes of a regular file (its first `head` bytes, if given), not through a symlink, or
    None (missing, a FIFO, too big...). Opened non-blocking: a FIFO planted under the name must
    not hang the run."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return handle.read(limit + 1 if head is None else head)
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def _ours(path: Path) -> bool:
    """Did numlint write this file? Its name is one numlint makes, it is a regular file (not a
    symlink), and it starts with numlint's header and holds the key its name says."""
    match = _NAME.match(path.name)
    if not match:
        return False
    head = _read_regular(path, MAX_BYTES, head=200)
    if head is None or not head.startswith(_HEADER):
        return False
    return f'"key": "{match.group(1)}"'.encode() in head[:200]


class Cache:
    def __init__(self, directory: Path, key: str) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            raise ValueError(f"cache key {key!r} is not a fingerprint")
        self.directory = directory
        self.key = key
        self.path = directory / f"results-{key}.json"
        self.entries: Dict[str, _Entry] = {}
        self.changed = False  # anything to write back: a new result, or an entry dropped on load
        self.dropped = 0  # entries that did not validate (for tests and the curious)
        self._load()

    def _load(self) -> None:
        data = _read_regular(self.path, MAX_BYTES)
        if data is None:
            self.changed = self.path.exists() or self.path.is_symlink()  # replace whatever is there
            return
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nesting
            self.changed = True
            return
        if (not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != VERSION
                or document.get("key") != self.key or not isinstance(document.get("files"), dict)):
            self.changed = True
            return
        for path, value in document["files"].items():
            try:
                self.entries[path] = _entry_from_json(path, value)
            except (_Invalid, TypeError, ValueError):
                self.dropped += 1
                self.changed = True

    def get(self, path: str, content: str) -> Optional[FileResult]:
        entry = self.entries.get(path)
        if entry is not None and entry.content == content:
            return entry.result
        return None

    def extra(self, path: str, content: str) -> Mapping[str, dict]:
        """The further data stored beside the file's result (see the module docstring)."""
        entry = self.entries.get(path)
        if entry is not None and entry.content == content:
            return entry.extra
        return {}

    def put(self, path: str, content: str, result: FileResult, extra: Optional[Mapping[str, dict]] = None) -> None:
        if any(e.code for e in result.errors):
            return  # numlint's own failures are not worth remembering
        if not all(isinstance(v, dict) for v in (extra or {}).values()):
            raise TypeError("each kind of extra data is a JSON object")
        self.entries[path] = _Entry(content, result, extra or {})
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        document = {
            "format": FORMAT, "version": VERSION, "key": self.key,
            "files": {path: _entry_to_json(entry) for path, entry in self.entries.items()},
        }
        try:
            # Paths and texts may hold surrogate escapes (undecodable file names); the file is UTF-8.
            data = json.dumps(document, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8", "surrogateescape")
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_gitignore(self.directory / ".gitignore")
            fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, self.path)  # replaces a symlink itself, never its target
            except BaseException:
                os.unlink(tmp)
                raise
            self._prune()
        except OSError:
            pass  # a read-only tree still gets checked; it just is not cached

    def _prune(self) -> None:
        ours = []
        for path in self.directory.iterdir():
            if path != self.path and _ours(path):
                try:
                    ours.append((path.lstat().st_mtime, path))
                except OSError:
                    continue
        for _, old in sorted(ours, reverse=True)[_KEEP:]:
            old.unlink()


def _write_gitignore(path: Path) -> None:
    """`*` in the cache folder, so git never sees it. Created exclusively and not through a
    symlink: a planted `.gitignore -> ~/somewhere` must not make numlint write there."""
    if path.exists() or path.is_symlink():
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write("# Created by numlint: results cache.\n*\n")
