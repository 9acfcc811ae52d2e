"""The pre-commit hooks as a user runs them: `pre-commit try-repo` on a git repository.

pre-commit installs numlint into a virtualenv of its own from a git repository, so the hooks are
tried from a commit of a copy of this checkout, uncommitted changes included. The installation
needs PyPI (libcst, click, rich, hatchling) and takes a few seconds with a warm pip cache. try-repo
installs into a store of its own each time (PRE_COMMIT_HOME only keeps its database out of ~).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is not installed (it is in the `test` extra)")

ROOT = Path(__file__).resolve().parent.parent
HAZARD = "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"
FIXED = "import torch\ny = torch.logsumexp(x, dim=1)\n"


def notebook(*sources: str) -> str:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": s}
             for s in sources]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


NOTEBOOK = notebook("%matplotlib inline\nimport torch", "y = torch.log(torch.sum(torch.exp(x), dim=1))")
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "__pycache__", "*.egg-info", "build", "dist",
    ".numlint_cache", ".pytest_cache", ".hypothesis",
)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True,
    )


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """This checkout as it is now, committed in a repository of its own."""
    repo = tmp_path_factory.mktemp("hooks") / "numlint"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "numlint under test", cwd=repo)
    return repo


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    return project


def try_repo(project: Path, hooks_repo: Path, hook: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks_repo), hook, "--all-files", "--color", "never"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )


def add(project: Path, name: str, text: str) -> Path:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git("add", name, cwd=project)
    return path


def test_check_hook_fails_with_the_finding(project, hooks_repo, home):
    model = add(project, "model.py", HAZARD)
    result = try_repo(project, hooks_repo, "numlint", home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "numlint" in result.stdout and "Failed" in result.stdout
    assert "model.py:2:5: NUM101 [*] `log(sum(exp(x)))` overflows" in result.stdout
    assert model.read_text() == HAZARD


def test_fix_hook_rewrites_the_file(project, hooks_repo, home):
    model = add(project, "model.py", HAZARD)
    result = try_repo(project, hooks_repo, "numlint-fix", home)
    assert result.returncode == 1, result.stdout + result.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in result.stdout
    assert model.read_text() == FIXED


def test_clean_file_passes(project, hooks_repo, home):
    add(project, "model.py", FIXED)
    add(project, "notes.txt", HAZARD)  # not Python by its name: the hook never sees it
    result = try_repo(project, hooks_repo, "numlint", home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_notebooks_are_checked_and_fixed(project, hooks_repo, home):
    path = add(project, "explore.ipynb", NOTEBOOK)
    result = try_repo(project, hooks_repo, "numlint", home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "explore.ipynb:cell 2:1:5: NUM101" in result.stdout
    result = try_repo(project, hooks_repo, "numlint-fix", home)
    assert result.returncode == 1 and "files were modified by this hook" in result.stdout
    assert path.read_text() == NOTEBOOK.replace("torch.log(torch.sum(torch.exp(x), dim=1))", "torch.logsumexp(x, dim=1)")


def test_excluded_files_are_skipped_though_pre_commit_names_them(project, hooks_repo, home):
    add(project, "pyproject.toml", '[tool.numlint]\nextend-exclude = ["vendored"]\n')
    vendored = add(project, "vendored/model.py", HAZARD)
    result = try_repo(project, hooks_repo, "numlint-fix", home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert vendored.read_text() == HAZARD
