"""Jupyter notebooks (`.ipynb`, nbformat 4): their code cells as one Python text, and back.

The code cells are joined in order into one Python text, so a name bound in one cell and used in
a later one is followed as in a script (a softmax in cell 1, its log in cell 2). Between two cells
stands a separator comment line. IPython syntax cannot be parsed as Python, so each line of it
(found only where a statement starts, not inside brackets or strings) is replaced by a line that
keeps the original in a comment:

    %matplotlib inline      ->  # numlint-ipython: %matplotlib inline
        !wc -l {name}       ->      pass  # numlint-ipython: !wc -l {name}
    files = !ls             ->  files = None  # numlint-ipython: files = !ls

so a block keeps a body and a name bound by the line stays bound (dataflow never looks through a
name that IPython rebinds). `from __future__` lines, legal at the top of any cell but not in the
middle of the joined text, become comments the same way. A cell that is not Python to us (a cell magic other than `%%time` and
the like, top-level `await`) or that does not parse on its own (reported) is not checked: each of
its lines becomes a bare marker comment and the cell is never changed. Every cell line is one line
of the text, so a position maps back to (cell, row) by counting rows, and the text after fixes maps
back to cells by splitting at the separators and restoring the placeholders. No fix can touch
either: a fix replaces an expression, deletes a statement's own lines or inserts an import at a
line start; `sources` still checks that none did before anything is written.

Writing back replaces only the `source` values of the changed cells in the file's text, in the
style they had (a list of lines or one string, the same indentation, ASCII escapes as the file
had them); every other byte of the file stays as it was.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
import warnings
from dataclasses import dataclass, replace
from typing import Dict, Iterator, List, Optional, Tuple

from numlint.diagnostics import CellIndex, FileError, FileResult, Position
from numlint.source import BOM, SourceError, content_digest, read_bytes

SUFFIX = ".ipynb"
MARKER = "# numlint-ipython: "
SEPARATOR = "# numlint: next notebook cell"

# Cell magics that run their body as Python in the kernel: the `%%` line is skipped, the body checked.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_ESCAPED = re.compile(r"\s*[%!?]")  # %magic, !shell, ?help
_ASSIGNED = re.compile(r"(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")  # x = !ls, t = %time f()
_HELP = re.compile(r"\s*[\w.*]+\?\??\s*$")  # obj?, obj.attr??, np.*load*?
_FUTURE = re.compile(r"from\s+__future__\s+import\b")


class NotebookError(SourceError):
    """A file that is not a notebook numlint can read; the message is one line for the user."""


def is_notebook(path) -> bool:
    return str(path).lower().endswith(SUFFIX)


@dataclass
class _Cell:
    number: int  # 1-based among all the notebook's cells, markdown included (as ruff and VS Code count)
    source: str
    as_list: bool  # stored as a list of lines (nbformat's usual form) rather than one string
    checked: str = ""  # the cell as it stands in the joined text, placeholders in
    ipython: Tuple[str, ...] = ()  # the original IPython lines, in order, that placeholders stand for
    skipped: bool = False  # not Python to us (a `%%bash` cell, one that does not parse): never changed
    problem: Optional[Tuple[str, int, int]] = None  # why it is not checked: (message, row, column)


class Notebook:
    """A notebook read for checking. `text` is what numlint checks; `encode(fixed)` the new file."""

    def __init__(self, raw: str, bom: bool, cells: List[_Cell], text: str, digest: str = "") -> None:
        self.raw = raw
        self.bom = bom
        self.cells = cells
        self.text = text
        self.digest = digest  # of the bytes read (source.content_digest): a fix is written only over these

    @property
    def numbers(self) -> Tuple[int, ...]:
        return tuple(cell.number for cell in self.cells)

    def index(self, text: str) -> CellIndex:
        return cell_index(text, self.numbers)

    def finish(self, result: FileResult) -> FileResult:
        """A result on the joined text, with its cell index and the cells that could not be checked."""
        text = result.source if result.source is not None else self.text
        index = self.index(text)
        skipped = tuple(  # cells that do not parse, placed in the final text (fixes may move rows)
            FileError(cell.problem[0], Position(first + cell.problem[1] - 1, cell.problem[2]))
            for cell, first in zip(self.cells, index.first_rows) if cell.problem is not None
        )
        result = replace(result, errors=skipped + result.errors, cells=index)
        if result.fixed_source is not None:
            try:
                self.encode(result.fixed_source)
            except NotebookError as exc:  # never write a fix we cannot map back to the cells
                result = replace(result, fixed_source=None, fixes_applied=0,
                                 errors=result.errors + (FileError(str(exc), code="internal"),))
        return result

    def sources(self, text: str) -> Dict[int, str]:
        """The source of every code cell in a (fixed) joined text: {cell number: source}."""
        pieces = split_cells(text, len(self.cells))
        out = {}
        for cell, piece in zip(self.cells, pieces):
            if piece == cell.checked:
                out[cell.number] = cell.source
                continue
            lines, ipython = _restore(piece)
            if cell.skipped or _stripped(ipython) != _stripped(cell.ipython):
                raise NotebookError(f"cell {cell.number}: a fix changed an IPython line or a cell not checked; "
                                    "this is a numlint bug, please report it")
            source = "".join(lines)
            if not cell.source.endswith(("\n", "\r")) and source.endswith("\n"):
                source = source[:-1]  # the newline the joined text added
            out[cell.number] = source
        return out

    def encode(self, text: str) -> bytes:
        """The notebook file with the cells of the fixed joined `text`: only changed sources rewritten."""
        new = self.sources(text)
        changed = {c.number: c for c in self.cells if new[c.number] != c.source}
        out = self.raw
        if not changed:
            return (BOM if self.bom else b"") + out.encode("utf-8")
        try:
            spans = _source_spans(self.raw)
        except (ValueError, IndexError, TypeError):  # json.loads read it, so this is our bug
            raise NotebookError("cannot find the cells in the file to write the fix; this is a numlint bug, "
                                "please report it") from None
        for number in sorted(changed, reverse=True):
            start, end = spans[number - 1]
            cell = changed[number]
            out = out[:start] + _dump_like(new[number], cell.as_list, out[start:end], self.raw.isascii()) + out[end:]
        try:
            written = json.loads(out)["cells"]
            assert all(_joined(written[n - 1]["source"]) == new[n] for n in changed)
        except (ValueError, KeyError, IndexError, TypeError, AssertionError):
            raise NotebookError("writing the fixed cells back failed; this is a numlint bug, "
                                "please report it") from None
        return (BOM if self.bom else b"") + out.encode("utf-8")


def read(path: str, limit: Optional[int] = None) -> Notebook:
    try:
        data = read_bytes(path, limit)  # a FIFO or a device named x.ipynb is refused, never waited on
    except SourceError as exc:
        raise NotebookError(str(exc)) from None
    return loads(data)


def loads(data: bytes) -> Notebook:
    bom = data.startswith(BOM)
    try:
        raw = data[len(BOM):].decode("utf-8") if bom else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not a notebook: cannot decode as UTF-8: {exc}") from None
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise NotebookError(f"not a notebook: invalid JSON: {exc.msg} ({where})") from None
    except RecursionError:
        raise NotebookError("not a notebook: JSON nested too deeply") from None
    cells = _code_cells(document)
    if cells is None:  # another kernel language: nothing of ours to check
        return Notebook(raw, bom, [], "", content_digest(data))
    if any(SEPARATOR in cell.source or MARKER in cell.source for cell in cells):
        raise NotebookError(f"a code cell contains numlint's own marker `{MARKER.strip()}`; not checked")
    parts: List[str] = []
    for cell in cells:
        lines, ipython, cell.problem = _python_lines(cell.source)
        cell.skipped = lines is None
        if lines is None:  # every line a bare marker comment: rows kept, nothing of the cell read
            lines = [MARKER.rstrip() + _newline(line) for line in _LINE.findall(cell.source)]
        cell.ipython = tuple(ipython)
        text = "".join(lines)
        if not text.endswith(("\n", "\r")):
            text += "\n"
        cell.checked = text
        parts.append(text)
    return Notebook(raw, bom, cells, (SEPARATOR + "\n").join(parts), content_digest(data))


def _code_cells(document) -> Optional[List[_Cell]]:
    """The code cells, or None for a notebook in another language; NotebookError when not nbformat 4."""
    if not isinstance(document, dict) or "cells" not in document:
        if isinstance(document, dict) and "worksheets" in document:
            raise NotebookError("not an nbformat 4 notebook (nbformat 3); "
                                "convert it with `jupyter nbconvert --to notebook --nbformat 4`")
        raise NotebookError("not a notebook: no `cells` list")
    if document.get("nbformat") != 4 or not isinstance(document["cells"], list):
        raise NotebookError(f"not an nbformat 4 notebook (nbformat {document.get('nbformat')!r})")
    metadata = document.get("metadata")
    language = None
    if isinstance(metadata, dict):
        info = metadata.get("language_info")
        language = info.get("name") if isinstance(info, dict) else None
    if isinstance(language, str) and language.lower() != "python":
        return None
    cells = []
    for number, cell in enumerate(document["cells"], start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"not an nbformat 4 notebook: cell {number} has no `cell_type`")
        if cell["cell_type"] != "code":
            continue
        source = cell.get("source", "")
        if not (isinstance(source, str) or isinstance(source, list) and all(isinstance(s, str) for s in source)):
            raise NotebookError(f"not an nbformat 4 notebook: the source of cell {number} is not text")
        cells.append(_Cell(number, _joined(source), isinstance(source, list)))
    return cells


def _joined(source) -> str:
    return source if isinstance(source, str) else "".join(source)


# -- IPython syntax -------------------------------------------------------------------------------

def _python_lines(source: str) -> Tuple[Optional[List[str]], List[str], Optional[Tuple[str, int, int]]]:
    """A cell's lines with IPython lines replaced by placeholders (None: the cell is not checked),
    the replaced lines, and why the cell cannot be checked when it is an error: (message, row, column)."""
    lines = _LINE.findall(source)
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if first[2:].split() else ""
        if name not in PYTHON_CELL_MAGICS:
            return None, [], None  # %%bash, %%html, %%writefile: not Python to us
        out, ipython = [_placeholder(lines[0])], [lines[0]]
        body = lines[1:]
    else:
        out, ipython, body = [], [], lines
    for line in body:
        if _hidden(line) and _complete("".join(out)):
            out.append(_placeholder(line))
            ipython.append(line)
        else:
            out.append(line)
    problem = _compile_problem("".join(out))
    if problem == "await":  # top-level `await` runs in IPython but is not a module: skipped
        return None, [], None
    if problem is not None:
        return None, [], problem
    return out, ipython, None


def _hidden(line: str) -> bool:
    """Is this line, if a statement starts on it, IPython syntax (or a future import, legal at the
    top of any cell but not in the middle of the joined text)?"""
    if _FUTURE.match(line):
        return _complete(line)
    return bool(_ESCAPED.match(line) or _ASSIGNED.match(line) or _HELP.match(line))


def _complete(text: str) -> bool:
    """Does `text` end between two statements (not inside brackets, a string or after a `\\`)?"""
    try:
        for _ in tokenize.generate_tokens(io.StringIO(text).readline):
            pass
    except tokenize.TokenError:
        return False
    except SyntaxError:  # broken in another way: the cell's compile check reports it
        return True
    return True


def _stripped(lines) -> List[str]:
    return [line.rstrip("\r\n") for line in lines]


def _newline(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _placeholder(line: str) -> str:
    body = line.rstrip("\r\n")
    stripped = body.lstrip()
    indent = body[: len(body) - len(stripped)]
    assigned = _ASSIGNED.match(body)
    if assigned:  # names bound by `x = !ls` stay bound
        return f"{indent}{assigned.group(2)} = None  {MARKER}{stripped}{_newline(line)}"
    if indent:  # a block keeps a body
        return f"{indent}pass  {MARKER}{stripped}{_newline(line)}"
    return MARKER + stripped + _newline(line)  # a comment: `from __future__` may still come after it


def _restore(piece: str) -> Tuple[List[str], List[str]]:
    lines, ipython = [], []
    for line in _LINE.findall(piece):
        at = line.find(MARKER)
        if at >= 0:
            body = line.rstrip("\r\n")
            indent = body[: len(body) - len(body.lstrip())]
            line = indent + body[at + len(MARKER):] + _newline(line)
            ipython.append(line)
        lines.append(line)
    return lines, ipython


def _compile_problem(text: str):
    """None when `text` compiles; "await" when it only does with top-level await; else (message, row, column)."""
    flags = 0  # a full compile: `return` or `await` outside a function is only found past the parse
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the user's SyntaxWarnings are not ours to print
        try:
            compile(text, "<cell>", "exec", flags, dont_inherit=True)
            return None
        except SyntaxError as exc:
            try:
                compile(text, "<cell>", "exec", flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
                return "await"
            except SyntaxError:
                pass
            return f"cannot parse this cell (not checked): {exc.msg}", exc.lineno or 1, max(exc.offset or 1, 1)
        except (ValueError, RecursionError, MemoryError) as exc:
            return f"cannot parse this cell (not checked): {type(exc).__name__}", 1, 1


# -- the joined text ------------------------------------------------------------------------------

def split_cells(text: str, count: int) -> List[str]:
    """The joined text cut at the separators: one piece per code cell."""
    pieces, current = [], []
    for line in _LINE.findall(text):
        if line.rstrip("\r\n") == SEPARATOR:
            pieces.append("".join(current))
            current = []
        else:
            current.append(line)
    pieces.append("".join(current))
    if len(pieces) != count:
        raise NotebookError("a fix moved a cell boundary; this is a numlint bug, please report it")
    return pieces


def cell_index(text: str, numbers: Tuple[int, ...]) -> CellIndex:
    firsts, row = [1], 1
    for line in _LINE.findall(text):
        row += 1
        if line.rstrip("\r\n") == SEPARATOR:
            firsts.append(row)
    return CellIndex(numbers, tuple(firsts[: len(numbers)]))


def cell_texts(text: str, numbers: Tuple[int, ...]) -> List[Tuple[int, str]]:
    """(cell number, source with its IPython lines) for each code cell of a joined text, for diffs."""
    pieces = split_cells(text, len(numbers)) if numbers else []
    return [(number, "".join(_restore(piece)[0])) for number, piece in zip(numbers, pieces)]


# -- writing back ---------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(raw: str, at: int) -> int:
    return _SPACE.match(raw, at).end()


def _members(raw: str, at: int) -> Iterator[Tuple[str, int, int]]:
    """(key, value start, value end) of the JSON object starting at `at`."""
    at = _skip(raw, at + 1)  # past `{`
    while raw[at] != "}":
        key, at = json.decoder.scanstring(raw, at + 1)
        at = _skip(raw, _skip(raw, at) + 1)  # past `:`
        _, end = _DECODER.raw_decode(raw, at)
        yield key, at, end
        at = _skip(raw, end)
        if raw[at] == ",":
            at = _skip(raw, at + 1)


def _elements(raw: str, at: int) -> Iterator[Tuple[int, int]]:
    at = _skip(raw, at + 1)  # past `[`
    while raw[at] != "]":
        _, end = _DECODER.raw_decode(raw, at)
        yield at, end
        at = _skip(raw, end)
        if raw[at] == ",":
            at = _skip(raw, at + 1)


def _source_spans(raw: str) -> List[Tuple[int, int]]:
    """Where each cell's `source` value lies in the file's text, in cell order (all cells)."""
    cells = None
    for key, start, _ in _members(raw, _skip(raw, 0)):
        if key == "cells":
            cells = start
    spans = []
    for start, _ in _elements(raw, cells):
        span = (0, 0)
        for key, value_start, value_end in _members(raw, start):
            if key == "source":
                span = (value_start, value_end)
        spans.append(span)
    return spans


def _dump_like(source: str, as_list: bool, old: str, ascii_only: bool) -> str:
    """`source` as JSON, laid out like the value it replaces (the same space after `[`, between
    items and before `]`)."""
    if not as_list:
        return json.dumps(source, ensure_ascii=ascii_only)
    items = [json.dumps(line, ensure_ascii=ascii_only) for line in _LINE.findall(source)]
    first = old[1:].lstrip()
    if not items or first.startswith("]"):  # nothing to lay out after, or like
        return json.dumps(_LINE.findall(source), ensure_ascii=ascii_only)
    opening = old[1: len(old) - len(first)]
    body = old[:-1].rstrip()
    closing = old[len(body):-1]
    _, end = _DECODER.raw_decode(old, len(old) - len(first))
    after = _skip(old, end)
    if old[after] == ",":  # as between the first two items
        between = old[end:_skip(old, after + 1)]
    else:  # a single item: one per line if the item had a line of its own
        between = ",\n" + opening[opening.rfind("\n") + 1:] if "\n" in opening else ", "
    return "[" + opening + between.join(items) + closing + "]"