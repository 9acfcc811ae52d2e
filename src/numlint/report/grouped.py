"""Findings grouped by file, as ruff's `grouped` format writes them:

    examples/crf_forward.py:
      21:21 NUM101 [*] `log(sum(exp(x)))` overflows to inf once any x > 88.7 ...
      36:17 NUM102 [*] `log(softmax(x))` is -inf once a probability underflows ...

Rows are right-aligned and columns left-aligned within a file; a blank line follows each file.
In a notebook a place reads `cell N:row:col`.
"""

from __future__ import annotations

from typing import Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.full import marker
from numlint.report.paths import where
from numlint.report.text import printable


def _at(result: FileResult, position) -> str:
    cell, at = where(result, position)
    return f"cell {cell}:{at.row}" if cell is not None else str(at.row), str(at.column)


def lines(results: Sequence[FileResult], options=None):
    for result in results:
        if not result.findings and not result.errors:
            continue
        places = [_at(result, e.location) for e in result.errors]
        findings = sorted(result.findings, key=lambda f: (f.location, f.code))
        places += [_at(result, f.location) for f in findings]
        row_width = max(len(row) for row, _ in places)
        col_width = max(len(col) for _, col in places)
        yield printable(f"{result.path}:")
        items = [(e, None) for e in result.errors] + [(None, f) for f in findings]
        for (error, finding), (row, col) in zip(items, places):
            at = f"  {row:>{row_width}}:{col:<{col_width}}"
            if error is not None:
                yield printable(f"{at} error: {error.message}")
            else:
                yield printable(f"{at} {finding.code} {marker(finding, options)}{finding.message}")
        yield ""


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for line in lines(results, options):
        stream.write(line + "\n")
