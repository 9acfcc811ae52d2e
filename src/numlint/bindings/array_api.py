"""The Python array API standard: the namespace of an array, ``xp = array_namespace(x)``.

Code written against the standard (scikit-learn, SciPy, array-api-compat) calls functions on a
namespace variable, never on a module it imports. ``flow.py`` binds such a variable (the result
of ``array_namespace(...)``, ``get_namespace(...)``, ``x.__array_namespace__()``) to the
pseudo-module ``array_api``, so ``xp.log(xp.exp(x))`` is a log of an exp like any other.
Signatures are the standard's (2023.12).
"""

from numlint.bindings import Render

FRAMEWORK = "array_api"
MODULES = ("array_api",)
# The calls that return an array's namespace: `xp = array_namespace(x)` (array-api-compat, SciPy),
# `xp, _ = get_namespace(x)` (scikit-learn), `xp = x.__array_namespace__()`.
NAMESPACE_FUNCTIONS = frozenset({"array_namespace", "get_namespace", "get_array_namespace", "__array_namespace__"})
RENAME = {"x1": "x", "x2": "y", "correction": "ddof", "condition": "condition"}

_UNARY = "x, /"
_BINARY = "x1, x2, /"
_REDUCE = "x, /, *, axis, dtype, keepdims"

FUNCTIONS = {
    "array_api.acos": ("acos", _UNARY),
    "array_api.asin": ("asin", _UNARY),
    "array_api.exp": ("exp", _UNARY),
    "array_api.log": ("log", _UNARY),
    "array_api.log1p": ("log1p", _UNARY),
    "array_api.expm1": ("expm1", _UNARY),
    "array_api.sqrt": ("sqrt", _UNARY),
    "array_api.square": ("square", _UNARY),
    "array_api.abs": ("abs", _UNARY),
    "array_api.tanh": ("tanh", _UNARY),
    "array_api.isnan": ("isnan", _UNARY),
    "array_api.logical_not": ("logical_not", _UNARY),
    "array_api.pow": ("pow", _BINARY),
    "array_api.add": ("add", _BINARY),
    "array_api.subtract": ("sub", _BINARY),
    "array_api.multiply": ("mul", _BINARY),
    "array_api.divide": ("div", _BINARY),
    "array_api.logaddexp": ("logaddexp", _BINARY),
    "array_api.hypot": ("hypot", _BINARY),
    "array_api.maximum": ("maximum", _BINARY),
    "array_api.sum": ("sum", _REDUCE),
    "array_api.mean": ("mean", "x, /, *, axis, keepdims"),
    "array_api.max": ("max", "x, /, *, axis, keepdims"),
    "array_api.var": ("var", "x, /, *, axis, correction, keepdims"),
    "array_api.std": ("std", "x, /, *, axis, correction, keepdims"),
    "array_api.clip": ("clamp", "x, /, min, max"),
    "array_api.where": ("where", "condition, x1, x2, /"),
    "array_api.matmul": ("matmul", _BINARY),
    "array_api.linalg.vector_norm": ("norm", "x, /, *, axis, keepdims, ord"),
}

CONSTANTS = {"array_api.nan": "nan", "array_api.inf": "inf"}

RENDER = {
    op: [Render(function=name)]
    for name, (op, _) in FUNCTIONS.items()
    if op in {"log", "log1p", "expm1", "sqrt", "exp", "logaddexp", "hypot", "clamp", "where", "isnan", "logical_not",
              "var", "std", "maximum", "acos", "asin"}
}
RENDER.update({
    "dtype_min": [Render(text="{array_api.finfo}({x}.dtype).min")],
    "dtype_tiny": [Render(text="{array_api.finfo}({x}.dtype).smallest_normal")],
    "dtype_eps": [Render(text="{array_api.finfo}({x}.dtype).eps")],
    "clamp_min": [Render(template="maximum($x, $min)")],
})

VALUE_FUNCTIONS = {
    **{f"array_api.{name}": "keep" for name in (
        "reshape", "squeeze", "expand_dims", "permute_dims", "take", "asarray", "flip", "roll", "broadcast_to",
        "tile", "repeat", "moveaxis",
    )},
    **{f"array_api.{name}": "join" for name in ("concat", "stack")},
}
DTYPES = {"array_api.float16": "float16", "array_api.float32": "float32", "array_api.float64": "float64",
          "array_api.int64": "integer", "array_api.int32": "integer", "array_api.bool": "bool"}
