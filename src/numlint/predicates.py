"""General facts about a value that rules use in `unless` and `when` guards.

Each predicate takes the match context and a bound expression and reads the value's facts from
the one analysis (`analysis.Analysis.value`): they see through names, reassignment, branches,
attributes, returns and ops that keep a value's elements the same way for every rule. Rules name
them in data (`unless = ["max_shifted($x, $axis)"]`); a new kind of reasoning is a new fact in
`analysis.py` or a new predicate here that every rule can use, never a one-rule hack.

A few predicates also read how the code names things (`eps`, `mask`): a convention the code
states about its own values, not a fact numlint can compute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Optional

import libcst as cst

from numlint.analysis import Analysis, _axis_text, _is_none
from numlint.flow import ASSIGN, IMPORT, LOOP, PARAM, Scope, subtree
from numlint.ops import Term, code, number
from numlint.values import Value

_TRANSPARENT_METHODS = frozenset({"detach", "clone", "float", "double", "half", "bfloat16", "contiguous"})
_TRANSPARENT_FUNCTIONS = ("stop_gradient",)  # jax.lax.stop_gradient, tf.stop_gradient


@dataclass
class Context:
    analysis: Analysis
    scope: Scope
    order: int

    def value(self, node: cst.BaseExpression) -> Value:
        return self.analysis.value(node)

    def expression(self, node: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression:
        """The one expression a name (or `self.attr`, or a call of a function of this file)
        holds, followed a few steps while there is exactly one."""
        while depth < 8:
            origins = self.analysis.origins(node) if self.analysis.viewer.view(node) is None else ()
            if len(origins) != 1:
                break
            node, depth = origins[0].value, depth + 1
        return node

    def term(self, node: cst.BaseExpression) -> Optional[Term]:
        return self.analysis.viewer.view(self.expression(node))


def max_shifted(ctx: Context, node: cst.BaseExpression, axis=None) -> bool:
    """`x - max(x)` in any spelling, through names, casts and reshapes — and, when the rule
    passes the axis it reduces along (`max_shifted($x, $axis)`), shifted along that axis (a
    shift along another axis leaves slices without a 0)."""
    shift = ctx.value(node).shift
    if shift is None:
        return False
    return _axis_guarded(shift.axis, axis)


def _axis_guarded(shifted: Optional[str], reduced) -> bool:
    if shifted is None or shifted == "?":
        return True  # shifted by the global max (or by a value the code calls a max): every slice has a 0
    if reduced is None or not isinstance(reduced, cst.BaseExpression) or _is_none(reduced):
        return True  # reducing over everything: the sum holds the 0 somewhere
    text = _axis_text(reduced)
    if text == shifted:
        return True
    try:
        a, b = int(text), int(shifted)
    except ValueError:
        return False
    return (a < 0) != (b < 0)  # -1 and 1 are the same axis of a 2-D array: benefit of the doubt


def nonnegative(ctx: Context, node: cst.BaseExpression) -> bool:
    """Known >= 0: `abs(x)`, `x**2`, `exp(x)`, a non-negative literal, products of those."""
    return ctx.value(node).range.nonnegative


def nonpositive(ctx: Context, node: cst.BaseExpression) -> bool:
    """Known <= 0: `-abs(x)`, `-0.5 * (x / s) ** 2`, `x - max(x)`, a non-positive literal."""
    value = ctx.value(node)
    return value.range.nonpositive or value.shift is not None


def constant(ctx: Context, node: cst.BaseExpression) -> bool:
    """A literal or arithmetic on literals: its value is known and fixed."""
    return ctx.value(node).literal


def is_op(ctx: Context, node: cst.BaseExpression, *ops: str) -> bool:
    """The value is made by one of these canonical ops on every path (`is_op($x, exp)`)."""
    term = ctx.analysis.viewer.view(node)
    if term is not None:
        return term.op in ops
    return ctx.value(node).only_made_by(*ops)


_EPS_NAME = re.compile(r"^(eps|epsilon|tiny|smooth|.*_eps|eps_.*|.*epsilon.*)$", re.IGNORECASE)


def is_eps(ctx: Context, node: cst.BaseExpression) -> bool:
    """A small positive guard: a value in (0, 1e-2] (a literal, a name holding one,
    `finfo(dtype).eps`), or a name the code calls `eps`, `epsilon`, `tiny`."""
    value = ctx.value(node)
    if value.constant is not None:
        return 0 < value.constant <= 1e-2
    if "eps" in value.tags:
        return True
    return _named_eps(node)


def _named_eps(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Attribute):
        return bool(_EPS_NAME.match(node.attr.value)) or node.attr.value in ("eps", "tiny", "smallest_normal")
    if isinstance(node, cst.Name):
        return bool(_EPS_NAME.match(node.value))
    return False


def truthy(ctx: Context, node: cst.BaseExpression) -> bool:
    """`True` or a non-zero number: `from_logits=True` is already the stable form."""
    value = ctx.value(node)
    return value.constant is not None and value.constant != 0


def variance_like(ctx: Context, node: cst.BaseExpression) -> bool:
    """A variance: `var(x)`, or a mean (or sum) of squares — what normalisation layers take the
    square root of (an optimiser's second-moment state is not: it is never differentiated)."""
    return "variance" in ctx.value(node).tags


def can_be_zero(ctx: Context, node: cst.BaseExpression) -> bool:
    """Exactly 0 for ordinary inputs, with no guard: a norm, a standard deviation or variance, a
    ReLU, `abs` or a square of a value not known to be non-zero, a count, a normalised count or
    weight `x / sum(x)`, a sum or mean of those. Guarded forms (`x + eps`, `clamp(x, min=eps)`,
    `maximum(x, c)`, `max(n, 1)`) are positive, so they never count."""
    value = ctx.value(node)
    return value.zero and not value.range.positive and not value.nonzero


def positive(ctx: Context, node: cst.BaseExpression) -> bool:
    """Known > 0 for every input: a positive literal, `exp`, `softmax`, `sigmoid`, `softplus`, a
    floor at a positive value (`clamp(x, min=eps)`, `maximum(x, eps)`), something non-negative
    plus a positive value, and products and quotients of positives. (In floating point `exp`
    underflows to 0 below -103: rules about underflow must not rely on this.)"""
    return ctx.value(node).range.positive or is_eps(ctx, node)


_MASK_NAME = re.compile(r"mask|valid|keep|present|nonpad|non_pad", re.IGNORECASE)


def mask_like(ctx: Context, node: cst.BaseExpression) -> bool:
    """A 0/1 mask: a comparison, a cast of one (`(labels != pad).float()`, `tf.cast(m, f32)`),
    `1 - mask`, or a name that says so (`mask`, `attention_mask`, `valid`). Weights are not masks:
    the caller keeps their sum positive."""
    if "mask" in ctx.value(node).tags:
        return True
    for sub in _names_of(ctx.expression(node), node):
        if _MASK_NAME.search(sub):
            return True
    return False


def _names_of(*nodes):
    """The names a value is spelled with at its top: `mask`, `self.mask`, `mask.float()`,
    `tf.cast(mask, tf.float32)`, `1 - mask`."""
    frontier = list(nodes)
    for _ in range(16):
        if not frontier:
            return
        node = frontier.pop()
        if isinstance(node, cst.Name):
            yield node.value
        elif isinstance(node, cst.Attribute):
            yield node.attr.value
            frontier.append(node.value)
        elif isinstance(node, cst.Call):
            if isinstance(node.func, cst.Attribute):
                frontier.append(node.func.value)  # a method's receiver
            if node.args:
                frontier.append(node.args[0].value)  # a cast's argument
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Subtract) and number(node.left) == 1:
            frontier.append(node.right)
        elif isinstance(node, cst.UnaryOperation):
            frontier.append(node.expression)


_IDENTITY_TESTS = (cst.Is, cst.IsNot, cst.In, cst.NotIn)


def checked(ctx: Context, node: cst.BaseExpression) -> bool:
    """The code compares the value (or a name holding it) with something earlier in the same
    function: `if dist <= 1e-6: break`, `if norm > 0:`, `where(n > 0, x / n, 0)`. It knows about
    the zero case and handles it; we do not second-guess how."""
    analysis = ctx.analysis
    keys = {analysis.key(node)}
    # the expression a name holds: `d = m.sum(); 0 if m.sum() == 0 else t / d`
    keys.add(analysis.key(ctx.expression(node)))
    core = _reshaped_name(ctx, node)  # `norm[norm == 0] = 1; x / expand_dims(norm, axis)`
    if core is not None:
        keys.add(analysis.key(core))
    names = {d.name for sub in subtree(node) if isinstance(sub, cst.Name) for d in analysis.definitions(sub)
             if d.value is node}
    for definitions in ctx.scope.definitions.values():
        for definition in definitions:
            if definition.value is node:
                names.add(definition.name)
    if core is not None:
        names.add(core.value)
    for site in analysis.flow.candidates:
        if site.scope is not ctx.scope or site.order >= ctx.order or not isinstance(site.node, cst.Comparison):
            continue
        if all(isinstance(t.operator, _IDENTITY_TESTS) for t in site.node.comparisons):
            continue  # `if std is None:` says nothing about 0
        sides = [site.node.left, *(target.comparator for target in site.node.comparisons)]
        for side in sides:
            if analysis.key(side) in keys or (isinstance(side, cst.Name) and side.value in names):
                return True
    return False


# float16's smallest subnormal is 5.96e-8: a literal below half of it rounds to 0.
_FP16_ZERO = 2.98e-8
HALF_WORDS = frozenset({"float16", "half", "fp16", "bfloat16", "bf16"})


def vanishes_in_half(ctx: Context, node: cst.BaseExpression) -> bool:
    """A positive literal (or a name holding one) that float16 rounds to 0."""
    value = ctx.value(node).constant
    return value is not None and 0 < value < _FP16_ZERO


def half_precision(ctx: Context, node: cst.BaseExpression) -> bool:
    """The value is float16 on some path: cast with `.half()`, `.to(torch.float16)`,
    `.astype(np.float16)`, `tf.cast(x, tf.float16)`, built with `dtype=...float16`, or the output of
    a model in an autocast region — and what is computed from such values."""
    return "float16" in ctx.value(node).dtypes


def away_from_zero(ctx: Context, node: cst.BaseExpression) -> bool:
    """|x| >= 0.1 for every value it can take (`1 - eps`, `x.clamp(min=1)`): `exp(x) - 1` and
    `log(1 + x)` lose at most one digit there, in any dtype."""
    r = ctx.value(node).range
    return r.lo >= 0.1 or r.hi <= -0.1


def offset_setting(ctx: Context, node: cst.BaseExpression) -> bool:
    """A literal moved by a scalar setting: `1 - min_derivative` (a parameter with a number, or a
    module constant, for its default), `1 - self.epsilon`, also as a one-element tensor
    (`torch.Tensor([1 - self.epsilon])`). It is near 0 only if the setting is within 1e-4 of the
    literal, which no configuration does (a minimum derivative of 1e-3, an epsilon): `exp(x) - 1`
    and `log(1 + x)` lose no digit there. Spline flows write `log(exp(1 - min_derivative) - 1)`."""
    if isinstance(node, cst.Call) and len(node.args) == 1 and isinstance(node.args[0].value, (cst.List, cst.Tuple)):
        elements = node.args[0].value.elements
        if len(elements) == 1:
            node = elements[0].value  # a tensor made from one number
    if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Subtract, cst.Add))):
        return False
    for literal, other in ((node.left, node.right), (node.right, node.left)):
        value = number(literal)
        if value is not None and abs(value) >= 0.5 and _setting(ctx, other):
            return True
    return False


def _setting(ctx: Context, node: cst.BaseExpression) -> bool:
    """An epsilon by name, a parameter whose default is a number or a constant, a number assigned
    at module level, or an imported UPPER_CASE constant (`DEFAULT_MIN_DERIVATIVE`)."""
    if _named_eps(node):
        return True
    if not isinstance(node, cst.Name):
        return False
    definitions = ctx.analysis.definitions(node)

    def setting(d) -> bool:
        if d.kind == PARAM:
            return d.value is not None and (number(d.value) is not None or isinstance(d.value, (cst.Name, cst.Attribute)))
        if d.kind == ASSIGN and d.scope.parent is None:
            return d.value is not None and number(d.value) is not None
        return d.kind == IMPORT and node.value.isupper()

    return bool(definitions) and all(setting(d) for d in definitions)


def float64(ctx: Context, node: cst.BaseExpression) -> bool:
    """Surely float64 (a NumPy array made without another dtype, `.double()`, `dtype=float64`):
    precision-only hazards lose 9 more digits before they show there than in float32."""
    return ctx.value(node).surely_dtype("float64")


def masked(ctx: Context, node: cst.BaseExpression) -> bool:
    """The value has been through a selection that replaces some entries by a constant:
    `x.masked_fill(~ok, 0)`, `where(ok, x, 0)`. That is the stable double-`where` idiom: the
    code keeps the out-of-domain entries away from the op, and selects the other branch for them."""
    return "masked" in ctx.value(node).tags


def grid(ctx: Context, node: cst.BaseExpression) -> bool:
    """A grid the code builds from its own parameters (`linspace(-eta, 0, n)`, `-tau *
    arange(k)`), possibly scaled: a schedule or a kernel, not data. Its range is the author's
    choice of hyperparameters, so overflow is not the data-driven hazard rules look for."""
    return "grid" in ctx.value(node).tags


def read_out(ctx: Context, node: cst.BaseExpression) -> bool:
    """No gradient leaves the value: the expression `node` is part of is assigned to a name every
    read of which takes it out of autograd (`s_init = -log(z.std() + eps); self.s.data =
    s_init.data`: an initialisation copied into a parameter's `.data`; `.detach()`, `.item()`,
    `float(v)` likewise)."""
    definition = _assigned_in(ctx, node)
    if definition is None or not definition.reads:
        return False
    read_out_ids = set(ctx.analysis.flow.detached)
    for sub in subtree(ctx.scope.node):
        if isinstance(sub, cst.Attribute) and sub.attr.value == "data":
            read_out_ids.add(id(sub.value))
    return all(key in read_out_ids for key in definition.reads)


def _assigned_in(ctx: Context, node: cst.BaseExpression):
    """The assignment (in the scope being checked) whose value holds this very node."""
    for definitions in ctx.scope.definitions.values():
        for definition in definitions:
            if definition.kind != ASSIGN or definition.value is None or definition.path:
                continue
            if any(sub is node for sub in subtree(definition.value)):
                return definition
    return None


_STORED_NAME = re.compile(r"rollout|replay|buffer|memory", re.IGNORECASE)


def stored_data(ctx: Context, node: cst.BaseExpression) -> bool:
    """Data read back from storage no gradient reaches: a field of a batch drawn from a rollout
    or replay buffer (`for rollout_data in self.rollout_buffer.get(): a = rollout_data.advantages`),
    where the code names the storage so. The values were computed and stored under no autograd
    (advantages, returns, observations)."""
    node = ctx.expression(node)
    for _ in range(8):
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in (
                "to", "float", "flatten", "reshape", "view", "squeeze", "unsqueeze"):
            node = node.func.value
        else:
            break
    if not isinstance(node, cst.Name):
        return False
    if _STORED_NAME.search(node.value):
        return True
    definitions = ctx.analysis.definitions(node)
    return bool(definitions) and all(d.kind == LOOP and d.value is not None
                                     and _STORED_NAME.search(code(d.value)) for d in definitions)


def _unwrap(node: cst.BaseExpression, ctx: Context) -> cst.BaseExpression:
    """See through `.detach()`, `stop_gradient(...)` around a value."""
    for _ in range(8):
        node = ctx.expression(node)
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
        break
    return node


def identically_zero(ctx: Context, node: cst.BaseExpression) -> bool:
    """`x - stop_gradient(x)` (DiCE's "magic box", straight-through estimators): 0 in value, by
    construction, while its gradient is that of x."""
    term = ctx.term(node)
    if term is None or term.op != "sub":
        return False
    x, y = term.args["x"].node, term.args["y"].node
    stopped = _unwrap(y, ctx)
    analysis = ctx.analysis
    return analysis.same(ctx.expression(x), stopped) and analysis.key(stopped) != analysis.key(ctx.expression(y))


def small_eps(ctx: Context, node: cst.BaseExpression) -> bool:
    """An epsilon that only keeps a log finite: `is_eps`, and at most 1e-4 when its value is known
    (`sigmoid(x) + 1e-3` is more often a floor the code means, like a minimum scale)."""
    value = ctx.value(node)
    return is_eps(ctx, node) and (value.constant is None or value.constant <= 1e-4)
# -- domain and division (issue 14): values inside a domain only in exact arithmetic ---------------

def _arg(term: Term, name: str):
    arg = term.args.get(name)
    return arg.node if arg is not None and not arg.synthetic else None


def _sum_of_squares(ctx: Context, node: cst.BaseExpression, depth: int = 0) -> bool:
    """`x**2 + y**2 + z**2`, `sum(v**2)`, `(v * v).sum()`: a squared length."""
    if depth > 6:
        return False
    if "variance" in ctx.value(node).tags:
        return True
    term = ctx.term(node)
    if term is None:
        return False
    if term.op == "square":
        return True
    if term.op == "add":
        x, y = _arg(term, "x"), _arg(term, "y")
        return x is not None and y is not None and _sum_of_squares(ctx, x, depth + 1) and _sum_of_squares(ctx, y, depth + 1)
    return False


def _length(ctx: Context, node: cst.BaseExpression, depth: int = 0) -> bool:
    """A vector length, guarded or not: `norm(v)`, `sqrt(x**2 + y**2)`, `hypot`, a product of
    lengths (`|a| |b|`), a length floored or plus an epsilon (the ratio is still a cosine)."""
    if depth > 6:
        return False
    if {"norm"} & ctx.value(node).tags:
        return True
    term = ctx.term(node)
    if term is None:
        return False
    x = _arg(term, "x")
    if term.op in ("norm", "hypot"):
        return True
    if term.op == "sqrt":
        return x is not None and _sum_of_squares(ctx, x)
    if term.op == "mul":
        y = _arg(term, "y")
        return x is not None and y is not None and _length(ctx, x, depth + 1) and _length(ctx, y, depth + 1)
    if term.op in ("clamp", "clamp_min", "maximum", "add") and x is not None:
        y = _arg(term, "y")
        return _length(ctx, x, depth + 1) or (term.op in ("maximum", "add") and y is not None and _length(ctx, y, depth + 1))
    return False


def _unit_vector(ctx: Context, node: cst.BaseExpression) -> bool:
    """Rows of unit length: `normalize(v)`, singular vectors, `v / norm(v)`."""
    if ctx.value(node).unit_norm:
        return True
    term = ctx.term(node)
    if term is not None and term.op == "div":
        y = _arg(term, "y")
        return y is not None and _length(ctx, y)
    return False


_COSINE_NAME = re.compile(r"(^|_)(cos|cosine|cosines|cos_sim|cossim|cos_theta)(_|$)|cosine", re.IGNORECASE)


def rounded_unit(ctx: Context, node: cst.BaseExpression) -> bool:
    """A cosine computed by hand: in [-1, 1] in exact arithmetic only, so rounding can step past
    ±1 — a cosine similarity, `dot / (|a| |b|)`, a component over the length (`z / r`), a dot
    product of unit vectors (`(u * v).sum(-1)`, `u @ v.T` after `normalize`). A clamp ends it.
    A value made where numlint cannot see (a parameter, another module's model) counts when the
    code names it a cosine (`cosine_of_target_classes`, `cos_theta`): the convention says it is a
    similarity, and `cos(theta)` itself, whose range is exact, is seen as such."""
    value = ctx.value(node)
    if "cosine" in value.tags:
        return True
    if value.range.within(-1.0, 1.0):
        return False  # clamped, or a tanh: inside exactly
    if not value.producers and not value.literal and _named_cosine(ctx, node):
        return True
    node = ctx.expression(node)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
        return _unit_vector(ctx, node.left) and _unit_vector(ctx, _untransposed(node.right))
    term = ctx.term(node)
    if term is None:
        return False
    if term.op == "div":
        y = _arg(term, "y")
        return y is not None and _length(ctx, y)
    if term.op == "sum":
        x = _arg(term, "x")
        product = ctx.term(x) if x is not None else None
        if product is not None and product.op == "mul":
            a, b = _arg(product, "x"), _arg(product, "y")
            return a is not None and b is not None and _unit_vector(ctx, a) and _unit_vector(ctx, b)
    if term.op == "matmul":
        a, b = _arg(term, "x"), _arg(term, "y")
        return a is not None and b is not None and _unit_vector(ctx, a) and _unit_vector(ctx, _untransposed(b))
    return False


def _named_cosine(ctx: Context, node: cst.BaseExpression, named: bool = False, depth: int = 0) -> bool:
    """A name (or one it is a copy or an indexing of: `c = cosine[mask == 1]`, on some path of a
    branch, or what a helper returns) the code calls a cosine, holding a value made where numlint
    cannot see — not `cos(theta)` or an op it knows."""
    for _ in range(8):
        if isinstance(node, cst.Subscript):
            node = node.value
            continue
        if isinstance(node, cst.Call) and (_calls_cos(node) or ctx.term(node) is not None):
            return False
        passed = ctx.analysis.passed_through(node) if isinstance(node, cst.Call) else None
        if passed is not None:  # `same(cosine)` of a helper that returns its argument
            node = passed
            continue
        if not isinstance(node, (cst.Name, cst.Attribute, cst.Call)):
            return named
        if not isinstance(node, cst.Call):
            named = named or bool(_COSINE_NAME.search(node.value if isinstance(node, cst.Name) else node.attr.value))
        origins = ctx.analysis.origins(node)
        if len(origins) > 1:  # a branch: some path brings a cosine (not the call sites of a parameter:
            # each brings its own value, and another call's cosine is not this call's)
            if any(o.how == "argument" for o in origins):
                return named
            return depth < 3 and any(_named_cosine(ctx, o.value, named, depth + 1) for o in origins)
        if not origins:
            return named
        node = origins[0].value
    return named


def _calls_cos(node: cst.Call) -> bool:
    """`torch.cos(theta)`, `np.cos(a)`, `theta.cos()`: inside [-1, 1] exactly."""
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return name in ("cos", "sin")


def _untransposed(node: cst.BaseExpression) -> cst.BaseExpression:
    """`v.T`, `v.t()`, `v.transpose(-1, -2)`, `v.mT`: the value transposed."""
    for _ in range(4):
        if isinstance(node, cst.Attribute) and node.attr.value in ("T", "mT"):
            node = node.value
        elif (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
              and node.func.attr.value in ("t", "transpose", "permute", "swapaxes")):
            node = node.func.value
        else:
            break
    return node


def exactly_one(ctx: Context, node: cst.BaseExpression) -> bool:
    """The literal 1 or -1 (a clamp bound at the edge of acos's domain)."""
    value = ctx.value(node).constant
    return value is not None and abs(value) == 1.0


def expanded_square_distance(ctx: Context, node: cst.BaseExpression) -> bool:
    """`|a|² + |b|² - 2 a·b` in any order: a squared distance expanded so that it cancels, and
    rounding makes it slightly negative where the points coincide."""
    candidates = [ctx.expression(node)]
    # the sum seen through ops that keep its elements (`d = d[...]`, `d.reshape(...)`)
    candidates += [p.node for p in ctx.value(node).producers if p.op in ("add", "sub") and p.node is not None]
    return any(_expanded(ctx, candidate) for candidate in candidates[:4])


def _expanded(ctx: Context, node: cst.BaseExpression) -> bool:
    terms = []
    if not _flatten_sum(ctx, node, 1, terms, 0):
        return False
    squares = [t for sign, t in terms if sign > 0 and _sum_of_squares(ctx, t)]
    crosses = [t for sign, t in terms if sign < 0 and _cross_term(ctx, t)]
    return len(squares) >= 2 and len(crosses) >= 1


def _flatten_sum(ctx: Context, node, sign: int, out: list, depth: int) -> bool:
    if depth > 6 or len(out) > 6:
        return False
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract)):
        right = -sign if isinstance(node.operator, cst.Subtract) else sign
        return (_flatten_sum(ctx, ctx.expression(node.left), sign, out, depth + 1)
                and _flatten_sum(ctx, ctx.expression(node.right), right, out, depth + 1))
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _flatten_sum(ctx, node.expression, -sign, out, depth + 1)
    coefficient = _coefficient(ctx, node)
    if coefficient is not None and coefficient[0] < 0:
        out.append((-sign, node))  # `-2 * ab`: the sign of a negative literal factor
        return True
    out.append((sign, node))
    return True


def _coefficient(ctx: Context, node):
    """`c * x`, `x * c`, and `(c * a) @ b` (`2 * a @ b.T` parses so): the literal c and the rest."""
    if not isinstance(node, cst.BinaryOperation):
        return None
    if isinstance(node.operator, cst.Multiply):
        for a, b in ((node.left, node.right), (node.right, node.left)):
            c = ctx.value(a).constant
            if c is not None:
                return c, b
    if isinstance(node.operator, cst.MatrixMultiply):
        inner = _coefficient(ctx, node.left)
        if inner is not None:
            return inner[0], node
    return None


def _cross_term(ctx: Context, node) -> bool:
    """`2 * a @ b.T`, `2 * (a * b).sum(-1)`, `2 * torch.mm(a, b.t())`, `-2 * ...`."""
    coefficient = _coefficient(ctx, ctx.expression(node))
    return coefficient is not None and abs(coefficient[0]) == 2 and _product(ctx, coefficient[1])


def _product(ctx: Context, node) -> bool:
    node = ctx.expression(node)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
        return True
    term = ctx.term(node)
    if term is None:
        return False
    if term.op == "matmul":
        return True
    if term.op == "sum":
        x = _arg(term, "x")
        inner = ctx.term(x) if x is not None else None
        return inner is not None and inner.op == "mul"
    return False


def can_be_negative(ctx: Context, node: cst.BaseExpression) -> bool:
    """The code shows the value takes negative values: a Gaussian draw, a tanh, a value shifted by
    its max, a negative literal. (Not any difference — `1 - alpha_bar` is one the code keeps
    positive — nor a negation: `sqrt(-d[d < 0])` negates values the code selected negative.)"""
    value = ctx.value(node)
    if value.range.nonnegative:
        return False
    if value.constant is not None:
        return value.constant < 0
    if value.shift is not None or value.range.hi < 0:
        return True
    return value.made_by("normal", "tanh")


def _selections(ctx: Context, node: cst.BaseExpression):
    """(op, term) of each `masked_fill` or `where` some path's value was made by."""
    for producer in ctx.value(node).producers:
        if producer.op in ("masked_fill", "where") and producer.node is not None:
            term = ctx.analysis.viewer.view(producer.node)
            if term is not None:
                yield producer.op, term


def neg_inf_filled(ctx: Context, node: cst.BaseExpression) -> bool:
    """Some path's value is a selection that writes -inf into some entries: `masked_fill(m,
    float("-inf"))`, `where(m, x, -inf)` — a row where every entry is selected is all -inf."""
    for _, term in _selections(ctx, node):
        for name in ("value", "x", "y"):
            arg = term.args.get(name)
            if arg is not None and _neg_inf(ctx, arg.node):
                return True
    return False


def _neg_inf(ctx: Context, node: cst.BaseExpression) -> bool:
    """`-inf` in any spelling: `float("-inf")`, `-np.inf`, `-float("inf")`, `-math.inf`."""
    if ctx.value(node).constant == -float("inf"):
        return True
    term = ctx.analysis.viewer.view(node)
    if term is None or term.op != "neg" or "x" not in term.args:
        return False
    inner = term.args["x"].node
    view = ctx.analysis.viewer.view(inner)
    return (view is not None and view.op == "inf") or ctx.value(inner).constant == float("inf")


def fractional(ctx: Context, node: cst.BaseExpression) -> bool:
    """A literal exponent (or a name holding one) that is not an integer: `0.3`, `1.5`, `1 / 3`."""
    value = ctx.value(node).constant
    return value is not None and not float(value).is_integer()


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
    "read_out": read_out,
    "stored_data": stored_data,
    "masked": masked,
    "away_from_zero": away_from_zero,
    "offset_setting": offset_setting,
    "float64": float64,
    "vanishes_in_half": vanishes_in_half,
    "half_precision": half_precision,
    "small_eps": small_eps,  # the log/exp family (issue 14)
    # domain and division (issue 14)
    "rounded_unit": rounded_unit,
    "exactly_one": exactly_one,
    "expanded_square_distance": expanded_square_distance,
    "can_be_negative": can_be_negative,
    "fractional": fractional,
    "neg_inf_filled": neg_inf_filled,
}


# -- precision family (NUM505-NUM519): fp16 overflow, absorption next to 1 ------------------------
from numlint.values import FLOAT64, RESOLUTION, UNKNOWN_DTYPE  # noqa: E402

# float16 rounds a number of magnitude 65520 or more to infinity (65504 is its largest finite one).
_FP16_OVERFLOW = 65520.0


def overflows_in_half(ctx: Context, node: cst.BaseExpression) -> bool:
    """A finite literal (or a name holding one: `NEAR_INF = 1e9`) whose magnitude float16 rounds
    to infinity: `-1e9`, `-1e4 * 10`, `-float(1e20)`."""
    value = ctx.value(node).constant
    return value is not None and _FP16_OVERFLOW <= abs(value) < float("inf")


def rounds_to_one(ctx: Context, node: cst.BaseExpression, like=None, unknown=None) -> bool:
    """A literal just below 1 (`1 - 1e-8`, `1 - eps` with `eps = 1e-10`) that rounds to exactly
    1.0 in a dtype the array `like` may have; where the code does not show its dtype, in the
    dtype `unknown` names (`float32`: the float default of torch, JAX, TensorFlow), if any."""
    value = ctx.value(node).constant
    if value is None or not 0 < 1 - value:
        return False
    if like is not None:
        r = ctx.value(like).range  # a value that never reaches 1 (a `rand` draw, in [0, 1)) needs no bound
        if r.hi < 1 or (r.hi == 1 and not r.hi_closed):
            return False
    dtypes = ctx.value(like).dtypes if like is not None else frozenset({UNKNOWN_DTYPE})
    candidates = {d for d in dtypes if d in RESOLUTION}
    if (UNKNOWN_DTYPE in dtypes or not dtypes) and unknown in RESOLUTION:
        candidates.add(unknown)
    # below 1 the spacing is half the machine epsilon: 1 - d rounds to 1 once d < eps / 4
    return any(1 - value < RESOLUTION[d] / 4 for d in candidates if d != FLOAT64)


PREDICATES["overflows_in_half"] = overflows_in_half
PREDICATES["rounds_to_one"] = rounds_to_one


# -- precision measurement (labels on the merged engine): safety the code shows --------------------

def _abs_operand(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`x` of `abs(x)`, `np.abs(x)`, `x.abs()`, `torch.abs(x)`; None for anything else."""
    if isinstance(node, cst.Call):
        func = node.func
        name = (func.attr.value if isinstance(func, cst.Attribute)
                else func.value if isinstance(func, cst.Name) else None)
        if name in ("abs", "absolute", "fabs"):
            if not node.args and isinstance(func, cst.Attribute):
                return func.value
            if len(node.args) == 1:
                return node.args[0].value
    return None


def _matched(ctx: Context) -> Optional[cst.BaseExpression]:
    """The expression the rule matched: the candidate at the context's place."""
    for site in ctx.analysis.flow.candidates:
        if site.order == ctx.order and site.scope is ctx.scope:
            return site.node
    return None


def thresholded(ctx: Context, node: cst.BaseExpression) -> bool:
    """The matched expression itself (whatever metavariable is named), or its absolute value, is
    a side of a comparison with something other than 0: `(ratio - 1).abs() > clip_coef`. Digits
    lost near 0 change no comparison with a threshold the code chose (PPO's clip fraction); a
    comparison with 0 is left to the rule."""
    node = _matched(ctx)
    if node is None:
        return False
    for site in ctx.analysis.flow.candidates:
        if site.scope is not ctx.scope or not isinstance(site.node, cst.Comparison):
            continue
        sides = [site.node.left, *(target.comparator for target in site.node.comparisons)]
        if len(sides) != 2:
            continue
        for here, other in ((sides[0], sides[1]), (sides[1], sides[0])):
            if (here is node or _abs_operand(here) is node) and ctx.value(other).constant != 0:
                return True
    return False


PREDICATES["thresholded"] = thresholded


def container_size(ctx: Context, node: cst.BaseExpression) -> bool:
    """The length of a Python container or an array's dimension (`len(samples)`, `x.shape[-1]`,
    also through `float()`/`int()`): 0 only for an empty one, which is a different bug from a value
    that is 0 for ordinary inputs (a mask count is not this). Like plain-Python counters
    (docs/precision.md), not what the log rules report."""
    for _ in range(4):
        node = ctx.expression(node)
        if (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute)
                and node.value.attr.value == "shape"):
            return True  # `x.shape[-1]`: a dimension's length
        if isinstance(node, cst.Call) and len(node.args) == 1:
            qualname = ctx.analysis.viewer.imports.qualify(node.func)
            if qualname == "builtins.len":
                return True
            if qualname in ("builtins.float", "builtins.int"):
                node = node.args[0].value
                continue
        break
    return False


PREDICATES["container_size"] = container_size


_MASK_WRAPPERS = frozenset({"broadcast_to", "expand", "expand_as", "reshape", "view", "astype", "to", "bool",
                            "unsqueeze", "cast", "expand_dims", "squeeze"})


def _mask_source(ctx: Context, node: cst.BaseExpression) -> cst.BaseExpression:
    """A mask with its names followed and its reshapes, broadcasts, casts and indexing removed."""
    for _ in range(8):
        node = ctx.expression(node)
        if isinstance(node, cst.Subscript):
            node = node.value
            continue
        if isinstance(node, cst.Call):
            func = node.func
            name = (func.attr.value if isinstance(func, cst.Attribute)
                    else func.value if isinstance(func, cst.Name) else "")
            if name in _MASK_WRAPPERS:
                if isinstance(func, cst.Attribute) and not _is_module(ctx, func.value):
                    node = func.value
                    continue
                if node.args:
                    node = node.args[0].value
                    continue
        break
    return node


def _is_module(ctx: Context, node: cst.BaseExpression) -> bool:
    return ctx.analysis.viewer.imports.qualify(node) is not None and not isinstance(node, cst.Call)


def _call_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Call):
        func = node.func
        return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return ""


def _diagonal(ctx: Context, node: cst.Call) -> Optional[float]:
    """The `diagonal` of a `tril`/`triu` call (0 when absent), None when not a literal."""
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value in ("diagonal", "k"):
            return number(arg.value)
    positional = [a for a in node.args if a.keyword is None]
    method = isinstance(node.func, cst.Attribute) and not _is_module(ctx, node.func.value)
    rest = positional if method else positional[1:]  # `m.triu(1)`, `torch.triu(m, 1)`
    return number(rest[0].value) if rest else 0.0


def _arange_sides(ctx: Context, node: cst.BaseExpression):
    if not isinstance(node, cst.Comparison) or len(node.comparisons) != 1:
        return None
    left, right = node.left, node.comparisons[0].comparator
    if all(_call_name(_mask_source(ctx, side)) == "arange" for side in (left, right)):
        return node.comparisons[0].operator
    return None


def _causal(ctx: Context, node: cst.BaseExpression, keep: bool, depth: int = 0) -> bool:
    """A causal mask that keeps the diagonal (`keep`: the entries kept; else the entries filled):
    `arange(q)[:, None] >= arange(k)[None, :]`, `tril(ones)`, or `triu(ones, 1)` as the filled part."""
    if depth > 4:
        return False
    node = _mask_source(ctx, node)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.BitInvert, cst.Not)):
        return _causal(ctx, node.expression, not keep, depth + 1)
    if _call_name(node) in ("logical_not",) and isinstance(node, cst.Call) and node.args:
        return _causal(ctx, node.args[0].value, not keep, depth + 1)
    operator = _arange_sides(ctx, node)
    if operator is not None:
        inclusive = isinstance(operator, (cst.GreaterThanEqual, cst.LessThanEqual))
        strict = isinstance(operator, (cst.GreaterThan, cst.LessThan))
        return inclusive if keep else strict
    name = _call_name(node)
    if name in ("tril", "triu") and isinstance(node, cst.Call):
        diagonal = _diagonal(ctx, node)
        if diagonal is None:
            return False
        if keep:
            return (name == "tril" and diagonal >= 0) or (name == "triu" and diagonal <= 0)
        return (name == "triu" and diagonal >= 1) or (name == "tril" and diagonal <= -1)
    return False


def causal_masked(ctx: Context, node: cst.BaseExpression) -> bool:
    """Every -inf fill of the value is by a causal mask that keeps the diagonal (`where(arange(q)[:,
    None] >= arange(k)[None, :], s, -inf)`, `masked_fill(triu(ones, 1), -inf)`): no row is fully
    masked, so a max shift over it is finite."""
    found = False
    for op, term in _selections(ctx, node):
        if op == "masked_fill":
            value, mask = term.args.get("value"), term.args.get("mask")
            if value is None or not _neg_inf(ctx, value.node):
                continue
            if mask is None or not _causal(ctx, mask.node, keep=False):
                return False
            found = True
            continue
        condition, x, y = term.args.get("condition"), term.args.get("x"), term.args.get("y")
        for branch, keep in ((y, True), (x, False)):
            if branch is not None and _neg_inf(ctx, branch.node):
                if condition is None or not _causal(ctx, condition.node, keep=keep):
                    return False
                found = True
    return found


PREDICATES["causal_masked"] = causal_masked


def made_in_another_method(ctx: Context, node: cst.BaseExpression) -> bool:
    """The value is computed in another method of a class than the one reading it: a table the
    object keeps (`self.sigmas = np.exp(lambdas)` in `set_timesteps`, `log(self.sigmas[i])` in
    `step`). It is the object's data, needed for itself; an op that undoes it there is not a
    round trip the code can drop."""
    scope = ctx.analysis.scope_of(node)
    if scope is None or scope is ctx.scope:
        return False
    return scope.kind == "function" and scope.parent is not None and scope.parent.kind == "class"


PREDICATES["made_in_another_method"] = made_in_another_method


def not_nan_mask(ctx: Context, node: cst.BaseExpression) -> bool:
    """A mask of the entries that are not NaN (`~isnan(x)`, `logical_not(isnan(x))`, `isfinite(x)`):
    its count divides a NaN-ignoring sum, and an all-NaN slice's NaN is what `nanmean`/`nanvar`
    specify (NumPy returns NaN there too)."""
    node = _mask_source(ctx, node)
    if _call_name(node) in ("isfinite", "is_finite"):
        return True
    inner = None
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.BitInvert, cst.Not)):
        inner = node.expression
    elif _call_name(node) == "logical_not" and isinstance(node, cst.Call) and node.args:
        inner = node.args[0].value
    return inner is not None and _call_name(_mask_source(ctx, inner)) in ("isnan", "is_nan")


PREDICATES["not_nan_mask"] = not_nan_mask


_RESHAPES = _MASK_WRAPPERS | {"atleast_1d", "atleast_2d", "atleast_3d", "asarray", "array", "float", "double"}


def _reshaped_name(ctx: Context, node: cst.BaseExpression) -> Optional[cst.Name]:
    """The name a value is a reshape, broadcast, cast or indexing of (`norm` in
    `np.expand_dims(norm, axis)`, `n[:, None]`), or None."""
    for _ in range(6):
        if isinstance(node, cst.Name):
            return node
        if isinstance(node, cst.Subscript):
            node = node.value
            continue
        if isinstance(node, cst.Call) and _call_name(node) in _RESHAPES:
            func = node.func
            if isinstance(func, cst.Attribute) and not _is_module(ctx, func.value):
                node = func.value
                continue
            if node.args and node.args[0].keyword is None:
                node = node.args[0].value
                continue
        return None
    return None


# Predicates that can only hold in a text containing one of these words: they count as a
# pattern's trigger names (see `prefilter`).
REQUIRED_WORDS: Dict[str, FrozenSet[str]] = {"half_precision": HALF_WORDS | {"autocast"}}


def holds(name: str, ctx: Context, node, words=()) -> bool:
    from numlint.patterns import Absent

    if isinstance(node, Absent):
        return False
    return PREDICATES[name](ctx, node, *words)


# -- Python numbers made from arrays (NUM508) -------------------------------------------------------

_TO_PYTHON_METHODS = frozenset({"item", "tolist"})
_TO_PYTHON_FUNCTIONS = frozenset({"float", "int"})


def python_number(ctx: Context, node: cst.BaseExpression, depth: int = 0) -> bool:
    """A Python number, not an array, though it may come from one: `x.item()`, `float(x)`,
    `int(x)`, `x.tolist()`, through names, and arithmetic of such numbers with literals
    (`2 * loss.item()`). Its arithmetic is Python's float64 whatever the array's dtype was."""
    if not isinstance(node, cst.Call):  # (a call is read as written: `float(h.mean())` is what h.mean() is)
        node = ctx.expression(node)
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute):
            return func.attr.value in _TO_PYTHON_METHODS and not node.args
        return isinstance(func, cst.Name) and func.value in _TO_PYTHON_FUNCTIONS and len(node.args) == 1
    if isinstance(node, cst.UnaryOperation) and depth < 8:
        return python_number(ctx, node.expression, depth + 1)
    if isinstance(node, cst.BinaryOperation) and depth < 8:
        sides = (node.left, node.right)
        if not any(python_number(ctx, side, depth + 1) for side in sides):
            return False
        return all(python_number(ctx, side, depth + 1) or ctx.value(side).constant is not None for side in sides)
    return False


PREDICATES["python_number"] = python_number
