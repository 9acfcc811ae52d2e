"""A mistake in a rule file, the configuration or the options is one clear line that names its real
source (file and key, or option), and exit code 2 — never a silently different behaviour, never a
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from samples import HAZARDS  # noqa: E402  (tests/ is on sys.path under pytest)

# A custom rule with a fix, so that what a typo does to its fix safety shows.
RULE = '''\
code = "PRJ001"
name = "log-of-exp-minus-one"
message = "`log(exp(x) - 1)` is -inf once x < 1e-7"
fix-safety = "unsafe"
fix-title = "Replace with `{fix}`"

[[patterns]]
match = "log(expm1($x))"
unless = ["constant($x)"]
fix = "softplus($x)"

[docs]
why = "because"

[numeric]
gradient = true

[[examples]]
framework = "numpy"
bad = "import numpy as np\\ny = np.log(np.expm1(x))\\n"
fixed = "import numpy as np\\ny = np.logaddexp(0, x)\\n"

[[examples]]
framework = "numpy"
good = "import numpy as np\\ny = np.log1p(x)\\n"
'''
CODE = "import numpy as np\ny = np.log(np.expm1(x))\n"


def numlint(*args, cwd):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "numlint", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def _project(tmp_path: Path, rule: str = RULE, config: str = 'rule-paths = ["rules"]\n') -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "PRJ001.toml").write_text(rule)
    (tmp_path / "pyproject.toml").write_text("[tool.numlint]\n" + config)
    (tmp_path / "m.py").write_text(CODE)
    return tmp_path


class _InProcess:
    """What `numlint()` returns, from click's runner: the same CLI code without a new Python
    (about a second each), for the many cases of one kind; each kind also runs once in a real
    process below."""

    def __init__(self, result) -> None:
        self.returncode = result.exit_code
        self.stdout, self.stderr = result.stdout, result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback

            self.stderr += "Traceback\n" + "".join(traceback.format_exception(result.exception))


def in_process(monkeypatch, *args, cwd):
    from click.testing import CliRunner

    from numlint.cli import main

    monkeypatch.chdir(cwd)
    return _InProcess(CliRunner().invoke(main, list(args)))


def _one_error_line(result, *parts: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


def test_the_sample_rule_loads_and_its_fix_is_unsafe(tmp_path):
    project = _project(tmp_path)
    result = numlint("check", "m.py", "--fix", "--output-format", "concise", cwd=project)
    assert result.returncode == 1 and (project / "m.py").read_text() == CODE  # unsafe: not applied


# -- rule files ------------------------------------------------------------------------------------

RULE_MISTAKES = {
    # a misspelt key must not silently make an unsafe fix safe
    "fix_safety": (RULE.replace('fix-safety = "unsafe"', 'fix_safety = "unsafe"'),
                   ["unknown key 'fix_safety'", "did you mean 'fix-safety'?"]),
    "unles": (RULE.replace("unless =", "unles ="), ["patterns[0]: unknown key 'unles'", "did you mean 'unless'?"]),
    "consumer": (RULE.replace('fix-title', 'consumer = ["softmax"]\nfix-title'),
                 ["unknown key 'consumer'", "did you mean 'consumers'?"]),
    "docs-key": (RULE.replace('why = "because"', 'wy = "because"'), ["[docs]: unknown key 'wy'", "did you mean 'why'?"]),
    "numeric-key": (RULE.replace("gradient = true", "gradiant = true"),
                    ["[numeric]: unknown key 'gradiant'", "did you mean 'gradient'?"]),
    "example-key": (RULE.replace("fixed =", "fxed ="), ["examples[0]: unknown key 'fxed'", "did you mean 'fixed'?"]),
    "safety-value": (RULE.replace('fix-safety = "unsafe"', 'fix-safety = "unsafe-ish"'),
                     ["fix-safety must be one of", "'unsafe-ish'"]),
    "default-type": (RULE.replace("fix-title", 'default = "no"\nfix-title'), ["default must be true or false"]),
    "framework-value": (RULE.replace('framework = "numpy"', 'framework = "pytorch"', 1),
                        ["examples[0]: framework must be one of", "did you mean 'torch'?"]),
    "frameworks-value": (RULE.replace("fix-title", 'frameworks = ["pytorch"]\nfix-title'), ["frameworks must be one of"]),
    "consumers-value": (RULE.replace("fix-title", 'consumers = ["sofmax"]\nfix-title'), ["did you mean 'softmax'?"]),
    "message-two-lines": (RULE.replace('message = "`log(exp(x) - 1)` is -inf once x < 1e-7"', 'message = "one\\nPRJ001 forged"'),
                          ["message must be one line"]),
    "message-escape": (RULE.replace('is -inf', 'is \\u001b[2J -inf'), ["message must be one line without control characters"]),
    "patterns-a-table": (RULE.replace("[[patterns]]", "[patterns]"), ["patterns must be an array of tables"]),
    "fix-a-number": (RULE.replace('fix = "softplus($x)"', "fix = 3"), ["patterns[0]: fix must be a string"]),
    "dtype-value": (RULE.replace("gradient = true", 'ordinary = [{ x = "1", dtype = "float128" }]'), ["dtype must be one of"]),
    # templates are not code: str.format would pad to 200 MB or read object internals
    "format-spec": (RULE.replace("`{fix}`", "`{fix:>20}`"), ["fix-title: unknown placeholder {fix:>20}"]),
    "attribute": (RULE.replace("`{fix}`", "`{fix.__class__}`"), ["fix-title: unknown placeholder {fix.__class__}"]),
    "misspelt-placeholder": (RULE.replace("`{fix}`", "`{fxi}`"), ["unknown placeholder {fxi}", "did you mean 'fix'?"]),
    "stray-brace": (RULE.replace("`{fix}`", "`{fix}` {"), ["fix-title: stray '{'"]),
    # a pattern too deep for the parser: a clear error, not a RecursionError
    "deep-sum": (RULE.replace('match = "log(expm1($x))"', 'match = "' + " + ".join(["$x"] * 3000) + '"'),
                 ["patterns[0]: pattern nested too deeply"]),
    "deep-neg": (RULE.replace('match = "log(expm1($x))"', 'match = "log(' + "-" * 3000 + '$x)"'),
                 ["patterns[0]: pattern nested too deeply"]),
    "deep-calls": (RULE.replace('match = "log(expm1($x))"', 'match = "' + "exp(" * 40 + "$x" + ")" * 40 + '"'),
                   ["patterns[0]: pattern nested too deeply"]),
    "deep-toml": (RULE + "deep = " + "[" * 3000 + "]" * 3000 + "\n", ["PRJ001.toml"]),
}


@pytest.mark.parametrize("name", sorted(RULE_MISTAKES))
def test_a_mistake_in_a_rule_file_is_one_line_naming_file_and_key(tmp_path, monkeypatch, name):
    rule, parts = RULE_MISTAKES[name]
    project = _project(tmp_path, rule)
    result = in_process(monkeypatch, "check", "m.py", "--fix", "--no-cache", cwd=project)
    line = _one_error_line(result, "PRJ001.toml", *parts)
    assert len(line) < 600
    assert (project / "m.py").read_text() == CODE  # nothing was fixed


@pytest.mark.parametrize("name", ["fix_safety", "unles", "attribute", "deep-sum", "deep-toml"])
def test_a_mistake_in_a_rule_file_through_the_real_cli(tmp_path, name):
    rule, parts = RULE_MISTAKES[name]
    project = _project(tmp_path, rule)
    _one_error_line(numlint("check", "m.py", "--fix", cwd=project), "PRJ001.toml", *parts)
    assert (project / "m.py").read_text() == CODE


def test_test_rule_validates_the_same_way(tmp_path):
    rule, parts = RULE_MISTAKES["fix_safety"]
    (tmp_path / "PRJ001.toml").write_text(rule)
    _one_error_line(numlint("test-rule", "PRJ001.toml", cwd=tmp_path), "PRJ001.toml", *parts)


def test_a_fix_title_expands_only_fix(tmp_path):
    project = _project(tmp_path, RULE.replace("`{fix}`", "`{fix}` {{literal}}"))
    result = numlint("check", "m.py", "--output-format", "full", cwd=project)
    assert "fix: Replace with `np.logaddexp(0, x)` {literal} (unsafe" in result.stdout, result.stdout + result.stderr


def test_expand_is_our_substitution():
    from numlint.rules import expand

    assert expand("Replace with `{fix}`", fix="a{b}") == "Replace with `a{b}`"
    assert expand("{{fix}} {fix}", fix="x") == "{fix} x"
    assert expand("{fix:>200000000}", fix="x") == "{fix:>200000000}"  # never reached: refused at load


# -- configuration and options ---------------------------------------------------------------------


@pytest.mark.parametrize("config, parts", [
    pytest.param('ignore = ["NUM9"]\n', ["pyproject.toml", "[tool.numlint] ignore", "'NUM9'"], id="ignore"),
    pytest.param('extend-ignore = ["NUM9"]\n', ["pyproject.toml", "extend-ignore", "'NUM9'"], id="extend-ignore"),
    pytest.param('select = ["log-sofmax"]\n', ["pyproject.toml", "[tool.numlint] select", "did you mean 'log-softmax'?"], id="select"),
    pytest.param('extend-select = ["NUM9"]\n', ["pyproject.toml", "extend-select"], id="extend-select"),
    pytest.param('[tool.numlint.per-file-ignores]\n"tests/*" = ["NUM9"]\n',
                 ["pyproject.toml", "per-file-ignores 'tests/*'", "'NUM9'"], id="per-file-ignores-unmatched"),
    pytest.param('[tool.numlint.per-file-ignores]\n"*.py" = ["NUM9"]\n',
                 ["pyproject.toml", "per-file-ignores '*.py'", "'NUM9'"], id="per-file-ignores"),
    pytest.param('selct = ["NUM1"]\n', ["pyproject.toml", "unknown [tool.numlint] key 'selct'", "did you mean 'select'?"], id="unknown-key"),
    pytest.param('select = []\n', ["no rule is selected"], id="select-nothing"),
])
def test_a_configuration_error_names_the_file_and_key(tmp_path, monkeypatch, config, parts):
    (tmp_path / "pyproject.toml").write_text("[tool.numlint]\n" + config)
    (tmp_path / "m.py").write_text(HAZARDS)
    line = _one_error_line(in_process(monkeypatch, "check", ".", "--no-cache", cwd=tmp_path), *parts)
    assert "--select" not in line


def test_configuration_and_option_errors_through_the_real_cli(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.numlint]\nignore = ["NUM9"]\n')
    (tmp_path / "m.py").write_text(HAZARDS)
    line = _one_error_line(numlint("check", ".", cwd=tmp_path), "pyproject.toml", "[tool.numlint] ignore", "'NUM9'")
    assert "--select" not in line
    (tmp_path / "pyproject.toml").write_text('[tool.numlint.per-file-ignores]\n"*.py" = ["NUM9"]\n')
    _one_error_line(numlint("check", ".", cwd=tmp_path), "pyproject.toml", "per-file-ignores '*.py'")
    (tmp_path / "pyproject.toml").write_text("[tool.numlint]\n")
    _one_error_line(numlint("check", ".", "--ignore", "NUM9", cwd=tmp_path), "--ignore: unknown rule selector 'NUM9'")
    _one_error_line(numlint("check", ".", "--select", "", cwd=tmp_path), "--select", "selects no rule")


@pytest.mark.parametrize("args, parts", [
    pytest.param(["--ignore", "NUM9"], ["--ignore: unknown rule selector 'NUM9'"], id="ignore"),
    pytest.param(["--extend-select", "NUM9"], ["--extend-select: unknown rule selector 'NUM9'"], id="extend-select"),
    pytest.param(["--select", "NUM9"], ["--select: unknown rule selector 'NUM9'"], id="select"),
    pytest.param(["--select", ""], ["--select", "selects no rule"], id="select-empty"),
    pytest.param(["--select", "NUM101", "--ignore", "NUM1"], ["no rule is selected"], id="nothing-left"),
    pytest.param(["-j", "0"], ["-j", "0"], id="jobs-0"),
    pytest.param(["-j", "-3"], ["-j", "-3"], id="jobs-negative"),
    pytest.param(["-j", "100000"], ["-j", "100000", "64"], id="jobs-too-many"),
])
def test_an_option_error_names_the_option(tmp_path, monkeypatch, args, parts):
    (tmp_path / "m.py").write_text(HAZARDS)
    result = in_process(monkeypatch, "check", ".", "--no-cache", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert all(part in result.stderr for part in parts), result.stderr


@pytest.mark.parametrize("text", [
    pytest.param('[tool]\nnumlint = "yes"\n', id="not-a-table"),
    pytest.param('tool = "numlint"\n', id="tool-a-string"),
    pytest.param("[tool.numlint]\nexclude = " + "[" * 3000 + "]" * 3000 + "\n", id="deeply-nested"),
])
def test_a_strange_pyproject_is_one_line_or_ignored(tmp_path, monkeypatch, text):
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "m.py").write_text(HAZARDS)
    result = in_process(monkeypatch, "check", ".", "--no-cache", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 2) and len(result.stderr.splitlines()) <= 1, result.stderr
