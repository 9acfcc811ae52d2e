"""PyTorch: ``torch.*``, ``torch.nn.functional``, ``torch.special`` and ``Tensor`` methods."""

from numlint.bindings import Render

FRAMEWORK = "torch"
MODULES = ("torch",)
RENAME = {
    "input": "x",
    "dim": "axis",
    "keepdim": "keepdims",
    "other": "y",
    "condition": "condition",
    "x1": "x",
    "x2": "y",
    "p": "ord",
    "exponent": "y",
    "correction": "ddof",
    "A": "x",
    "mat2": "y",
}

_UNARY = "input, *, out"
_BINARY = "input, other, *, out"
_REDUCE = "input, dim, keepdim, *, dtype, out"
_MOMENT = "input, dim, *, correction, keepdim, out, unbiased"  # unbiased: the old spelling of correction
_SOFTMAX = "input, dim, _stacklevel, dtype"
_BCE = "input, target, weight, size_average, reduce, reduction"
_NLL = "input, target, weight, size_average, ignore_index, reduce, reduction"

FUNCTIONS = {
    "torch.acos": ("acos", _UNARY),
    "torch.arccos": ("acos", _UNARY),
    "torch.asin": ("asin", _UNARY),
    "torch.arcsin": ("asin", _UNARY),
    "torch.norm": ("norm", "input, p, dim, keepdim, out, dtype"),
    "torch.linalg.norm": ("norm", "input, ord, dim, keepdim, *, out, dtype"),
    "torch.linalg.vector_norm": ("norm", "input, ord, dim, keepdim, *, dtype, out"),
    "torch.nn.functional.cosine_similarity": ("cosine_similarity", "x1, x2, dim, eps"),
    "torch.cosine_similarity": ("cosine_similarity", "x1, x2, dim, eps"),
    "torch.isnan": ("isnan", "input"),
    "torch.relu": ("relu", "input"),
    "torch.nn.functional.relu": ("relu", "input, inplace"),
    "torch.masked_fill": ("masked_fill", "input, mask, value"),
    "torch.where": ("where", "condition, input, other"),
    "torch.logical_not": ("logical_not", _UNARY),
    "torch.exp": ("exp", _UNARY),
    "torch.log": ("log", _UNARY),
    "torch.log1p": ("log1p", _UNARY),
    "torch.expm1": ("expm1", _UNARY),
    "torch.special.expm1": ("expm1", _UNARY),
    "torch.special.log1p": ("log1p", _UNARY),
    "torch.sqrt": ("sqrt", _UNARY),
    "torch.square": ("square", _UNARY),
    "torch.abs": ("abs", _UNARY),
    "torch.tanh": ("tanh", _UNARY),
    "torch.sigmoid": ("sigmoid", _UNARY),
    "torch.special.expit": ("sigmoid", _UNARY),
    "torch.nn.functional.sigmoid": ("sigmoid", "input"),
    "torch.nn.functional.logsigmoid": ("logsigmoid", "input"),
    "torch.nn.functional.softplus": ("softplus", "input, beta, threshold"),
    "torch.pow": ("pow", "input, exponent, *, out"),
    "torch.add": ("add", "input, other, *, alpha, out"),
    "torch.sub": ("sub", "input, other, *, alpha, out"),
    "torch.subtract": ("sub", "input, other, *, alpha, out"),
    "torch.mul": ("mul", _BINARY),
    "torch.multiply": ("mul", _BINARY),
    "torch.div": ("div", "input, other, *, rounding_mode, out"),
    "torch.divide": ("div", "input, other, *, rounding_mode, out"),
    "torch.true_divide": ("div", _BINARY),
    "torch.logaddexp": ("logaddexp", _BINARY),
    "torch.hypot": ("hypot", _BINARY),
    "torch.maximum": ("maximum", _BINARY),
    "torch.xlogy": ("xlogy", _BINARY),
    "torch.special.xlogy": ("xlogy", _BINARY),
    "torch.sum": ("sum", _REDUCE),
    "torch.mean": ("mean", _REDUCE),
    "torch.amax": ("max", "input, dim, keepdim, *, out"),
    # With `dim`, torch.max returns (values, indices); predicates look through `[0]`/`.values`.
    "torch.max": ("max", "input, dim, keepdim, *, out"),
    "torch.var": ("var", _MOMENT, {"defaults": {"ddof": "1"}}),
    "torch.std": ("std", _MOMENT, {"defaults": {"ddof": "1"}}),
    "torch.logsumexp": ("logsumexp", "input, dim, keepdim, *, out", {"required": ("axis",)}),
    "torch.special.logsumexp": ("logsumexp", "input, dim, keepdim, *, out", {"required": ("axis",)}),
    "torch.softmax": ("softmax", "input, dim, dtype", {"required": ("axis",)}),
    "torch.special.softmax": ("softmax", "input, dim, *, dtype"),
    # Without `dim`, F.softmax guesses one (deprecated): a fix always names it.
    "torch.nn.functional.softmax": ("softmax", _SOFTMAX, {"required": ("axis",)}),
    "torch.log_softmax": ("log_softmax", "input, dim, dtype"),
    "torch.special.log_softmax": ("log_softmax", "input, dim, *, dtype"),
    "torch.nn.functional.log_softmax": ("log_softmax", _SOFTMAX),
    "torch.clamp": ("clamp", "input, min, max, *, out"),
    "torch.clamp_min": ("clamp_min", "input, min"),
    "torch.nn.functional.normalize": ("l2_normalize", "input, p, dim, eps, out", {"defaults": {"axis": "1"}}),
    "torch.clip": ("clamp", "input, min, max, *, out"),
    "torch.flatten": ("flatten", "input, start_dim, end_dim"),
    "torch.nn.functional.binary_cross_entropy": ("binary_cross_entropy", _BCE),
    "torch.nn.functional.binary_cross_entropy_with_logits": (
        "binary_cross_entropy_with_logits", _BCE + ", pos_weight",
    ),
    "torch.nn.functional.nll_loss": ("nll_loss", _NLL),
    "torch.nn.functional.cross_entropy": ("cross_entropy", _NLL + ", label_smoothing"),
    # Values made with known facts of their own: random draws, factorizations.
    "torch.rand": ("uniform", "*size, **kwargs"),
    "torch.rand_like": ("uniform", "input, **kwargs"),
    "torch.randn": ("normal", "*size, **kwargs"),
    "torch.randn_like": ("normal", "input, **kwargs"),
    "torch.linalg.svd": ("svd", "A, full_matrices, *, driver, out"),
    "torch.svd": ("svd", "input, some, compute_uv, *, out"),
    "torch.linalg.qr": ("qr", "A, mode, *, out"),
    "torch.linalg.eigh": ("eigh", "A, UPLO, *, out"),
    "torch.matmul": ("matmul", "input, other, *, out"),
    "torch.mm": ("matmul", "input, mat2, *, out"),
    "torch.bmm": ("matmul", "input, mat2, *, out"),
    "torch.einsum": ("matmul", "equation, *operands"),
    "torch.numel": ("count", "input"),
}

# Built, then called: `nn.BCELoss(reduction="sum")(p, y)`.
MODULE_CLASSES = {
    "torch.nn.BCELoss": ("binary_cross_entropy", "weight, size_average, reduce, reduction", "input, target"),
    "torch.nn.BCEWithLogitsLoss": (
        "binary_cross_entropy_with_logits", "weight, size_average, reduce, reduction, pos_weight", "input, target",
    ),
    "torch.nn.NLLLoss": ("nll_loss", "weight, size_average, ignore_index, reduce, reduction", "input, target"),
    "torch.nn.CrossEntropyLoss": (
        "cross_entropy", "weight, size_average, ignore_index, reduce, reduction, label_smoothing", "input, target",
    ),
    "torch.nn.Softmax": ("softmax", "dim", "input"),
    "torch.nn.LogSoftmax": ("log_softmax", "dim", "input"),
    "torch.nn.Sigmoid": ("sigmoid", "", "input"),
    "torch.nn.LogSigmoid": ("logsigmoid", "", "input"),
}

# `nn.Sequential(..., nn.Softmax(dim=1))(x)` is a softmax of something.
LAYERS = {"sequential": ("torch.nn.Sequential",)}

METHODS = {
    "acos": ("acos", ""),
    "relu": ("relu", ""),
    "arccos": ("acos", ""),
    "asin": ("asin", ""),
    "arcsin": ("asin", ""),
    "norm": ("norm", "p, dim, keepdim, dtype"),
    "exp": ("exp", ""),
    "log": ("log", ""),
    "log1p": ("log1p", ""),
    "expm1": ("expm1", ""),
    "sqrt": ("sqrt", ""),
    "square": ("square", ""),
    "abs": ("abs", ""),
    "tanh": ("tanh", ""),
    "sigmoid": ("sigmoid", ""),
    "pow": ("pow", "exponent"),
    "logaddexp": ("logaddexp", "other"),
    "hypot": ("hypot", "other"),
    "xlogy": ("xlogy", "other"),
    "sum": ("sum", "dim, keepdim, *, dtype"),
    "mean": ("mean", "dim, keepdim, *, dtype"),
    "amax": ("max", "dim, keepdim"),
    "max": ("max", "dim, keepdim"),
    "var": ("var", "dim, *, correction, keepdim, unbiased", {"defaults": {"ddof": "1"}}),
    "std": ("std", "dim, *, correction, keepdim, unbiased", {"defaults": {"ddof": "1"}}),
    "logsumexp": ("logsumexp", "dim, keepdim", {"required": ("axis",)}),
    "softmax": ("softmax", "dim, dtype", {"required": ("axis",)}),
    "log_softmax": ("log_softmax", "dim, dtype"),
    "clamp": ("clamp", "min, max"),
    "clamp_min": ("clamp_min", "min"),
    "clip": ("clamp", "min, max"),
    "flatten": ("flatten", "start_dim, end_dim"),
    "masked_fill": ("masked_fill", "mask, value"),
    "masked_fill_": ("masked_fill", "mask, value"),
    "uniform_": ("uniform", "low, high"),  # `torch.zeros_like(t).uniform_(0, 1)`: a fresh draw on [low, high)
    "clamp_": ("clamp", "min, max"),
    "clamp_min_": ("clamp_min", "min"),
    "clip_": ("clamp", "min, max"),
    "isnan": ("isnan", ""),
    "logical_not": ("logical_not", ""),
    "matmul": ("matmul", "other"),
    "mm": ("matmul", "mat2"),
    "bmm": ("matmul", "mat2"),
    "numel": ("count", ""),
}

# What methods and functions do to the facts of a value (bindings/__init__.py explains the effects).
VALUE_METHODS = {
    **{name: "keep" for name in (
        "view", "view_as", "reshape", "reshape_as", "squeeze", "unsqueeze", "transpose", "permute", "t",
        "contiguous", "clone", "expand", "expand_as", "repeat", "repeat_interleave", "gather", "index_select",
        "take_along_dim", "narrow", "select", "masked_select", "flip", "roll", "movedim", "swapaxes",
        "cuda", "cpu", "eval", "train", "requires_grad_", "squeeze_", "unsqueeze_", "t_", "share_memory",
        "pin_memory", "coalesce", "to_dense", "tril", "triu",
    )},
    "to": "cast", "type": "cast", "type_as": "cast_like",
    "float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16",
    "int": "integer", "long": "integer", "short": "integer", "bool": "bool", "byte": "integer",
    "detach": "detach", "detach_": "detach", "item": "detach", "tolist": "detach", "numpy": "detach",
}
VALUE_FUNCTIONS = {
    **{f"torch.{name}": "keep" for name in (
        "gather", "index_select", "take_along_dim", "reshape", "squeeze", "unsqueeze", "transpose", "permute",
        "clone", "flip", "roll", "movedim", "narrow", "select", "masked_select", "as_tensor", "tensor",
        "from_numpy", "tril", "triu", "compile",
    )},
    **{f"torch.{name}": "join" for name in ("cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack")},
    "torch.nn.DataParallel": "keep",
    "torch.nn.parallel.DistributedDataParallel": "keep",
    "torch.nn.parallel.DataParallel": "keep",
    "torch.nn.Parameter": "parameter",
    "torch.nn.parameter.Parameter": "parameter",
}
VALUE_ATTRIBUTES = {"T": "keep", "mT": "keep", "H": "keep", "data": "detach", "values": "keep", "real": "keep"}

# `with torch.no_grad():` and `@torch.no_grad()`: no autograd inside; autocast: half precision.
REGIONS = {
    "torch.no_grad": "no_grad",
    "torch.inference_mode": "no_grad",
    "torch.autograd.no_grad": "no_grad",
    "torch.enable_grad": "enable_grad",
    "torch.set_grad_enabled": "set_grad_enabled",
    "torch.autocast": "autocast",
    "torch.amp.autocast": "autocast",
    "torch.cuda.amp.autocast": "autocast",
    "torch.cpu.amp.autocast": "autocast",
}
AUTOGRAD_FUNCTIONS = ("torch.autograd.Function", "torch.autograd.function.Function")
DTYPES = {
    "torch.float16": "float16", "torch.half": "float16", "torch.bfloat16": "bfloat16",
    "torch.float32": "float32", "torch.float": "float32", "torch.float64": "float64", "torch.double": "float64",
    "torch.int64": "integer", "torch.long": "integer", "torch.int32": "integer", "torch.int": "integer",
    "torch.int8": "integer", "torch.uint8": "integer", "torch.int16": "integer", "torch.bool": "bool",
}
DEFAULT_DTYPE = "float32"

CONSTANTS = {"torch.nan": "nan", "torch.inf": "inf"}

RENDER = {
    "clamp": [Render(function="torch.clamp", method="clamp")],
    "clamp_min": [Render(function="torch.clamp_min", method="clamp_min")],
    "l2_normalize": [Render(function="torch.nn.functional.normalize")],
    "acos": [Render(function="torch.acos", method="acos")],
    "asin": [Render(function="torch.asin", method="asin")],
    "dtype_min": [Render(text="{torch.finfo}({x}.dtype).min")],
    "dtype_tiny": [Render(text="{torch.finfo}({x}.dtype).tiny")],
    "dtype_eps": [Render(text="{torch.finfo}({x}.dtype).eps")],
    "xlogy": [Render(function="torch.xlogy", method="xlogy")],
    "log": [Render(function="torch.log", method="log")],
    "masked_fill": [Render(function="torch.masked_fill", method="masked_fill")],
    "where": [Render(function="torch.where")],
    "sqrt": [Render(function="torch.sqrt", method="sqrt")],
    "isnan": [Render(function="torch.isnan", method="isnan")],
    "logical_not": [Render(function="torch.logical_not", method="logical_not")],
    "logsumexp": [Render(function="torch.logsumexp", method="logsumexp")],
    "log_softmax": [
        Render(function="torch.nn.functional.log_softmax", method="log_softmax"),
        Render(function="torch.log_softmax", method="log_softmax"),
    ],
    "var": [Render(function="torch.var", method="var")],
    "std": [Render(function="torch.std", method="std")],
    "flatten": [Render(function="torch.flatten", method="flatten")],
    "binary_cross_entropy_with_logits": [
        Render(function="torch.nn.functional.binary_cross_entropy_with_logits", module="torch.nn.BCEWithLogitsLoss"),
    ],
    "cross_entropy": [Render(function="torch.nn.functional.cross_entropy", module="torch.nn.CrossEntropyLoss")],
    "logsigmoid": [Render(function="torch.nn.functional.logsigmoid")],
    "softplus": [Render(function="torch.nn.functional.softplus")],
    "logaddexp": [Render(function="torch.logaddexp", method="logaddexp")],
    "log1p": [Render(function="torch.log1p", method="log1p")],
    "expm1": [Render(function="torch.expm1", method="expm1")],
    "hypot": [Render(function="torch.hypot", method="hypot")],
    "exp": [Render(function="torch.exp", method="exp")],
    "sigmoid": [Render(function="torch.sigmoid", method="sigmoid")],
    "softmax": [
        Render(function="torch.nn.functional.softmax", method="softmax"),
        Render(function="torch.softmax", method="softmax"),
    ],
}

# The log/exp family (issue 14): atanh, cosh and products, for the rules written by hand around them.
FUNCTIONS.update({
    "torch.atanh": ("atanh", _UNARY),
    "torch.arctanh": ("atanh", _UNARY),
    "torch.cosh": ("cosh", _UNARY),
    "torch.logit": ("logit", "input, eps, *, out"),
    "torch.special.logit": ("logit", "input, eps, *, out"),
    "torch.prod": ("prod", "input, dim, keepdim, *, dtype"),
})
METHODS.update({
    "atanh": ("atanh", ""),
    "arctanh": ("atanh", ""),
    "cosh": ("cosh", ""),
    "logit": ("logit", "eps"),
    "prod": ("prod", "dim, keepdim, *, dtype"),
})
RENDER.update({
    "atanh": [Render(function="torch.atanh", method="atanh")],
    "cosh": [Render(function="torch.cosh", method="cosh")],
    "logit": [Render(function="torch.logit", method="logit")],
    "abs": [Render(function="torch.abs", method="abs")],
    "sum": [Render(function="torch.sum", method="sum")],
})

# Precision measurement (labels on the merged engine): draws spelled through torch.distributions'
# helper, which torch's own distributions and research code call (`_standard_normal(shape, ...)`).
FUNCTIONS.update({
    "torch.distributions.utils._standard_normal": ("normal", "shape, dtype, device"),
})
