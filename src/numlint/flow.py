"""The walk that collects: a file's scopes, every place a name gets a value (`Definition`), and
which of those definitions reach each read of a name, in statement order, joined where paths meet.

One pass over the tree. Statements are followed the way Python runs them: both branches of an
`if` start from the same state and are joined after it; a loop body runs until nothing new
reaches its head (at most a few times, then every name it assigns may hold anything); `return`,
`raise`, `break` and `continue` end a path; an `except` handler may start anywhere in its `try`.
Each expression is walked once (a loop body's reads and definitions are recorded on the first
visit and replayed), so a file costs one traversal however its loops nest.

A read of a name the scope never binds is a read of the enclosing function or module, where every
definition of that name counts (a nested function may run at any time). Attributes of `self`
are definitions of the class, joined over all of its methods and its body.

What a definition's value *is* is not this module's question: `analysis.py` answers it, from the
definitions recorded here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple, Union

import libcst as cst

from numlint import bindings
from numlint.bindings.array_api import NAMESPACE_FUNCTIONS
from numlint.imports import ImportTable

Candidate = Union[cst.Call, cst.BinaryOperation, cst.UnaryOperation, cst.Comparison]


@dataclass(frozen=True)
class Region:
    """What holds where code runs: without autograd (`torch.no_grad()`, `@torch.no_grad()`, a
    custom `backward`), or in an autocast region computing in a half-precision dtype."""

    no_grad: bool = False
    autocast: Optional[str] = None


PLAIN = Region()

# Kinds of definition. `value` is an expression for the first four; the rest are opaque or have
# values of their own kind (a parameter's is what callers pass, a loop target's an element).
ASSIGN = "assign"  # `name = value` (also `a, b = value` with a `path`, walrus, annotated)
AUGMENTED = "augmented"  # `name += value`: `value` is the AugAssign
CHANGED = "changed"  # `name.append(v)`, `name.clamp_(min=e)`, `name[i] = v`: `base` is what it changes
PARAM = "param"
LOOP = "loop"  # `for name in value`: `value` is the iterable, `path` inside its element
FUNCTION = "function"
CLASS = "class"
IMPORT = "import"
OPAQUE = "opaque"  # with-as, except-as, del, starred targets, match captures, global: anything


@dataclass(eq=False)
class Definition:
    """One place a name gets a value."""

    name: str
    kind: str
    scope: "Scope"
    order: int  # source order, comparable with reads and candidates of the same file
    value: Optional[cst.BaseExpression] = None
    path: Tuple[int, ...] = ()  # element of `value` for unpacking: `a, (b, c) = v` gives c (1, 1)
    statement: Optional[cst.SimpleStatementLine] = None  # the line, when it holds only this statement
    block: int = 0  # id of the statement list the statement is in
    region: Region = PLAIN
    base: Tuple["Definition", ...] = ()  # CHANGED, AUGMENTED: the definitions reaching before
    node: Optional[cst.CSTNode] = None  # the Param, FunctionDef, ClassDef or change
    reads: Dict[int, cst.Name] = field(default_factory=dict)  # id -> each read this definition reaches
    value_scope: Optional["Scope"] = None  # where `value` is read, when not `scope` (a default, a lambda's argument)
    attribute: bool = False  # `self.name = ...` in a method: a definition of the class's attribute

    @property
    def key(self) -> str:
        """The name the flow tracks it under: `self.p` for an attribute."""
        return "self." + self.name if self.attribute else self.name

    @property
    def value_in(self) -> "Scope":
        return self.value_scope or self.scope

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}@{self.order}>"


@dataclass(eq=False)
class Return:
    value: Optional[cst.BaseExpression]
    order: int
    region: Region


@dataclass(frozen=True)
class Read:
    """A read of a name: the definitions that may reach it (empty: unbound, or a builtin)."""

    scope: "Scope"
    order: int
    definitions: Tuple[Definition, ...]
    region: Region
    local: bool  # reached by the flow of its own scope (not every definition of an outer scope)


@dataclass(eq=False)
class Scope:
    node: cst.CSTNode
    parent: Optional["Scope"]
    kind: str  # module, function, class, lambda, comprehension
    definitions: Dict[str, List[Definition]] = field(default_factory=dict)
    functions: Dict[str, "Scope"] = field(default_factory=dict)  # `def name` here -> its scope
    classes: Dict[str, "Scope"] = field(default_factory=dict)  # `class Name` here -> its scope
    returns: List[Return] = field(default_factory=list)
    attributes: Dict[str, List[Definition]] = field(default_factory=dict)  # classes: what `self.attr` holds after a method
    params: List[Definition] = field(default_factory=list)
    not_local: Set[str] = field(default_factory=set)  # declared global / nonlocal
    globals: Set[str] = field(default_factory=set)  # declared global (the rest of not_local: nonlocal)
    region: Region = PLAIN  # the region the whole body runs in (a `@torch.no_grad()` function)

    @property
    def owner_class(self) -> Optional["Scope"]:
        """The class when this is one of its methods (where `self` is the instance)."""
        if self.kind == "function" and self.parent is not None and self.parent.kind == "class":
            return self.parent
        return None

    def method(self, name: str) -> Optional["Scope"]:
        """The class's method `name`, when the class binds that name once, by its `def`."""
        sites = self.definitions.get(name, ())
        return self.functions.get(name) if len(sites) == 1 and sites[0].kind == FUNCTION else None

    def __repr__(self) -> str:
        name = getattr(getattr(self.node, "name", None), "value", "")
        return f"<{self.kind} scope {name}>"


@dataclass(frozen=True)
class CandidateSite:
    node: Candidate
    scope: Scope
    order: int


# Fields that hold only whitespace, punctuation or comments: the walk never enters them.
_SKIPPED_FIELDS = frozenset({
    "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators", "header",
    "footer", "trailing_whitespace", "asynchronous", "operator", "equal", "dot", "colon", "star_tok",
    "newline", "lbracket", "rbracket", "lbrace", "rbrace", "whitespace", "default_indent",
})
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _child_fields(cls: type) -> Tuple[str, ...]:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(cls)
            if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
        _CHILD_FIELDS[cls] = names
    return names


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The child nodes that hold code (whitespace and punctuation fields skipped). libcst's own
    `node.children` re-visits the node to find them, which costs as much as a small parse."""
    found: List[cst.CSTNode] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(item for item in value if isinstance(item, cst.CSTNode))
    return found


def subtree(node: cst.CSTNode):
    """`node` and every node of code below it (not whitespace or punctuation)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


# Methods that change their receiver in place to the value the call returns (`x.clamp_(min=e)`),
# and list methods that add to it.
_APPENDING = frozenset({"append", "extend", "insert", "add_module"})
_DETACHING = frozenset({"item", "tolist", "detach", "numpy"})
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_LOOP_LIMIT = 4  # loop bodies replayed at most this often before their names hold anything

Env = Dict[str, Tuple[Definition, ...]]

# Events of an expression or statement, replayed by loops: ("read", Name, scope),
# ("define", Definition), ("candidate", site) is recorded once and not replayed.
_READ, _DEFINE, _READ_ATTRIBUTE = 0, 1, 2


def _join(a: Optional[Env], b: Optional[Env]) -> Optional[Env]:
    """Where paths meet: a name holds what either path gave it. None is a path that ended."""
    if a is None:
        return None if b is None else dict(b)
    if b is None:
        return dict(a)
    joined = dict(a)
    for name, defs in b.items():
        mine = joined.get(name)
        if mine is None:
            joined[name] = defs
        elif mine is not defs and mine != defs:
            joined[name] = mine + tuple(d for d in defs if d not in mine)
    return joined


class _Loop:
    def __init__(self) -> None:
        self.breaks: Optional[Env] = None
        self.continues: Optional[Env] = None


class FileFlow:
    """Everything the walk learns of one module (see the module docstring)."""

    def __init__(self) -> None:
        self.imports = ImportTable()
        self.module_scope: Optional[Scope] = None
        self.candidates: List[CandidateSite] = []
        self.scope_of: Dict[int, Scope] = {}  # id(candidate) -> scope
        self.order_of: Dict[int, int] = {}  # id(candidate) -> order
        self.region_of: Dict[int, Region] = {}  # id(candidate) -> region, where not PLAIN
        self.reads: Dict[int, Read] = {}  # id(Name) -> the read
        self.block_size: Dict[int, int] = {}  # id(statement) -> statements in its block
        self.position_in_block: Dict[int, Tuple[int, int]] = {}  # id(statement) -> (id(block), index)
        self.lambda_arguments: Dict[int, List[cst.BaseExpression]] = {}  # id(lambda) -> its call's arguments
        self.lambda_scopes: Dict[int, Scope] = {}  # id(lambda) -> its scope
        self.calls_by_name: Dict[str, List[cst.Call]] = {}  # `f(...)` calls of a plain name, for parameters
        self.method_calls: Dict[str, List[cst.Call]] = {}  # `self.f(...)` calls, for methods' parameters
        self.detached: Set[int] = set()  # values read out of autograd: `v.item()`, `float(v)`
        self.attribute_reads: Dict[int, Tuple[Definition, ...]] = {}  # id(`self.x`) -> set earlier in its method
        self._exits: List[List[Env]] = []  # per method being walked: the states it returns in
        self._order = 0
        self._event_memo: Dict[int, list] = {}  # id(expression or small statement) -> its events
        self._defs: Dict[Tuple[int, str, Tuple[int, ...]], Definition] = {}  # reused by replays
        self._scope_stack: List[Scope] = []
        self._region = PLAIN
        self._statement: Optional[cst.SimpleStatementLine] = None
        self._block = 0
        self._loops: List[_Loop] = []
        self._walked: Set[int] = set()  # function and class bodies already walked

    # -- scopes and definitions -----------------------------------------------------------------
    @property
    def scope(self) -> Scope:
        return self._scope_stack[-1]

    def _tick(self) -> int:
        self._order += 1
        return self._order

    def _define(self, key: cst.CSTNode, name: str, kind: str, scope: Optional[Scope] = None, **fields) -> Definition:
        """The definition made at `key` (reused when a loop replays it)."""
        scope = scope or self.scope
        path = fields.get("path", ())
        memo = (id(key), name, path)
        found = self._defs.get(memo)
        if found is not None:
            return found
        self.imports.bound_names.add(name)
        definition = Definition(name, kind, scope, self._tick(), statement=self._statement, block=self._block,
                                region=self._region, **fields)
        self._defs[memo] = definition
        scope.definitions.setdefault(name, []).append(definition)
        return definition

    def _apply(self, events, env: Env) -> None:
        for kind, item, extra in events:
            if kind == _READ:
                self._read(item, extra[0], extra[1], env)
            elif kind == _READ_ATTRIBUTE:
                defs = env.get("self." + item.attr.value)
                if defs:
                    self.attribute_reads[id(item)] = defs
            else:
                definition = item
                if definition.kind in (CHANGED, AUGMENTED) and extra is not None:
                    # what it changes is what reaches it now (replays add to it)
                    before = env.get(definition.key, ())
                    if before and not set(before) <= set(definition.base):
                        definition.base = definition.base + tuple(d for d in before if d not in definition.base)
                env[definition.key] = (definition,)

    def _read(self, name: cst.Name, scope: Scope, order: int, env: Env) -> None:
        text = name.value
        region = self._region
        if scope is self.scope and text in env:
            defs, local = env[text], True  # (a global assigned earlier in this function, too)
        elif scope is self.scope and text in scope.definitions and text not in scope.not_local:
            defs, local = (), True  # bound later in this scope: unbound here (or a loop's next turn)
        else:
            defs, local = self._outer(text, scope), False
        previous = self.reads.get(id(name))
        if previous is not None and previous.definitions == defs:
            return
        self.reads[id(name)] = Read(scope, order, defs, region, local)
        for definition in defs:
            definition.reads[id(name)] = name

    def _outer(self, text: str, scope: Scope) -> Tuple[Definition, ...]:
        """Every definition of `text` in the nearest scope that binds it, seen from `scope`
        (class bodies do not enclose their methods)."""
        if text in scope.not_local:
            home = self._home(text, scope)
            return tuple(home.definitions.get(text, ())) if home is not None else ()
        first = scope
        while scope is not None:
            if scope is first or scope.kind != "class":
                defs = scope.definitions.get(text)
                if defs:
                    return tuple(defs)
            scope = scope.parent
        return ()

    def _home(self, text: str, scope: Scope) -> Optional[Scope]:
        """The scope a `global` (the module) or `nonlocal` (the nearest enclosing function) name lives in."""
        if text in scope.globals:
            return self.module_scope
        outer = scope.parent
        while outer is not None and (outer.kind == "class" or outer is self.module_scope):
            outer = outer.parent if outer.kind == "class" else None
        return outer

    # -- statements -----------------------------------------------------------------------------
    def walk_module(self, module: cst.Module) -> None:
        scope = Scope(module, None, "module")
        self.module_scope = scope
        self._scope_stack.append(scope)
        self._statements(module.body, {})
        self._scope_stack.pop()

    def _statements(self, body, env: Optional[Env], states: Optional[list] = None) -> Optional[Env]:
        """Run a statement list; `states`, when given, collects the state after each statement."""
        for index, statement in enumerate(body):
            self.block_size[id(statement)] = len(body)
            self.position_in_block[id(statement)] = (id(body), index)
        block = self._block
        self._block = id(body)
        try:
            for statement in body:
                if env is None:
                    # unreachable after a return: still collected (candidates, nested scopes)
                    self._statement_events_only(statement)
                    continue
                env = self._compound_or_simple(statement, env)
                if states is not None:
                    states.append(dict(env) if env is not None else None)
        finally:
            self._block = block
        return env

    def _suite(self, suite, env: Optional[Env]) -> Optional[Env]:
        if isinstance(suite, cst.IndentedBlock):
            return self._statements(suite.body, env)
        if isinstance(suite, cst.SimpleStatementSuite):
            saved, self._statement = self._statement, None
            try:
                for small in suite.body:
                    if env is None:
                        self._events(small)
                        continue
                    env = self._small(small, env)
            finally:
                self._statement = saved
            return env
        return env

    def _statement_events_only(self, statement) -> None:
        self._compound_or_simple(statement, {})

    def _compound_or_simple(self, statement, env: Env) -> Optional[Env]:
        if isinstance(statement, cst.SimpleStatementLine):
            saved = self._statement
            self._statement = statement if len(statement.body) == 1 else None
            try:
                for small in statement.body:
                    if env is None:
                        self._events(small)
                        continue
                    env = self._small(small, env)
            finally:
                self._statement = saved
            return env
        handler = getattr(self, "_on_" + type(statement).__name__, None)
        if handler is None:
            return env
        return handler(statement, env)

    def _small(self, small, env: Env) -> Optional[Env]:
        self._apply(self._events(small), env)
        if isinstance(small, cst.Return) and self._exits:
            self._exits[-1].append(env)
        if isinstance(small, (cst.Return, cst.Raise)):
            return None
        if isinstance(small, (cst.Break, cst.Continue)) and self._loops:
            loop = self._loops[-1]
            if isinstance(small, cst.Break):
                loop.breaks = _join(loop.breaks, env)
            else:
                loop.continues = _join(loop.continues, env)
            return None
        return env

    def _on_If(self, node: cst.If, env: Env) -> Optional[Env]:
        self._apply(self._expression(node.test), env)
        then = self._suite(node.body, dict(env))
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            other = self._on_If(orelse, dict(env))
        elif isinstance(orelse, cst.Else):
            other = self._suite(orelse.body, dict(env))
        else:
            other = env
        return _join(then, other)

    def _loop(self, env: Env, head, body, orelse) -> Optional[Env]:
        """A loop: `head(env)` applies what runs before each turn (the target, the test)."""
        entry = dict(env)
        state = dict(env)
        for _ in range(_LOOP_LIMIT):
            turn = dict(state)
            head(turn)
            loop = _Loop()
            self._loops.append(loop)
            try:
                end = self._suite(body, turn)
            finally:
                self._loops.pop()
            after = _join(_join(end, loop.continues), entry)
            joined = _join(state, after)
            if joined == state:
                break
            state = joined
        else:
            state = self._unknown_after_loop(state, entry, body)
        leaving = dict(state)
        head(leaving)
        if orelse is not None:
            leaving = self._suite(orelse.body, leaving)
        return _join(leaving, loop.breaks)

    def _unknown_after_loop(self, state: Env, entry: Env, body) -> Env:
        """No fixpoint within the limit: names the loop keeps changing may hold anything."""
        unknown = dict(state)
        for name, defs in state.items():
            if defs != entry.get(name):
                unknown[name] = defs + (self._define(body, name, OPAQUE),)
        return unknown

    def _on_For(self, node: cst.For, env: Env) -> Optional[Env]:
        self._apply(self._expression(node.iter), env)

        def head(turn: Env) -> None:
            self._apply(self._targets(node.target, node, LOOP, node.iter), turn)

        return self._loop(env, head, node.body, node.orelse)

    def _on_While(self, node: cst.While, env: Env) -> Optional[Env]:
        def head(turn: Env) -> None:
            self._apply(self._expression(node.test), turn)

        return self._loop(env, head, node.body, node.orelse)

    def _on_Try(self, node, env: Env) -> Optional[Env]:
        # a handler may start after any statement of the body: it starts from their join
        after: list = []
        ends = self._suite_states(node.body, dict(env), after)
        states: Optional[Env] = dict(env)
        for state in after:
            states = _join(states, state)
        if node.orelse is not None:
            ends = self._suite(node.orelse.body, ends)
        for handler in node.handlers:
            start = dict(states)
            if handler.type is not None:
                self._apply(self._expression(handler.type), start)
            if handler.name is not None:
                self._apply(self._targets(handler.name.name, handler, OPAQUE, None), start)
            ends = _join(ends, self._suite(handler.body, start))
        if node.finalbody is not None:
            # runs on every path; when every path ended, what follows is still unreachable
            start = ends if ends is not None else states
            after_finally = self._suite(node.finalbody.body, dict(start))
            ends = after_finally if ends is not None else None
        return ends

    def _suite_states(self, suite, env: Env, states: list) -> Optional[Env]:
        if isinstance(suite, cst.IndentedBlock):
            return self._statements(suite.body, env, states)
        end = self._suite(suite, env)
        states.append(end)
        return end

    _on_TryStar = _on_Try

    def _on_With(self, node: cst.With, env: Env) -> Optional[Env]:
        region = self._region
        for item in node.items:
            self._apply(self._expression(item.item), env)
            if item.asname is not None:
                self._apply(self._targets(item.asname.name, item, OPAQUE, None), env)
            self._region = self._entered(item.item, self._region)
        try:
            return self._suite(node.body, env)
        finally:
            self._region = region

    def _entered(self, manager: cst.BaseExpression, region: Region) -> Region:
        """The region inside `with manager:`."""
        if not isinstance(manager, cst.Call):
            return region
        qualname = self.imports.qualify(manager.func)
        kind = bindings.REGIONS.get(qualname) if qualname else None
        if kind == "no_grad":
            return dataclasses.replace(region, no_grad=True)
        if kind == "enable_grad":
            return dataclasses.replace(region, no_grad=False)
        if kind == "set_grad_enabled" and manager.args:
            flag = manager.args[0].value
            if isinstance(flag, cst.Name) and flag.value in ("True", "False"):
                return dataclasses.replace(region, no_grad=flag.value == "False")
            return region
        if kind == "autocast":
            dtype = self._autocast_dtype(manager)
            return dataclasses.replace(region, autocast=dtype)
        return region

    def _autocast_dtype(self, manager: cst.Call) -> Optional[str]:
        """The dtype of an autocast region: `dtype=torch.bfloat16`, else float16 on CUDA."""
        for arg in manager.args:
            if arg.keyword is not None and arg.keyword.value == "enabled" and isinstance(arg.value, cst.Name) \
                    and arg.value.value == "False":
                return None
        for arg in manager.args:
            if arg.keyword is not None and arg.keyword.value == "dtype":
                qualname = self.imports.qualify(arg.value) or ""
                return bindings.dtype_name(qualname.rsplit(".", 1)[-1]) if qualname else None
        device = manager.args[0].value if manager.args and manager.args[0].keyword is None else None
        if isinstance(device, cst.SimpleString) and device.evaluated_value == "cpu":
            return "bfloat16"
        return "float16"

    def _on_Match(self, node, env: Env) -> Optional[Env]:
        self._apply(self._expression(node.subject), env)
        ends: Optional[Env] = dict(env)  # no case may match
        for case in node.cases:
            start = dict(env)
            self._apply(self._match_captures(case.pattern, case), start)
            if case.guard is not None:
                self._apply(self._expression(case.guard), start)
            ends = _join(ends, self._suite(case.body, start))
        return ends

    def _match_captures(self, pattern, case) -> list:
        events = []
        for sub in subtree(pattern):
            name = None
            if isinstance(sub, cst.MatchAs) and sub.name is not None:
                name = sub.name.value
            elif isinstance(sub, cst.MatchStar) and sub.name is not None:
                name = sub.name.value
            elif isinstance(sub, cst.MatchMapping) and sub.rest is not None:
                name = sub.rest.value
            if name is not None:
                events.append((_DEFINE, self._define(sub, name, OPAQUE), None))
        return events

    def _on_FunctionDef(self, node: cst.FunctionDef, env: Env) -> Env:
        for decorator in node.decorators:
            self._apply(self._expression(decorator.decorator), env)
        self._apply(self._parameter_defaults(node.params), env)
        definition = self._define(node, node.name.value, FUNCTION, node=node)
        env[node.name.value] = (definition,)
        if id(node) not in self._walked:
            self._walked.add(id(node))
            self._function_body(node)
        return env

    def _function_body(self, node: cst.FunctionDef) -> None:
        defined_in = self.scope
        scope = Scope(node, defined_in, "function", region=self._body_region(node, defined_in))
        defined_in.functions[node.name.value] = scope
        self._scope_stack.append(scope)
        saved = (self._region, self._loops, self._statement)
        self._region, self._loops, self._statement = scope.region, [], None
        try:
            env: Env = {}
            for param in _params(node.params):
                definition = self._define(param, param.name.value, PARAM, node=param, value=param.default,
                                          value_scope=defined_in)
                scope.params.append(definition)
                env[param.name.value] = (definition,)
            self._declarations(node.body)
            method = scope.owner_class is not None
            if method:
                self._exits.append([])
            end = self._suite(node.body, env)
            if method:
                exits = self._exits.pop()
                if end is not None:
                    exits.append(end)
                self._attributes_at_exit(scope, exits)
        finally:
            self._region, self._loops, self._statement = saved
            self._scope_stack.pop()

    def _body_region(self, node: cst.FunctionDef, defined_in: Scope) -> Region:
        region = self._region
        for decorator in node.decorators:
            call = decorator.decorator
            func = call.func if isinstance(call, cst.Call) else call
            qualname = self.imports.qualify(func)
            if qualname and bindings.REGIONS.get(qualname) in ("no_grad",):
                region = dataclasses.replace(region, no_grad=True)
        if node.name.value in ("backward", "jvp", "vjp") and defined_in.kind == "class" and self._is_autograd_function(defined_in):
            region = dataclasses.replace(region, no_grad=True)  # a custom backward: autograd does not run here
        return region

    def _is_autograd_function(self, cls: Scope) -> bool:
        for base in cls.node.bases:
            qualname = self.imports.qualify(base.value) or ""
            if qualname in bindings.AUTOGRAD_FUNCTIONS or qualname.endswith(".Function"):
                return True
        return False

    def _declarations(self, suite) -> None:
        """`global`/`nonlocal` anywhere in a function body apply to the whole body."""
        stack = [suite]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.SimpleStatementLine) or isinstance(node, cst.SimpleStatementSuite):
                for small in node.body:
                    if isinstance(small, (cst.Global, cst.Nonlocal)):
                        self.scope.not_local.update(item.name.value for item in small.names)
                        if isinstance(small, cst.Global):
                            self.scope.globals.update(item.name.value for item in small.names)
            elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                continue
            elif isinstance(node, cst.IndentedBlock):
                stack.extend(node.body)
            elif isinstance(node, cst.BaseCompoundStatement):
                stack.extend(sub for sub in children(node) if isinstance(sub, (cst.BaseSuite, cst.BaseCompoundStatement,
                                                                              cst.Else, cst.ExceptHandler, cst.Finally,
                                                                              cst.MatchCase)))
            elif isinstance(node, (cst.Else, cst.ExceptHandler, cst.Finally, cst.MatchCase)):
                stack.append(node.body)

    def _parameter_defaults(self, params: cst.Parameters) -> list:
        events = []
        for param in _params(params):
            if param.default is not None:
                events.extend(self._expression(param.default))
            if param.annotation is not None:
                events.extend(self._expression(param.annotation.annotation))
        return events

    def _on_ClassDef(self, node: cst.ClassDef, env: Env) -> Env:
        for decorator in node.decorators:
            self._apply(self._expression(decorator.decorator), env)
        for base in list(node.bases) + list(node.keywords):
            self._apply(self._expression(base.value), env)
        definition = self._define(node, node.name.value, CLASS, node=node)
        env[node.name.value] = (definition,)
        if id(node) not in self._walked:
            self._walked.add(id(node))
            defined_in = self.scope
            scope = Scope(node, defined_in, "class", region=self._region)
            defined_in.classes[node.name.value] = scope
            self._scope_stack.append(scope)
            saved = (self._loops, self._statement)
            self._loops, self._statement = [], None
            try:
                end = self._suite(node.body, {})
            finally:
                self._loops, self._statement = saved
                self._scope_stack.pop()
            # class-body assignments are attributes too: `eps = 1e-6` read as `self.eps`
            for name, defs in (end or {}).items():
                for definition in defs:
                    if definition.kind in (ASSIGN, AUGMENTED, CHANGED):
                        scope.attributes.setdefault(name, []).append(definition)
        return env

    # -- events of small statements -------------------------------------------------------------
    def _events(self, small) -> list:
        key = id(small)
        events = self._event_memo.get(key)
        if events is not None:
            return events
        events = []
        if isinstance(small, cst.Assign):
            _bind_array_namespace(self.imports, small)
            events.extend(self._expression(small.value))
            for target in small.targets:
                events.extend(self._targets(target.target, small, ASSIGN, small.value))
        elif isinstance(small, cst.AnnAssign):
            events.extend(self._expression(small.annotation.annotation))
            if small.value is not None:
                events.extend(self._expression(small.value))
                events.extend(self._targets(small.target, small, ASSIGN, small.value))
        elif isinstance(small, cst.AugAssign):
            events.extend(self._expression(small.value))
            events.extend(self._expression(small.target))  # `x += y` reads x
            events.extend(self._augmented(small))
        elif isinstance(small, cst.Return):
            if small.value is not None:
                events.extend(self._expression(small.value))
            self.scope.returns.append(Return(small.value, self._tick(), self._region))
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            events.extend(self._import(small))
        elif isinstance(small, cst.Del):
            events.extend(self._expression_reads_only(small.target))
            events.extend(self._targets(small.target, small, OPAQUE, None, reads=False))
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            self.scope.not_local.update(item.name.value for item in small.names)
            if isinstance(small, cst.Global):
                self.scope.globals.update(item.name.value for item in small.names)
        else:
            for child in children(small):
                events.extend(self._expression(child))
        self._event_memo[key] = events
        return events

    def _augmented(self, small: cst.AugAssign) -> list:
        target = small.target
        if isinstance(target, cst.Name):
            definition = self._define(small, target.value, AUGMENTED, value=small, node=small)
            return [(_DEFINE, definition, True)]
        if self._self_attribute(target):
            return self._attribute(target, small, AUGMENTED, small)
        return []

    def _import(self, node) -> list:
        self.imports.add(node)
        events = []
        if isinstance(node, cst.Import):
            for alias in node.names:
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    name = alias.asname.name.value
                else:
                    top = alias.name
                    while isinstance(top, cst.Attribute):
                        top = top.value
                    name = top.value if isinstance(top, cst.Name) else None
                if name is not None:
                    events.append((_DEFINE, self._define(alias, name, IMPORT, node=alias), None))
        elif not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                target = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(target, cst.Name):
                    events.append((_DEFINE, self._define(alias, target.value, IMPORT, node=alias), None))
        return events

    def _targets(self, target, statement, kind: str, value, path: Tuple[int, ...] = (), reads: bool = True) -> list:
        """Definitions (and reads, for `a[i] = v`) made by assigning `value` to `target`."""
        if isinstance(target, cst.Name):
            # a `global` name assigned here is a definition of the module (tracked here as well)
            home = self._home(target.value, self.scope) if target.value in self.scope.not_local else None
            return [(_DEFINE, self._define(statement, target.value, kind, scope=home, value=value, path=path,
                                           value_scope=self.scope if home is not None else None), None)]
        if isinstance(target, (cst.Tuple, cst.List)):
            events = []
            starred = False
            for index, element in enumerate(target.elements):
                if isinstance(element, cst.StarredElement):
                    starred = True
                    events.extend(self._targets(element.value, statement, OPAQUE, None, path, reads))
                elif starred:  # `a, *b, c = v`: c's position counts from the end; not followed
                    events.extend(self._targets(element.value, statement, OPAQUE, None, path, reads))
                else:
                    events.extend(self._targets(element.value, statement, kind, value, path + (index,), reads))
            return events
        if isinstance(target, cst.StarredElement):
            return self._targets(target.value, statement, OPAQUE, None, path, reads)
        if self._self_attribute(target):
            return self._attribute(target, statement, kind, value, path)
        if not reads:
            return []
        events = list(self._expression(target))  # `a[i] = v`, `obj.x = v`: the receiver and index are read
        base = target.value if isinstance(target, cst.Subscript) else None
        if isinstance(base, cst.Name) and base.value in self.scope.definitions and kind == ASSIGN and not path:
            # `p[p == 0] = eps`: the array now holds something else where it was stored
            events.append((_DEFINE, self._define(target, base.value, CHANGED, value=value, node=target), True))
        return events

    def _self_attribute(self, target) -> bool:
        return isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
            and target.value.value == "self" and self.scope.owner_class is not None

    def _attribute(self, target: cst.Attribute, statement, kind: str, value, path: Tuple[int, ...] = ()) -> list:
        """`self.attr = value` in a method: followed through the method like a name (`self.attr`),
        and what it holds when the method returns is what other methods read."""
        definition = self._define(target, target.attr.value, kind, scope=self.scope, value=value, path=path,
                                  node=target, attribute=True)
        sites = self.scope.definitions.get(target.attr.value)
        if sites and definition in sites:  # it is not a name of the method's scope
            sites.remove(definition)
            if not sites:
                del self.scope.definitions[target.attr.value]
        return [(_DEFINE, definition, True if kind == AUGMENTED else None)]

    def _attributes_at_exit(self, scope: Scope, exits: List[Env]) -> None:
        owner = scope.owner_class
        for env in exits:
            for key, defs in env.items():
                if key.startswith("self."):
                    held = owner.attributes.setdefault(key[5:], [])
                    held.extend(d for d in defs if d not in held)

    # -- expressions ----------------------------------------------------------------------------
    def _expression_reads_only(self, node) -> list:
        events = []
        if isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                events.extend(self._expression_reads_only(element.value))
        elif isinstance(node, (cst.Subscript, cst.Attribute)):
            events.extend(self._expression(node))
        return events

    def _expression(self, root: cst.CSTNode) -> list:
        """The events of an expression, in evaluation order, recorded once (replayed by loops)."""
        key = id(root)
        events = self._event_memo.get(key)
        if events is not None:
            return events
        events = []
        scope = self.scope
        stack: List[Tuple[cst.CSTNode, Scope]] = [(root, scope)]
        skip: Set[int] = set()
        while stack:
            node, where = stack.pop()
            cls = type(node)
            if cls is cst.Name:
                if id(node) not in skip:
                    event = self._name_event(node, where)
                    if event is not None:
                        events.append(event)
                continue
            if cls is cst.Attribute:
                skip.add(id(node.attr))
                if isinstance(node.value, cst.Name) and node.value.value == "self" and where is self.scope \
                        and where.owner_class is not None:
                    events.append((_READ_ATTRIBUTE, node, None))
            elif cls is cst.Arg:
                if node.keyword is not None:
                    skip.add(id(node.keyword))
            elif cls is cst.Call or cls is cst.BinaryOperation or cls is cst.UnaryOperation or cls is cst.Comparison:
                self._candidate(node, where)
                if cls is cst.Call:
                    events_after = self._call(node, where, skip)
                    if events_after is not None:
                        # the receiver's change happens after the call's arguments are read
                        stack.append((_AfterCall(events_after), where))
            elif cls is _AfterCall:
                events.extend(node.events)
                continue
            elif cls is cst.Lambda:
                stack.extend(self._lambda(node, where))
                continue
            elif cls in _COMPREHENSION_TYPES:
                stack.extend(self._comprehension(node, where, skip))
                continue
            elif cls is cst.NamedExpr:
                if isinstance(node.target, cst.Name):
                    skip.add(id(node.target))
                    stack.append((_AfterCall([(_DEFINE, self._define(
                        node, node.target.value, ASSIGN, scope=self._function_of(where), value=node.value), None)]), where))
                stack.append((node.value, where))
                continue
            fields = _child_fields(cls)
            items = []
            for name in fields:
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    items.append((value, where))
                elif isinstance(value, (list, tuple)):
                    items.extend((item, where) for item in value if isinstance(item, cst.CSTNode))
            stack.extend(reversed(items))
        self._event_memo[key] = events
        return events

    def _function_of(self, scope: Scope) -> Scope:
        """Where a walrus in a comprehension binds: the enclosing function or module."""
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        return scope

    def _name_event(self, node: cst.Name, where: Scope):
        """A read's event; reads of a lambda's own or outer names, and of a comprehension's own
        names, are recorded at once (they do not depend on the statement order around them)."""
        order = self._tick()
        if where.kind in ("comprehension", "lambda"):
            local = where.definitions.get(node.value)
            if local or where.kind == "lambda":
                defs = tuple(local) if local else self._outer(node.value, where)
                self.reads[id(node)] = Read(where, order, defs, self._region, bool(local))
                for definition in defs:
                    definition.reads[id(node)] = node
                return None
            where = self._function_of(where)
            if where.kind == "lambda":
                defs = self._outer(node.value, where)
                self.reads[id(node)] = Read(where, order, defs, self._region, False)
                return None
        return (_READ, node, (where, order))

    def _candidate(self, node: Candidate, scope: Scope) -> None:
        if id(node) in self.scope_of:
            return
        order = self._tick()
        self.candidates.append(CandidateSite(node, scope, order))
        self.scope_of[id(node)] = scope
        self.order_of[id(node)] = order
        if self._region is not PLAIN:
            self.region_of[id(node)] = self._region

    def _call(self, node: cst.Call, where: Scope, skip: Set[int]) -> Optional[list]:
        func = node.func
        if isinstance(func, cst.Lambda) and all(a.keyword is None and not a.star for a in node.args):
            self.lambda_arguments[id(func)] = [a.value for a in node.args]
        if isinstance(func, cst.Attribute) and func.attr.value in _DETACHING and not node.args:
            self.detached.add(id(func.value))
        elif isinstance(func, cst.Name) and func.value == "float" and len(node.args) == 1:
            self.detached.add(id(node.args[0].value))
        if isinstance(func, cst.Name):
            self.calls_by_name.setdefault(func.value, []).append(node)
        elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            self.method_calls.setdefault(func.attr.value, []).append(node)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and where is self.scope:
            method = func.attr.value
            receiver = func.value.value
            if receiver in ("self", "cls") or receiver not in self.scope.definitions:
                return None
            if method in _APPENDING or (method.endswith("_") and not method.endswith("__")):
                # `layers.append(nn.Sigmoid())`, `x.clamp_(min=eps)`: the name holds something new
                return [(_DEFINE, self._define(node, receiver, CHANGED, value=node, node=node), True)]
        return None

    def _lambda(self, node: cst.Lambda, where: Scope):
        scope = Scope(node, where, "lambda", region=self._region)
        self.lambda_scopes[id(node)] = scope
        arguments = self.lambda_arguments.get(id(node))
        params = _params(node.params)
        invoked = arguments is not None and len(arguments) == len(params) and node.params.star_kwarg is None \
            and not isinstance(node.params.star_arg, cst.Param) and not node.params.kwonly_params
        for index, param in enumerate(params):
            if invoked:  # `(lambda z: f(z))(x)`: z holds x, read where the lambda is
                definition = self._define(param, param.name.value, ASSIGN, scope=scope, value=arguments[index],
                                          node=param, value_scope=where)
            else:
                definition = self._define(param, param.name.value, PARAM, scope=scope, value=param.default,
                                          node=param, value_scope=where)
            scope.params.append(definition)
        items = [(node.body, scope)]
        items.extend((param.default, where) for param in params if param.default is not None)
        return items

    def _comprehension(self, node, where: Scope, skip: Set[int]):
        scope = Scope(node, where, "comprehension", region=self._region)
        items = []
        loop = node.for_in
        first = True
        while loop is not None:
            # the first iterable is read in the enclosing scope; the rest inside
            items.append((loop.iter, where if first else scope))
            self._comprehension_targets(loop.target, loop, scope)
            for condition in loop.ifs:
                items.append((condition.test, scope))
            loop, first = loop.inner_for_in, False
        if isinstance(node, cst.DictComp):
            items.extend([(node.key, scope), (node.value, scope)])
        else:
            items.append((node.elt, scope))
        return items

    def _comprehension_targets(self, target, loop, scope: Scope, path: Tuple[int, ...] = ()) -> None:
        if isinstance(target, cst.Name):
            self._define(target, target.value, LOOP, scope=scope, value=loop.iter, path=path)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for index, element in enumerate(target.elements):
                self._comprehension_targets(element.value, loop, scope, path + (index,))
        elif isinstance(target, cst.StarredElement):
            self._comprehension_targets(target.value, loop, scope, (-1,))



@dataclass
class _AfterCall:
    """A marker on the walk's stack: events that happen once the nodes before it are read."""

    events: list


_COMPREHENSION_TYPES = frozenset(_COMPREHENSIONS)
_CHILD_FIELDS[_AfterCall] = ()


def _params(params: cst.Parameters) -> List[cst.Param]:
    found = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def collect(module: cst.Module, package: Optional[str] = None) -> FileFlow:
    """The flow of a module; `package` (`pkg` for pkg/train.py) resolves relative imports."""
    flow = FileFlow()
    flow.imports.package = package
    flow.walk_module(module)
    return flow


# -- issue 14: the array API's namespace variable -------------------------------------------------
# `xp = array_namespace(x)` (array-api-compat, SciPy), `xp, _ = get_namespace(x)` (scikit-learn),
# `xp = x.__array_namespace__()`: the name stands for the array's namespace, bound to the
# pseudo-module `array_api` (bindings/array_api.py) unless the file imports a module under it.


def _bind_array_namespace(imports, small: cst.Assign) -> None:
    value = small.value
    if not isinstance(value, cst.Call):
        return
    func = value.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    if name not in NAMESPACE_FUNCTIONS:
        return
    for target in small.targets:
        node = target.target
        if isinstance(node, (cst.Tuple, cst.List)) and node.elements:
            node = node.elements[0].value  # scikit-learn: `xp, is_array_api = get_namespace(x)`
        if isinstance(node, cst.Name) and node.value not in imports.aliases:
            imports.aliases[node.value] = "array_api"
