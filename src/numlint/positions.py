"""Where a node is: libcst's positions, computed only for the top-level statements asked about.

libcst's `PositionProvider` generates the code of the whole module again to count lines and
columns, which costs more than the parse (a finding anywhere in a 2,000-line module tripled its
check). A top-level statement's code always starts at column 0 of a line, so its nodes' positions
are those of the same code generation run over that statement alone, started at its first line.
The first lines come from each statement's code, which the round-trip check (does libcst's tree
give back the text it parsed?) generates anyway: so a check with findings costs one plain code
generation of the module, plus positions for the few statements that hold what it reports.

A `StatementMemo` keeps both per statement node, for a caller that parses successive versions of
one text and reuses the nodes of statements an edit did not touch (reparse.py): their code and
positions (relative to their first line) are not computed again.
"""

from __future__ import annotations

from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

import libcst as cst
from libcst._position import CodePosition, CodeRange
from libcst._nodes.internal import CodegenState
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from numlint.flow import subtree


class _Collected:
    """What libcst's position codegen writes to: its provider's `_computed` table."""

    __slots__ = ("_computed",)

    def __init__(self) -> None:
        self._computed: Dict[cst.CSTNode, CodeRange] = {}


class StatementMemo:
    """Code and relative positions of top-level statement nodes, kept while the nodes are
    reused; the module's default indentation and newline are part of the key."""

    def __init__(self) -> None:
        self._codes: Dict[int, Tuple[cst.CSTNode, str, str, str]] = {}
        self._ranges: Dict[int, Tuple[cst.CSTNode, str, str, Dict[cst.CSTNode, CodeRange]]] = {}
        self._nodes: Dict[int, Tuple[cst.CSTNode, FrozenSet[int]]] = {}

    def code(self, module: cst.Module, node: cst.CSTNode) -> str:
        entry = self._codes.get(id(node))
        if entry is not None and entry[0] is node and entry[1] == module.default_indent \
                and entry[2] == module.default_newline:
            return entry[3]
        state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
        node._codegen(state)
        code = "".join(state.tokens)
        self._codes[id(node)] = (node, module.default_indent, module.default_newline, code)
        return code

    def relead(self, module: cst.Module, old: cst.BaseStatement, new: cst.BaseStatement) -> None:
        """`new` is `old` with other leading lines: its code is theirs and the rest of `old`'s
        (a statement's code begins with its leading lines), without generating it again."""
        entry = self._codes.get(id(old))
        if entry is None or entry[0] is not old:
            return
        skipped = sum(len(self.code(module, line)) for line in old.leading_lines)
        code = "".join(self.code(module, line) for line in new.leading_lines) + entry[3][skipped:]
        self._codes[id(new)] = (new, module.default_indent, module.default_newline, code)

    def ranges(self, module: cst.Module, node: cst.CSTNode) -> Dict[cst.CSTNode, CodeRange]:
        """Positions of every node in a top-level statement, its first line counted as line 1."""
        entry = self._ranges.get(id(node))
        if entry is not None and entry[0] is node and entry[1] == module.default_indent \
                and entry[2] == module.default_newline:
            return entry[3]
        collected = _Collected()
        state = PositionProvidingCodegenState(default_indent=module.default_indent,
                                              default_newline=module.default_newline, provider=collected)
        node._codegen(state)
        self._ranges[id(node)] = (node, module.default_indent, module.default_newline, collected._computed)
        return collected._computed

    def nodes(self, node: cst.CSTNode) -> FrozenSet[int]:
        """The ids of the nodes of code in a statement (flow.subtree: not punctuation)."""
        entry = self._nodes.get(id(node))
        if entry is not None and entry[0] is node:
            return entry[1]
        found = frozenset(id(sub) for sub in subtree(node))
        self._nodes[id(node)] = (node, found)
        return found

    def keep_only(self, nodes: Sequence[cst.CSTNode]) -> None:
        """Forget every statement but `nodes` (the current module's)."""
        alive = {id(node) for node in nodes}
        for table in (self._codes, self._ranges, self._nodes):
            for key in [key for key in table if key not in alive]:
                del table[key]


class Positions:
    """Positions of a module's nodes (libcst's `PositionProvider` values), statement by statement."""

    def __init__(self, module: cst.Module, memo: Optional[StatementMemo] = None,
                 hint: Optional[Callable[[cst.CSTNode], Optional[cst.CSTNode]]] = None) -> None:
        self.module = module
        self.memo = memo if memo is not None else StatementMemo()
        self.hint = hint  # node -> the top-level statement that may hold it, or None
        self._first_lines: Optional[List[int]] = None  # per top-level statement: where its code starts
        # per statement index whose positions are computed: (its ranges from line 1, line offset)
        self._ranges: Dict[int, Tuple[Dict[cst.CSTNode, CodeRange], int]] = {}
        self._owner: Dict[int, int] = {}  # id(node) -> index of its statement, for computed statements
        self._index: Optional[Dict[int, int]] = None  # id(top-level statement) -> its index
        self._whole = None  # libcst's positions of every node, if ever needed

    def code(self) -> str:
        """The module's code, as `module.code` but through the statements' memoised code
        (without the last newline libcst drops when the text has none: compare stripped)."""
        module = self.module
        parts = [self.memo.code(module, line) for line in module.header]
        line = 1 + _newlines("".join(parts))
        first_lines = []
        for statement in module.body:
            first_lines.append(line)
            code = self.memo.code(module, statement)
            parts.append(code)
            line += _newlines(code)
        parts.extend(self.memo.code(module, line) for line in module.footer)
        self._first_lines = first_lines
        return "".join(parts)

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        index = self._owner.get(id(node))
        if index is not None:
            self._compute(index)
            return self._shifted(index, node)
        index = self._index_of(node)
        if index is not None:
            self._compute(index)
            return self._shifted(index, node)
        # Outside every statement (the module, its header and footer lines) or reached by no walk:
        # libcst's own pass over the whole module.
        if self._whole is None:
            self._whole = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._whole[node]

    def _shifted(self, index: int, node: cst.CSTNode) -> CodeRange:
        ranges, offset = self._ranges[index]
        where = ranges[node]
        if not offset:
            return where
        return CodeRange(CodePosition(where.start.line + offset, where.start.column),
                         CodePosition(where.end.line + offset, where.end.column))

    def _index_of(self, node: cst.CSTNode) -> Optional[int]:
        """The top-level statement holding `node`: the one `hint` names (the checker knows the
        function or class of what it reports), else the first whose nodes include it."""
        body = self.module.body
        if self.hint is not None:
            statement = self.hint(node)
            if statement is not None:
                if self._index is None:
                    self._index = {id(s): i for i, s in enumerate(body)}
                index = self._index.get(id(statement))
                if index is not None and id(node) in self.memo.nodes(statement):
                    return index
        for index, statement in enumerate(body):
            if id(node) in self.memo.nodes(statement):
                return index
        return None

    def _compute(self, index: int) -> None:
        if index in self._ranges:
            return
        if self._first_lines is None:
            self.code()
        ranges = self.memo.ranges(self.module, self.module.body[index])
        self._ranges[index] = (ranges, self._first_lines[index] - 1)
        owner = self._owner
        for node in ranges:  # its punctuation too (parentheses), which no walk reaches
            owner[id(node)] = index


def _newlines(code: str) -> int:
    """Line breaks as libcst counts them (`\\r\\n`, `\\r`, `\\n`)."""
    return code.count("\n") + code.count("\r") - code.count("\r\n")
