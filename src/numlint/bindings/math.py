"""The standard library: ``math`` and the builtins that reduce iterables."""

FRAMEWORK = "math"
MODULES = ("math", "builtins")
RENAME = {"iterable": "x"}

FUNCTIONS = {
    "math.exp": ("exp", "x"),
    "math.log": ("log", "x, base"),
    "math.log1p": ("log1p", "x"),
    "math.expm1": ("expm1", "x"),
    "math.sqrt": ("sqrt", "x"),
    "math.hypot": ("hypot", "x, y"),
    "math.pow": ("pow", "x, y"),
    "math.fsum": ("sum", "iterable"),
    "builtins.sum": ("sum", "iterable, start"),
    "builtins.max": ("max", "iterable, *, key, default"),
    "builtins.abs": ("abs", "x"),
    "builtins.pow": ("pow", "x, y, mod"),
}

# math has no logsumexp, log_softmax or var: rules say what to do instead.
RENDER = {}
