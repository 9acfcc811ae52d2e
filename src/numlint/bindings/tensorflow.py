"""TensorFlow 2.x and the TF 1.x names research code still uses (``tf.log``, ``tf.compat.v1``)."""

from numlint.bindings import Render

FRAMEWORK = "tensorflow"
MODULES = ("tensorflow",)
RENAME = {
    "input_tensor": "x",
    "logits": "x",
    "features": "x",
    "reduction_indices": "axis",
    "keep_dims": "keepdims",
    "dim": "axis",
    "t": "x",
    "tensor": "x",
    "clip_value_min": "min",
    "clip_value_max": "max",
    "a": "x",
    "b": "y",
    "input": "x",
}

_UNARY = "x, name"
_REDUCE = "input_tensor, axis, keepdims, name, reduction_indices, keep_dims"
_SOFTMAX = "logits, axis, name, dim"

# name -> (op, signature); each is bound as tf.NAME where TF has it at the top level, and under
# tf.math / tf.nn as listed, and again under tf.compat.v1.
_TOP = {
    "exp": ("exp", _UNARY),
    "log": ("log", _UNARY),  # TF 1.x only
    "log1p": ("log1p", _UNARY),
    "expm1": ("expm1", _UNARY),
    "sqrt": ("sqrt", _UNARY),
    "square": ("square", _UNARY),
    "abs": ("abs", _UNARY),
    "tanh": ("tanh", _UNARY),
    "sigmoid": ("sigmoid", _UNARY),
    "pow": ("pow", "x, y, name"),
    "maximum": ("maximum", "x, y, name"),
    "reduce_sum": ("sum", _REDUCE),
    "reduce_mean": ("mean", _REDUCE),
    "reduce_max": ("max", _REDUCE),
    "reduce_logsumexp": ("logsumexp", _REDUCE),
    "clip_by_value": ("clamp", "t, clip_value_min, clip_value_max, name"),
    "add": ("add", "x, y, name"),
    "subtract": ("sub", "x, y, name"),
    "multiply": ("mul", "x, y, name"),
    "divide": ("div", "x, y, name"),
    "truediv": ("div", "x, y, name"),
    "div": ("div", "x, y, name"),  # TF 1.x
    "where": ("where", "condition, x, y, name"),
}
_MATH = dict(
    _TOP,
    reduce_variance=("var", "input_tensor, axis, keepdims, name"),
    reduce_std=("std", "input_tensor, axis, keepdims, name"),
    softmax=("softmax", _SOFTMAX),
    log_softmax=("log_softmax", _SOFTMAX),
    log_sigmoid=("logsigmoid", _UNARY),
    softplus=("softplus", "features, name"),
    xlogy=("xlogy", "x, y, name"),
    acos=("acos", _UNARY),
    asin=("asin", _UNARY),
    is_nan=("isnan", _UNARY),
    divide_no_nan=("divide_no_nan", "x, y, name"),
    l2_normalize=("l2_normalize", "x, axis, epsilon, name, dim"),
    logical_not=("logical_not", _UNARY),
)
del _MATH["clip_by_value"]
_NN = {
    "relu": ("relu", "features, name"),
    "softmax": ("softmax", _SOFTMAX),
    "log_softmax": ("log_softmax", _SOFTMAX),
    "sigmoid": ("sigmoid", _UNARY),
    "softplus": ("softplus", "features, name"),
    "l2_normalize": ("l2_normalize", "x, axis, epsilon, name, dim"),
}

FUNCTIONS = {}
for _prefix in ("tensorflow", "tensorflow.compat.v1"):
    for _name, _row in _TOP.items():
        FUNCTIONS[f"{_prefix}.{_name}"] = _row
    for _name, _row in _MATH.items():
        FUNCTIONS[f"{_prefix}.math.{_name}"] = _row
    for _name, _row in _NN.items():
        FUNCTIONS[f"{_prefix}.nn.{_name}"] = _row
FUNCTIONS["tensorflow.compat.v1.log"] = _TOP["log"]
for _prefix in ("tensorflow", "tensorflow.compat.v1"):
    FUNCTIONS[f"{_prefix}.random.uniform"] = ("uniform", "shape, minval, maxval, dtype, seed, name")
    FUNCTIONS[f"{_prefix}.random.normal"] = ("normal", "shape, mean, stddev, dtype, seed, name")
    FUNCTIONS[f"{_prefix}.linalg.qr"] = ("qr", "input, full_matrices, name")
    FUNCTIONS[f"{_prefix}.linalg.eigh"] = ("eigh", "tensor, name")
    FUNCTIONS[f"{_prefix}.matmul"] = ("matmul", "a, b, **kwargs")
    FUNCTIONS[f"{_prefix}.linalg.matmul"] = ("matmul", "a, b, **kwargs")
    FUNCTIONS[f"{_prefix}.einsum"] = ("matmul", "equation, *inputs, **kwargs")
    FUNCTIONS[f"{_prefix}.size"] = ("count", "input, out_type, name")
# tf.linalg.svd returns (s, u, v): singular values first, unlike NumPy and PyTorch
FUNCTIONS["tensorflow.linalg.svd"] = ("svd_suv", "tensor, full_matrices, compute_uv, name")
for _prefix in ("tensorflow", "tensorflow.linalg", "tensorflow.compat.v1", "tensorflow.compat.v1.linalg"):
    FUNCTIONS[f"{_prefix}.norm"] = ("norm", "tensor, ord, axis, keepdims, name, keep_dims")

# Module prefixes that expose the same names: a file importing `tensorflow.compat.v1 as tf` gets
# its fixes written as `tf.nn.log_softmax`, not with a new import of `tensorflow`.
MIRRORS = {"tensorflow": ("tensorflow.compat.v1",)}

CONSTANTS = {"tensorflow.experimental.numpy.nan": "nan"}

# What functions do to the facts of a value (bindings/__init__.py explains the effects).
VALUE_FUNCTIONS = {}
for _prefix in ("tensorflow", "tensorflow.compat.v1"):
    for _name in ("gather", "gather_nd", "reshape", "squeeze", "expand_dims", "transpose", "identity", "boolean_mask",
                  "tile", "broadcast_to", "convert_to_tensor", "constant", "Variable", "reverse", "roll"):
        VALUE_FUNCTIONS[f"{_prefix}.{_name}"] = "keep"
    for _name in ("concat", "stack"):
        VALUE_FUNCTIONS[f"{_prefix}.{_name}"] = "join"
    VALUE_FUNCTIONS[f"{_prefix}.cast"] = "cast"
    VALUE_FUNCTIONS[f"{_prefix}.dtypes.cast"] = "cast"
    VALUE_FUNCTIONS[f"{_prefix}.stop_gradient"] = "detach"
DTYPES = {}
for _prefix in ("tensorflow", "tensorflow.compat.v1", "tensorflow.dtypes"):
    DTYPES.update({f"{_prefix}.float16": "float16", f"{_prefix}.half": "float16", f"{_prefix}.bfloat16": "bfloat16",
                   f"{_prefix}.float32": "float32", f"{_prefix}.float64": "float64", f"{_prefix}.double": "float64",
                   f"{_prefix}.int32": "integer", f"{_prefix}.int64": "integer", f"{_prefix}.bool": "bool"})
DEFAULT_DTYPE = "float32"

RENDER = {
    "clamp": [Render(function="tensorflow.clip_by_value")],
    "clamp_min": [Render(template="maximum($x, $min)")],
    "maximum": [Render(function="tensorflow.maximum")],
    "divide_no_nan": [Render(function="tensorflow.math.divide_no_nan")],
    "l2_normalize": [Render(function="tensorflow.math.l2_normalize")],
    "acos": [Render(function="tensorflow.math.acos")],
    "dtype_min": [Render(text="{x}.dtype.min")],
    "xlogy": [Render(function="tensorflow.math.xlogy")],
    "log": [Render(function="tensorflow.math.log")],
    "where": [Render(function="tensorflow.where")],
    "sqrt": [Render(function="tensorflow.sqrt")],
    "isnan": [Render(function="tensorflow.math.is_nan")],
    "logical_not": [Render(function="tensorflow.math.logical_not")],
    "logsumexp": [Render(function="tensorflow.reduce_logsumexp")],
    "log_softmax": [Render(function="tensorflow.nn.log_softmax")],
    "var": [Render(function="tensorflow.math.reduce_variance")],
    "std": [Render(function="tensorflow.math.reduce_std")],
    "logsigmoid": [Render(function="tensorflow.math.log_sigmoid")],
    "softplus": [Render(function="tensorflow.math.softplus")],
    "log1p": [Render(function="tensorflow.math.log1p")],
    "expm1": [Render(function="tensorflow.math.expm1")],
    "exp": [Render(function="tensorflow.exp")],
    "sigmoid": [Render(function="tensorflow.sigmoid")],
    "softmax": [Render(function="tensorflow.nn.softmax")],
}

# The log/exp family (issue 14): atanh, cosh and products.
for _prefix in ("tensorflow", "tensorflow.compat.v1"):
    FUNCTIONS[f"{_prefix}.math.atanh"] = ("atanh", _UNARY)
    FUNCTIONS[f"{_prefix}.math.cosh"] = ("cosh", _UNARY)
    FUNCTIONS[f"{_prefix}.math.reduce_prod"] = ("prod", _REDUCE)
    FUNCTIONS[f"{_prefix}.reduce_prod"] = ("prod", _REDUCE)
RENDER.update({
    "atanh": [Render(function="tensorflow.math.atanh")],
    "cosh": [Render(function="tensorflow.math.cosh")],
    "abs": [Render(function="tensorflow.abs")],
    "sum": [Render(function="tensorflow.reduce_sum")],
})
# -- issue 14: tf.experimental.numpy, NumPy's API on TensorFlow tensors ------------------------------
RENAME.update({"x1": "x", "x2": "y", "a_min": "min", "a_max": "max"})
for _name, _row in {
    "exp": ("exp", "x"), "log": ("log", "x"), "log1p": ("log1p", "x"), "expm1": ("expm1", "x"),
    "sqrt": ("sqrt", "x"), "square": ("square", "x"), "abs": ("abs", "x"), "tanh": ("tanh", "x"),
    "arccos": ("acos", "x"), "arcsin": ("asin", "x"), "isnan": ("isnan", "x"),
    "power": ("pow", "x1, x2"), "add": ("add", "x1, x2"), "subtract": ("sub", "x1, x2"),
    "multiply": ("mul", "x1, x2"), "divide": ("div", "x1, x2"), "true_divide": ("div", "x1, x2"),
    "logaddexp": ("logaddexp", "x1, x2"), "hypot": ("hypot", "x1, x2"), "maximum": ("maximum", "x1, x2"),
    "sum": ("sum", "a, axis, dtype, keepdims"), "mean": ("mean", "a, axis, dtype, out, keepdims"),
    "max": ("max", "a, axis, keepdims"), "amax": ("max", "a, axis, out, keepdims"),
    "var": ("var", "a, axis, dtype, out, ddof, keepdims"), "std": ("std", "a, axis, keepdims"),
    "clip": ("clamp", "a, a_min, a_max"), "where": ("where", "condition, x, y"), "matmul": ("matmul", "x1, x2"),
}.items():
    FUNCTIONS[f"tensorflow.experimental.numpy.{_name}"] = _row
del _name, _row
DTYPES.update({f"tensorflow.experimental.numpy.{name}": name for name in ("float16", "bfloat16", "float32", "float64")})
