"""Operator-shaped hazards across modules, through the real CLI: a helper in `_helpers.py`
returns `exp(a) + exp(b)`, `mean(x)`, `(1 + x) / (1 - x)`, an expanded square distance or a
finite mask fill, and the file importing it makes the hazard (`log(h(a, b))`, `mean(x**2) -
h(x)**2`...). The helper's summary carries the shape of what it returns (summaries.py), so these
are found as when the helper is in the same module; the finding says where the value is made, and
is advice (a fix never crosses files). Stable helpers, unresolved imports and shadowed names stay
silent."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HELPERS = """
    import numpy as np
    import torch


    def pair(a, b):
        q = np.exp(a) + np.exp(b)
        return q


    def center(x):
        return torch.mean(x, dim=-1, keepdim=True)


    def ratio(x):
        return (1 + x) / (1 - x)


    def sqdist(p):
        d = p.pow(2).sum(-1, keepdim=True) + p.pow(2).sum(-1, keepdim=True).transpose(-2, -1) - 2 * p @ p.transpose(-2, -1)
        return d


    def fill():
        return -1e9


    def head(v, n):
        return np.mean(v[:n])


    def stable_pair(a, b):
        return np.logaddexp(a, b)


    def stable_var(x):
        return torch.var(x, dim=-1, keepdim=True, unbiased=False)
"""

USES = """
    import numpy as np
    import torch
    from ._helpers import pair, center, ratio, sqdist, fill, head


    def f(a, b, x, p, s, mask, v, n):
        lse = np.log(pair(a, b))
        var = torch.mean(x ** 2, dim=-1, keepdim=True) - center(x) ** 2
        z = 0.5 * torch.log(ratio(x))
        dist = torch.sqrt(sqdist(p))
        attn = s.half().masked_fill(mask, fill())
        probs = torch.softmax(attn, dim=-1)
        w = np.mean(v[:n] ** 2) - head(v, n) ** 2
        return lse, var, z, dist, probs, w
"""

SILENT = """
    import numpy as np
    import torch
    from ._helpers import stable_pair, stable_var
    from ._missing import pair as lost
    from ._helpers import center


    def center(x):  # shadows the import: this one is the one called
        return x


    def g(a, b, x):
        lse = np.log(stable_pair(a, b))
        std = torch.sqrt(stable_var(x))
        other = np.log(lost(a, b))
        var = torch.mean(x ** 2, dim=-1, keepdim=True) - center(x) ** 2
        return lse, std, other, var
"""


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def check(root: Path, *args: str) -> list:
    result = subprocess.run(
        [sys.executable, "-m", "numlint", "check", "--output-format", "json", "--exit-zero", "--select", "NUM", *args, "."],
        cwd=root, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return sorted((Path(f["filename"]).name, f["location"]["row"], f["code"], f.get("help") or "", f.get("fix"))
                  for f in json.loads(result.stdout))


def package(tmp_path: Path, uses: str = USES) -> Path:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/_helpers.py": HELPERS, "pkg/uses.py": uses})
    return tmp_path


EXPECTED = [
    ("uses.py", 7, "NUM105"),   # log(exp(a) + exp(b)), the sum made in pair()
    ("uses.py", 8, "NUM301"),   # mean(x**2) - mean(x)**2, the mean made in center()
    ("uses.py", 9, "NUM111"),   # 0.5 * log((1 + x) / (1 - x)), the ratio made in ratio()
    ("uses.py", 10, "NUM302"),  # sqrt(|p|² + |p|² - 2 p·p), expanded in sqdist()
    ("uses.py", 11, "NUM505"),  # a float16 fill of -1e9, returned by fill()
    ("uses.py", 13, "NUM301"),  # the mean of v[:n] made in head(v, n): the slice's bound is the caller's n
]


def test_operator_shaped_hazards_are_found_through_a_helper_of_another_module(tmp_path):
    found = check(package(tmp_path), "--no-cache")
    assert [(name, row, code) for name, row, code, _, _ in found] == EXPECTED


def test_the_finding_says_where_the_value_is_made_and_is_advice(tmp_path):
    found = check(package(tmp_path), "--no-cache")
    assert all(fix is None for *_, fix in found)  # a fix never crosses files
    helps = {row: text for _, row, _, text, _ in found}
    assert "`pair(a, b)` returns a value made at pkg/_helpers.py:6" in helps[7].replace("\\", "/")  # q = ...
    assert "`center(x)` returns a value made at pkg/_helpers.py:11" in helps[8].replace("\\", "/")
    assert "pkg/_helpers.py:15" in helps[9].replace("\\", "/")


def test_the_same_hazards_in_one_module_are_found_too(tmp_path):
    """The reference: the helper in the same module is looked into by the analysis itself, and
    `head(v, n)`'s `v[:n]` is the caller's slice (a parameter every call site passes one
    expression is that expression, as the shape puts the caller's `v` and `n` in their place)."""
    one = textwrap.dedent(HELPERS) + "\n\n" + "\n".join(
        line for line in textwrap.dedent(USES).splitlines() if not line.startswith(("from ._helpers", "import ")))
    write(tmp_path, {"one.py": one})
    codes = [code for _, _, code, _, _ in check(tmp_path, "--no-cache")]
    assert sorted(codes) == sorted(code for _, _, code in EXPECTED)


def test_stable_helpers_unresolved_imports_and_shadowed_names_are_silent(tmp_path):
    assert check(package(tmp_path, SILENT), "--no-cache") == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_serial_parallel_and_cached_runs_agree(tmp_path, jobs):
    files = {"pkg/__init__.py": "", "pkg/_helpers.py": HELPERS, "pkg/uses.py": USES}
    for i in range(8):  # enough files for worker processes to be used
        files[f"pkg/more{i}.py"] = "import numpy as np\nfrom ._helpers import pair\ny = np.log(pair(a, b))\n"
    write(tmp_path, files)
    cold = check(tmp_path, "--no-cache", "-j", jobs)
    assert [(n, r, c) for n, r, c, _, _ in cold if n == "uses.py"] == EXPECTED
    assert [(n, c) for n, _, c, _, _ in cold if n != "uses.py"] == [(f"more{i}.py", "NUM105") for i in range(8)]
    cache = ["--cache-dir", str(tmp_path / ".numlint_cache"), "-j", jobs]
    assert check(tmp_path, *cache) == cold  # filling the cache
    assert check(tmp_path, *cache) == cold  # from it


def test_a_cached_result_goes_stale_when_the_helper_becomes_stable(tmp_path):
    root = package(tmp_path)
    cache = ["--cache-dir", str(tmp_path / ".numlint_cache")]
    assert [(n, r, c) for n, r, c, _, _ in check(root, *cache)] == EXPECTED
    write(tmp_path, {"pkg/_helpers.py": HELPERS.replace("q = np.exp(a) + np.exp(b)", "q = np.logaddexp(a, b)")})
    assert [(n, r, c) for n, r, c, _, _ in check(root, *cache)] == [e for e in EXPECTED if e[2] != "NUM105"]


def test_a_shape_is_data_validated_and_bounded():
    """A planted cache entry's shapes are checked node by node: a kind, operator, parameter or
    size it does not expect drops the shape, and the rest of the summary still holds."""
    from numlint.summaries import SHAPE_NODES, decode

    good = {"t": "b", "o": "+", "k": [{"t": "p", "i": 0, "n": "a"}, {"t": "n", "v": 1.0, "i": False}]}
    bad = [
        {"t": "b", "o": "__import__('os')", "k": good["k"]},
        {"t": "p", "i": -1, "n": "a"},
        {"t": "p", "i": 0, "n": "a; b"},
        {"t": "m", "a": "sum", "k": [good], "kw": ["x y"]},
        {"t": "x"},
        {"t": "n", "v": float("inf"), "i": False},
        {"t": "b", "o": "+", "k": [good, good], "op": {"op": "add", "s": "operator", "fw": [], "args": {"x": [5, False]}}},
    ]
    deep = {"t": "p", "i": 0, "n": "a"}
    for _ in range(SHAPE_NODES + 1):
        deep = {"t": "u", "k": [deep]}
    for shape in bad + [deep]:
        value = decode({"callee": {"kind": "function", "output": {"constant": 2.0},
                                   "shape": [{"at": "m.py:1", "e": shape}]}})
        assert value.callee.shape == () and value.callee.output.constant == 2.0, shape
    value = decode({"callee": {"kind": "function", "output": {}, "shape": [{"at": "m.py:1", "e": good}]}})
    assert value.callee.shape == ({"at": "m.py:1", "e": good},)


def test_a_cached_summary_is_made_again_for_a_function_newly_looked_through(tmp_path):
    """The cached summary of `_helpers.py` has shapes for the functions checks looked through
    then; a file that now calls another one gets that one's shape (the helper is unchanged)."""
    first = "import numpy as np\nfrom ._helpers import pair\n\ndef f(a, b):\n    return np.log(pair(a, b))\n"
    write(tmp_path, {"pkg/__init__.py": "", "pkg/_helpers.py": HELPERS, "pkg/uses.py": first})
    cache = ["--cache-dir", str(tmp_path / ".numlint_cache")]
    assert [(n, r, c) for n, r, c, _, _ in check(tmp_path, *cache)] == [("uses.py", 5, "NUM105")]
    write(tmp_path, {"pkg/uses.py": first.replace("pair\n", "pair, ratio\nimport torch\n") +
                     "\ndef g(x):\n    return 0.5 * torch.log(ratio(x))\n"})
    assert [(n, r, c) for n, r, c, _, _ in check(tmp_path, *cache)] == [("uses.py", 6, "NUM105"), ("uses.py", 9, "NUM111")]
