"""numlint as a flake8 plugin, run as a user runs it: `flake8 --select NUM` in a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("flake8", reason="flake8 is not installed (it is in the `test` extra)")

from numlint import __version__  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def locations(output: str):
    """`path:row:col: CODE message` lines -> {(path, row, col, code)}."""
    found = set()
    for line in output.splitlines():
        path, row, column, rest = line.split(":", 3)
        found.add((path, int(row), int(column), rest.split()[0]))
    return found


def flake8(*args: str, cwd: Path = ROOT):
    result = run("-m", "flake8", *args, cwd=cwd)
    assert result.returncode in (0, 1) and not result.stderr, result.stderr
    return locations(result.stdout)


def numlint(*args: str):
    result = run("-m", "numlint", "check", *args, "--output-format", "concise", "--no-cache", "--quiet")
    assert result.returncode in (0, 1) and not result.stderr, result.stderr
    return locations(result.stdout)


def test_flake8_finds_the_plugin():
    # by its entry point: numlint must be installed (`pip install -e .`), not merely importable
    result = run("-m", "flake8", "--version")
    assert f"numlint: {__version__}" in result.stdout, result.stdout + result.stderr


# flake8 reads Python files only; numlint also checks the notebooks in examples/.
PYTHON_EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*.py"))


def test_same_findings_as_numlint_check():
    reported = flake8("--select", "NUM", "examples/")
    assert reported and reported == numlint(*PYTHON_EXAMPLES)
    assert {code for *_, code in reported} >= {"NUM101", "NUM102", "NUM301"}


def test_extend_ignore():
    reported = flake8("--select", "NUM", "--extend-ignore", "NUM101", "examples/")
    assert reported and reported == numlint(*PYTHON_EXAMPLES, "--ignore", "NUM101")


def test_noqa_is_flake8s(tmp_path):
    (tmp_path / "m.py").write_text(
        "import torch\n"
        "import torch.nn.functional as F\n"
        "a = torch.log(F.softmax(x, dim=1))  # noqa: NUM102\n"
        "b = torch.log(F.softmax(x, dim=1))  # noqa: NUM101\n"
        "c = torch.log(F.softmax(x, dim=1))  # noqa:NUM1\n"
        "d = torch.log(F.softmax(x, dim=1))  #noqa\n"
    )
    # flake8's reading of `# noqa`: by prefix (NUM1 covers NUM102), and `#noqa` without a space is not one.
    assert flake8("--select", "NUM", "m.py", cwd=tmp_path) == {("m.py", 4, 5, "NUM102"), ("m.py", 6, 5, "NUM102")}
    every = flake8("--select", "NUM", "--disable-noqa", "m.py", cwd=tmp_path)
    assert every == {("m.py", row, 5, "NUM102") for row in (3, 4, 5, 6)}


def test_file_that_cannot_be_parsed_is_flake8s(tmp_path):
    (tmp_path / "m.py").write_text("import torch\ny = torch.log(torch.softmax(x, -1))\ndef f(:\n")
    result = run("-m", "flake8", "--select", "NUM,E999", "m.py", cwd=tmp_path)
    assert result.returncode == 1 and not result.stderr, result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["E999"]


def test_numlint_leaves_line_noqa_to_flake8_but_not_its_file_comment():
    from numlint.checker import check_text
    from numlint.rules import registry

    rules = list(registry().values())
    text = 'import torch\ns = "# noqa"\ny = torch.log(torch.softmax(x, -1))  # noqa\n'
    assert check_text(text, rules) == ([], [])
    findings, errors = check_text(text, rules, line_noqa=False)
    assert [(f.code, f.location.row) for f in findings] == [("NUM102", 3)] and not errors
    assert check_text("# numlint: noqa\n" + text, rules, line_noqa=False) == ([], [])
