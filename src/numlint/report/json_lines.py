"""One JSON object per line (ruff's `json-lines`): the records of the `json` format, compact."""

from __future__ import annotations

from typing import Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.json import records
from numlint.report.text import dump_json


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    for record in records(results):
        dump_json(record, stream, ensure_ascii=False, separators=(",", ":"))
        stream.write("\n")
