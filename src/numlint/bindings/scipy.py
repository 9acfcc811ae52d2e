"""SciPy: ``scipy.special`` (the stable forms NumPy lacks)."""

from numlint.bindings import Render

FRAMEWORK = "scipy"
MODULES = ("scipy",)
RENAME = {"a": "x"}

FUNCTIONS = {
    "scipy.special.logsumexp": ("logsumexp", "a, axis, b, keepdims, return_sign"),
    "scipy.special.softmax": ("softmax", "x, axis"),
    "scipy.special.log_softmax": ("log_softmax", "x, axis"),
    "scipy.special.expit": ("sigmoid", "x, out, *, where, dtype"),
    "scipy.special.log_expit": ("logsigmoid", "x, out, *, where, dtype"),
    "scipy.special.xlogy": ("xlogy", "x, y, out, *, where, dtype"),
    "scipy.special.log1p": ("log1p", "x, out, *, where, dtype"),
    "scipy.special.expm1": ("expm1", "x, out, *, where, dtype"),
    "scipy.special.logit": ("logit", "x, out, *, where, dtype"),
}

RENDER = {
    "xlogy": [Render(function="scipy.special.xlogy")],
    "logsumexp": [Render(function="scipy.special.logsumexp")],
    "log_softmax": [Render(function="scipy.special.log_softmax")],
    "logsigmoid": [Render(function="scipy.special.log_expit")],
    "sigmoid": [Render(function="scipy.special.expit")],
    "softmax": [Render(function="scipy.special.softmax")],
    "log1p": [Render(function="scipy.special.log1p")],
    "expm1": [Render(function="scipy.special.expm1")],
    "logit": [Render(function="scipy.special.logit")],
}
