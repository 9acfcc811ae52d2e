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

import math
from typing import Callable, Dict, Iterable, List, Mapping, Optional

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


def summarize(analysis, place: Callable[[object], Optional[str]]) -> dict:
    """The summary of the module `analysis` analysed. `place(node)` names where a node is
    (`path:row`), for producers."""
    module = analysis.flow.module_scope
    names: Dict[str, dict] = {}
    for name, definitions in module.definitions.items():
        if any(d.kind == IMPORT for d in definitions) and len(definitions) == 1:
            continue  # re-exported names are summarised by their own module
        value = join_all(_exported(analysis, d) for d in definitions if d.kind != IMPORT)
        encoded = encode(value, place)
        if encoded:
            names[name] = encoded
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
        facts["callee"] = Callee(callee["kind"], output=decode(callee.get("output"), depth + 1))
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
                _ops_in(names.get(name), ops, 0)
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


def interesting(summary: dict, name: str) -> bool:
    """Does the summary say `name` gives a value made by an op a rule is about (a sigmoid, a
    softmax...)? If not, checking an importing file again with it changes nothing."""
    names = summary.get("names") if isinstance(summary, dict) else None
    if not isinstance(names, dict):
        return False
    ops: set = set()
    if name:
        _ops_in(names.get(name), ops, 0)
    else:  # `import pkg.model as m`: anything of the module
        for entry in names.values():
            _ops_in(entry, ops, 0)
    return bool(ops & set(EXPORTED_OPS))
