"""The default, human format: each finding with its source lines underlined and the fix offered.

    examples/attention.py:14:11: NUM101 `log(sum(exp(x)))` overflows to inf once any x > 88.7 ...
       |
    14 |     lse = torch.log(torch.sum(torch.exp(scores), dim=-1))
       |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ NUM101
       |
       = fix: Replace with `torch.logsumexp(scores, dim=-1)`

In a notebook the place is `path:cell N:row:col` and the lines are numbered as in that cell.
"""

from __future__ import annotations

from typing import List, Sequence, TextIO

from rich.console import Console
from rich.text import Text

from numlint.diagnostics import SAFE, FileResult, Finding
from numlint.report.paths import place, where
from numlint.report.text import printable
from numlint.source import LineIndex

MAX_LINES = 6


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


def _snippet(finding: Finding, index: LineIndex, shift: int = 0) -> List[Text]:
    """The finding's lines, numbered `shift` rows less than in `index` (a notebook cell's own rows)."""
    first, last = finding.location.row, finding.end_location.row
    shown_last = min(last, first + MAX_LINES - 1)
    width = len(str(shown_last - shift))
    gutter = " " * width + " |"
    out = [Text(gutter, style="blue")]
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
    out.append(Text(gutter, style="blue"))
    return out


def _fix_line(finding: Finding, options, shift: int = 0) -> Text:
    pad = " " * (len(str(finding.end_location.row - shift)) + 1)
    text = Text(pad + "= ", style="blue")
    if finding.fix is not None:
        text.append("fix", style="bold cyan")
        text.append(f": {printable(finding.fix.message)}")
        if finding.fix.applicability != SAFE:
            text.append(f" ({finding.fix.applicability}: apply with --unsafe-fixes)", style="yellow")
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
            header.append(printable(finding.message))
            console.print(header)
            shift = finding.location.row - where(result, finding.location)[1].row  # 0 outside notebooks
            if index is not None:
                for line in _snippet(finding, index, shift):
                    console.print(line)
            if finding.fix is not None or finding.help:
                console.print(_fix_line(finding, options, shift))
            console.print()
