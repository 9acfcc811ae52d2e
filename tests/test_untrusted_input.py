"""What numlint reads but did not write — a stranger's repository — must never make it run code,
write or delete outside the project, or crash (docs/reliability.md, "Untrusted input").

Every test runs the real CLI in a subprocess on a hostile tree."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from samples import HAZARDS  # noqa: E402  (tests/ is on sys.path under pytest)


def numlint(*args, cwd=None, input=None, env=None, **kwargs):
    environment = dict(os.environ, NO_COLOR="1", COLUMNS="200", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "numlint", *args],
        cwd=cwd, input=input, capture_output=True, env=environment, timeout=120, **kwargs,
    )


def text(result) -> str:
    return result.stdout.decode("utf-8", "replace")


def errors(result) -> str:
    return result.stderr.decode("utf-8", "replace")


def _no_traceback(result) -> None:
    assert "Traceback" not in errors(result), errors(result)


@pytest.fixture
def tree(tmp_path):
    """A project folder with one hazardous module."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.py").write_text(HAZARDS)
    return project


# -- the results cache -----------------------------------------------------------------------------


class _Payload:
    """Unpickling this runs `touch marker`: what a planted cache entry could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_pickle_in_the_cache_never_runs(tree, tmp_path):
    first = numlint("check", ".", "--output-format", "concise", cwd=tree)
    assert first.returncode == 1
    cache = tree / ".numlint_cache"
    marker = tmp_path / "pwned"
    planted = [p for p in cache.iterdir() if p.name.startswith("results-")]
    assert planted
    for path in planted:  # every index file numlint reads, at its predictable name
        path.write_bytes(pickle.dumps(_Payload(marker)))
    second = numlint("check", ".", "--output-format", "concise", cwd=tree)
    assert not marker.exists(), "a cache file ran code"
    assert second.returncode == 1 and second.stdout == first.stdout
    _no_traceback(second)
    # the invalid index was ignored and rewritten in the safe format
    for path in planted:
        if path.exists():
            assert json.loads(path.read_text())["format"] == "numlint-cache"


def _index(tree: Path) -> Path:
    (path,) = [p for p in (tree / ".numlint_cache").iterdir() if p.name.startswith("results-")]
    return path


def _mutations():
    """Ways to break one entry of a valid index: each must be dropped, never believed or crashed on."""
    def at(*keys):
        def change(value):
            def apply(entry):
                target = entry
                for key in keys[:-1]:
                    target = target[key]
                target[keys[-1]] = value
            return apply
        return change

    finding = ("result", "findings", 0)
    return {
        "content-not-a-hash": at("content")("../../etc/passwd"),
        "result-a-list": at("result")([]),
        "finding-row-zero": at(*finding, "location")([0, 1]),
        "finding-row-past-the-file": at(*finding, "location")([10_000, 1]),
        "finding-row-a-string": at(*finding, "location")(["1", 1]),
        "finding-row-true": at(*finding, "noqa_row")(True),
        "finding-ends-before-it-starts": at(*finding, "end_location")([1, 1]),
        "finding-extra-field": at(*finding, "run")("os.system"),
        "fix-unknown-applicability": at(*finding, "fix", "applicability")("always"),
        "edit-past-the-text": at(*finding, "fix", "edits", 0, "end")(10**9),
        "message-not-a-string": at(*finding, "message")({"x": 1}),
        "extra-not-objects": at("extra")({"summary": [1, 2]}),
        "cells-not-increasing": at("result", "cells")({"cells": [3, 2], "first_rows": [1, 5]}),
        "fixes-negative": at("result", "fixes_applied")(-1),
    }


def _saved_index(tmp_path: Path) -> Path:
    from numlint.cache import Cache, digest
    from numlint.rules import registry
    from numlint.runner import Mode, check_source

    result = check_source(HAZARDS, list(registry().values()), "model.py", Mode(fix=False))
    assert result.findings and result.findings[0].fix is not None
    cache = Cache(tmp_path, "0" * 32)
    cache.put("model.py", digest(HAZARDS.encode()), result)
    cache.save()
    return cache.path


@pytest.mark.parametrize("name", sorted(_mutations()))
def test_an_entry_that_does_not_validate_is_dropped(tmp_path, name):
    from numlint.cache import Cache, digest

    index = _saved_index(tmp_path)
    document = json.loads(index.read_text())
    _mutations()[name](document["files"]["model.py"])
    index.write_text(json.dumps(document))
    cache = Cache(tmp_path, "0" * 32)
    assert cache.get("model.py", digest(HAZARDS.encode())) is None
    assert cache.dropped == 1 and cache.changed  # rewritten at the end of the run


def test_an_unchanged_entry_validates(tmp_path):
    from numlint.cache import Cache, digest

    _saved_index(tmp_path)
    cache = Cache(tmp_path, "0" * 32)
    assert cache.get("model.py", digest(HAZARDS.encode())) is not None and not cache.changed


def test_a_bad_entry_through_the_cli_is_rechecked_and_rewritten(tree):
    first = numlint("check", ".", "--output-format", "concise", cwd=tree)
    index = _index(tree)
    document = json.loads(index.read_text())
    (entry,) = document["files"].values()
    entry["result"]["findings"][0]["location"] = [10_000, 1]  # the full format would index past the file
    index.write_text(json.dumps(document))
    second = numlint("check", ".", "--output-format", "full", cwd=tree)
    _no_traceback(second)
    assert second.returncode == 1
    assert numlint("check", ".", "--output-format", "concise", cwd=tree).stdout == first.stdout
    assert json.loads(_index(tree).read_text()) != document


@pytest.mark.parametrize("content", [
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe not utf-8", id="not-utf-8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested"),
    pytest.param(b'{"format": "numlint-cache", "version": 99, "key": "%s", "files": {}}' % (b"0" * 32), id="other-version"),
    pytest.param(b'{"format": "numlint-cache", "version": 1, "key": "%s", "files": []}' % (b"0" * 32), id="files-a-list"),
    pytest.param(b'{"format": "numlint-cache", "version": 1, "key": "%s", "files": {}}' % (b"1" * 32), id="other-key"),
    pytest.param(b"null", id="null"),
])
def test_a_corrupt_index_is_an_empty_cache(tmp_path, content):
    from numlint.cache import Cache

    (tmp_path / f"results-{'0' * 32}.json").write_bytes(content)
    cache = Cache(tmp_path, "0" * 32)
    assert cache.entries == {} and cache.changed


def test_a_corrupt_index_through_the_cli(tree):
    first = numlint("check", ".", "--output-format", "concise", cwd=tree)
    _index(tree).write_bytes(b"[" * 100_000 + b"]" * 100_000)
    second = numlint("check", ".", "--output-format", "concise", cwd=tree)
    _no_traceback(second)
    assert second.stdout == first.stdout and second.returncode == 1
    assert json.loads(_index(tree).read_text())["files"]


def test_a_fifo_at_the_index_path_does_not_hang(tree):
    numlint("check", ".", cwd=tree)
    index = _index(tree)
    index.unlink()
    os.mkfifo(index)
    result = numlint("check", ".", "--output-format", "concise", cwd=tree)
    assert result.returncode == 1
    _no_traceback(result)


def test_an_index_planted_under_a_guessable_name_is_not_read(tree, tmp_path):
    """The index's name includes a secret of the user's, so a repository cannot ship an index
    that says its hazardous files are clean."""
    numlint("check", ".", cwd=tree, env={"XDG_CACHE_HOME": str(tmp_path / "user-a")})
    index = _index(tree)
    document = json.loads(index.read_text())
    for entry in document["files"].values():
        entry["result"]["findings"] = []  # "clean"
    index.write_text(json.dumps(document))
    # another user (or a CI machine) with its own secret does not read that file
    other = numlint("check", ".", "--output-format", "concise", cwd=tree, env={"XDG_CACHE_HOME": str(tmp_path / "user-b")})
    assert other.returncode == 1 and b"NUM101" in other.stdout


def test_extra_data_is_kept_beside_a_result(tmp_path):
    from numlint.cache import Cache
    from numlint.diagnostics import FileResult

    key = "0" * 32
    cache = Cache(tmp_path, key)
    cache.put("a.py", "a" * 64, FileResult("a.py"), extra={"summary": {"returns": {"f": ["softmax"]}}})
    cache.save()
    again = Cache(tmp_path, key)
    assert again.get("a.py", "a" * 64) == FileResult("a.py")
    assert again.extra("a.py", "a" * 64) == {"summary": {"returns": {"f": ["softmax"]}}}
    assert again.extra("a.py", "b" * 64) == {}
    with pytest.raises(TypeError):
        cache.put("b.py", "a" * 64, FileResult("b.py"), extra={"summary": "not an object"})


# -- where the cache lives -------------------------------------------------------------------------


def test_cache_dir_outside_the_project_is_a_configuration_error(tree, tmp_path):
    (tree / "pyproject.toml").write_text('[tool.numlint]\ncache-dir = "../elsewhere"\n')
    result = numlint("check", ".", cwd=tree)
    assert result.returncode == 2, errors(result)
    assert errors(result).count("\n") == 1
    assert "pyproject.toml" in errors(result) and "cache-dir" in errors(result)
    assert not (tmp_path / "elsewhere").exists()


def test_a_committed_cache_symlink_is_not_followed_out_of_the_project(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    theirs = [outside / f"results-{n:032x}.pickle" for n in range(8)]
    for path in theirs:
        path.write_bytes(b"someone else's file")
    (tree / ".numlint_cache").symlink_to(outside, target_is_directory=True)
    result = numlint("check", ".", "--output-format", "concise", cwd=tree)
    assert result.returncode == 1
    _no_traceback(result)
    assert sorted(outside.iterdir()) == sorted(theirs)  # nothing written there, nothing deleted
    assert "cache" in errors(result)  # said why the cache is not used


def test_only_files_numlint_wrote_are_deleted(tree):
    cache = tree / ".numlint_cache"
    cache.mkdir()
    keep = [cache / f"results-{n:032x}.pickle" for n in range(8)]
    keep += [cache / f"results-{n:032x}.json" for n in range(8)]  # our names, not our content
    for path in keep:
        path.write_bytes(b"not numlint's")
    for selection in ("NUM101", "NUM102", "NUM1", "NUM2", "NUM3", "NUM4", "NUM5", "ALL"):
        numlint("check", ".", "--select", selection, cwd=tree)
    assert all(path.exists() for path in keep)
    ours = [p for p in cache.iterdir() if p.name.startswith("results-") and p not in keep]
    assert len(ours) == 5  # the newest five of numlint's own index files


def test_a_planted_gitignore_symlink_is_not_written_through(tree, tmp_path):
    cache = tree / ".numlint_cache"
    cache.mkdir()
    target = tmp_path / "not-yours"
    (cache / ".gitignore").symlink_to(target)
    numlint("check", ".", cwd=tree)
    assert not target.exists()


# -- git -------------------------------------------------------------------------------------------


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True).returncode != 0, reason="needs git")
def test_the_repositorys_git_config_runs_no_command(tree, tmp_path):
    _git("init", "-q", ".", cwd=tree)
    (tree / "ignored.py").write_text(HAZARDS)
    (tree / ".gitignore").write_text("ignored.py\n")
    _git("add", "model.py", ".gitignore", cwd=tree)
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    # what a cloned repository cannot ship, but a downloaded tree (or a tarball of one) can
    with open(tree / ".git" / "config", "a") as config:
        config.write(f"[core]\n\tfsmonitor = {hook}\n\tuntrackedCache = true\n\tpager = {hook}\n"
                     f"[alias]\n\tls-files = !{hook}\n")
    result = numlint("check", ".", "--output-format", "concise", "--no-cache", cwd=tree)
    assert not marker.exists(), "git ran the repository's command"
    assert result.returncode == 1
    assert text(result).splitlines() == [line for line in text(result).splitlines() if line.startswith("model.py")]
    assert "ignored.py" not in text(result)  # .gitignore is still respected


def test_a_git_planted_in_the_checked_folder_is_not_run(tree, tmp_path):
    marker = tmp_path / "ran"
    fake = tree / "git"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n")
    fake.chmod(0o755)
    result = numlint("check", ".", "--no-cache", cwd=tree, env={"PATH": os.pathsep.join([".", os.environ["PATH"]])})
    assert not marker.exists()
    assert result.returncode == 1
