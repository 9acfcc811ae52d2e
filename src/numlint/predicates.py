"""General facts about a value that rules use in `unless` guards.

Each predicate takes the match context and a bound expression, sees through local names like the
matcher does, and is framework-neutral. Rules name them in data (`unless = ["max_shifted($x)"]`);
a new kind of reasoning is a new predicate here that every rule can use, never a one-rule hack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

import libcst as cst

from numlint.dataflow import Scope
from numlint.ops import Term, Viewer, number, shape_key
from numlint.patterns import Absent, resolve_value, subtree

# Calls that return their argument's value unchanged for the forward pass.
_TRANSPARENT_METHODS = frozenset({"detach", "clone", "float", "double", "half", "bfloat16", "item", "contiguous"})
_TRANSPARENT_FUNCTIONS = ("stop_gradient",)  # jax.lax.stop_gradient, tf.stop_gradient
# Casts keep the sign and the order of magnitude: `(x - m).astype(f32)` is still max-shifted.
_CASTS = frozenset({"astype", "to", "type"})
_CAST_FUNCTIONS = frozenset({"cast"})  # tf.cast(x, dtype)
_SHIFT_OPS = frozenset({"max", "logsumexp"})


@dataclass
class Context:
    viewer: Viewer
    scope: Scope
    order: int
    origin: Dict[int, Tuple[Scope, int]] = field(default_factory=dict)  # node id -> where to resolve its names

    def resolve(self, node: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression:
        """Follow a local name (or `self.attr`, or a call of a function of this file) to the value
        it holds, a few steps at most. Names inside that value are resolved where it was written,
        not where the match started."""
        while isinstance(node, (cst.Name, cst.Attribute, cst.Call)) and depth < 8:
            if isinstance(node, cst.Call) and self.viewer.view(node) is not None:
                break  # a known op, not a function of this file
            site = resolve_value(self.viewer.facts, self.origin, node, self.scope, self.order)
            if site is None:
                break
            node, depth = site.value, depth + 1
        return node

    def term(self, node: cst.BaseExpression) -> Optional[Term]:
        """The canonical view of a value, through local names and dtype casts."""
        return self.viewer.view(_uncast(self.resolve(node), self))


def _uncast(node: cst.BaseExpression, ctx: Context) -> cst.BaseExpression:
    for _ in range(4):
        if not isinstance(node, cst.Call):
            break
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _CASTS and node.args:
            node = ctx.resolve(func.value)
        elif isinstance(func, cst.Attribute) and func.attr.value in _TRANSPARENT_METHODS and not node.args:
            node = ctx.resolve(func.value)
        elif isinstance(func, cst.Attribute) and func.attr.value in _CAST_FUNCTIONS and node.args:
            node = ctx.resolve(node.args[0].value)
        else:
            break
    return node


def _unwrap(node: cst.BaseExpression, ctx: Context) -> cst.BaseExpression:
    """See through `.detach()`, `stop_gradient(...)`, `[0]` and `.values` around a value."""
    for _ in range(8):
        node = ctx.resolve(node)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value in _TRANSPARENT_METHODS and not node.args:
                node = node.func.value
                continue
            if node.func.attr.value in _TRANSPARENT_FUNCTIONS and len(node.args) == 1:
                node = node.args[0].value
                continue
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            if node.func.value in _TRANSPARENT_FUNCTIONS and len(node.args) == 1:
                node = node.args[0].value
                continue
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index) and number(index.value) == 0:
                node = node.value  # torch.max(x, dim)[0]
                continue
        if isinstance(node, cst.Attribute) and node.attr.value == "values":
            node = node.value  # torch.max(x, dim).values
            continue
        break
    return node


def is_shift(node: cst.BaseExpression, ctx: Context) -> bool:
    """A value subtracted to bring exponents to at most 0: a max (or a logsumexp) of something."""
    inner = _unwrap(node, ctx)
    term = ctx.viewer.view(inner)
    if term is not None and term.op in _SHIFT_OPS:
        return True
    # A name the code calls a max (`x_max`, `row_max`) whose origin we cannot see, e.g. a parameter.
    names = [n for n in (node, inner) if isinstance(n, cst.Name)]
    return any("max" in n.value.lower() for n in names)


def max_shifted(ctx: Context, node: cst.BaseExpression) -> bool:
    """`x - max(x)` in any spelling, directly or through local names."""
    term = ctx.term(node)
    return term is not None and term.op == "sub" and is_shift(term.args["y"].node, ctx)


# Ops whose value is never negative.
_NONNEGATIVE_OPS = frozenset({"abs", "square", "exp", "sqrt", "softplus", "sigmoid", "softmax", "hypot"})


def _sign(ctx: Context, node: cst.BaseExpression, depth: int = 0) -> int:
    """+1 if known >= 0, -1 if known <= 0, 0 if unknown: literals and sign rules of arithmetic."""
    if depth > 8:
        return 0
    node = _uncast(ctx.resolve(node), ctx)
    value = number(node)
    if value is not None:
        return 1 if value >= 0 else -1
    term = ctx.viewer.view(node)
    if term is None:
        return 0
    if term.op in _NONNEGATIVE_OPS:
        return 1
    if term.op == "neg":
        return -_sign(ctx, term.args["x"].node, depth + 1)
    if term.op == "sub" and is_shift(term.args["y"].node, ctx):
        return -1
    if term.op in ("mul", "div", "add", "sub") and {"x", "y"} <= set(term.args):
        a = _sign(ctx, term.args["x"].node, depth + 1)
        b = _sign(ctx, term.args["y"].node, depth + 1)
        if term.op == "sub":
            b = -b
        if term.op in ("mul", "div"):
            return a * b
        return a if a == b else 0
    return 0


def nonnegative(ctx: Context, node: cst.BaseExpression) -> bool:
    """Known >= 0: `abs(x)`, `x**2`, `exp(x)`, a non-negative literal, products of those."""
    return _sign(ctx, node) > 0


def nonpositive(ctx: Context, node: cst.BaseExpression) -> bool:
    """Known <= 0: `-abs(x)`, `-0.5 * (x / s) ** 2`, `-x**2 / (2 * s**2)`, `x - max(x)`, a literal."""
    return _sign(ctx, node) < 0


def constant(ctx: Context, node: cst.BaseExpression) -> bool:
    """A literal or arithmetic on literals: its value is known and fixed."""
    node = ctx.resolve(node)
    if number(node) is not None:
        return True
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(constant(ctx, element.value) for element in node.elements)
    if isinstance(node, cst.BinaryOperation):
        return constant(ctx, node.left) and constant(ctx, node.right)
    return False


def is_op(ctx: Context, node: cst.BaseExpression, *ops: str) -> bool:
    """The value is one of these canonical ops (`is_op($x, exp)`), directly or through names."""
    term = ctx.term(node)
    return term is not None and term.op in ops


_EPS_NAME = re.compile(r"^(eps|epsilon|tiny|smooth|.*_eps|eps_.*|.*epsilon.*)$", re.IGNORECASE)


def is_eps(ctx: Context, node: cst.BaseExpression) -> bool:
    """A small positive guard: a literal in (0, 1e-2], a name like `eps`, `self.epsilon`, or
    `finfo(dtype).eps` / `.tiny`."""
    resolved = ctx.resolve(node)
    value = number(resolved)
    if value is not None:
        return 0 < value <= 1e-2
    target = resolved if isinstance(resolved, (cst.Name, cst.Attribute)) else node
    if isinstance(target, cst.Attribute):
        return bool(_EPS_NAME.match(target.attr.value)) or target.attr.value in ("eps", "tiny", "smallest_normal")
    if isinstance(target, cst.Name):
        return bool(_EPS_NAME.match(target.value))
    return False


def truthy(ctx: Context, node: cst.BaseExpression) -> bool:
    """`True` or a non-zero number: `from_logits=True` is already the stable form."""
    node = ctx.resolve(node)
    value = number(node)
    return (isinstance(node, cst.Name) and node.value == "True") or (value is not None and value != 0)


def variance_like(ctx: Context, node: cst.BaseExpression) -> bool:
    """A variance: `var(x)`, or a mean (or sum) of squares — what normalisation layers take the
    square root of (an optimiser's second-moment state is not: it is never differentiated)."""
    term = ctx.term(node)
    if term is None:
        return False
    if term.op == "var":
        return True
    if term.op in ("mean", "sum"):
        inner = ctx.term(term.args["x"].node)
        return inner is not None and inner.op == "square"
    return False


# Ops whose result is 0 for ordinary inputs (a zero vector, a constant feature, a dead unit).
_CAN_BE_ZERO_OPS = frozenset({"norm", "std", "var", "relu"})
_POSITIVE_OPS = frozenset({"exp", "sigmoid", "softmax", "softplus"})


def can_be_zero(ctx: Context, node: cst.BaseExpression) -> bool:
    """A value that is exactly 0 for ordinary inputs, with no guard around it: a normalised
    count or weight `x / sum(x)`, a norm, a standard deviation or variance, `abs`, a square, a sum
    or mean of those. Guarded forms (`x + eps`, `clamp(x, min=...)`, `maximum(x, c)`) are other
    ops, so they never count."""
    term = ctx.term(node)
    if term is None:
        return False
    if term.op in _CAN_BE_ZERO_OPS:
        return True
    if term.op in ("sum", "mean"):
        return can_be_zero(ctx, term.args["x"].node)
    if term.op == "div" and {"x", "y"} <= set(term.args):
        denominator = ctx.term(term.args["y"].node)
        if denominator is not None and denominator.op == "sum":
            # x / x.sum(): a distribution estimated from counts or weights; zero where x is,
            # unless x is positive by construction (a sigmoid, an exp)
            numerator = ctx.term(term.args["x"].node)
            if numerator is not None and numerator.op in _POSITIVE_OPS:
                return False
            return _same_value(ctx, term.args["x"].node, denominator.args["x"].node)
    return False


def _same_value(ctx: Context, a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
    from numlint.ops import shape_key

    return shape_key(ctx.resolve(a)) == shape_key(ctx.resolve(b))


def identically_zero(ctx: Context, node: cst.BaseExpression) -> bool:
    """`x - stop_gradient(x)` (DiCE's "magic box", straight-through estimators): 0 in value, by
    construction, while its gradient is that of x."""
    term = ctx.term(node)
    if term is None or term.op != "sub":
        return False
    x, y = term.args["x"].node, term.args["y"].node
    return _same_value(ctx, x, _unwrap(y, ctx)) and shape_key(_unwrap(y, ctx)) != shape_key(ctx.resolve(y))


PREDICATES: Dict[str, Callable[..., bool]] = {
    "identically_zero": identically_zero,
    "max_shifted": max_shifted,
    "constant": constant,
    "nonpositive": nonpositive,
    "nonnegative": nonnegative,
    "is_op": is_op,
    "truthy": truthy,
    "is_eps": is_eps,
    "variance_like": variance_like,
    "can_be_zero": can_be_zero,
}


def holds(name: str, ctx: Context, node, words=()) -> bool:
    if isinstance(node, Absent):
        return False
    return PREDICATES[name](ctx, node, *words)
