"""Inputs that used to kill the run: deep nesting (a segfault in libcst's native parser), huge
files and lines (gigabytes of memory, minutes). Each is refused in one line for its file, and the
run goes on (issue 11, "Crashes and limits"). Figures: docs/reliability.md, "Limits".
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from numlint import limits
from numlint.checker import check_text
from numlint.rules import registry

LSE = "torch.log(torch.sum(torch.exp(x), dim=1))"
HAZARD = f"import torch\ny = {LSE}\n"
ORDINARY = "ordinary.py:2:5: NUM101"

DEEP = {
    # name: (text, the start of its one line of report)
    "brackets-1500": ("import torch\ny = " + "(" * 1500 + LSE + ")" * 1500 + "\n",
                      "brackets-1500.py:2:205: error: cannot check: nested 1503 deep (limit 200)"),
    "calls-1300": ("import torch\ny = " + "torch.exp(" * 1300 + "x" + ")" * 1300 + f"\nz = {LSE}\n",
                   "calls-1300.py:2:"),
    "attributes-6000": ("import torch\ny = a" + ".b" * 6000 + f"\nz = {LSE}\n",
                        "attributes-6000.py:2:1006: error: cannot check: a chain of 6000 attributes, calls and subscripts (limit 500)"),
    "method-chain-3000": ("import torch\ny = x" + ".exp()" * 3000 + f"\nz = {LSE}\n",
                          "method-chain-3000.py:2:"),
    "subscripts-2000": ("import torch\ny = x" + "[0]" * 2000 + f"\nz = {LSE}\n", "subscripts-2000.py:2:"),
}


def numlint(*args, cwd, timeout=300):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "numlint", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_deep_nesting_is_one_line_and_the_run_goes_on(tmp_path, jobs):
    (tmp_path / "ordinary.py").write_text(HAZARD)
    for name, (text, _) in DEEP.items():
        (tmp_path / f"{name}.py").write_text(text)
    result = numlint("check", "--no-cache", "-j", jobs, "--output-format", "concise", ".", cwd=tmp_path)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)  # -11 before: a segfault
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(ORDINARY) for line in lines)
    for name, (_, expected) in DEEP.items():
        mine = [line for line in lines if line.startswith(f"{name}.py:")]
        assert len(mine) == 1 and mine[0].startswith(expected) and "error: cannot check:" in mine[0], mine


def test_deep_nesting_under_fix_writes_nothing(tmp_path):
    for name, (text, _) in DEEP.items():
        (tmp_path / f"{name}.py").write_text(text)
    result = numlint("check", "--fix", "--no-cache", "--output-format", "concise", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    for name, (text, _) in DEEP.items():
        assert (tmp_path / f"{name}.py").read_text() == text


def test_the_language_server_survives_deep_nesting(tmp_path):
    from lsp_client import Server

    server = Server(tmp_path)
    try:
        server.initialize(tmp_path)
        for name, (text, _) in DEEP.items():
            server.open(tmp_path / f"{name}.py", text)  # answered, not a dead server
        diagnostics = server.open(tmp_path / "ordinary.py", HAZARD)
        assert [d["code"] for d in diagnostics] == ["NUM101"]
        assert server.process.poll() is None
    finally:
        server.close()


def test_nesting_within_the_limits_is_checked():
    text = "import torch\ny = " + "(" * 190 + LSE + ")" * 190 + "\nz = a" + ".b" * 450 + "\n"
    findings, errors = check_text(text, list(registry().values()))
    assert errors == [] and [f.code for f in findings] == ["NUM101"]


@pytest.mark.parametrize("text, depth, chain", [
    ("x = f(a)[0].b(c)\n", 1, 4),
    ("x = (1, [2, {3: (4,)}])\n", 4, 0),
    ("x = '((((' + \"[[\" + '''\n((\n'''  # ((((\n", 0, 0),
    ("x = (df\n  .a()  # note\n  .b()\n  .c)\n", 2, 5),
    ("if (a):\n    return (b) and not (c)\n", 1, 0),
    ("s = 'a\\'(' + r'\\'' + \"\\\"(\"\n", 0, 0),
    ("x = \"a\".join(y).split()\n", 1, 4),
])
def test_measure(text, depth, chain):
    found = limits.measure(text)
    assert (found.depth, found.chain) == (depth, chain)


@pytest.mark.parametrize("text, operators", [
    ("x = a + b * c - d\n", 3),
    ("x = f(a + b, c + d + e) + g\n", 2),  # each level and each argument counts apart
    ("x = (a +\n     b +\n     c)\ny = 1 + 2\n", 2),  # one expression across lines in brackets
    ("s = '+ + + +' + t  # + + +\n", 1),  # strings and comments are not operators
    ("x += 1; y -= 2\n", 1),
])
def test_measure_operators(text, operators):
    assert limits.measure(text).operators == operators


def test_a_long_operator_chain_is_refused_in_one_line():
    """libcst takes 43 s to parse `1 + 1 + ...` with 5,000 terms; beyond 1,000 the file is refused."""
    # `exp(x) - ...` could be NUM107's `exp(x) - 1`: a file a rule could match is parsed (or refused)
    findings, errors = check_text("import torch\ny = torch.exp(x) - " + " + ".join(["1"] * 1500) + "\n",
                                  list(registry().values()))
    assert findings == [] and [(e.location.row, e.message) for e in errors] == [
        (2, "cannot check: 1,500 operators in one expression (limit 1,000)")]
    findings, errors = check_text(f"import torch\nz = {LSE}\ny = " + " + ".join(["1"] * 900) + "\n",
                                  list(registry().values()))
    assert errors == [] and [f.code for f in findings] == ["NUM101"]


def test_measure_the_corpus_shapes_stay_far_below_the_limits():
    """The deepest nesting, longest chain and most operators in one expression in the pinned corpus
    (7,166 files) are 9, 22 and 50."""
    for path in sorted(Path(__file__).resolve().parents[1].joinpath("src", "numlint").rglob("*.py")):
        found = limits.measure(path.read_text(encoding="utf-8"))
        assert found.depth <= 12 and found.chain <= 30 and found.operators <= 60, (path, found)


def test_size_and_line_limits_are_one_line_each(tmp_path):
    (tmp_path / "ordinary.py").write_text(HAZARD)
    block = f"def f(x):\n    return {LSE}\n\n"
    (tmp_path / "big.py").write_text("import torch\n" + block * (limits.MAX_CHARACTERS // len(block) + 1))
    (tmp_path / "long.py").write_text("import torch\ntable = [" + "1, " * (limits.MAX_LINE // 3 + 1) + f"]\ny = {LSE}\n")
    (tmp_path / "data.py").write_text("TABLE = [" + "1, " * (limits.MAX_CHARACTERS // 3) + "]\n")  # nothing numeric
    started = time.monotonic()
    result = numlint("check", "--no-cache", "--quiet", "--output-format", "concise", ".", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = sorted(result.stdout.splitlines())
    chars = len((tmp_path / "big.py").read_text())
    assert lines == [
        f"big.py:1:1: error: cannot check: the file holds {chars:,} characters (limit {limits.MAX_CHARACTERS:,})",
        f"long.py:2:1: error: cannot check: a line of {limits.MAX_LINE + 12:,} characters (limit {limits.MAX_LINE:,})",
        ORDINARY + " `log(sum(exp(x)))` overflows to inf once any x > 88.7 (float32) and is -inf when every x < -104",
    ], lines
    assert time.monotonic() - started < 120  # refused before parsing (a loose bound: CI machines vary)


def test_a_file_beyond_reason_is_not_even_read(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    from numlint.config import Settings
    from numlint.runner import check_file

    (tmp_path / "m.py").write_text(HAZARD + "#" * 2000 + "\n")
    rules = registry()
    result = check_file(tmp_path / "m.py", rules, frozenset(rules), Settings(root=tmp_path))
    assert [e.message for e in result.errors] == [f"cannot check: the file holds {len(HAZARD) + 2001:,} bytes (limit 1,000)"]


# A recursive function passes its parameter on at every call site: the parameter's value comes
# from each of them, and each passes the parameter again. Looking through values path by path
# was 9 call sites to the 8th power of attempts for one comparison (jax's mosaic/gpu/utils.py
# hung the run for hours); patterns.Matcher tries each (pattern, node) a bounded number of times.
RECURSIVE = '''\
import numpy as np

MISSING = np.nan


def divisible(value, divisor: int, depth=10) -> bool:
    if divisor == 1:
        return True
    step = depth - 1
    fallback = np.nan
    match value:
        case 0:
            return divisible(value + 1, divisor, step)
        case 1:
            return divisible(value * 2, divisor, step) or divisible(value - 1, divisor, step)
        case 2:
            return divisible(value // 2, divisor, step) and divisible(value + 3, divisor, step)
        case 3:
            return divisible(value + 2, divisor, step) or divisible(value * 3, divisor, step)
        case _:
            return divisible(value - 2, divisor, step) and divisible(value - 3, divisor, step)


def use(x):
    return divisible(x, 4) and divisible(x, 8) and fallback == np.nan
'''


def test_a_parameter_passed_on_by_every_recursive_call_does_not_hang_the_run(tmp_path):
    (tmp_path / "recursive.py").write_text(RECURSIVE)
    (tmp_path / "ordinary.py").write_text(HAZARD)
    result = numlint("check", "--no-cache", "-j", "1", "--output-format", "concise", ".", cwd=tmp_path, timeout=120)
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert any(line.startswith(ORDINARY) for line in lines)
    assert any(line.startswith("recursive.py:") and "NUM503" in line for line in lines), lines  # still found
