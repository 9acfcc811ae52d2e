"""The default, human format: each finding with its source lines underlined, two lines of
context either side (as ruff shows them), `[*]` when `--fix` would fix it, and the fix offered.

    examples/attention.py:14:11: NUM101 [*] `log(sum(exp(x)))` overflows to inf once any x > 88.7 ...
       |
    12 | def attend(q, k):
    13 |     scores = q @ k.T
    14 |     lse = torch.log(torch.sum(torch.exp(scores), dim=-1))
       |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ NUM101
    15 |     return scores - lse
       |
       = fix: Replace with `torch.logsumexp(scores, dim=-1)`

In a notebook the place is `path:cell N:row:col`, the lines are numbered as in that cell, and
the context stays inside the cell.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, TextIO, Tuple

from rich.console import Console
from rich.text import Text

from numlint.diagnostics import SAFE, UNSAFE, FileResult, Finding
from numlint.report.paths import place, where
from numlint.report.text import printable
from numlint.source import LineIndex

MAX_LINES = 6
CONTEXT = 2  # lines shown before and after the finding's own, as ruff does


def make_console(stream: TextIO, color) -> Console:
    # `color` None: colour only on a terminal (rich also honours NO_COLOR and FORCE_COLOR).
    return Console(
        file=stream,
        force_terminal=color if color is not None else None,
        no_color=(color is False) or None,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )


def _display(line: str, column: int) -> int:
    """Width of line[:column] as shown (escapes written out, tabs expanded), so carets line up."""
    return len(printable(line[:column]).expandtabs(4))


def _as_written(line: str) -> str:
    """A notebook's IPython line as the cell has it (the checked text keeps it in a comment)."""
    from numlint.notebook import MARKER

    at = line.find(MARKER)
    if at < 0:
        return line
    return line[: len(line) - len(line.lstrip())] + line[at + len(MARKER):]


def _context(index: LineIndex, rows: range, bounds: Tuple[int, int], before: bool) -> List[int]:
    """The rows of `rows` inside `bounds`, without the blank lines at the window's far end."""
    kept = [row for row in rows if bounds[0] <= row <= bounds[1]]
    while kept and not index.line(kept[0 if before else -1]).strip():
        kept.pop(0 if before else -1)
    return kept


def _context_line(index: LineIndex, row: int, shift: int, width: int) -> Text:
    line = printable(_as_written(index.line(row))).expandtabs(4)
    text = Text(f"{row - shift:>{width}} |" + (" " if line else ""), style="blue")
    text.append(line)
    return text


def _snippet(finding: Finding, index: LineIndex, shift: int = 0,
             bounds: Optional[Tuple[int, int]] = None) -> List[Text]:
    """The finding's lines with their context, numbered `shift` rows less than in `index` (a
    notebook cell's own rows); context rows stay within `bounds` (the cell)."""
    first, last = finding.location.row, finding.end_location.row
    shown_last = min(last, first + MAX_LINES - 1)
    bounds = bounds or (1, index.rows)
    before = _context(index, range(first - CONTEXT, first), bounds, True)
    after = _context(index, range(last + 1, last + 1 + CONTEXT), bounds, False) if shown_last == last else []
    width = len(str(max([shown_last, *after]) - shift))
    gutter = " " * width + " |"
    out = [Text(gutter, style="blue")]
    for row in before:
        out.append(_context_line(index, row, shift, width))
    for row in range(first, shown_last + 1):
        line = index.line(row)
        start = finding.location.column - 1 if row == first else len(line) - len(line.lstrip())
        end = finding.end_location.column - 1 if row == last else len(line)
        text = Text(f"{row - shift:>{width}} | ", style="blue")
        text.append(printable(line).expandtabs(4))  # a string literal may hold an escape sequence
        out.append(text)
        carets = Text(gutter + " ", style="blue")
        begin, stop = _display(line, start), _display(line, max(end, start + 1))
        carets.append(" " * begin + "^" * max(stop - begin, 1), style="bold red")
        if row == shown_last:
            carets.append(f" {finding.code}", style="bold red")
        out.append(carets)
    if shown_last < last:
        out.append(Text(f"{'.' * width} | ...", style="blue"))
    for row in after:
        out.append(_context_line(index, row, shift, width))
    out.append(Text(gutter, style="blue"))
    return out


def cell_bounds(result: FileResult, row: int) -> Optional[Tuple[int, int]]:
    """In a notebook: the first and last row of the cell holding `row` (its separator excluded)."""
    if result.cells is None or not result.cells.first_rows:
        return None
    firsts = result.cells.first_rows
    at = max(i for i, first in enumerate(firsts) if first <= row) if firsts[0] <= row else 0
    last = firsts[at + 1] - 2 if at + 1 < len(firsts) else 10 ** 9
    return firsts[at], last


def marker(finding: Finding, options) -> str:
    """`[*] ` when `--fix` applies this finding's fix (unsafe ones only with --unsafe-fixes)."""
    fix = finding.fix
    unsafe = bool(getattr(options, "unsafe", False))
    return "[*] " if fix is not None and (fix.applicability == SAFE or (unsafe and fix.applicability == UNSAFE)) else ""


def _fix_line(finding: Finding, options, shift: int = 0) -> Text:
    pad = " " * (len(str(finding.end_location.row - shift)) + 1)
    text = Text(pad + "= ", style="blue")
    if finding.fix is not None:
        text.append("fix", style="bold cyan")
        text.append(f": {printable(finding.fix.message)}")
        if finding.fix.applicability == UNSAFE and not getattr(options, "unsafe", False):
            text.append(f" ({finding.fix.applicability}: apply with --unsafe-fixes)", style="yellow")
        elif finding.fix.applicability != SAFE:
            text.append(f" ({finding.fix.applicability})", style="yellow")
    else:
        text.append("help", style="bold cyan")
        text.append(f": {printable(finding.help or '')}")
    return text


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    console = make_console(stream, getattr(options, "color", None))
    for result in results:
        index = LineIndex(result.source) if result.source is not None else None
        for error in result.errors:
            line = Text(f"{printable(place(result, error.location))}: ", style="bold")
            line.append("error", style="bold red")
            line.append(f": {printable(error.message)}")
            console.print(line)
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            header = Text(f"{printable(place(result, finding.location))}: ", style="bold")
            header.append(finding.code, style="bold red")
            header.append(" ")
            if marker(finding, options):
                header.append("[*] ", style="cyan")
            header.append(printable(finding.message))
            console.print(header)
            shift = finding.location.row - where(result, finding.location)[1].row  # 0 outside notebooks
            if index is not None:
                bounds = cell_bounds(result, finding.location.row)
                if bounds is not None:
                    bounds = (bounds[0], min(bounds[1], index.rows))
                for line in _snippet(finding, index, shift, bounds):
                    console.print(line)
            if finding.fix is not None or finding.help:
                console.print(_fix_line(finding, options, shift))
            console.print()
