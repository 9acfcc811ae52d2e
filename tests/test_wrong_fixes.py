"""Wrong fixes and wrong silences seen when stable forms in real library code were rewritten into
naive ones (issue 11), each through the real CLI, with the twins that must keep working."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


def check(tmp_path: Path, code: str, *args: str):
    path = tmp_path / "case.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "numlint", "check", "--no-cache", "--output-format", "json", "--exit-zero", *args,
         str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), path


def fixed(tmp_path: Path, code: str) -> str:
    path = tmp_path / "case.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "numlint", "check", "--no-cache", "--fix", "--unsafe-fixes", str(path)],
                   capture_output=True, text=True, timeout=120)
    return path.read_text(encoding="utf-8")


HELPER_OF_ANOTHER_VALUE = """
    import torch

    def helper(x):
        return x.mean(dim=1)

    def spread(x, z):
        return (x ** 2).mean(dim=1) - helper(z) ** 2
"""


def test_a_helpers_parameter_is_not_the_callers_variable_of_the_same_name(tmp_path):
    """`helper(z)` returns a mean of *its* `x`: here z, not the caller's x. Matching by spelling
    reported this and rewrote it to `x.var(dim=1, correction=0)`, a different value."""
    findings, _ = check(tmp_path, HELPER_OF_ANOTHER_VALUE)
    assert findings == []
    assert fixed(tmp_path, HELPER_OF_ANOTHER_VALUE) == textwrap.dedent(HELPER_OF_ANOTHER_VALUE)


def test_the_same_helper_called_with_the_callers_value_is_the_variance(tmp_path):
    findings, _ = check(tmp_path, """
        import torch

        def helper(x):
            return x.mean(dim=1)

        def spread(x):
            return (x ** 2).mean(dim=1) - helper(x) ** 2
    """)
    assert [f["code"] for f in findings] == ["NUM301"]


def test_same_name_in_another_function_is_another_value(tmp_path):
    findings, _ = check(tmp_path, """
        import torch

        def first(x):
            m = x.mean()
            return m

        def second(x, y):
            m = y.mean()
            return (x ** 2).mean() - m ** 2
    """)
    assert findings == []


def test_a_shadowing_reassignment_is_another_value(tmp_path):
    findings, _ = check(tmp_path, """
        import torch

        def f(x, y):
            m = x.mean()
            x = y
            return (x ** 2).mean() - m ** 2
    """)
    assert findings == []


def test_a_shift_guards_only_the_reduction_along_its_axis(tmp_path):
    findings, _ = check(tmp_path, """
        import torch

        def f(logits):
            shifted = logits - logits.max(1, keepdim=True)[0]
            return torch.log(torch.sum(torch.exp(shifted), dim=0))
    """)
    assert [f["code"] for f in findings] == ["NUM101"]


def test_a_shift_along_the_reduced_axis_still_guards(tmp_path):
    findings, _ = check(tmp_path, """
        import torch

        def f(logits):
            shifted = logits - logits.max(1, keepdim=True)[0]
            return torch.log(torch.sum(torch.exp(shifted), dim=1))
    """)
    assert findings == []


def test_the_variance_of_a_parenthesised_operand_is_found(tmp_path):
    findings, _ = check(tmp_path, """
        import numpy as np
        v = np.mean((y) ** 2) - np.mean(y) ** 2
        w = np.mean((a - b) ** 2) - np.mean(a - b) ** 2
    """)
    assert [f["code"] for f in findings] == ["NUM301", "NUM301"]


def test_a_division_fix_keeps_a_norm_that_is_still_used(tmp_path):
    code = """
        import torch

        def f(feat):
            feat_norm = torch.norm(feat, 2, 1, True)
            out = feat / feat_norm
            return out, feat_norm
    """
    result = fixed(tmp_path, code)
    assert "feat_norm = torch.norm(feat, 2, 1, True)" in result
    compile(result, "case.py", "exec")


def test_a_division_fix_with_positional_norm_arguments_compiles_and_defines_its_names(tmp_path):
    code = """
        import torch

        def f(feat):
            feat_norm = torch.norm(feat, 2, 1, True)
            return feat / feat_norm
    """
    result = fixed(tmp_path, code)
    assert "feat_norm" not in result or "feat_norm =" in result
    namespace: dict = {}
    exec(compile(result, "case.py", "exec"), namespace)
    import torch

    feat = torch.tensor([[3.0, 4.0], [0.6, 0.8]])
    assert torch.allclose(namespace["f"](feat), feat / feat.norm(dim=1, keepdim=True))


IN_PLACE_INSIDE = """
    import torch

    def distance(x, w):
        d = (x - w).pow(2).sum(-1)
        return torch.sqrt(d.clamp_(min=0))
"""


def test_an_in_place_call_inside_a_match_is_not_rewritten(tmp_path):
    """`d.clamp_(min=0)` also updates d: a rewrite to `d.clamp(min=eps)` would drop that, so the
    finding is advice."""
    findings, _ = check(tmp_path, IN_PLACE_INSIDE, "--select", "NUM407")
    assert [f["code"] for f in findings] == ["NUM407"]
    assert findings[0]["fix"] is None and "in place" in findings[0]["help"]
    assert fixed(tmp_path, IN_PLACE_INSIDE) == textwrap.dedent(IN_PLACE_INSIDE)


def test_an_in_place_fill_is_fixed_in_place(tmp_path):
    """`scores.masked_fill_(mask, -inf)` read by a later softmax: the fix keeps the method that
    updates scores (`masked_fill` would leave scores unmasked)."""
    code = """
        import torch

        def attend(scores, mask):
            scores.masked_fill_(mask, float("-inf"))
            return scores.softmax(-1)
    """
    assert "scores.masked_fill_(mask, torch.finfo(scores.dtype).min)" in fixed(tmp_path, code)


def test_a_test_that_takes_no_gradient_has_no_gradient_hazard(tmp_path):
    """An RMSE compared in a test (Keras' quantizer tests) is never differentiated; the same
    distance in a test that calls backward() is reported."""
    findings, _ = check(tmp_path, """
        import torch

        def test_error(kernel, dequantized):
            rmse = torch.sqrt(torch.mean(torch.square(kernel - dequantized)))
            assert rmse < 0.15

        def test_gradient(a, b):
            d = torch.sqrt(torch.sum(torch.square(a - b), dim=-1))
            d.sum().backward()
    """, "--select", "NUM402")
    assert [(f["code"], f["location"]["row"]) for f in findings] == [("NUM402", 9)]
