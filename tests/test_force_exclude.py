"""`--force-exclude`: `exclude` applies to files named on the command line too, as pre-commit names them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HAZARD = "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"


def run(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "numlint", "check", "--no-cache", "--quiet", "--output-format", "concise", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"), timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.numlint]\nextend-exclude = ["third_party", "*_pb2.py"]\n')
    for name in ("third_party/vendored.py", "build/generated.py", "src/model.py", "src/model_pb2.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(HAZARD)
    return tmp_path


NAMED = ("third_party/vendored.py", "build/generated.py", "src/model.py", "src/model_pb2.py")


def reported(result: subprocess.CompletedProcess):
    return sorted(line.split(":")[0] for line in result.stdout.splitlines())


def test_named_files_are_checked_without_it(project):
    assert reported(run(*NAMED, cwd=project)) == sorted(NAMED)


def test_excludes_and_default_excludes_apply_to_named_files_with_it(project):
    result = run("--force-exclude", *NAMED, cwd=project)
    assert reported(result) == ["src/model.py"]


def test_a_named_folder_that_is_excluded_is_skipped(project):
    result = run("--force-exclude", "third_party", cwd=project)
    assert result.returncode == 0 and reported(result) == []


def test_the_setting_and_its_override(project):
    (project / "pyproject.toml").write_text('[tool.numlint]\nextend-exclude = ["third_party"]\nforce-exclude = true\n')
    assert reported(run("third_party/vendored.py", "src/model.py", cwd=project)) == ["src/model.py"]
    assert len(reported(run("--no-force-exclude", "third_party/vendored.py", "src/model.py", cwd=project))) == 2


def test_folders_above_the_project_never_match(tmp_path):
    project = tmp_path / "build" / "project"  # checked out under a folder named like a default exclude
    project.mkdir(parents=True)
    (project / "model.py").write_text(HAZARD)
    assert reported(run("--force-exclude", "model.py", cwd=project)) == ["model.py"]


def test_standard_input_of_an_excluded_file_is_passed_through(project):
    checked = run("--force-exclude", "--stdin-filename", "third_party/vendored.py", "-", cwd=project, stdin=HAZARD)
    assert checked.returncode == 0 and checked.stdout == ""
    fixed = run("--force-exclude", "--fix", "--stdin-filename", "third_party/vendored.py", "-", cwd=project, stdin=HAZARD)
    assert fixed.returncode == 0 and fixed.stdout == HAZARD
    kept = run("--force-exclude", "--stdin-filename", "src/model.py", "-", cwd=project, stdin=HAZARD)
    assert kept.returncode == 1 and kept.stdout.startswith("src/model.py:2:5: NUM101")
