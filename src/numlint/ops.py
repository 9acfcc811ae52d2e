"""Canonical ops: one framework-neutral view of the many spellings of an operation.

`np.log(x)`, `torch.log(x)`, `x.log()`, `tf.math.log(x)` and `from torch import log; log(x)` all
view as `Term(op="log", args={"x": <x>})`. Arguments are normalised to canonical names (`axis`
whether the source said `dim`, `axis` or nothing but a position; `keepdims` for `keepdim`), and
each term remembers its binding and style, so a fix can be written back in the user's dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import libcst as cst

from numlint import bindings
from numlint.bindings import Binding
from numlint.imports import ImportTable

# Canonical signatures: the positional order patterns and fix templates use.
_UNARY = ("x",)
_BINARY = ("x", "y")
_REDUCE = ("x", "axis", "keepdims")
OP_SIGNATURES: Dict[str, Tuple[str, ...]] = {
    **{op: _UNARY for op in (
        "exp", "log", "log1p", "expm1", "sqrt", "square", "abs", "neg", "tanh", "sigmoid",
        "logsigmoid", "softplus",
    )},
    **{op: _BINARY for op in ("add", "sub", "mul", "div", "pow", "logaddexp", "hypot", "maximum", "xlogy")},
    **{op: _REDUCE for op in ("sum", "mean", "max", "logsumexp")},
    "var": ("x", "axis", "keepdims", "ddof"),
    "std": ("x", "axis", "keepdims", "ddof"),
    "softmax": ("x", "axis", "dtype"),
    "log_softmax": ("x", "axis", "dtype"),
    "clamp": ("x", "min", "max"),
    "clamp_min": ("x", "min"),  # a floor: torch's clamp_min, written maximum(x, c) elsewhere
    "divide_no_nan": ("x", "y"),  # x / y, and 0 where y is 0 (TensorFlow)
    "l2_normalize": ("x", "axis"),  # x / max(norm(x), eps) along axis
    "flatten": ("x",),
    "nan": (),
    "inf": (),
    "dtype_min": ("x",),
    "dtype_tiny": ("x",),
    "dtype_eps": ("x",),
    "relu": ("x",),
    "acos": ("x",),
    "asin": ("x",),
    "norm": ("x", "ord", "axis", "keepdims"),
    "cosine_similarity": ("x", "y", "axis", "eps"),
    "masked_fill": ("x", "mask", "value"),
    "where": ("condition", "x", "y"),
    "isnan": ("x",),
    # the log/exp family (issue 14): hyperbolic functions and products
    "atanh": ("x",),
    "cosh": ("x",),
    "prod": ("x", "axis", "keepdims"),
    "logit": ("x",),  # log(x / (1 - x)), the inverse of sigmoid
    # values with facts of their own (values.py): random draws, factorizations, products, counts
    "uniform": ("low", "high", "size"),
    "normal": ("loc", "scale", "size"),
    "svd": ("x", "full_matrices", "compute_uv"),
    "svd_suv": ("x", "full_matrices", "compute_uv"),
    "qr": ("x", "mode"),
    "eigh": ("x",),
    "matmul": ("x", "y"),
    "count": ("x", "axis"),
    "logical_not": ("x",),
    "not": ("x",),
    **{op: ("x", "y") for op in ("eq", "ne", "is", "is_not")},
    # losses, torch style (input first) and Keras style (target first)
    **{op: ("x", "target", "weight", "reduction", "ignore_index", "label_smoothing", "pos_weight") for op in (
        "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy",
    )},
    **{op: ("target", "x", "from_logits", "label_smoothing", "axis", "ignore_class", "sample_weight", "reduction") for op in (
        "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    )},
}
COMMUTATIVE = frozenset({"add", "mul", "maximum", "logaddexp", "hypot", "eq", "ne"})
_COMPARISONS = {cst.Equal: "eq", cst.NotEqual: "ne", cst.Is: "is", cst.IsNot: "is_not"}
# `float("nan")`, `float("-inf")`: constants spelled as calls.
_FLOAT_WORDS = {"nan": "nan", "inf": "inf", "infinity": "inf"}

_OPERATORS = {
    cst.Add: "add",
    cst.Subtract: "sub",
    cst.Multiply: "mul",
    cst.Divide: "div",
    cst.Power: "pow",
}

# Receivers that are never arrays: `self.softmax(x)` calls a module, not Tensor.softmax.
_NOT_ARRAYS = frozenset({"self", "cls", "super"})


@dataclass(frozen=True)
class Arg:
    node: cst.BaseExpression
    keyword: bool  # passed by keyword in the source
    synthetic: bool = False  # a binding's default made explicit, not in the source


@dataclass(eq=False)
class Term:
    op: str
    node: cst.BaseExpression
    args: Dict[str, Arg]
    style: str  # "function", "method" or "operator"
    frameworks: Tuple[str, ...] = ()  # several when a method name exists in several frameworks
    binding: Optional[Binding] = None
    callee: Optional[cst.BaseExpression] = None  # the called expression, for functions

    @property
    def qualname(self) -> Optional[str]:
        return self.binding.qualname if self.binding is not None else None


def number(node: cst.BaseExpression) -> Optional[float]:
    """The value of a numeric literal (`2`, `0.5`, `-1`, `1e-8`), else None."""
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            return float(node.evaluated_value)
        except (ValueError, OverflowError):
            return None
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = number(node.expression)
        return -inner if inner is not None else None
    return None


_CODEGEN = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    return _CODEGEN.code_for_node(node)


def shape_key(node: cst.CSTNode) -> str:
    """The code of a node with all whitespace and comments removed, for structural equality."""
    return "".join(code(node).split())


class Viewer:
    """Views nodes as canonical terms for one file, memoised."""

    def __init__(self, imports: ImportTable, analysis=None) -> None:
        self.imports = imports
        self.analysis = analysis  # analysis.Analysis, to follow `loss_fn = nn.BCELoss()` to its class
        self.frameworks = imports.frameworks()
        self._memo: Dict[int, Optional[Term]] = {}

    def remember(self, node: cst.BaseExpression, term: Optional[Term]) -> None:
        """The view of a node that is not in the file's text (built from another module's summary)."""
        self._memo[id(node)] = term

    def view(self, node: cst.BaseExpression) -> Optional[Term]:
        key = id(node)
        if key not in self._memo:
            self._memo[key] = self._view(node)
        return self._memo[key]

    def _view(self, node: cst.BaseExpression) -> Optional[Term]:
        if isinstance(node, cst.Call):
            term = self._call(node)
        elif isinstance(node, cst.BinaryOperation):
            term = self._binary(node)
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            if number(node) is not None:
                return None
            term = Term("neg", node, {"x": Arg(node.expression, False)}, "operator")
        elif isinstance(node, (cst.GeneratorExp, cst.ListComp)):
            return self._comprehension(node)
        elif isinstance(node, cst.Comparison):
            return self._comparison(node)
        elif isinstance(node, (cst.Attribute, cst.Name)):
            return self._constant(node)
        else:
            return None
        return _simplify(term) if term is not None else None

    def _comparison(self, node: cst.Comparison) -> Optional[Term]:
        if len(node.comparisons) != 1:
            return None
        target = node.comparisons[0]
        op = _COMPARISONS.get(type(target.operator))
        if op is None:
            return None
        return Term(op, node, {"x": Arg(node.left, False), "y": Arg(target.comparator, False)}, "operator")

    def _constant(self, node: cst.BaseExpression) -> Optional[Term]:
        """`np.nan`, `math.inf`, `torch.nan`: constants, known by their qualified names."""
        qualname = self.imports.qualify(node)
        op = bindings.CONSTANTS.get(qualname) if qualname else None
        if op is None:
            return None
        framework = bindings.framework_of_module(qualname)
        # math's constants are plain floats: they say nothing about which array library is in use.
        frameworks = () if framework == "math" else (framework,)
        return Term(op, node, {}, "constant", frameworks)

    def _comprehension(self, node) -> Optional[Term]:
        """`exp(v) for v in xs` views as `exp(xs)`: the op applied to every element of `xs`."""
        loop = node.for_in
        if loop.inner_for_in is not None or loop.ifs or not isinstance(loop.target, cst.Name):
            return None
        term = self.view(node.elt)
        if term is None:
            return None
        target = loop.target.value
        args = {
            name: Arg(loop.iter, arg.keyword) if isinstance(arg.node, cst.Name) and arg.node.value == target else arg
            for name, arg in term.args.items()
        }
        return Term(term.op, node, args, term.style, term.frameworks, term.binding, term.callee)

    def _binary(self, node: cst.BinaryOperation) -> Optional[Term]:
        op = _OPERATORS.get(type(node.operator))
        if op is None:
            return None
        args = {"x": Arg(node.left, False), "y": Arg(node.right, False)}
        if op == "mul" and shape_key(node.left) == shape_key(node.right):
            return Term("square", node, {"x": args["x"]}, "operator")
        return Term(op, node, args, "operator")

    def _call(self, node: cst.Call) -> Optional[Term]:
        qualname = self.imports.qualify(node.func)
        if qualname == "builtins.float" and len(node.args) == 1 and isinstance(node.args[0].value, cst.SimpleString):
            word = node.args[0].value.evaluated_value.strip().lower().lstrip("+")
            if word in _FLOAT_WORDS:
                return Term(_FLOAT_WORDS[word], node, {}, "constant", ())
            if word.startswith("-") and word[1:] in _FLOAT_WORDS:  # float("-inf") is -(inf)
                positive = cst.parse_expression(f'float("{word[1:]}")')
                return Term("neg", node, {"x": Arg(positive, False, synthetic=True)}, "operator")
            return None
        if qualname is not None:
            binding = bindings.FUNCTIONS.get(qualname)
            if binding is None:
                return None
            args = _normalise(node, binding.signature, None, binding.defaults)
            if args is None:
                return None
            return Term(binding.op, node, args, "function", (binding.framework,), binding, node.func)
        func = node.func
        if isinstance(func, (cst.Call, cst.Name)):
            return self._module_call(node)
        if not isinstance(func, cst.Attribute):
            return None
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value == "self":
            return self._module_call(node)  # `self.act(h)` after `self.act = nn.Softmax(dim=1)`
        if isinstance(receiver, cst.Name) and receiver.value in _NOT_ARRAYS:
            return None
        if _is_module_reference(receiver, self.imports):
            return None
        candidates = [b for b in bindings.METHODS.get(func.attr.value, ()) if b.framework in self.frameworks]
        if not candidates:
            return None
        # The frameworks whose method takes these arguments: `x.max(axis=-1, keepdims=True)` is
        # NumPy's even in a file that imports torch too.
        fitting = [(b, _normalise(node, b.signature, receiver, b.defaults)) for b in candidates]
        fitting = [(b, args) for b, args in fitting if args is not None]
        if not fitting:
            return None
        binding, args = fitting[0]
        frameworks = tuple(b.framework for b, _ in fitting)
        return Term(binding.op, node, args, "method", frameworks, binding)

    def _module_call(self, node: cst.Call) -> Optional[Term]:
        """`nn.BCELoss(reduction="sum")(p, y)`, or `loss_fn(p, y)` after `loss_fn = nn.BCELoss()`
        (or `self.loss_fn = ...`), and layers whose output is known (`_layer`)."""
        ctor, style = node.func, "module"
        if isinstance(ctor, (cst.Name, cst.Attribute)):
            if self.analysis is None:
                return None
            ctor, style = self.analysis.constructor(ctor), "module-name"
            if ctor is None:
                return None
        if not isinstance(ctor, cst.Call):
            return None
        qualname = self.imports.qualify(ctor.func)
        if qualname is None:
            return None
        binding = bindings.MODULE_CLASSES.get(qualname)
        if binding is None:
            return self._layer(node, ctor, qualname)
        built = _normalise(ctor, binding.signature, None, {})
        called = _normalise(node, binding.call_signature, None, {})
        if built is None or called is None or set(built) & set(called):
            return None
        return Term(binding.op, node, {**called, **built}, style, (binding.framework,), binding, ctor.func)

    def _layer(self, node: cst.Call, ctor: cst.Call, qualname: str) -> Optional[Term]:
        """A call of a layer or model whose output is known to be a softmax, sigmoid... of
        something: the last layer of a Sequential, `Dense(k, activation="softmax")`. Its input
        is `LAYER_INPUT` (the layers before it are in between), except for `Activation("softmax")(h)`."""
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            return None
        framework = bindings.ACTIVATION_LAYERS.get(qualname)
        if framework is not None:
            op = self._activation(ctor.args[0].value) if len(ctor.args) == 1 else None
            return Term(op, node, {"x": Arg(node.args[0].value, False)}, "layer", (framework,), None, ctor.func) if op else None
        output = self._layer_output(ctor, qualname)
        if output is None:
            return None
        op, framework, built = output
        return Term(op, node, {"x": Arg(LAYER_INPUT, False, synthetic=True), **built}, "layer", (framework,), None, ctor.func)

    def layer_output(self, ctor: cst.Call, qualname: str):
        """(op, framework, arguments) of what the layer `ctor` builds outputs, if the bindings know."""
        return self._layer_output(ctor, qualname)

    def layer_term(self, ctor: cst.Call) -> Optional[Term]:
        """The output of the layer `ctor` builds, as a term of its unseen input (`LAYER_INPUT`)."""
        qualname = self.imports.qualify(ctor.func)
        output = self._layer_output(ctor, qualname) if qualname else None
        if output is None:
            return None
        op, framework, built = output
        return Term(op, ctor, {"x": Arg(LAYER_INPUT, False, synthetic=True), **built}, "layer", (framework,), None, ctor.func)

    def _layer_output(self, ctor: cst.Call, qualname: str, depth: int = 0):
        """(op, framework, arguments) of what the layer built by `ctor` outputs, if known."""
        if depth > 4:
            return None
        binding = bindings.MODULE_CLASSES.get(qualname)
        if binding is not None:
            if binding.op not in _LAYER_OPS:
                return None
            built = _normalise(ctor, binding.signature, None, {})
            return (binding.op, binding.framework, built) if built is not None else None
        framework = bindings.SEQUENTIAL.get(qualname)
        if framework is not None:
            layers = [arg.value for arg in ctor.args if arg.keyword is None and not arg.star]
            if len(layers) == 1 and isinstance(layers[0], cst.List):
                layers = [element.value for element in layers[0].elements]  # keras.Sequential([...])
            last = layers[-1] if layers else None
            if isinstance(last, cst.Call):
                inner = self.imports.qualify(last.func)
                return self._layer_output(last, inner, depth + 1) if inner else None
            return None
        if bindings.ACTIVATION_LAYERS.get(qualname) and len(ctor.args) == 1:
            op = self._activation(ctor.args[0].value)
            return (op, bindings.ACTIVATION_LAYERS[qualname], {}) if op else None
        prefix = qualname.rsplit(".", 1)[0]
        if prefix in bindings.ACTIVATION_PREFIXES:
            for arg in ctor.args:
                if arg.keyword is not None and arg.keyword.value == "activation":
                    op = self._activation(arg.value)
                    return (op, bindings.ACTIVATION_PREFIXES[prefix], {}) if op else None
        return None

    def _activation(self, node: cst.BaseExpression) -> Optional[str]:
        """`"softmax"`, or a reference to a softmax function (`tf.nn.softmax`): the op, if known."""
        if isinstance(node, cst.SimpleString):
            return bindings.ACTIVATIONS.get(node.evaluated_value)
        qualname = self.imports.qualify(node)
        binding = bindings.FUNCTIONS.get(qualname) if qualname else None
        return binding.op if binding is not None and binding.op in _LAYER_OPS else None


# The input of a layer at the end of a stack: not visible in the code, so no fix can use it.
LAYER_INPUT = cst.Name("__layer_input__")
# The input of an op in another module of the project (a producer from its summary).
ELSEWHERE = cst.Name("__elsewhere__")
_LAYER_OPS = frozenset({"softmax", "sigmoid", "log_softmax", "logsigmoid"})


def _is_module_reference(node: cst.BaseExpression, imports: ImportTable) -> bool:
    """True for `np`, `torch.nn`, `F`: receivers that are modules, not arrays."""
    qualname = imports.qualify(node)
    return qualname is not None and not qualname.startswith("builtins.")


def _normalise(node: cst.Call, signature, receiver: Optional[cst.BaseExpression], defaults) -> Optional[Dict[str, Arg]]:
    args: Dict[str, Arg] = {}
    if receiver is not None:
        args["x"] = Arg(receiver, False)
    index = 0
    for arg in node.args:
        if arg.star:
            # `torch.randn(*shape, **device)`: unpacked sizes and options where the signature takes any
            if (arg.star == "**" and signature.kwargs) or (arg.star == "*" and signature.varargs and
                                                           index >= len(signature.positional)):
                continue
            return None
        if arg.keyword is None:
            if index >= len(signature.positional):
                if signature.varargs:
                    continue  # `torch.rand(3, 4)`: sizes, ignored
                return None
            name = signature.positional[index]
            index += 1
        else:
            name = signature.canonical(arg.keyword.value)
            if name is None:
                if signature.kwargs:
                    continue
                return None
        if name in args:
            return None
        args[name] = Arg(arg.value, arg.keyword is not None)
    for name, text in defaults.items():
        if name not in args:
            args[name] = Arg(cst.parse_expression(text), True, synthetic=True)
    return args


def _simplify(term: Term) -> Term:
    """`x ** 2`, `pow(x, 2)` -> square; `x ** 0.5` -> sqrt."""
    if term.op == "pow" and set(term.args) == {"x", "y"}:
        exponent = number(term.args["y"].node)
        if exponent == 2:
            return Term("square", term.node, {"x": term.args["x"]}, term.style, term.frameworks, term.binding, term.callee)
        if exponent == 0.5:
            return Term("sqrt", term.node, {"x": term.args["x"]}, term.style, term.frameworks, term.binding, term.callee)
    return term
