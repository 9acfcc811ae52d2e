"""Keras: the backend-neutral ``keras.ops`` (Keras 3) and the Keras 2 backend ``K``."""

from numlint.bindings import Render

FRAMEWORK = "keras"
MODULES = ("keras", "tensorflow.keras")
RENAME = {"x1": "x", "x2": "y"}

_OPS = {
    "exp": ("exp", "x"),
    "log": ("log", "x"),
    "log1p": ("log1p", "x"),
    "expm1": ("expm1", "x"),
    "sqrt": ("sqrt", "x"),
    "square": ("square", "x"),
    "abs": ("abs", "x"),
    "sigmoid": ("sigmoid", "x"),
    "sum": ("sum", "x, axis, keepdims"),
    "mean": ("mean", "x, axis, keepdims"),
    "max": ("max", "x, axis, keepdims, initial"),
    "var": ("var", "x, axis, keepdims"),
    "std": ("std", "x, axis, keepdims"),
    "logsumexp": ("logsumexp", "x, axis, keepdims"),
    "softmax": ("softmax", "x, axis"),
    "log_softmax": ("log_softmax", "x, axis"),
    "log_sigmoid": ("logsigmoid", "x"),
    "softplus": ("softplus", "x"),
    "logaddexp": ("logaddexp", "x1, x2"),
    "hypot": ("hypot", "x1, x2"),
}
_BACKEND = {
    name: row
    for name, row in _OPS.items()
    if name in {"exp", "log", "sqrt", "square", "abs", "sigmoid", "sum", "mean", "max", "var", "std", "logsumexp", "softmax"}
}

FUNCTIONS = {}
for _name, _row in _OPS.items():
    FUNCTIONS[f"keras.ops.{_name}"] = _row
for _prefix in ("keras.backend", "tensorflow.keras.backend"):
    for _name, _row in _BACKEND.items():
        FUNCTIONS[f"{_prefix}.{_name}"] = _row

RENDER = {
    "logsumexp": [Render(function="keras.ops.logsumexp")],
    "log_softmax": [Render(function="keras.ops.log_softmax")],
    "var": [Render(function="keras.ops.var")],
    "std": [Render(function="keras.ops.std")],
    "logsigmoid": [Render(function="keras.ops.log_sigmoid")],
    "softplus": [Render(function="keras.ops.softplus")],
    "logaddexp": [Render(function="keras.ops.logaddexp")],
    "log1p": [Render(function="keras.ops.log1p")],
    "expm1": [Render(function="keras.ops.expm1")],
    "hypot": [Render(function="keras.ops.hypot")],
    "exp": [Render(function="keras.ops.exp")],
    "sigmoid": [Render(function="keras.ops.sigmoid")],
    "softmax": [Render(function="keras.ops.softmax")],
}
