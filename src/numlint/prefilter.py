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

A pattern written with operators only (`$i / ($a + $b - $i)`, `$x ** $p`) is triggered by its root
operator's text (`/`, `**`), a pseudo-word `identifiers` adds where the text has it.

No finding can be lost: a pattern matches only through names its triggers list, except where the
value analysis carries a value between units: so methods that assign attributes of `self` and the
forward pass of a class are always kept, and, to a fixpoint, what kept units call (a helper's
return value) and — for rules rooted at an operator (`x / norm(x)`) — units with arithmetic on
values kept units provide (`_kept`).
"""

from __future__ import annotations

import ast
import re
from typing import AbstractSet, Dict, FrozenSet, List, Optional, Sequence, Set

from numlint.bindings import MODULE_FRAMEWORK
from numlint.bindings.array_api import NAMESPACE_FUNCTIONS
from numlint.rules import ACCUMULATE, OPERATOR_OPS, OPERATOR_WORDS, POWER_HALF, Rule

# A file that mentions none of these cannot hold a hazard we know: the top-level module of every
# binding (a new binding is checked without a change here) and the calls that return an array
# API namespace (`xp = array_namespace(x)`: code that never names its framework).
FRAMEWORK_WORDS = frozenset(
    {module.split(".")[0] for module in MODULE_FRAMEWORK if module != "array_api"} | NAMESPACE_FUNCTIONS
)

_OPERATOR_WORDS = frozenset(OPERATOR_WORDS.values())
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
    if ACCUMULATE in text:
        words.add(ACCUMULATE)
    words.update(word for word in OPERATOR_WORDS.values() if word in text)
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
    operator_roots = False
    for rule in rules:
        for pattern in rule.patterns:
            if not pattern.triggers:
                return text  # a pattern with no op at all (`rules.py` gives every op a trigger)
            named = [names for names in pattern.triggers if names.isdisjoint(_OPERATOR_WORDS)]
            for names in named or pattern.triggers:  # operators only where nothing else names it
                triggers |= names
            operator_roots = operator_roots or pattern.root in OPERATOR_OPS
        triggers |= rule.consumer_words  # the softmax a mask must reach may be in a helper (checker._reaches)
    return keep_only(text, triggers, operator_roots)


def keep_only(text: str, triggers: AbstractSet[str], operator_roots: bool = False) -> str:
    """`text` with the functions and methods that mention none of `triggers` (and that kept code
    does not need, `_kept`) blanked out, line for line."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text  # libcst will parse (or report) the whole file
    lines = _LINE.findall(text)
    units = _units(tree, lines, triggers)
    kept = _kept(units, operator_roots)
    blanked = False
    for unit in units:
        if unit not in kept and (unit.owner is None or unit.owner in kept):
            blanked = _blank_if_idle(unit.node, lines) or blanked
    return "".join(lines) if blanked else text


class _Unit:
    """A top-level function or class, or a method: what it mentions, reads, calls and provides."""

    def __init__(self, node, owner: "Optional[_Unit]", lines: List[str], triggers: AbstractSet[str]) -> None:
        self.node = node
        self.owner = owner
        self.name = node.name
        first = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
        self.mentions = node.end_lineno is not None and not identifiers(
            "".join(lines[first:node.end_lineno])).isdisjoint(triggers)
        self.loads: Set[str] = set()  # names read and called
        self.self_reads: Set[str] = set()  # `self.x` read, `self.m()` called
        self.self_sets: Set[str] = set()  # `self.x = ...`
        self.arithmetic = False  # holds `/`, `-`, `*` or `**`: where operator-only patterns are rooted
        if isinstance(node, ast.ClassDef):
            return  # a class's members are units of their own; its body's other statements stay
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                self.loads.add(sub.id)
            elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                (self.self_sets if isinstance(sub.ctx, ast.Store) else self.self_reads).add(sub.attr)
            elif isinstance(sub, ast.BinOp) and isinstance(sub.op, (ast.Div, ast.Sub, ast.Mult, ast.Pow)):
                self.arithmetic = True
            elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Attribute) \
                    and isinstance(sub.target.value, ast.Name) and sub.target.value.id == "self":
                self.self_sets.add(sub.target.attr)


def _units(tree: ast.Module, lines: List[str], triggers: AbstractSet[str]) -> List[_Unit]:
    units = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            unit = _Unit(statement, None, lines, triggers)
            units.append(unit)
            if isinstance(statement, ast.ClassDef):
                units.extend(_Unit(member, unit, lines, triggers) for member in statement.body
                             if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return units


def _kept(units: List[_Unit], operator_roots: bool) -> Set[_Unit]:
    """The units that may matter: those that mention a trigger name, methods whose values other
    methods read (they set `self.x`, or are the forward pass), and, to a fixpoint, what kept units
    call or instantiate (a helper's return value, a model's forward) and — when a rule is rooted
    at an operator (`x / norm`, `E[x²] - E[x]²`) — units with arithmetic on values that kept
    units provide (a function or method they define, an attribute of `self` they set)."""
    kept = {u for u in units if u.mentions}
    sharing = {u for u in units if u.owner is not None and _shares_values(u.node)}
    top = {u.name: u for u in units if u.owner is None}
    members: Dict[tuple, _Unit] = {(u.owner.name, u.name): u for u in units if u.owner is not None}
    for _ in range(8):
        provided = set()  # `self.x` set, or methods defined, by kept members of each class
        for unit in kept:
            if unit.owner is not None:
                provided.update((unit.owner.name, attr) for attr in unit.self_sets | {unit.name})
        grown = set(kept)
        for unit in kept:
            for name in unit.loads:
                callee = top.get(name)
                if callee is not None:
                    grown.add(callee)
            if unit.owner is not None:
                grown.update(members[(unit.owner.name, m)] for m in unit.self_reads if (unit.owner.name, m) in members)
        for unit in units:
            # a caller of a kept function: what it passes is the function's parameter's value
            # (`g(z): return f(helper(z))` with `f(p): return log(p)`)
            if unit not in grown and any(top.get(name) in kept for name in unit.loads if name != unit.name):
                grown.add(unit)
        if operator_roots:
            for unit in units:
                if unit in grown or not unit.arithmetic:
                    continue
                reads_kept = any(top.get(name) in kept for name in unit.loads) or (
                    unit.owner is not None and any((unit.owner.name, attr) in provided for attr in unit.self_reads))
                if reads_kept:
                    grown.add(unit)
        for unit in list(grown):
            if unit.owner is not None:
                grown.add(unit.owner)  # a kept method keeps its class
        grown.update(u for u in sharing if u.owner in grown)  # and what its methods share
        if grown == kept:
            break
        kept = grown
    return kept


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


def _blank_if_idle(node: ast.stmt, lines: List[str]) -> bool:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    first = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    last = node.end_lineno
    if last is None or last > len(lines):
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

