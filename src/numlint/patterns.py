"""The pattern language of rules, and matching patterns against canonical terms.

A pattern is a Python expression over canonical op names (see `ops.OP_SIGNATURES`):

    log(sum(exp($x), axis=$axis, keepdims=$keepdims))
    mean(square($x), axis=$axis) - square(mean($x, axis=$axis))

- `$name` is a metavariable; the same name must bind equal expressions everywhere it appears.
  `$_` matches anything and binds nothing.
- An op matches any spelling of it in any framework, and looks through what the value analysis
  knows (`analysis.py`): the expressions a name, attribute or call holds (`p = softmax(z); log(p)`,
  on any path), and the op that produced a value kept through indexing, reshapes and casts
  (`p = softmax(z)[mask]; log(p)`). A match that leaves the expression itself is advice only
  unless it went through one definition in the same scope (then a fix can use it).
- A keyword argument given as a metavariable is optional: `axis=$axis` binds the source's axis or
  "absent". An argument the pattern does not mention must be absent from the source, so
  `sum(x, dtype=...)` or `logsumexp(x, b=w)` never match by accident.
- `+`, `*` (and other commutative ops) match either operand order. `x ** 2` and `x * x` are `square`.
- Numbers match numeric literals of equal value.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import libcst as cst

from numlint.bindings import IGNORABLE
from numlint.flow import Scope, subtree
from numlint.ops import COMMUTATIVE, ELSEWHERE, OP_SIGNATURES, Arg, Term, number


class PatternError(ValueError):
    pass


class Absent:
    """An optional argument the source does not pass."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()


@dataclass(frozen=True)
class PVar:
    name: str


@dataclass(frozen=True)
class PConst:
    value: float


@dataclass(frozen=True)
class POp:
    op: str
    args: Tuple[Tuple[str, "Pattern"], ...]  # canonical name -> sub-pattern

    def arg(self, name: str) -> Optional["Pattern"]:
        for key, value in self.args:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class PBind:
    """`($c := cosine_similarity($a, $b))`: match the inner pattern and bind the node to `$c`."""

    name: str
    pattern: "Pattern"


@dataclass(frozen=True)
class PWord:
    """`True`, `False` or `None`: matches that name in the source."""

    word: str


Pattern = Union[PVar, PConst, PWord, PBind, POp]

_METAVAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_PREFIX = "__mv_"
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_COMPARES = {ast.Eq: "eq", ast.NotEq: "ne", ast.Is: "is", ast.IsNot: "is_not"}


def parse(text: str) -> Pattern:
    source = _METAVAR.sub(lambda m: _PREFIX + m.group(1), text.strip())
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise PatternError(f"not a valid pattern: {text!r} ({exc.msg})") from None
    return _convert(tree, text)


def _convert(node: ast.AST, text: str) -> Pattern:
    if isinstance(node, ast.Name) and node.id.startswith(_PREFIX):
        return PVar(node.id[len(_PREFIX):])
    if isinstance(node, ast.NamedExpr) and node.target.id.startswith(_PREFIX):
        return PBind(node.target.id[len(_PREFIX):], _convert(node.value, text))
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return PConst(float(node.value))
    if isinstance(node, ast.Constant) and node.value in (True, False, None):
        return PWord(repr(node.value))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARES:
        return POp(_COMPARES[type(node.ops[0])], (("x", _convert(node.left, text)), ("y", _convert(node.comparators[0], text))))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return POp("not", (("x", _convert(node.operand, text)),))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _convert(node.operand, text)
        if isinstance(inner, PConst):
            return PConst(-inner.value)
        return POp("neg", (("x", inner),))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op = _BINOPS[type(node.op)]
        left, right = _convert(node.left, text), _convert(node.right, text)
        if op == "pow" and isinstance(right, PConst) and right.value in (2.0, 0.5):
            return POp("square" if right.value == 2.0 else "sqrt", (("x", left),))
        return POp(op, (("x", left), ("y", right)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        op = node.func.id
        signature = OP_SIGNATURES.get(op)
        if signature is None:
            raise PatternError(f"unknown op {op!r} in pattern {text!r}")
        if len(node.args) > len(signature):
            raise PatternError(f"too many arguments to {op} in pattern {text!r}")
        args: List[Tuple[str, Pattern]] = []
        for name, value in zip(signature, node.args):
            args.append((name, _convert(value, text)))
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg not in signature:
                raise PatternError(f"{op} has no argument {keyword.arg!r} (pattern {text!r})")
            args.append((keyword.arg, _convert(keyword.value, text)))
        return POp(op, tuple(args))
    raise PatternError(f"cannot use {ast.dump(node)[:60]} in pattern {text!r}")


def metavariables(pattern: Pattern) -> List[str]:
    if isinstance(pattern, PVar):
        return [] if pattern.name == "_" else [pattern.name]
    if isinstance(pattern, POp):
        return [name for _, sub in pattern.args for name in metavariables(sub)]
    if isinstance(pattern, PBind):
        return [pattern.name] + metavariables(pattern.pattern)
    return []


def root_op(pattern: Pattern) -> str:
    if not isinstance(pattern, POp):
        raise PatternError("a pattern must be an op at its root")
    return pattern.op


def substitute(pattern: Pattern, values: Dict[str, Pattern]) -> Pattern:
    """Replace metavariables by patterns: expands a framework's render template."""
    if isinstance(pattern, PVar):
        return values.get(pattern.name, pattern)
    if isinstance(pattern, POp):
        return POp(pattern.op, tuple((name, substitute(sub, values)) for name, sub in pattern.args))
    return pattern


# -- matching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    node: Union[cst.BaseExpression, Absent]
    resolved: bool  # found by looking through a name (lives in another statement)
    foreign: bool = False  # lives in another function or method: a fix cannot use it


@dataclass
class Env:
    values: Dict[str, Bound] = field(default_factory=dict)
    through: List[Tuple[cst.BaseExpression, object]] = field(default_factory=list)  # (node, analysis.Origin)
    terms: List[Term] = field(default_factory=list)  # matched terms, outermost first
    # why no fix can be written even though every piece is bound: the value reaches the match on
    # only some paths, or through ops that change its shape (`p[keep]`), or from another module
    advice: Optional[str] = None

    def copy(self) -> "Env":
        return Env(dict(self.values), list(self.through), list(self.terms), self.advice)

    def adopt(self, other: "Env") -> None:
        self.values, self.through, self.terms, self.advice = other.values, other.through, other.terms, other.advice


class Matcher:
    """Matches patterns against nodes of one file, looking through what the analysis knows."""

    def __init__(self, analysis) -> None:
        self.analysis = analysis
        self.viewer = analysis.viewer
        self._home: Optional[Scope] = None
        self._failed: Dict[tuple, int] = {}  # (pattern, node, bindings) -> the least depth it failed at

    def match(self, pattern: Pattern, node: cst.BaseExpression, scope: Scope) -> Optional[Env]:
        env = Env()
        self._home = scope
        self._failed = {}
        return env if self._match(pattern, node, env, scope, False) else None

    def _bound(self, node, resolved: bool, scope: Scope) -> Bound:
        return Bound(node, resolved, foreign=self._home is not None and scope is not self._home)

    def same(self, a: Union[cst.BaseExpression, Absent], b: Union[cst.BaseExpression, Absent]) -> bool:
        if a is ABSENT or b is ABSENT:
            return a is b
        return self.analysis.same(a, b)

    def _match(self, pattern: Pattern, node: cst.BaseExpression, env: Env, scope: Scope, resolved: bool) -> bool:
        if isinstance(pattern, PVar):
            if pattern.name == "_":
                return True
            previous = env.values.get(pattern.name)
            if previous is None:
                env.values[pattern.name] = self._bound(node, resolved, scope)
                return True
            return self.same(previous.node, node)
        if isinstance(pattern, PConst):
            return number(node) == pattern.value
        if isinstance(pattern, PWord):
            return isinstance(node, cst.Name) and node.value == pattern.word
        if isinstance(pattern, PBind):
            if not self._match(pattern.pattern, node, env, scope, resolved):
                return False
            env.values[pattern.name] = self._bound(node, resolved, scope)
            return True
        term = self.viewer.view(node)
        if term is None or term.op != pattern.op:
            return self._through(pattern, node, env)
        return self._match_term(pattern, term, env, scope, resolved)

    def _match_term(self, pattern: POp, term: Term, env: Env, scope: Scope, resolved: bool) -> bool:
        if pattern.op in COMMUTATIVE and term.args.keys() >= {"x", "y"}:
            for first, second in (("x", "y"), ("y", "x")):
                attempt = env.copy()
                swapped = dict(term.args)
                swapped["x"], swapped["y"] = term.args[first], term.args[second]
                if self._match_args(pattern, term, swapped, attempt, scope, resolved):
                    env.adopt(attempt)
                    return True
            return False
        return self._match_args(pattern, term, term.args, env, scope, resolved)

    def _through(self, pattern: POp, node: cst.BaseExpression, env: Env) -> bool:
        """Match an op pattern against what `node` holds: the expressions it comes from, then the
        op that produced it (seen through indexing, reshapes, casts).

        Values can reach a node along many paths (a recursive function's parameter comes from
        every call site, each passing the parameter again): an attempt that failed is not made
        again with the same bindings at the same depth or deeper (with less depth left it cannot
        succeed), so each (pattern, node) is tried a bounded number of times per match, not once
        per path (9 call sites 8 deep were 9**8 attempts)."""
        depth = len(env.through)
        if depth > 8:
            return False
        key = (id(pattern), id(node), tuple(sorted((name, id(bound.node)) for name, bound in env.values.items())))
        if self._failed.get(key, depth + 1) <= depth:
            return False
        if self._through_once(pattern, node, env):
            return True
        self._failed[key] = depth
        return False

    def _through_once(self, pattern: POp, node: cst.BaseExpression, env: Env) -> bool:
        self.analysis.wanting = pattern.op
        try:
            origins = self.analysis.origins(node)
        finally:
            self.analysis.wanting = None
        for origin in origins:
            attempt = env.copy()
            attempt.through.append((node, origin))
            if origin.how == "imported" and attempt.advice is None:
                attempt.advice = "the value is made in another module; apply the stable form there"
            if len(origins) > 1 and attempt.advice is None:
                attempt.advice = "the value comes from several places (branches or assignments); apply the stable form where it is made"
            read_at = self.analysis.order_of(node)
            if origin.definition is not None and read_at is not None and origin.definition.order > read_at \
                    and origin.definition.scope is self.analysis.scope_of(node) and attempt.advice is None:
                attempt.advice = "the value comes from the previous turn of the loop; apply the stable form where it is made"
            if self._match(pattern, origin.value, attempt, origin.scope, True):
                env.adopt(attempt)
                return True
        if pattern.op == "sum":  # a sum built by `+=` in a loop or across methods
            for origin in self.analysis.accumulations(node):
                attempt = env.copy()
                attempt.through.append((node, origin))
                attempt.advice = attempt.advice or "the value is summed with `+=`; apply the stable form where it is summed"
                term = Term("sum", origin.value, {"x": Arg(origin.value, False)}, "function")
                if self._match_term(pattern, term, attempt, origin.scope, True):
                    env.adopt(attempt)
                    return True
        from numlint.analysis import Origin

        for producer in self.analysis.value(node).producers:
            if producer.op != pattern.op or producer.node is node:
                continue
            if producer.node is None:
                if producer.elsewhere is None:
                    continue
                # made in another module: its input is not here, but the op is known
                term = Term(producer.op, ELSEWHERE, {"x": Arg(ELSEWHERE, False, synthetic=True)}, "layer")
                attempt = env.copy()
                attempt.through.append((node, Origin(ELSEWHERE, self._home, None, "producer", producer)))
                attempt.advice = attempt.advice or "the value is made in another module; apply the stable form there"
                if self._match_term(pattern, term, attempt, self._home, True):
                    env.adopt(attempt)
                    return True
                continue
            term = self.viewer.layer_term(producer.node) if producer.layer else self.viewer.view(producer.node)
            if term is None or term.op != pattern.op:
                continue
            attempt = env.copy()
            attempt.through.append((node, Origin(producer.node, producer.scope, None, "producer", producer)))
            if attempt.advice is None:
                attempt.advice = "the value is made elsewhere; apply the stable form where it is made"
            if self._match_term(pattern, term, attempt, producer.scope or self._home, True):
                env.adopt(attempt)
                return True
        return False

    def _match_args(self, pattern: POp, term: Term, args, env: Env, scope: Scope, resolved: bool) -> bool:
        env.terms.append(term)
        mentioned = set()
        for name, sub in pattern.args:
            mentioned.add(name)
            arg = args.get(name)
            if arg is None:
                if isinstance(sub, PVar):
                    if sub.name == "_":
                        continue
                    previous = env.values.get(sub.name)
                    if previous is None:
                        env.values[sub.name] = self._bound(ABSENT, resolved, scope)
                        continue
                    if previous.node is ABSENT:
                        continue
                return False
            if not self._match(sub, arg.node, env, scope, resolved):
                return False
        return all(name in mentioned or name in IGNORABLE for name in args)
