"""The one question every rule asks — what is this value? — and its one answer.

`Analysis` answers two forms of it for any expression of a file, from what `flow.py` collected:

- `origins(node)`: the expressions of this file the value comes from, each where it is read —
  through names (every definition that reaches the read), `self` attributes (every assignment
  in the class), unpacking, the `return`s of a function or method of the file, and what every
  call site passes to a parameter. The matcher looks through these, and a fix can use one when it
  is the only one and lives in the same scope.
- `value(node)`: the facts (`values.Value`): the op that produced it, seen through ops that keep
  its elements, range and sign, dtype, gradients, and what calling it runs. Predicates read them.

Both are computed on demand and remembered, so each expression is analysed at most once per
file. A value that depends on itself (a loop through a helper, a recursive function) is unknown.
"""

from __future__ import annotations

import builtins
import math
import sys
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from numlint import bindings
from numlint.flow import (
    ASSIGN, AUGMENTED, CHANGED, CLASS, FUNCTION, IMPORT, LOOP, PARAM, PLAIN, Definition, FileFlow, Read,
    Region, Scope, children, subtree,
)
from numlint.ops import LAYER_INPUT, Arg, Term, Viewer, number
from numlint.values import (
    BOOL, INF, INTEGER, UNKNOWN, UNKNOWN_DTYPE, Callee, Producer, Range, Shift, Value, join_all,
)
from numlint.values import number as number_value
from numlint.summaries import SHAPE_OPERATORS, decode

_NO_AUTOGRAD = frozenset({"numpy", "scipy", "math"})
_ARRAY_ARGS = ("x", "y", "target", "condition", "value", "mask")
_CALLED_METHODS = ("forward", "__call__", "call")  # what calling a module instance runs
_MAX_DEPTH = 40  # nested value questions; deeper is unknown (and never a recursion error)
_UNIT = Range.closed(-1.0, 1.0)
_PROBABILITY_OPEN = Range(0.0, 1.0, False, False)
_NONNEGATIVE = Range(0.0, INF, True, False)
_POSITIVE = Range(0.0, INF, False, False)
_NONPOSITIVE = Range(-INF, 0.0, False, True)


@dataclass(frozen=True)
class Origin:
    """An expression a value comes from, and the scope its names are read in."""

    value: cst.BaseExpression
    scope: Scope
    definition: Optional[Definition]  # for a name or attribute: the definition it is
    how: str  # "name", "attribute", "element", "return", "argument", "producer", "converted", "imported"
    producer: Optional[Producer] = None  # for "producer": the op that made it, and how it travelled


def _converted(node: cst.Call, qualname: Optional[str]) -> Optional[cst.BaseExpression]:
    """The argument of `float(x)` (a number's own value, the only element of a one-element
    array's): what the call gives is what x is. (`int(x)` truncates: not the same value.)"""
    if qualname != "builtins.float" or len(node.args) != 1:
        return None
    arg = node.args[0]
    if arg.keyword is not None or arg.star or isinstance(arg.value, cst.SimpleString):
        return None
    return arg.value


class Analysis:
    def __init__(self, flow: FileFlow, viewer: Optional[Viewer] = None, project=None) -> None:
        self.flow = flow
        self.project = project  # summaries.ProjectIndex: what other modules of the project export
        self.asked: Set[str] = set()  # qualified names of other modules this file's values depend on
        self.viewer = viewer if viewer is not None else Viewer(flow.imports)
        self.viewer.analysis = self
        self._values: Dict[int, Value] = {}
        self._definition_values: Dict[int, Value] = {}
        self._busy: Set[int] = set()
        self._depth = 0
        self._returns: Dict[int, Value] = {}
        self._scope_of_node: Dict[int, Scope] = {}
        self._built: Dict[int, tuple] = {}  # call -> (origins built from its shapes, the nodes kept alive)
        self.wanting: Optional[str] = None  # the op the matcher looks for through the origins it asks
        # nodes built from another module's shapes -> where that module makes the value (`m.py:12`)
        self.imported: Dict[int, str] = {}

    # -- where a node is read ---------------------------------------------------------------------
    def scope_of(self, node: cst.CSTNode) -> Optional[Scope]:
        """The scope a node's names are read in, when the walk saw the node."""
        if isinstance(node, cst.Name):
            read = self.flow.reads.get(id(node))
            return read.scope if read is not None else None
        found = self.flow.scope_of.get(id(node))
        if found is not None:
            return found
        for sub in subtree(node):
            if isinstance(sub, cst.Name) and id(sub) in self.flow.reads:
                return self.flow.reads[id(sub)].scope
        return None

    def order_of(self, node: cst.CSTNode) -> Optional[int]:
        """Where in the file's order a node is read (its first read name, for other nodes)."""
        if isinstance(node, cst.Name):
            read = self.flow.reads.get(id(node))
            return read.order if read is not None else None
        found = self.flow.order_of.get(id(node))
        if found is not None:
            return found
        for sub in subtree(node):
            if isinstance(sub, cst.Name) and id(sub) in self.flow.reads:
                return self.flow.reads[id(sub)].order
        return None

    def region(self, node: cst.CSTNode) -> Region:
        if isinstance(node, cst.Name):
            read = self.flow.reads.get(id(node))
            return read.region if read is not None else PLAIN
        return self.flow.region_of.get(id(node), PLAIN)

    def definitions(self, name: cst.Name) -> Tuple[Definition, ...]:
        read = self.flow.reads.get(id(name))
        return read.definitions if read is not None else ()

    # -- sameness ----------------------------------------------------------------------------------
    def key(self, node: cst.CSTNode, arguments: int = 0) -> str:
        """A node's structure, parentheses and layout ignored, with each name read tied to the
        definitions that reach it: `x` in one function is not `x` in another, and `m` before and
        after `m = m - 1` are different values. With `arguments` > 0, a parameter that every call
        site passes one same expression is that expression (a helper's `v[:n]` is the caller's
        `vector[:length]`), that many calls deep."""
        parts: List[str] = []
        stack = [node]
        reads = self.flow.reads
        while stack:
            sub = stack.pop()
            if arguments and isinstance(sub, cst.Name):
                read = reads.get(id(sub))
                passed = self._passed(read.definitions) if read is not None else None
                if passed is not None:  # the parameter is what the call site passes
                    parts.append(self.key(passed, arguments - 1))
                    continue
            parts.append(type(sub).__name__)
            if isinstance(sub, cst.Name):
                parts.append(sub.value)
                read = reads.get(id(sub))
                if read is not None and read.definitions:
                    parts.append(",".join(str(id(d)) for d in read.definitions))
            elif isinstance(sub, (cst.Integer, cst.Float, cst.Imaginary)):
                parts.append(sub.value)
            elif isinstance(sub, cst.SimpleString):
                parts.append(sub.value)
            operator = getattr(sub, "operator", None)
            if operator is not None:
                parts.append(type(operator).__name__)
            kids = children(sub)
            parts.append(str(len(kids)))
            stack.extend(reversed(kids))
        return " ".join(parts)

    def _passed(self, definitions) -> Optional[cst.BaseExpression]:
        """The one expression every call site passes to this parameter, if it is one."""
        if len(definitions) != 1 or definitions[0].kind != PARAM:
            return None
        passed = self._arguments(definitions[0])
        return passed[0][0] if len(passed) == 1 else None

    def same(self, a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
        """Do two expressions hold the same value: the same structure over the same definitions,
        directly or after following single origins (a name to the one expression it holds, a
        parameter to the one argument its call site passes)?"""
        if not self._chain(a).isdisjoint(self._chain(b)):
            return True
        return self.key(a, 2) == self.key(b, 2)  # through the parameters of a helper

    def _chain(self, node: cst.BaseExpression, depth: int = 4) -> Set[str]:
        keys = {self.key(node)}
        for _ in range(depth):
            origins = self.origins(node) if isinstance(node, (cst.Name, cst.Attribute)) else ()
            if len(origins) != 1:
                break
            node = origins[0].value
            keys.add(self.key(node))
        return keys

    # -- origins: the expressions a value comes from ------------------------------------------------
    def origins(self, node: cst.BaseExpression, path: Tuple[int, ...] = ()) -> Tuple[Origin, ...]:
        if isinstance(node, cst.Name):
            found: List[Origin] = []
            for definition in self.definitions(node):
                found.extend(self._definition_origins(definition, path))
            return tuple(found)
        if isinstance(node, cst.Attribute):
            found = []
            for definition in self._attribute_definitions(node):
                found.extend(self._definition_origins(definition, path, "attribute"))
            return tuple(found)
        if isinstance(node, cst.Call) and self.viewer.view(node) is None:
            converted = _converted(node, self.viewer.imports.qualify(node.func))
            if converted is not None:  # `float(p)`: the number p is
                return (Origin(converted, self.scope_of(node) or self.flow.module_scope, None, "converted"),)
            scope = self._callee_scope(node)
            if scope is None:
                return self._imported_origins(node) if not path else ()
            found = []
            for ret in scope.returns:
                if ret.value is not None:
                    found.extend(self._element_origins(ret.value, scope, path, None, "return"))
            return tuple(found)
        if isinstance(node, (cst.Tuple, cst.List)) and path:
            return self._element_origins(node, self.scope_of(node), path, None, "element")
        return ()

    def _imported_origins(self, node: cst.Call) -> Tuple[Origin, ...]:
        """A call of a function of another module of the project: the expressions it returns,
        built from the shapes its summary gives (summaries.py), the call's arguments in the places
        of its parameters. Without a summary (the run's first phase), the call is noted, so that
        the second phase checks this file again with the shapes of what it calls."""
        key = id(node)
        if key in self._built:
            return self._built[key][0]
        callee = self.value(node.func).callee
        shapes = callee.shape if callee is not None and callee.scope is None and callee.kind == "function" else ()
        if not shapes:
            qualname = self.viewer.imports.qualify(node.func)
            if qualname is not None and qualname in self.asked:
                # `pkg.m.f(add)`: the matcher wanted an `add` there; `pkg.m.f()`: a guard or a predicate looked
                self.asked.add(f"{qualname}({self.wanting or ''})")
            return ()
        scope = self.scope_of(node) or self.flow.module_scope
        built = _ShapeBuilder(self, node)
        found = []
        for shape in shapes:
            expression = built.build(shape["e"])
            if expression is not None:
                found.append(Origin(expression, scope, None, "imported"))
                built.places[id(expression)] = shape.get("at") or "another module"
        self._built[key] = (tuple(found), built.keep)
        self.imported.update(built.places)
        return tuple(found)

    def noted_call(self, node: cst.BaseExpression) -> Tuple[Origin, ...]:
        """A guard reads what `node` gives: when it is a call of another module's function, note it
        (the second phase checks the file again with what the function's summary says). The
        expressions it returns there, when the summary has them."""
        if not isinstance(node, cst.Call) or not isinstance(node.func, (cst.Name, cst.Attribute)):
            return ()
        qualname = self.viewer.imports.qualify(node.func)  # a project's function is named by an import
        if qualname is None or qualname.startswith("builtins.") or bindings.framework_of_module(qualname) is not None:
            return ()
        if self.viewer.view(node) is None and self._callee_scope(node) is None:
            return self._imported_origins(node)
        return ()

    def _definition_origins(self, definition: Definition, path: Tuple[int, ...], how: str = "name") -> Tuple[Origin, ...]:
        if definition.kind == ASSIGN and definition.value is not None:
            full = definition.path + path
            if not full:
                return (Origin(definition.value, definition.value_in, definition, how),)
            return self._element_origins(definition.value, definition.value_in, full, definition, "element")
        if definition.kind == PARAM and not path:
            return tuple(Origin(value, scope, None, "argument") for value, scope in self._arguments(definition))
        return ()

    def _element_origins(self, node, scope, path, definition, how) -> Tuple[Origin, ...]:
        if not path:
            return (Origin(node, scope, definition, how),)
        if isinstance(node, (cst.Tuple, cst.List)):
            index = path[0]
            elements = node.elements
            if any(isinstance(e, cst.StarredElement) for e in elements[:index + 1]) or index >= len(elements):
                return ()
            return self._element_origins(elements[index].value, scope, path[1:], definition, how)
        if isinstance(node, (cst.Name, cst.Call, cst.Attribute)):
            return self.origins(node, path)
        return ()

    def accumulations(self, node: cst.BaseExpression) -> Tuple[Origin, ...]:
        """The terms of a sum built by `+=`: `r = 0.0` then `r += exp(x)` in a loop, or
        `self.total = 0.0` in `__init__` and `self.total += x` in `update`, hold `sum(...)` of
        what is added (each `+=` gives one Origin, its added expression). Only when every other
        definition reaching `node` is a 0 and every `+=` adds to nothing but those and itself."""
        if isinstance(node, cst.Name):
            definitions = self.definitions(node)
        elif isinstance(node, cst.Attribute):
            definitions = self._attribute_definitions(node)
        else:
            return ()
        added = [d for d in definitions if d.kind == AUGMENTED and isinstance(d.value, cst.AugAssign)
                 and isinstance(d.value.operator, cst.AddAssign)]
        if not added:
            return ()
        known = set(map(id, definitions))
        for d in definitions:
            if d.kind == AUGMENTED and d in added:
                continue
            if d.kind != ASSIGN or d.path or d.value is None or number(d.value) != 0:
                return ()
        for d in added:
            base = d.base
            if d.attribute and d.scope.owner_class is not None:
                base = tuple(o for o in d.scope.owner_class.attributes.get(d.name, ()) if o is not d)
            if not base or any(id(b) not in known for b in base):
                return ()
            if not d.attribute and d not in base:
                return ()  # not in a loop: `r = 0; r += x` is x
        return tuple(Origin(d.value.value, d.value_scope or d.scope, d, "accumulated") for d in added)

    def _attribute_definitions(self, node: cst.Attribute) -> Tuple[Definition, ...]:
        """`self.attr` in a method (every assignment in the class), or `obj.attr` of an instance
        of a class of this file."""
        local = self.flow.attribute_reads.get(id(node))
        if local is not None:
            return local  # set earlier in the same method
        owner = self._instance_class(node.value)
        if owner is None:
            return ()
        return tuple(owner.attributes.get(node.attr.value, ()))

    def _instance_class(self, node: cst.BaseExpression) -> Optional[Scope]:
        if isinstance(node, cst.Name) and node.value == "self":
            scope = self.scope_of(node)
            while scope is not None and scope.kind in ("lambda", "comprehension"):
                scope = scope.parent
            if scope is not None and scope.owner_class is not None:
                return scope.owner_class
            return None
        callee = self.value(node).callee
        return callee.scope if callee is not None and callee.kind == "instance" else None

    def _callee_scope(self, node: cst.Call) -> Optional[Scope]:
        """The function of this file a call runs (a function, a method, an instance's forward)."""
        callee = self.value(node.func).callee
        if callee is None or callee.scope is None:
            return None  # unknown, or from another module's summary (no expressions of this file)
        if callee.kind == "function":
            return callee.scope
        if callee.kind == "instance":
            return _forward(callee.scope)
        return None

    def call_parameters(self, node: cst.Call) -> Tuple[Optional[Scope], List[Tuple[str, Optional[cst.BaseExpression]]]]:
        """The function of this file a call runs, and each of its parameters (`self` left out)
        with the expression this call passes it (None: left out, or behind `*args`)."""
        scope = self._callee_scope(node)
        if scope is None:
            return None, []
        params = scope.params
        if scope.owner_class is not None and params and params[0].name in ("self", "cls"):
            params = params[1:]
        passed = []
        for index, param in enumerate(params):
            argument = _argument(node, index, param.name)
            passed.append((param.name, argument if isinstance(argument, cst.BaseExpression) else None))
        return scope, passed

    def passed_through(self, node: cst.Call) -> Optional[cst.BaseExpression]:
        """The argument of this call that the function of this file it calls returns as it is
        (`def same(c): return c`, every return): what this call gives is that argument."""
        scope, passed = self.call_parameters(node)
        if scope is None or not scope.returns or not all(isinstance(r.value, cst.Name) for r in scope.returns):
            return None
        names = {ret.value.value for ret in scope.returns}
        if len(names) != 1:
            return None
        name = names.pop()
        if len(scope.definitions.get(name, ())) != 1:
            return None  # reassigned in the body: not the argument any more
        return next((argument for param, argument in passed if param == name), None)

    def constructor(self, func: cst.BaseExpression) -> Optional[cst.Call]:
        """The call that built the layer or loss `func` names, when every path agrees:
        `criterion` after `criterion = nn.BCELoss()`, `self.act` after `self.act = nn.Softmax(1)`."""
        origins = self.origins(func)
        calls = {id(o.value): o.value for o in origins if isinstance(o.value, cst.Call)}
        if len(origins) != 1 or len(calls) != 1:
            return None
        call = next(iter(calls.values()))
        inner = self.constructor(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) and \
            self.viewer.imports.qualify(call.func) is None else None
        return inner or call

    def _arguments(self, param: Definition) -> List[Tuple[cst.BaseExpression, Scope]]:
        """What the module's call sites pass to a parameter of one of its functions, when every call
        site is known and passes it plainly (else nothing: a caller elsewhere may pass anything).
        The default counts where a call leaves the parameter out."""
        function = param.scope
        if function.kind != "function" or not isinstance(function.node, cst.FunctionDef):
            return []
        name = function.node.name.value
        params = function.params
        index = params.index(param) if param in params else -1
        owner = function.parent
        if owner is not None and owner.kind == "class":
            if index == 0:
                return []  # `self`
            calls = self.flow.method_calls.get(name, [])
            index -= 1
        else:
            calls = self.flow.calls_by_name.get(name, [])
            if owner is None or owner.functions.get(name) is not function or len(owner.definitions.get(name, ())) != 1:
                return []
        if not calls or param.node is None or param.node.star:
            return []
        found = []
        for call in calls:
            argument = _argument(call, index, param.name)
            if argument is _STAR:
                return []
            scope = self.scope_of(call.func) or self.flow.module_scope
            if argument is None:
                if param.value is None:
                    return []
                found.append((param.value, param.value_in))
            else:
                found.append((argument, scope))
        return found

    # -- values: the facts --------------------------------------------------------------------------
    def value(self, node: cst.BaseExpression) -> Value:
        key = id(node)
        found = self._values.get(key)
        if found is not None:
            return found
        if key in self._busy or self._depth > _MAX_DEPTH:
            return UNKNOWN  # depends on itself, or too deep to follow
        self._busy.add(key)
        self._depth += 1
        try:
            result = self._compute(node)
        finally:
            self._depth -= 1
            self._busy.discard(key)
        self._values[key] = result
        return result

    def value_of_definition(self, definition: Definition) -> Value:
        key = id(definition)
        found = self._definition_values.get(key)
        if found is not None:
            return found
        if key in self._busy or self._depth > _MAX_DEPTH:
            return UNKNOWN
        self._busy.add(key)
        self._depth += 1
        try:
            result = self._definition(definition)
        finally:
            self._depth -= 1
            self._busy.discard(key)
        self._definition_values[key] = result
        return result

    def _definition(self, d: Definition) -> Value:
        kind = d.kind
        if kind == ASSIGN:
            if d.value is None:
                return UNKNOWN
            return _element(self.value(d.value), d.path)
        if kind == AUGMENTED:
            base = d.base
            if not base and d.attribute and d.scope.owner_class is not None:
                base = tuple(o for o in d.scope.owner_class.attributes.get(d.name, ()) if o is not d)
            before = join_all(self.value_of_definition(b) for b in base)
            operator = type(d.value.operator).__name__.replace("Assign", "")
            return self._arithmetic(_AUGMENTED_OPS.get(operator), before, self.value(d.value.value), d.value)
        if kind == CHANGED:
            return self._changed(d)
        if kind == PARAM:
            return self._parameter(d)
        if kind == LOOP:
            iterable = self.value(d.value) if d.value is not None else UNKNOWN
            element = _element_of(iterable)
            return _element(element, d.path)
        if kind == FUNCTION:
            scope = d.scope.functions.get(d.name) if d.node is not None else None
            return Value(callee=Callee("function", scope=scope, key=id(scope))) if scope is not None else UNKNOWN
        if kind == CLASS:
            scope = d.scope.classes.get(d.name)
            return Value(callee=Callee("class", scope=scope, key=id(scope))) if scope is not None else UNKNOWN
        return UNKNOWN  # imports, with-as, except-as, starred targets: not followed here

    def _changed(self, d: Definition) -> Value:
        before = join_all(self.value_of_definition(b) for b in d.base) if d.base else UNKNOWN
        node = d.node
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in ("append", "insert", "add_module") and node.args:
                added = self.value(node.args[-1].value)
                return Value(last=added, producers=before.producers, may_tags=before.may_tags | {"list"})
            if method == "extend" and node.args:
                added = self.value(node.args[0].value)
                return Value(last=added.last or _element_of(added), may_tags=before.may_tags | {"list"})
            return self.value(node)  # `x.clamp_(min=eps)`: what the call makes, from the old value
        # `p[mask] = v`: some entries replaced; what is known of all of them is the join
        stored = self.value(d.value) if d.value is not None else UNKNOWN
        joined = before.join(stored)
        return replace(joined, zero=before.zero and stored.zero, underflows=False, shift=None, constant=None,
                       producers=before.producers)

    def _parameter(self, d: Definition) -> Value:
        scope = d.scope
        if scope.kind == "function" and scope.owner_class is not None and scope.params and scope.params[0] is d:
            cls = scope.owner_class
            return Value(callee=Callee("instance", scope=cls, key=id(cls)))  # `self`
        arguments = self._arguments(d)
        if arguments:
            return join_all(self.value(value) for value, _ in arguments)
        return UNKNOWN

    def returned(self, scope: Scope) -> Value:
        """What a function or method returns: the join of its `return`s (None when it falls off)."""
        key = id(scope)
        found = self._returns.get(key)
        if found is not None:
            return found
        if key in self._busy:
            return UNKNOWN
        self._busy.add(key)
        try:
            values = [self.value(ret.value) for ret in scope.returns if ret.value is not None]
            result = join_all(values) if values else UNKNOWN
        finally:
            self._busy.discard(key)
        self._returns[key] = result
        return result

    # -- computing a node's value -------------------------------------------------------------------
    def _compute(self, node: cst.BaseExpression) -> Value:
        if isinstance(node, (cst.Name, cst.Attribute)):
            value = self._name(node) if isinstance(node, cst.Name) else self._attribute(node)
            word = node.value if isinstance(node, cst.Name) else node.attr.value
            if not value.range.known and value.callee is None and _EPS_NAME.match(word):
                # a value the code calls `eps`: a small positive guard, by the code's own word
                value = replace(value, range=Range(0.0, 1e-2, False, True), tags=value.tags | {"eps"}, nonzero=True)
            elif not value.producers and value.callee is None and _VARIANCE_NAME.match(word):
                # a value the code calls a variance (a parameter `variance`, `self.running_var`)
                value = replace(value, range=_NONNEGATIVE, zero=True, tags=value.tags | {"variance"},
                                may_tags=value.may_tags | {"variance"})
            return value
        if isinstance(node, cst.Call) and not node.args and isinstance(node.func, (cst.Name, cst.Attribute)) and \
                _EPS_NAME.match(node.func.value if isinstance(node.func, cst.Name) else node.func.attr.value):
            # `backend.epsilon()` (Keras' fuzz factor, 1e-7): a small positive guard, by the library's own word
            return Value(range=Range(0.0, 1e-2, False, True), tags=frozenset({"eps"}), nonzero=True, grad=False)
        literal = number(node)
        if literal is not None:
            return number_value(literal, isinstance(node, cst.Integer) or (
                isinstance(node, cst.UnaryOperation) and isinstance(node.expression, cst.Integer)))
        if isinstance(node, cst.Call):
            return self._call(node)
        if isinstance(node, cst.Subscript):
            return self._subscript(node)
        if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)):
            term = self.viewer.view(node)
            if term is not None:
                return self._term(term, node)
            if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
                return self._matmul(node, [self.value(node.left), self.value(node.right)])
            if isinstance(node, cst.UnaryOperation):
                inner = self.value(node.expression)
                if isinstance(node.operator, cst.BitInvert) and "mask" in inner.tags:
                    return inner  # `~mask`
                if isinstance(node.operator, cst.Plus):
                    return inner
                if isinstance(node.operator, cst.Not):
                    return _MASK
            return UNKNOWN
        if isinstance(node, cst.Comparison):
            return _MASK
        if isinstance(node, (cst.Tuple, cst.List)):
            return self._sequence(node)
        if isinstance(node, cst.IfExp):
            return self.value(node.body).join(self.value(node.orelse))
        if isinstance(node, cst.BooleanOperation):
            return self.value(node.left).join(self.value(node.right))
        if isinstance(node, cst.NamedExpr):
            return self.value(node.value)
        if isinstance(node, cst.SimpleString):
            dtype = bindings.dtype_name(_string(node))
            return Value(dtypes=frozenset({dtype}), tags=frozenset({"dtype"}), grad=False) if dtype else UNKNOWN
        if isinstance(node, cst.Lambda):
            scope = self.flow.lambda_scopes.get(id(node))
            return Value(callee=Callee("lambda", scope=scope, node=node, key=id(node))) if scope else UNKNOWN
        if isinstance(node, (cst.GeneratorExp, cst.ListComp)):
            term = self.viewer.view(node)
            if term is not None:
                return self._term(term, node)
            return Value(may_tags=frozenset({"list"}))
        return UNKNOWN

    def _name(self, node: cst.Name) -> Value:
        read = self.flow.reads.get(id(node))
        if read is None:
            return _KEYWORDS.get(node.value, UNKNOWN)
        if not read.definitions:
            if node.value in _KEYWORDS:
                return _KEYWORDS[node.value]
            return self._imported_value(node)
        accumulated = self.accumulations(node)
        if accumulated:  # a sum built in a loop holds its terms, not the 0 it starts from
            return join_all(self.value_of_definition(origin.definition) for origin in accumulated)
        return join_all(self.value_of_definition(d) for d in read.definitions
                        if d.kind != IMPORT) if any(d.kind != IMPORT for d in read.definitions) else self._imported_value(node)

    def _imported_value(self, node: cst.BaseExpression) -> Value:
        """A name or attribute naming something of a framework: a dtype, a constant."""
        qualname = self.viewer.imports.qualify(node)
        if qualname is None:
            return UNKNOWN
        exported = self._exported(qualname)
        if exported is not None:
            return exported
        dtype = bindings.DTYPES.get(qualname)
        if dtype is not None:
            return Value(dtypes=frozenset({dtype}), tags=frozenset({"dtype"}), grad=False)
        constant = bindings.CONSTANTS.get(qualname)
        if constant == "inf":
            return number_value(INF)
        if constant == "nan":
            return Value(constant=math.nan, literal=True, grad=False)
        if qualname in ("math.pi", "numpy.pi", "torch.pi", "jax.numpy.pi", "math.e", "numpy.e"):
            return number_value(math.pi if qualname.endswith("pi") else math.e)
        return UNKNOWN

    def _attribute(self, node: cst.Attribute) -> Value:
        name = node.attr.value
        definitions = self._attribute_definitions(node)
        if definitions:
            return join_all(self.value_of_definition(d) for d in definitions)
        owner = self._instance_class(node.value)
        if owner is not None:
            method = owner.method(name)
            if method is not None:
                return Value(callee=Callee("function", scope=method, key=id(method)))
            return UNKNOWN
        if self.viewer.imports.qualify(node) is not None:
            return self._imported_value(node)
        if name == "dtype":
            base = self.value(node.value)
            return Value(dtypes=base.dtypes, tags=frozenset({"dtype"}), grad=False)
        if name in ("shape", "ndim"):
            return Value(range=_NONNEGATIVE, zero=True, dtypes=frozenset({INTEGER}), tags=frozenset({"count"}),
                         may_tags=frozenset({"count"}), grad=False)
        if name in ("eps", "tiny", "smallest_normal", "resolution") and _is_finfo(node.value, self.viewer.imports):
            return Value(range=Range(0.0, 1e-2, False, True), grad=False, tags=frozenset({"eps"}))
        if name in ("min", "max") and _is_finfo(node.value, self.viewer.imports):
            big = 3.0e38
            return Value(range=Range.point(-big if name == "min" else big), grad=False, tags=frozenset({"finite_" + name}))
        effect = bindings.VALUE_ATTRIBUTES.get(name)
        if effect is not None:
            return self._effect(effect, self.value(node.value), node, name, ())
        return UNKNOWN

    def _subscript(self, node: cst.Subscript) -> Value:
        base = self.value(node.value)
        index = node.slice[0].slice if len(node.slice) == 1 else None
        if isinstance(index, cst.Index):
            position = number(index.value)
            if base.elements is not None and position is not None and float(position).is_integer():
                i = int(position)
                if -len(base.elements) <= i < len(base.elements):
                    return base.elements[i]
            if position == -1 and base.last is not None:
                return base.last
        if "count" in base.may_tags and isinstance(index, cst.Index):
            return base  # `x.shape[0]`
        return self._keep(base, "indexed")

    def _sequence(self, node) -> Value:
        elements = []
        starred = False
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                starred = True
                inner = self.value(element.value)
                elements.append(inner.last or _element_of(inner))
            else:
                elements.append(self.value(element.value))
        last = elements[-1] if elements else None
        return Value(elements=None if starred else tuple(elements), last=last,
                     may_tags=frozenset({"list"}), literal=bool(elements) and all(e.literal for e in elements),
                     constant=None, grad=False if elements and all(e.grad is False for e in elements) else None)

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, node: cst.Call) -> Value:
        term = self.viewer.view(node)
        if term is not None:
            return self._term(term, node)
        func = node.func
        qualname = self.viewer.imports.qualify(func)
        if qualname is not None and not (qualname.startswith("builtins.") and not hasattr(builtins, qualname[9:])):
            return self._library_call(node, qualname)
        if isinstance(func, cst.Attribute) and not _module_receiver(func.value, self.viewer.imports):
            effect = self._method_effect(func.attr.value)
            if effect is not None:
                receiver = self.value(func.value)
                if receiver.callee is None or effect in ("keep", "cast"):
                    return self._effect(effect, receiver, node, func.attr.value, node.args)
        callee = self.value(func).callee
        if callee is None:
            # a model the code does not show: in an autocast region it computes in half precision
            return self._module_output(UNKNOWN, node) if self.region(node).autocast else UNKNOWN
        return self._run(callee, node)

    def _run(self, callee: Callee, node: cst.Call) -> Value:
        """What calling `callee` gives."""
        if callee.scope is None and callee.kind in ("function", "instance"):
            # from another module's summary: what calling it gives is written down
            return self._module_output(callee.output or UNKNOWN, node) if callee.kind == "instance" \
                else callee.output or UNKNOWN
        if callee.scope is None and callee.kind == "class":
            return Value(callee=Callee("instance", output=callee.output))
        if callee.kind == "function":
            result = self.returned(callee.scope)
            return self._via(result, "returned")
        if callee.kind == "lambda":
            return self._via(self.value(callee.node.body), "returned")
        if callee.kind == "class":
            cls = callee.scope
            return Value(callee=Callee("instance", scope=cls, key=id(cls)), grad=None)
        if callee.kind == "instance":
            forward = _forward(callee.scope)
            if forward is None:
                return UNKNOWN
            return self._module_output(self._via(self.returned(forward), "returned"), node)
        if callee.kind == "layer":
            output = callee.output or UNKNOWN
            return self._module_output(output, node)
        return UNKNOWN

    def _module_output(self, output: Value, node: cst.Call) -> Value:
        """A model's output: its facts, in the autocast dtype where one is active."""
        region = self.region(node)
        if region.autocast is not None:
            output = replace(output, dtypes=frozenset({region.autocast}))
        if region.no_grad:
            output = replace(output, grad=False)
        return output

    def _exported(self, qualname: str) -> Optional[Value]:
        """What another module of the project says `qualname` is (and note that this file asked)."""
        top = qualname.split(".", 1)[0]
        if top == "builtins" or bindings.framework_of_module(qualname) is not None or top in _STDLIB:
            return None
        self.asked.add(qualname)
        return self.project.lookup(qualname) if self.project is not None else None

    def _library_call(self, node: cst.Call, qualname: str) -> Value:
        exported = self._exported(qualname)
        if exported is not None:
            return self._run(exported.callee, node) if exported.callee is not None else UNKNOWN
        effect = bindings.VALUE_FUNCTIONS.get(qualname)
        if effect is not None:
            kind, index = effect
            if kind == "join":
                argument = _positional(node, index)
                values = self.value(argument) if argument is not None else UNKNOWN
                elements = values.elements or ((values.last,) if values.last is not None else ())
                joined = join_all(elements) if elements else UNKNOWN
                return self._keep(joined, "joined")
            argument = _positional(node, index)
            if argument is None:
                return UNKNOWN
            rest = [a for a in node.args if a.value is not argument]
            return self._effect(kind, self.value(argument), node, qualname.rsplit(".", 1)[-1], rest)
        layer = self._layer(node, qualname)
        if layer is not None:
            return layer
        if qualname.rsplit(".", 1)[-1] in _GRIDS:
            default = bindings.DEFAULT_DTYPE.get(bindings.framework_of_module(qualname) or "")
            return Value(tags=frozenset({"grid"}), may_tags=frozenset({"grid"}), grad=False,
                         dtypes=self._dtype_argument(node) or frozenset({default or UNKNOWN_DTYPE}))
        if qualname == "builtins.len":
            return Value(range=_NONNEGATIVE, zero=True, dtypes=frozenset({INTEGER}), tags=frozenset({"count"}),
                         may_tags=frozenset({"count"}), grad=False)
        if qualname in ("builtins.max", "builtins.min") and len(node.args) >= 2 and not any(a.star for a in node.args):
            values = [self.value(a.value) for a in node.args if a.keyword is None]
            return _extremum(values, qualname.endswith("max"))
        if qualname in ("builtins.float", "builtins.int"):
            inner = self.value(node.args[0].value) if node.args else UNKNOWN
            return replace(inner, grad=False, producers=(), callee=None, elements=None)
        if qualname == "builtins.range":
            return Value(may_tags=frozenset({"range"}), elements=None,
                         last=Value(range=_NONNEGATIVE, dtypes=frozenset({INTEGER}), grad=False))
        return self._creation(node, qualname)

    def _creation(self, node: cst.Call, qualname: str) -> Value:
        """An array made by a framework function numlint has no facts for: its dtype, at least."""
        framework = bindings.framework_of_module(qualname)
        dtype = self._dtype_argument(node)
        if dtype is None:
            return UNKNOWN
        return Value(dtypes=dtype, grad=False if framework in _NO_AUTOGRAD else None)

    def _layer(self, node: cst.Call, qualname: str) -> Optional[Value]:
        """A layer or model built by this call (`nn.Sigmoid()`, `nn.Sequential(..., nn.Softmax(1))`,
        `Dense(1, activation="sigmoid")`): calling it gives the output its last layer makes."""
        framework = bindings.framework_of_module(qualname)
        if qualname in bindings.SEQUENTIAL:
            layers = [arg for arg in node.args if arg.keyword is None]
            if len(layers) == 1 and isinstance(layers[0].value, cst.List):
                layers = [cst.Arg(e.value) if not isinstance(e, cst.StarredElement) else cst.Arg(e.value, star="*")
                          for e in layers[0].value.elements]
            if not layers:
                return Value(callee=Callee("layer", output=UNKNOWN, node=node, key=id(node)))
            last = layers[-1]
            value = self.value(last.value)
            if last.star:
                value = value.last or UNKNOWN
            output = value.callee.output if value.callee is not None and value.callee.kind == "layer" else None
            if output is None and value.callee is not None:
                output = self._run(value.callee, node) if value.callee.kind in ("instance",) else None
            return Value(callee=Callee("layer", output=output or UNKNOWN, node=node, key=id(node)))
        output = self.viewer.layer_output(node, qualname)
        if output is not None:
            op, _, _ = output
            producer = Producer(op, node, self.scope_of(node), layer=True, key=id(node))
            return Value(callee=Callee("layer", output=self._op_facts(op, Value(producers=(producer,))), node=node,
                                       key=id(node)))
        if framework in ("torch", "keras", "tensorflow") and _looks_like_layer(qualname):
            return Value(callee=Callee("layer", output=Value(grad=True if framework == "torch" else None), node=node,
                                       key=id(node)))
        return None

    def _method_effect(self, method: str) -> Optional[str]:
        effects = bindings.VALUE_METHODS.get(method)
        if not effects:
            return None
        for framework in bindings.METHOD_PREFERENCE + ("keras", "scipy", "math"):
            if framework in effects and framework in self.viewer.frameworks:
                return effects[framework]
        return None

    def _effect(self, effect: str, base: Value, node, name: str, args) -> Value:
        if effect == "keep":
            return self._keep(base, name)
        if effect == "detach":
            return replace(self._keep(base, name), grad=False)
        if effect == "parameter":
            return replace(self._keep(base, name), grad=True, tags=base.tags | {"parameter"})
        if effect in ("cast", "cast_like"):
            dtype = self._cast_target(args, effect, node)
            kept = self._keep(base, name)
            return replace(kept, dtypes=dtype) if dtype else kept
        dtype = bindings.dtype_name(effect)
        if dtype is not None:
            return replace(self._keep(base, name), dtypes=frozenset({dtype}))
        return UNKNOWN

    def _cast_target(self, args, effect: str, node) -> Optional[frozenset]:
        for arg in args:
            if isinstance(arg, cst.Arg) and (arg.keyword is None or arg.keyword.value in ("dtype", "other", "tensor")):
                value = self.value(arg.value)
                if "dtype" in value.tags or effect == "cast_like":
                    known = value.dtypes - {UNKNOWN_DTYPE}
                    if known:
                        return frozenset(known)
            if isinstance(arg, cst.Arg) and arg.keyword is None and isinstance(arg.value, cst.Attribute):
                # `.type(torch.HalfTensor)`
                word = arg.value.attr.value.replace("Tensor", "")
                dtype = bindings.dtype_name(word)
                if dtype:
                    return frozenset({dtype})
        return None

    def _keep(self, base: Value, how: str) -> Value:
        """The same elements: every fact passes, the producers note the way."""
        if not base.producers:
            return replace(base, constant=base.constant if how != "indexed" else base.constant)
        return replace(base, producers=tuple(p.through(how) for p in base.producers))

    def _via(self, value: Value, how: str) -> Value:
        if not value.producers:
            return value
        return replace(value, producers=tuple(p.through(how) for p in value.producers))

    def _dtype_argument(self, node: cst.Call) -> Optional[frozenset]:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "dtype":
                value = self.value(arg.value)
                known = value.dtypes - {UNKNOWN_DTYPE}
                if "dtype" in value.tags and known:
                    return frozenset(known)
        return None

    # -- canonical ops ------------------------------------------------------------------------------
    def _term(self, term: Term, node) -> Value:
        if term.style == "layer":
            producer = Producer(term.op, node, self.scope_of(node), layer=True, key=id(node))
            return self._op_facts(term.op, Value(producers=(producer,), grad=None))
        op = term.op
        args = {name: self.value(arg.node) for name, arg in term.args.items() if not arg.synthetic}
        x = args.get("x", UNKNOWN)
        y = args.get("y", UNKNOWN)
        inputs = [args[name] for name in _ARRAY_ARGS if name in args]
        if op in ("add", "sub", "mul", "div", "pow", "square", "sqrt", "neg") and term.style == "operator":
            result = self._arithmetic(op, x, y, node, term)
        else:
            producer = Producer(op, node, self.scope_of(node), key=id(node))
            base = Value(producers=(producer,))
            result = self._op_facts(op, base, x, y, term, args)
        dtypes = self._result_dtypes(term, node, inputs, result)
        grad = self._result_grad(term, node, inputs)
        return replace(result, dtypes=dtypes, grad=grad)

    def _result_dtypes(self, term: Term, node, inputs: Sequence[Value], result: Value) -> frozenset:
        explicit = self._dtype_argument(node) if isinstance(node, cst.Call) else None
        if explicit:
            return explicit
        if result.dtypes != frozenset({UNKNOWN_DTYPE}):
            return result.dtypes
        arrays = [v for v in inputs if not v.literal]
        dtypes = frozenset().union(*(v.dtypes for v in arrays)) if arrays else frozenset({UNKNOWN_DTYPE})
        region = self.region(node)
        if region.autocast is not None and term.op in ("matmul",):
            return frozenset({region.autocast})
        if not arrays and term.op in _CREATED and len(term.frameworks) == 1:
            default = bindings.DEFAULT_DTYPE.get(term.frameworks[0])
            if default:
                return frozenset({default})
        return dtypes

    def _result_grad(self, term: Term, node, inputs: Sequence[Value]) -> Optional[bool]:
        if self.region(node).no_grad:
            return False
        if term.frameworks and all(f in _NO_AUTOGRAD for f in term.frameworks):
            return False
        if term.op in _CREATED and not inputs:
            return False
        flags = [v.grad for v in inputs if not v.literal]
        if any(flags):
            return True
        if flags and all(flag is False for flag in flags):
            return False
        return None

    def _matmul(self, node, inputs: List[Value]) -> Value:
        region = self.region(node)
        dtypes = frozenset().union(*(v.dtypes for v in inputs))
        if region.autocast is not None:
            dtypes = frozenset({region.autocast})
        grad = False if region.no_grad else (True if any(v.grad for v in inputs) else None)
        producer = Producer("matmul", node, self.scope_of(node), key=id(node))
        return Value(producers=(producer,), dtypes=dtypes, grad=grad)

    def _arithmetic(self, op: Optional[str], x: Value, y: Value, node, term: Optional[Term] = None) -> Value:
        """`+ - * / **` and unary minus: interval arithmetic and the facts each keeps."""
        result = self._arithmetic_facts(op, x, y, node, term)
        tags = set()
        if op == "neg" and "grid" in x.tags:
            tags.add("grid")
        if op in ("mul", "div") and isinstance(node, cst.BinaryOperation):
            # a grid scaled by a scalar (`-tau * arange(k)`, `linspace(...) / t`) is still a grid
            if "grid" in x.tags and isinstance(node.right, _SCALARS):
                tags.add("grid")
            if op == "mul" and "grid" in y.tags and isinstance(node.left, _SCALARS):
                tags.add("grid")
        if op == "sub" and x.constant == 1 and "mask" in y.tags:
            tags.add("mask")  # `1 - mask`
        if tags:
            result = replace(result, tags=result.tags | tags, may_tags=result.may_tags | tags)
        return result

    def _arithmetic_facts(self, op: Optional[str], x: Value, y: Value, node, term: Optional[Term] = None) -> Value:
        producer = (Producer(op, node, self.scope_of(node), key=id(node)),) if op else ()
        if op is None:
            return UNKNOWN
        literal = x.literal and (y.literal or op in ("neg", "square", "sqrt"))
        if op == "neg":
            r = x.range
            return Value(range=Range(-r.hi, -r.lo, r.hi_closed, r.lo_closed, r.rounded), zero=x.zero, nonzero=x.nonzero,
                         producers=producer, constant=-x.constant if x.constant is not None else None, literal=x.literal,
                         dtypes=x.dtypes, grad=x.grad)
        if op == "square":
            return self._op_facts("square", Value(producers=producer, literal=literal), x)
        if op == "sqrt":
            return self._op_facts("sqrt", Value(producers=producer, literal=literal), x)
        constant = None
        if x.constant is not None and y.constant is not None:
            try:
                constant = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                            "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}[op](x.constant, y.constant)
                constant = float(constant) if isinstance(constant, (int, float)) else None
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                constant = None
        if constant is not None and math.isfinite(constant):
            return replace(number_value(constant), literal=literal)
        if op == "add":
            r = _add(x.range, y.range)
            return Value(range=r, zero=x.zero and y.zero and r.contains_zero, underflows=False, producers=producer,
                         literal=literal, nonzero=r.positive or r.hi < 0)
        if op == "sub":
            r = _add(x.range, _negate(y.range))
            shift = self._shift_of(term) if term is not None else None
            if shift is not None:
                r = _NONPOSITIVE
            # `1 - p` of a probability: in [0, 1], and 0 where p rounds to 1
            underflows = x.constant is not None and y.range.hi == x.constant and y.range.lo < x.constant
            return Value(range=r, zero=(x.zero and y.zero) or underflows, underflows=underflows, producers=producer,
                         shift=shift, literal=literal, tags=frozenset({"complement"}) if underflows else frozenset())
        if op == "mul":
            r = _multiply(x.range, y.range)
            return Value(range=r, zero=x.zero or y.zero, underflows=x.underflows or y.underflows,
                         producers=producer, literal=literal, unit_norm=False,
                         nonzero=x.nonzero and y.nonzero,
                         tags=(x.tags | y.tags) & {"mask"} if ("mask" in x.tags and "mask" in y.tags) else frozenset())
        if op == "div":
            r = _divide(x.range, y.range)
            zero = x.zero
            if term is not None and self._normalises(term, y):
                # `c / c.sum()`: a distribution estimated from counts or weights, 0 where they are
                zero = zero or not (x.range.positive or x.nonzero)
                if x.range.nonnegative:
                    r = Range.closed(0.0, 1.0)
            return Value(range=r, zero=zero, underflows=x.underflows, producers=producer, literal=literal,
                         nonzero=x.nonzero)
        if op == "pow":
            exponent = y.constant
            if exponent is not None and float(exponent).is_integer() and int(exponent) % 2 == 0:
                return Value(range=_NONNEGATIVE, zero=x.zero or not (x.range.positive or x.nonzero), producers=producer,
                             literal=literal)
            if x.range.nonnegative:
                return Value(range=_NONNEGATIVE if x.range.lo == 0 else _POSITIVE, zero=x.zero and (exponent or 1) > 0,
                             producers=producer, literal=literal)
            return Value(producers=producer, literal=literal)
        return UNKNOWN

    def _normalises(self, term: Term, denominator: Value) -> bool:
        """Is `term` a division of a value by its own sum?"""
        numerator = term.args.get("x")
        for producer in denominator.producers:
            if producer.op == "sum" and producer.node is not None and numerator is not None:
                summed = self.viewer.view(producer.node)
                if summed is not None and "x" in summed.args and self.same(summed.args["x"].node, numerator.node):
                    return True
        return False

    def _shift_of(self, term: Term) -> Optional[Shift]:
        """`x - max(x, axis)` (or a logsumexp): the shift and its axis."""
        y = term.args.get("y")
        if y is None:
            return None
        value = self.value(y.node)
        for producer in value.producers:
            if producer.op in ("max", "logsumexp") and producer.node is not None:
                shifted = self.viewer.view(producer.node)
                if shifted is not None:
                    axis = shifted.args.get("axis")
                    return Shift(None if axis is None or _is_none(axis.node) else _axis_text(axis.node))
        names = [n for n in (y.node, *_unwrapped(y.node)) if isinstance(n, cst.Name)]
        if any("max" in n.value.lower() for n in names):
            return Shift("?")  # a value the code calls a max (a parameter): axis unknown
        return None

    def _op_facts(self, op: str, base: Value, x: Value = UNKNOWN, y: Value = UNKNOWN, term: Optional[Term] = None,
                  args: Optional[Dict[str, Value]] = None) -> Value:
        """Facts of a canonical op's result, from its inputs' (framework-neutral)."""
        args = args or {}
        if op == "exp":
            if x.shift is not None or x.range.nonpositive:
                r = Range(0.0, 1.0, False, True)
            else:
                r = _POSITIVE
            return replace(base, range=r, underflows=not (x.range.lo > -80), nonzero=True)
        if op in ("softmax",):
            return replace(base, range=Range(0.0, 1.0, False, True), underflows=True, tags=frozenset({"probability"}),
                           may_tags=frozenset({"probability"}))
        if op == "sigmoid":
            return replace(base, range=_PROBABILITY_OPEN, underflows=True, tags=frozenset({"probability"}),
                           may_tags=frozenset({"probability"}))
        if op in ("log_softmax", "logsigmoid"):
            return replace(base, range=_NONPOSITIVE)
        if op == "softplus":
            return replace(base, range=_POSITIVE, underflows=True)
        if op == "tanh" and x.range.lo > -INF and x.range.hi < INF:  # monotone: a bounded input's image
            return replace(base, range=Range(math.tanh(x.range.lo), math.tanh(x.range.hi), x.range.lo_closed,
                                             x.range.hi_closed))
        if op == "tanh":
            return replace(base, range=Range(-1.0, 1.0, False, False))
        if op in ("relu",):
            return replace(base, range=_NONNEGATIVE, zero=True)
        if op == "log":
            if x.range.at_least_one:
                return replace(base, range=_NONNEGATIVE)
            if x.range.probability:
                return replace(base, range=_NONPOSITIVE)
            return base
        if op == "sqrt":
            lo = math.sqrt(x.range.lo) if x.range.lo > 0 else 0.0
            r = Range(lo, math.sqrt(x.range.hi) if x.range.hi < INF else INF, x.range.lo <= 0 or x.range.lo_closed, False)
            return replace(base, range=r, zero=x.zero or (not x.range.positive and not x.nonzero and x.range.known),
                           nonzero=x.range.positive)
        if op in ("square", "abs"):
            positive = x.range.positive or x.range.hi < 0 or (x.range.hi == 0 and not x.range.hi_closed) or x.nonzero
            r = _POSITIVE if positive else _NONNEGATIVE
            if x.range.known and x.range.lo > -INF and x.range.hi < INF:
                top = max(abs(x.range.lo), abs(x.range.hi))
                r = Range(r.lo, top * top if op == "square" else top, r.lo_closed, True)
            return replace(base, range=r, zero=not positive, nonzero=positive,
                           constant=(x.constant ** 2 if op == "square" else abs(x.constant)) if x.constant is not None else None)
        if op in ("norm", "std", "var"):
            tags = {"norm": frozenset({"norm"}), "std": frozenset({"std"}), "var": frozenset({"variance"})}[op]
            if op == "norm" and x.unit_norm:
                return replace(base, range=Range.point(1.0), tags=tags, nonzero=True)
            if op == "norm" and x.nonzero and not x.zero:  # a Gaussian draw's norm: > 0 almost surely
                return replace(base, range=_POSITIVE, tags=tags, may_tags=tags, nonzero=True)
            return replace(base, range=_NONNEGATIVE, zero=True, tags=tags, may_tags=tags)
        if op in ("sum", "mean", "max"):
            r = x.range
            if op == "sum":
                r = _POSITIVE if r.positive else (_NONNEGATIVE if r.nonnegative else (_NONPOSITIVE if r.nonpositive else Range()))
            tags = frozenset()
            zero = x.zero
            if "mask" in x.tags or "mask" in x.may_tags:
                tags = frozenset({"count"})
                zero = True
            if op in ("mean", "sum") and "square" in _ops(x):
                tags = tags | {"variance"}
            # a sum of exps of a max-shifted value is at least 1
            if op == "sum" and x.shift is not None and x.made_by("exp"):
                r = Range(1.0, INF, True, False)
                zero = False
            return replace(base, range=r, zero=zero, underflows=x.underflows and op != "max", tags=tags,
                           may_tags=tags, unit_norm=False, nonzero=r.positive)
        if op == "logsumexp":
            return base
        if op in ("clamp", "clamp_min", "maximum"):
            low = args.get("min") if op != "maximum" else None
            high = args.get("max")
            if op == "maximum":
                other = y if x.constant is None or y.constant is not None else x
                first = x if other is y else y
                return _extremum([first, other], True, base)
            r = x.range
            if low is not None:
                r = r.meet(Range(low.range.lo, INF, low.range.lo_closed, False))
            if high is not None:
                r = r.meet(Range(-INF, high.range.hi, False, high.range.hi_closed))
            guarded = low is not None and low.range.positive
            return replace(base, range=r, zero=x.zero and not guarded, underflows=x.underflows and not guarded,
                           unit_norm=False, nonzero=guarded or x.nonzero, tags=x.tags & {"probability"},
                           may_tags=x.may_tags)
        if op == "l2_normalize":
            return replace(base, range=_UNIT, unit_norm=True, zero=x.zero)
        if op == "cosine_similarity":
            return replace(base, range=Range(-1.0, 1.0, True, True, rounded=True), tags=frozenset({"cosine"}))
        if op == "acos":
            return replace(base, range=Range.closed(0.0, math.pi))
        if op == "asin":
            return replace(base, range=Range.closed(-math.pi / 2, math.pi / 2))
        if op == "where":
            a, b = args.get("x", UNKNOWN), args.get("y", UNKNOWN)
            joined = a.join(b)
            tags = joined.tags | ({"masked"} if a.literal or b.literal else set())
            return replace(joined, producers=base.producers, tags=tags, elements=None, last=None, callee=None)
        if op == "masked_fill":
            filled = args.get("value", UNKNOWN)
            joined = x.join(filled)
            tags = joined.tags | ({"masked"} if filled.literal else set())
            return replace(joined, producers=base.producers, tags=tags, elements=None, last=None, callee=None)
        if op in ("isnan", "logical_not", "eq", "ne", "is", "is_not", "not"):
            return _MASK
        if op == "hypot":
            return replace(base, range=_NONNEGATIVE, zero=x.zero and y.zero)
        if op in ("binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy",
                  "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"):
            return replace(base, range=_NONNEGATIVE)
        if op == "uniform":
            low, high = args.get("low"), args.get("high")
            r = Range(low.range.lo if low and low.constant is not None else 0.0,
                      high.range.hi if high and high.constant is not None else 1.0, True, False)
            return replace(base, range=r, zero=r.lo == 0, tags=frozenset({"random"}))
        if op == "normal":
            return replace(base, nonzero=True, tags=frozenset({"random"}))
        if op in ("svd", "svd_suv", "qr", "eigh"):
            vectors = Value(unit_norm=True, range=_UNIT, producers=base.producers)
            values = Value(range=_NONNEGATIVE, zero=True, producers=base.producers)
            elements = {"svd": (vectors, values, vectors), "svd_suv": (values, vectors, vectors),
                        "qr": (vectors, Value(producers=base.producers)),
                        "eigh": (Value(producers=base.producers), vectors)}[op]
            return replace(base, elements=elements)
        if op == "count":
            return replace(base, range=_NONNEGATIVE, zero=True, tags=frozenset({"count"}), may_tags=frozenset({"count"}),
                           dtypes=frozenset({INTEGER}))
        if op in ("divide_no_nan",):
            return base
        if op in ("log1p", "expm1", "logaddexp", "xlogy", "flatten", "matmul", "nan", "inf"):
            if op == "flatten":
                return self._keep(replace(x, producers=x.producers), "reshaped")
            if op == "inf":
                return number_value(INF)
            return base
        if op in ("dtype_eps", "dtype_tiny"):
            return replace(base, range=Range(0.0, 1e-2, False, True), tags=frozenset({"eps"}))
        return base


# -- helpers ------------------------------------------------------------------------------------------

import re as _re

_EPS_NAME = _re.compile(r"^(eps|epsilon|tiny|.*_eps|eps_.*|.*epsilon.*)$", _re.IGNORECASE)
_VARIANCE_NAME = _re.compile(r"^(var|variance|sigma2|sigma_sq|\w*_var|\w*_variance)$", _re.IGNORECASE)
_GRIDS = frozenset({"linspace", "arange", "logspace", "geomspace"})
_SCALARS = (cst.Name, cst.Attribute, cst.Integer, cst.Float, cst.UnaryOperation)

_MASK = Value(range=Range.closed(0.0, 1.0), zero=True, dtypes=frozenset({BOOL}), tags=frozenset({"mask"}),
              may_tags=frozenset({"mask"}), grad=False)
_KEYWORDS = {
    "True": replace(number_value(1.0), dtypes=frozenset({BOOL})),
    "False": replace(number_value(0.0), dtypes=frozenset({BOOL})),
    "None": Value(tags=frozenset({"none"}), grad=False),
}
_AUGMENTED_OPS = {"Add": "add", "Subtract": "sub", "Multiply": "mul", "Divide": "div", "Power": "pow"}
_CREATED = frozenset({"uniform", "normal"})
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"os", "sys", "typing", "collections", "functools"}
_STAR = object()
_LAYER_WORDS = ("Linear", "Conv", "Dense", "Embedding", "LSTM", "GRU", "RNN", "Bilinear", "MultiheadAttention")


def _looks_like_layer(qualname: str) -> bool:
    last = qualname.rsplit(".", 1)[-1]
    return any(last.startswith(word) for word in _LAYER_WORDS)


def _ops(value: Value) -> Set[str]:
    return {p.op for p in value.producers}


def _element(value: Value, path: Tuple[int, ...]) -> Value:
    for index in path:
        if value.elements is not None and -len(value.elements) <= index < len(value.elements):
            value = value.elements[index]
        else:
            return UNKNOWN
    return value


def _element_of(iterable: Value) -> Value:
    """What iterating gives: a list's elements joined, a range's integers."""
    if iterable.elements:
        return join_all(iterable.elements)
    if iterable.last is not None and "range" in iterable.may_tags:
        return iterable.last
    return UNKNOWN


def _extremum(values: List[Value], maximum: bool, base: Value = UNKNOWN) -> Value:
    """`max(n, 1)`, `maximum(x, eps)`: at least the larger of the lower bounds."""
    if not values:
        return UNKNOWN
    lo = max(v.range.lo for v in values) if maximum else min(v.range.lo for v in values)
    hi = max(v.range.hi for v in values) if maximum else min(v.range.hi for v in values)
    closed = any(v.range.lo == lo and v.range.lo_closed for v in values)
    r = Range(lo, hi, closed, True)
    producers = base.producers
    return replace(base, range=r, zero=all(v.zero for v in values) and r.contains_zero,
                   nonzero=r.positive or any(v.nonzero for v in values) and not maximum, producers=producers,
                   underflows=all(v.underflows for v in values) and not r.positive)


def _add(a: Range, b: Range) -> Range:
    lo = a.lo + b.lo if a.lo > -INF and b.lo > -INF else -INF
    hi = a.hi + b.hi if a.hi < INF and b.hi < INF else INF
    return Range(lo, hi, a.lo_closed and b.lo_closed, a.hi_closed and b.hi_closed, a.rounded or b.rounded)


def _negate(r: Range) -> Range:
    return Range(-r.hi, -r.lo, r.hi_closed, r.lo_closed, r.rounded)


def _multiply(a: Range, b: Range) -> Range:
    if a.nonnegative and b.nonnegative:
        lo = a.lo * b.lo
        hi = a.hi * b.hi if a.hi < INF and b.hi < INF else INF
        open_lo = (a.lo == 0 and not a.lo_closed and b.lo >= 0) or (b.lo == 0 and not b.lo_closed and a.lo >= 0) \
            or (a.positive and b.positive)
        return Range(lo, hi, not open_lo, a.hi_closed and b.hi_closed, a.rounded or b.rounded)
    if a.known and b.known and all(abs(v) < INF for v in (a.lo, a.hi, b.lo, b.hi)):
        products = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        return Range(min(products), max(products), True, True, a.rounded or b.rounded)
    if (a.nonnegative and b.nonpositive) or (a.nonpositive and b.nonnegative):
        return _NONPOSITIVE
    if a.nonpositive and b.nonpositive:
        return _NONNEGATIVE
    return Range()


def _divide(a: Range, b: Range) -> Range:
    """The sign of a quotient (a 0 denominator gives inf or NaN, which other rules are about)."""
    if b.positive and a.nonnegative:
        if a.positive:
            return _POSITIVE
        if a.hi <= b.lo and b.lo > 0 and a.hi < INF:
            return Range(0.0, a.hi / b.lo, True, True)
        return _NONNEGATIVE
    if b.nonnegative and a.nonnegative:
        return _NONNEGATIVE
    if b.nonnegative and a.nonpositive:
        return _NONPOSITIVE
    if b.nonpositive and a.nonnegative:
        return _NONPOSITIVE
    if b.nonpositive and a.nonpositive:
        return _NONNEGATIVE
    return Range()


def _forward(cls: Scope) -> Optional[Scope]:
    for name in _CALLED_METHODS:
        method = cls.method(name)
        if method is not None:
            return method
    return None


def _argument(call: cst.Call, index: int, name: str):
    """The expression a call passes for the parameter at `index` named `name`; `_STAR` when
    `*args`/`**kwargs` make it unknowable; None when the call leaves it out."""
    positional = 0
    for arg in call.args:
        if arg.star:
            return _STAR
        if arg.keyword is None:
            if positional == index:
                return arg.value
            positional += 1
        elif arg.keyword.value == name:
            return arg.value
    return None


def _positional(call: cst.Call, index: int) -> Optional[cst.BaseExpression]:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index].value if index < len(positional) else None


def _module_receiver(node: cst.BaseExpression, imports) -> bool:
    qualname = imports.qualify(node)
    return qualname is not None and not qualname.startswith("builtins.")


def _string(node: cst.SimpleString) -> str:
    try:
        value = node.evaluated_value
    except Exception:  # an odd literal libcst cannot evaluate: not a dtype
        return ""
    return value if isinstance(value, str) else ""


def _is_finfo(node: cst.BaseExpression, imports) -> bool:
    if not isinstance(node, cst.Call):
        return False
    qualname = imports.qualify(node.func) or ""
    return qualname.rsplit(".", 1)[-1] in ("finfo", "iinfo")


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _axis_text(node: cst.BaseExpression) -> str:
    literal = number(node)
    if literal is not None and float(literal).is_integer():
        return str(int(literal))
    from numlint.ops import shape_key

    return shape_key(node)


def _unwrapped(node: cst.BaseExpression):
    """`x_max.detach()`, `x_max[0]`: the names inside simple wrappers."""
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args:
            node = node.func.value
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Attribute) and node.attr.value == "values":
            node = node.value
        else:
            return
        yield node


class _ShapeBuilder:
    """libcst nodes for the shapes of a function of another module (summaries.py), at one call:
    holes filled with the call's arguments, each node's view (`Term`) and each opaque part's facts
    given to the viewer and the analysis, as the defining module had them."""

    def __init__(self, analysis: Analysis, call: cst.Call) -> None:
        self.analysis = analysis
        self.call = call
        self.keep: List[cst.CSTNode] = []  # every built node, so that no id is reused while the analysis lives
        self.places: Dict[int, str] = {}

    def build(self, data) -> Optional[cst.BaseExpression]:
        try:
            return self._node(data)
        except (_CannotBuild, cst.CSTValidationError, ValueError):
            return None

    def _node(self, data) -> cst.BaseExpression:
        kind = data["t"]
        if kind == "n":
            return self._number(data["v"], data["i"])
        if kind == "p":
            argument = _argument(self.call, data["i"], data["n"])
            if argument is _STAR:
                raise _CannotBuild
            if argument is None:
                if "d" not in data:
                    raise _CannotBuild
                return self._node(data["d"])
            return argument
        if kind == "w":
            return self._kept(cst.Name(data["w"]))
        if kind == "o":
            node = self._kept(cst.Name("__numlint_" + data["h"]))
            facts = decode(data.get("v"))
            self.analysis._values[id(node)] = facts
            self._view(node, data.get("op"), [])
            return node
        kids = [self._node(k) for k in data["k"]]
        if kind == "b":
            node = cst.BinaryOperation(kids[0], SHAPE_OPERATORS[data["o"]](), kids[1])
        elif kind == "u":
            node = cst.UnaryOperation(cst.Minus(), kids[0])
        elif kind == "a":
            node = cst.Attribute(kids[0], cst.Name(data["a"]))
        elif kind == "s":
            rest = iter(kids[1:])
            elements = []
            for element in data["e"]:
                if element == "i":
                    elements.append(cst.SubscriptElement(cst.Index(next(rest))))
                else:
                    lower, upper, step = (next(rest) if flag == "1" else None for flag in element[1:])
                    elements.append(cst.SubscriptElement(cst.Slice(lower, upper, step)))
            node = cst.Subscript(kids[0], elements)
        else:  # "m", "f": a method or function call
            receiver = 1 if kind == "m" else 0
            args = [cst.Arg(value, keyword=cst.Name(word) if word is not None else None,
                            equal=cst.AssignEqual() if word is not None else cst.MaybeSentinel.DEFAULT)
                    for word, value in zip(data["kw"], kids[receiver:])]
            func = cst.Attribute(kids[0], cst.Name(data["a"])) if kind == "m" else \
                cst.Name("__numlint_" + _word(data["q"]))
            node = cst.Call(func, args)
        self._kept(node)
        self._view(node, data.get("op"), kids)
        return node

    def _number(self, value: float, integer: bool) -> cst.BaseExpression:
        """A literal for a shape's number: `3`, `0.5`, `-1e-08` (minus a positive literal)."""
        whole = integer and float(value).is_integer()
        literal = cst.Integer(str(int(abs(value)))) if whole else cst.Float(repr(float(abs(value))))
        return self._kept(cst.UnaryOperation(cst.Minus(), literal) if value < 0 else literal)

    def _kept(self, node):
        self.keep.append(node)
        self.places[id(node)] = ""
        return node

    def _view(self, node, term, kids) -> None:
        if term is None:
            self.analysis.viewer.remember(node, None)
            return
        args = {}
        for name, ref in term["args"].items():
            if isinstance(ref, list):
                args[name] = Arg(kids[ref[0]], ref[1])
            else:
                args[name] = Arg(self._number(ref["n"], False), True, synthetic=True)
        self.analysis.viewer.remember(node, Term(term["op"], node, args, term["s"], tuple(term["fw"])))


class _CannotBuild(Exception):
    pass



def _word(qualname: str) -> str:
    """An identifier standing for a function's qualified name in a built call."""
    return "".join(c if c.isalnum() else "_" for c in qualname)[:80] or "f"
