"""Local dataflow: the one traversal that learns a file's imports, scopes and name bindings.

A name can be looked through to its value when it has exactly one binding in its scope, that
binding is a plain `name = value` assignment, and the use comes after it. Anything else (two
assignments, augmented assignment, loop targets, `global`) makes the name opaque: we would rather
miss a hazard than follow a value the name may not hold.

Values also travel the way they do in research code, within one module (`FileFacts.value_of`):
- `self.attr`, assigned exactly once in the class (usually in `__init__`), read in any method;
- `f(...)` for a function of the module with a single `return value`, and `self.method(...)`;
- `model(...)` where `model = Net(...)` and `Net` is a class of the module whose `forward`,
  `__call__` or `call` has a single `return value`.
Such a value's names are read in the scope it was written in (`BindingSite.scope`), never in the
scope of the use, and a fix never moves code across scopes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple, Union

import libcst as cst

from numlint.imports import ImportTable

Candidate = Union[cst.Call, cst.BinaryOperation, cst.UnaryOperation, cst.Comparison]


@dataclass
class BindingSite:
    order: int  # traversal order at which the binding takes effect
    value: Optional[cst.BaseExpression]  # the assigned value for `name = value`, else None
    statement: Optional[cst.SimpleStatementLine] = None  # the line holding `name = value`
    block: int = 0  # id of the statement list the binding's statement is in
    scope: Optional["Scope"] = None  # set when the value is read in another scope than the use's


@dataclass
class Scope:
    node: cst.CSTNode
    parent: Optional["Scope"]
    bindings: Dict[str, List[BindingSite]] = field(default_factory=dict)
    occurrences: Dict[str, int] = field(default_factory=dict)  # Name nodes in this scope and below
    not_local: Set[str] = field(default_factory=set)  # declared global / nonlocal
    use_blocks: Dict[int, int] = field(default_factory=dict)  # use order -> its statement list (shared)
    functions: Dict[str, "Scope"] = field(default_factory=dict)  # `def name` here -> its scope
    classes: Dict[str, "Scope"] = field(default_factory=dict)  # `class Name` here -> its scope
    returns: List[BindingSite] = field(default_factory=list)  # `return value` statements (functions)
    attributes: Dict[str, List[BindingSite]] = field(default_factory=dict)  # `self.attr = ...` (classes)

    def bind(self, name: str, site: BindingSite) -> None:
        self.bindings.setdefault(name, []).append(site)

    def single_assignment(self, name: str) -> Optional[BindingSite]:
        sites = self.bindings.get(name)
        if sites is None or len(sites) != 1 or name in self.not_local:
            return None
        return sites[0]

    def value_of(self, name: str, before: int) -> Optional[BindingSite]:
        """The binding a use at traversal order `before` reads, if it can be known.

        With one binding: that one, if it comes first. With several (`s = s.masked_fill(...)`):
        the latest one before the use, only when it is a plain assignment in the same statement
        list as the use — then it runs right before the use on every path, and no binding in
        between (a later one in a nested block would be the latest) can intervene.
        """
        sites = self.bindings.get(name)
        if not sites or name in self.not_local:
            return None
        if len(sites) == 1:
            site = sites[0]
            return site if site.value is not None and site.order < before else None
        earlier = [site for site in sites if site.order < before]
        if not earlier:
            return None
        latest = max(earlier, key=lambda site: site.order)
        block = self.use_blocks.get(before)
        if latest.value is None or latest.statement is None or block is None or latest.block != block:
            return None
        return latest

    def uses(self, name: str) -> int:
        """Reads of `name` in this scope (and nested ones), not counting its bindings."""
        return self.occurrences.get(name, 0) - len(self.bindings.get(name, ()))


_CALLED_METHODS = ("forward", "__call__", "call")  # what calling a module instance runs
_DETACHING = frozenset({"item", "tolist", "detach", "numpy"})


def _single(sites: Optional[List[BindingSite]]) -> Optional[BindingSite]:
    return sites[0] if sites is not None and len(sites) == 1 and sites[0].value is not None else None


def _owner_class(scope: Scope) -> Optional[Scope]:
    """The class scope when `scope` is one of its methods (where `self` is the instance)."""
    owner = scope.parent
    if isinstance(scope.node, cst.FunctionDef) and owner is not None and isinstance(owner.node, cst.ClassDef):
        return owner
    return None


def _method(cls: Scope, name: str) -> Optional[Scope]:
    """The scope of the class's method `name`, when the class binds that name once, by its `def`."""
    return cls.functions.get(name) if len(cls.bindings.get(name, ())) == 1 else None


@dataclass
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


class FileFacts:
    """Walks a module once and records what the rules need.

    A hand-written walk rather than `CSTVisitor`: libcst's generic dispatch costs about as much as
    the parse itself, and the walk skips whitespace-only fields, which are most of the tree.
    `visit_<Node>` runs on the way down (returning False skips the children), `leave_<Node>` on
    the way up, in source order.
    """

    _VISIT: Dict[type, object] = {}
    _LEAVE: Dict[type, object] = {}

    def __init__(self) -> None:
        self.imports = ImportTable()
        self.module_scope: Optional[Scope] = None
        self.scopes: List[Scope] = []
        self.candidates: List[CandidateSite] = []
        self.scope_of: Dict[int, Scope] = {}  # id(candidate) -> scope
        self.order_of: Dict[int, int] = {}  # id(candidate) -> order
        self._order = 0
        self._skip_names: Set[int] = set()  # Name nodes that are not variable references
        self._statement: Optional[cst.SimpleStatementLine] = None
        self.block_size: Dict[int, int] = {}  # id(statement) -> statements in its block
        self.position_in_block: Dict[int, Tuple[int, int]] = {}  # id(statement) -> (id(block), index)
        self.use_blocks: Dict[int, int] = {}  # candidate order -> id of its statement list
        self._block_now = 0  # the statement list of the statement being walked
        self._invoked_with: Dict[int, List[cst.BaseExpression]] = {}  # id(lambda) -> its call's arguments
        # Where each variable reference is read: its scope, and the order its bindings are seen at.
        # Names inside a value looked through from elsewhere are resolved there, not at the use.
        self.name_where: Dict[int, Tuple[Scope, int]] = {}
        self.detached: Set[int] = set()  # values read out of autograd: `v.item()`, `float(v)`
        self._skip_params: Set[int] = set()

    # -- scopes ---------------------------------------------------------------------------------
    def _push(self, node: cst.CSTNode) -> None:
        parent = self.scopes[-1] if self.scopes else None
        scope = Scope(node=node, parent=parent, use_blocks=self.use_blocks)
        if parent is None:
            self.module_scope = scope
        self.scopes.append(scope)

    def _bind(self, name: str, value: Optional[cst.BaseExpression] = None, scope: Optional[Scope] = None) -> None:
        self.imports.bound_names.add(name)
        statement = self._statement if value is not None else None
        (scope or self.scopes[-1]).bind(name, BindingSite(self._order, value, statement, self._block_now))
        # names inside an assigned value are read where the assignment is: record its block too
        self.use_blocks.setdefault(self._order, self._block_now)

    def _bind_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value)
        elif self._self_attribute(target):
            self._bind_attribute(target, None)  # `self.a, self.b = ...`, `self.n += 1`: opaque

    def visit_Module(self, node: cst.Module) -> None:
        self._push(node)
        self._block(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._block(node.body)

    def _block(self, body) -> None:
        for index, statement in enumerate(body):
            self.block_size[id(statement)] = len(body)
            self.position_in_block[id(statement)] = (id(body), index)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._skip_names.add(id(node.name))
        self._bind(node.name.value)
        defined_in = self.scopes[-1]
        self._push(node)
        defined_in.functions[node.name.value] = self.scopes[-1]

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        enclosing = self.scopes[-1]
        self._push(node)
        arguments = self._invoked_with.pop(id(node), None)
        if arguments is None:
            return
        # `(lambda z: f(z))(x.masked_fill(m, 0))`: z holds the argument, read in the enclosing scope
        params = node.params
        if params.star_arg is cst.MaybeSentinel.DEFAULT and not params.kwonly_params and params.star_kwarg is None \
                and not params.posonly_params and len(params.params) == len(arguments):
            for param, argument in zip(params.params, arguments):
                self._skip_params.add(id(param))
                self.scopes[-1].bind(param.name.value, BindingSite(self._order, argument, None, self._block_now, enclosing))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._skip_names.add(id(node.name))
        self._bind(node.name.value)
        defined_in = self.scopes[-1]
        self._push(node)
        defined_in.classes[node.name.value] = self.scopes[-1]

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_Param(self, node: cst.Param) -> None:
        if id(node) not in self._skip_params:
            self._bind(node.name.value)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.scopes[-1].not_local.add(item.name.value)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self.scopes[-1].not_local.add(item.name.value)

    # -- bindings -------------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> bool:
        self.imports.add(node)
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value)
            else:
                name = alias.name
                while isinstance(name, cst.Attribute):
                    name = name.value
                if isinstance(name, cst.Name):
                    self._bind(name.value)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.imports.add(node)
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                target = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(target, cst.Name):
                    self._bind(target.value)
        return False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._statement = node if len(node.body) == 1 else None

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._statement = None

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._order += 1
        targets = original_node.targets
        if len(targets) == 1 and isinstance(targets[0].target, cst.Name):
            self._bind(targets[0].target.value, original_node.value)
            return
        if len(targets) == 1 and self._self_attribute(targets[0].target):
            self._bind_attribute(targets[0].target, original_node.value)
            return
        for target in targets:
            self._bind_target(target.target)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._order += 1
        if isinstance(original_node.target, cst.Name):
            self._bind(original_node.target.value, original_node.value)
        elif self._self_attribute(original_node.target):
            self._bind_attribute(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind_target(original_node.target)

    def leave_Return(self, original_node: cst.Return) -> None:
        self._order += 1
        self.scopes[-1].returns.append(BindingSite(
            self._order, original_node.value, self._statement, self._block_now, self.scopes[-1]))

    # -- attributes of `self` -------------------------------------------------------------------
    def _self_attribute(self, target: cst.BaseExpression) -> bool:
        return isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
            and target.value.value == "self" and _owner_class(self.scopes[-1]) is not None

    def _bind_attribute(self, target: cst.Attribute, value: Optional[cst.BaseExpression]) -> None:
        """`self.attr = value` in a method: a binding of the class, read in the method's scope."""
        owner = _owner_class(self.scopes[-1])
        if owner is None:
            return
        statement = self._statement if value is not None else None
        site = BindingSite(self._order, value, statement, self._block_now, self.scopes[-1])
        owner.attributes.setdefault(target.attr.value, []).append(site)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._bind(node.name.name.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._bind_target(node.target)

    # -- values across scopes -------------------------------------------------------------------
    def where(self, node: cst.BaseExpression) -> Optional[Tuple[Scope, int]]:
        """The scope and order `node` is read at, when the walk saw it (not for synthetic nodes)."""
        if isinstance(node, cst.Attribute):
            node = node.value
        if isinstance(node, cst.Name):
            return self.name_where.get(id(node))
        scope = self.scope_of.get(id(node))
        return (scope, self.order_of[id(node)]) if scope is not None else None

    def value_of(self, node: cst.BaseExpression, scope: Scope, order: int) -> Optional[BindingSite]:
        """The value `node` holds, read at `order` in `scope`, if it can be known: a local name, an
        attribute of `self`, or the return value of a function, method or module of this file."""
        if isinstance(node, cst.Name):
            return scope.value_of(node.value, order)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, scope, order)
        if isinstance(node, cst.Call):
            callee = self._callee(node.func, scope, order)
            return _single(callee.returns) if callee is not None else None
        return None

    def _attribute(self, node: cst.Attribute, scope: Scope, order: int) -> Optional[BindingSite]:
        owner = _owner_class(scope)
        if owner is None or not (isinstance(node.value, cst.Name) and node.value.value == "self"):
            return None
        site = _single(owner.attributes.get(node.attr.value))
        if site is None or (site.scope is scope and site.order >= order):
            return None  # in the method that assigns it, only after the assignment
        return site

    def _callee(self, func: cst.BaseExpression, scope: Scope, order: int) -> Optional[Scope]:
        """The scope of the function a call runs, when it is defined in this file: a function,
        a method of `self`, or the forward pass of an instance of a class of this file."""
        instance = None
        if isinstance(func, cst.Name):
            defined = self._defined(func.value, scope)
            if defined is not None and isinstance(defined.node, cst.FunctionDef):
                return defined
            instance = scope.value_of(func.value, order)  # `model(x)` after `model = Net()`
        elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            owner = _owner_class(scope)
            if owner is None:
                return None
            method = _method(owner, func.attr.value)
            if method is not None and func.attr.value not in owner.attributes:
                return method
            instance = self._attribute(func, scope, order)  # `self.net(x)` after `self.net = Net()`
        if instance is None or not isinstance(instance.value, cst.Call) or not isinstance(instance.value.func, cst.Name):
            return None
        cls = self._defined(instance.value.func.value, instance.scope or scope)
        if cls is None or not isinstance(cls.node, cst.ClassDef):
            return None
        for name in _CALLED_METHODS:
            method = _method(cls, name)
            if method is not None:
                return method
        return None

    def _defined(self, name: str, scope: Optional[Scope]) -> Optional[Scope]:
        """The function or class `name` refers to from `scope`: the nearest enclosing scope that
        binds it must bind it once, by its `def` or `class` (class bodies are not enclosing)."""
        first = scope
        while scope is not None:
            if scope is first or not isinstance(scope.node, cst.ClassDef):
                sites = scope.bindings.get(name)
                if sites:
                    if len(sites) != 1 or name in scope.not_local:
                        return None
                    return scope.functions.get(name) or scope.classes.get(name)
            scope = scope.parent
        return None

    # -- uses and candidates --------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip_names.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip_names.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self._skip_names:
            return
        name = node.value
        self.name_where[id(node)] = (self.scopes[-1], self._order)
        scope: Optional[Scope] = self.scopes[-1]
        while scope is not None:
            scope.occurrences[name] = scope.occurrences.get(name, 0) + 1
            scope = scope.parent

    def _candidate(self, node: Candidate) -> None:
        self._order += 1
        self.candidates.append(CandidateSite(node, self.scopes[-1], self._order))
        self.scope_of[id(node)] = self.scopes[-1]
        self.order_of[id(node)] = self._order
        self.use_blocks[self._order] = self._block_now

    def visit_Call(self, node: cst.Call) -> None:
        self._candidate(node)
        func = node.func
        if isinstance(func, cst.Lambda) and all(a.keyword is None and not a.star for a in node.args):
            self._invoked_with[id(func)] = [a.value for a in node.args]
        if isinstance(func, cst.Attribute) and func.attr.value in _DETACHING and not node.args:
            self.detached.add(id(func.value))
        elif isinstance(func, cst.Name) and func.value == "float" and len(node.args) == 1:
            self.detached.add(id(node.args[0].value))

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._candidate(node)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        self._candidate(node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._candidate(node)


    def walk(self, root: cst.CSTNode) -> None:
        visit, leave = self._VISIT, self._LEAVE
        positions = self.position_in_block
        stack: List[Tuple[object, object]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if node is None:  # back out of a statement: its statement list was `leaving`
                self._block_now = leaving
                continue
            cls = type(node)
            if leaving:
                leave[cls](self, node)
                continue
            handler = visit.get(cls)
            if handler is not None and handler(self, node) is False:
                continue
            where = positions.get(id(node))
            if where is not None:
                stack.append((None, self._block_now))
                self._block_now = where[0]
            if cls in leave:
                stack.append((node, True))
            children = []
            for name in _child_fields(cls):
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    children.append((value, False))
                elif isinstance(value, (list, tuple)):
                    children.extend((item, False) for item in value if isinstance(item, cst.CSTNode))
            stack.extend(reversed(children))


def _dispatch_tables() -> None:
    for attribute in dir(FileFacts):
        for prefix, table in (("visit_", FileFacts._VISIT), ("leave_", FileFacts._LEAVE)):
            if attribute.startswith(prefix):
                table[getattr(cst, attribute[len(prefix):])] = getattr(FileFacts, attribute)


_dispatch_tables()


def collect(module: cst.Module) -> FileFacts:
    facts = FileFacts()
    facts.walk(module)
    return facts
