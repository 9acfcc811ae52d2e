"""PaddlePaddle: ``paddle.*``, ``paddle.nn.functional`` and Tensor methods."""

from numlint.bindings import Render

FRAMEWORK = "paddle"
MODULES = ("paddle",)
RENAME = {"keepdim": "keepdims", "input": "x", "logit": "x", "label": "target"}

_UNARY = "x, name"
_BINARY = "x, y, name"

FUNCTIONS = {
    "paddle.acos": ("acos", _UNARY),
    "paddle.asin": ("asin", _UNARY),
    "paddle.exp": ("exp", _UNARY),
    "paddle.log": ("log", _UNARY),
    "paddle.log1p": ("log1p", _UNARY),
    "paddle.expm1": ("expm1", _UNARY),
    "paddle.sqrt": ("sqrt", _UNARY),
    "paddle.square": ("square", _UNARY),
    "paddle.abs": ("abs", _UNARY),
    "paddle.tanh": ("tanh", _UNARY),
    "paddle.isnan": ("isnan", _UNARY),
    "paddle.logical_not": ("logical_not", "x, out, name"),
    "paddle.pow": ("pow", _BINARY),
    "paddle.add": ("add", _BINARY),
    "paddle.subtract": ("sub", _BINARY),
    "paddle.multiply": ("mul", _BINARY),
    "paddle.divide": ("div", _BINARY),
    "paddle.maximum": ("maximum", _BINARY),
    "paddle.logaddexp": ("logaddexp", _BINARY),
    "paddle.sum": ("sum", "x, axis, dtype, keepdim, name"),
    "paddle.mean": ("mean", "x, axis, keepdim, name"),
    "paddle.max": ("max", "x, axis, keepdim, name"),
    "paddle.logsumexp": ("logsumexp", "x, axis, keepdim, name"),
    "paddle.clip": ("clamp", "x, min, max, name"),
    "paddle.where": ("where", "condition, x, y, name"),
    "paddle.masked_fill": ("masked_fill", "x, mask, value, name"),
    "paddle.matmul": ("matmul", "x, y, transpose_x, transpose_y, name"),
    "paddle.rand": ("uniform", "shape, dtype, name"),
    "paddle.uniform": ("uniform", "shape, dtype, min, max, seed, name"),
    "paddle.randn": ("normal", "shape, dtype, name"),
    "paddle.nn.functional.softmax": ("softmax", "x, axis, dtype, name"),
    "paddle.nn.functional.log_softmax": ("log_softmax", "x, axis, dtype, name"),
    "paddle.nn.functional.sigmoid": ("sigmoid", _UNARY),
    "paddle.nn.functional.log_sigmoid": ("logsigmoid", _UNARY),
    "paddle.nn.functional.softplus": ("softplus", "x, beta, threshold, name"),
    "paddle.nn.functional.relu": ("relu", _UNARY),
    "paddle.nn.functional.normalize": ("l2_normalize", "x, p, axis, epsilon, name"),
    "paddle.nn.functional.binary_cross_entropy": ("binary_cross_entropy", "input, label, weight, reduction, name"),
    "paddle.nn.functional.binary_cross_entropy_with_logits": (
        "binary_cross_entropy_with_logits", "logit, label, weight, reduction, pos_weight, name"),
}

METHODS = {
    "exp": ("exp", "name"),
    "log": ("log", "name"),
    "log1p": ("log1p", "name"),
    "sqrt": ("sqrt", "name"),
    "square": ("square", "name"),
    "abs": ("abs", "name"),
    "sum": ("sum", "axis, dtype, keepdim, name"),
    "mean": ("mean", "axis, keepdim, name"),
    "max": ("max", "axis, keepdim, name"),
    "logsumexp": ("logsumexp", "axis, keepdim, name"),
    "clip": ("clamp", "min, max, name"),
    "masked_fill": ("masked_fill", "mask, value, name"),
}

CONSTANTS = {"paddle.nan": "nan", "paddle.inf": "inf"}

RENDER = {
    "exp": [Render(function="paddle.exp", method="exp")],
    "log": [Render(function="paddle.log", method="log")],
    "log1p": [Render(function="paddle.log1p", method="log1p")],
    "expm1": [Render(function="paddle.expm1")],
    "sqrt": [Render(function="paddle.sqrt", method="sqrt")],
    "logaddexp": [Render(function="paddle.logaddexp")],
    "logsumexp": [Render(function="paddle.logsumexp", method="logsumexp")],
    "log_softmax": [Render(function="paddle.nn.functional.log_softmax")],
    "logsigmoid": [Render(function="paddle.nn.functional.log_sigmoid")],
    "softplus": [Render(function="paddle.nn.functional.softplus")],
    "sigmoid": [Render(function="paddle.nn.functional.sigmoid")],
    "softmax": [Render(function="paddle.nn.functional.softmax")],
    "binary_cross_entropy_with_logits": [Render(function="paddle.nn.functional.binary_cross_entropy_with_logits")],
    "clamp": [Render(function="paddle.clip", method="clip")],
    "clamp_min": [Render(template="clamp($x, min=$min)")],
    "maximum": [Render(function="paddle.maximum")],
    "where": [Render(function="paddle.where")],
    "masked_fill": [Render(function="paddle.masked_fill", method="masked_fill")],
    "isnan": [Render(function="paddle.isnan")],
    "logical_not": [Render(function="paddle.logical_not")],
    "acos": [Render(function="paddle.acos")],
    "asin": [Render(function="paddle.asin")],
    "l2_normalize": [Render(function="paddle.nn.functional.normalize")],
    "dtype_min": [Render(text="{paddle.finfo}({x}.dtype).min")],
    "dtype_tiny": [Render(text="{paddle.finfo}({x}.dtype).tiny")],
    "dtype_eps": [Render(text="{paddle.finfo}({x}.dtype).eps")],
}

VALUE_METHODS = {
    **{name: "keep" for name in ("reshape", "squeeze", "unsqueeze", "transpose", "flatten", "clone", "flip", "gather",
                                  "cuda", "cpu", "eval", "train")},
    "astype": "cast", "cast": "cast", "detach": "detach", "item": "detach", "tolist": "detach", "numpy": "detach",
}
VALUE_FUNCTIONS = {
    **{f"paddle.{name}": "keep" for name in (
        "reshape", "squeeze", "unsqueeze", "transpose", "flatten", "gather", "index_select", "take_along_axis",
        "to_tensor", "clone", "flip", "roll", "tril", "triu", "expand", "tile",
    )},
    **{f"paddle.{name}": "join" for name in ("concat", "stack")},
}
REGIONS = {"paddle.no_grad": "no_grad", "paddle.amp.auto_cast": "autocast"}
DTYPES = {"paddle.float16": "float16", "paddle.bfloat16": "bfloat16", "paddle.float32": "float32",
          "paddle.float64": "float64", "paddle.int64": "integer", "paddle.int32": "integer", "paddle.bool": "bool"}
DEFAULT_DTYPE = "float32"
