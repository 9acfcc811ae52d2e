"""Checking one file's text: one parse, one traversal, every selected rule, fixes rendered."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

import libcst as cst

from numlint import flow, libcst_text, limits, prefilter, recursion
from numlint.analysis import Analysis
from numlint.flow import ASSIGN, Scope, children, subtree
from numlint.diagnostics import Edit, FileError, Finding, Fix, Position
from numlint.ops import ELSEWHERE, LAYER_INPUT, Viewer, code
from numlint.patterns import ABSENT, Env, Matcher, metavariables
from numlint.positions import Positions, StatementMemo
from numlint.reparse import Reparser
from numlint.predicates import Context, holds
from numlint.render import CannotRender, render, shown
from numlint.rules import Rule, RulePattern
from numlint.summaries import ProjectIndex, exported_words, summarize
from numlint.source import LineIndex, dominant_newline


_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE_NOQA = re.compile(r"#\s*numlint\s*:\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODES = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


@dataclass
class _Hit:
    rule: Rule
    pattern: RulePattern
    node: cst.BaseExpression
    scope: Scope
    env: Env


@dataclass
class ModuleContext:
    """Where a file sits in its project: its package (for `from .model import f`), and the
    summaries of the project's other modules. The check fills `asked`: the qualified names of
    other modules its values were looked up in."""

    package: Optional[str] = None
    project: Optional[ProjectIndex] = None
    words: FrozenSet[str] = frozenset()  # the op spellings the project modules it imports bring (prefilter)
    asked: Set[str] = field(default_factory=set)


def check_text(text: str, rules: Sequence[Rule], line_noqa: bool = True,
               context: Optional[ModuleContext] = None,
               reuse: Optional[Reparser] = None) -> Tuple[List[Finding], List[FileError]]:
    """All findings of `rules` in a file's text (noqa applied), or the reason it could not be read.

    `line_noqa=False` keeps findings on lines with a `# noqa` comment, for a host (flake8) that
    reads those comments itself; a `# numlint: noqa` file comment applies either way. `reuse`
    parses successive versions of one document, re-parsing only what changed (reparse.py: the
    same tree, so the same findings)."""
    exempt = _file_exemptions(text)
    if exempt is True:
        return [], []
    words = context.words if context is not None else frozenset()
    rules = prefilter.rules_in_play(text, [r for r in rules if r.code not in exempt], words)
    if not rules:
        return [], []  # a file that cannot hold a hazard is never refused: it is not parsed anyway
    # Limits (limits.py): memory and time grow with size, and libcst crashes the process (no
    # exception) on deep nesting. Each refusal is one line, placed.
    refused = limits.too_big(text)
    if refused is not None:
        return [], [FileError(refused[0], LineIndex(text).position(refused[1]))]
    # Functions that cannot matter are blanked out line for line: positions stay the same.
    # (A file checked with what its imports bring is parsed whole: any function may use them.
    # So is a document whose previous tree is reused: libcst parses only what an edit touched,
    # and finding what to blank would cost more than the parse it saves: reparse.py.)
    reduced = text if words or reuse is not None else prefilter.reduce(text, rules)
    depth = limits.measure(reduced)
    refused = limits.refusal(depth)
    if refused is not None:
        return [], [FileError(refused[0], LineIndex(reduced).position(refused[1]))]
    parsed, shifts = libcst_text.for_libcst(reduced)
    parse = reuse.parse if reuse is not None else cst.parse_module
    try:
        if limits.needs_a_deep_stack(depth):  # the calling thread's stack may be small
            module = recursion.on_a_deep_stack(lambda: parse(parsed))
        else:
            module = parse(parsed)
    except cst.ParserSyntaxError as exc:
        return [], [_syntax_error(text, exc)]
    except (RecursionError, MemoryError) as exc:  # absurdly deep or large expressions
        return [], [FileError(f"cannot parse: {type(exc).__name__}")]
    def run() -> Tuple[List[Finding], List[FileError]]:
        return FileChecker(text, module, rules, shifts, line_noqa, parsed, context,
                           reuse.memo if reuse is not None else None).run()

    try:
        return run()
    except RecursionError:
        pass  # a long operator chain nests deeply in libcst's tree (recursion.py)
    try:
        return recursion.on_a_deep_stack(run)
    except RecursionError:
        return [], [FileError("too deeply nested to check")]


def summarize_text(text: str, package: Optional[str] = None, place_name: str = "",
                   project: Optional[ProjectIndex] = None,
                   imported_names: FrozenSet[str] = frozenset(),
                   shaped: FrozenSet[str] = frozenset()) -> Tuple[dict, Set[str]]:
    """The summary of a module (`summaries.py`), and the other modules' names it read; the
    functions named in `shaped` with the shapes of what they return. A text that does not parse
    has an empty summary."""
    try:
        # Only what may make an exported value is parsed: functions that spell one of its ops, what
        # they call, the functions asked for shapes, and the methods of their classes that set attributes.
        reduced = prefilter.keep_only(text, exported_words() | imported_names | shaped)
        depth = limits.measure(reduced)
        if limits.refusal(depth) is not None or limits.too_big(text) is not None:
            return {"version": 1, "names": {}}, set()
        parsed, shifts = libcst_text.for_libcst(reduced)
        module = cst.parse_module(parsed)

        def run():
            facts = flow.collect(module, package)
            analysis = Analysis(facts, Viewer(facts.imports), project)
            positions = Positions(module)

            def place(node) -> Optional[str]:
                try:
                    where = positions[node]
                except KeyError:
                    return place_name or None
                return f"{place_name}:{where.start.line}"

            return summarize(analysis, place, shaped), analysis.asked

        try:
            return run()
        except RecursionError:
            return recursion.on_a_deep_stack(run)
    except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError):
        return {"version": 1, "names": {}}, set()


def _syntax_error(text: str, exc: cst.ParserSyntaxError) -> FileError:
    # CPython's own parser places and words syntax errors better than libcst's; ask it first.
    try:
        compile(text, "<file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as py_exc:
        return FileError(f"cannot parse: {py_exc.msg}", Position(py_exc.lineno or 1, max(py_exc.offset or 1, 1)))
    except (ValueError, RecursionError, MemoryError):
        pass
    message = " ".join(exc.message.split()) or "invalid syntax"
    return FileError(f"cannot parse: {message}", Position(exc.raw_line, exc.raw_column + 1))


def _file_exemptions(text: str):
    codes: Set[str] = set()
    for match in _FILE_NOQA.finditer(text):
        if not match.group("codes"):
            return True
        codes.update(c.upper() for c in _CODES.findall(match.group("codes")))
    return codes


class FileChecker:
    def __init__(self, text: str, module: cst.Module, rules: Sequence[Rule], shifts: Optional[Dict[int, int]] = None,
                 line_noqa: bool = True, parsed: Optional[str] = None, context: Optional[ModuleContext] = None,
                 memo: Optional[StatementMemo] = None) -> None:
        self.text = text
        self.context = context
        self.line_noqa = line_noqa
        self.parsed = parsed  # the text libcst parsed (libcst_text.py), to check positions against
        self.module = module
        self.rules = rules
        self.lines = LineIndex(text)
        self.shifts = shifts or {}  # columns libcst did not see, per row (libcst_text.py)
        self.positions = Positions(module, memo, self._top_level_of)
        self.facts = None
        self._parents = None
        self._gradient_free: Dict[int, bool] = {}  # test function -> it takes no gradient

    def run(self) -> Tuple[List[Finding], List[FileError]]:
        where = self.context
        facts = flow.collect(self.module, where.package if where else None)
        self.facts = facts
        analysis = Analysis(facts, Viewer(facts.imports), where.project if where else None)
        self.analysis = analysis
        viewer = analysis.viewer
        matcher = Matcher(analysis)
        by_root: Dict[str, List[Tuple[Rule, RulePattern]]] = {}
        for rule in self.rules:
            for pattern in rule.patterns:
                by_root.setdefault(pattern.root, []).append((rule, pattern))
        hits: List[_Hit] = []
        errors: List[FileError] = []
        failed: Set[str] = set()
        for site in facts.candidates:
            term = viewer.view(site.node)
            if term is None:
                continue
            matched: Set[str] = set()  # one finding per rule and node: the first pattern that matches
            for rule, pattern in by_root.get(term.op, ()):
                if rule.code in failed or rule.code in matched:
                    continue
                try:
                    env = matcher.match(pattern.match, site.node, site.scope)
                    if env is None:
                        continue
                    context = Context(analysis, site.scope, site.order)
                    if pattern.unless or pattern.when:
                        _note_imported(analysis, env, pattern)
                    if any(_guard_holds(guard, context, env) for guard in pattern.unless):
                        continue
                    if not all(_guard_holds(guard, context, env) for guard in pattern.when):
                        continue
                    frameworks = pattern.frameworks or rule.frameworks
                    if frameworks and _framework(env) not in frameworks:
                        continue
                    if frameworks and _AUTOGRAD_ONLY.issuperset(frameworks) and (
                            id(site.node) in facts.detached or analysis.value(site.node).grad is False
                            or self._test_without_gradients(site.scope)):
                        continue  # a gradient hazard where no gradient flows: `sqrt(d).item()`, `torch.no_grad()`
                except RecursionError:
                    raise  # the file is too deep, not the rule wrong: check_text retries it
                except Exception as exc:  # a rule's bug must not stop the other rules or files
                    failed.add(rule.code)
                    errors.append(_rule_crash(rule, exc))
                    continue
                hits.append(_Hit(rule, pattern, site.node, site.scope, env))
                matched.add(rule.code)
        if hits and self.parsed is not None and self.positions.code().rstrip() != self.parsed.rstrip():
            # libcst's tree does not reproduce the text it parsed, so its positions (and any fix
            # placed by them) cannot be trusted. libcst_text.py handles the cases we know. (libcst
            # drops whitespace at the very end — blank lines, `\r` line ends: harmless, ignored.)
            return [], [FileError("cannot check this file exactly: libcst does not reproduce it "
                                  "(please report it, with the file, as a numlint bug)", code="internal")]
        if where is not None:
            where.asked |= analysis.asked
        hits = [hit for hit in hits if not hit.rule.consumers or self._reaches(hit, viewer, hit.rule.consumers)]
        hits = self._outermost(hits)
        findings = []
        for hit in hits:
            try:
                findings.append(self._finding(hit))
            except RecursionError:
                raise
            except Exception as exc:
                errors.append(_rule_crash(hit.rule, exc))
        return [f for f in findings if not (self.line_noqa and self._suppressed(f))], errors

    # -- positions ------------------------------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Tuple[int, int]:
        # Positions are only needed once something is found, and only for the top-level
        # statements that hold what is reported (positions.py).
        where = self.positions[node]
        start, end = where.start, where.end
        return (
            self.lines.offset(start.line, start.column + self.shifts.get(start.line, 0)),
            self.lines.offset(end.line, end.column + self.shifts.get(end.line, 0)),
        )

    def _top_level_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The top-level function or class a candidate is in, from its scope (None at module level)."""
        scope = self.facts.scope_of.get(id(node)) if self.facts is not None else None
        while scope is not None and scope.parent is not None and scope.parent.parent is not None:
            scope = scope.parent
        return scope.node if scope is not None and scope.parent is not None else None

    def _edit(self, start: int, end: int, content: str) -> Edit:
        return Edit(start, end, content, self.lines.position(start), self.lines.position(end))

    # -- findings -------------------------------------------------------------------------------
    def _outermost(self, hits: List[_Hit]) -> List[_Hit]:
        """One finding per hazard: drop hits inside, or reached through, another hit of the rule.

        A hit is dropped when another hit of the same rule spans strictly more than it (or the
        same, for a rule that supersedes it), or when a name it looks through was assigned a
        value holding a hit of the rule. O(n log n) in the hits: spans are swept in order of
        their start (`_Containers`), and each looked-through value's subtree is read once.
        """
        spans = [self.span(hit.node) for hit in hits]
        containers: Dict[str, _Containers] = {}
        for code in {hit.rule.code for hit in hits}:
            strict = [(spans[i], i) for i, h in enumerate(hits) if h.rule.code == code and code not in h.rule.supersedes]
            loose = [(spans[i], i) for i, h in enumerate(hits) if code in h.rule.supersedes]
            containers[code] = _Containers(strict, loose)
        codes_at: Dict[int, Set[str]] = {}
        for hit in hits:
            codes_at.setdefault(id(hit.node), set()).add(hit.rule.code)
        codes_within: Dict[int, Set[str]] = {}  # value node -> codes of hits in its subtree
        kept = []
        for index, hit in enumerate(hits):
            if containers[hit.rule.code].holds(spans[index], index):
                continue
            wanted = (hit.rule.code, *hit.rule.supersedes)
            through_reported = False
            for _, origin in hit.env.through:
                found = codes_within.get(id(origin.value))
                if found is None:
                    found = set()
                    for sub in subtree(origin.value):
                        found.update(codes_at.get(id(sub), ()))
                    codes_within[id(origin.value)] = found
                if any(code in found for code in wanted):
                    through_reported = True  # the finding at the intermediate is where the fix belongs
                    break
            if not through_reported:
                kept.append(hit)
        return kept

    def _finding(self, hit: _Hit) -> Finding:
        start, end = self.span(hit.node)
        fix, help_text = None, hit.pattern.help
        reasons = []
        for template in hit.pattern.fixes:
            try:
                fix = self._fix(hit, template)
                break
            except CannotRender as exc:
                reasons.append(str(exc))
        if fix is not None:
            help_text = None
        elif reasons:
            reason = f"no automatic fix here: {reasons[0]}"
            help_text = f"{help_text} ({reason})" if help_text else reason[0].upper() + reason[1:] + "."
        return Finding(
            code=hit.rule.code,
            name=hit.rule.name,
            message=hit.rule.message,
            location=self.lines.position(start),
            end_location=self.lines.position(end),
            fix=fix,
            help=help_text,
        )

    def _fix(self, hit: _Hit, template) -> Fix:
        if hit.env.advice is not None and any(
                (bound := hit.env.values.get(name)) is not None and bound.node is not ABSENT
                for name in metavariables(template)):
            raise CannotRender(self._elsewhere(hit, hit.env.advice))
        rendered = render(template, self.facts.imports, hit.env)
        dead = list(self._dead_intermediates(hit, rendered.code))
        used = set(metavariables(template))
        for name in used:
            bound = hit.env.values.get(name)
            if bound is not None and bound.node is ELSEWHERE:
                raise CannotRender(self._elsewhere(hit))
            if bound is not None and bound.node is LAYER_INPUT:
                raise CannotRender("the value is the output of a model's last layer; have the model output "
                                   "the logits and apply the stable form to them")
            if bound is not None and bound.foreign and bound.node is not ABSENT:
                raise CannotRender(self._elsewhere(hit))
            if bound is not None and bound.resolved and bound.node is not ABSENT:
                if not _movable(bound.node, hit.scope) and not self._moves_in_place(hit, bound.node, dead):
                    raise CannotRender(
                        f"`{shown(code(bound.node), 40)}` is computed on another line; "
                        "assign it to a name first, then apply the stable form to that name"
                    )
        start, end = self.span(hit.node)
        replacement = rendered.code
        if not rendered.atomic and self._needs_parentheses(hit.node):
            replacement = f"({replacement})"
        elif rendered.atomic and getattr(hit.node, "lpar", ()):
            start, end = self._outer_parentheses(hit.node, start, end)  # `(a + eps)` -> `a.sqrt()`
        edits = [self._edit(start, end, replacement)]
        edits.extend(dead)
        if rendered.imports:
            edits.append(self._import_edit(rendered.imports))
        edits.sort(key=lambda e: (e.start_offset, e.end_offset))
        title = hit.rule.title_for(shown(rendered.code))
        return Fix(hit.pattern.fix_safety, title, tuple(edits))

    def _elsewhere(self, hit: _Hit, reason: Optional[str] = None) -> str:
        """Why a value made elsewhere (another function, another path, before a reshape) cannot
        be fixed here, and where to look."""
        for node, origin in hit.env.through:
            if origin.how == "imported":
                where = self.analysis.imported.get(id(origin.value)) or "another module"
                return (f"`{shown(code(node), 40)}` returns a value made at {where}; "
                        "apply the stable form there")
        for node, origin in hit.env.through:
            if origin.producer is not None:
                return self._made_elsewhere(node, origin)
        for node, origin in hit.env.through:
            if origin.scope is not hit.scope or reason is not None:
                row = self.lines.position(self.span(origin.value)[0]).row
                if reason is not None:
                    return f"{reason} (`{shown(code(node), 40)}` comes from line {row})"
                return (f"the value of `{shown(code(node), 40)}` is computed in another function or method (line {row}); "
                        "apply the stable form there")
        if reason is not None:
            return reason
        return "part of it is computed in another function or method; apply the stable form there"

    def _made_elsewhere(self, node: cst.CSTNode, origin) -> str:
        """`the sigmoid of line 9 reaches `pred.squeeze(1)` through `squeeze`, a return...`"""
        producer = origin.producer
        steps = [_STEP_WORDS.get(step, f"`{step}`") for step in producer.via if step != "imported"]
        path = f" through {', '.join(dict.fromkeys(steps))}" if steps else ""
        if producer.node is None:
            return (f"the {producer.op} made at {producer.elsewhere} reaches `{shown(code(node), 40)}`{path}; "
                    "apply the stable form there")
        row = self.lines.position(self.span(origin.value)[0]).row
        what = f"the {producer.op} {'the layer on' if producer.layer else 'made on'} line {row}"
        if producer.layer:
            what = f"the {producer.op} of the layer built on line {row}"
        return f"{what} reaches `{shown(code(node), 40)}`{path}; apply the stable form where it is made"

    def _moves_in_place(self, hit: _Hit, node: cst.CSTNode, dead: List[Edit]) -> bool:
        """May a value with calls (`model(x)`) move from its assignment into the fixed expression?

        Only when the assignment is deleted (so it is still computed once) and sits directly
        before the statement that uses it, so nothing runs in between.
        """
        deleted = {(e.start_offset, e.end_offset) for e in dead}
        statement = self._statement_of(hit.node)
        for _, origin in hit.env.through:
            site = origin.definition
            if site is None or site.statement is None or not any(sub is node for sub in subtree(origin.value)):
                continue
            start, _ = self.span(site.statement)
            line_start = self.lines.starts[self.lines.position(start).row - 1]
            if not any(begin == line_start for begin, _ in deleted):
                return False
            where = self.facts.position_in_block.get(id(site.statement))
            here = self.facts.position_in_block.get(id(statement))
            return where is not None and here is not None and where[0] == here[0] and here[1] == where[1] + 1
        return False

    def _statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        parents = self._parent_map()
        while node is not None and not isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            node = parents.get(id(node))
        return node

    def _parent_map(self) -> Dict[int, cst.CSTNode]:
        # Built only for files with a fix to write, so most files never pay for it.
        if self._parents is None:
            self._parents = {id(child): parent for parent in subtree(self.module) for child in children(parent)}
        return self._parents

    def _reaches(self, hit: _Hit, viewer: Viewer, ops) -> bool:
        """Does the matched value flow into one of `ops`: as (part of) an argument of such a call
        in the same statement, or through the name it is assigned to, read later in the scope?"""
        parents = self._parent_map()
        node, assigned = hit.node, None
        while id(node) in parents:
            parent = parents[id(node)]
            if isinstance(parent, cst.Call):
                term = viewer.view(parent)
                if term is not None and term.op in ops and any(a.node is node or _contains(a.node, node) for a in term.args.values()):
                    return True
            if isinstance(parent, cst.Assign) and node is parent.value and len(parent.targets) == 1:
                target = parent.targets[0].target
                assigned = target.value if isinstance(target, cst.Name) else None
            if isinstance(parent, cst.Expr) and node is hit.node:
                assigned = _updated_in_place(node)  # `scores.masked_fill_(m, -inf)`: scores is the value
            if isinstance(parent, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                break
            node = parent
        if assigned is None:
            return False
        return self._name_reaches(assigned, hit.scope, self.facts.order_of.get(id(hit.node), 0), viewer, ops, 0)

    def _test_without_gradients(self, scope) -> bool:
        """A test function (`test_*`) that asks for no gradient anywhere in its body: the values it
        computes are compared, not differentiated (an RMSE checked with assertLess)."""
        while scope is not None and scope.kind != "function":
            scope = scope.parent
        node = scope.node if scope is not None else None
        if not isinstance(node, cst.FunctionDef) or not node.name.value.startswith("test"):
            return False
        key = id(node)
        if key not in self._gradient_free:
            self._gradient_free[key] = not any(
                isinstance(sub, cst.Name) and sub.value in _GRADIENT_WORDS for sub in subtree(node))
        return self._gradient_free[key]

    def _name_reaches(self, name: str, scope, start: int, viewer: Viewer, ops, depth: int) -> bool:
        """Is `name`, read in `scope` after `start`, an argument of one of `ops` there, or passed
        to a function of this file whose parameter is (two calls deep: a softmax in a helper)?"""
        for site in self.facts.candidates:
            if site.scope is not scope or site.order <= start:
                continue
            term = viewer.view(site.node)
            if term is None or term.op not in ops:
                continue
            if any(_references(arg.node, name) for arg in term.args.values()):
                return True
        if depth >= 2 or not hasattr(scope.node, "body"):
            return False
        body = scope.node.body
        for call in (sub for part in (body if isinstance(body, (list, tuple)) else [body]) for sub in subtree(part)):
            if not isinstance(call, cst.Call) or self.facts.order_of.get(id(call), start + 1) <= start:
                continue
            if not any(isinstance(a.value, cst.Name) and a.value.value == name for a in call.args):
                continue
            callee, passed = self.analysis.call_parameters(call)
            if callee is None or callee is scope:
                continue
            for param, argument in passed:
                if isinstance(argument, cst.Name) and argument.value == name and \
                        self._name_reaches(param, callee, -1, viewer, ops, depth + 1):
                    return True
        return False

    def _outer_parentheses(self, node, start: int, end: int) -> Tuple[int, int]:
        """The span of a node with its own parentheses, from the inside out while only whitespace
        lies between (a comment inside keeps them). The tree says which `(` are the node's own."""
        for left, right in zip(reversed(node.lpar), node.rpar):
            left_start, right_end = self.span(left)[0], self.span(right)[1]
            if self.text[left_start + 1:start].strip() or self.text[end:right_end - 1].strip():
                break
            start, end = left_start, right_end
        return start, end

    def _needs_parentheses(self, node: cst.CSTNode) -> bool:
        """Would an operator expression put where `node` is bind differently than `node` did?"""
        if getattr(node, "lpar", ()):
            return False  # the node's own parentheses stay: positions exclude them
        parent = self._parent_map().get(id(node))
        return not isinstance(parent, _LOOSE_CONTEXTS)

    def _dead_intermediates(self, hit: _Hit, replacement: str = "") -> Iterable[Edit]:
        """Delete `p = softmax(z)` lines whose every read is inside code the fix replaces or
        deletes (and that the fixed code does not read again)."""
        replaced = [hit.node]
        seen = set()
        for name_node, origin in hit.env.through:
            site = origin.definition
            if not isinstance(name_node, cst.Name) or site is None or origin.how != "name" or site.kind != ASSIGN \
                    or site.path or site.scope is not hit.scope:
                continue  # `self.p`, `f(x)`, `a, b = ...`: the value lives on elsewhere
            statement = site.statement
            if statement is None or id(statement) in seen or self.facts.block_size.get(id(statement), 0) < 2:
                continue
            seen.add(id(statement))
            if not site.reads or not all(any(_contains(node, read) for node in replaced) for read in site.reads.values()):
                continue  # read elsewhere too (`s = s.masked_fill(...)`, a later use)
            if re.search(rf"(?<![\w.]){re.escape(site.name)}(?!\w)", replacement):
                continue  # the fixed code still reads it
            start, end = self.span(statement)
            row_start = self.lines.position(start).row
            row_end = self.lines.position(end).row
            line_start = self.lines.starts[row_start - 1]
            if self.text[line_start:start].strip():
                continue  # something else shares the line
            line_end = self.lines.starts[row_end] if row_end < self.lines.rows else len(self.text)
            replaced.append(origin.value)
            yield self._edit(line_start, line_end, "")

    def _import_edit(self, statements: List[str]) -> Edit:
        newline = dominant_newline(self.text)
        anchor = None
        for statement in self.module.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                break
            if isinstance(statement, cst.SimpleStatementLine) and all(
                isinstance(item, (cst.Import, cst.ImportFrom)) for item in statement.body
            ):
                anchor = statement
        if anchor is not None:
            end_row = self.lines.position(self.span(anchor)[1]).row
            if end_row < self.lines.rows:
                offset = self.lines.starts[end_row]
                return self._edit(offset, offset, "".join(s + newline for s in statements))
            offset = len(self.text)
            return self._edit(offset, offset, "".join(newline + s for s in statements) + newline)
        return self._edit(0, 0, "".join(s + newline for s in statements))

    def _suppressed(self, finding: Finding) -> bool:
        if finding.noqa_row > self.lines.rows:
            return False
        match = _NOQA.search(self.lines.line(finding.noqa_row))
        if match is None:
            return False
        codes = match.group("codes")
        if not codes:
            return True
        return finding.code in {c.upper() for c in _CODES.findall(codes)}


# How a value travelled, in words (other steps are the methods it went through: `squeeze`).
_STEP_WORDS = {"indexed": "indexing", "returned": "a return", "joined": "a concatenation", "reshaped": "a reshape"}


class _Containers:
    """Spans that can hold a hit of one rule: `strict` ones (the rule's own hits) must span more
    than it, `loose` ones (hits of rules that supersede it) may span the same. Queries in
    O(log n): spans sorted by start, with running maxima of their ends."""

    def __init__(self, strict: List[Tuple[Tuple[int, int], int]], loose: List[Tuple[Tuple[int, int], int]]) -> None:
        strict.sort()
        self.strict_starts = [start for (start, _), _ in strict]
        self.strict_best: List[int] = []  # the largest end among strict spans starting at or before
        best = -1
        for (_, end), _ in strict:
            best = max(best, end)
            self.strict_best.append(best)
        self.strict_same_start: Dict[int, int] = {}  # start -> largest end of strict spans there
        for (start, end), _ in strict:
            self.strict_same_start[start] = max(self.strict_same_start.get(start, -1), end)
        loose.sort()
        self.loose_starts = [start for (start, _), _ in loose]
        self.loose_top: List[Tuple[Tuple[int, int], Tuple[int, int]]] = []  # two largest (end, hit), distinct hits
        first, second = (-1, -1), (-1, -1)
        for (_, end), index in loose:
            if (end, index) > first:
                first, second = (end, index), first
            elif (end, index) > second:
                second = (end, index)
            self.loose_top.append((first, second))

    def holds(self, span: Tuple[int, int], index: int) -> bool:
        """Is some other hit's span around `span` (hit number `index`)?"""
        start, end = span
        before = bisect_left(self.strict_starts, start)  # strict spans starting before this one
        if before and self.strict_best[before - 1] >= end:
            return True
        if self.strict_same_start.get(start, -1) > end:
            return True
        upto = bisect_right(self.loose_starts, start)
        if upto:
            for best_end, other in self.loose_top[upto - 1]:
                if other != index and other >= 0 and best_end >= end:
                    return True
        return False


# Frameworks with autograd: a rule limited to them is about gradients.
_AUTOGRAD_ONLY = frozenset({"torch", "jax", "tensorflow", "keras"})


def _framework(env: Env) -> Optional[str]:
    """The framework of the matched code: of its outermost call that names one."""
    for term in env.terms:
        if term.style not in ("operator", "constant") and len(term.frameworks) == 1:
            return term.frameworks[0]
    return None


def _note_imported(analysis: Analysis, env: Env, pattern: RulePattern) -> None:
    """A guard reads a metavariable bound to a call of another module's function: note the call for
    the second phase, and, when the function's shape is known, the finding is advice there."""
    for guard in (*pattern.unless, *pattern.when):
        bound = env.values.get(guard.metavariable)
        if bound is None or bound.node is ABSENT:
            continue
        origins = analysis.noted_call(bound.node)
        if origins:
            env.through.append((bound.node, origins[0]))
            env.advice = env.advice or "the value is made in another module; apply the stable form there"


def _guard_holds(guard, context: Context, env: Env) -> bool:
    bound = env.values.get(guard.metavariable)
    if bound is None:
        return False
    words = tuple(_word(word, env) for word in guard.words)
    return holds(guard.predicate, context, bound.node, words)


def _word(word: str, env: Env):
    """A guard's further argument: a plain word, or a metavariable's bound node (None if absent)."""
    if not word.startswith("$"):
        return word
    bound = env.values.get(word[1:])
    return None if bound is None or bound.node is ABSENT else bound.node


def _rule_crash(rule: Rule, exc: BaseException) -> FileError:
    return FileError(
        f"rule {rule.code} failed ({type(exc).__name__}: {exc}); this is a numlint bug, please report it",
        code=rule.code,
    )


def _references(node: cst.CSTNode, name: str) -> int:
    """How many times `name` is read as a variable inside `node` (not `obj.name`, not `name=`)."""
    skip = set()
    count = 0
    for sub in subtree(node):
        if isinstance(sub, cst.Attribute):
            skip.add(id(sub.attr))
        elif isinstance(sub, cst.Arg) and sub.keyword is not None:
            skip.add(id(sub.keyword))
        elif isinstance(sub, cst.Name) and sub.value == name and id(sub) not in skip:
            count += 1
    return count



# Names a test must spell to take a gradient (torch, jax, tensorflow, keras).
_GRADIENT_WORDS = frozenset({"backward", "grad", "gradient", "gradients", "GradientTape", "value_and_grad", "vjp",
                             "jvp", "autograd", "grad_fn", "requires_grad", "requires_grad_", "jacobian", "hessian",
                             "jacrev", "jacfwd", "gradcheck", "apply_gradients", "fit", "train_step", "step"})

def _updated_in_place(node: cst.BaseExpression) -> Optional[str]:
    """The name an in-place method call updates (`scores.masked_fill_(m, v)`: PyTorch's trailing
    underscore), when the call is a statement of its own."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) \
            and node.func.attr.value.endswith("_") and not node.func.attr.value.startswith("_"):
        return node.func.value.value
    return None


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    return any(sub is node for sub in subtree(tree))


# Places where an arithmetic expression needs no parentheses of its own.
_LOOSE_CONTEXTS = (
    cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Return, cst.Expr, cst.Arg, cst.Element,
    cst.StarredElement, cst.DictElement, cst.Index, cst.Param, cst.Yield, cst.Comparison,
    cst.ComparisonTarget, cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.FormattedStringExpression,
)

_PURE = (cst.Name, cst.Attribute, cst.Subscript, cst.SubscriptElement, cst.Index, cst.Slice,
         cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation, cst.BinaryOperation,
         cst.Tuple, cst.Element, cst.Comma, cst.LeftParen, cst.RightParen, cst.Dot,
         cst.BaseUnaryOp, cst.BaseBinaryOp, cst.SimpleWhitespace, cst.ParenthesizedWhitespace,
         cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment, cst.LeftSquareBracket,
         cst.RightSquareBracket, cst.Colon)


def _movable(node: cst.BaseExpression, scope: Scope) -> bool:
    """Can this expression be evaluated on another line with the same result?

    Only names, attributes, subscripts, literals and arithmetic (no calls, which may be costly or
    random, like dropout), whose names are not rebound in the scope.
    """
    for sub in subtree(node):
        if not isinstance(sub, _PURE):
            return False
        if isinstance(sub, cst.Name):
            sites = scope.definitions.get(sub.value, ())
            if len(sites) > 1 or sub.value in scope.not_local:
                return False
    return True
