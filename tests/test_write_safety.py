"""`--fix` never loses an edit and keeps the file itself (issue 11, "Data: never lose an edit").

- An edit made between numlint's read and its write is kept: the file is left alone, named in one
  line, and the run exits non-zero; two concurrent `--fix` runs never silently undo each other.
- Owner, group, mode and hard links are kept; a read-only file, or one the user may not write, is
  never written.
- Killing the main process (SIGKILL) or the whole group (SIGTERM) under `-j` leaves no process
  behind, no `.numlint-*.tmp` file, and every file either as it was or fully fixed.

Instrumented runs start the real CLI through a small wrapper that patches numlint in the
subprocess before `main()` runs (worker processes are forked, so they inherit the patch): no test
hook lives in numlint itself.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from numlint import source
from numlint.rules import registry
from numlint.runner import Mode, check_source

LSE = "torch.log(torch.sum(torch.exp(x), dim=1))"
LSE_FIXED = "torch.logsumexp(x, dim=1)"
LOG_SOFTMAX = "torch.log(torch.softmax(z, dim=-1))"
LOG_SOFTMAX_FIXED = "torch.log_softmax(z, dim=-1)"
HAZARD = f"import torch\ny = {LSE}\n"
CHANGED = "not fixed: the file changed while numlint was fixing it"


def _env():
    return dict(os.environ, NO_COLOR="1", COLUMNS="200")


def numlint(*args, cwd, timeout=300, wrapper=None, **kwargs):
    command = [sys.executable, "-c", wrapper] if wrapper else [sys.executable, "-m", "numlint"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, env=_env(),
                          timeout=timeout, **kwargs)


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


# -- 1. an edit made while --fix runs ------------------------------------------------------------

# Appends a line to chosen files just before numlint replaces them: the edit a user's editor (or
# another tool) makes between numlint's read and its write.
EDIT_BEFORE_WRITE = textwrap.dedent(
    """
    import os, sys
    from numlint import source
    real = source.write_atomic
    def write_atomic(path, data, expected=None):
        if os.path.basename(path).startswith("edited"):
            with open(path, "a") as handle:
                handle.write("# the user's edit\\n")
        return real(path, data, expected)
    source.write_atomic = write_atomic
    from numlint.cli import main
    sys.argv[0] = "numlint"
    main()
    """
)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_edit_made_while_fixing_is_kept_and_reported(tmp_path, jobs):
    names = [f"{'edited' if i % 5 == 0 else 'plain'}{i:02d}.py" for i in range(30)]
    for name in names:
        (tmp_path / name).write_text(HAZARD)
    result = numlint("--fix", "--no-cache", "-j", jobs, "--output-format", "concise", ".",
                     cwd=tmp_path, wrapper=EDIT_BEFORE_WRITE)
    no_traceback(result)
    assert result.returncode == 1, result.stdout
    edited = [n for n in names if n.startswith("edited")]
    for name in names:
        text = (tmp_path / name).read_text()
        if name in edited:
            assert text == HAZARD + "# the user's edit\n", name  # the edit is kept, the fix not written
        else:
            assert text == HAZARD.replace(LSE, LSE_FIXED), name
    reported = sorted(line.split(":")[0] for line in result.stdout.splitlines() if CHANGED in line)
    assert reported == edited  # one line each
    assert not list(tmp_path.glob(".numlint-*"))


def test_write_atomic_refuses_changed_content(tmp_path):
    target = tmp_path / "m.py"
    target.write_bytes(b"old\n")
    expected = source.content_digest(b"old\n")
    target.write_bytes(b"edited\n")
    with pytest.raises(source.FileChanged):
        source.write_atomic(str(target), b"new\n", expected=expected)
    assert target.read_bytes() == b"edited\n"
    source.write_atomic(str(target), b"new\n", expected=source.content_digest(b"edited\n"))
    assert target.read_bytes() == b"new\n"


def test_write_atomic_refuses_a_file_replaced_by_rename(tmp_path):
    """An editor that saves by rename: the path names another file than the one read."""
    target = tmp_path / "m.py"
    target.write_bytes(b"old\n")
    expected = source.content_digest(b"old\n")
    (tmp_path / "saved").write_bytes(b"saved by an editor\n")
    os.replace(tmp_path / "saved", target)
    with pytest.raises(source.FileChanged):
        source.write_atomic(str(target), b"new\n", expected=expected)
    assert target.read_bytes() == b"saved by an editor\n"


def _two_hazard_tree(root: Path, count: int) -> None:
    body = "\n".join(f"def f{i}(x, z):\n    a = {LSE}\n    b = {LOG_SOFTMAX}\n    return a, b\n" for i in range(6))
    for i in range(count):
        (root / f"m{i:03d}.py").write_text("import torch\n\n\n" + body)


def test_two_concurrent_fix_runs_lose_nothing(tmp_path):
    """Run A fixes NUM101, run B NUM102, at the same time over one tree: in every file each run's
    fix is there, or that run said it left the file because it changed."""
    count = 120
    _two_hazard_tree(tmp_path, count)
    runs = []
    for code in ("NUM101", "NUM102"):
        runs.append(subprocess.Popen(
            [sys.executable, "-m", "numlint", "check", "--fix", "--no-cache", "-j", "2", "--select", code,
             "--output-format", "concise", "."],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        ))
    outputs = [run.communicate(timeout=600) for run in runs]
    refused = []
    for run, (out, err) in zip(runs, outputs):
        assert "Traceback" not in err, err
        refused.append({line.split(":")[0] for line in out.splitlines() if CHANGED in line})
        assert run.returncode == (1 if refused[-1] else 0), out + err
    for i in range(count):
        name = f"m{i:03d}.py"
        text = (tmp_path / name).read_text()
        compile(text, name, "exec")
        assert (LSE not in text) or name in refused[0], name
        assert (LOG_SOFTMAX not in text) or name in refused[1], name
        # a fix is all or nothing in a file: never half of one run's edits
        assert text.count(LSE_FIXED) in (0, 6) and text.count(LOG_SOFTMAX_FIXED) in (0, 6)
    assert not list(tmp_path.glob(".numlint-*"))


# -- 2. keep the file itself ------------------------------------------------------------------------


def test_read_only_file_is_not_written(tmp_path):
    target = tmp_path / "m.py"
    target.write_text(HAZARD)
    target.chmod(0o444)
    result = numlint("check", "--fix", "--no-cache", "--output-format", "concise", "m.py", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1
    assert target.read_text() == HAZARD and stat.S_IMODE(target.stat().st_mode) == 0o444
    lines = result.stdout.splitlines()
    assert "m.py:1:1: error: not fixed: the file is read-only (mode 0444)" in lines
    assert any(line.startswith("m.py:2:5: NUM101") for line in lines)  # the hazard is still reported


def test_hard_links_stay_one_file(tmp_path):
    target = tmp_path / "m.py"
    target.write_text(HAZARD)
    os.link(target, tmp_path / "other-name.txt")
    inode = target.stat().st_ino
    result = numlint("check", "--fix", "--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert target.stat().st_ino == inode and target.stat().st_nlink == 2
    assert (tmp_path / "other-name.txt").read_text() == HAZARD.replace(LSE, LSE_FIXED)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py", "other-name.txt"]


root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")


@root_only
def test_owner_and_group_are_kept(tmp_path):
    theirs = tmp_path / "theirs.py"
    theirs.write_text(HAZARD)
    os.chown(theirs, 4321, 4321)
    ours_other_group = tmp_path / "group.py"
    ours_other_group.write_text(HAZARD)
    os.chown(ours_other_group, os.geteuid(), 4321)
    ours_other_group.chmod(0o2775)
    result = numlint("check", "--fix", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    for path, owner, group, mode in ((theirs, 4321, 4321, 0o644), (ours_other_group, os.geteuid(), 4321, 0o2775)):
        info = path.stat()
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (owner, group, mode), path.name
        assert path.read_text() == HAZARD.replace(LSE, LSE_FIXED)


def _fix_as_nobody(paths):
    """check_file with --fix as user `nobody`, in a forked child (the interpreter under /root
    cannot be started by nobody, so not through the CLI): each file's error messages."""
    import json

    from numlint.config import Settings
    from numlint.runner import check_file

    rules = registry()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setgroups([])
            os.setuid(65534)
            out = {}
            for path in paths:
                result = check_file(path, rules, frozenset(rules), Settings(root=path.parent), Mode(fix=True, write=True))
                out[path.name] = [e.message for e in result.errors]
            os.write(write_end, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    return json.loads(data)


@root_only
def test_a_user_without_write_permission_never_writes(tmp_path):
    """As `nobody`: a file nobody may write is reported and left; one it may write, in a folder it
    may not create files in, is written in place (same inode, owner still root)."""
    folder = Path(tempfile.mkdtemp(prefix="numlint-perm-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        (folder / "protected.py").write_text(HAZARD)
        (folder / "protected.py").chmod(0o644)
        (folder / "shared.py").write_text(HAZARD)
        (folder / "shared.py").chmod(0o666)
        inode = (folder / "shared.py").stat().st_ino
        errors = _fix_as_nobody([folder / "protected.py", folder / "shared.py"])
        assert errors == {"protected.py": ["not fixed: no permission to write the file (mode 0644)"], "shared.py": []}
        assert (folder / "protected.py").read_text() == HAZARD
        shared = (folder / "shared.py").stat()
        assert (shared.st_ino, shared.st_uid, stat.S_IMODE(shared.st_mode)) == (inode, 0, 0o666)
        assert (folder / "shared.py").read_text() == HAZARD.replace(LSE, LSE_FIXED)
        assert sorted(p.name for p in folder.iterdir()) == ["protected.py", "shared.py"]
    finally:
        shutil.rmtree(folder)


def test_in_place_write_keeps_the_old_bytes_on_a_full_disk(tmp_path, monkeypatch):
    """The in-place path reserves the room before it writes: ENOSPC changes nothing."""
    import errno

    target = tmp_path / "m.py"
    target.write_bytes(b"short\n")
    os.link(target, tmp_path / "link")  # a hard link: written in place

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(source.os, "posix_fallocate", full, raising=False)
    with pytest.raises(OSError):
        source.write_atomic(str(target), b"a much longer content\n" * 10, expected=source.content_digest(b"short\n"))
    assert target.read_bytes() == b"short\n"


def test_a_signal_during_a_write_waits_for_it(tmp_path, monkeypatch):
    """SIGTERM arriving mid-write takes effect only once the file is whole."""
    target = tmp_path / "m.py"
    target.write_bytes(b"old\n")
    seen = []
    real_replace = source.os.replace

    def replace_after_a_signal(src, dst):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler would run here, were it not deferred
        seen.append(Path(dst).read_bytes())
        real_replace(src, dst)

    class Terminated(Exception):
        pass

    def handler(signum, frame):
        seen.append("handler")
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        monkeypatch.setattr(source.os, "replace", replace_after_a_signal)
        with pytest.raises(Terminated):
            source.write_atomic(str(target), b"new\n", expected=source.content_digest(b"old\n"))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [b"old\n", "handler"]
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


# -- 3. kills under -j --------------------------------------------------------------------------


def _big_tree(root: Path, count: int = 60):
    """`count` identical files with many hazards each (slow enough to kill mid-run); returns the
    fully fixed bytes of one."""
    body = "import torch\n\n\n" + "\n".join(
        f"def f{i}(x, z):\n    a = {LSE}\n    b = {LOG_SOFTMAX}\n    return a, b\n" for i in range(40))
    for i in range(count):
        (root / f"m{i:03d}.py").write_text(body)
    rules = list(registry().values())
    fixed = check_source(body, rules, "m.py", Mode(fix=True)).fixed_source
    assert fixed is not None and LSE not in fixed
    return body.encode(), fixed.encode()


def _wait_for_a_fixed_file(root: Path, original: bytes, process, timeout=120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        for path in root.glob("m*.py"):
            try:
                if path.read_bytes() != original:
                    return
            except OSError:
                pass
        time.sleep(0.05)
    pytest.fail("no file was fixed in time")


def _group_gone(pgid: int, timeout=15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        _reap()
        time.sleep(0.1)
    return False


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _check_files_whole(root: Path, original: bytes, fixed: bytes) -> None:
    states = {}
    for path in sorted(root.glob("m*.py")):
        data = path.read_bytes()
        assert data in (original, fixed), f"{path.name} is neither the original nor fully fixed"
        states[data == fixed] = states.get(data == fixed, 0) + 1
    assert states.get(True) and states.get(False), states  # killed mid-run: some fixed, some not
    assert not list(root.glob(".numlint-*")), list(root.glob(".numlint-*"))


@pytest.mark.parametrize("how", ["SIGKILL the main process", "SIGTERM the group"])
def test_killing_a_parallel_fix_leaves_no_process_and_no_half_file(tmp_path, how):
    original, fixed = _big_tree(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "numlint", "check", "--fix", "--no-cache", "-j", "2", "."],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        start_new_session=True,  # its own process group, to find (and kill) its workers
    )
    try:
        _wait_for_a_fixed_file(tmp_path, original, process)
        if how.startswith("SIGKILL"):
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert _group_gone(process.pid), "a numlint process outlived the run"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if how.startswith("SIGTERM"):
        assert process.returncode == 128 + signal.SIGTERM, err
        assert "Traceback" not in err and err.strip().startswith("numlint: interrupted (SIGTERM)"), err
    _check_files_whole(tmp_path, original, fixed)


def test_the_watchdog_ends_a_worker_whose_parent_died_without_prctl(tmp_path):
    """The portable fallback (no PR_SET_PDEATHSIG): a thread sees the parent gone and ends us."""
    script = textwrap.dedent(
        """
        import os, sys, time
        from numlint import workers
        workers.PARENT_POLL = 0.05
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            workers.die_with_parent(parent, use_prctl=False)
            time.sleep(60)
            os._exit(3)
        print(pid, flush=True)
        os._exit(0)  # the parent dies at once
        """
    )
    result = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, timeout=60)
    child = int(result.stdout.strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the orphaned worker did not end")


# -- 4. a worker that dies --------------------------------------------------------------------------

# A real segfault (or exit) in the worker that checks a file named in the environment.
DIE_ON_A_FILE = textwrap.dedent(
    """
    import ctypes, os, sys
    from numlint import runner
    real = runner.check_file
    doomed = set(os.environ["NUMLINT_TEST_DOOMED"].split(","))
    def check_file(path, *args, **kwargs):
        if os.path.basename(str(path)) in doomed:
            if os.environ.get("NUMLINT_TEST_HOW") == "exit":
                os._exit(9)
            ctypes.string_at(0)  # SIGSEGV
        return real(path, *args, **kwargs)
    runner.check_file = check_file
    from numlint.cli import main
    sys.argv[0] = "numlint"
    main()
    """
)


@pytest.mark.parametrize("how, said", [("segfault", "killed by SIGSEGV"), ("exit", "exit status 9")])
@pytest.mark.parametrize("fix", [False, True], ids=["check", "fix"])
def test_a_dead_worker_costs_only_its_file(tmp_path, how, said, fix):
    names = [f"m{i:02d}.py" for i in range(24)]
    for name in names:
        (tmp_path / name).write_text(HAZARD)
    doomed = ["m03.py", "m17.py"]
    env = dict(_env(), NUMLINT_TEST_DOOMED=",".join(doomed), NUMLINT_TEST_HOW=how)
    args = ["--fix"] if fix else []
    result = subprocess.run([sys.executable, "-c", DIE_ON_A_FILE, *args, "--no-cache", "-j", "2",
                             "--output-format", "concise", "."], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=300)
    assert "Traceback" not in result.stderr and "BrokenProcessPool" not in result.stderr, result.stderr
    assert result.returncode == 2  # numlint itself failed on those files
    died = [line for line in result.stdout.splitlines() if "worker process checking this file died" in line]
    assert sorted(line.split(":")[0] for line in died) == doomed
    assert all(f"({said})" in line and line.split(":")[1:3] == ["1", "1"] for line in died), died
    for name in names:
        if name in doomed:
            assert (tmp_path / name).read_text() == HAZARD
        elif fix:
            assert (tmp_path / name).read_text() == HAZARD.replace(LSE, LSE_FIXED), name
        else:
            assert re.search(rf"^{re.escape(name)}:2:5: NUM101", result.stdout, re.M), name
