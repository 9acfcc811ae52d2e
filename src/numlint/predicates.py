"""General facts about a value that rules use in `unless` guards.

Each predicate takes the match context and a bound expression, sees through local names like the
matcher does, and is framework-neutral. Rules name them in data (`unless = ["max_shifted($x)"]`);
a new kind of reasoning is a new predicate here that every rule can use, never a one-rule hack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Optional

import libcst as cst

from numlint.dataflow import Scope, children
from numlint.ops import Term, Viewer, number, shape_key
from numlint.patterns import Absent, resolve_value

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

    def resolve(self, node: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression:
        """Follow a local name (or `self.attr`, or a call of a function of this file) to the value
        it holds, a few steps at most. Names inside that value are resolved where it was written,
        not where the match started."""
        while isinstance(node, (cst.Name, cst.Attribute, cst.Call)) and depth < 8:
            if isinstance(node, cst.Call) and self.viewer.view(node) is not None:
                break  # a known op, not a function of this file
            site = resolve_value(self.viewer.facts, node, self.scope, self.order)
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
    if term.op == "log":
        argument = number(_uncast(ctx.resolve(term.args["x"].node), ctx))
        if argument is not None:
            return 1 if argument >= 1 else -1  # log(2.0) > 0
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
    if term.op in ("abs", "square"):
        return not positive(ctx, term.args["x"].node)  # `std * std` with std = softplus(s) + 1e-4 is not
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


def positive(ctx: Context, node: cst.BaseExpression, depth: int = 0) -> bool:
    """Known > 0 for every input: a positive literal, `exp`, `softmax`, `sigmoid`, `softplus`, a
    floor at a positive value (`clamp(x, min=eps)`, `maximum(x, eps)`), something non-negative
    plus a positive value, and products and quotients of positives. (In floating point `exp`
    underflows to 0 below -103: rules about underflow must not rely on this.)"""
    if depth > 8:
        return False
    node = _uncast(ctx.resolve(node), ctx)
    value = number(node)
    if value is not None:
        return value > 0
    if is_eps(ctx, node):
        return True
    term = ctx.viewer.view(node)
    if term is None:
        return False
    if term.op in _POSITIVE_OPS:
        return True
    args = term.args
    if term.op in ("clamp", "clamp_min") and "min" in args:
        return positive(ctx, args["min"].node, depth + 1)
    if term.op == "maximum":
        return positive(ctx, args["x"].node, depth + 1) or positive(ctx, args["y"].node, depth + 1)
    if term.op == "add":
        x, y = args["x"].node, args["y"].node
        return (positive(ctx, x, depth + 1) and _sign(ctx, y) > 0) or (positive(ctx, y, depth + 1) and _sign(ctx, x) > 0)
    if term.op in ("mul", "div"):
        return positive(ctx, args["x"].node, depth + 1) and positive(ctx, args["y"].node, depth + 1)
    if term.op in ("sum", "mean", "max"):
        return positive(ctx, args["x"].node, depth + 1)
    return False


_MASK_NAME = re.compile(r"mask|valid|keep|present|nonpad|non_pad", re.IGNORECASE)
_MASK_CASTS = frozenset({"float", "double", "half", "bfloat16", "int", "long", "type", "to", "astype", "type_as"})


def mask_like(ctx: Context, node: cst.BaseExpression, depth: int = 0) -> bool:
    """A 0/1 mask: a name that says so (`mask`, `attention_mask`, `valid`), a comparison, or a
    cast of one (`(labels != pad).float()`, `tf.cast(mask, tf.float32)`). Weights are not masks:
    the caller keeps their sum positive."""
    if depth > 6:
        return False
    if isinstance(node, cst.Name) and _MASK_NAME.search(node.value):
        return True
    if isinstance(node, cst.Attribute) and _MASK_NAME.search(node.attr.value):
        return True
    resolved = ctx.resolve(node)
    if isinstance(resolved, cst.Comparison):
        return True
    if isinstance(resolved, cst.BinaryOperation) and isinstance(resolved.operator, cst.Subtract) \
            and number(resolved.left) == 1:
        return mask_like(ctx, resolved.right, depth + 1)  # `1 - mask`, `1.0 - attention_mask`
    if isinstance(resolved, cst.UnaryOperation) and isinstance(resolved.operator, cst.BitInvert):
        return mask_like(ctx, resolved.expression, depth + 1)
    if isinstance(resolved, cst.Call):
        func = resolved.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MASK_CASTS:
            return mask_like(ctx, func.value, depth + 1)
        if isinstance(func, cst.Attribute) and func.attr.value in _CAST_FUNCTIONS and resolved.args:
            return mask_like(ctx, resolved.args[0].value, depth + 1)
    if resolved is not node:
        return mask_like(ctx, resolved, depth + 1)
    return False


def checked(ctx: Context, node: cst.BaseExpression) -> bool:
    """The code compares the value (or a name holding it) with something earlier in the same
    function: `if dist <= 1e-6: break`, `if norm > 0:`, `where(n > 0, x / n, 0)`. It knows about
    the zero case and handles it; we do not second-guess how."""
    facts = ctx.viewer.facts
    if facts is None:
        return False
    keys = {shape_key(node)}
    keys.update(name for name, sites in ctx.scope.bindings.items() if any(site.value is node for site in sites))
    for site in facts.candidates:
        if site.scope is not ctx.scope or site.order >= ctx.order or not isinstance(site.node, cst.Comparison):
            continue
        sides = [site.node.left, *(target.comparator for target in site.node.comparisons)]
        if any(shape_key(side) in keys for side in sides):
            return True
    return False


# float16's smallest subnormal is 5.96e-8: a literal below half of it rounds to 0.
_FP16_ZERO = 2.98e-8
_HALF_ATTRIBUTES = frozenset({"float16", "half"})  # torch.float16, np.float16, x.half(), torch.half
_HALF_STRINGS = frozenset({"float16", "half", "fp16"})  # dtype="float16"


def vanishes_in_half(ctx: Context, node: cst.BaseExpression) -> bool:
    """A positive literal (or a name holding one) that float16 rounds to 0."""
    value = number(ctx.resolve(node))
    return value is not None and 0 < value < _FP16_ZERO


def half_precision(ctx: Context, node: cst.BaseExpression) -> bool:
    """The value is made in float16: it, or a value it is computed from (through local names),
    is cast with `.half()`, `.to(torch.float16)`, `.astype(np.float16)`, `tf.cast(x, tf.float16)`
    or built with `dtype="float16"`. Code that merely mentions float16 elsewhere does not count."""
    budget = [64]  # names looked through, at most

    def made_in_half(value: cst.BaseExpression, depth: int) -> bool:
        stack = [value]
        while stack:
            sub = stack.pop()
            if isinstance(sub, cst.Comparison):
                continue  # `x.dtype == torch.float16`: a test, usually to leave half precision
            stack.extend(children(sub))
            if isinstance(sub, cst.Attribute) and sub.attr.value in _HALF_ATTRIBUTES:
                return True
            if isinstance(sub, cst.SimpleString) and sub.evaluated_value in _HALF_STRINGS:
                return True
            if isinstance(sub, cst.Name) and depth < 6 and budget[0] > 0:
                budget[0] -= 1
                resolved = ctx.resolve(sub)
                if resolved is not sub and made_in_half(resolved, depth + 1):
                    return True
        return False

    return made_in_half(ctx.resolve(node), 0)


def masked(ctx: Context, node: cst.BaseExpression) -> bool:
    """The value has been through a selection that replaces some entries by a constant:
    `x.masked_fill(~ok, 0)`, `where(ok, x, 0)`. That is the stable double-`where` idiom: the
    code keeps the out-of-domain entries away from the op, and selects the other branch for them."""
    term = ctx.term(node)
    if term is None:
        return False
    if term.op == "masked_fill":
        return constant(ctx, term.args["value"].node) if "value" in term.args else False
    if term.op == "where" and {"x", "y"} <= set(term.args):
        return constant(ctx, term.args["x"].node) or constant(ctx, term.args["y"].node)
    return False


_GRIDS = frozenset({"linspace", "arange", "logspace", "geomspace"})


def grid(ctx: Context, node: cst.BaseExpression, depth: int = 0) -> bool:
    """A grid the code builds from its own parameters (`linspace(-eta, 0, n)`, `-tau *
    arange(k)`), possibly scaled: a schedule or a kernel, not data. Its range is the author's
    choice of hyperparameters, so overflow is not the data-driven hazard rules look for."""
    if depth > 4:
        return False
    node = _uncast(ctx.resolve(node), ctx)
    if isinstance(node, cst.Call):
        qualname = ctx.viewer.imports.qualify(node.func)
        return qualname is not None and qualname.rsplit(".", 1)[-1] in _GRIDS
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return grid(ctx, node.expression, depth + 1)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Multiply, cst.Divide)):
        scalar = (cst.Name, cst.Attribute, cst.Integer, cst.Float, cst.UnaryOperation)
        left, right = node.left, node.right
        if isinstance(right, scalar) and grid(ctx, left, depth + 1):
            return True
        return isinstance(node.operator, cst.Multiply) and isinstance(left, scalar) and grid(ctx, right, depth + 1)
    return False


def _same_value(ctx: Context, a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
    return shape_key(ctx.resolve(a)) == shape_key(ctx.resolve(b))


def identically_zero(ctx: Context, node: cst.BaseExpression) -> bool:
    """`x - stop_gradient(x)` (DiCE's "magic box", straight-through estimators): 0 in value, by
    construction, while its gradient is that of x."""
    term = ctx.term(node)
    if term is None or term.op != "sub":
        return False
    x, y = term.args["x"].node, term.args["y"].node
    stopped = _unwrap(y, ctx)  # seen through stop_gradient: it must have been there
    return _same_value(ctx, x, stopped) and shape_key(stopped) != shape_key(ctx.resolve(y))


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
    "positive": positive,
    "mask_like": mask_like,
    "checked": checked,
    "grid": grid,
    "masked": masked,
    "vanishes_in_half": vanishes_in_half,
    "half_precision": half_precision,
}


# Predicates that can only hold in a text containing one of these words: they count as a
# pattern's trigger names (see `prefilter`).
REQUIRED_WORDS: Dict[str, FrozenSet[str]] = {"half_precision": _HALF_ATTRIBUTES | _HALF_STRINGS}


def holds(name: str, ctx: Context, node, words=()) -> bool:
    if isinstance(node, Absent):
        return False
    return PREDICATES[name](ctx, node, *words)
