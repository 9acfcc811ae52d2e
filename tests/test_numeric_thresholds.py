"""Every number a rule's message states, measured with real arithmetic.

A message like "inf once |x| > 89.4 (float32; float16: 11.8)" makes claims a user acts on. Each
claim is declared once, in CLAIMS below: the words of the message that state it, the number as
written, and how to measure it in PyTorch and NumPy (JAX or bfloat16 where the message names
them). The test checks that the message still has those words, and that the measured value,
rounded to the digits the message writes, is the number: a threshold is found by bisection on the
hazard itself (`log(sum(exp(x)))` is inf, `1 - d` is 1.0), run on inputs of the stated dtype.
Another test reads every message for numbers no claim covers, so a message edit that changes or
adds a number fails until the table says how to measure it.

Float32 numbers are those of IEEE arithmetic with subnormals (NumPy, PyTorch on CPU). XLA on CPU
flushes subnormals to 0, so in JAX `exp` reaches 0 already below -87.3 where NumPy and PyTorch go
on to -104: a message's "-inf once x < -104" holds there too, only earlier. All in-process, about
a second for the file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable, Tuple

import numpy as np
import pytest
import scipy.special
import torch

from numlint.rules import registry

RULES = registry()


# -- the frameworks, as one small namespace each ---------------------------------------------------

def _torch_array(values, dtype):
    return torch.tensor(values, dtype=getattr(torch, dtype))


def _numpy_array(values, dtype):
    return np.array(values, dtype=np.dtype(dtype))


TORCH = SimpleNamespace(
    name="torch", array=_torch_array, exp=torch.exp, log=torch.log, sqrt=torch.sqrt, cosh=torch.cosh,
    sum=torch.sum, mean=torch.mean, prod=torch.prod, sigmoid=torch.sigmoid, softmax=lambda v: torch.softmax(v, 0),
    floor=lambda v, lo: torch.clamp(v, min=lo), isinf=torch.isinf, isnan=torch.isnan, any=torch.any,
)
NUMPY = SimpleNamespace(
    name="numpy", array=_numpy_array, exp=np.exp, log=np.log, sqrt=np.sqrt, cosh=np.cosh,
    sum=np.sum, mean=np.mean, prod=np.prod, sigmoid=scipy.special.expit, softmax=scipy.special.softmax,
    floor=lambda v, lo: np.maximum(v, v.dtype.type(lo)), isinf=np.isinf, isnan=np.isnan, any=np.any,
)


def _jax():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    return SimpleNamespace(
        name="jax", array=lambda values, dtype: jnp.array(values, dtype=dtype), exp=jnp.exp, log=jnp.log,
        sigmoid=jax.nn.sigmoid, isinf=jnp.isinf, any=jnp.any, jax=jax,
    )


# -- measuring -------------------------------------------------------------------------------------

def boundary(hazard: Callable, dtype: str, lo: float, hi: float, values=lambda x: [x]):
    """The input where `hazard(xp, array)` flips, by bisection between lo and hi (float64 inputs,
    cast to `dtype` as the array is made: the boundary of real inputs in that dtype)."""
    def measure(xp) -> float:
        def holds(x: float) -> bool:
            with np.errstate(all="ignore"):
                return bool(xp.any(hazard(xp, xp.array(values(x), dtype))))
        a, b = lo, hi
        at_lo = holds(a)
        assert at_lo != holds(b), f"the hazard does not flip between {lo} and {hi}"
        for _ in range(60):
            mid = (a + b) / 2
            if holds(mid) == at_lo:
                a = mid
            else:
                b = mid
        return (a + b) / 2
    return measure


def first_count(hazard: Callable, dtype: str, limit: int):
    """The smallest n for which `hazard(xp, n, dtype)` holds."""
    def measure(xp) -> float:
        return float(next(n for n in range(1, limit) if hazard(xp, n, dtype)))
    return measure


def draw_resolution(draw: Callable):
    """k such that uniform draws are multiples of 2**-k (so each is exactly 0 once in 2**k draws)."""
    def measure(xp) -> float:
        u = np.asarray(draw(xp), dtype=np.float64)
        return float(2 ** next(k for k in range(1, 64) if np.all(u * 2.0 ** k == np.round(u * 2.0 ** k))))
    return measure


def _rand(xp):
    if xp.name == "torch":
        return torch.rand(1 << 12, generator=torch.Generator().manual_seed(0)).numpy()
    if xp.name == "numpy":
        return np.random.default_rng(0).random(1 << 12, dtype=np.float32)
    # float32 draws whatever `jax_enable_x64` another test in this process set
    return xp.jax.random.uniform(xp.jax.random.PRNGKey(0), (1 << 12,), dtype="float32")


def elementwise_boundary(hazard: Callable, dtype: str, lo: float, hi: float, points: int = 1 << 18):
    """`boundary` in one call for an elementwise hazard, on a grid of `points` inputs (to about
    (hi - lo) / points): for JAX, where sixty dispatches of un-jitted ops cost seconds."""
    def measure(xp) -> float:
        grid = np.linspace(lo, hi, points)
        holds = np.asarray(hazard(xp, xp.array(grid, dtype)))
        flip = int(np.argmax(holds != holds[0]))
        assert flip > 0, f"the hazard does not flip between {lo} and {hi}"
        return float(grid[flip - 1] + grid[flip]) / 2
    return measure


@dataclass(frozen=True)
class Claim:
    code: str
    words: str  # as the message writes them
    number: str  # the number in `words`, as written
    measure: Callable  # xp -> the value real arithmetic gives
    frameworks: Tuple[str, ...] = ("torch", "numpy")


F32, F16 = "float32", "float16"
BOTH = ("torch", "numpy")


def _exp_sum_log(xp, x):
    return xp.isinf(xp.log(xp.sum(xp.exp(x))))


def _log_exp(xp, x):
    return xp.isinf(xp.log(xp.exp(x)))


def _log_det_inf(xp, x):
    tanh = torch.tanh if xp.name == "torch" else np.tanh
    return xp.isinf(xp.log(1 - tanh(x) ** 2))


def _loss_of_saturated_sigmoid(xp, target):
    """The with-logits BCE of a sigmoid saturated towards the target (NUM206): the floor of the loss."""
    s = xp.sigmoid(xp.array([30.0 if target else -30.0], F32))
    if xp.name == "torch":
        return float(torch.nn.functional.binary_cross_entropy_with_logits(s, torch.tensor([target])))
    return float(np.logaddexp(0, s[0]) - target * s[0])


def _reciprocal_logit_error(xp, dtype):
    """The largest |-log(1/p - 1) - logit(p)| over the `dtype` grid just below 1 (NUM116)."""
    p = xp.array(1 - np.logspace(-12, -1, 1 << 16), dtype)
    p = p[p < 1]
    naive = np.asarray(-xp.log(1 / p - 1), dtype=np.float64)
    exact = scipy.special.logit(np.asarray(p, dtype=np.float64))
    return float(np.max(np.abs(naive - exact)))


EXP_OVERFLOWS = boundary(lambda xp, x: xp.isinf(xp.exp(x)), F32, 80, 100)  # 88.72: log(finfo.max)
ROW = lambda x: [x, 0.0, 0.0]  # one large value among ordinary ones
ALL = lambda x: [x, x, x]  # every value this small

CLAIMS = [
    Claim("NUM101", "any x > 88.7", "88.7", boundary(_exp_sum_log, F32, 80, 100, ROW)),
    Claim("NUM101", "every x < -104", "-104", boundary(_exp_sum_log, F32, -120, -90, ALL)),
    Claim("NUM102", "logit gap > 104", "104",
          boundary(lambda xp, g: xp.isinf(xp.log(xp.softmax(g))), F32, 90, 120, lambda g: [0.0, -g])),
    Claim("NUM103", "below x ≈ -88.7", "-88.7",
          boundary(lambda xp, x: xp.isinf(xp.log(xp.sigmoid(x))), F32, -120, -50)),
    Claim("NUM103", "(JAX: -87.3)", "-87.3",
          elementwise_boundary(lambda xp, x: xp.isinf(xp.log(xp.sigmoid(x))), F32, -120, -50), ("jax",)),
    Claim("NUM103", "above x ≈ 17", "17",
          boundary(lambda xp, x: xp.isinf(xp.log(1 - xp.sigmoid(x))), F32, 5, 30)),
    Claim("NUM104", "once x > 88.7", "88.7", boundary(lambda xp, x: xp.isinf(xp.log(1 + xp.exp(x))), F32, 80, 100)),
    Claim("NUM104", "below x ≈ -17", "-17", boundary(lambda xp, x: xp.log(1 + xp.exp(x)) == 0, F32, -30, -5)),
    Claim("NUM105", "a or b > 88.7", "88.7",
          boundary(lambda xp, v: xp.isinf(xp.log(xp.exp(v[:1]) + xp.exp(v[1:]))), F32, 80, 100, lambda x: [x, 0.0])),
    Claim("NUM105", "both < -104", "-104",
          boundary(lambda xp, v: xp.isinf(xp.log(xp.exp(v[:1]) + xp.exp(v[1:]))), F32, -120, -90, lambda x: [x, x])),
    # 1 + x rounds to 1 for 0 < x < 6e-8 (for x < 0 from -3e-8 on); between, the result is ±6e-8
    # whatever x is: no digit of x survives.
    Claim("NUM106", "|x| < 6e-8", "6e-8", boundary(lambda xp, x: xp.log(1 + x) == 0, F32, 1e-9, 1e-7)),
    # PyTorch's float32 exp is correctly rounded near 1; NumPy's SIMD exp is not (exp(8e-8) == 1
    # there): in NumPy `exp(x) - 1` loses x up to 8.2e-8, beyond what the message claims.
    Claim("NUM107", "|x| < 6e-8", "6e-8", boundary(lambda xp, x: xp.exp(x) - 1 == 0, F32, 1e-9, 1e-7), ("torch",)),
    Claim("NUM108", "x > 88.7", "88.7", boundary(_log_exp, F32, 80, 100)),
    Claim("NUM108", "x < -104", "-104", boundary(_log_exp, F32, -120, -90)),
    Claim("NUM109", "|x| > 1.8e19", "1.8e19",
          boundary(lambda xp, v: xp.isinf(xp.sqrt(v[:1] ** 2 + v[1:] ** 2)), F32, 1e18, 1e20, lambda x: [x, 0.0])),
    Claim("NUM109", "to 0 below 2.6e-23", "2.6e-23",
          boundary(lambda xp, v: xp.sqrt(v[:1] ** 2 + v[1:] ** 2) == 0, F32, 1e-24, 1e-21, lambda x: [x, x])),
    Claim("NUM109", "digits are lost below 1.1e-19", "1.1e-19",  # x**2 is subnormal
          boundary(lambda xp, x: x * x < float(np.finfo(np.float32).tiny), F32, 1e-21, 1e-17)),
    Claim("NUM110", "inf once x > 88.7", "88.7", boundary(lambda xp, x: xp.isinf(xp.sqrt(xp.exp(x))), F32, 80, 100)),
    Claim("NUM110", "0 once x < -104", "-104", boundary(lambda xp, x: xp.sqrt(xp.exp(x)) == 0, F32, -120, -90)),
    Claim("NUM111", "|x| < 3e-8 (float32", "3e-8",
          boundary(lambda xp, x: 0.5 * xp.log((1 + x) / (1 - x)) == 0, F32, 1e-9, 1e-7)),
    Claim("NUM111", "float16: 2.4e-4", "2.4e-4",
          boundary(lambda xp, x: 0.5 * xp.log((1 + x) / (1 - x)) == 0, F16, 1e-5, 1e-3)),
    Claim("NUM116", "p < 1.5e-5 in float16", "1.5e-5", boundary(lambda xp, p: xp.isinf(1 / p - 1), F16, 1e-6, 1e-4)),
    Claim("NUM116", "(float32: 2.9e-39)", "2.9e-39", boundary(lambda xp, p: xp.isinf(1 / p - 1), F32, 1e-40, 1e-37)),
    Claim("NUM116", "off by up to 0.69 near p = 1", "0.69", lambda xp: _reciprocal_logit_error(xp, F32)),
    Claim("NUM112", "|x| > 89.4", "89.4", boundary(lambda xp, x: xp.isinf(xp.log(xp.cosh(x))), F32, 80, 100)),
    Claim("NUM112", "float16: 11.8", "11.8", boundary(lambda xp, x: xp.isinf(xp.log(xp.cosh(x))), F16, 10, 13)),
    Claim("NUM113", "any x > 88.7", "88.7",
          boundary(lambda xp, x: xp.isinf(xp.log(xp.mean(xp.exp(x)))), F32, 80, 100, ROW)),
    Claim("NUM113", "all x < -104", "-104",
          boundary(lambda xp, x: xp.isinf(xp.log(xp.mean(xp.exp(x)))), F32, -120, -90, ALL)),
    Claim("NUM113", "float16: 11.1", "11.1",
          boundary(lambda xp, x: xp.isinf(xp.log(xp.mean(xp.exp(x)))), F16, 10, 13, ROW)),
    Claim("NUM113", "and -17.3", "-17.3",
          boundary(lambda xp, x: xp.isinf(xp.log(xp.mean(xp.exp(x)))), F16, -20, -15, ALL)),
    Claim("NUM114", "below 7e-46", "7e-46", boundary(lambda xp, v: v == 0, F32, 1e-47, 1e-44)),
    Claim("NUM114", "46 probabilities of 0.1", "46",
          first_count(lambda xp, n, dtype: bool(xp.prod(xp.array([0.1] * n, dtype)) == 0), F32, 400)),
    Claim("NUM114", "float64: 324", "324",
          first_count(lambda xp, n, dtype: bool(xp.prod(xp.array([0.1] * n, dtype)) == 0), "float64", 400)),
    Claim("NUM201", "any x > 88.7", "88.7",
          boundary(lambda xp, x: xp.isnan(xp.exp(x) / xp.sum(xp.exp(x))), F32, 80, 100, ROW)),
    Claim("NUM201", "all x < -104", "-104",
          boundary(lambda xp, x: xp.isnan(xp.exp(x) / xp.sum(xp.exp(x))), F32, -120, -90, ALL)),
    Claim("NUM202", "below x ≈ -88.7", "-88.7", boundary(lambda xp, x: xp.isinf(xp.exp(-x)), F32, -100, -80)),
    Claim("NUM202", "NaN above 88.7", "88.7",
          boundary(lambda xp, x: xp.isnan(xp.exp(x) / (1 + xp.exp(x))), F32, 80, 100)),
    Claim("NUM203", "above ~17", "17", boundary(lambda xp, x: xp.sigmoid(x) == 1, F32, 5, 30)),
    Claim("NUM206", "below 0.31 for target 1", "0.31", lambda xp: _loss_of_saturated_sigmoid(xp, 1.0)),
    Claim("NUM206", "or 0.69 for target 0", "0.69", lambda xp: _loss_of_saturated_sigmoid(xp, 0.0)),
    Claim("NUM204", "(1e-8: -18.4)", "-18.4", lambda xp: float(xp.log(xp.array([1e-8], F32))[0])),
    Claim("NUM204", "logit gap > 18", "18",
          boundary(lambda xp, g: xp.floor(xp.sigmoid(-g), 1e-8) == xp.array([1e-8], F32), F32, 5, 30)),
    Claim("NUM205", "once in 2**24 draws", "2**24", draw_resolution(_rand)),
    Claim("NUM205", "JAX: 2**23", "2**23", draw_resolution(_rand), ("jax",)),
    Claim("NUM405", "(float32: 1.0000001)", "1.0000001",
          lambda xp: float(np.nextafter(np.float32(1), np.float32(2))) if xp.name == "numpy"
          else float(torch.nextafter(torch.tensor(1.0), torch.tensor(2.0)))),
    Claim("NUM502", "(below 3e-8)", "3e-8", boundary(lambda xp, v: v == 0, F16, 1e-9, 1e-7)),
    Claim("NUM505", "largest number (65504)", "65504",
          lambda xp: float(np.finfo(np.float16).max) if xp.name == "numpy" else torch.finfo(torch.float16).max),
    Claim("NUM506", "d >= 3e-8", "3e-8", boundary(lambda xp, v: v == 1, F32, 1e-9, 1e-6, lambda d: [1 - d])),
    Claim("NUM506", "float16 2.4e-4", "2.4e-4", boundary(lambda xp, v: v == 1, F16, 1e-5, 1e-2, lambda d: [1 - d])),
    Claim("NUM506", "bfloat16 2e-3", "2e-3",
          boundary(lambda xp, v: v == 1, "bfloat16", 1e-5, 1e-1, lambda d: [1 - d]), ("torch",)),
    # tanh rounds to 1, so 1 - tanh(x)**2 is 0: PyTorch's float32 tanh at 9.01, NumPy's at 10.0
    Claim("NUM115", "|x| > 9 (float32 in PyTorch", "9", boundary(_log_det_inf, F32, 5, 15), ("torch",)),
    Claim("NUM115", "NumPy: 10", "10", boundary(_log_det_inf, F32, 5, 15), ("numpy",)),
    Claim("NUM115", "float16: 4.5", "4.5", boundary(_log_det_inf, F16, 2, 8), ("torch",)),
    Claim("NUM507", "once x > 11.09", "11.09", boundary(lambda xp, x: xp.isinf(xp.exp(x)), F16, 10, 13)),
    Claim("NUM507", "largest number is 65504", "65504",
          lambda xp: float(np.finfo(np.float16).max) if xp.name == "numpy" else torch.finfo(torch.float16).max),
    Claim("NUM507", "up to x = 88.7", "88.7", EXP_OVERFLOWS),
    Claim("NUM508", "from 65520 it rounds to inf", "65520", boundary(lambda xp, v: xp.isinf(v), F16, 65000, 70000)),
    Claim("NUM508", "largest number is 65504", "65504",
          lambda xp: float(np.finfo(np.float16).max) if xp.name == "numpy" else torch.finfo(torch.float16).max),
    # PyTorch multiplies a float16 tensor by a Python scalar in float32 and rounds the product
    Claim("NUM508", "|h| > 0.94", "0.94", boundary(lambda xp, h: xp.isinf(h * 7e4), F16, 0.5, 1.5), ("torch",)),
]

# Numbers in messages that are not claims about arithmetic: inputs of an example (`1e-8`, 45
# probabilities of `0.1`), the fix's own constant, and plain small integers.
NOT_CLAIMS = {"0", "1", "1.0", "2", "-1", "NUM204 1e-8", "NUM114 0.1", "NUM406 1e-6"}


def _framework(name: str):
    return {"torch": TORCH, "numpy": NUMPY}[name] if name != "jax" else _jax()


def _digits(number: str) -> int:
    mantissa = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return max(len(mantissa), 1)


def _agrees(number: str, measured: float) -> bool:
    """`measured`, rounded to the significant digits `number` is written with, is `number`."""
    if "**" in number:
        base, power = number.split("**")
        return measured == float(int(base) ** int(power))
    rounded = float(f"{measured:.{_digits(number) - 1}e}")
    return math.isclose(rounded, float(number), rel_tol=1e-12)


@pytest.mark.parametrize("claim, framework", [
    pytest.param(c, fw, id=f"{c.code}-{c.number}-{fw}") for c in CLAIMS for fw in c.frameworks
])
def test_the_number_a_message_states_is_the_measured_one(claim, framework):
    message = RULES[claim.code].message
    assert claim.words in message, f"{claim.code}'s message no longer says {claim.words!r}: {message}"
    assert claim.number in claim.words
    measured = claim.measure(_framework(framework))
    assert _agrees(claim.number, measured), (
        f"{claim.code} says {claim.words!r}, but {framework} measures {measured!r}: fix the message")


_CODE_SPAN = re.compile(r"`[^`]*`")
_NUMBER = re.compile(r"(?<![\w.*])-?\d+(?:\.\d+)?(?:e-?\d+)?(?:\*\*\d+)?(?![\w.*])")


def test_every_number_in_a_message_is_a_claim():
    """Numbers outside code spans are claims: each must be declared in CLAIMS with a measurement."""
    declared = {(c.code, c.number) for c in CLAIMS}
    unmeasured = []
    for rule in RULES.values():
        prose = _CODE_SPAN.sub(" ", rule.message)
        for number in _NUMBER.findall(prose.replace("−", "-")):
            if (rule.code, number) in declared or number in NOT_CLAIMS or f"{rule.code} {number}" in NOT_CLAIMS:
                continue
            unmeasured.append(f"{rule.code}: {number}")
    assert not unmeasured, f"numbers no claim measures (add them to CLAIMS): {unmeasured}"


def test_acos_at_the_clamp_bounds():
    """NUM405/NUM406: a clamp to exactly ±1 keeps an infinite gradient, ±(1 - 1e-6) does not."""
    for bound, finite in ((1.0, False), (1 - 1e-6, True)):
        c = torch.tensor([bound, -bound], dtype=torch.float32, requires_grad=True)
        torch.acos(c).sum().backward()
        assert bool(torch.isfinite(c.grad).all()) is finite


# -- the stable forms, in the half precisions the thresholds are about ------------------------------
#
# Just past each float16/bfloat16 threshold above, the rule's torch examples fail and their fixed
# forms (or, for rules that advise instead of fixing, the form the help names) hold, against a
# float64 reference.

def _run(code: str, **inputs):
    namespace = dict(inputs)
    exec(compile(code, "<example>", "exec"), namespace)
    return namespace


def _torch_examples(code: str):
    return [e for e in RULES[code].examples if e.framework == "torch" and e.bad and e.fixed]


HALF = ("float16", "bfloat16")


@pytest.mark.parametrize("dtype", HALF)
def test_num111_atanh_in_half_precision(dtype):
    x = torch.tensor([1e-4, -1e-4, 2e-5, 0.5], dtype=getattr(torch, dtype))  # below 2.4e-4 (bf16: 2e-3)
    exact = np.arctanh(x.double().numpy())
    for example in _torch_examples("NUM111"):
        bad, fixed = _run(example.bad, x=x)["y"], _run(example.fixed, x=x)["y"]
        assert (bad[:3] == 0).all() and bad.dtype == x.dtype
        assert np.allclose(fixed.double().numpy(), exact, rtol=1e-2)


def test_num116_gradient_near_one():
    """Near p = 1 the rounding of 1/p doubles the odds, and the gradient of `-log(1/p - 1)` is half
    the true 1 / (p (1 - p)); the fixed form's is right (float32, the largest p below 1)."""
    p64 = np.array([1 - 2.0 ** -24, 1 - 3 * 2.0 ** -24])
    exact = 1 / (p64 * (1 - p64))
    for example in _torch_examples("NUM116"):
        grads = []
        for code in (example.bad, example.fixed):
            p = torch.tensor(p64, dtype=torch.float32, requires_grad=True)
            _run(code, p=p)["y"].sum().backward()
            grads.append(np.abs(p.grad.double().numpy()))
        bad, fixed = grads
        assert np.allclose(fixed, exact, rtol=1e-3)
        assert np.abs(bad / exact - 1).max() > 0.3  # a factor 2 at the largest p below 1


@pytest.mark.parametrize("dtype, x", [("float16", [12.0, -12.0, 20.0, 0.5]), ("bfloat16", [90.0, -95.0, 0.5])])
def test_num112_log_cosh_in_half_precision(dtype, x):
    x = torch.tensor(x, dtype=getattr(torch, dtype))  # past 11.8 (bf16: 89.4)
    exact = np.log(np.cosh(x.double().numpy()))
    for example in _torch_examples("NUM112"):
        bad, fixed = _run(example.bad, x=x)["loss"], _run(example.fixed, x=x)["loss"]
        assert torch.isinf(bad[:-1]).all()
        assert torch.isfinite(fixed).all() and np.allclose(fixed.double().numpy(), exact, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("log_w", [[12.0, 0.0, 0.0], [-18.0, -18.0, -18.0]])
def test_num113_logsumexp_minus_log_n_in_float16(log_w):
    """Past float16's 11.1 and -17.3: the help's `logsumexp(x) - log(n)` is finite and right."""
    log_w = torch.tensor(log_w, dtype=torch.float16)
    exact = scipy.special.logsumexp(log_w.double().numpy()) - math.log(len(log_w))
    for example in RULES["NUM113"].examples:
        if example.framework == "torch" and example.bad:
            assert torch.isinf(_run(example.bad, log_w=log_w[:, None] if "dim=0" in example.bad else log_w)["bound"]).all()
    stable = torch.logsumexp(log_w, 0) - math.log(len(log_w))
    assert stable.dtype == torch.float16 and math.isclose(float(stable), exact, rel_tol=1e-2)


def test_num507_upcast_before_exp():
    """Past 11.09 the float16 exp is inf; upcast first, as the help says, and it is not."""
    [example] = [e for e in RULES["NUM507"].examples if e.framework == "torch" and e.bad]
    log_rate = torch.tensor([11.1, 12.0, -3.0])
    assert torch.isinf(_run(example.bad + "r = rate(log_rate)\n", log_rate=log_rate)["r"][:2]).all()
    upcast = log_rate.half().float().exp()
    assert torch.isfinite(upcast).all() and np.allclose(upcast.numpy(), np.exp(log_rate.half().double().numpy()), rtol=1e-6)
