"""One line per finding, flake8 style: `path:row:col: CODE message` (`path:cell N:row:col` in notebooks).
Control characters in names and messages are escaped, so a line is always one finding."""

from __future__ import annotations

from typing import Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.paths import place
from numlint.report.text import printable


def lines(results: Sequence[FileResult]):
    for result in results:
        for error in result.errors:
            yield printable(f"{place(result, error.location)}: error: {error.message}")
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            yield printable(f"{place(result, finding.location)}: {finding.code} {finding.message}")


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for line in lines(results):
        stream.write(line + "\n")
