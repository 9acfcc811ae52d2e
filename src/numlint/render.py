"""Writing a fix template back in the user's framework and style.

A template (`logsumexp($x, axis=$axis, keepdims=$keepdims)`) is rendered with the framework's
`RENDER` rows: as a method when the matched code used methods (`x.logsumexp(-1)`), as a function
otherwise, through the file's own import aliases (`T.logsumexp`, `F.log_softmax`), adding an
import only when the file has no way to reach the function. Metavariables are replaced by the
user's own source text for them, comments and all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import libcst as cst

from numlint import bindings
from numlint.bindings import CANONICAL_DEFAULTS, Binding, Render
from numlint.imports import ImportTable
from numlint.ops import code
from numlint.patterns import ABSENT, Absent, Env, Pattern, PConst, POp, PVar, PWord, parse, substitute

_ATOMIC = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float, cst.SimpleString,
           cst.List, cst.Tuple, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
_OPERATOR_TEXT = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_OPERANDS = frozenset({"x", "y", "target", "value", "mask", "condition"})  # positional by convention


@dataclass
class Rendered:
    code: str
    imports: List[str] = field(default_factory=list)  # import statements the fix needs
    atomic: bool = True  # False when it needs parentheses inside a larger expression


@dataclass
class _Piece:
    code: str
    atomic: bool
    positional: bool = True  # was it passed positionally in the source?
    synthetic: bool = False  # a default the source left implicit


class CannotRender(Exception):
    """This template cannot be written in this framework (the rule then gives advice instead)."""


class Renderer:
    def __init__(self, imports: ImportTable, env: Env) -> None:
        self.imports = imports
        self.env = env
        self.new_imports: List[str] = []
        self.keyword_args = {id(arg.node): arg.keyword for term in env.terms for arg in term.args.values()}
        # defaults the matched code did not write (torch.std's correction=1): not written back either
        self.synthetic = {id(arg.node) for term in env.terms for arg in term.args.values() if arg.synthetic}
        self.framework, self.style = self._choose()

    def _choose(self) -> Tuple[str, str]:
        for term in self.env.terms:
            if term.style == "module-name":
                raise CannotRender(
                    f"`{term.binding.qualname.rsplit('.', 1)[-1]}` is built on another line; change it there and pass the logits"
                )
        for term in self.env.terms:
            if term.style in ("operator", "constant"):
                continue
            if len(term.frameworks) == 1:
                return term.frameworks[0], term.style
        for term in self.env.terms:
            if term.style == "constant" and len(term.frameworks) == 1:
                return term.frameworks[0], "function"
        for term in self.env.terms:
            if term.style not in ("operator", "constant"):
                raise CannotRender(
                    f"`.{term.binding.method}()` could be any of {', '.join(term.frameworks)} here"
                )
        imported = self.imports.frameworks()
        frameworks = imported - {"math", "scipy"}
        if len(frameworks) == 1:
            return frameworks.pop(), "function"
        if not frameworks and "math" in imported:
            return "math", "function"
        raise CannotRender("the framework of these operators is not known")

    def render(self, template: Pattern) -> Rendered:
        updated = [t for t in self.env.terms if _in_place(t)]
        if updated:
            # `scores.masked_fill_(m, v)` updates scores: the fix must too, with the same method;
            # an in-place call inside the match (`x.clamp_(min=0).sqrt()`) would be lost by a rewrite
            root = self.env.terms[0]
            if updated != [root] or not isinstance(template, POp) or template.op != root.op:
                raise CannotRender(f"`.{updated[0].binding.method}()` updates its tensor in place; "
                                   "a rewrite would drop the update")
            piece = self._write(root.binding, self._args(template), receiver=True, callee=None)
        else:
            piece = self._render(template)
        return Rendered(piece.code, self.new_imports, piece.atomic)

    # -- pieces ---------------------------------------------------------------------------------
    def _render(self, template: Pattern) -> _Piece:
        if isinstance(template, PVar):
            bound = self.env.values.get(template.name)
            if bound is None or bound.node is ABSENT:
                raise CannotRender(f"${template.name} is absent")
            node = bound.node
            atomic = isinstance(node, _ATOMIC) or bool(getattr(node, "lpar", ()))
            piece = _Piece(code(node), atomic, not self.keyword_args.get(id(node), False))
            piece.synthetic = id(node) in self.synthetic
            return piece
        if isinstance(template, PConst):
            value = template.value
            text = str(int(value)) if value.is_integer() else re.sub(r"e([+-])0(\d)", r"e\1\2", repr(value))
            # -1 needs no parentheses in `-1 + 1e-6`; templates never raise a negative literal to a power
            return _Piece(text, True)
        if isinstance(template, PWord):
            return _Piece(template.word, True)
        if template.op in _OPERATOR_TEXT:
            left, right = self._render(template.arg("x")), self._render(template.arg("y"))
            return _Piece(f"{_paren(left)} {_OPERATOR_TEXT[template.op]} {_paren(right)}", False)
        if template.op == "neg":
            operand = self._render(template.arg("x"))
            return _Piece(f"-{_paren(operand)}", False)
        if template.op == "not":
            operand = self._render(template.arg("x"))
            return _Piece(f"not {_paren(operand)}", False)
        return self._render_call(template)

    def _args(self, template: POp) -> Dict[str, Union[_Piece, Absent]]:
        values: Dict[str, Union[_Piece, Absent]] = {}
        for name, sub in template.args:
            if isinstance(sub, PVar):
                bound = self.env.values.get(sub.name)
                if bound is None or bound.node is ABSENT:
                    values[name] = ABSENT
                    continue
            piece = self._render(sub)
            if not isinstance(sub, PVar) and name not in _OPERANDS:
                piece.positional = False  # `axis=0`, `from_logits=True` read better by name
            values[name] = piece
        return values

    def _render_call(self, template: POp) -> _Piece:
        table = bindings.FRAMEWORKS[self.framework]
        candidates = [r for r in table.render.get(template.op, []) if self._available(r)]
        if not candidates:
            raise CannotRender(f"{self.framework} has no `{template.op}`")
        args = self._args(template)
        forms = {
            "method": ("method", "function"),
            "module": ("module", "function", "method"),
        }.get(self.style, ("function", "method"))
        for candidate in self._prefer(candidates, template.op):
            if candidate.template is not None:
                try:
                    return self._render(_expand(candidate.template, template))
                except CannotRender:
                    continue
            if candidate.text is not None:
                return self._render_text(candidate.text, args)
            for form in forms:
                try:
                    if form == "module" and candidate.module:
                        binding = bindings.MODULE_CLASSES[candidate.module]
                        return self._write(binding, args, receiver=False, callee=None)
                    if form == "method" and candidate.method:
                        binding = bindings.FRAMEWORKS[self.framework].methods[candidate.method]
                        return self._write(binding, args, receiver=True, callee=None)
                    if form == "function" and candidate.function:
                        binding = bindings.FUNCTIONS[candidate.function]
                        return self._write(binding, args, receiver=False, callee=candidate.function)
                except CannotRender:
                    continue
        raise CannotRender(f"cannot write `{template.op}` with these arguments in {self.framework}")

    def _render_text(self, text: str, args) -> _Piece:
        def hole(match) -> str:
            name = match.group(1)
            if "." in name:
                return self._spell(name)
            value = args.get(name, ABSENT)
            if value is ABSENT:
                raise CannotRender(f"${name} is absent")
            return _paren(value)

        return _Piece(re.sub(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}", hole, text), True)

    def _available(self, candidate: Render) -> bool:
        if candidate.when_imported is None:
            return True
        return any(
            target == candidate.when_imported or target.startswith(candidate.when_imported + ".")
            for target in self.imports.aliases.values()
        )

    def _prefer(self, candidates: List[Render], op: str) -> List[Render]:
        """Candidates from the module the matched code already uses come first: the module of the
        same op when the fix keeps the op (a Keras loss stays in `keras.losses`), else the module
        of the inner ops, then the outer one (`F.log_softmax` for `torch.log(F.softmax(x))`)."""
        same_op = [t.qualname.rsplit(".", 1)[0] for t in self.env.terms if t.qualname and t.op == op]
        modules = [t.qualname.rsplit(".", 1)[0] for t in self.env.terms[1:] + self.env.terms[:1] if t.qualname]

        def rank(candidate: Render) -> int:
            module = (candidate.function or candidate.module or "").rsplit(".", 1)[0]
            if module in same_op:
                return -1
            return modules.index(module) if module in modules else len(modules)

        return sorted(candidates, key=rank)

    def _write(self, binding: Binding, args, receiver: bool, callee: Optional[str]) -> _Piece:
        """Write one call: `callee(args)`, `x.method(args)`, or `Class(ctor args)(call args)`."""
        signature = binding.signature
        present = {name: value for name, value in args.items() if value is not ABSENT}
        label = binding.qualname or binding.method
        for name in binding.required:
            if name not in present:
                raise CannotRender(f"{label} needs {name}")
        if "x" not in present:
            raise CannotRender("no operand")
        accepted = signature.accepts if binding.call_signature is None else (
            lambda n: signature.accepts(n) or binding.call_signature.accepts(n)
        )
        for name in list(present):
            if present[name].synthetic and binding.defaults.get(name) == present[name].code:
                del present[name]  # implicit in the source, the same default here: stays implicit
                continue
            if name != "x" and not accepted(name):
                if binding.defaults.get(name) == present[name].code:
                    del present[name]  # what the function does anyway (statistics.pvariance: axis 0)
                    continue
                raise CannotRender(f"{label} takes no {name}")
        explicit = {}  # canonical defaults this binding does not share, made explicit
        for name, text in binding.defaults.items():
            if name not in present and (args.get(name, ABSENT) is ABSENT):
                if not signature.accepts(name):
                    if name in args:
                        raise CannotRender(f"{label} cannot take {name}={CANONICAL_DEFAULTS[name]}")
                    continue
                explicit[name] = _Piece(CANONICAL_DEFAULTS[name], True, positional=False)
        if binding.call_signature is not None:
            ctor = {n: v for n, v in {**present, **explicit}.items() if signature.accepts(n)}
            call = {n: v for n, v in present.items() if n not in ctor}
            built = f"{self._spell(binding.qualname)}({_arguments(signature, ctor, skip=())})"
            return _Piece(f"{built}({_arguments(binding.call_signature, call, skip=())})", True)
        if receiver:
            x = present.pop("x")
            return _Piece(f"{_paren(x)}.{binding.method}({_arguments(signature, {**present, **explicit}, skip=())})", True)
        return _Piece(f"{self._spell(callee)}({_arguments(signature, {**present, **explicit}, skip=())})", True)

    # -- names and imports ----------------------------------------------------------------------
    def _spell(self, qualname: str) -> str:
        module, _, name = qualname.rpartition(".")
        # Keep `from M import f` style when the matched code used it for the same module.
        for term in self.env.terms:
            callee = term.callee
            if (
                isinstance(callee, cst.Name)
                and callee.value in self.imports.from_imported
                and term.qualname.rpartition(".")[0] == module
            ):
                if self.imports.aliases.get(name) == qualname:
                    return name
                if name not in self.imports.bound_names:
                    self._add_import(f"from {module} import {name}")
                    return name
        for candidate in [qualname, *bindings.mirrors_of(qualname)]:
            spelled = self.imports.spelling_for(candidate)
            if spelled is not None:
                return spelled
        top = qualname.split(".", 1)[0]
        if top in self.imports.bound_names and self.imports.aliases.get(top) != top:
            raise CannotRender(f"`{top}` means something else in this file")
        self._add_import(f"import {module}")
        return qualname

    def _add_import(self, statement: str) -> None:
        if statement not in self.new_imports:
            self.new_imports.append(statement)


def _arguments(signature, values: Dict[str, "_Piece"], skip) -> str:
    """Positional while the source passed them positionally and the slots line up, then keywords."""
    parts: List[str] = []
    remaining = dict(values)
    for slot in signature.positional:
        piece = remaining.get(slot)
        if piece is None or not piece.positional:
            break
        parts.append(piece.code)
        del remaining[slot]
    parts.extend(f"{signature.source(name)}={piece.code}" for name, piece in remaining.items())
    return ", ".join(parts)


def _expand(render_template: str, call: POp) -> Pattern:
    """A framework's template for an op (`logaddexp(0, $x)` for softplus), with the call's arguments."""
    values = {name: sub for name, sub in call.args}
    return substitute(parse(render_template), values)


def _in_place(term) -> bool:
    """A method that updates its receiver (PyTorch's trailing underscore: `masked_fill_`)."""
    method = term.binding.method if term.binding is not None and term.style == "method" else None
    return bool(method) and method.endswith("_") and not method.startswith("_")


def _paren(piece: _Piece) -> str:
    return piece.code if piece.atomic else f"({piece.code})"


def render(template: Pattern, imports: ImportTable, env: Env) -> Rendered:
    """Render a template for a match; raises CannotRender with the reason when it cannot."""
    return Renderer(imports, env).render(template)


def shown(text: str, limit: int = 60) -> str:
    """A fix's code squeezed onto one line for a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
