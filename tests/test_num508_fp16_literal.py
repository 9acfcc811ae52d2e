"""NUM508 (a literal past float16's range in arithmetic on a float16 value) on real arithmetic,
and the Keras binding's internal paths (`from keras.src import ops`).

NUM508 is advice only (the finite value needs float32; no float16 result holds it), so instead of
a fix proof each bad example is run: in float16 its result is inf or NaN on ordinary inputs, and
the advised upcast is finite and equal to the float64 value. The silent cases are run too: they
are right as written. All in-process, well under a second per test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from numlint.checker import check_text
from numlint.fixes import fix_text
from numlint.rules import registry

RULES = registry()
ALL = list(RULES.values())
_X = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)


def _findings(text):
    findings, errors = check_text(text.lstrip("\n"), ALL)
    assert not errors, errors
    return [f.code for f in findings]


def _run(code: str, **inputs):
    namespace = dict(inputs)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # NumPy: "overflow encountered in cast"
        exec(compile(code, "<example>", "exec"), namespace)
    return namespace


def _bad(framework):
    return [pytest.param(e, id=f"{i}-{e.framework}") for i, e in enumerate(RULES["NUM508"].examples)
            if e.bad and e.framework == framework]


def _result(namespace):
    for name in ("y", "q", "bias"):
        if name in namespace:
            return namespace[name]
    raise AssertionError("the example assigns no result")


# -- the measured float16 behaviour the message states ----------------------------------------------

def test_numpy_and_jax_round_the_literal_before_the_arithmetic():
    h = np.array([1e-4, 0.5, 0.0], dtype=np.float16)
    with np.errstate(all="ignore"):
        product = h * 7e4
        assert np.isinf(product[:2]).all() and np.isnan(product[2])  # 1e-4 * 7e4 is 7.0 in float32
        assert (np.array([1.0], np.float16) / 1e5)[0] == 0  # the quotient by an inf literal: 0, not 1e-5
    jnp = pytest.importorskip("jax.numpy")
    j = jnp.array([1e-4, 0.5, 0.0], dtype=jnp.float16)
    product = np.asarray(j * 7e4)
    assert np.isinf(product[:2]).all() and np.isnan(product[2])


def test_torch_rounds_the_product_not_the_literal_but_adds_the_rounded_literal():
    h = torch.tensor([0.5, 0.935546875, 0.93603515625], dtype=torch.float16)
    product = h * 70000.0
    assert product[0] == 35008 and torch.isfinite(product[1]) and torch.isinf(product[2])
    # `+` and `-` round the literal first: inf even where the true sum is 50000
    assert torch.isinf(torch.tensor([-50000.0, 1.0], dtype=torch.float16) + 1e5).all()
    assert torch.isinf(1e5 - torch.tensor([50000.0], dtype=torch.float16)).all()
    assert torch.isfinite(1e5 / torch.tensor([1.53], dtype=torch.float16)).all()
    assert (torch.tensor([1.0], dtype=torch.float16) / 1e5).item() == pytest.approx(1e-5, rel=5e-3)  # a subnormal: 6e-8 apart


def test_bfloat16_holds_the_literal():
    assert torch.isfinite(torch.ones(3, dtype=torch.bfloat16) * 7e4).all()


# -- each bad example overflows in float16, the advised upcast does not ------------------------------

@pytest.mark.parametrize("example", _bad("torch"))
def test_torch_example_overflows_and_the_upcast_is_right(example):
    x = torch.from_numpy(_X)
    mask = torch.from_numpy(_X > 0)
    result = _result(_run(example.bad, x=x, mask=mask))
    assert result.dtype == torch.float16 and not torch.isfinite(result).all()
    upcast = _run(example.bad.replace(".half()", ".half().float()").replace(
        "mask.to(torch.float16)", "mask.to(torch.float16).float()"), x=x, mask=mask)
    fixed = _result(upcast)
    assert fixed.dtype == torch.float32 and torch.isfinite(fixed).all()


@pytest.mark.parametrize("example", _bad("numpy"))
def test_numpy_example_overflows_and_the_upcast_is_right(example):
    result = _result(_run(example.bad, x=_X))
    assert result.dtype == np.float16 and np.isinf(result).all()  # every entry, not only the large ones
    fixed = _result(_run(example.bad.replace("astype(np.float16)", "astype(np.float16).astype(np.float32)"), x=_X))
    exact = _result(_run(example.bad.replace("astype(np.float16)", "astype(np.float16).astype(np.float64)"), x=_X))
    assert fixed.dtype == np.float32 and np.isfinite(fixed).all() and np.allclose(fixed, exact, rtol=1e-6)


@pytest.mark.parametrize("example", _bad("jax"))
def test_jax_example_overflows_and_the_upcast_is_right(example):
    jnp = pytest.importorskip("jax.numpy")
    x = jnp.asarray(_X)
    result = _result(_run(example.bad, x=x))
    assert result.dtype == jnp.float16 and np.isinf(np.asarray(result)).all()
    fixed = _result(_run(example.bad.replace("astype(jnp.float16)", "astype(jnp.float16).astype(jnp.float32)"), x=x))
    exact = 65536.0 * _X.astype(np.float16).astype(np.float64)
    assert np.isfinite(np.asarray(fixed)).all() and np.allclose(np.asarray(fixed), exact, rtol=1e-6)


def test_the_silent_cases_are_right_as_written():
    h = _X.astype(np.float16)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        assert (np.clip(h, -1e5, 1e5) == h).all() and (np.minimum(h, 1e5) == h).all()
        assert not (h >= 70000.0).any() and (h < 1e5).all()
    t = torch.from_numpy(_X).half()
    assert (t < 1e5).all() and isinstance(t.sum().item() * 1e5, float)
    jnp = pytest.importorskip("jax.numpy")
    j = jnp.asarray(_X).astype(jnp.float16)
    assert (np.asarray(jnp.clip(j, -1e5, 1e5)) == np.asarray(j)).all()


def test_reported_spellings_and_silent_ones():
    bad = '''
import torch
import numpy as np
BIG = 1e5
def f(x, a):
    h = x.half()
    n = a.astype(np.float16)
    return 70000.0 * h, h - 1e5, 1e5 - h, 1e5 / h, torch.mul(h, 7e4), h * BIG, np.add(n, 1e5)
'''
    assert _findings(bad) == ["NUM508"] * 7
    silent = '''
import torch
def f(x):
    h = x.half()
    return (h * 65504.0, h / 1e5, h < 1e5, h == 7e4, h * (1e5 * 1e-5), float(h.mean()) * 1e5,
            2 * h.max().item() * 1e5, h.double() * 1e5, x.bfloat16() + 1e5)
'''
    assert _findings(silent) == []


# -- Keras' internal paths ---------------------------------------------------------------------------

def test_keras_internal_paths_are_the_public_ops():
    text = '''
from keras.src import activations
from keras.src import backend
from keras.src import ops
from keras.src.ops import numpy as knp
from keras.src.ops.numpy import log


def f(x):
    a = ops.log(ops.sum(ops.exp(x), axis=-1))
    b = log(activations.softmax(x))
    c = backend.numpy.log(backend.nn.softmax(x))
    d = knp.log(1 + knp.exp(x))
    return a, b, c, d
'''
    assert _findings(text) == ["NUM101", "NUM102", "NUM102", "NUM104"]
    fixed = fix_text(text.lstrip("\n"), lambda t: check_text(t, ALL), unsafe=True)
    fixed = fixed.text if hasattr(fixed, "text") else fixed[0]
    assert "import keras.ops" not in fixed and "import keras\n" not in fixed  # written through keras.src
    for line in ("a = ops.logsumexp(x, axis=-1)", "b = ops.log_softmax(x)", "c = ops.log_softmax(x)",
                 "d = ops.softplus(x)"):
        assert line in fixed, fixed


def test_keras_public_path_fix_is_unchanged():
    text = '''
import keras
from keras import ops

def f(x):
    return ops.log(keras.activations.softmax(x))
'''
    fixed = fix_text(text.lstrip("\n"), lambda t: check_text(t, ALL), unsafe=True)
    fixed = fixed.text if hasattr(fixed, "text") else fixed[0]
    assert "return ops.log_softmax(x)" in fixed and "keras.src" not in fixed
