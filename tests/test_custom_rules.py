"""Rules anyone can write: a project's own rule files, `rule-paths`, `numlint test-rule`, and the
generated rule reference."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from numlint.explain import rules_markdown
from numlint.rules import registry

ROOT = Path(__file__).resolve().parents[1]

def _worked_example() -> str:
    """The worked example of docs/writing-rules.md, so the documentation cannot drift."""
    text = (ROOT / "docs" / "writing-rules.md").read_text(encoding="utf-8")
    block = text.split("## A worked example", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    return block


CUSTOM_RULE = _worked_example()


def numlint(*args, cwd):
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "numlint", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_docs_rules_md_is_generated_from_rules():
    expected = rules_markdown(registry())
    actual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/rules.md is stale: run `numlint rules --output-format markdown > docs/rules.md`"


def test_test_rule_passes_a_good_rule_file(tmp_path):
    (tmp_path / "PRJ001.toml").write_text(CUSTOM_RULE)
    result = numlint("test-rule", "PRJ001.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "PRJ001 log-of-exp-minus-one: 3 of 3 examples pass"


def test_test_rule_reports_a_wrong_example(tmp_path):
    broken = CUSTOM_RULE.replace("y = np.log1p(x)", "y = np.log(np.expm1(x))")
    (tmp_path / "PRJ001.toml").write_text(broken)
    result = numlint("test-rule", "PRJ001.toml", cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL PRJ001 example 2 (numpy): expected no finding, got ['PRJ001 at 2:5']" in result.stdout


def test_test_rule_on_every_builtin_rule():
    paths = sorted(str(p) for p in (ROOT / "rules").glob("*.toml"))
    result = numlint("test-rule", *paths, cwd=ROOT)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("examples pass") == len(paths)


def test_bad_rule_file_is_a_clear_error(tmp_path):
    (tmp_path / "bad.toml").write_text(CUSTOM_RULE.replace('match = "log(expm1($x))"', 'match = "log(frobnicate($x))"'))
    result = numlint("test-rule", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown op 'frobnicate'" in result.stderr and "Traceback" not in result.stderr


def test_rule_paths_in_pyproject(tmp_path):
    (tmp_path / "numlint_rules").mkdir()
    (tmp_path / "numlint_rules" / "PRJ001.toml").write_text(CUSTOM_RULE)
    (tmp_path / "pyproject.toml").write_text('[tool.numlint]\nrule-paths = ["numlint_rules"]\n')
    (tmp_path / "m.py").write_text("import torch\ny = torch.log(torch.expm1(x))\n")
    result = numlint("check", "m.py", "--output-format", "concise", "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip() == "m.py:2:5: PRJ001 `log(exp(x) - 1)` is -inf once x < 1e-7 and inf once x > 88.7 (float32)"
    assert numlint("check", "m.py", "--ignore", "PRJ001", cwd=tmp_path).returncode == 0
