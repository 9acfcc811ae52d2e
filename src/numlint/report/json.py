"""A JSON list of findings shaped like ruff's, so reviewdog and editor plugins read it as is."""

from __future__ import annotations

import json as _json
import os
from typing import Sequence, TextIO

from numlint.diagnostics import FileResult, Position


def _position(position: Position) -> dict:
    return {"row": position.row, "column": position.column}


def records(results: Sequence[FileResult]) -> list:
    from numlint.report import rule_url

    out = []
    for result in results:
        filename = os.path.abspath(result.path) if result.path != "-" else "-"
        for error in result.errors:
            out.append({
                "cell": None,
                "code": None,
                "name": None,
                "message": error.message,
                "filename": filename,
                "location": _position(error.location),
                "end_location": _position(error.location),
                "url": None,
                "noqa_row": None,
                "fix": None,
            })
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            fix = None
            if finding.fix is not None:
                fix = {
                    "applicability": finding.fix.applicability,
                    "message": finding.fix.message,
                    "edits": [
                        {"content": e.content, "location": _position(e.location), "end_location": _position(e.end_location)}
                        for e in finding.fix.edits
                    ],
                }
            out.append({
                "cell": None,
                "code": finding.code,
                "name": finding.name,
                "message": finding.message,
                "filename": filename,
                "location": _position(finding.location),
                "end_location": _position(finding.end_location),
                "url": rule_url(finding.code, finding.name),
                "noqa_row": finding.noqa_row,
                "fix": fix,
                "help": finding.help,
            })
    return out


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    _json.dump(records(results), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
