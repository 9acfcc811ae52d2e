"""CuPy: NumPy's API on the GPU (``cupy.*``, ``cupyx.scipy.special``), NumPy's array methods.

CuPy mirrors NumPy function for function, so its rows are NumPy's with the module renamed (less
the few NumPy spellings CuPy lacks), and its renderings are NumPy's written with ``cupy``.
"""

from dataclasses import replace as _replace

from numlint.bindings import Render
from numlint.bindings import numpy as _numpy

FRAMEWORK = "cupy"
MODULES = ("cupy", "cupyx")
RENAME = dict(_numpy.RENAME)

_NOT_IN_CUPY = {"numpy.logaddexp.reduce", "numpy.size", "numpy.amax"}
FUNCTIONS = {"cupy" + name[len("numpy"):]: row for name, row in _numpy.FUNCTIONS.items() if name not in _NOT_IN_CUPY}
FUNCTIONS.update({
    "cupyx.scipy.special.expit": ("sigmoid", "x"),
    "cupyx.scipy.special.logsumexp": ("logsumexp", "a, axis, b, keepdims, return_sign"),
    "cupyx.scipy.special.softmax": ("softmax", "x, axis"),
    "cupyx.scipy.special.log_softmax": ("log_softmax", "x, axis"),
})
METHODS = dict(_numpy.METHODS)
CONSTANTS = {"cupy" + name[len("numpy"):]: op for name, op in _numpy.CONSTANTS.items()}


def _cupy(row: Render) -> Render:
    def rename(name):
        if name is None:
            return None
        if name.startswith("scipy.special."):
            return "cupyx" + "." + name
        return "cupy" + name[len("numpy"):] if name.startswith("numpy") else name
    text = row.text.replace("{numpy.", "{cupy.") if row.text else None
    when = "cupyx" if row.when_imported == "scipy" else row.when_imported
    return _replace(row, function=rename(row.function), text=text, when_imported=when)


_SCIPY_IN_CUPYX = {"scipy.special.expit", "scipy.special.logsumexp", "scipy.special.softmax", "scipy.special.log_softmax"}
RENDER = {
    op: [_cupy(row) for row in rows
         if row.function is None or not row.function.startswith("scipy.") or row.function in _SCIPY_IN_CUPYX]
    for op, rows in _numpy.RENDER.items()
}
RENDER["logsumexp"] = [_cupy(r) for r in _numpy.RENDER["logsumexp"] if r.function != "numpy.logaddexp.reduce"]
RENDER = {op: rows for op, rows in RENDER.items() if rows}

VALUE_METHODS = dict(_numpy.VALUE_METHODS, get="keep")  # `x.get()`: the same values on the host
VALUE_FUNCTIONS = {"cupy" + name[len("numpy"):]: row for name, row in _numpy.VALUE_FUNCTIONS.items()}
VALUE_FUNCTIONS.update({"cupy.asnumpy": "keep"})
VALUE_ATTRIBUTES = dict(_numpy.VALUE_ATTRIBUTES)
DTYPES = {"cupy" + name[len("numpy"):]: dtype for name, dtype in _numpy.DTYPES.items()}
DEFAULT_DTYPE = "float64"
