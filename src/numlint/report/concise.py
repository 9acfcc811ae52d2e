"""One line per finding, flake8 style: `path:row:col: CODE message` (`path:cell N:row:col` in notebooks)."""

from __future__ import annotations

from typing import Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.paths import place


def lines(results: Sequence[FileResult]):
    for result in results:
        for error in result.errors:
            yield f"{place(result, error.location)}: error: {error.message}"
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            yield f"{place(result, finding.location)}: {finding.code} {finding.message}"


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for line in lines(results):
        stream.write(line + "\n")
