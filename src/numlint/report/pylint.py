"""Pylint's parseable format, as ruff writes it: `path:row: [CODE] message` (a notebook's place is
`path:cell N:row`; a file numlint could not check is `[error]`)."""

from __future__ import annotations

from typing import Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.paths import where
from numlint.report.text import printable


def _place(result: FileResult, position) -> str:
    cell, at = where(result, position)
    return f"{result.path}:cell {cell}:{at.row}" if cell is not None else f"{result.path}:{at.row}"


def lines(results: Sequence[FileResult]):
    for result in results:
        for error in result.errors:
            yield printable(f"{_place(result, error.location)}: [error] {error.message}")
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            yield printable(f"{_place(result, finding.location)}: [{finding.code}] {finding.message}")


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for line in lines(results):
        stream.write(line + "\n")
