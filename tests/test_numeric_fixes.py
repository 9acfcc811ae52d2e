"""Every fix proven with real numerics, from the rules' own examples.

For each bad example with a fixed form, both are executed in their framework (NumPy/SciPy and
PyTorch always; JAX, TensorFlow and Keras when installed) on the inputs the rule's `[numeric]`
table describes:

- ordinary inputs: the fixed code equals the original (tolerance per dtype), both finite;
- extreme inputs: the fixed code is finite and equals a float64 reference (the fixed code run on
  the same inputs in float64), and the original is shown to fail on at least one of them:
  overflow, underflow, NaN or cancellation far beyond the tolerance.
"""

from __future__ import annotations

import ast
import importlib.util

import numpy as np
import pytest

from numlint.rules import registry

RULES = registry()
RTOL = {"float16": 2e-2, "float32": 2e-3, "float64": 1e-8}
FRAMEWORKS = ("numpy", "scipy", "torch", "jax", "tensorflow", "keras", "math")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


MODULE = {"math": "math", "numpy": "numpy", "scipy": "scipy", "torch": "torch", "jax": "jax", "tensorflow": "tensorflow", "keras": "keras"}


def _to_framework(framework: str, array: np.ndarray):
    if framework == "math":
        return array.ravel().tolist()  # plain Python floats
    if framework == "python":
        return float(array)
    if framework in ("numpy", "scipy", "keras"):
        return array
    if framework == "torch":
        import torch

        return torch.from_numpy(array.copy())
    if framework == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        return jnp.asarray(array)
    if framework == "tensorflow":
        import tensorflow as tf

        return tf.constant(array)
    raise AssertionError(framework)


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def _tf1(code: str) -> str:
    """Run TF 1.x examples (`tf.log`, `reduction_indices`) through TensorFlow 2's tf.compat.v1."""
    if any(name in code for name in ("tf.log(", "reduction_indices", "keep_dims")):
        return code.replace("import tensorflow as tf", "import tensorflow.compat.v1 as tf")
    return code


def _result_name(code: str) -> str:
    last = ast.parse(code).body[-1]
    assert isinstance(last, ast.Assign) and isinstance(last.targets[0], ast.Name), "example must end in `name = ...`"
    return last.targets[0].id


def run(code: str, framework: str, inputs: dict, result: str = None, scalar: bool = False) -> np.ndarray:
    if framework == "math" and scalar:
        # math functions take numbers: run the example once per element
        flat = {name: value.ravel() for name, value in inputs.items()}
        size = len(next(iter(flat.values())))
        values = [run(code, "python", {k: v[i] for k, v in flat.items()}, result) for i in range(size)]
        return np.asarray(values, dtype=np.float64).reshape(next(iter(inputs.values())).shape)
    if framework == "tensorflow":
        code = _tf1(code)
    namespace = {name: _to_framework(framework, value) for name, value in inputs.items()}
    namespace["model"] = _identity  # examples may say `model(x)` for "the network's output"
    exec(compile(code, "<example>", "exec"), namespace)
    return _to_numpy(namespace[result or _result_name(code)])


def gradients(code: str, framework: str, inputs: dict, result: str = None):
    """d sum(w * result) / d input for each input, with autograd (torch, jax); None elsewhere.

    The weights w are fixed and uneven: with plain sum(), a softmax's gradient is exactly 0.
    """
    name = result or _result_name(code)
    if framework == "torch":
        import torch

        tensors = {k: torch.from_numpy(v.copy()) for k, v in inputs.items()}
        for key in _floats(inputs):
            tensors[key].requires_grad_(True)
        namespace = dict(tensors)
        exec(compile(code, "<example>", "exec"), namespace)
        out = namespace[name]
        (out * torch.as_tensor(_weights(out.shape), dtype=out.dtype)).sum().backward()
        # an input the example does not use has no gradient: it is zero
        return [_to_numpy(tensors[k].grad) if tensors[k].grad is not None else np.zeros(inputs[k].shape) for k in _floats(inputs)]
    if framework == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        keys = _floats(inputs)

        def total(*values):
            namespace = {**inputs, **dict(zip(keys, values))}
            exec(compile(code, "<example>", "exec"), namespace)
            out = namespace[name]
            return (out * _weights(out.shape)).sum()

        values = [jax.numpy.asarray(inputs[k]) for k in keys]
        return [_to_numpy(g) for g in jax.grad(total, argnums=tuple(range(len(keys))))(*values)]
    if framework == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tensors = {k: tf.constant(v) for k, v in inputs.items()}
            for key in _floats(inputs):
                tape.watch(tensors[key])
            namespace = dict(tensors)
            exec(compile(_tf1(code), "<example>", "exec"), namespace)
            out = namespace[name]
            total = tf.reduce_sum(out * tf.constant(_weights(out.shape), dtype=out.dtype))
        grads = tape.gradient(total, [tensors[k] for k in _floats(inputs)])
        return [_to_numpy(g) if g is not None else np.zeros(inputs[k].shape) for g, k in zip(grads, _floats(inputs))]
    return None


def _float64(inputs: dict) -> dict:
    return {k: v.astype("float64") if k in _floats(inputs) else v for k, v in inputs.items()}


def _identity(value):
    return value


def _floats(inputs: dict) -> list:
    """The inputs that have gradients: floating arrays, not integer labels."""
    return [k for k, v in inputs.items() if np.issubdtype(v.dtype, np.floating)]


def _weights(shape) -> np.ndarray:
    return np.random.default_rng(1).uniform(0.5, 1.5, size=tuple(shape))


def _scalar(rule) -> bool:
    """Rules whose `math` examples take one number (`math.log1p(x)`), not a list."""
    return bool(rule.numeric.get("scalar", False))


def _cases(rule, kind):
    for raw in rule.numeric.get(kind, []):
        # each case: an input expression for `x`, or a table of inputs with an optional dtype
        case = raw if isinstance(raw, dict) else {"x": raw}
        dtype = case.get("dtype", "float32")
        yield {k: v for k, v in case.items() if k != "dtype"}, dtype


def _inputs(case: dict, dtype: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for name, expr in case.items():
        value = np.asarray(eval(expr, {"rng": rng, "np": np}))
        # integer inputs (class labels) and masks stay as they are; the rest takes the case's dtype
        keep = np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_
        out[name] = value if keep else value.astype(dtype)
    return out


# Rules whose proofs run in a file of their own, `tests/test_numeric_fixes_<family>.py`.
OWN_FILES = {"log": frozenset(f"NUM{n}" for n in (*range(111, 120), *range(204, 210)))}


def _examples(family=None):
    own = frozenset().union(*OWN_FILES.values())
    for rule in RULES.values():
        if (rule.code in own) != (family is not None) or (family is not None and rule.code not in OWN_FILES[family]):
            continue
        for index, example in enumerate(rule.examples):
            if example.bad and example.fixed and example.framework in FRAMEWORKS:
                yield pytest.param(rule, example, id=f"{rule.code}-{index}-{example.framework}")


def _require(framework: str) -> None:
    if not _installed(MODULE[framework]):
        pytest.skip(f"{framework} is not installed here (CI installs numpy, scipy, torch and jax)")


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-30)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rtol * scale))


@pytest.mark.parametrize("rule, example", list(_examples()))
def test_fix_equals_original_on_ordinary_inputs(rule, example):
    _require(example.framework)
    cases = list(_cases(rule, "ordinary"))
    assert cases, f"{rule.code} has fixes but no [numeric] ordinary inputs"
    for case, dtype in cases:
        inputs = _inputs(case, dtype)
        before = run(example.bad, example.framework, inputs, example.result, _scalar(rule))
        after = run(example.fixed, example.framework, inputs, example.result, _scalar(rule))
        assert np.all(np.isfinite(before)) and np.all(np.isfinite(after))
        assert _close(after, before, RTOL[dtype]), (before, after)


@pytest.mark.parametrize("rule, example", list(_examples()))
def test_fix_is_finite_and_correct_where_original_fails(rule, example):
    _require(example.framework)
    cases = list(_cases(rule, "extreme"))
    assert cases, f"{rule.code} has fixes but no [numeric] extreme inputs"
    original_failed = []
    for case, dtype in cases:
        inputs = _inputs(case, dtype)
        reference = run(example.fixed, example.framework, _float64(inputs), example.result, _scalar(rule))
        assert np.all(np.isfinite(reference))
        after = run(example.fixed, example.framework, inputs, example.result, _scalar(rule))
        assert np.all(np.isfinite(after)), f"fixed code not finite on {case}"
        if rule.numeric.get("extreme-check") == "finite":
            reference = after  # no exact value to compare with (a clamp to the dtype's floor)
        assert _close(after, reference, RTOL[dtype] * 5), (case, after, reference)
        try:
            with np.errstate(all="ignore"):
                before = run(example.bad, example.framework, inputs, example.result, _scalar(rule))
            failed = not np.all(np.isfinite(before)) or not _close(before, reference, 0.1)
        except (OverflowError, ValueError, ZeroDivisionError):  # plain Python raises instead
            failed = True
        if rule.numeric.get("gradient"):
            failed = _gradient_check(example, inputs, dtype) or failed
        original_failed.append(failed)
    assert any(original_failed), "the original never failed: the hazard is not shown on these inputs"


def _gradient_check(example, inputs: dict, dtype: str) -> bool:
    """Fixed gradients finite and right; returns whether the original's gradient failed."""
    reference = gradients(example.fixed, example.framework, _float64(inputs), example.result)
    if reference is None:
        return False
    after = gradients(example.fixed, example.framework, inputs, example.result)
    before = gradients(example.bad, example.framework, inputs, example.result)
    for a, b, r in zip(after, before, reference):
        assert np.all(np.isfinite(a)), "the fixed code's gradient is not finite"
        assert _close(a, r, RTOL[dtype] * 5), (a, r)
    return any(not np.all(np.isfinite(b)) or not _close(b, r, 0.1) for b, r in zip(before, reference))


@pytest.mark.parametrize("rule, example", [p for p in _examples() if p.values[0].numeric.get("gradient")])
def test_fix_gradient_equals_original_on_ordinary_inputs(rule, example):
    _require(example.framework)
    if example.framework not in ("torch", "jax", "tensorflow"):
        pytest.skip("gradients are checked with torch, jax and tensorflow autograd")
    for case, dtype in _cases(rule, "ordinary"):
        inputs = _inputs(case, dtype)
        before = gradients(example.bad, example.framework, inputs, example.result)
        after = gradients(example.fixed, example.framework, inputs, example.result)
        for a, b in zip(after, before):
            assert np.all(np.isfinite(a)) and _close(a, b, RTOL[dtype]), (a, b)


def test_every_fixable_rule_has_numeric_cases():
    for rule in RULES.values():
        if rule.fixable:
            assert rule.numeric.get("ordinary") and rule.numeric.get("extreme"), rule.code

