"""The values that cross module boundaries: findings, fixes and edits. All immutable."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Optional, Tuple

SAFE = "safe"
UNSAFE = "unsafe"
DISPLAY_ONLY = "display-only"


@dataclass(frozen=True, order=True)
class Position:
    """A place in a file: 1-based row, 1-based column counted in characters."""

    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between two character offsets of the decoded source with `content`."""

    start_offset: int
    end_offset: int
    content: str
    location: Position
    end_location: Position


@dataclass(frozen=True)
class Fix:
    applicability: str  # SAFE, UNSAFE or DISPLAY_ONLY
    message: str  # imperative title: "Replace with `torch.logsumexp(x, dim=1)`"
    edits: Tuple[Edit, ...]


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    message: str
    location: Position
    end_location: Position
    fix: Optional[Fix] = None
    help: Optional[str] = None  # what to do when there is no automatic fix
    noqa_row: int = 0

    def __post_init__(self) -> None:
        if not self.noqa_row:
            object.__setattr__(self, "noqa_row", self.location.row)


@dataclass(frozen=True)
class FileError:
    """numlint could not check a file (or a rule failed on it); the run goes on."""

    message: str
    location: Position = Position(1, 1)
    code: Optional[str] = None  # the rule that failed, when a rule failed


@dataclass(frozen=True)
class CellIndex:
    """Where a notebook's code cells lie in the one Python text numlint checked (see notebook.py).

    Findings keep positions in that text, as edits do; reporters turn them into (cell, row)."""

    cells: Tuple[int, ...]  # each code cell's number: 1-based among all the notebook's cells
    first_rows: Tuple[int, ...]  # the row of each one's first line in the checked text

    def locate(self, position: Position) -> Tuple[int, Position]:
        """The cell number and the position inside that cell."""
        at = max(bisect_right(self.first_rows, position.row) - 1, 0)
        if not self.cells:
            return 0, position
        return self.cells[at], Position(position.row - self.first_rows[at] + 1, position.column)


@dataclass(frozen=True)
class FileResult:
    path: str  # as given / discovered, for display
    findings: Tuple[Finding, ...] = ()
    errors: Tuple[FileError, ...] = ()
    source: Optional[str] = None  # decoded text, kept for reporters that show snippets
    fixed_source: Optional[str] = None  # set when fixes changed the text
    fixes_applied: int = 0
    cells: Optional[CellIndex] = None  # set for notebooks: positions above are in their joined code cells
    asked: Tuple[str, ...] = ()  # qualified names in other modules the file's values were looked up in
    fixed_codes: Tuple[Tuple[str, int], ...] = ()  # (rule, fixes applied), when fixes changed the text
