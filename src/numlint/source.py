"""Reading a Python file as text and writing it back byte-faithfully.

The text we lint and edit is the decoded file exactly as it is: newlines are not translated, so
offsets and the written result keep CRLF, CR or mixed newlines. The encoding (coding cookie or
UTF-8) and a UTF-8 BOM are remembered and restored on write.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import signal
import stat
import tempfile
import threading
import time
import tokenize
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

from numlint.diagnostics import Position

_NEWLINE = re.compile(r"\r\n|\r|\n")
BOM = b"\xef\xbb\xbf"


class SourceError(Exception):
    """A file that cannot be read or decoded; the message is one line for the user."""


class NotWritten(SourceError):
    """`--fix` left the file as it was, on purpose: the user may not write it, or it changed since
    it was read (FileChanged). The message is one line for the user."""


class FileChanged(NotWritten):
    """The file no longer holds the bytes the fix was computed from."""


def content_digest(data: bytes) -> str:
    """The fingerprint of a file's bytes that `--fix` compares before it replaces them."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SourceFile:
    text: str
    encoding: str
    bom: bool
    digest: str = ""  # of the bytes read (content_digest): a fix is written only over these

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
    return SourceFile(text=text, encoding=encoding, bom=bom, digest=content_digest(data))


def read(path: str, limit: Optional[int] = None) -> SourceFile:
    return decode(read_bytes(path, limit))


def read_bytes(path: str, limit: Optional[int] = None) -> bytes:
    """A regular file's bytes; anything else (FIFO, socket, device) is refused, never read, and so
    is a file of more than `limit` bytes."""
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise SourceError("cannot read: not a regular file")
            if limit is not None and info.st_size > limit:
                raise SourceError(f"cannot check: the file holds {info.st_size:,} bytes (limit {limit:,})")
            data = handle.read(limit + 1) if limit is not None else handle.read()
            if limit is not None and len(data) > limit:  # it grew while we read it
                raise SourceError(f"cannot check: the file holds more than {limit:,} bytes (limit {limit:,})")
            return data
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


# -- writing a fix back ------------------------------------------------------------------------------
#
# The write model (docs/reliability.md, "How --fix writes a file"):
#
# 1. The file is opened and locked (`flock`, so two numlint runs take turns), and its bytes are
#    compared with those the fix was computed from. Any difference — an editor saved, another run
#    fixed it first — and the file is left alone (NotWritten).
# 2. A file the user may not write is never written: without write permission, or read-only by
#    its mode even for root (who could write anything).
# 3. When nothing would be lost by it, the new content replaces the file by rename: written to a
#    temporary file in the same folder, flushed, given the original's mode and group, renamed over
#    it. A reader, a crash or a kill at any moment sees the old file or the new one, never a mix.
# 4. Otherwise — a hard link (a rename would split it), another owner (a rename would make the
#    file ours), a group or extended attributes (ACLs, labels) a new file would not get, a folder we
#    may not create files in — the new content is written through the original file descriptor
#    (same inode: owner, group, mode, links and attributes stay), then the file is truncated to
#    its length and flushed. SIGTERM and SIGINT wait for the write to end (`uninterrupted`); only
#    SIGKILL or a power cut in those few milliseconds can leave a mix of old and new bytes.

CHANGED = "not fixed: the file changed while numlint was fixing it (run numlint again)"
LOCK_TIMEOUT = 10.0  # seconds to wait for another process's lock on the file


class _Uninterrupted:
    """Signals that arrive while a file is being replaced, to act on once it is whole."""

    depth = 0
    pending: List[int] = []


_DEFERRED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def uninterrupted() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP wait until the block is done, then take effect as they would have.

    On the main thread the handlers are swapped for the block (so a worker process, whose SIGTERM
    otherwise stops it at once, finishes the file first); elsewhere, handlers that want this ask
    `defer_if_writing`."""
    outer = _Uninterrupted.depth == 0
    saved = {}
    if outer and threading.current_thread() is threading.main_thread():
        for signum in _DEFERRED:
            try:
                saved[signum] = signal.signal(signum, _defer)
            except (ValueError, OSError):
                pass
    _Uninterrupted.depth += 1
    try:
        yield
    finally:
        _Uninterrupted.depth -= 1
        if outer:
            for signum, handler in saved.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            pending, _Uninterrupted.pending = _Uninterrupted.pending, []
            if pending:
                os.kill(os.getpid(), pending[0])  # delivered again, now that the file is whole


def _defer(signum: int, frame) -> None:
    _Uninterrupted.pending.append(signum)


def defer_if_writing(signum: int) -> bool:
    """For a signal handler: True (and the signal is delivered again later) while a file is being
    written, so that the write finishes first; False when the handler may act at once."""
    if _Uninterrupted.depth:
        _Uninterrupted.pending.append(signum)
        return True
    return False


def write_atomic(path: str, data: bytes, expected: Optional[str] = None) -> None:
    """Replace a file's content with `data`, keeping the file itself (owner, group, mode, links).

    With `expected` (a content_digest), only if the file still holds those bytes; NotWritten when
    it does not, or when the user may not write it. OSError for a failed write (the file is then
    as it was, and no temporary file is left). Through a symlink: the target is written, the link
    kept. Our signal handlers wait until it returns (`uninterrupted`).
    """
    path = os.path.realpath(path)
    with uninterrupted():
        for _ in range(5):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
            try:
                before = os.fstat(fd)
                if not stat.S_ISREG(before.st_mode):
                    raise NotWritten("not fixed: not a regular file")
                _check_writable(path, before)
                # The copy is made before the file is locked and compared, so that nothing but the
                # rename itself lies between the comparison and the replacement.
                tmp = _prepared_copy(path, data, before) if _rename_keeps_everything(fd, before) else None
                try:
                    _lock(fd)
                    if not _same_file(path, before):
                        continue  # replaced since we opened it (another run renamed over it): look again
                    if expected is not None and content_digest(_read_all(fd)) != expected:
                        raise FileChanged(CHANGED)
                    if tmp is not None:
                        os.replace(tmp, path)
                        tmp = None
                        _sync_folder(path)
                    else:
                        _write_in_place(path, before, data)
                    return
                finally:
                    if tmp is not None:
                        _remove(tmp)
            finally:
                os.close(fd)  # and with it the lock
    raise FileChanged(CHANGED)


def _check_writable(path: str, st: os.stat_result) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # root may write anything; a file with no write bit at all is read-only on purpose
        if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise NotWritten(f"not fixed: the file is read-only (mode {stat.S_IMODE(st.st_mode):04o})")
        return
    effective = os.access in os.supports_effective_ids
    if not os.access(path, os.W_OK, effective_ids=effective):
        raise NotWritten(f"not fixed: no permission to write the file (mode {stat.S_IMODE(st.st_mode):04o})")


def _rename_keeps_everything(fd: int, st: os.stat_result) -> bool:
    """Would a new file renamed over this one be the same file to its owner? (See the model above.)"""
    if st.st_nlink != 1 or not hasattr(os, "geteuid") or st.st_uid != os.geteuid():
        return False
    if hasattr(os, "listxattr"):
        try:
            if os.listxattr(fd):  # ACLs, SELinux labels, user attributes: a new file lacks them
                return False
        except OSError:
            pass  # the file system has none
    return True


def _prepared_copy(path: str, data: bytes, st: os.stat_result) -> Optional[str]:
    """A temporary file beside `path` holding `data`, flushed, with the original's mode and group;
    None when none can be made here (a folder we may not write): then the file is written in place."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".numlint-", suffix=".tmp", dir=os.path.dirname(path))
    except PermissionError:
        return None
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return None
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), stat.S_IMODE(st.st_mode))
            if os.fstat(handle.fileno()).st_gid != st.st_gid:
                try:
                    os.fchown(handle.fileno(), -1, st.st_gid)
                except OSError:
                    _remove(tmp)
                    return None  # we may not give it the group: write in place instead
            if stat.S_IMODE(os.fstat(handle.fileno()).st_mode) != stat.S_IMODE(st.st_mode):
                os.fchmod(handle.fileno(), stat.S_IMODE(st.st_mode))  # chown clears set-id bits
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _write_in_place(path: str, st: os.stat_result, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise FileChanged(CHANGED)
        if len(data) > now.st_size and hasattr(os, "posix_fallocate"):
            try:  # reserve the room first: a full disk then fails before a byte is changed
                os.posix_fallocate(fd, now.st_size, len(data) - now.st_size)
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    os.ftruncate(fd, now.st_size)
                    raise
        view = memoryview(data)
        offset = 0
        while offset < len(data):
            offset += os.pwrite(fd, view[offset:], offset)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock(fd: int) -> None:
    if fcntl is None:
        return
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise NotWritten("not fixed: another process holds a lock on the file") from None
            if _Uninterrupted.pending:
                raise NotWritten("not fixed: numlint was interrupted") from None
            time.sleep(0.01)
        except OSError:
            return  # a file system without locks: the content check still holds


def _same_file(path: str, st: os.stat_result) -> bool:
    try:
        now = os.stat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def _sync_folder(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass
