"""GitLab Code Quality JSON (`artifacts: reports: codequality`), shown in merge request widgets.

GitLab tells new findings from old ones by `fingerprint`, so it must survive unrelated edits: it
hashes the path, the rule, the message and the text of the finding's lines, not the row number,
so adding lines above a finding does not make it "new". Identical findings on identical lines of a
file are told apart by their order among themselves. In a notebook, rows are counted in the cell
and the description names the cell (`cell 3: ...`), as ruff does.
"""

from __future__ import annotations

import hashlib
from typing import Dict, Optional, Sequence, TextIO, Tuple

from numlint.diagnostics import FileResult, Position
from numlint.report.paths import ci_path, where
from numlint.report.text import dump_json
from numlint.source import LineIndex

SEVERITY = "major"
ERROR_SEVERITY = "critical"  # a file numlint could not check hides every hazard in it


def _line_text(index: Optional[LineIndex], start: Position, end: Position) -> str:
    if index is None:
        return ""
    last = min(end.row, index.rows)
    # Stripped, so re-indenting a block keeps its fingerprints.
    return "\n".join(index.line(row).strip() for row in range(start.row, last + 1))


def _in_cell(cell: Optional[int]) -> str:
    return f"cell {cell}: " if cell is not None else ""


def _fingerprint(parts: Tuple[str, ...], seen: Dict[Tuple[str, ...], int]) -> str:
    occurrence = seen.get(parts, 0)
    seen[parts] = occurrence + 1
    # surrogateescape: a name that is not UTF-8 hashes as its own bytes
    return hashlib.sha256("\0".join((*parts, str(occurrence))).encode("utf-8", "surrogateescape")).hexdigest()


def records(results: Sequence[FileResult]) -> list:
    out = []
    for result in results:
        path = ci_path(result.path)
        index = LineIndex(result.source) if result.source is not None else None
        seen: Dict[Tuple[str, ...], int] = {}
        for error in result.errors:
            cell, at = where(result, error.location)
            row = at.row
            out.append({
                "description": f"numlint could not check this file: {_in_cell(cell)}{error.message}",
                "check_name": "numlint-error",
                "fingerprint": _fingerprint((path, "numlint-error", error.message), seen),
                "severity": ERROR_SEVERITY,
                "location": {"path": path, "lines": {"begin": row, "end": row}},
            })
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            text = _line_text(index, finding.location, finding.end_location)
            cell, start = where(result, finding.location)
            out.append({
                "description": f"{finding.code} {_in_cell(cell)}{finding.message}",
                "check_name": finding.code,
                "fingerprint": _fingerprint((path, finding.code, finding.message, text), seen),
                "severity": SEVERITY,
                "location": {
                    "path": path,
                    "lines": {"begin": start.row, "end": where(result, finding.end_location)[1].row},
                },
            })
    return out


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    dump_json(records(results), stream, indent=2)
    stream.write("\n")
