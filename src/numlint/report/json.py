"""A JSON list of findings shaped like ruff's, so reviewdog and editor plugins read it as is.

In a notebook, `cell` is the cell's number and every row (location, edits, noqa_row) is counted
in the cell the position lies in, as ruff does; each edit also names its `cell`, since a fix may
add an import to another cell. Elsewhere `cell` is null. Each record has a `severity`: `warning`
for a finding, `error` for a file numlint could not check."""

from __future__ import annotations

import json as _json
import os
from typing import Sequence, TextIO

from numlint.diagnostics import Edit, FileResult, Position
from numlint.report.paths import where
from numlint.report.text import dump_json


# A hazard breaks on some inputs only: a warning (as in SARIF); a file numlint could not check
# is an error.
SEVERITY = "warning"
ERROR_SEVERITY = "error"


def _position(result: FileResult, position: Position) -> dict:
    _, at = where(result, position)
    return {"row": at.row, "column": at.column}


def _edit(result: FileResult, edit: Edit) -> dict:
    out = {"content": edit.content, "location": _position(result, edit.location),
           "end_location": _position(result, edit.end_location)}
    if result.cells is not None:  # a fix may also edit another cell (an import, a now unused line)
        out["cell"] = where(result, edit.location)[0]
    return out


def records(results: Sequence[FileResult]) -> list:
    from numlint.report import rule_url

    out = []
    for result in results:
        filename = os.path.abspath(result.path) if result.path != "-" else "-"
        for error in result.errors:
            out.append({
                "cell": where(result, error.location)[0],
                "code": None,
                "name": None,
                "message": error.message,
                "filename": filename,
                "location": _position(result, error.location),
                "end_location": _position(result, error.location),
                "url": None,
                "noqa_row": None,
                "fix": None,
                "severity": ERROR_SEVERITY,
            })
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            fix = None
            if finding.fix is not None:
                fix = {
                    "applicability": finding.fix.applicability,
                    "message": finding.fix.message,
                    "edits": [_edit(result, e) for e in finding.fix.edits],
                }
            out.append({
                "cell": where(result, finding.location)[0],
                "code": finding.code,
                "name": finding.name,
                "message": finding.message,
                "filename": filename,
                "location": _position(result, finding.location),
                "end_location": _position(result, finding.end_location),
                "url": rule_url(finding.code, finding.name),
                "noqa_row": _position(result, Position(finding.noqa_row, 1))["row"],
                "fix": fix,
                "help": finding.help,
                "severity": SEVERITY,
            })
    return out


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    # A file name that is not UTF-8 is written with U+FFFD for its undecodable bytes, as ruff does.
    dump_json(records(results), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
