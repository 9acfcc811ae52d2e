"""Paths, and places in files and notebook cells, as people and CI tools want them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple

from numlint.diagnostics import FileResult, Position


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


def where(result: FileResult, position: Position) -> Tuple[Optional[int], Position]:
    """The notebook cell (None for a Python file) and the position in it to show for `position`."""
    if result.cells is None:
        return None, position
    return result.cells.locate(position)


def place(result: FileResult, position: Position, path: Optional[str] = None) -> str:
    """`path:row:col`, or `path:cell N:row:col` in a notebook, as ruff writes it."""
    cell, at = where(result, position)
    shown = result.path if path is None else path
    if cell is not None:
        shown = f"{shown}:cell {cell}"
    return f"{shown}:{at.row}:{at.column}"
