"""Reading a small text file numlint did not write — a pyproject.toml, a rule file — so that no
name can make it hang or exhaust memory: a FIFO called `x.toml` would block `open()` forever, a
symlink to `/dev/zero` would be read until memory runs out."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Far above any real configuration or rule file (the largest built-in rule is about 10 kB).
MAX_BYTES = 4 * 1024 * 1024


def read_text(path: Path, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes. OSError (with a message for the
    user) for anything else; UnicodeDecodeError for bytes that are not UTF-8."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)  # non-blocking: a FIFO opens at once, and is refused below
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"larger than {limit // (1024 * 1024)} MiB")
    return data.decode("utf-8")
