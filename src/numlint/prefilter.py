"""Cheap text checks that decide what libcst has to parse at all.

libcst parses about 26k lines a second; Python's own `ast` about ten times that. So before
parsing a file with libcst:

1. a file whose identifiers name no numeric module, or lack some op every pattern of every rule
   needs (each rule's triggers are derived from its pattern and the bindings), is skipped;
2. of the rest, top-level functions and classes, and methods of kept classes, that mention none
   of the trigger names of the rules still in play are blanked out — the `def` line becomes
   `def name():` (so the name stays bound), the row where its body began `pass` (at the body's
   own indentation), and its other lines become empty, so every kept line keeps its number and
   text and positions need no mapping. (A one-line definition becomes `def name(): pass`.)

No finding can be lost: a pattern matches only through names its triggers list, and names are
followed only within a scope (a blanked function is its own scope) — except for values that
travel between methods, so methods that assign attributes of `self` and the forward pass of a
class (`forward`, `__call__`, `call`) are always kept. (A module function without a trigger name
that returns another function's softmax is blanked: its value is then not followed.)
"""

from __future__ import annotations

import ast
import re
from typing import AbstractSet, FrozenSet, List, Sequence

from numlint.rules import POWER_HALF, Rule

# A file that mentions none of these cannot hold a hazard we know.
FRAMEWORK_WORDS = frozenset({"numpy", "torch", "tensorflow", "jax", "scipy", "keras", "math", "statistics"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_POWER_HALF = re.compile(r"\*\*\s*\(?\s*(?:0?\.5|1\s*/\s*2)\b")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_LIST_AT_ONCE = 4 * 1024 * 1024  # characters


def identifiers(text: str) -> FrozenSet[str]:
    if len(text) > _LIST_AT_ONCE:  # a huge text: the distinct words only, never a list of them all
        words = {match.group() for match in _IDENTIFIER.finditer(text)}
    else:
        words = set(_IDENTIFIER.findall(text))
    if _POWER_HALF.search(text):
        words.add(POWER_HALF)
    return frozenset(words)


def rules_in_play(text: str, rules: Sequence[Rule], extra: AbstractSet[str] = frozenset()) -> List[Rule]:
    """The rules that could match somewhere in `text` (identifiers, not substrings: `logging`
    must not pass for `log`). `extra` are words the file holds by import: the spellings of the
    ops that the project modules it imports return (`predict` returns a sigmoid)."""
    words = identifiers(text) | extra
    if words.isdisjoint(FRAMEWORK_WORDS):
        return []
    return [rule for rule in rules if rule.could_match(words)]


def reduce(text: str, rules: Sequence[Rule]) -> str:
    """`text` with the functions and methods that cannot matter blanked out, line for line."""
    triggers = set()
    for rule in rules:
        for pattern in rule.patterns:
            if not pattern.triggers:
                return text  # written with operators only (`sqrt(x**2 + y**2)`): it can be anywhere
            for names in pattern.triggers:
                triggers |= names
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text  # libcst will parse (or report) the whole file
    lines = _LINE.findall(text)
    blanked = False
    for statement in tree.body:
        if _blank_if_idle(statement, lines, triggers):
            blanked = True
        elif isinstance(statement, ast.ClassDef):
            for member in statement.body:
                if not _shares_values(member):
                    blanked = _blank_if_idle(member, lines, triggers) or blanked
    return "".join(lines) if blanked else text


_FORWARD = frozenset({"forward", "__call__", "call"})


def _shares_values(member: ast.stmt) -> bool:
    """A method whose values other methods may read: it sets `self.x`, or it is the forward pass."""
    if not isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if member.name in _FORWARD:
        return True
    for node in ast.walk(member):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else ()
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                    return True
    return False


def _blank_if_idle(node: ast.stmt, lines: List[str], triggers: AbstractSet[str]) -> bool:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    first = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    last = node.end_lineno
    if last is None or last > len(lines):
        return False
    if not identifiers("".join(lines[first:last])).isdisjoint(triggers):
        return False
    header = lines[node.lineno - 1]
    indent = header[: len(header) - len(header.lstrip())]
    keyword = "class" if isinstance(node, ast.ClassDef) else "def"
    signature = f"{indent}{keyword} {node.name}" + ("" if keyword == "class" else "()")
    rows = {node.lineno - 1: signature + ": pass"}
    body = node.body[0].lineno - 1
    if body > node.lineno - 1:
        # The block keeps its own indented line (`pass` where the body began): comments after the
        # body stay in the block's footer, as in the original. A one-line `def name(): pass` would
        # leave them, after blank rows, at the end of the module, where libcst drops blank rows.
        inner = lines[body][: len(lines[body]) - len(lines[body].lstrip())]
        if not (inner.startswith(indent) and len(inner) > len(indent)):
            inner = indent + " "
        rows = {node.lineno - 1: signature + ":", body: inner + "pass"}
    for index in range(first, last):
        ending = _ending(lines[index])
        # Other rows are emptied (libcst drops whitespace-only rows before a trailing comment). An
        # empty LF row after a CR row would read as one CRLF and shift every later row: a comment.
        filler = "#" if ending == "\n" and index > 0 and lines[index - 1].endswith("\r") else ""
        lines[index] = rows.get(index, filler) + ending
    return True


def _ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""

