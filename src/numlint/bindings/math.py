"""The standard library: ``math``, ``statistics`` and the builtins that reduce iterables."""

from numlint.bindings import Render

FRAMEWORK = "math"
MODULES = ("math", "statistics", "builtins")
RENAME = {"iterable": "x", "data": "x"}
_FIRST_AXIS = {"defaults": {"axis": "0"}}

FUNCTIONS = {
    "math.acos": ("acos", "x"),
    "math.asin": ("asin", "x"),
    "math.isnan": ("isnan", "x"),
    "math.exp": ("exp", "x"),
    "math.log": ("log", "x, base"),
    "math.log1p": ("log1p", "x"),
    "math.expm1": ("expm1", "x"),
    "math.sqrt": ("sqrt", "x"),
    "math.hypot": ("hypot", "x, y"),
    "math.pow": ("pow", "x, y"),
    # Reducing an iterable reduces over its first axis (a list of arrays sums elementwise).
    "math.fsum": ("sum", "iterable", _FIRST_AXIS),
    "builtins.sum": ("sum", "iterable, start", _FIRST_AXIS),
    "builtins.max": ("max", "iterable, *, key, default", _FIRST_AXIS),
    "statistics.mean": ("mean", "data", _FIRST_AXIS),
    "statistics.fmean": ("mean", "data, weights", _FIRST_AXIS),
    "statistics.pvariance": ("var", "data, mu", _FIRST_AXIS),
    "statistics.pstdev": ("std", "data, mu", _FIRST_AXIS),
    "builtins.abs": ("abs", "x"),
    "builtins.pow": ("pow", "x, y, mod"),
}

# math has no logsumexp or log_softmax: rules say what to do instead.
CONSTANTS = {"math.nan": "nan", "math.inf": "inf"}

RENDER = {
    "acos": [Render(function="math.acos")],
    "asin": [Render(function="math.asin")],
    "sqrt": [Render(function="math.sqrt")],
    "isnan": [Render(function="math.isnan")],
    "logical_not": [Render(template="not $x")],
    "var": [Render(function="statistics.pvariance")],
    "std": [Render(function="statistics.pstdev")],
    "log1p": [Render(function="math.log1p")],
    "expm1": [Render(function="math.expm1")],
    "hypot": [Render(function="math.hypot")],
    "exp": [Render(function="math.exp")],
}

# The log/exp family (issue 14): atanh, cosh and products.
FUNCTIONS.update({
    "math.atanh": ("atanh", "x"),
    "math.cosh": ("cosh", "x"),
    "math.prod": ("prod", "iterable, *, start", _FIRST_AXIS),
})
RENDER.update({
    "atanh": [Render(function="math.atanh")],
    "cosh": [Render(function="math.cosh")],
    "abs": [Render(function="builtins.abs")],
})
