"""GitHub Actions workflow commands: one `::error ...::message` line per finding.

The runner turns each line into an annotation on the pull request's diff:

    ::error file=pkg/model.py,line=6,col=11,endLine=6,endColumn=52,title=NUM101 (log-sum-exp)::`log(sum(exp(x)))` ...

In a notebook, rows are counted in the cell and the message starts with `cell N: ` (as ruff does).
"""

from __future__ import annotations

from typing import Iterator, Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.paths import ci_path, where
from numlint.report.text import printable


def escape_data(text: str) -> str:
    # GitHub's rules for the message: `%` first, so the escapes it adds are not escaped again.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    # Property values are also split on `,` and end at `::`.
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(properties: dict, message: str) -> str:
    # Control characters are escaped visibly first: the runner prints these lines to the job's log.
    props = ",".join(f"{key}={escape_property(printable(str(value)))}" for key, value in properties.items())
    return f"::error {props}::{escape_data(printable(message))}"


def _cell(result: FileResult, position) -> str:
    cell = where(result, position)[0]
    return f"cell {cell}: " if cell is not None else ""


def lines(results: Sequence[FileResult]) -> Iterator[str]:
    for result in results:
        path = ci_path(result.path)
        for error in result.errors:
            title = "numlint internal error" if error.code else "numlint error"
            at = where(result, error.location)[1]
            yield _command(
                {"file": path, "line": at.row, "col": at.column, "title": title},
                _cell(result, error.location) + error.message,
            )
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            start, end = where(result, finding.location)[1], where(result, finding.end_location)[1]
            yield _command(
                {
                    "file": path,
                    "line": start.row,
                    "col": start.column,
                    "endLine": end.row,
                    "endColumn": end.column,
                    "title": f"{finding.code} ({finding.name})",
                },
                _cell(result, finding.location) + finding.message,
            )


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for line in lines(results):
        stream.write(line + "\n")
