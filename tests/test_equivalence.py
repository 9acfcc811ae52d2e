"""Speed must not change what is found: the prefilter, the blanking of idle functions, the
cache and the process pool all give the findings a plain serial check of whole files gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from numlint import prefilter
from numlint.checker import check_text
from numlint.reparse import Reparser
from numlint.rules import registry

ROOT = Path(__file__).resolve().parents[1]
RULES = list(registry().values())
# A rule written with operators only (opt-in NUM109) turns blanking off; the default set uses it.
DEFAULT = [rule for rule in RULES if rule.default]

# Hazards in methods next to idle ones, names bound in one method and used in another scope,
# functions defined after their use, decorators, nested classes, CRLF.
MIXED = textwrap.dedent(
    '''\
    import torch
    import torch.nn.functional as F


    def helper(x):
        return x + 1


    class Model(torch.nn.Module):
        scale = 2.0

        @staticmethod
        def idle(a, b):
            return a @ b

        def forward(self, x):
            probs = F.softmax(x, dim=-1)
            return torch.log(probs)

        class Inner:
            def go(self, x):
                return torch.log(torch.sum(torch.exp(x), dim=1))


    def loss(x):
        return torch.log(1 + torch.exp(x))


    def log(x):  # shadows nothing at module level that matters
        return x
    '''
)


def _corpus():
    texts = {path.name: path.read_text(encoding="utf-8") for path in sorted((ROOT / "examples").glob("*.py"))}
    texts["mixed.py"] = MIXED
    texts["mixed_crlf.py"] = MIXED.replace("\n", "\r\n")
    for rule in RULES:
        for index, example in enumerate(rule.examples):
            texts[f"{rule.code}_{index}.py"] = (example.bad or example.good).lstrip("\n")
    return texts


@pytest.mark.parametrize("name, text", list(_corpus().items()))
def test_blanking_idle_functions_changes_no_finding(name, text, monkeypatch):
    reduced = check_text(text, DEFAULT)
    monkeypatch.setattr(prefilter, "reduce", lambda source, rules: source)
    whole = check_text(text, DEFAULT)
    assert reduced == whole


@pytest.mark.parametrize("name, text", list(_corpus().items()))
def test_a_reused_tree_changes_no_finding(name, text):
    """The language server checks a document with its previous version's tree (reparse.py) and
    without blanking: the findings of a check of the file, first version and edited alike."""
    reuse = Reparser()
    assert check_text(text, DEFAULT, reuse=reuse) == check_text(text, DEFAULT)
    lines = text.splitlines(keepends=True)
    edited = "".join(lines[: len(lines) // 2] + ["\n", "x_added = 1\n", "\n"] + lines[len(lines) // 2:])
    try:
        compile(edited, name, "exec")
    except SyntaxError:
        return  # the middle row is inside a statement: the edit is not a module
    assert check_text(edited, DEFAULT, reuse=reuse) == check_text(edited, DEFAULT)
    assert check_text(text, DEFAULT, reuse=reuse) == check_text(text, DEFAULT)


def test_reduction_keeps_lines_and_blanks_idle_code():
    rules = prefilter.rules_in_play(MIXED, DEFAULT)
    reduced = prefilter.reduce(MIXED, rules)
    assert reduced.count("\n") == MIXED.count("\n")
    assert "def helper():\n    pass\n" in reduced and "return x + 1" not in reduced
    assert "    def idle():\n        pass\n" in reduced and "@staticmethod" not in reduced
    assert "probs = F.softmax(x, dim=-1)" in reduced


def _run(*args, cwd):
    env = dict(os.environ, NO_COLOR="1")
    result = subprocess.run([sys.executable, "-m", "numlint", "check", "--output-format", "json", "--exit-zero", *args],
                            cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cache_and_processes_change_no_finding(tmp_path):
    for name, text in _corpus().items():
        (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    serial = _run(".", "--jobs", "1", "--no-cache", cwd=tmp_path)
    assert serial
    parallel = _run(".", "--jobs", "2", "--no-cache", cwd=tmp_path)
    cold = _run(".", "--jobs", "2", cwd=tmp_path)
    warm = _run(".", "--jobs", "2", cwd=tmp_path)
    assert parallel == serial and cold == serial and warm == serial
    assert (tmp_path / ".numlint_cache" / ".gitignore").read_text().strip().endswith("*")
    # an edited file is checked again, not served from the cache
    (tmp_path / "mixed.py").write_text(MIXED.replace("torch.log(probs)", "F.log_softmax(x, dim=-1)"))
    edited = _run(".", "--jobs", "2", cwd=tmp_path)
    assert len(edited) == len(serial) - 1
