"""The examples a new user runs first: what numlint shows on them, what --fix does to them, and
the NumPy MLP that really diverges before the fix and really trains after it.

The full output on examples/ is a snapshot (tests/snapshots/examples.txt). After an intended
change to messages, rendering or rules, update it with:

    NUMLINT_UPDATE_SNAPSHOTS=1 pytest tests/test_examples.py

and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "snapshots" / "examples.txt"


def run(*args, cwd):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_full_output_on_examples_matches_snapshot():
    result = run("-m", "numlint", "check", "examples", cwd=ROOT)
    assert result.returncode == 1, result.stderr
    if os.environ.get("NUMLINT_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == SNAPSHOT.read_text(encoding="utf-8")


@pytest.fixture
def examples_copy(tmp_path):
    target = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", target)
    return target


def _texts(folder: Path) -> dict:
    return {p.name: p.read_text(encoding="utf-8") for p in [*folder.glob("*.py"), *folder.glob("*.ipynb")]}


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_numpy_mlp_diverges_then_trains_after_fix(examples_copy):
    script = examples_copy / "numpy_mlp.py"
    before = run(str(script), cwd=examples_copy)
    assert before.returncode == 0, before.stderr
    assert "loss       nan" in _last_line(before.stdout)
    fixed = run("-m", "numlint", "check", "--fix", str(script), cwd=examples_copy)
    assert fixed.returncode == 0, fixed.stdout
    after = run(str(script), cwd=examples_copy)
    words = _last_line(after.stdout).split()
    loss, accuracy = float(words[3]), float(words[5])
    assert loss < 1.0 and accuracy >= 0.95, after.stdout


def test_fixing_all_examples_is_valid_and_stable(examples_copy):
    first = run("-m", "numlint", "check", "--fix", "--unsafe-fixes", ".", cwd=examples_copy)
    assert "error" not in first.stdout, first.stdout
    for path in examples_copy.glob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    for path in examples_copy.glob("*.ipynb"):
        assert json.loads(path.read_text(encoding="utf-8"))["nbformat"] == 4
    snapshot = _texts(examples_copy)
    assert any(name.endswith(".ipynb") for name in snapshot)
    second = run("-m", "numlint", "check", "--fix", "--unsafe-fixes", ".", "--output-format", "json", cwd=examples_copy)
    assert _texts(examples_copy) == snapshot
    # what remains has no fix: advice only
    remaining = json.loads(second.stdout)
    assert remaining and all(r["fix"] is None and r["help"] for r in remaining), remaining
