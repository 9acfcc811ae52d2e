"""MLX (Apple silicon): ``mlx.core`` (NumPy-like functions) and ``mlx.nn`` activations."""

from numlint.bindings import Render

FRAMEWORK = "mlx"
MODULES = ("mlx",)
RENAME = {"a": "x", "b": "y", "a_min": "min", "a_max": "max"}

_UNARY = "a, /, *, stream"
_BINARY = "a, b, /, *, stream"
_REDUCE = "a, /, axis, keepdims, *, stream"

FUNCTIONS = {
    "mlx.core.arccos": ("acos", _UNARY),
    "mlx.core.arcsin": ("asin", _UNARY),
    "mlx.core.exp": ("exp", _UNARY),
    "mlx.core.log": ("log", _UNARY),
    "mlx.core.log1p": ("log1p", _UNARY),
    "mlx.core.expm1": ("expm1", _UNARY),
    "mlx.core.sqrt": ("sqrt", _UNARY),
    "mlx.core.square": ("square", _UNARY),
    "mlx.core.abs": ("abs", _UNARY),
    "mlx.core.tanh": ("tanh", _UNARY),
    "mlx.core.sigmoid": ("sigmoid", _UNARY),
    "mlx.core.isnan": ("isnan", _UNARY),
    "mlx.core.logical_not": ("logical_not", _UNARY),
    "mlx.core.power": ("pow", _BINARY),
    "mlx.core.add": ("add", _BINARY),
    "mlx.core.subtract": ("sub", _BINARY),
    "mlx.core.multiply": ("mul", _BINARY),
    "mlx.core.divide": ("div", _BINARY),
    "mlx.core.logaddexp": ("logaddexp", _BINARY),
    "mlx.core.maximum": ("maximum", _BINARY),
    "mlx.core.sum": ("sum", _REDUCE),
    "mlx.core.mean": ("mean", _REDUCE),
    "mlx.core.max": ("max", _REDUCE),
    "mlx.core.logsumexp": ("logsumexp", _REDUCE),
    "mlx.core.var": ("var", "a, /, axis, keepdims, ddof, *, stream"),
    "mlx.core.std": ("std", "a, /, axis, keepdims, ddof, *, stream"),
    "mlx.core.softmax": ("softmax", "a, /, axis, *, precise, stream"),
    "mlx.core.clip": ("clamp", "a, /, a_min, a_max, *, stream"),
    "mlx.core.where": ("where", "condition, x, y, /, *, stream"),
    "mlx.core.matmul": ("matmul", _BINARY),
    "mlx.core.random.uniform": ("uniform", "low, high, shape, dtype, key, stream"),
    "mlx.core.random.normal": ("normal", "shape, dtype, loc, scale, key, stream"),
    "mlx.nn.softmax": ("softmax", "x, axis"),
    "mlx.nn.log_softmax": ("log_softmax", "x, axis"),
    "mlx.nn.sigmoid": ("sigmoid", "x"),
    "mlx.nn.log_sigmoid": ("logsigmoid", "x"),
    "mlx.nn.softplus": ("softplus", "x"),
    "mlx.nn.relu": ("relu", "x"),
}

CONSTANTS = {"mlx.core.nan": "nan", "mlx.core.inf": "inf"}

RENDER = {
    "exp": [Render(function="mlx.core.exp")],
    "log": [Render(function="mlx.core.log")],
    "log1p": [Render(function="mlx.core.log1p")],
    "expm1": [Render(function="mlx.core.expm1")],
    "sqrt": [Render(function="mlx.core.sqrt")],
    "logaddexp": [Render(function="mlx.core.logaddexp")],
    "logsumexp": [Render(function="mlx.core.logsumexp")],
    "log_softmax": [Render(function="mlx.nn.log_softmax", when_imported="mlx.nn"),
                    Render(template="$x - logsumexp($x, axis=$axis, keepdims=True)")],
    "logsigmoid": [Render(function="mlx.nn.log_sigmoid", when_imported="mlx.nn")],
    "softplus": [Render(function="mlx.nn.softplus", when_imported="mlx.nn"), Render(template="logaddexp(0, $x)")],
    "sigmoid": [Render(function="mlx.core.sigmoid")],
    "softmax": [Render(function="mlx.core.softmax")],
    "clamp": [Render(function="mlx.core.clip")],
    "clamp_min": [Render(template="maximum($x, $min)")],
    "maximum": [Render(function="mlx.core.maximum")],
    "where": [Render(function="mlx.core.where")],
    "isnan": [Render(function="mlx.core.isnan")],
    "logical_not": [Render(function="mlx.core.logical_not")],
    "acos": [Render(function="mlx.core.arccos")],
    "asin": [Render(function="mlx.core.arcsin")],
    "dtype_min": [Render(text="{mlx.core.finfo}({x}.dtype).min")],
    "dtype_eps": [Render(text="{mlx.core.finfo}({x}.dtype).eps")],
}

VALUE_METHODS = {**{name: "keep" for name in ("reshape", "squeeze", "transpose", "swapaxes", "moveaxis", "flatten")},
                 "astype": "cast", "item": "detach", "tolist": "detach"}
VALUE_FUNCTIONS = {
    **{f"mlx.core.{name}": "keep" for name in (
        "reshape", "squeeze", "expand_dims", "transpose", "swapaxes", "moveaxis", "take", "take_along_axis",
        "array", "flatten", "broadcast_to", "tile", "repeat",
    )},
    **{f"mlx.core.{name}": "join" for name in ("concatenate", "stack")},
    "mlx.core.stop_gradient": "detach",
}
DTYPES = {"mlx.core.float16": "float16", "mlx.core.bfloat16": "bfloat16", "mlx.core.float32": "float32",
          "mlx.core.int32": "integer", "mlx.core.int64": "integer", "mlx.core.bool_": "bool"}
DEFAULT_DTYPE = "float32"
