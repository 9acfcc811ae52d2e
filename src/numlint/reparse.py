"""Parsing the next version of a text by parsing again only the top-level statements an edit
touched (the language server's case: one edit in a 2,000-line module).

`Reparser.parse(text)` returns a module equal to `libcst.parse_module(text)` (the tests compare the
trees node for node over random edits of real files). The other top-level statements are the
previous version's nodes, so their code and positions are remembered too (positions.StatementMemo).

Why a top-level statement can be reused. libcst's tree is a list of top-level statements, each
owning whole rows: its leading comment and blank rows, its code, and the comment rows its blocks end
with. A row that starts a top-level statement's code (`def`, `@`, `x = ...` at column 0) is where
the tokenizer holds nothing open (no bracket, string or indented block). So when rows change, only
the statements around them can change: the rows from the start of the first changed statement's
leading rows (`a`) to the code of the first statement after the change (`b + 1`), whose leading
rows are decided again, because the new code before them may now own some of them (a comment
indented under a function that became the last statement). The statement before `a` keeps its
rows as long as the row the change begins on is still code at column 0, or is not the first of
`a`'s code; otherwise it is parsed again too.

That region is parsed on its own between two statements written for the purpose: `if 1:` with
an indented `pass` and a `pass` before it (so its blocks get the module's default indentation and
its first rows are leading rows, as after any statement), and a `pass` after it (so its last rows
are decided as before a statement, not as at the end of a file). Anything unexpected — the region
does not parse, the dummies are not where they belong, the module's default indentation or
newline may change (an edit before or in the first indented block, or at the first row) — and the
whole text is parsed, as the first version was: the result is always that of a full parse.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import List, Optional, Sequence

import libcst as cst
from libcst._nodes.deep_equals import deep_equals

from numlint.positions import StatementMemo

_ROW = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # rows as libcst counts them


class Reparser:
    """Parses successive versions of one text, reusing what an edit did not touch."""

    def __init__(self) -> None:
        self.memo = StatementMemo()
        self._rows: Optional[List[str]] = None
        self._module: Optional[cst.Module] = None
        self._chunk_starts: List[int] = []  # per statement: its first row (leading rows included), 0-based
        self._code_starts: List[int] = []  # per statement: the first row of its code
        self._first_block = -1  # the first statement with an indented block (sets default_indent)
        self.parsed_rows: Optional[int] = None  # rows libcst parsed for the last text (all when parsed whole)

    def parse(self, text: str) -> cst.Module:
        """`libcst.parse_module(text)`, raising what it raises."""
        rows = _ROW.findall(text)
        module = self._again(rows) if self._module is not None else None
        # What is kept must give back the text row for row (the rows are counted from its code):
        # libcst does not for a few texts (libcst_text.py), which are always parsed whole.
        if module is not None and not self._remember(module, rows, text):
            module = None
        if module is None:
            module = cst.parse_module(text)
            if not self._remember(module, rows, text):
                self.forget()
            self.parsed_rows = len(rows)
        return module

    def forget(self) -> None:
        """Drop the previous version: the next text is parsed whole."""
        self.__init__()

    # -- the region an edit touched ---------------------------------------------------------------

    def _again(self, rows: List[str]) -> Optional[cst.Module]:
        old_rows, old = self._rows, self._module
        if rows == old_rows:
            self.parsed_rows = 0
            return old
        shortest = min(len(rows), len(old_rows))
        start = 0
        while start < shortest and rows[start] == old_rows[start]:
            start += 1
        same_tail = 0
        while same_tail < shortest - start and rows[-1 - same_tail] == old_rows[-1 - same_tail]:
            same_tail += 1
        old_end, new_end = len(old_rows) - same_tail, len(rows) - same_tail  # changed: [start, end)
        shift = new_end - old_end
        chunks, codes = self._chunk_starts, self._code_starts
        # Statements [first, last] are parsed again; the one after them keeps its code (and node)
        # but its leading rows are decided again.
        holder = bisect_right(chunks, start) - 1  # the statement whose rows the change begins in
        if holder < 0:
            return None  # in the module's header
        first = holder
        if start <= codes[holder] and not (start < len(rows) and _starts_code(rows[start])):
            first -= 1  # a comment or blank row after the code before it: that code may own it
        if first <= self._first_block:
            return None  # the header, the first statements or the module's default indentation
        # The last statement whose code (or the rows after it) the change touches; an insertion
        # right before a statement's code leaves that statement's code alone.
        last = bisect_left(codes, old_end if old_end > start else start) - 1
        module = self._region(rows, first, last, shift)
        if module is None and last + 1 < len(old.body):
            # What the change ends with may belong to the next statement (a decorator typed
            # before a `def`): parse that one again too.
            module = self._region(rows, first, last + 1, shift)
        return module

    def _region(self, rows: List[str], first: int, last: int, shift: int) -> Optional[cst.Module]:
        """The module with statements [first, last] replaced by what the rows now hold there, and
        the leading rows of the statement after them decided again; None if that cannot be done."""
        old, chunks, codes = self._module, self._chunk_starts, self._code_starts
        to_the_end = last + 1 == len(old.body)
        begin = chunks[first]
        end = len(rows) if to_the_end else codes[last + 1] + shift
        newline, indent = old.default_newline, old.default_indent
        before = f"if 1:{newline}{indent}pass{newline}pass{newline}"
        after = "" if to_the_end else f"pass{newline}"
        try:
            region = cst.parse_module(before + "".join(rows[begin:end]) + after)
        except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError):
            return None  # the full parse says why (or parses what the region alone could not)
        body = list(region.body)
        if (region.default_indent != indent or region.default_newline != newline or region.header
                or len(body) < (2 if to_the_end else 3) or not _is_dummy_block(body[0], indent) or not _is_pass(body[1])
                or body[1].leading_lines):
            return None
        if to_the_end:
            statements = body[2:]
            tail: Sequence[cst.BaseStatement] = ()
            changes = dict(footer=region.footer, has_trailing_newline=region.has_trailing_newline)
        else:
            dummy = body[-1]
            if region.footer or not _is_pass(dummy):
                return None
            statements = body[2:-1]
            following = old.body[last + 1]
            if not _same_lines(following.leading_lines, dummy.leading_lines):
                following = following.with_changes(leading_lines=dummy.leading_lines)
                self.memo.relead(old, old.body[last + 1], following)
            tail = (following, *old.body[last + 2:])
            changes = {}
        self.parsed_rows = end - begin
        return old.with_changes(body=(*old.body[:first], *statements, *tail), **changes)

    def _remember(self, module: cst.Module, rows: List[str], text: str) -> bool:
        memo = self.memo
        parts = [memo.code(module, line) for line in module.header]
        row = _rows_in("".join(parts))
        chunk_starts, code_starts = [], []
        first_block = len(module.body)
        for index, statement in enumerate(module.body):
            chunk_starts.append(row)
            code_starts.append(row + len(statement.leading_lines))
            code = memo.code(module, statement)
            parts.append(code)
            row += _rows_in(code)
            if first_block == len(module.body) and _has_block(statement):
                first_block = index
        parts.extend(memo.code(module, line) for line in module.footer)
        code = "".join(parts)
        if not module.has_trailing_newline and code.endswith(("\n", "\r")):
            code = code[:-2] if code.endswith("\r\n") else code[:-1]
        if code != text:
            return False
        memo.keep_only(module.body)
        self._rows, self._module = rows, module
        self._chunk_starts, self._code_starts, self._first_block = chunk_starts, code_starts, first_block
        return True


def _starts_code(row: str) -> bool:
    """Does a row begin with code at column 0 (not a comment, blank or indented row)?"""
    return bool(row) and row[0] not in " \t\f\v#\r\n\\"


def _rows_in(code: str) -> int:
    return code.count("\n") + code.count("\r") - code.count("\r\n")


def _is_pass(statement: cst.CSTNode) -> bool:
    """A `pass` written by us: alone on its row, no comment, the default newline."""
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Pass) and statement.body[0].semicolon is cst.MaybeSentinel.DEFAULT
            and statement.trailing_whitespace.comment is None and not statement.trailing_whitespace.whitespace.value
            and statement.trailing_whitespace.newline.value is None)


def _is_dummy_block(statement: cst.CSTNode, indent: str) -> bool:
    if not (isinstance(statement, cst.If) and statement.orelse is None and not statement.leading_lines):
        return False
    block = statement.body
    return (isinstance(block, cst.IndentedBlock) and block.indent is None and not block.footer
            and len(block.body) == 1 and _is_pass(block.body[0]) and not block.body[0].leading_lines)


def _same_lines(a: Sequence[cst.EmptyLine], b: Sequence[cst.EmptyLine]) -> bool:
    return len(a) == len(b) and all(deep_equals(x, y) for x, y in zip(a, b))


def _has_block(statement: cst.CSTNode) -> bool:
    """Does a top-level statement hold an indented block (the first one sets the module's
    default indentation)?"""
    if isinstance(statement, cst.SimpleStatementLine):
        return False
    stack = [statement]
    while stack:
        node = stack.pop()
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            value = getattr(node, name, None)
            if isinstance(value, cst.IndentedBlock):
                return True
            if isinstance(value, (list, tuple)):
                stack.extend(item for item in value if isinstance(item, cst.CSTNode))
            elif isinstance(value, cst.CSTNode) and not isinstance(value, cst.SimpleStatementSuite):
                stack.append(value)
    return False
