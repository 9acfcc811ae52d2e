"""The language server's texts: positions in LSP's units, incremental changes, findings carried
over to a newer text, and reading a file the editor did not open without trusting what it is.

LSP counts lines at \\r\\n, \\r and \\n and characters in code units of the negotiated encoding
(UTF-16 unless the client offers another); numlint counts 1-based rows and 1-based code points.
A position past the end of a line means the line's end, a line past the last one the text's end
(as LSP says), so no position a client sends is out of range here.
"""

from __future__ import annotations

import os
import re
import stat
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from lsprotocol import types

from numlint import source
from numlint.diagnostics import FileError, Finding, Position
from numlint.source import LineIndex

# Editors hold bigger files than anyone lints by hand; past this the check is not run (a 5 MB file
# took 4.65 GB to check, issue 11). About 50,000 lines of ordinary code.
MAX_DOCUMENT_CHARS = 2 * 1024 * 1024

# "surrogatepass": a lone surrogate counts as one unit instead of raising.
_UNITS: Dict[str, Callable[[str], int]] = {
    "utf-8": lambda s: len(s.encode("utf-8", "surrogatepass")),
    "utf-16": lambda s: len(s.encode("utf-16-le", "surrogatepass")) // 2,
    "utf-32": len,
}
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")


class Lines:
    """One text's positions in both conventions (numlint's rows and code-point columns, LSP's
    0-based lines and code units)."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.index = LineIndex(text)
        self.units = _UNITS.get(encoding, _UNITS["utf-16"])

    def to_lsp(self, position: Position) -> types.Position:
        if position.row > self.index.rows:  # past the last line: the end of the text
            return self.end()
        line = self.index.line(position.row)
        return types.Position(line=position.row - 1, character=self.units(line[: position.column - 1]))

    def range(self, start: Position, end: Position) -> types.Range:
        return types.Range(start=self.to_lsp(start), end=self.to_lsp(end))

    def offsets_range(self, start: int, end: int) -> types.Range:
        return self.range(self.index.position(start), self.index.position(end))

    def end(self) -> types.Position:
        return self.to_lsp(self.index.position(len(self.text)))

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position."""
        return _offset(self.text, self.index.starts, position, self.units)

    def offset_of(self, position: Position) -> int:
        return self.index.offset(position.row, position.column - 1)


def _offset(text: str, starts: Sequence[int], position: types.Position, units: Callable[[str], int]) -> int:
    if position.line >= len(starts):
        return len(text)
    start = starts[position.line]
    end = starts[position.line + 1] if position.line + 1 < len(starts) else len(text)
    line = text[start:end].rstrip("\r\n")
    if position.character <= 0:
        return start
    if units is _UNITS["utf-32"]:
        return start + min(position.character, len(line))
    count = 0
    for index, char in enumerate(line):
        if count >= position.character:
            return start + index
        count += units(char)
    return start + len(line)


def line_starts(text: str, upto: int) -> List[int]:
    """The offsets where the first `upto + 2` lines of `text` start (fewer if it has fewer):
    enough to place a position on line `upto`, without indexing the whole text."""
    starts = [0]
    if upto + 1 <= 0:
        return starts
    for match in _NEWLINE.finditer(text):
        starts.append(match.end())
        if len(starts) > upto + 1:
            break
    return starts


def apply_change(text: str, change, encoding: str) -> str:
    """`text` after one `TextDocumentContentChangeEvent`: a whole new text, or a range replaced.

    A range whose end comes before its start (no client should send one) is read as the same two
    positions in order, so the result is always defined."""
    change_range = getattr(change, "range", None)
    if change_range is None:
        return change.text
    units = _UNITS.get(encoding, _UNITS["utf-16"])
    first, last = sorted((change_range.start, change_range.end), key=lambda p: (p.line, p.character))
    starts = line_starts(text, last.line)
    start = _offset(text, starts, first, units)
    end = _offset(text, starts, last, units)
    return text[:start] + change.text + text[end:]


def unreadable(text: str) -> Optional[FileError]:
    """Why no Python file can hold `text`, or None: a lone surrogate (an editor's JSON can carry
    one; UTF-8 cannot), a NUL character, or a text past the size limit."""
    if len(text) > MAX_DOCUMENT_CHARS:
        return FileError(f"not checked: the text is {len(text) / 2**20:.1f} M characters, more than the "
                         f"language server's limit of {MAX_DOCUMENT_CHARS // 2**20} M")
    match = _SURROGATE.search(text)
    if match is not None:
        return FileError(f"cannot check: the text holds a lone surrogate (U+{ord(match.group()):04X}), which "
                         "no UTF-8 file can hold", LineIndex(text).position(match.start()))
    nul = text.find("\0")
    if nul >= 0:
        return FileError("cannot parse: the text holds a NUL character", LineIndex(text).position(nul))
    return None


def common_span(old: str, new: str) -> Tuple[int, int, int]:
    """(start, old_end, new_end): `new` is `old` with old[start:old_end] replaced by
    new[start:new_end], the shortest such span (common prefix and suffix left out)."""
    limit = min(len(old), len(new))
    low, high = 0, limit  # the longest common prefix, by bisection over C-speed comparisons
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, limit - prefix
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle:] == new[len(new) - middle:]:
            low = middle
        else:
            high = middle - 1
    return prefix, len(old) - low, len(new) - low


def carry_over(spans: Iterable[Tuple[int, int, Finding]], old: str, new: str) -> List[Tuple[int, int, Finding]]:
    """Findings placed in `old` (as character spans), placed in `new`: those before the changed
    part stay, those after it move with it, those that touch it are dropped (being edited)."""
    start, old_end, new_end = common_span(old, new)
    shift = new_end - old_end
    kept = []
    for first, last, finding in spans:
        if last <= start:
            kept.append((first, last, finding))
        elif first >= old_end:
            kept.append((first + shift, last + shift, finding))
    return kept


class Unreadable(Exception):
    """A file the server will not read; the message says why, in one line."""


def read_file(path: str, limit: int = MAX_DOCUMENT_CHARS) -> str:
    """The text of a file on disk that the editor did not open: only a regular file (after
    symlinks are followed) of at most `limit` bytes; a FIFO, a device or a socket is never read
    (opening a FIFO would block, reading /dev/zero would not end)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("cannot read: not a regular file")
        if info.st_size > limit:
            raise Unreadable(f"not read: more than {limit} bytes")
        data = handle.read(limit + 1)  # the file may have grown since the fstat
    if len(data) > limit:
        raise Unreadable(f"not read: more than {limit} bytes")
    try:
        return source.decode(data).text
    except source.SourceError as exc:
        raise Unreadable(str(exc)) from None
