"""Issue 14's precision family (NUM505, NUM506) proven in the dtypes the hazards are about, and the
namespaces added with it (CuPy, the array API, MLX, PaddlePaddle, Theano, tf.experimental.numpy).

The general proofs (`test_numeric_fixes.py`) run every example on float32 inputs; here each fixed
example of these rules runs again in PyTorch float16/bfloat16 where the hazard is about them, and
the facts the messages state (65504, 1 - 1e-8 == 1.0 in float32) are checked on real dtypes.
Everything runs in-process, in well under a second per test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numlint.checker import check_text
from numlint.fixes import fix_text
from numlint.rules import registry

RULES = registry()
ALL = list(RULES.values())


def _findings(text, codes=None):
    findings, errors = check_text(text.lstrip("\n"), ALL)
    assert not errors, errors
    return [f for f in findings if codes is None or f.code in codes]


def _fixed(text):
    outcome = fix_text(text.lstrip("\n"), lambda t: check_text(t, ALL), unsafe=True)
    return outcome.text if hasattr(outcome, "text") else outcome[0]


def _run(code: str, **inputs):
    namespace = dict(inputs)
    exec(compile(code, "<example>", "exec"), namespace)
    return namespace


def _proofs(code):
    rule = RULES[code]
    for index, example in enumerate(rule.examples):
        if example.bad and example.fixed and example.framework == "torch":
            yield pytest.param(rule, example, id=f"{rule.code}-{index}-{example.framework}")


# -- the dtype facts the messages state -------------------------------------------------------------

def test_float16_overflows_past_65504_bfloat16_does_not():
    assert torch.tensor(65504.0, dtype=torch.float16).isfinite()
    assert torch.tensor(-1e9).half().isinf() and torch.tensor(65520.0).half().isinf()
    assert torch.tensor(-1e9).bfloat16().isfinite()
    with pytest.raises(RuntimeError, match="overflow"):
        torch.zeros(2, dtype=torch.float16).masked_fill(torch.tensor([True, False]), -1e9)


@pytest.mark.parametrize("dtype, d, absorbed", [
    (torch.float32, 1e-8, True), (torch.float32, 1e-7, False), (torch.float32, 2.9e-8, True),
    (torch.float16, 1e-4, True), (torch.float16, 1e-3, False),
    (torch.bfloat16, 1e-3, True), (torch.bfloat16, 8e-3, False),
])
def test_one_minus_d_rounds_to_one(dtype, d, absorbed):
    assert (torch.tensor(1 - d, dtype=dtype) == 1.0).item() is absorbed
    assert (torch.tensor(1 - torch.finfo(dtype).eps, dtype=dtype) < 1.0).item()


# -- NUM505: the fixes in float16 ------------------------------------------------------------------

_MASK = torch.from_numpy(np.arange(6)[None, :] > np.array([[-1], [3], [4], [5]]))  # row 0 fully masked
_X = torch.from_numpy(np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32))


@pytest.mark.parametrize("rule, example", list(_proofs("NUM505")))
def test_num505_fix_in_float16(rule, example):
    before = _run(example.bad, x=_X, mask=_MASK)["attn"]
    after = _run(example.fixed, x=_X, mask=_MASK)["attn"]
    assert before.dtype == torch.float16 and torch.isnan(before[0]).all()
    assert torch.isfinite(after).all()
    assert torch.allclose(after[0].float(), torch.full((6,), 1 / 6), atol=1e-3)  # uniform, not NaN
    assert torch.allclose(after[1:].float(), before[1:].float(), atol=1e-3)


def test_num505_torch_masked_fill_raises_and_the_fix_runs():
    bad = '''
import torch
scores = x.half().masked_fill(mask, -1e9)
attn = torch.softmax(scores, dim=-1)
'''
    assert [f.code for f in _findings(bad)] == ["NUM505"]
    fixed = _fixed(bad)
    assert "torch.finfo(x.half().dtype).min" in fixed
    with pytest.raises(RuntimeError, match="overflow"):
        _run(bad, x=_X, mask=_MASK)
    attn = _run(fixed, x=_X, mask=_MASK)["attn"]
    assert torch.isfinite(attn).all()


def test_num505_in_an_autocast_region():
    text = '''
import torch
def attend(model, x, mask):
    with torch.autocast("cuda", dtype=torch.float16):
        scores = model(x)
        scores = torch.where(mask, -1e9, scores)
        return scores.softmax(-1)
'''
    assert [f.code for f in _findings(text)] == ["NUM505"]


# -- NUM506: the fixes in float32 and bfloat16 -------------------------------------------------------

_P = torch.tensor([[1.0, 0.5, 0.25, 1.0]])


@pytest.mark.parametrize("rule, example", list(_proofs("NUM506")))
def test_num506_fix_where_p_is_one(rule, example):
    before = _run(example.bad, x=_P)["loss"].float()
    after = _run(example.fixed, x=_P)["loss"].float()
    assert torch.isinf(before).any()
    assert torch.isfinite(after).all()
    assert torch.allclose(after[:, 1:3], before[:, 1:3], rtol=1e-2)


# -- namespaces -----------------------------------------------------------------------------------

_NAMESPACES = '''
import numpy as np
import cupy as cp
import mlx.core as mx
import paddle
import paddle.nn.functional as F
import theano.tensor as T
import tensorflow.experimental.numpy as tnp
a = cp.log(cp.sum(cp.exp(x), axis=1))
b = mx.log(mx.sum(mx.exp(x), axis=1))
c = paddle.log(F.softmax(x, axis=-1))
d = T.log(T.nnet.softmax(x))
e = tnp.log(tnp.sum(tnp.exp(x), axis=1))
f = paddle.log(1 + paddle.exp(x))
g = T.log(1 + T.exp(x))
h = x.half()
'''


def test_new_namespaces_find_the_known_hazards():
    codes = [f.code for f in _findings(_NAMESPACES)]
    assert codes == ["NUM101", "NUM101", "NUM102", "NUM102", "NUM101", "NUM104", "NUM104"]
    fixed = _fixed(_NAMESPACES)
    for written in ("mx.logsumexp(x, axis=1)", "F.log_softmax(x, axis=-1)", "T.nnet.logsoftmax(x)",
                    "F.softplus(x)", "T.nnet.softplus(x)"):
        assert written in fixed


def test_an_array_namespace_variable_is_the_array_api():
    text = '''
import numpy as np
from sklearn.utils._array_api import get_namespace

def lse(x):
    xp, _ = get_namespace(x)
    return xp.log(xp.sum(xp.exp(x), axis=1))

def softplus(p):
    xp = array_namespace(p)
    return xp.log(1 + xp.exp(p))
'''
    assert [f.code for f in _findings(text)] == ["NUM101", "NUM104"]
    assert "xp.log1p" not in _fixed(text)  # the array API has no softplus: advice, not a wrong fix


def test_new_namespaces_know_dtypes():
    text = '''
import numpy as np
import cupy as cp
from scipy.special import softmax
s = x.astype(cp.float16)
scores = cp.where(mask, -1e9, s)
attn = softmax(scores, axis=-1)
'''
    assert [f.code for f in _findings(text)] == ["NUM505"]


def test_a_file_that_imports_only_a_new_framework_is_checked():
    assert [f.code for f in _findings("import paddle\nc = paddle.log(paddle.nn.functional.softmax(x, axis=-1))\n")] == ["NUM102"]
