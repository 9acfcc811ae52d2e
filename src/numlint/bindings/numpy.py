"""NumPy: ``numpy.*`` functions and ``ndarray`` methods."""

from numlint.bindings import Render

FRAMEWORK = "numpy"
MODULES = ("numpy",)
RENAME = {"a": "x", "b": "y", "x1": "x", "x2": "y", "array": "x", "a_min": "min", "a_max": "max"}

_UFUNC = "x, out, *, where, dtype"
_BINARY_UFUNC = "x1, x2, out, *, where, dtype"
_REDUCE = "a, axis, dtype, out, keepdims, initial, where"
_MOMENT = "a, axis, dtype, out, ddof, keepdims, *, where, mean, correction"

FUNCTIONS = {
    "numpy.arccos": ("acos", _UFUNC),
    "numpy.arcsin": ("asin", _UFUNC),
    "numpy.linalg.norm": ("norm", "x, ord, axis, keepdims"),
    "numpy.isnan": ("isnan", _UFUNC),
    "numpy.where": ("where", "condition, x, y"),
    "numpy.logical_not": ("logical_not", _UFUNC),
    "numpy.exp": ("exp", _UFUNC),
    "numpy.log": ("log", _UFUNC),
    "numpy.log1p": ("log1p", _UFUNC),
    "numpy.expm1": ("expm1", _UFUNC),
    "numpy.sqrt": ("sqrt", _UFUNC),
    "numpy.square": ("square", _UFUNC),
    "numpy.abs": ("abs", _UFUNC),
    "numpy.absolute": ("abs", _UFUNC),
    "numpy.tanh": ("tanh", _UFUNC),
    "numpy.power": ("pow", _BINARY_UFUNC),
    "numpy.add": ("add", _BINARY_UFUNC),
    "numpy.subtract": ("sub", _BINARY_UFUNC),
    "numpy.multiply": ("mul", _BINARY_UFUNC),
    "numpy.divide": ("div", _BINARY_UFUNC),
    "numpy.true_divide": ("div", _BINARY_UFUNC),
    "numpy.logaddexp": ("logaddexp", _BINARY_UFUNC),
    "numpy.hypot": ("hypot", _BINARY_UFUNC),
    "numpy.maximum": ("maximum", _BINARY_UFUNC),
    "numpy.sum": ("sum", _REDUCE),
    "numpy.mean": ("mean", "a, axis, dtype, out, keepdims, *, where"),
    "numpy.max": ("max", "a, axis, out, keepdims, initial, where"),
    "numpy.amax": ("max", "a, axis, out, keepdims, initial, where"),
    "numpy.var": ("var", _MOMENT),
    "numpy.std": ("std", _MOMENT),
    "numpy.clip": ("clamp", "a, a_min, a_max, out"),
    "numpy.ravel": ("flatten", "a, order"),
    # A ufunc's reduce defaults to axis 0, unlike sum's all axes.
    "numpy.logaddexp.reduce": ("logsumexp", "array, axis, dtype, out, keepdims", {"defaults": {"axis": "0"}}),
    # Values made with known facts of their own: random draws, factorizations.
    "numpy.random.rand": ("uniform", "*size"),
    "numpy.random.random": ("uniform", "size"),
    "numpy.random.random_sample": ("uniform", "size"),
    "numpy.random.uniform": ("uniform", "low, high, size"),
    "numpy.random.randn": ("normal", "*size"),
    "numpy.random.normal": ("normal", "loc, scale, size"),
    "numpy.random.standard_normal": ("normal", "size"),
    "numpy.linalg.svd": ("svd", "a, full_matrices, compute_uv, hermitian"),
    "numpy.linalg.qr": ("qr", "a, mode"),
    "numpy.linalg.eigh": ("eigh", "a, UPLO"),
    "numpy.matmul": ("matmul", "x1, x2, **kwargs"),
    "numpy.dot": ("matmul", "a, b, out"),
    "numpy.size": ("count", "a, axis"),
    "numpy.count_nonzero": ("count", "a, axis, *, keepdims"),
}

METHODS = {
    "dot": ("matmul", "b, out"),
    "sum": ("sum", "axis, dtype, out, keepdims, initial, where"),
    "mean": ("mean", "axis, dtype, out, keepdims, *, where"),
    "max": ("max", "axis, out, keepdims, initial, where"),
    "var": ("var", "axis, dtype, out, ddof, keepdims, *, where, mean, correction"),
    "std": ("std", "axis, dtype, out, ddof, keepdims, *, where, mean, correction"),
    "clip": ("clamp", "min, max, out"),
    "ravel": ("flatten", "order"),
    "flatten": ("flatten", "order"),
}

CONSTANTS = {f"numpy.{name}": op for name, op in (("nan", "nan"), ("NaN", "nan"), ("NAN", "nan"), ("inf", "inf"), ("Inf", "inf"), ("Infinity", "inf"), ("PINF", "inf"))}

RENDER = {
    "clamp_min": [Render(template="maximum($x, $min)")],
    "maximum": [Render(function="numpy.maximum")],
    "clamp": [Render(function="numpy.clip", method="clip")],
    "acos": [Render(function="numpy.arccos")],
    "asin": [Render(function="numpy.arcsin")],
    "dtype_min": [Render(text="{numpy.finfo}({x}.dtype).min")],
    "dtype_tiny": [Render(text="{numpy.finfo}({x}.dtype).tiny")],
    "dtype_eps": [Render(text="{numpy.finfo}({x}.dtype).eps")],
    "xlogy": [Render(function="scipy.special.xlogy", when_imported="scipy")],
    "log": [Render(function="numpy.log")],
    "where": [Render(function="numpy.where")],
    "sqrt": [Render(function="numpy.sqrt")],
    "isnan": [Render(function="numpy.isnan")],
    "logical_not": [Render(function="numpy.logical_not")],
    "logsumexp": [
        Render(function="scipy.special.logsumexp", when_imported="scipy"),
        Render(function="numpy.logaddexp.reduce"),
    ],
    "log_softmax": [Render(function="scipy.special.log_softmax", when_imported="scipy")],
    "var": [Render(function="numpy.var", method="var")],
    "std": [Render(function="numpy.std", method="std")],
    "logsigmoid": [
        Render(function="scipy.special.log_expit", when_imported="scipy"),
        Render(template="-logaddexp(0, -$x)"),
    ],
    "sigmoid": [
        Render(function="scipy.special.expit", when_imported="scipy"),
        Render(template="exp(-logaddexp(0, -$x))"),
    ],
    "softplus": [Render(template="logaddexp(0, $x)")],
    "softmax": [
        Render(function="scipy.special.softmax", when_imported="scipy"),
        Render(template="exp($x - logsumexp($x, axis=$axis, keepdims=True))"),
    ],
    "logaddexp": [Render(function="numpy.logaddexp")],
    "log1p": [Render(function="numpy.log1p")],
    "expm1": [Render(function="numpy.expm1")],
    "hypot": [Render(function="numpy.hypot")],
    "exp": [Render(function="numpy.exp")],
}

# What methods and functions do to the facts of a value (bindings/__init__.py explains the effects).
VALUE_METHODS = {
    **{name: "keep" for name in ("reshape", "squeeze", "transpose", "swapaxes", "copy", "take", "repeat")},
    "astype": "cast",
    "item": "detach", "tolist": "detach",
}
VALUE_FUNCTIONS = {
    **{f"numpy.{name}": "keep" for name in (
        "reshape", "squeeze", "expand_dims", "transpose", "swapaxes", "moveaxis", "take", "take_along_axis",
        "asarray", "array", "ascontiguousarray", "copy", "flip", "roll", "tril", "triu", "atleast_1d", "atleast_2d",
        "broadcast_to", "tile", "repeat",
    )},
    **{f"numpy.{name}": "join" for name in ("concatenate", "stack", "hstack", "vstack", "column_stack", "dstack")},
    "numpy.float16": "float16", "numpy.float32": "float32", "numpy.float64": "float64",
}
VALUE_ATTRIBUTES = {"T": "keep", "real": "keep", "flat": "keep"}
DTYPES = {
    "numpy.float16": "float16", "numpy.half": "float16", "numpy.float32": "float32", "numpy.single": "float32",
    "numpy.float64": "float64", "numpy.double": "float64", "numpy.int64": "integer", "numpy.int32": "integer",
    "numpy.int8": "integer", "numpy.uint8": "integer", "numpy.bool_": "bool",
}
DEFAULT_DTYPE = "float64"

# The log/exp family (issue 14): atanh, cosh and products.
FUNCTIONS.update({
    "numpy.arctanh": ("atanh", _UFUNC),
    "numpy.cosh": ("cosh", _UFUNC),
    "numpy.prod": ("prod", "a, axis, dtype, out, keepdims, initial, where"),
    "numpy.product": ("prod", "a, axis, dtype, out, keepdims, initial, where"),
})
METHODS.update({"prod": ("prod", "axis, dtype, out, keepdims, initial, where")})
RENDER.update({
    "atanh": [Render(function="numpy.arctanh")],
    "cosh": [Render(function="numpy.cosh")],
    "logit": [Render(function="scipy.special.logit", when_imported="scipy")],
    "abs": [Render(function="numpy.abs")],
    "sum": [Render(function="numpy.sum", method="sum")],
})
