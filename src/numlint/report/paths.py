"""Paths as CI tools and reports want them."""

from __future__ import annotations

import os
from pathlib import Path


def ci_path(path: str) -> str:
    """`path` as CI tools want it: relative to the working directory (the checkout), `/`-separated.

    A path outside the working directory stays absolute: `../x.py` would name nothing in the repo.
    """
    if path == "-":  # standard input without --stdin-filename
        return path
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return Path(absolute).as_posix()
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return Path(absolute).as_posix()
    return Path(relative).as_posix()
