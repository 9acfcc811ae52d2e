#!/usr/bin/env python3
"""Mutation benchmark: how much of a known hazard numlint finds, by how far its value travels.

    python benchmarks/corpus.py                 # once: the pinned library corpus
    python benchmarks/mutants.py                # full run (seeded), prints the matrices
    python benchmarks/mutants.py --quick        # 2 sites per operator: a smoke run
    python benchmarks/mutants.py --write-docs   # also rewrite the tables in docs/recall.md
    python benchmarks/mutants.py --cases FILE   # every case, one TSV row, for reading the misses
    python benchmarks/mutants.py --keep DIR     # keep the mutated packages to read them

Real code already uses the stable forms (logsumexp, log_softmax, with-logits losses, var,
normalize, softmax, eps guards, finfo masks, ...). Each *operator* finds such sites in the corpus
with Python's `ast` and turns one into its naive equivalent, spelled in the site's framework,
at one of several *distances* between the value that makes the hazard (the producer, e.g.
`softmax(z)`) and the operation that makes it hazardous (the consumer, e.g. `log(p)`):

    inline    log(softmax(z))                       in place of log_softmax(z)
    local     p = softmax(z); ... log(p)
    reassign  p = softmax(z); p = p[...]; ... log(p)   (indexing, reshape, .to(), astype, ...)
    branch    if c: p = softmax(z) else: p = softmax(z)  (or assigned, then reassigned in one branch)
    helper    def h(z): return softmax(z)  ...  log(h(z))            (a new function of the module)
    self      self.p set in a new method, read here (a module attribute outside methods)
    tuple     p, aux = pair(z)  with  def pair(z): return softmax(z), None
    module    from ._nl_helpers import h  ...  log(h(z))  (the helper in another module of a package)

Every mutant is the corpus file with only that change (plus an import where the naive spelling
needs one), written into its own package folder under a temporary directory so the `module`
distance has a sibling module. numlint runs once over all of them (`--output-format json`), with
the default rules and again with every rule (`--select NUM`). A case is *found* when a finding of
one of the operator's rule codes (or, for rules not yet written, rule names) is on the consumer's
line or on a line where the producer is assigned. A case whose original line already had such a
finding is left out (the mutation did not make it). Sites whose operand is a constant (a grid, a
literal) are skipped: the naive form must really be hazardous there.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import collections
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
DOCS = REPO / "docs" / "recall.md"

DISTANCES = ["inline", "local", "reassign", "branch", "helper", "self", "tuple", "module"]
BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "__debug__"}
PREFIX = "_nl_"


# --------------------------------------------------------------------------- imports and names

def import_table(tree: ast.Module) -> Dict[str, str]:
    """Local name -> qualified name, from the module's top-level (and nested) imports."""
    table: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    table[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    table.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    table[a.asname or a.name] = f"{node.module}.{a.name}"
    return table


def dotted(node: ast.AST) -> Optional[List[str]]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def qualname(func: ast.AST, imports: Dict[str, str]) -> Optional[str]:
    parts = dotted(func)
    if not parts or parts[0] not in imports:
        return None
    return ".".join([imports[parts[0]]] + parts[1:])


FRAMEWORK_PREFIXES = [("torch", "torch"), ("numpy", "numpy"), ("scipy", "numpy"), ("jax", "jax"),
                      ("tensorflow", "tf"), ("keras", "keras"), ("tf_keras", "keras"), ("math", "math")]


def framework_of(q: str) -> Optional[str]:
    for prefix, fw in FRAMEWORK_PREFIXES:
        if q == prefix or q.startswith(prefix + "."):
            if fw == "tf" and ".keras." in q:
                return "keras"
            return fw
    return None


def file_frameworks(imports: Dict[str, str]) -> set:
    return {framework_of(q) for q in imports.values()} - {None}


# --------------------------------------------------------------------------- rendering

class Renderer:
    """Writes the naive ops in one framework, with the file's own aliases (or a new import)."""

    MODULES = {"torch": "torch", "numpy": "numpy", "jax": "jax.numpy", "tf": "tensorflow",
               "keras": "keras", "math": "math"}

    def __init__(self, fw: str, imports: Dict[str, str]):
        self.fw = fw
        self.imports = imports
        self.new_imports: List[str] = []
        self._alias: Dict[str, str] = {}

    def alias(self, module: str) -> str:
        if module in self._alias:
            return self._alias[module]
        found = sorted(local for local, q in self.imports.items() if q == module)
        if found:
            name = found[0]
        else:
            name = PREFIX + module.replace(".", "_")
            self.new_imports.append(f"import {module} as {name}")
        self._alias[module] = name
        return name

    @property
    def m(self) -> str:
        return self.alias(self.MODULES[self.fw])

    def _reduce(self, fn: str, x: str, axis: Optional[str], keepdims: Optional[str]) -> str:
        if self.fw == "torch":
            args = [x] + ([f"dim={axis}"] if axis is not None else [])
            if keepdims not in (None, "False"):
                args.append(f"keepdim={keepdims}")
            return f"{self.m}.{fn}({', '.join(args)})"
        if self.fw == "tf":
            args = [x] + ([f"axis={axis}"] if axis is not None else [])
            if keepdims not in (None, "False"):
                args.append(f"keepdims={keepdims}")
            return f"{self.m}.reduce_{fn}({', '.join(args)})"
        args = [x] + ([f"axis={axis}"] if axis is not None else [])
        if keepdims not in (None, "False"):
            args.append(f"keepdims={keepdims}")
        base = f"{self.m}.ops" if self.fw == "keras" else self.m
        return f"{base}.{fn}({', '.join(args)})"

    def sum(self, x, axis=None, keepdims=None):
        return self._reduce("sum", x, axis, keepdims)

    def mean(self, x, axis=None, keepdims=None):
        return self._reduce("mean", x, axis, keepdims)

    def unary(self, fn: str, x: str) -> str:
        if self.fw == "tf":
            return f"{self.m}.math.{fn}({x})"
        if self.fw == "keras":
            return f"{self.m}.ops.{fn}({x})"
        return f"{self.m}.{fn}({x})"

    def exp(self, x):
        return self.unary("exp", x)

    def log(self, x):
        return self.unary("log", x)

    def sqrt(self, x):
        return self.unary("sqrt", x)

    def acos(self, x):
        name = "acos" if self.fw in ("torch", "math", "tf", "keras") else "arccos"
        if self.fw == "keras":
            name = "arccos"
        return self.unary(name, x)

    def softmax(self, x, axis):
        if self.fw == "torch":
            return f"{self.m}.softmax({x}, dim={axis})"
        if self.fw == "numpy":
            return f"{self.alias('scipy.special')}.softmax({x}, axis={axis})"
        if self.fw == "jax":
            return f"{self.alias('jax')}.nn.softmax({x}, axis={axis})"
        if self.fw == "tf":
            return f"{self.m}.nn.softmax({x}, axis={axis})"
        return f"{self.m}.ops.softmax({x}, axis={axis})"

    def sigmoid(self, x):
        if self.fw == "torch":
            return f"{self.m}.sigmoid({x})"
        if self.fw == "numpy":
            return f"{self.alias('scipy.special')}.expit({x})"
        if self.fw == "jax":
            return f"{self.alias('jax')}.nn.sigmoid({x})"
        if self.fw == "tf":
            return f"{self.m}.math.sigmoid({x})"
        return f"{self.m}.ops.sigmoid({x})"

    def norm(self, x, axis):
        if self.fw == "torch":
            return f"{self.m}.linalg.norm({x}, dim={axis}, keepdim=True)"
        if self.fw == "tf":
            return f"{self.m}.norm({x}, axis={axis}, keepdims=True)"
        if self.fw == "keras":
            return f"{self.m}.ops.norm({x}, axis={axis}, keepdims=True)"
        return f"{self.m}.linalg.norm({x}, axis={axis}, keepdims=True)"

    def reassignments(self, name: str, scalar: bool) -> List[str]:
        """Value-preserving reassignments of an array (or a scalar) in this framework."""
        if scalar:
            return [f"float({name})", f"+{name}"]
        if self.fw == "torch":
            return [f"{name}[...]", f"{name}.reshape({name}.shape)", f"{name}.to({name}.dtype)",
                    f"{name}.unsqueeze(0).squeeze(0)", f"{name}.contiguous()"]
        if self.fw == "tf":
            return [f"{name}[...]", f"{self.m}.reshape({name}, {self.m}.shape({name}))",
                    f"{self.m}.identity({name})"]
        if self.fw == "keras":
            return [f"{name}[...]", f"{self.m}.ops.reshape({name}, {self.m}.ops.shape({name}))"]
        if self.fw == "math":
            return [f"float({name})"]
        return [f"{name}[...]", f"{name}.reshape({name}.shape)", f"{name}.astype({name}.dtype)"]


# --------------------------------------------------------------------------- operators

@dataclasses.dataclass
class Site:
    """One stable form in real code, and its naive equivalent as producer + consumer."""
    op: str
    fw: str
    node: ast.AST              # the expression replaced (usually the stable call)
    prod: str                  # producer expression text
    cons: str                  # consumer template, {p} = the producer's value
    scalar: bool = False


@dataclasses.dataclass(frozen=True)
class Operator:
    name: str
    codes: Tuple[str, ...]      # rule codes that should report the naive form
    names: Tuple[str, ...] = ()  # rule names of rules not yet written (issue 14)
    written: bool = True         # False: no rule exists yet (the row shows "rule not yet written")
    note: str = ""


class Ctx:
    def __init__(self, src: str, tree: ast.Module, imports: Dict[str, str]):
        self.src = src
        self.tree = tree
        self.imports = imports
        self.fws = file_frameworks(imports)
        self.lines = src.splitlines(keepends=True)
        self._cache: Dict[int, str] = {}

    def text(self, node: ast.AST) -> str:
        """The source of a node (ast.get_source_segment re-splits the whole file on every call)."""
        key = id(node)
        if key not in self._cache:
            sl, el = node.lineno - 1, node.end_lineno - 1
            if sl == el:
                raw = self.lines[sl].encode("utf-8")[node.col_offset:node.end_col_offset]
                out = raw.decode("utf-8", errors="replace")
            else:
                first = self.lines[sl].encode("utf-8")[node.col_offset:].decode("utf-8", errors="replace")
                last = self.lines[el].encode("utf-8")[:node.end_col_offset].decode("utf-8", errors="replace")
                out = first + "".join(self.lines[sl + 1:el]) + last
            self._cache[key] = out
        return self._cache[key]


def bind(call: ast.Call, params: Sequence[str], receiver: Optional[ast.AST] = None):
    """Map a call's arguments onto parameter names; None when it uses *args/**kwargs."""
    out: Dict[str, ast.AST] = {}
    names = list(params)
    args = list(call.args)
    if receiver is not None:
        args = [receiver] + args
    for a in args:
        if isinstance(a, ast.Starred) or not names:
            return None
        out[names.pop(0)] = a
    for kw in call.keywords:
        if kw.arg is None:
            return None
        out[kw.arg] = kw.value
    return out


def is_lit(node: Optional[ast.AST], *values) -> bool:
    if node is None:
        return False
    try:
        v = ast.literal_eval(node)
    except Exception:
        return False
    return v in values if values else True


def resolve(call: ast.Call, ctx: Ctx):
    """(qualified name, method name, receiver) of a call."""
    q = qualname(call.func, ctx.imports)
    if q:
        return q, None, None
    if isinstance(call.func, ast.Attribute):
        base = dotted(call.func.value)
        if base and base[0] in ctx.imports:
            return None, None, None  # a call on a module we do not know: not a method
        return None, call.func.attr, call.func.value
    return None, None, None


def method_fw(ctx: Ctx, candidates: Iterable[str]) -> Optional[str]:
    """The framework of a method call, when the file's imports leave no doubt."""
    present = [fw for fw in candidates if fw in ctx.fws]
    return present[0] if len(present) == 1 else None


def fnames(*qs: str) -> set:
    return set(qs)


def _axis_text(ctx, bound, key, default):
    node = bound.get(key)
    return ctx.text(node) if node is not None else default


def op_logsumexp(call, ctx):
    q, m, recv = resolve(call, ctx)
    if q in fnames("torch.logsumexp", "torch.special.logsumexp"):
        b = bind(call, ["input", "dim", "keepdim"])
        fw, x, axis, kd = "torch", "input", "dim", "keepdim"
    elif m == "logsumexp" and method_fw(ctx, ["torch"]) == "torch":
        b = bind(call, ["input", "dim", "keepdim"], receiver=recv)
        fw, x, axis, kd = "torch", "input", "dim", "keepdim"
    elif q in fnames("scipy.special.logsumexp", "jax.nn.logsumexp", "jax.scipy.special.logsumexp",
                     "keras.ops.logsumexp"):
        b = bind(call, ["a", "axis", "b", "keepdims", "return_sign"])
        fw, x, axis, kd = framework_of(q), "a", "axis", "keepdims"
        if b and ("b" in b or "return_sign" in b or "where" in b):
            return None
        if q == "keras.ops.logsumexp" and b and "x" in b:
            b["a"] = b.pop("x")
    elif q in fnames("tensorflow.reduce_logsumexp", "tensorflow.math.reduce_logsumexp"):
        b = bind(call, ["input_tensor", "axis", "keepdims"])
        fw, x, axis, kd = "tf", "input_tensor", "axis", "keepdims"
    else:
        return None
    if not b or x not in b or set(b) - {x, axis, kd}:
        return None
    r = Renderer(fw, ctx.imports)
    xs = ctx.text(b[x])
    ax = _axis_text(ctx, b, axis, None)
    kdt = _axis_text(ctx, b, kd, None)
    site = Site("logsumexp", fw, call, r.exp(xs), r.log(r.sum("{p}", ax, kdt)))
    site.renderer = r
    site.operand = b[x]
    return site


SOFTMAX_FUNCS = {
    "torch.nn.functional.log_softmax": ("torch", ["input", "dim", "_stacklevel", "dtype"], "dim"),
    "torch.log_softmax": ("torch", ["input", "dim", "dtype"], "dim"),
    "torch.special.log_softmax": ("torch", ["input", "dim", "dtype"], "dim"),
    "jax.nn.log_softmax": ("jax", ["x", "axis"], "axis"),
    "tensorflow.nn.log_softmax": ("tf", ["logits", "axis", "name"], "axis"),
    "tensorflow.math.log_softmax": ("tf", ["logits", "axis", "name"], "axis"),
    "keras.ops.log_softmax": ("keras", ["x", "axis"], "axis"),
    "scipy.special.log_softmax": ("numpy", ["x", "axis"], "axis"),
}


def op_log_softmax(call, ctx):
    q, m, recv = resolve(call, ctx)
    if q in SOFTMAX_FUNCS:
        fw, params, axis = SOFTMAX_FUNCS[q]
        b = bind(call, params)
    elif m == "log_softmax" and method_fw(ctx, ["torch"]) == "torch":
        fw, params, axis = "torch", ["input", "dim", "dtype"], "dim"
        b = bind(call, params, receiver=recv)
    else:
        return None
    if not b or params[0] not in b or set(b) - {params[0], axis}:
        return None
    default_axis = {"torch": None, "jax": "-1", "tf": "-1", "keras": "-1", "numpy": None}[fw]
    ax = _axis_text(ctx, b, axis, default_axis)
    if ax is None:
        return None  # torch's implicit dim: leave it
    r = Renderer(fw, ctx.imports)
    site = Site("log_softmax", fw, call, r.softmax(ctx.text(b[params[0]]), ax), r.log("{p}"))
    site.renderer = r
    site.operand = b[params[0]]
    return site


def op_bce_logits(call, ctx):
    q, _, _ = resolve(call, ctx)
    if q != "torch.nn.functional.binary_cross_entropy_with_logits":
        return None
    b = bind(call, ["input", "target", "weight", "size_average", "reduce", "reduction", "pos_weight"])
    if not b or "input" not in b or "target" not in b or "pos_weight" in b:
        return None
    r = Renderer("torch", ctx.imports)
    rest = [ctx.text(b["target"])] + [f"{k}={ctx.text(v)}" for k, v in b.items() if k not in ("input", "target")]
    cons = f"{r.m}.nn.functional.binary_cross_entropy({{p}}, {', '.join(rest)})"
    site = Site("bce_with_logits", "torch", call, r.sigmoid(ctx.text(b["input"])), cons)
    site.renderer = r
    site.operand = b["input"]
    return site


KERAS_LOSSES = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax",
                "sparse_categorical_crossentropy": "softmax"}


def op_from_logits(call, ctx):
    q, _, _ = resolve(call, ctx)
    if not q or q.rsplit(".", 1)[-1] not in KERAS_LOSSES or framework_of(q) not in ("keras", "tf"):
        return None
    if ".losses." not in q and ".ops." not in q and ".backend." not in q:
        return None
    flag = next((kw for kw in call.keywords if kw.arg == "from_logits"), None)
    if flag is None or not is_lit(flag.value, True):
        return None
    if len(call.args) < 2 or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    kind = KERAS_LOSSES[q.rsplit(".", 1)[-1]]
    fw = "keras" if framework_of(q) == "keras" else "tf"
    r = Renderer(fw, ctx.imports)
    axis = next((ctx.text(kw.value) for kw in call.keywords if kw.arg == "axis"), "-1")
    pred = ctx.text(call.args[1])
    prod = r.sigmoid(pred) if kind == "sigmoid" else r.softmax(pred, axis)
    func = ctx.text(call.func)
    args = [ctx.text(call.args[0]), "{p}"] + [ctx.text(a) for a in call.args[2:]]
    args += [f"{kw.arg}={ctx.text(kw.value)}" for kw in call.keywords if kw.arg != "from_logits"]
    site = Site("from_logits", fw, call, prod, f"{func}({', '.join(args)})")
    site.renderer = r
    site.operand = call.args[1]
    return site


def op_cross_entropy(call, ctx):
    q, _, _ = resolve(call, ctx)
    if q != "torch.nn.functional.cross_entropy":
        return None
    b = bind(call, ["input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction",
                    "label_smoothing"])
    if not b or "input" not in b or "target" not in b or "label_smoothing" in b:
        return None
    r = Renderer("torch", ctx.imports)
    rest = [ctx.text(b["target"])] + [f"{k}={ctx.text(v)}" for k, v in b.items() if k not in ("input", "target")]
    cons = f"{r.m}.nn.functional.nll_loss({r.log('{p}')}, {', '.join(rest)})"
    site = Site("cross_entropy", "torch", call, r.softmax(ctx.text(b["input"]), "1"), cons)
    site.renderer = r
    site.operand = b["input"]
    return site


def _unary_site(name, call, ctx, funcs: Dict[str, str], methods: Dict[str, str], build):
    """A one-argument stable function: funcs maps qualified names to frameworks, methods to frameworks."""
    q, m, recv = resolve(call, ctx)
    if q in funcs:
        fw = funcs[q]
        if len(call.args) != 1 or call.keywords or isinstance(call.args[0], ast.Starred):
            return None
        x = call.args[0]
    elif m in methods and not call.args and not call.keywords:
        fw = method_fw(ctx, [methods[m]])
        if fw is None:
            return None
        x = recv
    else:
        return None
    r = Renderer(fw, ctx.imports)
    xs = ctx.text(x)
    if not isinstance(x, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
        xs = f"({xs})"
    prod, cons = build(r, xs)
    site = Site(name, fw, call, prod, cons)
    site.renderer = r
    site.operand = x
    return site


def op_logsigmoid(call, ctx):
    funcs = {"torch.nn.functional.logsigmoid": "torch", "jax.nn.log_sigmoid": "jax",
             "tensorflow.math.log_sigmoid": "tf", "keras.ops.log_sigmoid": "keras",
             "scipy.special.log_expit": "numpy"}
    return _unary_site("logsigmoid", call, ctx, funcs, {}, lambda r, x: (r.sigmoid(x), r.log("{p}")))


def op_softplus(call, ctx):
    funcs = {"torch.nn.functional.softplus": "torch", "jax.nn.softplus": "jax", "tensorflow.nn.softplus": "tf",
             "tensorflow.math.softplus": "tf", "keras.ops.softplus": "keras"}
    q, _, _ = resolve(call, ctx)
    if q in ("numpy.logaddexp", "jax.numpy.logaddexp") and len(call.args) == 2 and not call.keywords \
            and is_lit(call.args[0], 0, 0.0):
        fw = framework_of(q)
        r = Renderer(fw, ctx.imports)
        x = ctx.text(call.args[1])
        site = Site("softplus", fw, call, r.exp(x), r.log("1 + {p}"))
        site.renderer = r
        site.operand = call.args[1]
        return site
    return _unary_site("softplus", call, ctx, funcs, {}, lambda r, x: (r.exp(x), r.log("1 + {p}")))


def op_log1p(call, ctx):
    funcs = {"torch.log1p": "torch", "torch.special.log1p": "torch", "numpy.log1p": "numpy",
             "jax.numpy.log1p": "jax", "tensorflow.math.log1p": "tf", "keras.ops.log1p": "keras",
             "math.log1p": "math"}
    return _unary_site("log1p", call, ctx, funcs, {"log1p": "torch"}, lambda r, x: (f"1 + {x}", r.log("{p}")))


def op_expm1(call, ctx):
    funcs = {"torch.expm1": "torch", "torch.special.expm1": "torch", "numpy.expm1": "numpy",
             "jax.numpy.expm1": "jax", "tensorflow.math.expm1": "tf", "keras.ops.expm1": "keras",
             "math.expm1": "math"}
    return _unary_site("expm1", call, ctx, funcs, {"expm1": "torch"}, lambda r, x: (r.exp(x), "{p} - 1"))


def op_sigmoid(call, ctx):
    funcs = {"torch.sigmoid": "torch", "torch.nn.functional.sigmoid": "torch", "torch.special.expit": "torch",
             "jax.nn.sigmoid": "jax", "tensorflow.math.sigmoid": "tf", "tensorflow.nn.sigmoid": "tf",
             "tensorflow.sigmoid": "tf"}
    return _unary_site("sigmoid", call, ctx, funcs, {"sigmoid": "torch"},
                       lambda r, x: (r.exp(f"-{x}"), "1 / (1 + {p})"))


def op_logit(call, ctx):
    funcs = {"torch.logit": "torch", "torch.special.logit": "torch", "scipy.special.logit": "numpy",
             "jax.scipy.special.logit": "jax"}
    q, m, recv = resolve(call, ctx)
    kws = [k.arg for k in call.keywords]
    if q in ("torch.logit", "torch.special.logit") and len(call.args) == 1 and kws == ["eps"]:
        # logit(p, eps=...) clamps p into [eps, 1 - eps]: that clamp is the guard the naive form drops
        r = Renderer("torch", ctx.imports)
        x = wrap(ctx.text(call.args[0]))
        site = Site("logit", "torch", call, f"{x} / (1 - {x})", r.log("{p}"))
        site.renderer = r
        site.operand = call.args[0]
        return site
    return _unary_site("logit", call, ctx, funcs, {"logit": "torch"},
                       lambda r, x: (f"{x} / (1 - {x})", r.log("{p}")))


def op_atanh(call, ctx):
    funcs = {"torch.atanh": "torch", "torch.arctanh": "torch", "numpy.arctanh": "numpy",
             "jax.numpy.arctanh": "jax", "tensorflow.math.atanh": "tf", "math.atanh": "math"}
    return _unary_site("atanh", call, ctx, funcs, {"atanh": "torch", "arctanh": "torch"},
                       lambda r, x: (f"(1 + {x}) / (1 - {x})", f"0.5 * {r.log('{p}')}"))


# -- the log/exp family (issue 14) -------------------------------------------------------------
def _clipped(site, op: str):
    """The site of a stable log-probability with its naive form clipped: log(p + 1e-8) (NUM204)."""
    if site is None:
        return None
    site.op = op
    site.cons = site.renderer.log("{p} + 1e-8")
    return site


def op_clipped_log_softmax(call, ctx):
    """log_softmax(z) -> log(softmax(z) + 1e-8): the epsilon-clipped log-probability (NUM204)."""
    return _clipped(op_log_softmax(call, ctx), "clipped_log_softmax")


def op_clipped_logsigmoid(call, ctx):
    """logsigmoid(z) -> log(sigmoid(z) + 1e-8) (NUM204)."""
    return _clipped(op_logsigmoid(call, ctx), "clipped_logsigmoid")


VAR_FUNCS = {
    "torch.var": ("torch", ["input", "dim", "unbiased", "keepdim"], "dim", "keepdim", "var"),
    "torch.std": ("torch", ["input", "dim", "unbiased", "keepdim"], "dim", "keepdim", "std"),
    "numpy.var": ("numpy", ["a", "axis", "dtype", "out", "ddof", "keepdims"], "axis", "keepdims", "var"),
    "numpy.std": ("numpy", ["a", "axis", "dtype", "out", "ddof", "keepdims"], "axis", "keepdims", "std"),
    "jax.numpy.var": ("jax", ["a", "axis", "dtype", "out", "ddof", "keepdims"], "axis", "keepdims", "var"),
    "jax.numpy.std": ("jax", ["a", "axis", "dtype", "out", "ddof", "keepdims"], "axis", "keepdims", "std"),
    "tensorflow.math.reduce_variance": ("tf", ["input_tensor", "axis", "keepdims"], "axis", "keepdims", "var"),
    "tensorflow.math.reduce_std": ("tf", ["input_tensor", "axis", "keepdims"], "axis", "keepdims", "std"),
    "keras.ops.var": ("keras", ["x", "axis", "keepdims"], "axis", "keepdims", "var"),
    "keras.ops.std": ("keras", ["x", "axis", "keepdims"], "axis", "keepdims", "std"),
}
IGNORED_MOMENT_ARGS = {"unbiased", "correction", "ddof", "dtype"}


def op_var(call, ctx):
    q, m, recv = resolve(call, ctx)
    if q in VAR_FUNCS:
        fw, params, axis, kd, which = VAR_FUNCS[q]
        b = bind(call, params)
    elif m in ("var", "std"):
        fw = method_fw(ctx, ["torch", "numpy"])
        if fw is None:
            return None
        which = m
        if fw == "torch":
            params, axis, kd = ["input", "dim", "unbiased", "keepdim"], "dim", "keepdim"
        else:
            params, axis, kd = ["a", "axis", "dtype", "out", "ddof", "keepdims"], "axis", "keepdims"
        b = bind(call, params, receiver=recv)
    else:
        return None
    if not b or params[0] not in b or set(b) - {params[0], axis, kd} - IGNORED_MOMENT_ARGS or "out" in b:
        return None
    x = b[params[0]]
    if not isinstance(x, (ast.Name, ast.Attribute, ast.Subscript)):
        return None  # x appears twice in the naive form: keep it a plain value
    r = Renderer(fw, ctx.imports)
    xs = ctx.text(x)
    ax = _axis_text(ctx, b, axis, None)
    kdt = _axis_text(ctx, b, kd, None)
    cons = f"{r.mean(f'{xs} ** 2', ax, kdt)} - {{p}} ** 2"
    if which == "std":
        cons = r.sqrt(cons)
    site = Site("var_std", fw, call, r.mean(xs, ax, kdt), cons)
    site.renderer = r
    site.operand = x
    return site


def op_normalize(call, ctx):
    q, _, _ = resolve(call, ctx)
    if q == "torch.nn.functional.normalize":
        b = bind(call, ["input", "p", "dim", "eps", "out"])
        fw, x, axis, default = "torch", "input", "dim", "1"
        if b and "p" in b and not is_lit(b["p"], 2, 2.0):
            return None
        extra = {"p", "eps"}
    elif q in ("tensorflow.math.l2_normalize", "tensorflow.nn.l2_normalize"):
        b = bind(call, ["x", "axis", "epsilon", "name", "dim"])
        fw, x, axis, default = "tf", "x", "axis", None
        extra = {"epsilon", "name"}
    else:
        return None
    if not b or x not in b or set(b) - {x, axis} - extra:
        return None
    if not isinstance(b[x], (ast.Name, ast.Attribute, ast.Subscript)):
        return None
    r = Renderer(fw, ctx.imports)
    xs = ctx.text(b[x])
    ax = _axis_text(ctx, b, axis, default)
    if ax is None:
        return None
    site = Site("normalize", fw, call, r.norm(xs, ax), f"{xs} / {{p}}")
    site.renderer = r
    site.operand = b[x]
    return site


SOFTMAX_BUILTIN = {
    "torch.nn.functional.softmax": ("torch", ["input", "dim", "_stacklevel", "dtype"], "dim", None),
    "torch.softmax": ("torch", ["input", "dim", "dtype"], "dim", None),
    "jax.nn.softmax": ("jax", ["x", "axis"], "axis", "-1"),
    "scipy.special.softmax": ("numpy", ["x", "axis"], "axis", None),
    "tensorflow.nn.softmax": ("tf", ["logits", "axis", "name"], "axis", "-1"),
    "tensorflow.math.softmax": ("tf", ["logits", "axis", "name"], "axis", "-1"),
    "keras.ops.softmax": ("keras", ["x", "axis"], "axis", "-1"),
}


def op_softmax(call, ctx):
    q, m, recv = resolve(call, ctx)
    if q in SOFTMAX_BUILTIN:
        fw, params, axis, default = SOFTMAX_BUILTIN[q]
        b = bind(call, params)
    elif m == "softmax" and method_fw(ctx, ["torch"]) == "torch":
        fw, params, axis, default = "torch", ["input", "dim", "dtype"], "dim", None
        b = bind(call, params, receiver=recv)
    else:
        return None
    if not b or params[0] not in b or set(b) - {params[0], axis, "name"}:
        return None
    ax = _axis_text(ctx, b, axis, default)
    r = Renderer(fw, ctx.imports)
    cons = "{p} / " + r.sum("{p}", ax, "True")
    site = Site("softmax", fw, call, r.exp(ctx.text(b[params[0]])), cons)
    site.renderer = r
    site.operand = b[params[0]]
    return site


def op_logaddexp(call, ctx):
    q, _, _ = resolve(call, ctx)
    if q not in ("numpy.logaddexp", "jax.numpy.logaddexp", "torch.logaddexp"):
        return None
    if len(call.args) != 2 or call.keywords or is_lit(call.args[0], 0, 0.0) or is_lit(call.args[1], 0, 0.0):
        return None
    fw = framework_of(q)
    r = Renderer(fw, ctx.imports)
    a, b = (ctx.text(x) for x in call.args)
    site = Site("logaddexp", fw, call, f"{r.exp(a)} + {r.exp(b)}", r.log("{p}"))
    site.renderer = r
    site.operand = call.args[0]
    return site


def _ancestors(node: ast.AST, ctx: Ctx) -> List[ast.AST]:
    """The nodes that enclose `node`, innermost first (the parent map is built once per file)."""
    par = getattr(ctx, "_parents", None)
    if par is None:
        par = ctx._parents = parents(ctx.tree)
    out = []
    while node in par:
        node = par[node]
        out.append(node)
    return out


def _under_no_grad(node: ast.AST, ctx: Ctx) -> bool:
    """Inside `with torch.no_grad():` (or `inference_mode`): no gradient is taken there."""
    return any(isinstance(a, ast.With) and any(re.search(r"\b(no_grad|inference_mode)\(", ctx.text(i.context_expr))
                                               for i in a.items)
               for a in _ancestors(node, ctx))


def op_cdist(call, ctx):
    """`torch.cdist(a, b)` -> `sqrt(((a[:, None] - b[None]) ** 2).sum(-1))` (NUM402). Not under
    `torch.no_grad()`: the naive root's hazard is its infinite gradient where points coincide,
    and no gradient is taken there (vector-quantize-pytorch's nearest-code search, 1 of 8 sites
    on 2026-12-02)."""
    q, _, _ = resolve(call, ctx)
    if q != "torch.cdist":
        return None
    b = bind(call, ["x1", "x2", "p", "compute_mode"])
    if not b or "x1" not in b or "x2" not in b or ("p" in b and not is_lit(b["p"], 2, 2.0)):
        return None
    if _under_no_grad(call, ctx):
        return None
    r = Renderer("torch", ctx.imports)
    x1, x2 = ctx.text(b["x1"]), ctx.text(b["x2"])
    prod = f"(({x1}).unsqueeze(-2) - ({x2}).unsqueeze(-3)).pow(2).sum(-1)"
    site = Site("cdist", "torch", call, prod, r.sqrt("{p}"))
    site.renderer = r
    site.operand = b["x1"]
    return site


SQRT_FUNCS = {"torch.sqrt": "torch", "torch.rsqrt": "torch", "numpy.sqrt": "numpy", "jax.numpy.sqrt": "jax",
              "jax.lax.rsqrt": "jax", "tensorflow.math.sqrt": "tf", "tensorflow.sqrt": "tf",
              "tensorflow.math.rsqrt": "tf", "tensorflow.rsqrt": "tf", "keras.ops.sqrt": "keras",
              "keras.ops.rsqrt": "keras", "math.sqrt": "math"}
VARIANCE_WORDS = re.compile(r"var|sigma2|sigma_sq|sq_sigma|second_moment|mean_sq", re.I)


def _small_eps(node: ast.AST, ctx: Ctx) -> bool:
    try:
        v = ast.literal_eval(node)
        return isinstance(v, float) and 0 < v < 1e-2
    except Exception:
        pass
    t = ctx.text(node)
    return bool(re.search(r"\beps|epsilon", t, re.I)) and len(t) < 40


_NO_GRAD_SOURCE = re.compile(r"running|moving|\.data\b|\.detach\(\)|\b(ones|zeros|full)(_like)?\(")


def _no_grad_statistic(var: ast.AST, call: ast.AST, ctx: Ctx) -> bool:
    """`var` is a name that every assignment in the enclosing function makes from a buffer
    (`running_var`), a constant (`torch.ones(1)`) or `self.attr` whose every assignment in the file
    is `.data` / `.detach()`: a statistic no gradient flows through."""
    if not isinstance(var, ast.Name):
        return False
    func = next((a for a in _ancestors(call, ctx) if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if func is None:
        return False
    sources = [n.value for n in ast.walk(func) if isinstance(n, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == var.id for t in n.targets)]

    def no_grad(rhs: ast.AST) -> bool:
        text = ctx.text(rhs)
        if _NO_GRAD_SOURCE.search(text):
            return True
        if isinstance(rhs, ast.Attribute) and isinstance(rhs.value, ast.Name) and rhs.value.id == "self":
            sets = [n.value for n in ast.walk(ctx.tree) if isinstance(n, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == rhs.attr for t in n.targets)]
            return bool(sets) and all(_NO_GRAD_SOURCE.search(ctx.text(v)) for v in sets)
        return False

    return bool(sources) and all(no_grad(v) for v in sources)


def op_eps_sqrt(call, ctx):
    """`sqrt(var + eps)` -> `sqrt(var) + eps` (NUM403). Only where autograd runs (NumPy's
    `1 / (sqrt(var) + eps)` has no gradient to break: Keras' NumPy batch norm, 1 of 8 sites on
    2026-12-02), and not of a statistic no gradient flows through (`var` from `running_var`, a
    constant, or `self.batch_var = x.var(0).data`: pythae's batch-norm flow inverse, 1 of 8)."""
    q, m, recv = resolve(call, ctx)
    if q in SQRT_FUNCS and len(call.args) == 1 and not call.keywords:
        fw, arg, rsqrt = SQRT_FUNCS[q], call.args[0], q.endswith("rsqrt")
    elif m in ("sqrt", "rsqrt") and not call.args and method_fw(ctx, ["torch"]) == "torch":
        fw, arg, rsqrt = "torch", recv, m == "rsqrt"
    else:
        return None
    if not (isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add)):
        return None
    var, eps = arg.left, arg.right
    if not _small_eps(eps, ctx):
        var, eps = eps, var
        if not _small_eps(eps, ctx):
            return None
    if not VARIANCE_WORDS.search(ctx.text(var)) or re.search(r"running|moving", ctx.text(var)):
        return None  # a running buffer has no gradient: sqrt(v) + eps is no hazard there
    if fw not in ("torch", "jax", "tf", "keras") or _no_grad_statistic(var, call, ctx):
        return None
    r = Renderer(fw, ctx.imports)
    root = r.sqrt("{p}") + " + " + ctx.text(eps)
    cons = f"1 / ({root})" if rsqrt else root
    site = Site("eps_sqrt", fw, call, ctx.text(var), cons)
    site.renderer = r
    site.operand = var
    return site


# Denominators that are 0 for ordinary inputs: norms, standard deviations, counts, mask sums. Not sums
# of weights or probabilities (a top-k softmax sum is never 0: the naive form would not be a hazard).
NORMLIKE = re.compile(r"norm|\bstd\b|std\(|count|length|\blens?\b|num_|mask|valid|nonzero", re.I)


def _selected_away(node: ast.AST, den: ast.AST, ctx: Ctx) -> bool:
    """The division is a branch of a `where` whose condition tests the denominator
    (`where(n + eps <= tiny, 0.0, minimum(g / (n + eps), lr))`): where it is ~0 the quotient is
    not used, so an unguarded one gives the same values."""
    text = ctx.text(den)
    for a in _ancestors(node, ctx):
        if isinstance(a, ast.Call) and len(a.args) == 3 and (dotted(a.func) or [""])[-1] == "where" \
                and text in ctx.text(a.args[0]):
            return True
    return False


def op_clamp_div(node, ctx):
    """`a / b.clamp(min=eps)`, `a / max(b, eps)`, `a / (b + eps)` with b a norm, sum, std or count.
    Not in a `where` that tests the denominator (optax's Polyak step, 1 of 8 sites on 2026-12-02:
    the guard there is the `where`, the eps only spares a discarded branch)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
        return None
    den = node.right
    inner, fw = None, None
    if isinstance(den, ast.Call):
        q, m, recv = resolve(den, ctx)
        if m in ("clamp", "clamp_min", "clip") and method_fw(ctx, ["torch"]) == "torch":
            kw = {k.arg: k.value for k in den.keywords}
            lo = kw.get("min") if m != "clamp_min" else (den.args[0] if den.args else kw.get("min"))
            if m in ("clamp", "clip") and den.args:
                lo = den.args[0]
            if lo is not None and _small_eps(lo, ctx) and (m == "clamp_min" or "max" not in kw and len(den.args) <= 1):
                inner, fw = recv, "torch"
        elif q in ("torch.clamp", "torch.clamp_min", "torch.clip"):
            kw = {k.arg: k.value for k in den.keywords}
            lo = den.args[1] if len(den.args) > 1 else kw.get("min")
            if den.args and lo is not None and _small_eps(lo, ctx) and "max" not in kw and len(den.args) <= 2:
                inner, fw = den.args[0], "torch"
        elif q in ("numpy.maximum", "jax.numpy.maximum", "tensorflow.maximum", "tensorflow.math.maximum") \
                and len(den.args) == 2:
            a, b = den.args
            if _small_eps(b, ctx):
                inner, fw = a, framework_of(q)
            elif _small_eps(a, ctx):
                inner, fw = b, framework_of(q)
    elif isinstance(den, ast.BinOp) and isinstance(den.op, ast.Add):
        for a, b in ((den.left, den.right), (den.right, den.left)):
            if _small_eps(b, ctx):
                inner = a
                fw = next(iter(sorted(ctx.fws & {"torch", "numpy", "jax", "tf"})), None)
                break
    if inner is None or fw is None or not NORMLIKE.search(ctx.text(inner)):
        return None
    if _selected_away(node, inner, ctx):
        return None
    r = Renderer(fw, ctx.imports)
    num = ctx.text(node.left)
    if isinstance(node.left, (ast.BinOp, ast.BoolOp, ast.IfExp, ast.Lambda, ast.Compare)):
        num = f"({num})"
    site = Site("clamp_div", fw, node, ctx.text(inner), f"{num} / {{p}}")
    site.renderer = r
    site.operand = inner
    return site


FINFO_NEG = re.compile(r"^-\s*\w+(\.\w+)*\.finfo\(.*\)\.max$|^\w+(\.\w+)*\.finfo\(.*\)\.min$", re.S)


def _causal_only(mask: ast.AST, call: ast.AST, ctx: Ctx) -> bool:
    """The mask is a triangle alone (`ones(i, j).triu(1)`, `tril(...)`, through one assignment in
    the enclosing function), combined with nothing: a causal mask keeps the diagonal, so no row
    of the softmax is fully masked."""
    texts = [ctx.text(mask)]
    if isinstance(mask, ast.Name):
        func = next((a for a in _ancestors(call, ctx) if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef))),
                    ctx.tree)
        texts = [ctx.text(n.value) for n in ast.walk(func) if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == mask.id for t in n.targets)] or texts
    return all(re.search(r"\b(triu|tril)_?\(", t) and not re.search(r"[|&]|logical_|\bpad|\bmask\b", t)
               for t in texts)


def op_finfo_mask(call, ctx):
    """`masked_fill(m, finfo.min)` before a softmax -> `masked_fill(m, float("-inf"))` (NUM501).
    Not with a causal mask alone (`triu`/`tril`): every row keeps its diagonal, so -inf makes no
    fully masked row and no NaN (x-transformers' talking-heads mask, 1 of 8 sites on 2026-12-02)."""
    q, m, recv = resolve(call, ctx)
    if m in ("masked_fill", "masked_fill_") and method_fw(ctx, ["torch"]) == "torch" and len(call.args) == 2:
        pos = 1
    elif q in ("torch.where", "jax.numpy.where", "numpy.where", "tensorflow.where") and len(call.args) == 3:
        pos = 1 if FINFO_NEG.match(ctx.text(call.args[1]).strip()) else 2
    else:
        return None
    val = call.args[pos]
    if not FINFO_NEG.match(ctx.text(val).strip()):
        return None
    if _causal_only(call.args[0], call, ctx):
        return None
    fw = "torch" if m else framework_of(q)
    r = Renderer(fw, ctx.imports)
    parts = [ctx.text(a) for a in call.args]
    parts[pos] = "{p}"
    parts += [f"{k.arg}={ctx.text(k.value)}" for k in call.keywords]
    cons = f"{ctx.text(call.func)}({', '.join(parts)})"
    site = Site("finfo_mask", fw, call, 'float("-inf")', cons, scalar=True)
    site.renderer = r
    site.operand = call.args[0]
    site.needs_softmax_after = True
    return site


def op_finfo_eps(node, ctx):
    """`x + finfo(dtype).eps` as a guard -> `x + 1e-8` (an eps that vanishes in float16, absorbs near 1)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return None
    for keep, eps in ((node.left, node.right), (node.right, node.left)):
        t = ctx.text(eps).strip()
        if re.match(r"^\w+(\.\w+)*\.finfo\(.*\)\.(eps|tiny|smallest_normal)$", t, re.S):
            base = t.split(".finfo")[0].split(".")[0]
            fw = framework_of(ctx.imports.get(base, "")) or None
            if fw is None:
                return None
            r = Renderer(fw, ctx.imports)
            k = ctx.text(keep)
            if isinstance(keep, (ast.BinOp, ast.BoolOp, ast.IfExp, ast.Compare)):
                k = f"({k})"
            site = Site("finfo_eps", fw, node, "1e-8", f"{k} + {{p}}", scalar=True)
            site.renderer = r
            site.operand = keep
            return site
    return None


def op_finfo_floor(call, ctx):
    """`clamp(x, min=finfo(dtype).eps)` / `maximum(x, finfo.eps)` -> the same floor at 1e-8."""
    for i, a in enumerate(list(call.args) + [k.value for k in call.keywords]):
        t = ctx.text(a).strip()
        if re.match(r"^\w+(\.\w+)*\.finfo\(.*\)\.(eps|tiny)$", t, re.S):
            q, m, recv = resolve(call, ctx)
            name = (q or m or "").rsplit(".", 1)[-1]
            if name not in ("clamp", "clamp_min", "clip", "maximum"):
                return None
            fw = framework_of(q) if q else method_fw(ctx, ["torch"])
            if fw is None:
                return None
            r = Renderer(fw, ctx.imports)
            args = [ctx.text(x) for x in call.args] + [f"{k.arg}={ctx.text(k.value)}" for k in call.keywords]
            args[i] = args[i].replace(t, "{p}") if i >= len(call.args) else "{p}"
            site = Site("finfo_floor", fw, call, "1e-8", f"{ctx.text(call.func)}({', '.join(args)})", scalar=True)
            site.renderer = r
            site.operand = call.args[0] if call.args else a
            return site
    return None


def op_acos_clamp(call, ctx):
    q, m, recv = resolve(call, ctx)
    funcs = {"torch.acos": "torch", "torch.arccos": "torch", "numpy.arccos": "numpy", "jax.numpy.arccos": "jax",
             "tensorflow.math.acos": "tf", "math.acos": "math"}
    if q in funcs and len(call.args) == 1 and not call.keywords:
        fw, arg = funcs[q], call.args[0]
    elif m in ("acos", "arccos") and not call.args and method_fw(ctx, ["torch"]) == "torch":
        fw, arg = "torch", recv
    else:
        return None
    if not isinstance(arg, ast.Call):
        return None
    aq, am, arecv = resolve(arg, ctx)
    if am in ("clamp", "clip") and arecv is not None:
        inner = arecv
    elif aq and aq.rsplit(".", 1)[-1] in ("clamp", "clip", "clip_by_value") and arg.args:
        inner = arg.args[0]
    else:
        return None
    r = Renderer(fw, ctx.imports)
    site = Site("acos_clamp", fw, call, ctx.text(inner), r.acos("{p}"))
    site.renderer = r
    site.operand = inner
    return site



# -- issue 14, precision family (NUM505, NUM506) ------------------------------------------------------

def op_fp16_mask(call, ctx):
    """A finfo mask fill before a softmax -> the same fill with `-1e9` on the value made float16
    (`x.half()`): the finite stand-in that is -inf in half precision (NUM505). The sites are
    op_finfo_mask's, so a causal mask alone is left out here too (its -inf rows still keep the
    diagonal). Not an in-place `x.masked_fill_(m, v)`: `x.half().masked_fill_(...)` fills a copy
    that is thrown away, so the softmax reads the unfilled x (ESMFold2's attention bias, 1 of 8
    sites on 2026-12-02)."""
    site = op_finfo_mask(call, ctx)
    if site is None or site.fw not in ("torch", "numpy", "jax"):
        return None
    q, m, recv = resolve(call, ctx)
    if m == "masked_fill_":
        return None
    half = "{x}.half()" if site.fw == "torch" else "{x}.astype('float16')"
    if m:  # x.masked_fill(mask, finfo.min): the receiver is the value
        receiver = ctx.text(recv)
        if isinstance(recv, (ast.BinOp, ast.BoolOp, ast.IfExp, ast.Compare, ast.UnaryOp)):
            receiver = f"({receiver})"
        args = [ctx.text(call.args[0]), "{p}"] + [f"{k.arg}={ctx.text(k.value)}" for k in call.keywords]
        cons = f"{half.format(x=receiver)}.{m}({', '.join(args)})"
    else:
        parts = [ctx.text(a) for a in call.args]
        pos = 1 if FINFO_NEG.match(parts[1].strip()) else 2
        other = 2 if pos == 1 else 1
        parts[pos] = "{p}"
        parts[other] = half.format(x=f"({parts[other]})")
        cons = f"{ctx.text(call.func)}({', '.join(parts)})"
    out = Site("fp16_mask", site.fw, call, "-1e9", cons, scalar=True)
    out.renderer = site.renderer
    out.operand = site.operand
    out.needs_softmax_after = True
    return out


def op_absorbed_clip(call, ctx):
    """`clamp(p, eps, 1 - eps)` with a named eps (torch, JAX: float32 by default) -> the upper
    bound written `1 - 1e-8`, which is 1.0 in float32 (NUM506).

    Only an upper bound `1 - eps` with an eps (a small literal or a name the code calls eps) and a
    lower bound beside it: PPO's ratio clip `clamp(ratio, 1 - clip_range, 1 + clip_range)` subtracts
    a clip range of 0.2, and `clamp(1 - w ** 2, 1e-10)` has `1 - ...` as the clamped value, not a
    bound; writing `1 - 1e-8` there changes what the code computes instead of spelling a guard
    naively (4 of the 8 sampled sites on 2026-12-02)."""
    q, m, recv = resolve(call, ctx)
    name = (q or m or "").rsplit(".", 1)[-1]
    if name not in ("clamp", "clip"):
        return None
    fw = framework_of(q) if q else method_fw(ctx, ["torch"])
    if fw not in ("torch", "jax"):
        return None
    args = list(call.args) + [k.value for k in call.keywords]
    receiver = 1 if m else 0  # clamp(x, lo, hi) / x.clamp(lo, hi): the positions of the bounds
    bounds = {i: a for i, a in enumerate(call.args) if i >= 1 - receiver}
    kw = {k.arg: k.value for k in call.keywords}
    upper = kw.get("max", kw.get("a_max", bounds.get(2 - receiver)))
    lower = kw.get("min", kw.get("a_min", bounds.get(1 - receiver)))
    for i, a in enumerate(args):
        if (isinstance(a, ast.BinOp) and isinstance(a.op, ast.Sub) and is_lit(a.left, 1, 1.0)
                and not is_lit(a.right) and a is upper and lower is not None and _small_eps(a.right, ctx)):
            texts = [ctx.text(x) for x in call.args] + [f"{k.arg}={{p}}" if k.value is a else f"{k.arg}={ctx.text(k.value)}"
                                                        for k in call.keywords]
            if i < len(call.args):
                texts[i] = "{p}"
            site = Site("absorbed_clip", fw, call, "1 - 1e-8", f"{ctx.text(call.func)}({', '.join(texts)})", scalar=True)
            site.renderer = Renderer(fw, ctx.imports)
            site.operand = recv if m else (call.args[0] if call.args else a)
            return site
    return None


OPERATORS: Dict[str, Tuple[Operator, Callable]] = {
    "logsumexp": (Operator("logsumexp", ("NUM101",)), op_logsumexp),
    "log_softmax": (Operator("log_softmax", ("NUM102", "NUM203")), op_log_softmax),
    "cross_entropy": (Operator("cross_entropy", ("NUM203", "NUM102")), op_cross_entropy),
    "bce_with_logits": (Operator("bce_with_logits", ("NUM203",)), op_bce_logits),
    "from_logits": (Operator("from_logits", ("NUM203",)), op_from_logits),
    "logsigmoid": (Operator("logsigmoid", ("NUM103",)), op_logsigmoid),
    "softplus": (Operator("softplus", ("NUM104",)), op_softplus),
    "logaddexp": (Operator("logaddexp", ("NUM105",)), op_logaddexp),
    "log1p": (Operator("log1p", ("NUM106",), note="opt-in rule"), op_log1p),
    "expm1": (Operator("expm1", ("NUM107",)), op_expm1),
    "softmax": (Operator("softmax", ("NUM201",)), op_softmax),
    "sigmoid": (Operator("sigmoid", ("NUM202",), note="opt-in rule"), op_sigmoid),
    "var_std": (Operator("var_std", ("NUM301",)), op_var),
    "eps_sqrt": (Operator("eps_sqrt", ("NUM403",)), op_eps_sqrt),
    "normalize": (Operator("normalize", ("NUM404",)), op_normalize),
    "clamp_div": (Operator("clamp_div", ("NUM404",)), op_clamp_div),
    "finfo_mask": (Operator("finfo_mask", ("NUM501",)), op_finfo_mask),
    "cdist": (Operator("cdist", ("NUM402",), ("sqrt-of-cancelling-difference",)), op_cdist),
    # issue 14's families: no rule yet; the names are placeholders to map when the rules land.
    "logit": (Operator("logit", (), ("logit-by-hand",), written=False,
                       note="no hazard: log(p / (1 - p)) is as accurate as logit (docs/families.md); "
                            "the reciprocal form is logit_reciprocal's (NUM116)"), op_logit),
    # the log/exp family (issue 14)
    "atanh": (Operator("atanh", ("NUM111",), ("atanh-by-hand",)), op_atanh),
    "clipped_log_softmax": (Operator("clipped_log_softmax", ("NUM204",), note="opt-in rule"), op_clipped_log_softmax),
    "clipped_logsigmoid": (Operator("clipped_logsigmoid", ("NUM204",), note="opt-in rule"), op_clipped_logsigmoid),
    "acos_clamp": (Operator("acos_clamp", ("NUM405",)), op_acos_clamp),
    "finfo_eps": (Operator("finfo_eps", (), ("absorption", "dtype-eps"), written=False), op_finfo_eps),
    "finfo_floor": (Operator("finfo_floor", (), ("absorption", "dtype-eps"), written=False,
                             note="no hazard: a 1e-8 floor is positive in float32/bfloat16 (docs/families.md)"),
                    op_finfo_floor),
    # issue 14, precision family
    "fp16_mask": (Operator("fp16_mask", ("NUM505",)), op_fp16_mask),
    "absorbed_clip": (Operator("absorbed_clip", ("NUM506",)), op_absorbed_clip),
}
BINOP_OPERATORS = {"clamp_div", "finfo_eps"}
# The last name of a call that each operator looks at (so a file is walked once, not once per operator).
CALL_NAMES: Dict[str, Tuple[str, ...]] = {
    "logsumexp": ("logsumexp", "reduce_logsumexp"),
    "log_softmax": ("log_softmax",),
    "cross_entropy": ("cross_entropy",),
    "bce_with_logits": ("binary_cross_entropy_with_logits",),
    "from_logits": tuple(KERAS_LOSSES),
    "logsigmoid": ("logsigmoid", "log_sigmoid", "log_expit"),
    "softplus": ("softplus", "logaddexp"),
    "logaddexp": ("logaddexp",),
    "log1p": ("log1p",),
    "expm1": ("expm1",),
    "softmax": ("softmax",),
    "sigmoid": ("sigmoid", "expit"),
    "var_std": ("var", "std", "reduce_variance", "reduce_std"),
    "eps_sqrt": ("sqrt", "rsqrt"),
    "normalize": ("normalize", "l2_normalize"),
    "finfo_mask": ("masked_fill", "masked_fill_", "where"),
    "cdist": ("cdist",),
    "logit": ("logit",),
    "atanh": ("atanh", "arctanh"),
    "clipped_log_softmax": ("log_softmax",),
    "clipped_logsigmoid": ("logsigmoid", "log_sigmoid", "log_expit"),
    "acos_clamp": ("acos", "arccos"),
    "finfo_floor": ("clamp", "clamp_min", "clip", "maximum"),
    "fp16_mask": ("masked_fill", "masked_fill_", "where"),
    "absorbed_clip": ("clamp", "clip"),
}
FILE_TRIGGERS = {"clamp_div": ("clamp", "maximum", "eps"), "finfo_eps": ("finfo",)}


# -- domain and division family (issue 14: NUM302, NUM406, NUM407) --------------------------------

_AUTOGRAD_FWS = ("torch", "jax", "tf")
_SQRT_ONLY = {q: fw for q, fw in SQRT_FUNCS.items() if not q.endswith("rsqrt")}
_CLAMP_FUNCS = {"torch.clamp": "torch", "torch.clip": "torch", "torch.clamp_min": "torch",
                "jax.numpy.clip": "jax", "jax.numpy.maximum": "jax", "numpy.clip": "numpy",
                "numpy.maximum": "numpy", "tensorflow.clip_by_value": "tf", "tensorflow.maximum": "tf",
                "tensorflow.math.maximum": "tf"}


def _unary_arg(call, ctx, funcs: Dict[str, str], methods: Sequence[str]):
    """(framework, argument) of `f(x)` in `funcs` or the torch method `x.m()`."""
    q, m, recv = resolve(call, ctx)
    if q in funcs and len(call.args) == 1 and not call.keywords:
        return funcs[q], call.args[0]
    if m in methods and not call.args and not call.keywords and recv is not None \
            and method_fw(ctx, ["torch"]) == "torch":
        return "torch", recv
    return None


def _floor_parts(call, ctx):
    """`clamp(x, min=lo)` / `x.clamp(min=lo)` / `clamp_min(x, lo)` / `maximum(x, lo)` with no upper
    bound: (framework, x, lo, a writer of the same call with another lower bound)."""
    q, m, recv = resolve(call, ctx)
    kw = {k.arg: k.value for k in call.keywords}
    if q in _CLAMP_FUNCS and call.args:
        name = q.rsplit(".", 1)[-1]
        if name == "maximum" and len(call.args) == 2 and not kw:
            x, lo = call.args
            return _CLAMP_FUNCS[q], x, lo, lambda v: f"{ctx.text(call.func)}({ctx.text(x)}, {v})"
        if name in ("clamp", "clip", "clamp_min") and "max" not in kw and "a_max" not in kw and len(call.args) <= 2:
            lo = call.args[1] if len(call.args) == 2 else kw.get("min", kw.get("a_min"))
            if lo is None or (name != "clamp_min" and len(call.args) == 2 and q.startswith("numpy")):
                return None  # np.clip(x, lo) needs a_max
            key = "min" if "min" in kw else ("a_min" if "a_min" in kw else None)
            x = call.args[0]
            head = f"{ctx.text(call.func)}({ctx.text(x)}"
            return _CLAMP_FUNCS[q], x, lo, (lambda v: f"{head}, {key}={v})") if key else (lambda v: f"{head}, {v})")
    if m in ("clamp", "clamp_min", "clip") and recv is not None and method_fw(ctx, ["torch"]) == "torch" \
            and "max" not in kw and len(call.args) <= 1:
        lo = call.args[0] if call.args else kw.get("min")
        if lo is None:
            return None
        base = ctx.text(recv)
        if not isinstance(recv, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
            base = f"({base})"
        return "torch", recv, lo, lambda v: f"{base}.{m}(min={v})" if "min" in kw or m == "clamp" else f"{base}.{m}({v})"
    return None


def op_sqrt_floor(call, ctx):
    """`sqrt(clamp(x, min=eps))` -> `sqrt(clamp(x, min=0.0))`: the floor that keeps the infinite gradient."""
    found = _unary_arg(call, ctx, _SQRT_ONLY, ("sqrt",))
    if found is None or found[0] not in _AUTOGRAD_FWS or not isinstance(found[1], ast.Call):
        return None
    parts = _floor_parts(found[1], ctx)
    if parts is None or parts[0] != found[0] or not _small_eps(parts[2], ctx):
        return None
    fw, x, lo, write = parts
    r = Renderer(fw, ctx.imports)
    site = Site("sqrt_floor", fw, call, write("0.0"), r.sqrt("{p}"))
    site.renderer = r
    site.operand = x
    return site


_ACOS_FUNCS = {"torch.acos": "torch", "torch.arccos": "torch", "torch.asin": "torch", "torch.arcsin": "torch",
               "jax.numpy.arccos": "jax", "jax.numpy.arcsin": "jax", "tensorflow.math.acos": "tf",
               "tensorflow.math.asin": "tf", "tensorflow.acos": "tf", "tensorflow.asin": "tf"}


def op_acos_edge(call, ctx):
    """`acos(clamp(c, -1 + eps, 1 - eps))` -> `acos(clamp(c, -1.0, 1.0))`: the clamp to exactly ±1."""
    found = _unary_arg(call, ctx, _ACOS_FUNCS, ("acos", "arccos", "asin", "arcsin"))
    if found is None or not isinstance(found[1], ast.Call):
        return None
    fw, clamp = found
    q, m, recv = resolve(clamp, ctx)
    args = list(clamp.args)
    if m in ("clamp", "clip") and recv is not None and method_fw(ctx, ["torch"]) == "torch":
        inner, bounds = recv, args + [k.value for k in clamp.keywords if k.arg in ("min", "max")]
    elif q and q.rsplit(".", 1)[-1] in ("clamp", "clip", "clip_by_value") and args:
        inner, bounds = args[0], args[1:] + [k.value for k in clamp.keywords]
    else:
        return None
    texts = [ctx.text(b).replace(" ", "") for b in bounds]
    if len(texts) != 2 or any(t in ("1", "1.0", "-1", "-1.0") for t in texts):
        return None  # already at the edge, or not a two-sided clamp
    if not all(re.search(r"1(\.0*)?-|1-|0\.99|eps|1e-", t) for t in texts):
        return None  # bounds that are not ±(1 - eps)
    r = Renderer(fw, ctx.imports)
    name = ctx.text(call.func).rsplit(".", 1)[-1] if not (m and recv is clamp) else None
    if m in ("clamp", "clip"):
        base = ctx.text(inner)
        if not isinstance(inner, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
            base = f"({base})"
        prod = f"{base}.{m}(-1.0, 1.0)"
    else:
        prod = f"{ctx.text(clamp.func)}({ctx.text(inner)}, -1.0, 1.0)"
    call_text = ctx.text(call.func)
    cons = f"{call_text}({{p}})" if call.args else f"({{p}}).{call.func.attr}()"
    site = Site("acos_edge", fw, call, prod, cons)
    site.renderer = r
    site.operand = inner
    return site


def op_cdist_expanded(call, ctx):
    """`torch.cdist(a, b)` -> `sqrt(|a|² + |b|² - 2 a bᵀ)`, the expanded squared distance that cancels."""
    q, _, _ = resolve(call, ctx)
    if q != "torch.cdist":
        return None
    b = bind(call, ["x1", "x2", "p", "compute_mode"])
    if not b or "x1" not in b or "x2" not in b or ("p" in b and not is_lit(b["p"], 2, 2.0)):
        return None
    r = Renderer("torch", ctx.imports)
    x1, x2 = f"({ctx.text(b['x1'])})", f"({ctx.text(b['x2'])})"
    prod = (f"{x1}.pow(2).sum(-1, keepdim=True) + {x2}.pow(2).sum(-1, keepdim=True).transpose(-2, -1)"
            f" - 2 * {x1} @ {x2}.transpose(-2, -1)")
    site = Site("cdist_expanded", "torch", call, prod, r.sqrt("{p}"))
    site.renderer = r
    site.operand = b["x1"]
    return site


OPERATORS.update({
    "sqrt_floor": (Operator("sqrt_floor", ("NUM407",)), op_sqrt_floor),
    "acos_edge": (Operator("acos_edge", ("NUM406",)), op_acos_edge),
    "cdist_expanded": (Operator("cdist_expanded", ("NUM302",)), op_cdist_expanded),
})
CALL_NAMES.update({
    "sqrt_floor": ("sqrt",),
    "acos_edge": ("acos", "arccos", "asin", "arcsin"),
    "cdist_expanded": ("cdist",),
})


# -- issue 14's second catalog (docs/families.md: NUM116, NUM117, NUM206) ---------------------------

def op_logit_reciprocal(call, ctx):
    """`logit(p)` -> `-log(1 / p - 1)`: the inverse sigmoid through the reciprocal (NUM116)."""
    funcs = {"torch.logit": "torch", "torch.special.logit": "torch", "scipy.special.logit": "numpy",
             "jax.scipy.special.logit": "jax"}
    return _unary_site("logit_reciprocal", call, ctx, funcs, {"logit": "torch"},
                       lambda r, x: (f"1 / {x} - 1", f"-{r.log('{p}')}"))


def op_double_sigmoid(call, ctx):
    """`binary_cross_entropy_with_logits(x, t)` -> the same loss of `sigmoid(x)`: the activation
    applied twice (NUM206)."""
    q, _, _ = resolve(call, ctx)
    if q != "torch.nn.functional.binary_cross_entropy_with_logits":
        return None
    b = bind(call, ["input", "target", "weight", "size_average", "reduce", "reduction", "pos_weight"])
    if not b or "input" not in b or "target" not in b:
        return None
    rest = [ctx.text(b["target"])] + [f"{k}={ctx.text(v)}" for k, v in b.items() if k not in ("input", "target")]
    r = Renderer("torch", ctx.imports)
    site = Site("double_sigmoid", "torch", call, r.sigmoid(ctx.text(b["input"])),
                f"{ctx.text(call.func)}({{p}}, {', '.join(rest)})")
    site.renderer = r
    site.operand = b["input"]
    return site


def op_xlogy_kl(call, ctx):
    """`xlogy(p, p / q)` -> `p * log(p / q)`: the KL term by hand, NaN where p is 0 (NUM117)."""
    funcs = {"torch.xlogy": "torch", "torch.special.xlogy": "torch", "scipy.special.xlogy": "numpy",
             "jax.scipy.special.xlogy": "jax", "tensorflow.math.xlogy": "tf"}
    q, _, _ = resolve(call, ctx)
    if q not in funcs or len(call.args) != 2 or call.keywords:
        return None
    x, y = call.args
    if not (isinstance(y, ast.BinOp) and isinstance(y.op, ast.Div) and ast.dump(y.left) == ast.dump(x)):
        return None
    fw = funcs[q]
    r = Renderer(fw, ctx.imports)
    xs = ctx.text(x)
    if not isinstance(x, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
        xs = f"({xs})"
    site = Site("xlogy_kl", fw, call, ctx.text(y), f"{xs} * {r.log('{p}')}")
    site.renderer = r
    site.operand = y
    return site


OPERATORS.update({
    "logit_reciprocal": (Operator("logit_reciprocal", ("NUM116",)), op_logit_reciprocal),
    "double_sigmoid": (Operator("double_sigmoid", ("NUM206",)), op_double_sigmoid),
    "xlogy_kl": (Operator("xlogy_kl", ("NUM117",)), op_xlogy_kl),
})
CALL_NAMES.update({
    "logit_reciprocal": ("logit",),
    "double_sigmoid": ("binary_cross_entropy_with_logits",),
    "xlogy_kl": ("xlogy",),
})


# -- issue 14's families without an operator until now (docs/families.md: NUM112, NUM113, NUM114,
# NUM205, NUM408, NUM507) ----------------------------------------------------------------------------

def _enclosing_function(node: ast.AST, ctx: Ctx) -> Optional[ast.AST]:
    return next((a for a in _ancestors(node, ctx) if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef))), None)


def _assignments(name: str, scope: ast.AST) -> List[ast.AST]:
    """The values a plain name is assigned in a scope (`x = ...`, not tuple targets)."""
    return [n.value for n in ast.walk(scope) if isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]


def _axis_size(count: ast.AST, x: ast.AST, axis: Optional[ast.AST], ctx: Ctx, scope: Optional[ast.AST]) -> bool:
    """`count` is the size of `x` along `axis`: `len(x)` (axis 0), `x.shape[axis]`, `x.size(axis)`,
    or a name the enclosing function assigns one of those (the body of a conditional counts)."""
    xt = ctx.text(x)
    at = ctx.text(axis) if axis is not None else None
    if isinstance(count, ast.Call) and (dotted(count.func) or [""])[-1] == "len" and len(count.args) == 1:
        return ctx.text(count.args[0]) == xt and at in ("0", "-0")
    if isinstance(count, ast.Subscript) and isinstance(count.value, ast.Attribute) and count.value.attr == "shape":
        return ctx.text(count.value.value) == xt and at is not None and ctx.text(count.slice) == at
    if isinstance(count, ast.Call) and isinstance(count.func, ast.Attribute) and count.func.attr == "size" \
            and len(count.args) == 1:
        return ctx.text(count.func.value) == xt and at is not None and ctx.text(count.args[0]) == at
    if isinstance(count, ast.Name) and scope is not None:
        values = _assignments(count.id, scope)
        values = [v.body if isinstance(v, ast.IfExp) else v for v in values]
        return len(values) == 1 and not isinstance(values[0], ast.Name) and _axis_size(values[0], x, axis, ctx, None)
    return False


LOGMEANEXP_FUNCS = {"botorch.utils.safe_math.logmeanexp": ("torch", ["X", "dim", "keepdim"]),
                    "jax.nn.logmeanexp": ("jax", ["x", "axis", "where", "keepdims"])}


def op_log_mean_exp(node, ctx):
    """`logsumexp(x, dim) - log(n)` or a `logmeanexp(x, dim)` call (botorch's `safe_math`, JAX's
    `jax.nn`) -> `log(mean(exp(x), dim))` (NUM113). The subtracted count must be shown to be the
    size of the reduced axis (`len(x)` with dim 0, `x.shape[dim]`, `x.size(dim)`, or a name assigned
    one of those): x-transformers' `logsumexp(dim=1) - log(candidates)` divides by a parameter the
    code only implies is that size, and pythae's `logsumexp(...) - log(z.shape[0] * dataset_size)`
    by more than the count, so its naive form would not be a mean."""
    if isinstance(node, ast.Call):
        q, _, _ = resolve(node, ctx)
        if q not in LOGMEANEXP_FUNCS:
            return None
        fw, params = LOGMEANEXP_FUNCS[q]
        b = bind(node, params)
        if not b or params[0] not in b or params[1] not in b or set(b) - {params[0], params[1], params[-1]}:
            return None
        x, axis, kd = b[params[0]], b[params[1]], b.get(params[-1])
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Call) \
            and isinstance(node.right, ast.Call):
        lse = op_logsumexp(node.left, ctx)
        if lse is None:
            return None
        fw = lse.fw
        q, m, recv = resolve(node.left, ctx)
        params = {"torch": ["input", "dim", "keepdim"], "tf": ["input_tensor", "axis", "keepdims"]}.get(
            fw, ["a", "axis", "b", "keepdims"])
        b = bind(node.left, params, receiver=recv if m else None)
        if not b or params[1] not in b:
            return None
        x, axis, kd = b[params[0]], b[params[1]], b.get(params[-1])
        lq, lm, lrecv = resolve(node.right, ctx)
        if not (lq or "").endswith(".log") or len(node.right.args) != 1 or node.right.keywords:
            return None
        count = node.right.args[0]
        if not _axis_size(count, x, axis, ctx, _enclosing_function(node, ctx)):
            return None
    else:
        return None
    r = Renderer(fw, ctx.imports)
    xs = ctx.text(x)
    kdt = ctx.text(kd) if kd is not None else None
    site = Site("log_mean_exp", fw, node, r.exp(xs), r.log(r.mean("{p}", ctx.text(axis), kdt)))
    site.renderer = r
    site.operand = x
    return site


_LOG_FUNCS = {"torch.log": "torch", "numpy.log": "numpy", "jax.numpy.log": "jax", "tensorflow.math.log": "tf",
              "tensorflow.log": "tf", "keras.ops.log": "keras"}
_SUM_FUNCS = {"torch.sum": "torch", "numpy.sum": "numpy", "jax.numpy.sum": "jax", "tensorflow.reduce_sum": "tf",
              "tensorflow.math.reduce_sum": "tf", "keras.ops.sum": "keras"}


def op_log_prod(call, ctx):
    """`sum(log(p), axis)` -> `log(prod(p, axis))` (NUM114): a likelihood or a determinant from a
    diagonal multiplied out, which underflows (or overflows) with enough factors. Not where the sum
    is exponentiated right away (`exp(sum(log(w)))`, botorch's joint entropy search, 4 sites):
    the code wants the product itself, which the naive form gives as exactly (0 where it
    underflows), so nothing is lost. Not a PyTorch sum over several dims (`dim=[1, 2]`):
    `torch.prod` reduces one dim, so there is no naive spelling (normflows' coupling log-dets)."""
    q, m, recv = resolve(call, ctx)
    if q in _SUM_FUNCS:
        fw = _SUM_FUNCS[q]
        params = {"torch": ["input", "dim", "keepdim", "dtype"], "tf": ["input_tensor", "axis", "keepdims", "name"]}.get(
            fw, ["a", "axis", "dtype", "out", "keepdims"])
        b = bind(call, params)
    elif m == "sum" and recv is not None:
        fw = None
        if isinstance(recv, ast.Call):
            lq, lm, _ = resolve(recv, ctx)
            fw = _LOG_FUNCS.get(lq) if lq else (method_fw(ctx, ["torch"]) if lm == "log" else None)
        if fw not in ("torch", "numpy", "jax"):
            return None
        params = ["input", "dim", "keepdim", "dtype"] if fw == "torch" else ["a", "axis", "dtype", "out", "keepdims"]
        b = bind(call, params, receiver=recv)
    else:
        return None
    if not b or params[0] not in b or set(b) - {params[0], params[1], "keepdim", "keepdims"}:
        return None
    inner = b[params[0]]
    if not isinstance(inner, ast.Call):
        return None
    lq, lm, lrecv = resolve(inner, ctx)
    if lq in _LOG_FUNCS and len(inner.args) == 1 and not inner.keywords:
        p = inner.args[0]
    elif lm == "log" and not inner.args and not inner.keywords and method_fw(ctx, ["torch"]) == "torch":
        p = lrecv
    else:
        return None
    if isinstance(p, (ast.ListComp, ast.GeneratorExp, ast.List, ast.Tuple)) or _locally_constant(p, call, ctx):
        return None
    axis = b.get(params[1])
    if fw == "torch" and isinstance(axis, (ast.List, ast.Tuple, ast.Call)):
        return None  # torch.prod takes one dim
    for a in _ancestors(call, ctx)[:3]:
        if isinstance(a, ast.Call) and (dotted(a.func) or [""])[-1] == "exp":
            return None
    kd = b.get("keepdim", b.get("keepdims"))
    r = Renderer(fw, ctx.imports)
    prod = r._reduce("prod", ctx.text(p), ctx.text(axis) if axis is not None else None,
                     ctx.text(kd) if kd is not None else None)
    site = Site("log_prod", fw, call, prod, r.log("{p}"))
    site.renderer = r
    site.operand = p
    return site


def _locally_constant(node: ast.AST, at: ast.AST, ctx: Ctx) -> bool:
    """Every name in `node` is assigned in the enclosing function only from literals and imported
    functions (nflows' `log(erf((2 - mean) / sigma) - ...)` with `mean = torch.log(torch.tensor([...]))`,
    `sigma = 0.5`): a product of a few fixed factors, which does not underflow."""
    scope = _enclosing_function(at, ctx)
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - set(ctx.imports) - BUILTINS
    if scope is None or not names:
        return False
    for name in names:
        values = _assignments(name, scope)
        if not values or any({n.id for n in ast.walk(v) if isinstance(n, ast.Name)} - set(ctx.imports) - BUILTINS
                             for v in values):
            return False
    return True


_LOG2 = re.compile(r"^(\w+\.)*log_?2$|^_?LOG_?2$|^0\.693147\d*$", re.I)


def _is_log2(node: ast.AST, ctx: Ctx) -> bool:
    """log(2) in the spellings the corpus uses: a literal, a name `log2`, `log(2.0)` (cast or not)."""
    t = ctx.text(node).replace(" ", "")
    if _LOG2.match(t):
        return True
    t = re.sub(r"\.astype\(.*\)$", "", t)
    return bool(re.match(r"^(\w+\.)*log\(2(\.0*)?\)$", t))


_SOFTPLUS_FUNCS = {"torch.nn.functional.softplus": "torch", "jax.nn.softplus": "jax", "tensorflow.nn.softplus": "tf",
                   "tensorflow.math.softplus": "tf", "keras.ops.softplus": "keras", "keras.src.ops.softplus": "keras"}


def _minus_two(node: ast.AST, x: ast.AST) -> bool:
    """`-2 * x`, `x * -2.0`, `-2.0 * x`."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return False
    for c, v in ((node.left, node.right), (node.right, node.left)):
        if is_lit(c, -2, -2.0) and ast.dump(v) == ast.dump(x):
            return True
    return False


def op_log_cosh(node, ctx):
    """The stable log-cosh -> `log(cosh(x))` (NUM112): `logaddexp(x, -x) - log(2)` (optax),
    `x + softplus(-2 * x) - log(2)` (Keras), `abs(x) + softplus(-2 * abs(x)) - log(2)`."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _is_log2(node.right, ctx)):
        return None
    left, x, fw = node.left, None, None
    if isinstance(left, ast.Call):
        q, _, _ = resolve(left, ctx)
        if q in ("numpy.logaddexp", "jax.numpy.logaddexp", "torch.logaddexp") and len(left.args) == 2 \
                and isinstance(left.args[1], ast.UnaryOp) and isinstance(left.args[1].op, ast.USub) \
                and ast.dump(left.args[1].operand) == ast.dump(left.args[0]):
            x, fw = left.args[0], framework_of(q)
    elif isinstance(left, ast.BinOp) and isinstance(left.op, ast.Add):
        for a, sp in ((left.left, left.right), (left.right, left.left)):
            if isinstance(sp, ast.Call) and len(sp.args) == 1 and not sp.keywords:
                q, _, _ = resolve(sp, ctx)
                if q in _SOFTPLUS_FUNCS and _minus_two(sp.args[0], a):
                    x, fw = a, _SOFTPLUS_FUNCS[q]
                    if isinstance(a, ast.Call) and (dotted(a.func) or [""])[-1] == "abs" and len(a.args) == 1:
                        x = a.args[0]  # abs(x) + softplus(-2 abs(x)): the same function of x
                    break
    if x is None or fw is None:
        return None
    r = Renderer(fw, ctx.imports)
    site = Site("log_cosh", fw, node, r.unary("cosh", wrap(ctx.text(x))), r.log("{p}"))
    site.renderer = r
    site.operand = x
    return site


_SIGN_FUNCS = {"torch.sign": "torch", "numpy.sign": "numpy", "jax.numpy.sign": "jax", "tensorflow.sign": "tf",
               "tensorflow.math.sign": "tf"}
_ABS_FUNCS = {"torch.abs": "torch", "numpy.abs": "numpy", "jax.numpy.abs": "jax", "tensorflow.abs": "tf",
              "tensorflow.math.abs": "tf", "numpy.absolute": "numpy"}


def _number(node: ast.AST) -> Optional[float]:
    """The value of a literal number or of arithmetic on literals (`1.0 / 3.0`, `-0.5`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _number(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        a, b = _number(node.left), _number(node.right)
        if a is None or b is None or (isinstance(node.op, ast.Div) and b == 0):
            return None
        return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b, ast.Div: a / b if b else 0.0}[type(node.op)]
    return None


def _fractional_literal(node: ast.AST) -> Optional[str]:
    v = _number(node)
    return repr(v) if v is not None and not v.is_integer() else None


def op_signed_power(node, ctx):
    """A fractional power kept real on negative values -> the bare power (NUM408):
    `sign(x) * abs(x) ** w` -> `x ** w` (an odd root), and `sqrt(clamp(x, min=0))`,
    `x.clamp_min(0).sqrt()`, `sqrt(maximum(x, 0))` -> `sqrt(x)`. Each naive form is the stable one
    wherever x >= 0 and NaN wherever x < 0. Only a floor of exactly 0: `sqrt(clamp(v, min=1e-6))`
    differs from `sqrt(v)` on small positive v too (that floor is NUM407's family), and Qwen4's
    `gate.abs().clamp_min(1e-6).sqrt() * gate.sign()` likewise. Not `sign(x) * log(abs(x) + 1)`
    (sam3, swin2sr): a log, not a power."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for s, pw in ((node.left, node.right), (node.right, node.left)):
            if not (isinstance(s, ast.Call) and isinstance(pw, ast.BinOp) and isinstance(pw.op, ast.Pow)):
                continue
            sq, sm, srecv = resolve(s, ctx)
            if sq in _SIGN_FUNCS and len(s.args) == 1:
                fw, x = _SIGN_FUNCS[sq], s.args[0]
            elif sm == "sign" and not s.args and method_fw(ctx, ["torch"]) == "torch":
                fw, x = "torch", srecv
            else:
                continue
            base = pw.left
            if not isinstance(base, ast.Call):
                continue
            aq, am, arecv = resolve(base, ctx)
            inner = base.args[0] if aq in _ABS_FUNCS and len(base.args) == 1 else (arecv if am == "abs" else None)
            w = _fractional_literal(pw.right)
            if inner is None or ast.dump(inner) != ast.dump(x) or w is None:
                continue
            r = Renderer(fw, ctx.imports)
            site = Site("signed_power", fw, node, ctx.text(x), f"{{p}} ** {wrap(ctx.text(pw.right))}")
            site.renderer = r
            site.operand = x
            return site
        return None
    if not isinstance(node, ast.Call):
        return None
    found = _unary_arg(node, ctx, _SQRT_ONLY, ("sqrt",))
    if found is None or not isinstance(found[1], ast.Call):
        return None
    fw, arg = found
    parts = _floor_parts(arg, ctx)
    inner = None
    if parts is not None and parts[0] == fw and is_lit(parts[2], 0, 0.0):
        inner = parts[1]
    else:
        aq, _, _ = resolve(arg, ctx)
        if aq in ("torch.relu", "torch.nn.functional.relu", "jax.nn.relu") and len(arg.args) == 1:
            inner = arg.args[0]
    if inner is None:
        return None
    r = Renderer(fw, ctx.imports)
    site = Site("signed_power", fw, node, ctx.text(inner), r.sqrt("{p}"))
    site.renderer = r
    site.operand = inner
    return site


_DRAW_GUARD = re.compile(r"\.clamp_?\([^()]*\)$|\.clip_?\([^()]*\)$")


def _uniform_draw(node: ast.AST, ctx: Ctx, scope: Optional[ast.AST]) -> Optional[str]:
    """The text of the uniform draw a value is, without a clamp on it: a call of `rand`, `rand_like`,
    `uniform`, `Tensor.uniform_(0, 1)`, `random.random` (a device move after it is kept), or a name
    the enclosing function assigns exactly one such draw. None otherwise."""
    if isinstance(node, ast.Name) and scope is not None:
        values = _assignments(node.id, scope)
        if len(values) != 1:
            return None
        return _uniform_draw(values[0], ctx, None)
    if not isinstance(node, ast.Call):
        return None
    text = ctx.text(node).strip()
    text = _DRAW_GUARD.sub("", text)
    inner = node
    while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) \
            and inner.func.attr in ("to", "clamp", "clamp_", "clip", "clip_", "float"):
        inner = inner.func.value
    last = None
    if isinstance(inner, ast.Call):
        f = inner.func
        last = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if last not in ("rand", "rand_like", "uniform", "uniform_", "random", "random_sample"):
        return None
    if re.search(r"uniform_?\(\s*(low\s*=\s*)?[1-9]|uniform_?\([^,]*,[^,)]*[^0-9.,\s)]", text):
        return None  # a range that does not start at 0 (or an unknown one): not a draw from [0, 1)
    return text


def op_log_uniform(call, ctx):
    """The guarded log of a uniform draw -> the bare log (NUM205): `log(u.clamp(min=tiny))`,
    `log(u + eps)`, a draw clamped where it is made (`u = rand(...).clamp_(1e-12, ...)`), and the
    research packages' `log(t, eps)` helper (`torch.log(t.clamp(min=eps))`) called on a draw.
    At a draw of exactly 0 the naive log is -inf.

    Only where that matters: the noise is scaled (`temperature * gumbel_noise(p)` in diffusers'
    aMUSEd, `noise_level_scale * gumbel_noise(s) * annealing_scale` in x-transformers), and a scale
    of 0 times the infinite noise is NaN. Where Gumbel noise is only added to logits for an argmax
    or top-k (Gumbel-max sampling: diffusers' VQ-diffusion and discrete DDIM, dalle-pytorch,
    vector-quantize-pytorch, x-transformers' autoregressive sampler; 6 of 8 sites on 2026-12-02),
    -inf is the right limit of a draw of 0 and only makes that entry lose: no hazard, so no site."""
    q, m, recv = resolve(call, ctx)
    helper = None
    if q in _LOG_FUNCS and len(call.args) == 1 and not call.keywords:
        fw, arg = _LOG_FUNCS[q], call.args[0]
    elif isinstance(call.func, ast.Name) and call.func.id == "log" and "log" not in ctx.imports and call.args:
        helper = next((n for n in ctx.tree.body if isinstance(n, ast.FunctionDef) and n.name == "log"), None)
        if helper is None or not re.search(r"torch\.log\(|\.log\(\)", ctx.text(helper)) \
                or not re.search(r"clamp|\+\s*eps", ctx.text(helper)):
            return None
        fw, arg = "torch", call.args[0]
    else:
        return None
    scope = _enclosing_function(call, ctx)
    draw = None
    if helper is not None:
        draw = _uniform_draw(arg, ctx, scope)
    elif isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add) and _small_eps(arg.right, ctx):
        draw = _uniform_draw(arg.left, ctx, scope)
    elif isinstance(arg, ast.Call):
        parts = _floor_parts(arg, ctx)
        if parts is not None and _small_eps(parts[2], ctx):
            draw = _uniform_draw(parts[1], ctx, scope)
    elif isinstance(arg, ast.Name) and scope is not None:
        values = _assignments(arg.id, scope)
        if len(values) == 1 and _DRAW_GUARD.search(ctx.text(values[0]).strip()):
            draw = _uniform_draw(values[0], ctx, None)
    if draw is None or not _scaled_noise(call, scope, ctx):
        return None
    r = Renderer(fw, ctx.imports)
    site = Site("log_uniform", fw, call, draw, r.log("{p}"))
    site.renderer = r
    site.operand = arg
    return site


def _scaled_noise(call: ast.AST, scope: Optional[ast.AST], ctx: Ctx) -> bool:
    """The log's value is multiplied by something in its own statement, or the function that holds
    it is called as a factor of a product somewhere in the file."""
    for a in _ancestors(call, ctx):
        if isinstance(a, ast.stmt):
            break
        if isinstance(a, ast.BinOp) and isinstance(a.op, ast.Mult):
            return True
    if scope is None:
        return False
    par = getattr(ctx, "_parents", None) or parents(ctx.tree)
    for n in ast.walk(ctx.tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == scope.name:
            up = par.get(n)
            if isinstance(up, ast.BinOp) and isinstance(up.op, ast.Mult):
                return True
    return False


_EXP_FUNCS = {"torch.exp": "torch", "numpy.exp": "numpy", "jax.numpy.exp": "jax"}
# Log-parametrised constants whose logs stay small: Mamba's A_log is log(1..16), RWKV's time decay
# and CLIP's logit scale (clamped at log 100) likewise; exp of them is < 65504 in float16.
_SMALL_LOG_PARAMS = re.compile(r"A_log|time_decay|logit_scale|dt_bias|log_scale", re.I)


def op_fp16_exp(call, ctx):
    """An upcast before the exp -> the exp of the value made float16 (NUM507): `exp(x.float())`,
    `x.float().exp()`, `exp(x.to(torch.float32))`, `exp(x.astype(np.float32))` -> `exp(x.half())`
    (`x.astype('float16')`), which is inf once x > 11.09. The upcast is what keeps a float16 value
    from overflowing, so the naive form shows the value as float16 (as `fp16_mask` does). Not of a
    log-parametrised constant (`A_log`, `time_decay`, `logit_scale`: 23 of the 24 sites, all
    `exp(self.A_log.float())` in transformers' and diffusers' state-space layers): A_log is the log
    of a decay rate initialised between 1 and the number of heads or states (Mamba:
    `log(arange(1, n + 1))`), so exp stays far below 65504, and the upcast is there for the
    recurrence's precision, not against overflow. Not of a max-shifted or
    negated value (the exp is at most 1), nor a grid (`arange(...).float()`, a constant operand)."""
    q, m, recv = resolve(call, ctx)
    if q in _EXP_FUNCS and len(call.args) == 1 and not call.keywords:
        fw, arg = _EXP_FUNCS[q], call.args[0]
    elif m == "exp" and not call.args and not call.keywords and method_fw(ctx, ["torch"]) == "torch":
        fw, arg = "torch", recv
    else:
        return None
    if not isinstance(arg, ast.Call) or not isinstance(arg.func, ast.Attribute):
        return None
    cast, x = arg.func.attr, arg.func.value
    t = [ctx.text(a).replace(" ", "") for a in arg.args]
    if fw == "torch" and not ((cast in ("float", "double") and not t) or (cast == "to" and t and t[0] in (
            "torch.float32", "torch.float", "torch.float64", "dtype=torch.float32"))):
        return None
    if fw != "torch" and not (cast == "astype" and t and re.search(r"float(32|64)", t[0])):
        return None
    xt = ctx.text(x)
    if _SMALL_LOG_PARAMS.search(xt) or re.search(r"max|logsumexp|-\s*\w*abs", xt) \
            or xt.lstrip().startswith("-"):
        return None
    half = f"{wrap(xt)}.half()" if fw == "torch" else f"{wrap(xt)}.astype('float16')"
    r = Renderer(fw, ctx.imports)
    site = Site("fp16_exp", fw, call, half, r.exp("{p}"))
    site.renderer = r
    site.operand = x
    return site


OPERATORS.update({
    "log_mean_exp": (Operator("log_mean_exp", ("NUM113",)), op_log_mean_exp),
    "log_prod": (Operator("log_prod", ("NUM114",), note="opt-in rule"), op_log_prod),
    "log_cosh": (Operator("log_cosh", ("NUM112",)), op_log_cosh),
    "signed_power": (Operator("signed_power", ("NUM408",)), op_signed_power),
    "log_uniform": (Operator("log_uniform", ("NUM205",), note="opt-in rule"), op_log_uniform),
    "fp16_exp": (Operator("fp16_exp", ("NUM507",)), op_fp16_exp),
})
CALL_NAMES.update({
    "log_mean_exp": ("logmeanexp",),
    "log_prod": ("sum", "reduce_sum"),
    "signed_power": ("sqrt",),
    "log_uniform": ("log",),
    "fp16_exp": ("exp",),
})
FILE_TRIGGERS.update({"log_mean_exp": ("logsumexp",), "log_cosh": ("softplus", "logaddexp"),
                      "signed_power": ("sign",)})
# Binary operations an operator looks at (the rest look at calls by CALL_NAMES).
BINOP_SITES = {ast.Div: ("clamp_div",), ast.Add: ("finfo_eps",), ast.Sub: ("log_mean_exp", "log_cosh"),
               ast.Mult: ("signed_power",)}


# --------------------------------------------------------------------------- finding sites

SKIP_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|conftest\.py$")
CONSTANT_CALLS = {"linspace", "arange", "logspace", "ones", "zeros", "full", "eye", "ones_like", "zeros_like"}


def parents(tree: ast.AST) -> Dict[ast.AST, ast.AST]:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def is_constant_operand(node: ast.AST, ctx: Ctx) -> bool:
    """The operand has no variable in it (a literal, a grid from constants): the naive form is safe there."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    names -= set(ctx.imports) | BUILTINS
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            parts = dotted(n.func)
            if parts and parts[-1] in CONSTANT_CALLS:
                return True
    return not names


@dataclasses.dataclass
class Found:
    path: str          # relative to the corpus
    site: Site
    stmt: ast.stmt
    top: ast.stmt
    func: Optional[ast.AST]
    klass: Optional[ast.ClassDef]
    line: int          # line of the replaced expression in the original file


def scan_file(path: pathlib.Path, rel: str, wanted: set) -> List[Found]:
    try:
        src = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    triggers = [t for name in wanted for t in CALL_NAMES.get(name, ()) + FILE_TRIGGERS.get(name, ())]
    if PREFIX in src or not any(t in src for t in triggers):
        return []
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return []
    ctx = Ctx(src, tree, import_table(tree))
    if not ctx.fws:
        return []
    par = None
    out: List[Found] = []
    by_name: Dict[str, List[str]] = collections.defaultdict(list)
    for name in sorted(wanted):
        for n in CALL_NAMES.get(name, ()):
            by_name[n].append(name)
    binops = {op: [n for n in names if n in wanted] for op, names in BINOP_SITES.items()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            last = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            names = by_name.get(last, ())
        elif isinstance(node, ast.BinOp):
            names = binops.get(type(node.op), ())
        else:
            continue
        for name in names:
            try:
                site = OPERATORS[name][1](node, ctx)
            except Exception:
                site = None
            if site is None:
                continue
            site.ctx = ctx
            if par is None:
                par = parents(tree)
            placed = place(node, par, ctx)
            if placed is None or is_constant_operand(site.operand, ctx):
                continue
            stmt, top, func, klass = placed
            if getattr(site, "needs_softmax_after", False):
                body = ctx.text(func) if func is not None else src
                after = body[body.find(ctx.text(node)):] if ctx.text(node) in body else body
                if "softmax(" not in after:
                    continue
            out.append(Found(rel, site, stmt, top, func, klass, node.lineno))
    return out


def place(node, par, ctx):
    """(statement, top-level statement, function, class) around a node; None where a mutation cannot go."""
    cur = node
    stmt = None
    func = None
    klass = None
    while cur in par:
        cur = par[cur]
        if isinstance(cur, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)) and stmt is None:
            return None
        if isinstance(cur, ast.stmt) and stmt is None:
            stmt = cur
        if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)) and func is None and cur is not stmt:
            func = cur
            outer = par.get(cur)
            if isinstance(outer, ast.ClassDef):
                klass = outer
        if isinstance(cur, ast.ClassDef) and func is None:
            return None  # a class body: no statement to put a producer before
    if stmt is None or isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    top = stmt
    while par.get(top) is not None and not isinstance(par[top], ast.Module):
        top = par[top]
    line = ctx.lines[stmt.lineno - 1]
    indent = len(line) - len(line.lstrip())
    if byte_to_char(line, stmt.col_offset) != indent or line.lstrip().startswith("elif"):
        return None  # the statement does not start its line (after `;`, or a one-line body)
    return stmt, top, func, klass


def byte_to_char(line: str, col: int) -> int:
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


# --------------------------------------------------------------------------- building mutants

@dataclasses.dataclass
class Mutant:
    id: str
    op: str
    distance: str
    variant: str
    fw: str
    path: str              # corpus-relative original path
    orig_line: int
    files: Dict[str, str]  # relative path in the mutant folder -> text
    main: str              # the mutated file's relative path
    lines: List[int]       # lines of the main file where a finding counts
    codes: Tuple[str, ...]
    names: Tuple[str, ...]


def free_names(expr: str, known: set) -> List[str]:
    seen: List[str] = []
    for n in ast.walk(ast.parse(expr, mode="eval")):
        if isinstance(n, ast.Name) and n.id not in known and n.id not in seen and n.id not in BUILTINS:
            seen.append(n.id)
    return seen


def module_names(tree: ast.Module) -> set:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names.add(n.id)
    return names


def absolute_imports(tree: ast.Module, src: str) -> List[str]:
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and not node.level
                                            and node.module != "__future__"):
            out.append(ast.get_source_segment(src, node))
    return out


def start_line(node: ast.stmt) -> int:
    lines = [node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]
    return min(lines)


def wrap(expr: str) -> str:
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return f"({expr})"
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.Constant)):
        return expr
    return f"({expr})"


def build(found: Found, distance: str, rng: random.Random, mid: str, op: Operator) -> Optional[Mutant]:
    site, ctx = found.site, found.site.ctx
    r: Renderer = site.renderer
    lines = list(ctx.lines)
    node = site.node
    # The replaced span, in characters.
    sl, el = node.lineno - 1, node.end_lineno - 1
    sc = byte_to_char(lines[sl], node.col_offset)
    ec = byte_to_char(lines[el], node.end_col_offset)
    head, tail = lines[sl][:sc], lines[el][ec:]
    stmt_line = found.stmt.lineno - 1
    ind = lines[stmt_line][: len(lines[stmt_line]) - len(lines[stmt_line].lstrip())]
    nl = "\r\n" if lines[stmt_line].endswith("\r\n") else "\n"
    prod = site.prod
    known_mod = module_names(ctx.tree) | set(ctx.imports)
    params = free_names(prod, known_mod | {n.split(" as ")[-1] for n in r.new_imports})
    pre: List[str] = []          # lines before the statement
    top_insert: List[str] = []   # lines before the enclosing top-level statement
    cls_insert: List[str] = []   # lines before the enclosing method (a new method)
    prod_offsets: List[Tuple[str, int]] = []  # ("pre"/"top"/"cls", index) of producer lines
    variant = ""
    files: Dict[str, str] = {}
    p = "_nl_p"

    def cond() -> str:
        if found.func is not None:
            args = [a.arg for a in found.func.args.args + found.func.args.kwonlyargs if a.arg not in ("self", "cls")]
            if args:
                return f"{args[0]} is not None"
        return '__name__ != "__main__"'

    if distance == "inline":
        value = site.cons.format(p=wrap(prod))
    elif distance == "local":
        pre = [f"{ind}{p} = {prod}"]
        prod_offsets = [("pre", 0)]
        value = site.cons.format(p=p)
    elif distance == "reassign":
        variant = rng.choice(r.reassignments(p, site.scalar))
        pre = [f"{ind}{p} = {prod}", f"{ind}{p} = {variant}"]
        prod_offsets = [("pre", 0), ("pre", 1)]
        value = site.cons.format(p=p)
    elif distance == "branch":
        variant = rng.choice(["both", "one"])
        if variant == "both":
            pre = [f"{ind}if {cond()}:", f"{ind}    {p} = {prod}", f"{ind}else:", f"{ind}    {p} = {prod}"]
            prod_offsets = [("pre", 1), ("pre", 3)]
        else:
            again = rng.choice(r.reassignments(p, site.scalar))
            variant = f"one: {again}"
            pre = [f"{ind}{p} = {prod}", f"{ind}if {cond()}:", f"{ind}    {p} = {again}"]
            prod_offsets = [("pre", 0), ("pre", 2)]
        value = site.cons.format(p=p)
    elif distance in ("helper", "module"):
        variant = rng.choice(["return", "local"])
        body = [f"    return {prod}"] if variant == "return" else [f"    _nl_q = {prod}", "    return _nl_q"]
        fn = ["def _nl_helper(" + ", ".join(params) + "):"] + body
        call = "_nl_helper(" + ", ".join(params) + ")"
        if site.cons.count("{p}") > 1:
            # The consumer reads the value twice (e / sum(e)): call the helper once, as code does.
            pre = [f"{ind}{p} = {call}"]
            value = site.cons.format(p=p)
        else:
            value = site.cons.format(p=call)
        if distance == "helper":
            top_insert = fn + ["", ""]
            prod_offsets = [("top", 1)] + ([("top", 2)] if variant == "local" else [])
        else:
            imports = absolute_imports(ctx.tree, ctx.src) + [i for i in r.new_imports]
            files["_nl_helpers.py"] = "\n".join(imports + ["", ""] + fn) + "\n"
            top_insert = ["from ._nl_helpers import _nl_helper", ""]
    elif distance == "self":
        if found.klass is not None and found.func.args.args and found.func.args.args[0].arg == "self":
            variant = "method"
            others = [x for x in params if x != "self"]
            mline = found.func.lineno - 1
            cind = lines[mline][: len(lines[mline]) - len(lines[mline].lstrip())]
            cls_insert = [f"{cind}def _nl_prepare(" + ", ".join(["self"] + others) + "):",
                          f"{cind}    self._nl_p = {prod}", ""]
            prod_offsets = [("cls", 1)]
            pre = [f"{ind}self._nl_prepare(" + ", ".join(others) + ")"]
            value = site.cons.format(p="self._nl_p")
        else:
            variant = "module attribute"
            top_insert = ["_NL_P = None", "", ""]
            if found.func is not None:
                pre = [f"{ind}global _NL_P", f"{ind}_NL_P = {prod}"]
                prod_offsets = [("pre", 1)]
            else:
                pre = [f"{ind}_NL_P = {prod}"]
                prod_offsets = [("pre", 0)]
            value = site.cons.format(p="_NL_P")
    elif distance == "tuple":
        aux = params[0] if params else "None"
        top_insert = ["def _nl_pair(" + ", ".join(params) + "):", f"    return {prod}, {aux}", "", ""]
        prod_offsets = [("top", 1)]
        pre = [f"{ind}{p}, _nl_aux = _nl_pair(" + ", ".join(params) + ")"]
        value = site.cons.format(p=p)
    else:
        raise ValueError(distance)

    if r.new_imports and distance != "module":
        top_insert = list(r.new_imports) + [""] + top_insert
    elif r.new_imports and distance == "module":
        top_insert = list(r.new_imports) + [""] + top_insert

    value = wrap(value)
    # Assemble: [0, top) + top_insert + [top, method) + cls_insert + [method, stmt) + pre + [stmt, ...]
    top_l = start_line(found.top) - 1
    cls_l = start_line(found.func) - 1 if cls_insert else None
    new: List[str] = []
    where: Dict[str, List[int]] = {}

    def physical() -> int:
        return sum(x.count("\n") for x in new)

    def add(block: List[str], key: str):
        where[key] = []
        for x in block:
            where[key].append(physical())
            new.append(x + nl)

    new.extend(lines[:top_l])
    add(top_insert, "top")
    if cls_l is not None and cls_l >= top_l:
        new.extend(lines[top_l:cls_l])
        add(cls_insert, "cls")
        new.extend(lines[cls_l:stmt_line])
    else:
        new.extend(lines[top_l:stmt_line])
    add(pre, "pre")
    # The statement itself, with the expression replaced (its lines until the span ends).
    stmt_block = lines[stmt_line:sl] + [head + value + tail]
    consumer = physical() + (sl - stmt_line) + 1
    new.extend(stmt_block)
    new.extend(lines[el + 1:])
    text = "".join(new)
    try:
        compile(text, "mutant.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    counted = [consumer] + [where[k][i] + 1 for k, i in prod_offsets]
    main = pathlib.PurePosixPath(found.path).name
    files[main] = text
    return Mutant(mid, op.name, distance, variant, site.fw, found.path, found.line, files, main,
                  sorted(set(counted)), op.codes, op.names)


# --------------------------------------------------------------------------- stubbing

def stub_others(text: str, keep_line: int) -> str:
    """Stub every top-level function and class but the one holding `keep_line` (and our helpers).

    `def f(...): <body>` becomes `def f(*args, **kwargs): pass` followed by blank lines, so every
    line number stays. numlint reads the enclosing function or class whole; the other definitions
    only cost parse time (transformers' modeling files run to thousands of lines).
    """
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first, last = start_line(node), node.end_lineno
        if first <= keep_line <= last or node.name.startswith(PREFIX):
            continue
        nl = "\r\n" if lines[first - 1].endswith("\r\n") else "\n"
        head = "class" if isinstance(node, ast.ClassDef) else ("async def" if isinstance(node, ast.AsyncFunctionDef) else "def")
        args = "" if head == "class" else "(*args, **kwargs)"
        lines[first - 1] = f"{head} {node.name}{args}: pass{nl}"
        for i in range(first, last):
            lines[i] = nl
    return "".join(lines)


def opt_in_codes() -> set:
    """Codes of the opt-in rules, from `numlint rules` (they say "opt-in" in their summary)."""
    proc = subprocess.run([sys.executable, "-m", "numlint", "rules"], capture_output=True, text=True)
    return {ln.split()[0] for ln in proc.stdout.splitlines() if "opt-in" in ln and ln[:3] == "NUM"}


# --------------------------------------------------------------------------- site index (cached)

def site_index(corpus: pathlib.Path, wanted: set, include_tests: bool) -> Dict[str, List[Tuple[str, int, int]]]:
    """op -> [(path, line, col)] of every site in the corpus; cached next to the corpus."""
    files = [p for p in corpus_files(corpus)]
    files = [p for p in files if include_tests or not SKIP_PATH.search(p.relative_to(corpus).as_posix())]
    h = hashlib.sha256(pathlib.Path(__file__).read_bytes())
    h.update(repr(sorted(wanted)).encode())
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(corpus).as_posix()}:{st.st_size}:{int(st.st_mtime)}".encode())
    cache = corpus / f".numlint-mutant-sites-{h.hexdigest()[:16]}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    index: Dict[str, List[Tuple[str, int, int]]] = collections.defaultdict(list)
    for path in files:
        rel = path.relative_to(corpus).as_posix()
        for f in scan_file(path, rel, wanted):
            index[f.site.op].append((rel, f.site.node.lineno, f.site.node.col_offset))
    for old in corpus.glob(".numlint-mutant-sites-*.json"):
        old.unlink()
    try:
        cache.write_text(json.dumps(index, sort_keys=True))
    except OSError:
        pass
    return dict(index)


# --------------------------------------------------------------------------- running numlint

def run_numlint(folder: pathlib.Path, select_all: bool, jobs: int) -> List[dict]:
    cmd = [sys.executable, "-m", "numlint", "check", ".", "--output-format", "json", "--exit-zero", "--no-cache",
           "-j", str(jobs)]
    if select_all:
        cmd += ["--select", "NUM"]
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"mutants: error: numlint failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout or "[]")


def findings_by_file(findings: List[dict], folder: pathlib.Path) -> Dict[str, List[Tuple[int, str, str]]]:
    out: Dict[str, List[Tuple[int, str, str]]] = collections.defaultdict(list)
    for f in findings:
        rel = pathlib.Path(f["filename"])
        rel = rel.relative_to(folder) if rel.is_absolute() else rel
        out[rel.as_posix()].append((f["location"]["row"], f["code"], f.get("name") or ""))
    return out


def hit(found: List[Tuple[int, str, str]], lines: Sequence[int], codes, names) -> bool:
    return any(line in lines and (code in codes or name in names) for line, code, name in found)


# --------------------------------------------------------------------------- reporting

def matrix(results: List[dict], key: str, wanted: Iterable[str] = ()) -> List[str]:
    ops = [name for name in OPERATORS if name in set(wanted) or any(r["op"] == name for r in results)]
    head = "| operator | rule | " + " | ".join(DISTANCES) + " | all |"
    out = [head, "|" + "---|" * (len(DISTANCES) + 3)]
    for name in ops:
        op = OPERATORS[name][0]
        rule = "/".join(op.codes) if op.codes else "—"
        if not op.written:
            rule += " (rule not yet written)" if not op.codes else " (family not yet written)"
        elif op.note:
            rule += f" ({op.note})"
        cells = []
        tf = tc = 0
        for d in DISTANCES:
            rs = [r for r in results if r["op"] == name and r["distance"] == d]
            f = sum(r[key] for r in rs)
            tf += f
            tc += len(rs)
            cells.append(f"{f}/{len(rs)}" if rs else "–")
        if not tc:
            out.append(f"| {name} | {rule} | no site in the corpora |" + " |" * (len(DISTANCES) - 1) + " – |")
            continue
        out.append(f"| {name} | {rule} | " + " | ".join(cells) + f" | {tf}/{tc} |")
    totals = []
    for d in DISTANCES:
        rs = [r for r in results if r["distance"] == d]
        totals.append(f"{sum(r[key] for r in rs)}/{len(rs)}")
    out.append("| **all** | | " + " | ".join(totals) + f" | {sum(r[key] for r in results)}/{len(results)} |")
    return out


def replace_section(text: str, name: str, body: List[str]) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = begin + "\n" + "\n".join(body) + "\n" + end
    if begin in text and end in text:
        return text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def stratified(sites: List[Tuple[str, int, int]], rng: random.Random) -> List[int]:
    """Site indices shuffled within each package, then taken round-robin over packages (seeded), so a
    sample is not all transformers' modeling files."""
    groups: Dict[str, List[int]] = collections.defaultdict(list)
    for i, (path, _, _) in enumerate(sites):
        groups["/".join(path.split("/")[:2])].append(i)  # corpus/package
    keys = sorted(groups)
    rng.shuffle(keys)
    for k in keys:
        rng.shuffle(groups[k])
    order: List[int] = []
    while any(groups[k] for k in keys):
        for k in keys:
            if groups[k]:
                order.append(groups[k].pop())
    return order


def corpus_files(corpus: pathlib.Path) -> List[pathlib.Path]:
    return sorted(p for p in corpus.rglob("*.py") if p.is_file() and "_downloads" not in p.parts)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--corpus", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get("NUMLINT_CORPUS", REPO.parent / "numlint-corpus")))
    ap.add_argument("--research-corpus", type=pathlib.Path, default=None,
                    help="also take sites from this research corpus (default ../research-corpus, if present)")
    ap.add_argument("--library-only", action="store_true", help="take sites from the library corpus only")
    ap.add_argument("--per-cell", type=int, default=8, help="sites per operator (each made at every distance)")
    ap.add_argument("--quick", action="store_true", help="2 sites per operator")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--operators", default="", help="comma-separated subset of operators")
    ap.add_argument("--include-tests", action="store_true", help="also mutate test files of the corpus")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--whole-files", action="store_true",
                    help="keep every other top-level function and class of a mutated file (slower)")
    ap.add_argument("--keep", type=pathlib.Path, help="write the mutants here and keep them")
    ap.add_argument("--cases", type=pathlib.Path, help="write every case as a TSV row to this file")
    ap.add_argument("--write-docs", action="store_true", help="rewrite the mutation tables in docs/recall.md")
    args = ap.parse_args(argv)
    per_cell = 2 if args.quick else args.per_cell
    wanted = set(args.operators.split(",")) - {""} if args.operators else set(OPERATORS)
    unknown = wanted - set(OPERATORS)
    if unknown:
        ap.error(f"unknown operators: {', '.join(sorted(unknown))}")
    corpus = args.corpus.expanduser().absolute()
    if not corpus.is_dir():
        sys.exit(f"mutants: error: no corpus at {corpus}; run benchmarks/corpus.py first")
    started = time.monotonic()

    # 1. Sites: an index of every site (cached next to the corpus), then a seeded sample per operator.
    roots = {"library": corpus}
    research = (args.research_corpus or REPO.parent / "research-corpus").expanduser().absolute()
    if not args.library_only and research.is_dir():
        roots["research"] = research  # issue 14's stable forms are rare in library code

    def resolve_path(vpath: str) -> pathlib.Path:
        root, rel = vpath.split("/", 1)
        return roots[root] / rel

    index: Dict[str, List[Tuple[str, int, int]]] = collections.defaultdict(list)
    for name, root in roots.items():
        for op, found in site_index(root, wanted, args.include_tests).items():
            index[op].extend((f"{name}/{path}", line, col) for path, line, col in found)
    scanned = time.monotonic() - started
    parsed: Dict[str, Dict[Tuple[str, int, int], Found]] = {}

    def found_at(path: str, line: int, col: int, op: str) -> Optional[Found]:
        if path not in parsed:
            parsed[path] = {(f.site.op, f.site.node.lineno, f.site.node.col_offset): f
                            for f in scan_file(resolve_path(path), path, wanted)}
        return parsed[path].get((op, line, col))

    mutants: List[Mutant] = []
    no_build = collections.Counter()
    for name in OPERATORS:
        if name not in wanted:
            continue
        sites = sorted(tuple(x) for x in index.get(name, []))
        order = stratified(sites, random.Random(f"{args.seed}:{name}"))
        chosen = 0
        for i in order:
            if chosen >= per_cell:
                break
            found = found_at(*sites[i], name)
            if found is None:
                continue
            built = []
            for d in DISTANCES:
                m = build(found, d, random.Random(f"{args.seed}:{name}:{i}:{d}"),
                          f"{name}-{chosen:02d}-{d}", OPERATORS[name][0])
                if m is None:
                    break
                built.append(m)
            if len(built) != len(DISTANCES):
                no_build[name] += 1
                continue  # every distance of a site, or none: the columns compare the same sites
            mutants.extend(built)
            chosen += 1

    # 2. Write the mutants (and the originals, for findings that were there before), run, score.
    tmp_root = args.keep or pathlib.Path(tempfile.mkdtemp(prefix="numlint-mutants-"))
    if args.keep:
        shutil.rmtree(tmp_root, ignore_errors=True)
    (tmp_root / "mutants").mkdir(parents=True)
    (tmp_root / "originals").mkdir(parents=True)
    originals: Dict[Tuple[str, int], str] = {}
    for m in mutants:
        pkg = tmp_root / "mutants" / m.id / "pkg"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        for rel, text in m.files.items():
            if rel == m.main and not args.whole_files:
                text = stub_others(text, max(m.lines))
            (pkg / rel).write_text(text, encoding="utf-8")
        key = (m.path, m.orig_line)
        if key not in originals:
            dest = tmp_root / "originals" / f"o{len(originals):04d}" / pathlib.PurePosixPath(m.path).name
            dest.parent.mkdir(parents=True)
            text = resolve_path(m.path).read_text(encoding="utf-8")
            dest.write_text(text if args.whole_files else stub_others(text, m.orig_line), encoding="utf-8")
            originals[key] = dest.relative_to(tmp_root / "originals").as_posix()
    optin = opt_in_codes()
    mut_all = findings_by_file(run_numlint(tmp_root / "mutants", True, args.jobs), tmp_root / "mutants")
    orig_all = findings_by_file(run_numlint(tmp_root / "originals", True, args.jobs), tmp_root / "originals")
    results = []
    for m in mutants:
        rel = f"{m.id}/pkg/{m.main}"
        row = dataclasses.asdict(m)
        row.pop("files")
        if hit(orig_all.get(originals[(m.path, m.orig_line)], []), [m.orig_line], m.codes, m.names):
            continue  # the original line already had the finding: the mutation did not make it
        got = mut_all.get(rel, [])
        default = [(ln, c, n) for ln, c, n in got if c not in optin]
        row["found_all"] = hit(got, m.lines, m.codes, m.names)
        row["found_default"] = hit(default, m.lines, m.codes, m.names)
        row["codes_all"] = sorted({c for ln, c, _ in got if ln in m.lines})
        row["codes_default"] = sorted({c for ln, c, _ in default if ln in m.lines})
        results.append(row)
    if not args.keep:
        shutil.rmtree(tmp_root, ignore_errors=True)

    # 4. Report.
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    fws = collections.Counter(r["fw"] for r in results)
    summary = [f"Mutation benchmark: {len(results)} mutants from {len(results) // len(DISTANCES)} sites "
               f"({per_cell} per operator, seed {args.seed}), numlint at {commit}; "
               f"frameworks: {', '.join(f'{k} {v}' for k, v in sorted(fws.items()))}."]
    default = matrix(results, "found_default", wanted)
    allr = matrix(results, "found_all", wanted)
    print(summary[0])
    print("\nDefault rules (found / cases):\n")
    print("\n".join(default))
    print("\nAll rules (`--select NUM`):\n")
    print("\n".join(allr))
    if no_build:
        print("\nsites skipped because a distance could not be built: "
              + ", ".join(f"{k} {v}" for k, v in sorted(no_build.items())))
    print(f"\n(scan {scanned:.0f}s, total {time.monotonic() - started:.0f}s)")
    if args.cases:
        cols = ["id", "op", "distance", "variant", "fw", "path", "orig_line", "lines", "codes", "found_default",
                "found_all", "codes_default", "codes_all"]
        with open(args.cases, "w", encoding="utf-8") as fh:
            fh.write("\t".join(cols) + "\n")
            for r in results:
                fh.write("\t".join(str(r[c]) for c in cols) + "\n")
    if args.write_docs:
        text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Recall\n"
        text = replace_section(text, "mutants-summary", summary)
        text = replace_section(text, "mutants-default", default)
        text = replace_section(text, "mutants-all", allr)
        DOCS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
