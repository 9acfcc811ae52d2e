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
    result = numlint("check", ".", "--output-format", "concise", "--no-cache", "--quiet", cwd=tree)
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


# -- what numlint prints ---------------------------------------------------------------------------

HOSTILE_NAMES = {
    "newline": "nl\nforged.py:1:1: NUM999 forged.py".encode(),
    "escape": b"esc\x1b[2J\x1b[31mred.py",
    "bidi": "bidi\u202eyp.py".encode(),
    "not-utf-8": b"latin\xff.py",
}


@pytest.fixture
def hostile(tmp_path):
    """A folder with one hazardous file under each hostile name."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    for name in HOSTILE_NAMES.values():
        with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
            handle.write(HAZARDS.encode())
    return folder


@pytest.mark.parametrize("fmt", ["full", "concise", "github"])
def test_a_file_name_cannot_forge_a_line_or_reach_the_terminal_raw(hostile, fmt):
    result = numlint("check", ".", "--no-cache", "--output-format", fmt, cwd=hostile)
    assert result.returncode == 1
    _no_traceback(result)
    out = result.stdout
    assert b"\x1b" not in out and b"\xe2\x80\xae" not in out and b"\xff" not in out
    lines = out.decode("utf-8").splitlines()
    findings = [line for line in lines if "NUM10" in line and not line.lstrip().startswith(("|", "="))]
    if fmt == "full":
        findings = [line for line in findings if not line.startswith(" ")]
    assert len(findings) == 2 * len(HOSTILE_NAMES)  # two findings per file, one line each
    assert not any(line.startswith("forged.py") for line in lines)
    assert sum("nl\\nforged.py" in line for line in findings) == 2


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab"])
def test_json_formats_stay_valid_utf_8_json_with_hostile_names(hostile, fmt):
    result = numlint("check", ".", "--no-cache", "--output-format", fmt, cwd=hostile)
    assert result.returncode == 1
    _no_traceback(result)
    document = json.loads(result.stdout.decode("utf-8"))  # strict UTF-8: no surrogate escapes
    if fmt == "sarif":
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]}
        assert "latin%FF.py" in uris and "esc%1B%5B2J%1B%5B31mred.py" in uris  # exact, from the bytes
        import jsonschema

        schema = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
        jsonschema.validate(document, schema)
    if fmt == "json":
        assert {os.path.basename(r["filename"]) for r in document} >= {"latin\ufffd.py", "nl\nforged.py:1:1: NUM999 forged.py"}


def test_junit_stays_valid_xml_with_hostile_names(hostile):
    import xml.etree.ElementTree as ET

    result = numlint("check", ".", "--no-cache", "--output-format", "junit", cwd=hostile)
    assert result.returncode == 1
    _no_traceback(result)
    suite = ET.fromstring(result.stdout)
    assert suite.get("failures") == str(2 * len(HOSTILE_NAMES))


def test_an_escape_sequence_in_the_source_is_shown_escaped_and_underlined(tmp_path):
    (tmp_path / "a.py").write_text('import numpy as np\ny = np.log(np.sum(np.exp(x))) + len("\x1b[2J")\n')
    result = numlint("check", "a.py", "--no-cache", cwd=tmp_path)
    assert result.returncode == 1
    out = text(result)
    assert "\x1b" not in out
    line = next(row for row in out.splitlines() if "np.log(np.sum" in row)
    carets = out.splitlines()[out.splitlines().index(line) + 1]
    assert line.index("np.log") == carets.index("^")
    assert '"\\x1b[2J"' in line


def test_a_diff_names_hostile_files_on_one_header_line(hostile):
    result = numlint("check", ".", "--no-cache", "--diff", cwd=hostile)
    _no_traceback(result)
    headers = [line for line in text(result).splitlines() if line.startswith(("--- ", "+++ "))]
    assert len(headers) == 2 * len(HOSTILE_NAMES)
    assert not any(line.startswith("forged.py") for line in text(result).splitlines())


def test_a_closed_stdout_or_a_reader_that_goes_away_is_no_traceback(tree):
    closed = subprocess.run([sys.executable, "-m", "numlint", "check", ".", "--no-cache"], cwd=tree,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 1  # `numlint check . >&-`
    assert closed.stderr == b"", closed.stderr
    for args in (["check", ".", "--no-cache"], ["check", ".", "--no-cache", "--output-format", "json"], ["rules"]):
        read, write = os.pipe()
        os.close(read)  # `| head -0`: the reader is gone before numlint writes
        try:
            gone = subprocess.run([sys.executable, "-m", "numlint", *args], cwd=tree, stdout=write,
                                  stderr=subprocess.PIPE, timeout=120)
        finally:
            os.close(write)
        assert gone.returncode == (0 if args == ["rules"] else 1)
        assert gone.stderr == b"", gone.stderr


def test_a_closed_stdin_is_one_line(tree):
    result = subprocess.run([sys.executable, "-m", "numlint", "check", "-", "--stdin-filename", "m.py"], cwd=tree,
                            capture_output=True, timeout=120, preexec_fn=lambda: os.close(0), stdin=None)
    _no_traceback(result)
    assert result.returncode == 1
    assert b"standard input is closed" in result.stdout + result.stderr


# -- symlinks out of the project -------------------------------------------------------------------


@pytest.mark.parametrize("named", [False, True], ids=["found-in-folder", "named"])
def test_fix_never_writes_through_a_symlink_out_of_the_project(tree, tmp_path, named):
    outside = tmp_path / "outside"
    outside.mkdir()
    important = outside / "important.py"
    important.write_text(HAZARDS)
    (tree / "innocent.py").symlink_to(Path("..") / "outside" / "important.py")
    (tree / "inside.py").write_text(HAZARDS)
    (tree / "link_inside.py").symlink_to("inside.py")  # a link within the project is fine
    args = ["innocent.py", "inside.py"] if named else ["."]
    result = numlint("check", "--fix", "--output-format", "concise", *args, cwd=tree)
    assert important.read_text() == HAZARDS  # untouched
    assert result.returncode == 1
    _no_traceback(result)
    assert f"innocent.py:1:1: error: not fixed: it resolves to {important}, outside the folders being checked" in text(result)
    assert "innocent.py:6:11: NUM101" in text(result)  # still reported
    assert (tree / "inside.py").read_text() != HAZARDS  # the rest is fixed


# -- configuration and rule files that are not files -----------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_a_rule_file_that_is_not_a_small_file_is_one_line_and_no_hang(tree, kind):
    rules = tree / "rules"
    rules.mkdir()
    target = rules / "PRJ001.toml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    else:
        target.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    (tree / "pyproject.toml").write_text('[tool.numlint]\nrule-paths = ["rules"]\n')
    result = numlint("check", ".", "--no-cache", cwd=tree)
    assert result.returncode == 2
    _no_traceback(result)
    assert errors(result).startswith("numlint: error: ") and "PRJ001.toml: cannot read" in errors(result)
    assert len(errors(result).splitlines()) == 1
