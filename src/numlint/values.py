"""What numlint knows of a value: a small frozen record of facts, the same for every framework.

`analysis.py` computes one `Value` for each expression a rule asks about; rules and predicates
read its facts. Where paths meet (an `if`, a loop, several `return`s, an attribute assigned in
several methods) values are joined, and each fact joins the way its use needs:

- facts that *warn* hold when some path brings them (`producers`, `zero`, `underflows`,
  `dtypes` containing float16, `grad`): a hazard when some path brings the dangerous value;
- facts that *guard* hold only when every path has them (`range` is the hull of the paths' ranges,
  so it is positive only if every path is; `shift`, `unit_norm`, `nonzero`, `tags`).

Everything here is framework-neutral: which op makes which fact is in `analysis.py` and the
bindings' tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import FrozenSet, Optional, Tuple

INF = math.inf

# dtype names numlint reasons about. UNKNOWN_DTYPE marks a path whose dtype the code does not show.
FLOAT16, BFLOAT16, FLOAT32, FLOAT64 = "float16", "bfloat16", "float32", "float64"
INTEGER, BOOL = "integer", "bool"
UNKNOWN_DTYPE = "?"
HALF = frozenset({FLOAT16, BFLOAT16})

# Smallest relative step next to 1 (machine epsilon) and largest finite value, per float dtype.
RESOLUTION = {FLOAT16: 9.77e-4, BFLOAT16: 7.81e-3, FLOAT32: 1.19e-7, FLOAT64: 2.22e-16}
LARGEST = {FLOAT16: 65504.0, BFLOAT16: 3.39e38, FLOAT32: 3.40e38, FLOAT64: 1.80e308}
# exp overflows above log(LARGEST)
EXP_OVERFLOW = {FLOAT16: 11.09, BFLOAT16: 88.72, FLOAT32: 88.72, FLOAT64: 709.78}


@dataclass(frozen=True)
class Range:
    """The values an expression can take in exact arithmetic: an interval.

    `rounded` marks bounds that hold only up to rounding: `dot / (|a| |b|)` is a cosine, in
    [-1, 1] in exact arithmetic, but floating point can make it 1.0000001 (then `acos` is NaN)."""

    lo: float = -INF
    hi: float = INF
    lo_closed: bool = False
    hi_closed: bool = False
    rounded: bool = False

    @staticmethod
    def point(value: float) -> "Range":
        return Range(value, value, True, True)

    @staticmethod
    def closed(lo: float, hi: float) -> "Range":
        return Range(lo, hi, lo > -INF, hi < INF)

    @property
    def known(self) -> bool:
        return self.lo > -INF or self.hi < INF

    @property
    def nonnegative(self) -> bool:
        return self.lo >= 0

    @property
    def positive(self) -> bool:
        return self.lo > 0 or (self.lo == 0 and not self.lo_closed)

    @property
    def nonpositive(self) -> bool:
        return self.hi <= 0

    @property
    def at_least_one(self) -> bool:
        return self.lo >= 1

    @property
    def contains_zero(self) -> bool:
        return not (self.positive or self.hi < 0 or (self.hi == 0 and not self.hi_closed))

    @property
    def probability(self) -> bool:
        """Within [0, 1]."""
        return self.lo >= 0 and self.hi <= 1

    def within(self, lo: float, hi: float, exactly: bool = True) -> bool:
        """Inside [lo, hi]; `exactly` also asks that rounding cannot step outside."""
        return self.lo >= lo and self.hi <= hi and not (exactly and self.rounded)

    def join(self, other: "Range") -> "Range":
        lo, lo_closed = _lower(self, other)
        hi, hi_closed = _upper(self, other)
        return Range(lo, hi, lo_closed, hi_closed, self.rounded or other.rounded)

    def meet(self, other: "Range") -> "Range":
        """The intersection: what a clamp into `other` leaves."""
        if other.lo > self.lo or (other.lo == self.lo and not other.lo_closed):
            lo, lo_closed = other.lo, other.lo_closed
        else:
            lo, lo_closed = self.lo, self.lo_closed
        if other.hi < self.hi or (other.hi == self.hi and not other.hi_closed):
            hi, hi_closed = other.hi, other.hi_closed
        else:
            hi, hi_closed = self.hi, self.hi_closed
        return Range(lo, hi, lo_closed, hi_closed, False)


def _lower(a: Range, b: Range) -> Tuple[float, bool]:
    if a.lo < b.lo:
        return a.lo, a.lo_closed
    if b.lo < a.lo:
        return b.lo, b.lo_closed
    return a.lo, a.lo_closed or b.lo_closed


def _upper(a: Range, b: Range) -> Tuple[float, bool]:
    if a.hi > b.hi:
        return a.hi, a.hi_closed
    if b.hi > a.hi:
        return b.hi, b.hi_closed
    return a.hi, a.hi_closed or b.hi_closed


ANY_RANGE = Range()


@dataclass(frozen=True)
class Shift:
    """`x - max(x, axis)`: at most 0, and 0 somewhere along `axis` (None: over all axes)."""

    axis: Optional[str]  # the axis as written (`-1`, `1`), or None for the whole array


@dataclass(frozen=True)
class Producer:
    """The op that made a value, seen through ops that keep its elements (indexing, reshapes,
    copies, casts) and through names, returns and attributes.

    `node` is the producing expression in this file (a call, or the constructor of a layer
    whose output it is), `scope` the scope it is read in; `elsewhere` names a place in another
    module (`model.py:42`) when the value comes from there. `via` says how it travelled, for
    messages and for deciding whether a fix can reach it."""

    op: str
    node: object = field(default=None, compare=False)  # cst node (compared by identity below)
    scope: object = field(default=None, compare=False)
    layer: bool = False  # the output of a layer or model built by `node`
    elsewhere: Optional[str] = None
    via: Tuple[str, ...] = field(default=(), compare=False)
    key: int = 0  # id(node), so producers compare by where they are made

    def through(self, how: str) -> "Producer":
        return self if how in self.via else replace(self, via=self.via + (how,))


@dataclass(frozen=True)
class Callee:
    """What calling a value runs. `kind`: "function" (a function or method of this file, `scope`),
    "class" (calling it builds an instance), "instance" (calling runs its forward), "layer"
    (a layer or model whose output `output` says), "external" (a summary from another module)."""

    kind: str
    scope: object = field(default=None, compare=False)
    output: Optional["Value"] = None
    node: object = field(default=None, compare=False)  # the constructor call, for layers
    key: int = 0
    # for a function of another module: the shapes of what it returns (summaries.valid_shapes)
    shape: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Value:
    range: Range = ANY_RANGE
    zero: bool = False  # exactly 0 for ordinary inputs: a norm of a zero vector, a count, a ReLU
    underflows: bool = False  # > 0 in exact arithmetic but can round to 0 (exp, softmax, sigmoid)
    producers: Tuple[Producer, ...] = ()
    shift: Optional[Shift] = None
    unit_norm: bool = False  # unit-norm rows or columns (SVD/QR/eigh vectors, `normalize`)
    nonzero: bool = False  # almost surely not 0 (a Gaussian draw)
    dtypes: FrozenSet[str] = frozenset({UNKNOWN_DTYPE})
    grad: Optional[bool] = None  # autograd runs through it (None: the code does not tell)
    constant: Optional[float] = None  # a number known from literals
    literal: bool = False  # built from literals only
    tags: FrozenSet[str] = frozenset()  # guards, on every path: "variance", "mask", "count", "grid"
    may_tags: FrozenSet[str] = frozenset()  # the same, on some path
    elements: Optional[Tuple["Value", ...]] = None  # a tuple's or list's elements, when known
    last: Optional["Value"] = None  # a list's last element (what a Sequential of it outputs)
    callee: Optional[Callee] = None

    # -- reading facts --------------------------------------------------------------------------
    def made_by(self, *ops: str) -> bool:
        """Some path's value is made by one of these ops."""
        return any(p.op in ops for p in self.producers)

    def only_made_by(self, *ops: str) -> bool:
        return bool(self.producers) and all(p.op in ops for p in self.producers)

    def maybe_dtype(self, *names: str) -> bool:
        return any(name in self.dtypes for name in names)

    def surely_dtype(self, *names: str) -> bool:
        return bool(self.dtypes) and self.dtypes <= set(names)

    @property
    def half(self) -> bool:
        return bool(self.dtypes & HALF)

    def has_tag(self, tag: str) -> bool:
        return tag in self.tags

    # -- joining --------------------------------------------------------------------------------
    def join(self, other: "Value") -> "Value":
        if other is self:
            return self
        return Value(
            range=self.range.join(other.range),
            zero=self.zero or other.zero,
            underflows=self.underflows or other.underflows,
            producers=self.producers + tuple(p for p in other.producers if p not in self.producers),
            shift=self.shift if self.shift == other.shift else None,
            unit_norm=self.unit_norm and other.unit_norm,
            nonzero=self.nonzero and other.nonzero,
            dtypes=self.dtypes | other.dtypes,
            grad=True if (self.grad or other.grad) else (False if self.grad is False and other.grad is False else None),
            constant=self.constant if self.constant == other.constant else None,
            literal=self.literal and other.literal,
            tags=self.tags & other.tags,
            may_tags=self.may_tags | other.may_tags,
            elements=_join_elements(self.elements, other.elements),
            last=_join_optional(self.last, other.last),
            callee=_join_callees(self.callee, other.callee),
        )


def _join_callees(a: Optional[Callee], b: Optional[Callee]) -> Optional[Callee]:
    if a == b:
        return a
    if a is not None and b is not None and a.kind == b.kind == "layer":
        # `layers[-1]` is a Linear on one path and a Sigmoid on another: the model may end in either
        return Callee("layer", output=_join_optional(a.output, b.output), node=a.node, key=a.key)
    return None


def _join_optional(a: Optional[Value], b: Optional[Value]) -> Optional[Value]:
    if a is None or b is None:
        return a if b is None else b
    return a.join(b)


def _join_elements(a, b):
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(x.join(y) for x, y in zip(a, b))


UNKNOWN = Value()


def join_all(values) -> Value:
    result: Optional[Value] = None
    for value in values:
        result = value if result is None else result.join(value)
    return result if result is not None else UNKNOWN


def number(value: float, integer: bool = False) -> Value:
    """A literal number (a Python scalar: it takes the dtype of the arrays it meets)."""
    return Value(range=Range.point(value), zero=value == 0, constant=value, literal=True, nonzero=value != 0,
                 dtypes=frozenset({INTEGER}) if integer else frozenset({UNKNOWN_DTYPE}), grad=False)


def describe(value: Value) -> str:
    """A short account of the facts, for tests and debugging."""
    parts = []
    r = value.range
    if r.known:
        parts.append(f"{'[' if r.lo_closed else '('}{r.lo:g}, {r.hi:g}{']' if r.hi_closed else ')'}"
                     + ("~" if r.rounded else ""))
    for name in ("zero", "underflows", "unit_norm", "nonzero", "literal"):
        if getattr(value, name):
            parts.append(name)
    if value.producers:
        parts.append("made by " + "/".join(p.op for p in value.producers))
    if value.shift is not None:
        parts.append(f"shifted({value.shift.axis})")
    known = sorted(value.dtypes - {UNKNOWN_DTYPE})
    if known:
        parts.append("dtype " + "/".join(known) + ("?" if UNKNOWN_DTYPE in value.dtypes else ""))
    if value.grad is not None:
        parts.append("grad" if value.grad else "no grad")
    if value.tags:
        parts.append("tags " + ",".join(sorted(value.tags)))
    if value.callee is not None:
        parts.append(f"calls {value.callee.kind}")
    return ", ".join(parts) or "unknown"
