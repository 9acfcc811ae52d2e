"""The command line as a user runs it: a real `numlint` process on real files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from numlint.rules import registry

from samples import CLEAN, FIXED, HAZARDS  # noqa: E402  (tests/ is on sys.path under pytest)


def numlint(*args, cwd=None, input=None):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "numlint", *args],
        cwd=cwd, input=input, capture_output=True, text=True, env=env, timeout=120,
    )


def test_findings_exit_1_with_concise_lines(project):
    result = numlint("check", "pkg", "--output-format", "concise", cwd=project)
    assert result.returncode == 1, result.stderr
    path = os.path.join("pkg", "model.py")
    assert result.stdout.splitlines() == [
        f"{path}:6:11: NUM101 `log(sum(exp(x)))` overflows to inf once any x > 88.7 (float32) and is -inf when every x < -104",
        f"{path}:8:12: NUM102 `log(softmax(x))` is -inf once a probability underflows (float32: logit gap > 104), and its gradient is lost well before",
        # the same summary as the full format ends with (issue 12)
        "Found 2 findings in 1 file (2 files checked).",
        "[*] 2 fixable with `numlint check --fix`.",
    ]
    assert result.stderr == ""


def test_default_command_and_full_format(project):
    result = numlint("pkg", cwd=project)
    assert result.returncode == 1
    out = result.stdout
    assert "    lse = torch.log(torch.sum(torch.exp(x), dim=1))" in out
    assert "^" * len("torch.log(torch.sum(torch.exp(x), dim=1))") + " NUM101" in out
    assert "= fix: Replace with `torch.logsumexp(x, dim=1)`" in out
    assert "Found 2 findings in 1 file (2 files checked)." in out
    assert "[*] 2 fixable with `numlint check --fix`." in out
    assert "\x1b[" not in out  # no colour when piped


def test_clean_tree_exits_0(tmp_path):
    (tmp_path / "ok.py").write_text(CLEAN)
    result = numlint("check", ".", cwd=tmp_path)
    assert result.returncode == 0
    assert "All checks passed!" in result.stdout


def test_json_mirrors_ruff(project):
    result = numlint("check", "pkg/model.py", "--output-format", "json", cwd=project)
    assert result.returncode == 1
    records = json.loads(result.stdout)
    assert [r["code"] for r in records] == ["NUM101", "NUM102"]
    first = records[0]
    assert set(first) >= {"filename", "location", "end_location", "code", "name", "message", "url", "noqa_row", "fix"}
    assert first["filename"] == str(project / "pkg" / "model.py")
    assert first["location"] == {"row": 6, "column": 11}
    assert first["end_location"] == {"row": 6, "column": 52}
    assert first["name"] == "log-sum-exp"
    assert first["noqa_row"] == 6
    assert first["fix"]["applicability"] == "safe"
    assert first["fix"]["edits"] == [
        {"content": "torch.logsumexp(x, dim=1)", "location": {"row": 6, "column": 11}, "end_location": {"row": 6, "column": 52}}
    ]
    second = records[1]["fix"]["edits"]
    assert {"content": "", "location": {"row": 7, "column": 1}, "end_location": {"row": 8, "column": 1}} in second


def test_fix_writes_and_is_idempotent(project):
    target = project / "pkg" / "model.py"
    result = numlint("check", "--fix", "pkg", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Fixed 2 findings (2 files checked)." in result.stdout
    assert target.read_text() == FIXED
    compile(target.read_text(), str(target), "exec")
    again = numlint("check", "--fix", "pkg", cwd=project)
    assert again.returncode == 0
    assert target.read_text() == FIXED
    assert not [p for p in (project / "pkg").iterdir() if p.name.startswith(".numlint-")]


def test_fix_keeps_crlf_bom_and_permissions(tmp_path):
    target = tmp_path / "win.py"
    data = b"\xef\xbb\xbf" + HAZARDS.replace("\n", "\r\n").encode()
    target.write_bytes(data)
    target.chmod(0o750)
    result = numlint("check", "--fix", "win.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    written = target.read_bytes()
    assert written == b"\xef\xbb\xbf" + FIXED.replace("\n", "\r\n").encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_fix_keeps_latin1_with_coding_cookie(tmp_path):
    target = tmp_path / "legacy.py"
    text = "# -*- coding: latin-1 -*-\n# café\nimport numpy as np\ny = np.log(np.sum(np.exp(x), axis=1))\n"
    target.write_bytes(text.encode("latin-1"))
    assert numlint("check", "--fix", "legacy.py", cwd=tmp_path).returncode == 0
    assert target.read_bytes() == text.replace("np.log(np.sum(np.exp(x), axis=1))", "np.logaddexp.reduce(x, axis=1)").encode("latin-1")


def test_diff_prints_and_writes_nothing(project):
    target = project / "pkg" / "model.py"
    result = numlint("check", "--diff", "pkg/model.py", cwd=project)
    assert result.returncode == 1
    assert result.stdout.startswith("--- a/pkg/model.py\n+++ b/pkg/model.py\n")
    assert "-    lse = torch.log(torch.sum(torch.exp(x), dim=1))\n" in result.stdout
    assert "+    lse = torch.logsumexp(x, dim=1)\n" in result.stdout
    assert "-    probs = F.softmax(x, dim=1)\n" in result.stdout
    assert target.read_text() == HAZARDS
    clean = numlint("check", "--diff", "pkg/clean.py", cwd=project)
    assert clean.returncode == 0 and clean.stdout == ""


@pytest.mark.parametrize(
    "options, codes",
    [
        pytest.param(["--select", "NUM101"], ["NUM101"], id="select-code"),
        pytest.param(["--select", "log-softmax"], ["NUM102"], id="select-name"),
        pytest.param(["--select", "NUM1"], ["NUM101", "NUM102"], id="select-prefix"),
        pytest.param(["--ignore", "NUM101"], ["NUM102"], id="ignore-code"),
        pytest.param(["--select", "NUM3", "--extend-select", "NUM102"], ["NUM102"], id="extend-select"),
        pytest.param(["--select", "NUM101,NUM102", "--ignore", "log-sum-exp"], ["NUM102"], id="comma-and-name"),
    ],
)
def test_selection(project, options, codes):
    result = numlint("check", "pkg", "--output-format", "json", *options, cwd=project)
    assert [r["code"] for r in json.loads(result.stdout)] == codes


def test_unknown_selector_is_a_clear_error(project):
    result = numlint("check", "pkg", "--select", "NUM999", cwd=project)
    assert result.returncode == 2
    assert result.stderr.strip() == "numlint: error: --select: unknown rule selector 'NUM999' (see `numlint rules`)"
    assert "Traceback" not in result.stderr


def test_missing_path_is_a_clear_error(tmp_path):
    result = numlint("check", "nope.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "numlint: error: nope.py: no such file or directory"


def test_pyproject_found_upward(project):
    (project / "pyproject.toml").write_text(
        '[tool.numlint]\nignore = ["NUM102"]\nper-file-ignores = { "other/*.py" = ["NUM101"] }\n'
    )
    (project / "other").mkdir()
    (project / "other" / "m.py").write_text(HAZARDS)
    result = numlint("check", "pkg", "--output-format", "concise", "-q", cwd=project / "pkg" / "..")
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["NUM101"]
    inner = numlint("check", ".", "--output-format", "concise", cwd=project / "other")
    assert inner.returncode == 0, inner.stdout


def test_pyproject_exclude(project):
    (project / "pyproject.toml").write_text('[tool.numlint]\nexclude = ["pkg/model.py"]\n')
    assert numlint("check", ".", cwd=project).returncode == 0
    # a file named on the command line is always checked
    assert numlint("check", "pkg/model.py", cwd=project).returncode == 1


def test_malformed_pyproject_is_a_clear_error(project):
    (project / "pyproject.toml").write_text("[tool.numlint\nselect = 1\n")
    result = numlint("check", "pkg", cwd=project)
    assert result.returncode == 2
    assert "invalid TOML" in result.stderr and "Traceback" not in result.stderr
    (project / "pyproject.toml").write_text("[tool.numlint]\nselekt = []\n")
    result = numlint("check", "pkg", cwd=project)
    assert result.returncode == 2
    assert "unknown [tool.numlint] key 'selekt'" in result.stderr


def test_noqa(tmp_path):
    (tmp_path / "a.py").write_text(
        "import torch\n"
        "a = torch.log(torch.sum(torch.exp(x), dim=1))  # noqa: NUM101\n"
        "b = torch.log(torch.sum(torch.exp(x), dim=1))  # noqa\n"
        "c = torch.log(torch.sum(torch.exp(x), dim=1))  # noqa: NUM102\n"
    )
    result = numlint("check", "a.py", "--output-format", "concise", "-q", cwd=tmp_path)
    assert [line.split(":")[1] for line in result.stdout.splitlines()] == ["4"]
    (tmp_path / "b.py").write_text("# numlint: noqa\nimport torch\na = torch.log(torch.sum(torch.exp(x), dim=1))\n")
    assert numlint("check", "b.py", cwd=tmp_path).returncode == 0


def test_unparsable_file_is_reported_and_others_checked(project):
    (project / "pkg" / "broken.py").write_text("import torch\ndef f(:\n    return torch.log(torch.softmax(x, -1))\n")
    result = numlint("check", "pkg", "--output-format", "concise", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(os.path.join("pkg", "broken.py") + ":2:") and "error: cannot parse" in line for line in lines)
    assert sum(" NUM10" in line for line in lines) == 2
    assert "Traceback" not in result.stderr


def test_files_without_numeric_code_are_not_parsed(tmp_path):
    """The prefilter skips files that cannot hold a hazard; their syntax is flake8's business."""
    (tmp_path / "notes.py").write_text("def f(:\n    pass\n")
    assert numlint("check", ".", cwd=tmp_path).returncode == 0


def test_statistics_and_exit_zero(project):
    result = numlint("check", "pkg", "--statistics", "--exit-zero", cwd=project)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "1\tNUM101\t[*] log-sum-exp",
        "1\tNUM102\t[*] log-softmax",
        "Found 2 findings in 1 file (2 files checked).",
        "[*] 2 fixable with `numlint check --fix`.",
    ]


def test_stdin(tmp_path):
    result = numlint("check", "-", "--stdin-filename", "model.py", "--output-format", "concise", cwd=tmp_path, input=HAZARDS)
    assert result.returncode == 1
    assert result.stdout.startswith("model.py:6:11: NUM101 ")
    fixed = numlint("check", "-", "--fix", "--stdin-filename", "model.py", cwd=tmp_path, input=HAZARDS)
    assert fixed.stdout == FIXED


def test_stdin_fix_reports_errors_on_stderr_and_exits_1(tmp_path):
    broken = "import torch\ny = torch.log(torch.sum(torch.exp(x)))\ndef f(:\n"
    result = numlint("check", "-", "--fix", "--stdin-filename", "m.py", cwd=tmp_path, input=broken)
    assert result.stdout == broken  # stdout is the file, unchanged: it does not parse
    assert result.returncode == 1
    assert "m.py:3:7: error: cannot parse" in result.stderr


def test_an_internal_error_on_stdin_is_one_line_not_a_traceback(monkeypatch):
    from numlint import runner, source
    from numlint.rules import registry

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(runner, "check_loaded", broken)
    result = runner.check_contained(source.decode(HAZARDS.encode()), list(registry().values()), "-")
    assert [e.code for e in result.errors] == ["internal"] and "boom" in result.errors[0].message


def test_unsafe_fixes_only_on_request(tmp_path):
    text = "import numpy as np\nv = np.sum(x ** 2) / n - (np.sum(x) / n) ** 2\n"
    (tmp_path / "v.py").write_text(text)
    result = numlint("check", "--fix", "v.py", cwd=tmp_path)
    assert result.returncode == 1
    assert (tmp_path / "v.py").read_text() == text
    assert "1 more fixable with `--fix --unsafe-fixes`." in result.stdout
    result = numlint("check", "--fix", "--unsafe-fixes", "v.py", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "v.py").read_text() == "import numpy as np\nv = np.var(x)\n"


def test_rules_and_rule(tmp_path):
    listing = numlint("rules", cwd=tmp_path)
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "fix", "summary"]
    assert [line.split()[0] for line in lines[1:]] == sorted(registry())
    explained = numlint("rule", "NUM101", cwd=tmp_path)
    assert explained.returncode == 0
    for heading in ("# NUM101 log-sum-exp", "## Why is this bad?", "## Examples", "## Stays silent on", "## Fix safety"):
        assert heading in explained.stdout
    assert "88.72" in explained.stdout
    assert "torch.logsumexp(x, dim=1)" in explained.stdout
    assert numlint("rule", "log-softmax", cwd=tmp_path).stdout.startswith("# NUM102 log-softmax")
    unknown = numlint("rule", "NUM999", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown rule 'NUM999'" in unknown.stderr


def test_version():
    result = numlint("--version")
    assert result.returncode == 0 and result.stdout.startswith("numlint, version ")


def test_console_script_is_installed(tmp_path):
    """`pip install .` gives a `numlint` command."""
    script = Path(sys.executable).with_name("numlint")
    if not script.exists():
        pytest.skip("numlint is not installed as a console script in this environment")
    (tmp_path / "m.py").write_text(HAZARDS)
    result = subprocess.run([str(script), "m.py", "--output-format", "concise"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout.count("NUM10") == 2
