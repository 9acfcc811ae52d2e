"""Keras: the backend-neutral ``keras.ops`` (Keras 3) and the Keras 2 backend ``K``."""

from numlint.bindings import Render

FRAMEWORK = "keras"
MODULES = ("keras", "tensorflow.keras")
RENAME = {"x1": "x", "x2": "y", "y_true": "target", "y_pred": "x", "output": "x"}
_LOSS = "y_true, y_pred, from_logits, label_smoothing, axis"
_SPARSE_LOSS = "y_true, y_pred, from_logits, ignore_class, axis"
_LOSS_CLASS = "from_logits, label_smoothing, axis, reduction, name, dtype"
_SPARSE_LOSS_CLASS = "from_logits, ignore_class, reduction, name, dtype"

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
# keras.activations: also what `Dense(10, activation=keras.activations.softmax)` names.
for _prefix in ("keras.activations", "tensorflow.keras.activations"):
    FUNCTIONS[f"{_prefix}.softmax"] = ("softmax", "x, axis")
    FUNCTIONS[f"{_prefix}.sigmoid"] = ("sigmoid", "x")
    FUNCTIONS[f"{_prefix}.log_softmax"] = ("log_softmax", "x, axis")

_LOSSES = {
    "binary_crossentropy": ("binary_crossentropy", _LOSS),
    "categorical_crossentropy": ("categorical_crossentropy", _LOSS),
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy", _SPARSE_LOSS),
}
_BACKEND_LOSSES = {
    "binary_crossentropy": ("binary_crossentropy", "target, output, from_logits"),
    "categorical_crossentropy": ("categorical_crossentropy", "target, output, from_logits, axis"),
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy", "target, output, from_logits, axis"),
}
for _prefix in ("keras", "tensorflow.keras"):
    for _name, _row in _LOSSES.items():
        FUNCTIONS[f"{_prefix}.losses.{_name}"] = _row
    for _name, _row in _BACKEND_LOSSES.items():
        FUNCTIONS[f"{_prefix}.backend.{_name}"] = _row
for _name, _row in _BACKEND_LOSSES.items():
    FUNCTIONS[f"keras.ops.{_name}"] = _row

MODULE_CLASSES = {}
for _prefix in ("keras", "tensorflow.keras"):
    MODULE_CLASSES[f"{_prefix}.losses.BinaryCrossentropy"] = ("binary_crossentropy", _LOSS_CLASS, "y_true, y_pred, sample_weight")
    MODULE_CLASSES[f"{_prefix}.losses.CategoricalCrossentropy"] = ("categorical_crossentropy", _LOSS_CLASS, "y_true, y_pred, sample_weight")
    MODULE_CLASSES[f"{_prefix}.losses.SparseCategoricalCrossentropy"] = (
        "sparse_categorical_crossentropy", _SPARSE_LOSS_CLASS, "y_true, y_pred, sample_weight",
    )
    MODULE_CLASSES[f"{_prefix}.layers.Softmax"] = ("softmax", "axis", "inputs, mask")

# `Dense(10, activation="softmax")(h)` and `keras.Sequential([..., Dense(10, activation="softmax")])(x)`
# are softmaxes of something; `Activation("softmax")(h)` is `softmax(h)`.
LAYERS = {
    "sequential": [f"{p}{name}" for p in ("keras", "tensorflow.keras") for name in (".Sequential", ".models.Sequential")],
    "activation_layers": ["keras.layers.Activation", "tensorflow.keras.layers.Activation"],
    "activation_prefixes": ["keras.layers", "tensorflow.keras.layers"],
    "activations": {"softmax": "softmax", "sigmoid": "sigmoid", "log_softmax": "log_softmax"},
}

RENDER = {
    "sqrt": [Render(function="keras.ops.sqrt")],
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
    # A loss is written back as what the code called, with from_logits=True: the candidates from
    # the module the matched code used are preferred.
    **{
        op: [
            Render(function=f"{prefix}.{op}", module=f"{klass_prefix}.{klass}" if prefix.endswith("losses") else None)
            for prefix, klass_prefix in (
                ("keras.losses", "keras.losses"),
                ("tensorflow.keras.losses", "tensorflow.keras.losses"),
                ("keras.ops", None),
                ("keras.backend", None),
                ("tensorflow.keras.backend", None),
            )
        ]
        for op, klass in (
            ("binary_crossentropy", "BinaryCrossentropy"),
            ("categorical_crossentropy", "CategoricalCrossentropy"),
            ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"),
        )
    },
}

# The log/exp family (issue 14): atanh, cosh and products.
FUNCTIONS.update({
    "keras.ops.arctanh": ("atanh", "x"),
    "keras.ops.cosh": ("cosh", "x"),
    "keras.ops.prod": ("prod", "x, axis, keepdims, dtype"),
    "keras.backend.prod": ("prod", "x, axis, keepdims"),
    "tensorflow.keras.backend.prod": ("prod", "x, axis, keepdims"),
})
RENDER.update({
    "atanh": [Render(function="keras.ops.arctanh")],
    "cosh": [Render(function="keras.ops.cosh")],
    "abs": [Render(function="keras.ops.abs")],
    "sum": [Render(function="keras.ops.sum")],
    "log": [Render(function="keras.ops.log")],
})

# Keras' internal paths: `from keras.src import ops` (and `keras.src.ops.numpy`, `.nn`, `.math`,
# where each op is defined), the backend modules `from keras.src import backend;
# backend.numpy.exp(x)`, and `keras.src.activations`: what Keras' own source and code built on
# it import. The same ops and signatures as the public `keras.ops` and `keras.activations`.
_NN = {"sigmoid", "softmax", "log_softmax", "log_sigmoid", "softplus"}
_MATH = {"logsumexp"}
_INTERNAL = {**_OPS, "arctanh": ("atanh", "x"), "cosh": ("cosh", "x"), "prod": ("prod", "x, axis, keepdims, dtype")}
for _name, _row in _INTERNAL.items():
    _module = "nn" if _name in _NN else "math" if _name in _MATH else "numpy"
    FUNCTIONS[f"keras.src.ops.{_name}"] = _row
    FUNCTIONS[f"keras.src.ops.{_module}.{_name}"] = _row
    FUNCTIONS[f"keras.src.backend.{_module}.{_name}"] = _row
for _name, _row in _BACKEND_LOSSES.items():
    FUNCTIONS[f"keras.src.ops.{_name}"] = _row
    FUNCTIONS[f"keras.src.ops.nn.{_name}"] = _row
    FUNCTIONS[f"keras.src.backend.nn.{_name}"] = _row
for _name in ("softmax", "sigmoid", "log_softmax"):
    FUNCTIONS[f"keras.src.activations.{_name}"] = FUNCTIONS[f"keras.activations.{_name}"]

# A fix in a file that imports from `keras.src` is written there (`ops.logsumexp(x)`), not
# through the public `keras.ops` the file may not import (which Keras' own modules cannot).
for _op, _rows in RENDER.items():
    _internal = [Render(function="keras.src." + r.function[len("keras."):], when_imported="keras.src")
                 for r in _rows if r.function and r.function.startswith("keras.ops.")]
    _rows[:0] = _internal

# Ops that keep a value's facts (a Keras reshape of a softmax is still one), as NumPy's and JAX's.
VALUE_FUNCTIONS = {}
for _prefix in ("keras.ops", "keras.src.ops", "keras.src.ops.numpy", "keras.src.ops.core", "keras.backend",
                "tensorflow.keras.backend"):
    for _name in ("reshape", "squeeze", "expand_dims", "transpose", "swapaxes", "moveaxis", "take",
                  "take_along_axis", "convert_to_tensor", "flip", "roll", "tril", "triu", "broadcast_to", "tile",
                  "repeat"):
        VALUE_FUNCTIONS[f"{_prefix}.{_name}"] = "keep"
    for _name in ("concatenate", "stack"):
        VALUE_FUNCTIONS[f"{_prefix}.{_name}"] = "join"
    VALUE_FUNCTIONS[f"{_prefix}.stop_gradient"] = "detach"
    VALUE_FUNCTIONS[f"{_prefix}.cast"] = "cast"
