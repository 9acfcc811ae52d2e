"""Framework bindings: tables from each framework's spellings to framework-neutral ops.

A binding module is data. It names its framework, the top-level modules that identify it, and:

- ``FUNCTIONS``: qualified name -> (op, signature). The signature lists the function's own
  parameter names in order (``*`` starts keyword-only ones); ``RENAME`` maps them to the canonical
  names every rule uses (``x``, ``y``, ``axis``, ``keepdims``, ``ddof``...). A third element, a dict,
  may give ``defaults`` (canonical name -> source text) where the function's default differs from
  the canonical one (``np.logaddexp.reduce`` reduces over axis 0, not all axes) and ``required``.
- ``METHODS``: method name -> (op, signature) for array/tensor methods; the receiver is ``x``.
- ``MODULES_CLASSES``: qualified class name -> (op, constructor signature, call signature) for
  layers and losses that are built, then called: ``nn.BCELoss(reduction="sum")(p, y)``.
- ``RENDER``: op -> list of ``Render`` rows, in order of preference, used to write fixes back in
  the framework's own spelling.
- ``LAYERS``: what is known of a model's output from its layers: ``sequential`` containers (the
  output is their last layer's), ``activation_layers`` (``Activation("softmax")``), and
  ``activation_prefixes`` with ``activations``: layers taking ``activation="softmax"``.

What calls do to the facts of a value (``values.py``, computed by ``analysis.py``) is data too:

- ``VALUE_METHODS``: method name -> effect, ``VALUE_FUNCTIONS``: qualified name -> (effect, index
  of the input argument), ``VALUE_ATTRIBUTES``: attribute -> effect (``x.T``, ``x.data``). The
  effects: ``keep`` (the output's elements are the input's — indexing, gathers, reshapes, copies,
  moves between devices, a module switched to eval or wrapped in DataParallel: every fact
  passes), ``detach`` (the same, without gradient), a dtype (``float16``: a cast to it), ``cast``
  (to the dtype its first argument or ``dtype=`` names: ``.to(torch.float16)``, ``astype``,
  ``tf.cast(x, tf.float16)``), ``cast_like`` (``type_as(y)``), ``join`` (the arrays of a list
  argument: ``cat``, ``stack``), ``parameter`` (a learned parameter: gradients flow).
- ``REGIONS``: qualified name -> ``no_grad``, ``enable_grad``, ``set_grad_enabled`` or ``autocast``,
  for ``with`` blocks and decorators; ``AUTOGRAD_FUNCTIONS``: base classes whose ``backward``
  runs without autograd.
- ``DTYPES``: qualified name -> dtype (``torch.float16`` -> ``float16``); ``DEFAULT_DTYPE``: the
  float dtype the framework makes arrays in.

Adding a framework, or an API a framework added, is adding rows here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple

# What an absent canonical argument means. A binding whose default differs says so in `defaults`.
CANONICAL_DEFAULTS: Mapping[str, str] = {"axis": "None", "keepdims": "False", "ddof": "0"}

# Arguments that never change a value (TF's op `name=`); they do not block a match.
IGNORABLE: FrozenSet[str] = frozenset({"name"})


@dataclass(frozen=True)
class Signature:
    positional: Tuple[str, ...]  # canonical names, in order
    keyword_only: Tuple[str, ...]
    source_names: Mapping[str, str]  # source parameter name -> canonical name
    canonical_to_source: Mapping[str, str]
    varargs: bool = False  # `*size`: further positional arguments are accepted and ignored
    kwargs: bool = False  # `**kwargs`: other keywords are accepted and ignored

    def canonical(self, source_name: str) -> Optional[str]:
        return self.source_names.get(source_name)

    def source(self, canonical_name: str) -> Optional[str]:
        return self.canonical_to_source.get(canonical_name)

    def accepts(self, canonical_name: str) -> bool:
        return canonical_name in self.canonical_to_source


@dataclass(frozen=True)
class Binding:
    framework: str
    op: str
    signature: Signature
    qualname: Optional[str] = None  # for functions and module classes
    method: Optional[str] = None  # for methods
    defaults: Mapping[str, str] = field(default_factory=dict)
    required: Tuple[str, ...] = ()
    call_signature: Optional[Signature] = None  # for module classes: the arguments of the call


@dataclass(frozen=True)
class Render:
    """One way to write an op in a framework: as a function, a method, or both."""

    function: Optional[str] = None  # qualified name, whose signature comes from FUNCTIONS
    method: Optional[str] = None  # method name, whose signature comes from METHODS
    module: Optional[str] = None  # module class, from MODULE_CLASSES, built and called inline
    when_imported: Optional[str] = None  # only offered when the file imports this module
    template: Optional[str] = None  # or: a pattern over other ops, `$name` for canonical arguments
    text: Optional[str] = None  # or: code with {qualified.name} and {argument} holes: "{torch.finfo}({x}.dtype).min"


def parse_signature(text: str, rename: Mapping[str, str]) -> Signature:
    positional: List[str] = []
    keyword_only: List[str] = []
    source_names: Dict[str, str] = {}
    target = positional
    varargs = kwargs = False
    for raw in text.split(","):
        name = raw.strip()
        if not name or name == "/":
            continue
        if name == "*":
            target = keyword_only
            continue
        if name.startswith("**"):
            kwargs = True
            continue
        if name.startswith("*"):
            varargs = True
            target = keyword_only
            continue
        canonical = rename.get(name, name)
        source_names[name] = canonical
        target.append(canonical)
    canonical_to_source: Dict[str, str] = {}
    for source, canonical in source_names.items():
        canonical_to_source.setdefault(canonical, source)
    return Signature(tuple(positional), tuple(keyword_only), source_names, canonical_to_source, varargs, kwargs)


@dataclass
class FrameworkTables:
    name: str
    modules: Tuple[str, ...]
    functions: Dict[str, Binding]
    methods: Dict[str, Binding]
    render: Dict[str, List[Render]]
    mirrors: Dict[str, Tuple[str, ...]]
    module_classes: Dict[str, Binding]
    constants: Dict[str, str]
    layers: Mapping[str, object]
    value_methods: Mapping[str, str] = field(default_factory=dict)
    value_functions: Mapping[str, Tuple[str, int]] = field(default_factory=dict)
    value_attributes: Mapping[str, str] = field(default_factory=dict)
    regions: Mapping[str, str] = field(default_factory=dict)
    autograd_functions: Tuple[str, ...] = ()
    dtypes: Mapping[str, str] = field(default_factory=dict)
    default_dtype: Optional[str] = None


class BindingError(ValueError):
    """A binding table that is malformed or disagrees with another: numlint's own bug, caught
    when the tables load rather than as a KeyError while checking someone's file."""


def _rows(framework: str, rows: Mapping, rename: Mapping[str, str], *, methods: bool) -> Dict[str, Binding]:
    table: Dict[str, Binding] = {}
    name = "METHODS" if methods else "FUNCTIONS"
    for key, row in rows.items():
        if (not isinstance(row, tuple) or len(row) not in (2, 3) or not isinstance(row[0], str)
                or not isinstance(row[1], str) or (len(row) == 3 and not set(row[2]) <= {"defaults", "required"})):
            raise BindingError(f"{framework}: {name}[{key!r}] must be (op, signature) or (op, signature, {{defaults, required}})")
        op, signature = row[0], row[1]
        extra = row[2] if len(row) > 2 else {}
        table[key] = Binding(
            framework=framework,
            op=op,
            signature=parse_signature(signature, rename),
            qualname=None if methods else key,
            method=key if methods else None,
            defaults=dict(extra.get("defaults", {})),
            required=tuple(extra.get("required", ())),
        )
    return table


def load_framework(module) -> FrameworkTables:
    rename = getattr(module, "RENAME", {})
    return FrameworkTables(
        name=module.FRAMEWORK,
        modules=tuple(module.MODULES),
        functions=_rows(module.FRAMEWORK, getattr(module, "FUNCTIONS", {}), rename, methods=False),
        methods=_rows(module.FRAMEWORK, getattr(module, "METHODS", {}), rename, methods=True),
        render=dict(getattr(module, "RENDER", {})),
        mirrors=dict(getattr(module, "MIRRORS", {})),
        module_classes={
            name: Binding(
                framework=module.FRAMEWORK,
                op=op,
                signature=parse_signature(ctor, rename),
                qualname=name,
                call_signature=parse_signature(call, rename),
            )
            for name, (op, ctor, call) in getattr(module, "MODULE_CLASSES", {}).items()
        },
        constants=dict(getattr(module, "CONSTANTS", {})),
        layers=dict(getattr(module, "LAYERS", {})),
        value_methods=dict(getattr(module, "VALUE_METHODS", {})),
        value_functions={name: (row, 0) if isinstance(row, str) else tuple(row)
                         for name, row in getattr(module, "VALUE_FUNCTIONS", {}).items()},
        value_attributes=dict(getattr(module, "VALUE_ATTRIBUTES", {})),
        regions=dict(getattr(module, "REGIONS", {})),
        autograd_functions=tuple(getattr(module, "AUTOGRAD_FUNCTIONS", ())),
        dtypes=dict(getattr(module, "DTYPES", {})),
        default_dtype=getattr(module, "DEFAULT_DTYPE", None),
    )


def check_tables(frameworks: Mapping[str, FrameworkTables]) -> None:
    """Every RENDER row names a function in some framework's FUNCTIONS, a method in its own
    framework's METHODS and a class in MODULE_CLASSES (where the renderer looks them up), each
    bound to the op the row renders; BindingError naming the framework and row otherwise."""
    functions = {name: b for f in frameworks.values() for name, b in f.functions.items()}
    classes = {name: b for f in frameworks.values() for name, b in f.module_classes.items()}
    for framework in frameworks.values():
        for op, rows in framework.render.items():
            if not isinstance(rows, list) or not all(isinstance(r, Render) for r in rows):
                raise BindingError(f"{framework.name}: RENDER[{op!r}] must be a list of Render rows")
            for index, row in enumerate(rows):
                where = f"{framework.name}: RENDER[{op!r}][{index}]"
                if not (row.function or row.method or row.module or row.template or row.text):
                    raise BindingError(f"{where} names no function, method, module, template or text")
                for kind, name, table in (
                    ("function", row.function, functions),
                    ("method", row.method, framework.methods),
                    ("module class", row.module, classes),
                ):
                    if name is None:
                        continue
                    where_listed = "METHODS" if kind == "method" else "FUNCTIONS" if kind == "function" else "MODULE_CLASSES"
                    if name not in table:
                        raise BindingError(f"{where} names {kind} {name!r}, which {framework.name}'s {where_listed} lacks"
                                           if kind == "method" else f"{where} names {kind} {name!r}, which no {where_listed} has")
                    if table[name].op != op:
                        raise BindingError(f"{where} renders {op!r} with {kind} {name!r}, which is bound to {table[name].op!r}")


def _load_all() -> Dict[str, FrameworkTables]:
    from numlint.bindings import jax, keras, math, numpy, scipy, tensorflow, torch
    from numlint.bindings import array_api, cupy, mlx, paddle, theano  # issue 14: namespaces added later

    frameworks = [load_framework(m) for m in (numpy, scipy, math, torch, tensorflow, keras, jax)]
    frameworks += [load_framework(m) for m in (cupy, array_api, mlx, paddle, theano)]
    tables = {f.name: f for f in frameworks}
    check_tables(tables)
    return tables


FRAMEWORKS: Dict[str, FrameworkTables] = _load_all()

# Every function spelling, by qualified name.
FUNCTIONS: Dict[str, Binding] = {}
for _framework in FRAMEWORKS.values():
    for _qualname, _binding in _framework.functions.items():
        if _qualname in FUNCTIONS:
            raise ValueError(f"{_qualname} is bound twice")
        FUNCTIONS[_qualname] = _binding

# Every module class (a layer or loss built, then called), by qualified name.
MODULE_CLASSES: Dict[str, Binding] = {
    name: binding for framework in FRAMEWORKS.values() for name, binding in framework.module_classes.items()
}

# Layers whose output is known (see the module docstring): qualified name or prefix -> framework.
SEQUENTIAL: Dict[str, str] = {}
ACTIVATION_LAYERS: Dict[str, str] = {}
ACTIVATION_PREFIXES: Dict[str, str] = {}
ACTIVATIONS: Dict[str, str] = {}  # `activation="softmax"` -> op
for _framework in FRAMEWORKS.values():
    SEQUENTIAL.update((name, _framework.name) for name in _framework.layers.get("sequential", ()))
    ACTIVATION_LAYERS.update((name, _framework.name) for name in _framework.layers.get("activation_layers", ()))
    ACTIVATION_PREFIXES.update((name, _framework.name) for name in _framework.layers.get("activation_prefixes", ()))
    ACTIVATIONS.update(_framework.layers.get("activations", {}))

# Method name -> bindings of the frameworks that have it, in framework preference order.
METHOD_PREFERENCE = ("torch", "jax", "numpy", "tensorflow", "cupy", "paddle")
METHODS: Dict[str, List[Binding]] = {}
for _name in METHOD_PREFERENCE:
    if _name in FRAMEWORKS:
        for _method, _binding in FRAMEWORKS[_name].methods.items():
            METHODS.setdefault(_method, []).append(_binding)

# Constants by qualified name (`numpy.nan` -> "nan"), from each binding's CONSTANTS.
CONSTANTS: Dict[str, str] = {}
for _framework in FRAMEWORKS.values():
    CONSTANTS.update(_framework.constants)

# What calls do to the facts of a value (see the module docstring).
VALUE_METHODS: Dict[str, Dict[str, str]] = {}  # method -> framework -> effect
VALUE_FUNCTIONS: Dict[str, Tuple[str, int]] = {}
VALUE_ATTRIBUTES: Dict[str, str] = {}
REGIONS: Dict[str, str] = {}
AUTOGRAD_FUNCTIONS: FrozenSet[str] = frozenset(
    name for _framework in FRAMEWORKS.values() for name in _framework.autograd_functions)
DTYPES: Dict[str, str] = {}
DEFAULT_DTYPE: Dict[str, str] = {
    _framework.name: _framework.default_dtype for _framework in FRAMEWORKS.values() if _framework.default_dtype}
for _framework in FRAMEWORKS.values():
    for _method, _effect in _framework.value_methods.items():
        VALUE_METHODS.setdefault(_method, {})[_framework.name] = _effect
    VALUE_FUNCTIONS.update(_framework.value_functions)
    VALUE_ATTRIBUTES.update(_framework.value_attributes)
    REGIONS.update(_framework.regions)
    DTYPES.update(_framework.dtypes)

# Spellings of dtypes in strings and attribute names (`dtype="float16"`, `x.half()`).
DTYPE_WORDS: Mapping[str, str] = {
    "float16": "float16", "half": "float16", "fp16": "float16", "f2": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float32": "float32", "single": "float32", "fp32": "float32", "f4": "float32",
    "float64": "float64", "double": "float64", "fp64": "float64", "f8": "float64",
    "int8": "integer", "int16": "integer", "int32": "integer", "int64": "integer", "long": "integer",
    "int": "integer", "uint8": "integer", "bool": "bool",
}


def dtype_name(word: str) -> Optional[str]:
    """The dtype a word names (`float16`, `half`, `bf16`), if any."""
    return DTYPE_WORDS.get(word.lower()) if word else None


# Top-level module -> framework.
MODULE_FRAMEWORK: Dict[str, str] = {
    module: framework.name for framework in FRAMEWORKS.values() for module in framework.modules
}


def mirrors_of(qualname: str) -> List[str]:
    """Other qualified names for the same function (`tensorflow.compat.v1.nn.log_softmax`)."""
    found = []
    for framework in FRAMEWORKS.values():
        for prefix, others in framework.mirrors.items():
            if qualname.startswith(prefix + "."):
                found.extend(other + qualname[len(prefix):] for other in others)
    return found


def framework_of_module(qualname: str) -> Optional[str]:
    """The framework a dotted name belongs to, by its longest registered module prefix."""
    parts = qualname.split(".")
    for end in range(len(parts), 0, -1):
        framework = MODULE_FRAMEWORK.get(".".join(parts[:end]))
        if framework:
            return framework
    return None


def spellings_of(op: str) -> FrozenSet[str]:
    """Every last name component that can spell `op`: the text a file must contain to hold it."""
    names = set()
    for binding in FUNCTIONS.values():
        if binding.op == op:
            names.add(binding.qualname.rsplit(".", 1)[-1])
    for method, bindings in METHODS.items():
        if any(b.op == op for b in bindings):
            names.add(method)
    for binding in MODULE_CLASSES.values():
        if binding.op == op:
            names.add(binding.qualname.rsplit(".", 1)[-1])
    for qualname, constant in CONSTANTS.items():
        if constant == op:
            names.update((qualname.rsplit(".", 1)[-1], "float"))  # also float("nan")
    return frozenset(names)
