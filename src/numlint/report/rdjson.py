"""reviewdog's Diagnostic Format (rdjson), as ruff writes it: one document with `source`,
`severity` and `diagnostics`, each with its `location` (path and a 1-based range), `code` (value
and documentation URL) and, when there is a fix, `suggestions` (one per edit). Files numlint could
not check are diagnostics of severity `error` without a code. In a notebook, rows are counted in
the cell and the message starts with `cell N: `."""

from __future__ import annotations

from typing import Sequence, TextIO

from numlint.diagnostics import FileResult, Position
from numlint.report.paths import ci_path, where
from numlint.report.text import dump_json


def _position(result: FileResult, position: Position) -> dict:
    at = where(result, position)[1]
    return {"line": at.row, "column": at.column}


def _cell(result: FileResult, position: Position) -> str:
    cell = where(result, position)[0]
    return f"cell {cell}: " if cell is not None else ""


def document(results: Sequence[FileResult]) -> dict:
    from numlint.report import rule_url

    diagnostics = []
    for result in results:
        path = ci_path(result.path)
        for error in result.errors:
            diagnostics.append({
                "message": _cell(result, error.location) + error.message,
                "location": {"path": path, "range": {"start": _position(result, error.location)}},
                "severity": "error",
            })
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            item = {
                "message": _cell(result, finding.location) + finding.message,
                "location": {"path": path, "range": {"start": _position(result, finding.location),
                                                     "end": _position(result, finding.end_location)}},
                "code": {"value": finding.code, "url": rule_url(finding.code, finding.name)},
            }
            if finding.fix is not None:
                item["suggestions"] = [
                    {"range": {"start": _position(result, e.location), "end": _position(result, e.end_location)},
                     "text": e.content}
                    for e in finding.fix.edits
                ]
            diagnostics.append(item)
    return {"source": {"name": "numlint", "url": _home()}, "severity": "warning", "diagnostics": diagnostics}


def _home() -> str:
    from numlint.report import DOCS_URL

    return DOCS_URL


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    dump_json(document(results), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
