"""One line per finding, flake8 style: `path:row:col: CODE message`."""

from __future__ import annotations

from typing import Sequence, TextIO

from numlint.diagnostics import FileResult


def lines(results: Sequence[FileResult]):
    for result in results:
        for error in result.errors:
            yield f"{result.path}:{error.location.row}:{error.location.column}: error: {error.message}"
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            yield f"{result.path}:{finding.location.row}:{finding.location.column}: {finding.code} {finding.message}"


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for line in lines(results):
        stream.write(line + "\n")
