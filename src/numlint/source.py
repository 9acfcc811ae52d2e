"""Reading a Python file as text and writing it back byte-faithfully.

The text we lint and edit is the decoded file exactly as it is: newlines are not translated, so
offsets and the written result keep CRLF, CR or mixed newlines. The encoding (coding cookie or
UTF-8) and a UTF-8 BOM are remembered and restored on write.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import tokenize
from bisect import bisect_right
from dataclasses import dataclass
from typing import List

from numlint.diagnostics import Position

_NEWLINE = re.compile(r"\r\n|\r|\n")
BOM = b"\xef\xbb\xbf"


class SourceError(Exception):
    """A file that cannot be read or decoded; the message is one line for the user."""


@dataclass(frozen=True)
class SourceFile:
    text: str
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return BOM + data if self.bom else data


def decode(data: bytes) -> SourceFile:
    bom = data.startswith(BOM)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot detect the encoding: {exc}") from None
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[len(BOM):] if bom else data
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode as {encoding}: {exc}") from None
    return SourceFile(text=text, encoding=encoding, bom=bom)


def read(path: str) -> SourceFile:
    return decode(read_bytes(path))


def read_bytes(path: str) -> bytes:
    """A regular file's bytes; anything else (FIFO, socket, device) is refused, never read."""
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise SourceError("cannot read: not a regular file")
            return handle.read()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None


def _open_nonblocking(path: str, flags: int) -> int:
    # Opening a FIFO blocks until a writer comes; non-blocking, it opens at once and the fstat
    # above turns it away. Regular files ignore the flag.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def dominant_newline(text: str) -> str:
    counts = {"\n": 0, "\r\n": 0, "\r": 0}
    for match in _NEWLINE.finditer(text):
        counts[match.group()] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else "\n"


class LineIndex:
    """Converts between character offsets and (row, column) positions, 1-based."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: List[int] = [0]
        self.starts.extend(m.end() for m in _NEWLINE.finditer(text))

    def offset(self, row: int, column: int) -> int:
        """Offset of a 1-based row and 0-based column (libcst's convention)."""
        return self.starts[row - 1] + column

    def position(self, offset: int) -> Position:
        row = bisect_right(self.starts, offset)
        return Position(row, offset - self.starts[row - 1] + 1)

    def line(self, row: int) -> str:
        """The text of a 1-based row without its newline."""
        start = self.starts[row - 1]
        end = self.starts[row] if row < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    @property
    def rows(self) -> int:
        return len(self.starts)


def write_atomic(path: str, data: bytes) -> None:
    """Replace a file's content so that a reader sees either the old or the new file, never a mix.

    The new content goes to a temporary file in the same directory (same file system), is flushed
    to disk, takes the original's permission bits, and is renamed over the original.
    """
    path = os.path.realpath(path)  # through a symlink: write the target, keep the link
    directory = os.path.dirname(path)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    fd, tmp = tempfile.mkstemp(prefix=".numlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
