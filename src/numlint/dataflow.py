"""Local dataflow: the one traversal that learns a file's imports, scopes and name bindings.

A name can be looked through to its value when it has exactly one binding in its scope, that
binding is a plain `name = value` assignment, and the use comes after it. Anything else (two
assignments, augmented assignment, loop targets, `global`) makes the name opaque: we would rather
miss a hazard than follow a value the name may not hold.
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


@dataclass
class Scope:
    node: cst.CSTNode
    parent: Optional["Scope"]
    bindings: Dict[str, List[BindingSite]] = field(default_factory=dict)
    occurrences: Dict[str, int] = field(default_factory=dict)  # Name nodes in this scope and below
    not_local: Set[str] = field(default_factory=set)  # declared global / nonlocal
    use_blocks: Dict[int, int] = field(default_factory=dict)  # use order -> its statement list (shared)

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
        self._push(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push(node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._skip_names.add(id(node.name))
        self._bind(node.name.value)
        self._push(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_Param(self, node: cst.Param) -> None:
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
        for target in targets:
            self._bind_target(target.target)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._order += 1
        if isinstance(original_node.target, cst.Name):
            self._bind(original_node.target.value, original_node.value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind_target(original_node.target)

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
