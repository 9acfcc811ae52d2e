"""JAX: ``jax.numpy``, ``jax.nn``, ``jax.scipy.special`` and array methods (NumPy's)."""

from numlint.bindings import Render
from numlint.bindings import numpy as _numpy

FRAMEWORK = "jax"
MODULES = ("jax",)
RENAME = {"a": "x", "b": "y", "arr": "x", "x1": "x", "x2": "y", "a_min": "min", "a_max": "max"}

_UNARY = "x, /"
_BINARY = "x1, x2, /"
_MOMENT = "a, axis, dtype, out, ddof, keepdims, *, where, correction"

FUNCTIONS = {
    "jax.numpy.arccos": ("acos", _UNARY),
    "jax.numpy.arcsin": ("asin", _UNARY),
    "jax.numpy.linalg.norm": ("norm", "x, ord, axis, keepdims"),
    "jax.numpy.isnan": ("isnan", _UNARY),
    "jax.numpy.where": ("where", "condition, x, y"),
    "jax.nn.relu": ("relu", "x"),
    "jax.numpy.logical_not": ("logical_not", _UNARY),
    "jax.numpy.exp": ("exp", _UNARY),
    "jax.numpy.log": ("log", _UNARY),
    "jax.numpy.log1p": ("log1p", _UNARY),
    "jax.numpy.expm1": ("expm1", _UNARY),
    "jax.numpy.sqrt": ("sqrt", _UNARY),
    "jax.numpy.square": ("square", _UNARY),
    "jax.numpy.abs": ("abs", _UNARY),
    "jax.numpy.tanh": ("tanh", _UNARY),
    "jax.numpy.power": ("pow", _BINARY),
    "jax.numpy.add": ("add", _BINARY),
    "jax.numpy.subtract": ("sub", _BINARY),
    "jax.numpy.multiply": ("mul", _BINARY),
    "jax.numpy.divide": ("div", _BINARY),
    "jax.numpy.logaddexp": ("logaddexp", _BINARY),
    "jax.numpy.hypot": ("hypot", _BINARY),
    "jax.numpy.maximum": ("maximum", _BINARY),
    "jax.numpy.sum": ("sum", "a, axis, dtype, out, keepdims, initial, where"),
    "jax.numpy.mean": ("mean", "a, axis, dtype, out, keepdims, *, where"),
    "jax.numpy.max": ("max", "a, axis, out, keepdims, initial, where"),
    "jax.numpy.amax": ("max", "a, axis, out, keepdims, initial, where"),
    "jax.numpy.var": ("var", _MOMENT),
    "jax.numpy.std": ("std", _MOMENT),
    "jax.numpy.clip": ("clamp", "arr, min, max, *, a, a_min, a_max"),
    "jax.numpy.ravel": ("flatten", "a, order"),
    "jax.nn.softmax": ("softmax", "x, axis, where, initial"),
    "jax.nn.log_softmax": ("log_softmax", "x, axis, where, initial"),
    "jax.nn.logsumexp": ("logsumexp", "a, axis, b, keepdims, return_sign, where"),
    "jax.scipy.special.logsumexp": ("logsumexp", "a, axis, b, keepdims, return_sign, where"),
    "jax.nn.sigmoid": ("sigmoid", "x"),
    "jax.scipy.special.expit": ("sigmoid", "x"),
    "jax.nn.log_sigmoid": ("logsigmoid", "x"),
    "jax.nn.softplus": ("softplus", "x"),
    "jax.scipy.special.xlogy": ("xlogy", "x, y"),
    "jax.lax.exp": ("exp", "x"),
    "jax.lax.log": ("log", "x"),
    "jax.random.uniform": ("uniform", "key, shape, dtype, minval, maxval"),
    "jax.random.normal": ("normal", "key, shape, dtype"),
    "jax.numpy.linalg.svd": ("svd", "a, full_matrices, compute_uv, hermitian"),
    "jax.numpy.linalg.qr": ("qr", "a, mode"),
    "jax.numpy.linalg.eigh": ("eigh", "a, UPLO, symmetrize_input"),
    "jax.numpy.matmul": ("matmul", "a, b, **kwargs"),
    "jax.numpy.dot": ("matmul", "a, b, **kwargs"),
    "jax.numpy.einsum": ("matmul", "subscripts, *operands, **kwargs"),
    "jax.numpy.size": ("count", "a, axis"),
}

# jax arrays have NumPy's array methods, with the same signatures.
METHODS = dict(_numpy.METHODS)

CONSTANTS = {"jax.numpy.nan": "nan", "jax.numpy.inf": "inf"}

# What functions do to the facts of a value (bindings/__init__.py explains the effects).
VALUE_FUNCTIONS = {
    **{f"jax.numpy.{name}": "keep" for name in (
        "reshape", "squeeze", "expand_dims", "transpose", "swapaxes", "moveaxis", "take", "take_along_axis",
        "asarray", "array", "flip", "roll", "tril", "triu", "broadcast_to", "tile", "repeat",
    )},
    **{f"jax.numpy.{name}": "join" for name in ("concatenate", "stack", "hstack", "vstack")},
    "jax.lax.stop_gradient": "detach",
    "jax.numpy.float16": "float16", "jax.numpy.bfloat16": "bfloat16", "jax.numpy.float32": "float32",
}
# jax arrays have NumPy's value-keeping methods too (`p.reshape(p.shape)`, `.squeeze()`, `.astype`).
VALUE_METHODS = dict(_numpy.VALUE_METHODS)
DTYPES = {
    "jax.numpy.float16": "float16", "jax.numpy.bfloat16": "bfloat16", "jax.numpy.float32": "float32",
    "jax.numpy.float64": "float64", "jax.numpy.int32": "integer", "jax.numpy.int64": "integer",
    "jax.numpy.bool_": "bool",
}
DEFAULT_DTYPE = "float32"

RENDER = {
    "clamp_min": [Render(template="maximum($x, $min)")],
    "maximum": [Render(function="jax.numpy.maximum")],
    "clamp": [Render(function="jax.numpy.clip")],
    "acos": [Render(function="jax.numpy.arccos")],
    "asin": [Render(function="jax.numpy.arcsin")],
    "dtype_min": [Render(text="{jax.numpy.finfo}({x}.dtype).min")],
    "dtype_tiny": [Render(text="{jax.numpy.finfo}({x}.dtype).tiny")],
    "dtype_eps": [Render(text="{jax.numpy.finfo}({x}.dtype).eps")],
    "xlogy": [Render(function="jax.scipy.special.xlogy")],
    "log": [Render(function="jax.numpy.log")],
    "where": [Render(function="jax.numpy.where")],
    "sqrt": [Render(function="jax.numpy.sqrt")],
    "isnan": [Render(function="jax.numpy.isnan")],
    "logical_not": [Render(function="jax.numpy.logical_not")],
    "logsumexp": [Render(function="jax.nn.logsumexp")],
    "log_softmax": [Render(function="jax.nn.log_softmax")],
    "var": [Render(function="jax.numpy.var", method="var")],
    "std": [Render(function="jax.numpy.std", method="std")],
    "logsigmoid": [Render(function="jax.nn.log_sigmoid")],
    "softplus": [Render(function="jax.nn.softplus")],
    "logaddexp": [Render(function="jax.numpy.logaddexp")],
    "log1p": [Render(function="jax.numpy.log1p")],
    "expm1": [Render(function="jax.numpy.expm1")],
    "hypot": [Render(function="jax.numpy.hypot")],
    "exp": [Render(function="jax.numpy.exp")],
    "sigmoid": [Render(function="jax.nn.sigmoid")],
    "softmax": [Render(function="jax.nn.softmax")],
}

# The log/exp family (issue 14): atanh, cosh and products.
FUNCTIONS.update({
    "jax.numpy.arctanh": ("atanh", _UNARY),
    "jax.numpy.cosh": ("cosh", _UNARY),
    "jax.scipy.special.logit": ("logit", "x"),
    "jax.numpy.prod": ("prod", "a, axis, dtype, out, keepdims, initial, where"),
})
RENDER.update({
    "atanh": [Render(function="jax.numpy.arctanh")],
    "cosh": [Render(function="jax.numpy.cosh")],
    "logit": [Render(function="jax.scipy.special.logit")],
    "abs": [Render(function="jax.numpy.abs")],
    "sum": [Render(function="jax.numpy.sum", method="sum")],
})
