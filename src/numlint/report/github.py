"""GitHub Actions workflow commands: one `::error ...::message` line per finding.

The runner turns each line into an annotation on the pull request's diff:

    ::error file=pkg/model.py,line=6,col=11,endLine=6,endColumn=52,title=NUM101 (log-sum-exp)::`log(sum(exp(x)))` ...
"""

from __future__ import annotations

from typing import Iterator, Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.paths import ci_path


def escape_data(text: str) -> str:
    # GitHub's rules for the message: `%` first, so the escapes it adds are not escaped again.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    # Property values are also split on `,` and end at `::`.
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(properties: dict, message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::error {props}::{escape_data(message)}"


def lines(results: Sequence[FileResult]) -> Iterator[str]:
    for result in results:
        path = ci_path(result.path)
        for error in result.errors:
            title = "numlint internal error" if error.code else "numlint error"
            yield _command(
                {"file": path, "line": error.location.row, "col": error.location.column, "title": title},
                error.message,
            )
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            yield _command(
                {
                    "file": path,
                    "line": finding.location.row,
                    "col": finding.location.column,
                    "endLine": finding.end_location.row,
                    "endColumn": finding.end_location.column,
                    "title": f"{finding.code} ({finding.name})",
                },
                finding.message,
            )


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for line in lines(results):
        stream.write(line + "\n")
