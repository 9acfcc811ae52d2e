"""Theano and its successors Aesara and PyTensor: ``theano.tensor as T`` and ``T.nnet``."""

from numlint.bindings import Render

FRAMEWORK = "theano"
MODULES = ("theano", "aesara", "pytensor")
RENAME = {"a": "x", "input": "x", "c": "x", "keepdims": "keepdims", "cond": "condition", "ift": "x", "iff": "y"}

_UNARY = "a"
_REDUCE = "input, axis, dtype, keepdims, acc_dtype"

FUNCTIONS = {
    "theano.tensor.arccos": ("acos", _UNARY),
    "theano.tensor.arcsin": ("asin", _UNARY),
    "theano.tensor.exp": ("exp", _UNARY),
    "theano.tensor.log": ("log", _UNARY),
    "theano.tensor.log1p": ("log1p", _UNARY),
    "theano.tensor.expm1": ("expm1", _UNARY),
    "theano.tensor.sqrt": ("sqrt", _UNARY),
    "theano.tensor.sqr": ("square", _UNARY),
    "theano.tensor.abs_": ("abs", _UNARY),
    "theano.tensor.tanh": ("tanh", _UNARY),
    "theano.tensor.isnan": ("isnan", _UNARY),
    "theano.tensor.maximum": ("maximum", "x, y"),
    "theano.tensor.sum": ("sum", _REDUCE),
    "theano.tensor.mean": ("mean", "input, axis, dtype, op, keepdims, acc_dtype"),
    "theano.tensor.max": ("max", "x, axis, keepdims"),
    "theano.tensor.clip": ("clamp", "x, min, max"),
    "theano.tensor.switch": ("where", "cond, ift, iff"),
    "theano.tensor.dot": ("matmul", "l, r"),
    "theano.tensor.nnet.softmax": ("softmax", "c, axis"),
    "theano.tensor.nnet.logsoftmax": ("log_softmax", "c, axis"),
    "theano.tensor.nnet.sigmoid": ("sigmoid", "x"),
    "theano.tensor.nnet.softplus": ("softplus", "x"),
    "theano.tensor.nnet.relu": ("relu", "x, alpha"),
    "theano.tensor.nnet.binary_crossentropy": ("binary_cross_entropy", "output, target"),
}
RENAME.update({"output": "x", "l": "x", "r": "y"})

# Aesara and PyTensor kept Theano's names.
MIRRORS = {"theano": ("aesara", "pytensor")}
for _name, _row in list(FUNCTIONS.items()):
    for _other in MIRRORS["theano"]:
        FUNCTIONS[_other + _name[len("theano"):]] = _row

RENDER = {
    "exp": [Render(function="theano.tensor.exp")],
    "log": [Render(function="theano.tensor.log")],
    "log1p": [Render(function="theano.tensor.log1p")],
    "expm1": [Render(function="theano.tensor.expm1")],
    "sqrt": [Render(function="theano.tensor.sqrt")],
    "softplus": [Render(function="theano.tensor.nnet.softplus")],
    "log_softmax": [Render(function="theano.tensor.nnet.logsoftmax")],
    "softmax": [Render(function="theano.tensor.nnet.softmax")],
    "sigmoid": [Render(function="theano.tensor.nnet.sigmoid")],
    "clamp": [Render(function="theano.tensor.clip")],
    "clamp_min": [Render(template="maximum($x, $min)")],
    "maximum": [Render(function="theano.tensor.maximum")],
    "where": [Render(function="theano.tensor.switch")],
    "isnan": [Render(function="theano.tensor.isnan")],
}

DTYPES = {}
DEFAULT_DTYPE = None  # theano.config.floatX: float64 unless configured
