"""What a module tells the modules that import it: the facts of its names, as JSON.

`summarize` writes, for each name a module binds at its top level, what is known of it: a
function's return value, a class's forward pass (what calling an instance gives), a module-level
instance, layer or constant. A `ProjectIndex` holds the summaries of a project's modules and
answers the analysis of another file when it reads an imported name (`from .model import
predict`, `import pkg.model as m; m.Net()`).

Summaries are plain JSON (numbers, strings, lists, objects) so that worker processes can send
them and the results cache can keep them; `decode` checks every field and turns anything it
does not recognise into "unknown", so a summary never makes numlint run code or fail. Producers
from another module carry only their op and place (`model.py:42`), never a node: a fix never
crosses files, and a finding whose value comes from there says where it is made.
"""

from __future__ import annotations

import hashlib
import math
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import libcst as cst

from numlint.flow import CLASS, FUNCTION, IMPORT
from numlint.values import INF, UNKNOWN, Callee, Producer, Range, Shift, Value, join_all

VERSION = 1
_FLAGS = ("zero", "underflows", "unit_norm", "nonzero", "literal")
_MAX_DEPTH = 4
_CALLEE_KINDS = ("function", "class", "instance", "layer")


# What a module can tell another that matters to a rule: values made by these ops. A module whose
# text spells none of them (and imports nothing from the project) has nothing to tell, and is not
# parsed for a summary.
EXPORTED_OPS = ("softmax", "sigmoid", "log_softmax", "logsigmoid", "exp", "norm", "std", "var", "uniform", "relu")


def exported_words() -> frozenset:
    from numlint.bindings import spellings_of

    words = {"activation"}
    for op in EXPORTED_OPS:
        words |= spellings_of(op)
    return frozenset(words)


def summarize(analysis, place: Callable[[object], Optional[str]], shaped: Iterable[str] = ()) -> dict:
    """The summary of the module `analysis` analysed. `place(node)` names where a node is
    (`path:row`), for producers. The functions named in `shaped` (those another module's check
    looked through a call of) also carry the shapes of what they return."""
    module = analysis.flow.module_scope
    names: Dict[str, dict] = {}
    for name, definitions in module.definitions.items():
        if any(d.kind == IMPORT for d in definitions) and len(definitions) == 1:
            continue  # re-exported names are summarised by their own module
        value = join_all(_exported(analysis, d) for d in definitions if d.kind != IMPORT)
        encoded = encode(value, place)
        if encoded:
            names[name] = encoded
    for name in sorted(set(shaped)):
        definitions = module.definitions.get(name, ())
        scope = module.functions.get(name)
        if len(definitions) != 1 or definitions[0].kind != FUNCTION or scope is None:
            continue
        shapes = shapes_of(analysis, scope, place)
        if shapes:
            entry = names.setdefault(name, {})
            callee = entry.setdefault("callee", {"kind": "function", "output": {}})
            if callee.get("kind") == "function":
                callee["shape"] = shapes
    return {"version": VERSION, "names": names}


def _exported(analysis, definition) -> Value:
    value = analysis.value_of_definition(definition)
    callee = value.callee
    if callee is None or callee.scope is None:
        return value
    if definition.kind == FUNCTION or callee.kind == "function":
        return Value(callee=Callee("function", output=analysis.returned(callee.scope)))
    if definition.kind == CLASS or callee.kind in ("class", "instance"):
        from numlint.analysis import _forward

        forward = _forward(callee.scope)
        output = analysis.returned(forward) if forward is not None else UNKNOWN
        return Value(callee=Callee(callee.kind, output=output))
    return value


def encode(value: Value, place, depth: int = 0) -> dict:
    """A value's facts as JSON; {} when nothing is known."""
    if depth > _MAX_DEPTH:
        return {}
    out: dict = {}
    r = value.range
    if r.known:
        out["range"] = [_number(r.lo), _number(r.hi), r.lo_closed, r.hi_closed, r.rounded]
    flags = [name for name in _FLAGS if getattr(value, name)]
    if flags:
        out["flags"] = flags
    producers = []
    for producer in value.producers:
        where = producer.elsewhere or (place(producer.node) if producer.node is not None else None)
        producers.append({"op": producer.op, "at": where, "layer": producer.layer, "via": list(producer.via)})
    if producers:
        out["producers"] = producers
    if value.shift is not None:
        out["shift"] = value.shift.axis
    dtypes = sorted(value.dtypes - {"?"})
    if dtypes:
        out["dtypes"] = sorted(value.dtypes)
    if value.grad is not None:
        out["grad"] = value.grad
    if value.constant is not None and math.isfinite(value.constant):
        out["constant"] = value.constant
    if value.tags:
        out["tags"] = sorted(value.tags)
    if value.may_tags:
        out["may_tags"] = sorted(value.may_tags)
    if value.elements is not None and len(value.elements) <= 16:
        out["elements"] = [encode(e, place, depth + 1) for e in value.elements]
    if value.last is not None:
        last = encode(value.last, place, depth + 1)
        if last:
            out["last"] = last
    if value.callee is not None and value.callee.kind in _CALLEE_KINDS and value.callee.output is not None:
        out["callee"] = {"kind": value.callee.kind, "output": encode(value.callee.output, place, depth + 1)}
    return out


def _number(x: float):
    return None if math.isinf(x) else x


def decode(data, depth: int = 0) -> Value:
    """A value from its JSON; whatever does not have the expected shape is unknown."""
    if not isinstance(data, dict) or depth > _MAX_DEPTH:
        return UNKNOWN
    facts: dict = {}
    r = data.get("range")
    if isinstance(r, list) and len(r) == 5 and all(isinstance(b, bool) for b in r[2:]):
        lo, hi = _bound(r[0], -INF), _bound(r[1], INF)
        if lo is not None and hi is not None:
            facts["range"] = Range(lo, hi, r[2], r[3], r[4])
    for flag in _strings(data.get("flags")):
        if flag in _FLAGS:
            facts[flag] = True
    producers = []
    for item in data.get("producers", ()) if isinstance(data.get("producers"), list) else ():
        if isinstance(item, dict) and isinstance(item.get("op"), str):
            at = item.get("at") if isinstance(item.get("at"), str) else None
            producers.append(Producer(item["op"], layer=item.get("layer") is True, elsewhere=at or "another module",
                                      via=tuple(_strings(item.get("via"))) + ("imported",)))
    if producers:
        facts["producers"] = tuple(producers)
    if "shift" in data and (data["shift"] is None or isinstance(data["shift"], str)):
        facts["shift"] = Shift(data["shift"])
    dtypes = frozenset(_strings(data.get("dtypes")))
    if dtypes:
        facts["dtypes"] = dtypes
    if isinstance(data.get("grad"), bool):
        facts["grad"] = data["grad"]
    constant = data.get("constant")
    if isinstance(constant, (int, float)) and not isinstance(constant, bool) and math.isfinite(constant):
        facts["constant"] = float(constant)
    facts["tags"] = frozenset(_strings(data.get("tags")))
    facts["may_tags"] = frozenset(_strings(data.get("may_tags")))
    elements = data.get("elements")
    if isinstance(elements, list) and len(elements) <= 16:
        facts["elements"] = tuple(decode(e, depth + 1) for e in elements)
    if "last" in data:
        facts["last"] = decode(data["last"], depth + 1)
    callee = data.get("callee")
    if isinstance(callee, dict) and callee.get("kind") in _CALLEE_KINDS:
        shapes = valid_shapes(callee.get("shape")) if callee["kind"] == "function" else ()
        facts["callee"] = Callee(callee["kind"], output=decode(callee.get("output"), depth + 1), shape=shapes)
    return Value(**facts)


def _bound(x, infinite: float) -> Optional[float]:
    if x is None:
        return infinite
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


def _strings(items) -> List[str]:
    return [item for item in items if isinstance(item, str)] if isinstance(items, list) else []


class ProjectIndex:
    """The summaries of a project's modules, by dotted module name."""

    def __init__(self, summaries: Mapping[str, dict]) -> None:
        self._summaries = {name: s for name, s in summaries.items() if isinstance(s, dict)}
        self._values: Dict[str, Value] = {}

    def __contains__(self, module: str) -> bool:
        return module in self._summaries

    def lookup(self, qualname: str) -> Optional[Value]:
        """What `pkg.model.predict` (or `pkg.model.Net`) is, when the project's module says."""
        if qualname in self._values:
            return self._values[qualname]
        found = None
        module, _, name = qualname.rpartition(".")
        summary = self._summaries.get(module)
        if summary is not None:
            names = summary.get("names")
            if isinstance(names, dict) and name in names:
                found = decode(names[name])
        self._values[qualname] = found
        return found

    def modules(self) -> Iterable[str]:
        return self._summaries.keys()

    def words(self, qualnames: Iterable[str]) -> frozenset:
        """The spellings of the ops these exported names produce: the words a file importing
        them holds without writing them (for the prefilter)."""
        from numlint.bindings import spellings_of

        ops = set()
        for qualname in qualnames:
            module, _, name = qualname.rpartition(".")
            names = self._summaries.get(module, {}).get("names")
            if isinstance(names, dict):
                called = _called(name)
                _ops_in(names.get(called[0] if called else name), ops, 0)
                if called:
                    _shape_ops(names.get(called[0]), ops)
        words = set()
        for op in ops:
            words |= spellings_of(op)
        return frozenset(words)


def _ops_in(data, ops: set, depth: int) -> None:
    if not isinstance(data, dict) or depth > _MAX_DEPTH:
        return
    for producer in data.get("producers", ()) if isinstance(data.get("producers"), list) else ():
        if isinstance(producer, dict) and isinstance(producer.get("op"), str):
            ops.add(producer["op"])
    for key in ("last",):
        _ops_in(data.get(key), ops, depth + 1)
    for element in data.get("elements", ()) if isinstance(data.get("elements"), list) else ():
        _ops_in(element, ops, depth + 1)
    callee = data.get("callee")
    if isinstance(callee, dict):
        _ops_in(callee.get("output"), ops, depth + 1)


def _shape_ops(entry, ops: set) -> None:
    """The ops a name's shapes are made of (their spellings are words a file importing it holds)."""
    callee = entry.get("callee") if isinstance(entry, dict) else None
    stack = [shape["e"] for shape in valid_shapes(callee.get("shape"))] if isinstance(callee, dict) else []
    while stack:
        node = stack.pop()
        if isinstance(node.get("op"), dict):
            ops.add(node["op"]["op"])
        stack.extend(node.get("k", ()))


# `pkg.model.f(add)`, among the names a file asked for: the matcher looked through a call of `f` for
# an `add`; `pkg.model.f()`: a guard or a predicate read what it gives, or the expression it returns.
def _called(name: str) -> Optional[Tuple[str, str]]:
    """(`f`, `add`) for `f(add)`; (`f`, "") for `f()`; None for a name."""
    if not name.endswith(")") or "(" not in name:
        return None
    local, _, wanted = name[:-1].partition("(")
    return local, wanted


def called_name(qualname: str) -> Optional[str]:
    """`pkg.m.f` for `pkg.m.f(add)` or `pkg.m.f()`, else None."""
    called = _called(qualname)
    return qualname[:qualname.index("(")] if called else None


def interesting(summary: dict, name: str) -> bool:
    """Does the summary say `name` gives a value made by an op a rule is about (a sigmoid, a
    softmax...)? If not, checking an importing file again with it changes nothing."""
    names = summary.get("names") if isinstance(summary, dict) else None
    if not isinstance(names, dict):
        return False
    ops: set = set()
    called = _called(name)
    if called:  # a call the check looked through: its shape, or a constant it gives
        name, wanted = called
        entry = names.get(name)
        callee = entry.get("callee") if isinstance(entry, dict) else None
        if isinstance(callee, dict):
            roots = [shape["e"].get("op", {}).get("op") for shape in valid_shapes(callee.get("shape"))]
            if wanted in roots or (not wanted and roots and (any(roots) or callee.get("output"))):
                return True  # (a guard reads what the call gives: its facts, or a shape's)
    if name:
        _ops_in(names.get(name), ops, 0)
    else:  # `import pkg.model as m`: anything of the module
        for entry in names.values():
            _ops_in(entry, ops, 0)
    return bool(ops & set(EXPORTED_OPS))


# -- shapes: what a function's `return` computes, for the matcher and predicates of another module --
#
# A rule rooted at an operator (`log(exp(a) + exp(b))`, `mean(x**2) - mean(x)**2`, `sqrt(d)` where
# `d` is an expanded square distance) needs the expression a helper returns, not only the op that
# made it. A shape is that expression as JSON: a tree of a few node kinds that mirror libcst's
# (binary and unary operators, calls, method calls, attributes, subscripts, numbers), each with
# the canonical view (`ops.Term`) the defining module's viewer had of it, the function's parameters
# as holes that a call's arguments fill, the function's single-assignment locals inlined, and
# anything else opaque: a name with the facts (`encode`) the defining module knows of it. The
# importing file builds fresh libcst nodes from it for each call (`build_shape`), so the matcher
# and predicates see through the call as through a helper of their own module; those nodes are
# never in the file's text, so what matches through them is advice, never a fix.

SHAPE_NODES = 64  # nodes of one returned expression at most
_SHAPE_DEPTH = 12
_SHAPE_RETURNS = 3
SHAPE_OPERATORS = {"+": cst.Add, "-": cst.Subtract, "*": cst.Multiply, "/": cst.Divide,
                   "**": cst.Power, "@": cst.MatrixMultiply}  # a shape's binary operators, and their nodes
_OPERATOR_NAMES = {kind: symbol for symbol, kind in SHAPE_OPERATORS.items()}


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class _Shaper:
    """Writes the shapes of one function's returns, reading the defining module's analysis."""

    def __init__(self, analysis, scope, place) -> None:
        self.analysis = analysis
        self.scope = scope
        self.place = place
        self.nodes = 0

    def shapes(self) -> List[dict]:
        found = []
        for ret in self.scope.returns[:_SHAPE_RETURNS]:
            if ret.value is None:
                continue
            self.nodes = 0
            tree = self._node(ret.value, 0, 0)
            if tree is not None and tree.get("t") != "o":
                found.append({"at": self.place(self._made(ret.value)), "e": tree})
        return found

    def _made(self, node):
        """Where a returned value is made: `q = exp(a) + exp(b); return q` is made where q is."""
        from numlint.flow import ASSIGN

        for _ in range(4):
            definitions = self.analysis.definitions(node) if isinstance(node, cst.Name) else ()
            if len(definitions) != 1 or definitions[0].kind != ASSIGN or definitions[0].value is None \
                    or definitions[0].path or definitions[0].scope is not self.scope:
                break
            node = definitions[0].value
        return node

    def _opaque(self, node) -> dict:
        from numlint.ops import shape_key

        out = {"t": "o", "h": _digest(shape_key(node))}
        facts = encode(self.analysis.value(node), self.place, 2)
        if facts:
            out["v"] = facts
        term = self.analysis.viewer.view(node)
        if term is not None and not term.args:  # a constant: `np.inf`, `float("nan")`
            out["op"] = {"op": term.op, "s": term.style, "fw": list(term.frameworks), "args": {}}
        return out

    def _node(self, node, depth: int, inlined: int) -> Optional[dict]:
        from numlint.ops import number

        self.nodes += 1
        if self.nodes > SHAPE_NODES or depth > _SHAPE_DEPTH:
            return None
        literal = number(node)
        if literal is not None:
            if not math.isfinite(literal):
                return self._opaque(node)
            integer = isinstance(node, cst.Integer) or (isinstance(node, cst.UnaryOperation)
                                                        and isinstance(node.expression, cst.Integer))
            return {"t": "n", "v": literal, "i": integer}
        if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
            return {"t": "w", "w": node.value}
        if isinstance(node, cst.Name):
            return self._name(node, depth, inlined)
        out: Optional[dict] = None
        kids: List[Tuple[object, dict]] = []  # (libcst node, its shape), in the order of "k"
        if isinstance(node, cst.BinaryOperation) and type(node.operator) in _OPERATOR_NAMES:
            out = {"t": "b", "o": _OPERATOR_NAMES[type(node.operator)]}
            parts = [node.left, node.right]
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            out, parts = {"t": "u"}, [node.expression]
        elif isinstance(node, cst.Attribute) and self.analysis.viewer.imports.qualify(node) is None:
            out, parts = {"t": "a", "a": node.attr.value}, [node.value]
        elif isinstance(node, cst.Subscript) and len(node.slice) <= 4 and all(
                isinstance(e.slice, (cst.Index, cst.Slice)) for e in node.slice):
            # `x[i]`, `x[:n]`, `x[:, idx]`: each element an index ("i") or a slice ("s" and which of
            # lower, upper, step it has), their expressions after the subscripted value in "k"
            out, parts, elements = {"t": "s"}, [node.value], []
            for element in node.slice:
                part = element.slice
                if isinstance(part, cst.Index):
                    if part.star is not None:
                        return self._opaque(node)
                    elements.append("i")
                    parts.append(part.value)
                else:
                    bounds = [part.lower, part.upper, part.step]
                    elements.append("s" + "".join("1" if b is not None else "0" for b in bounds))
                    parts += [b for b in bounds if b is not None]
            out["e"] = elements
        elif isinstance(node, cst.Call) and _negated_constant(self.analysis.viewer.view(node)):
            # `float("-inf")`: minus a constant the viewer made (`float("inf")`)
            out, parts = {"t": "u"}, [self.analysis.viewer.view(node).args["x"].node]
        elif isinstance(node, cst.Call) and not any(arg.star for arg in node.args):
            func = node.func
            term = self.analysis.viewer.view(node)
            if isinstance(func, cst.Attribute) and self.analysis.viewer.imports.qualify(func) is None:
                out, parts = {"t": "m", "a": func.attr.value}, [func.value]
            elif term is not None and term.style == "function":
                out, parts = {"t": "f", "q": term.qualname or ""}, []
            else:
                return self._opaque(node)
            out["kw"] = [arg.keyword.value if arg.keyword is not None else None for arg in node.args]
            parts += [arg.value for arg in node.args]
        else:
            return self._opaque(node)
        shaped = []
        for part in parts:
            sub = self._node(part, depth + 1, inlined)
            if sub is None:
                return None
            shaped.append(sub)
            kids.append((part, sub))
        out["k"] = shaped
        term = self.analysis.viewer.view(node)
        if term is not None:
            args = {}
            for name, arg in term.args.items():
                ref = next((i for i, (part, _) in enumerate(kids) if part is arg.node), None)
                if ref is not None and (not arg.synthetic or out["t"] == "u"):
                    args[name] = [ref, arg.keyword]
                else:
                    literal = number(arg.node)
                    if literal is None or not math.isfinite(literal):
                        return self._opaque(node)  # a default the shape cannot say: keep it opaque
                    args[name] = {"n": literal}
            out["op"] = {"op": term.op, "s": term.style, "fw": list(term.frameworks), "args": args}
        return out

    def _name(self, node, depth: int, inlined: int) -> Optional[dict]:
        from numlint.flow import ASSIGN, PARAM

        definitions = self.analysis.definitions(node)
        if len(definitions) == 1:
            d = definitions[0]
            if d.kind == PARAM and d.scope is self.scope and d.node is not None and not d.node.star:
                out = {"t": "p", "i": self.scope.params.index(d), "n": d.name}
                if d.value is not None:
                    default = self._node(d.value, depth + 1, inlined)
                    if default is not None and default.get("t") != "p":
                        out["d"] = default
                return out
            if d.kind == ASSIGN and d.value is not None and not d.path and d.scope is self.scope and inlined < 4:
                return self._node(d.value, depth, inlined + 1)  # a local: `q = ...; return q`
        return self._opaque(node)


def _negated_constant(term) -> bool:
    return term is not None and term.op == "neg" and "x" in term.args and term.args["x"].synthetic


def shapes_of(analysis, scope, place) -> List[dict]:
    """The shapes of what a function returns (at most three `return`s, each bounded)."""
    return _Shaper(analysis, scope, place).shapes()


def valid_shapes(data) -> Tuple[dict, ...]:
    """The shapes of a summary that have the expected form (the rest are dropped)."""
    if not isinstance(data, list):
        return ()
    found = []
    for item in data[:_SHAPE_RETURNS]:
        if not isinstance(item, dict):
            continue
        budget = [SHAPE_NODES]
        if _valid(item.get("e"), 0, budget):
            found.append({"at": item.get("at") if isinstance(item.get("at"), str) else None, "e": item["e"]})
    return tuple(found)


def _valid(data, depth: int, budget: List[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0 or depth > _SHAPE_DEPTH or not isinstance(data, dict):
        return False
    kind = data.get("t")
    if kind == "n":
        return _finite(data.get("v")) and isinstance(data.get("i"), bool)
    if kind == "p":
        ok = isinstance(data.get("i"), int) and not isinstance(data.get("i"), bool) and 0 <= data["i"] < 256 \
            and isinstance(data.get("n"), str) and data["n"].isidentifier()
        return ok and ("d" not in data or _valid(data["d"], depth + 1, budget))
    if kind == "w":
        return data.get("w") in ("True", "False", "None")
    if kind == "o":
        return isinstance(data.get("h"), str) and data["h"].isalnum() and _valid_term(data.get("op"), 0, True)
    kids = data.get("k")
    if not isinstance(kids, list) or not all(_valid(k, depth + 1, budget) for k in kids):
        return False
    if kind == "b":
        shape_ok = data.get("o") in SHAPE_OPERATORS and len(kids) == 2
    elif kind == "u":
        shape_ok = len(kids) == 1
    elif kind == "a":
        shape_ok = isinstance(data.get("a"), str) and data["a"].isidentifier() and len(kids) == 1
    elif kind == "s":
        elements = data.get("e")
        shape_ok = isinstance(elements, list) and 1 <= len(elements) <= 4 and all(
            e == "i" or (isinstance(e, str) and len(e) == 4 and e[0] == "s" and set(e[1:]) <= {"0", "1"})
            for e in elements) and len(kids) == 1 + sum(1 if e == "i" else e.count("1") for e in elements)
    elif kind in ("m", "f"):
        keywords = data.get("kw")
        receiver = 1 if kind == "m" else 0
        shape_ok = isinstance(keywords, list) and len(keywords) == len(kids) - receiver and all(
            k is None or (isinstance(k, str) and k.isidentifier()) for k in keywords)
        shape_ok = shape_ok and (kind == "f" and isinstance(data.get("q"), str)
                                 or kind == "m" and isinstance(data.get("a"), str) and data["a"].isidentifier())
    else:
        return False
    return shape_ok and _valid_term(data.get("op"), len(kids), True)


def _valid_term(data, kids: int, optional: bool) -> bool:
    if data is None:
        return optional
    if not isinstance(data, dict) or not isinstance(data.get("op"), str) or not isinstance(data.get("s"), str):
        return False
    if not isinstance(data.get("fw"), list) or not all(isinstance(f, str) for f in data["fw"]):
        return False
    args = data.get("args")
    if not isinstance(args, dict):
        return False
    for name, ref in args.items():
        if not isinstance(name, str):
            return False
        if isinstance(ref, list):
            if len(ref) != 2 or not isinstance(ref[0], int) or isinstance(ref[0], bool) or not 0 <= ref[0] < kids \
                    or not isinstance(ref[1], bool):
                return False
        elif not (isinstance(ref, dict) and _finite(ref.get("n"))):
            return False
    return True


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
