"""Never crash, never corrupt: numlint against everything a repository can hold.

Each fault case runs the real CLI on a folder holding the odd file and an ordinary hazardous file,
and checks: a clear one-line message for the odd file (or its correct findings), the ordinary
file still checked, no traceback, and the exit code (1: something found or a file could not be
read or parsed; 2 only when numlint itself failed). Then: a crashing rule is contained, `--fix`
writes atomically, keeps permissions, never writes a fix that breaks the file, and is stable.

Bugs found here are listed in docs/reliability.md. A new one is first written as a test marked
xfail(strict=True) naming the bug: it passes once the bug is fixed, and strict xfail then asks
for the marker to go.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from numlint import source
from numlint.checker import check_text
from numlint.config import Settings
from numlint.diagnostics import SAFE, Edit, Finding, Fix, Position
from numlint.fixes import MAX_ROUNDS, apply_edits, fix_text
from numlint.rules import registry
from numlint.runner import Mode, check_file

from samples import FIXED, HAZARDS  # noqa: E402  (tests/ is on sys.path under pytest)

ROOT = Path(__file__).resolve().parents[1]

LSE = "torch.log(torch.sum(torch.exp(x), dim=1))"
LSE_FIXED = "torch.logsumexp(x, dim=1)"
HAZARD = f"import torch\ny = {LSE}\n"  # NUM101 at 2:5
NUM101_MESSAGE = "NUM101 `log(sum(exp(x)))` overflows to inf"
ORDINARY_LINE = f"ordinary.py:2:5: {NUM101_MESSAGE}"


def numlint(*args, cwd=None, input=None, timeout=300):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "numlint", *args],
        cwd=cwd, input=input, capture_output=True, env=env, timeout=timeout,
    )


def concise(*paths, cwd, extra=()):
    """Run `numlint check --output-format concise --no-cache` and decode its output."""
    result = numlint("check", *paths, "--output-format", "concise", "--no-cache", "--quiet", *extra, cwd=cwd)
    return result.returncode, result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace")


def rules():
    return list(registry().values())


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


# -- 1. every odd file, beside an ordinary one -------------------------------------------------------


def deep_calls(depth: int, inner: str = "x") -> str:
    text = inner
    for _ in range(depth):
        text = f"torch.log({text})"
    return text


def _latin1(tmp):
    (tmp / "legacy.py").write_bytes(
        f"# -*- coding: latin-1 -*-\n# café\nimport torch\ny = {LSE}\n".encode("latin-1")
    )


def _symlink(tmp):
    os.symlink("missing", tmp / "broken.py")


def _directory(tmp):
    (tmp / "pkg.py").mkdir()
    (tmp / "pkg.py" / "inner.py").write_text(HAZARD)


# name -> (write the case into `folder`, patterns). Each pattern (fnmatch; a tuple means "one of
# these") must match a line of the concise report; `NOTHING` means the file must not be mentioned.
NOTHING = "nothing"
CASES = {
    "syntax-error": (
        lambda t: (t / "broken.py").write_text("import torch\ndef f(:\n    return torch.log(torch.sum(torch.exp(x)))\n"),
        ["broken.py:2:7: error: cannot parse: invalid syntax"],
    ),
    "python2": (
        lambda t: (t / "py2.py").write_text('print "x"\nimport numpy as np; y = np.log(np.sum(np.exp(x)))\n'),
        ["py2.py:1:1: error: cannot parse: Missing parentheses in call to 'print'*"],
    ),
    "empty": (lambda t: (t / "empty.py").write_bytes(b""), NOTHING),
    "parentheses-1000-deep": (
        # CPython refuses this too ("too many nested parentheses"); nothing numeric to report.
        lambda t: (t / "parens.py").write_text("import torch\ny = " + "(" * 1000 + "x" + ")" * 1000 + "\n"),
        NOTHING,
    ),
    "parentheses-1000-deep-around-a-hazard": (
        lambda t: (t / "parens.py").write_text("import torch\ny = " + "(" * 1000 + LSE + ")" * 1000 + "\n"),
        # Refused before libcst (limits.py: nesting beyond 200), in one placed line.
        ["parens.py:2:205: error: cannot check: nested 1003 deep (limit 200)"],
    ),
    "sum-of-5000-terms": (
        # CPython's own compiler gives up on this one (RecursionError).
        lambda t: (t / "terms.py").write_text(f"import torch\nz = {LSE}\ny = " + " + ".join(["1"] * 5000) + "\n"),
        # libcst's parse time grows faster than the square of the operators (43 s here): refused.
        ["terms.py:3:4007: error: cannot check: 4,999 operators in one expression (limit 1,000)"],
    ),
    "calls-500-deep": (
        lambda t: (t / "calls.py").write_text("import torch\ny = " + deep_calls(500) + "\n"),
        NOTHING,
    ),
    "calls-500-deep-around-a-hazard": (
        lambda t: (t / "calls.py").write_text(f"import torch\nz = {LSE}\ny = " + deep_calls(500, LSE) + "\n"),
        [(f"calls.py:2:5: {NUM101_MESSAGE}*", "calls.py:*: error: *")],
    ),
    "latin-1-with-cookie": (_latin1, [f"legacy.py:4:5: {NUM101_MESSAGE}*"]),
    "utf-8-bom": (
        lambda t: (t / "bom.py").write_bytes(source.BOM + HAZARD.encode()),
        [f"bom.py:2:5: {NUM101_MESSAGE}*"],
    ),
    "crlf": (
        lambda t: (t / "crlf.py").write_bytes(HAZARDS.replace("\n", "\r\n").encode()),
        [f"crlf.py:6:11: {NUM101_MESSAGE}*", "crlf.py:8:12: NUM102 *"],
    ),
    "cr-only": (
        lambda t: (t / "cr.py").write_bytes(HAZARDS.replace("\n", "\r").encode()),
        [f"cr.py:6:11: {NUM101_MESSAGE}*", "cr.py:8:12: NUM102 *"],
    ),
    "mixed-newlines": (
        lambda t: (t / "mixed.py").write_bytes(b"import torch\r\nimport numpy as np\rz = 1\n\r\ny = " + LSE.encode() + b"\r\n"),
        [f"mixed.py:5:5: {NUM101_MESSAGE}*"],
    ),
    "tabs": (
        lambda t: (t / "tabs.py").write_text(f"import torch\ndef f(x):\n\tif x:\n\t\treturn {LSE}\n"),
        [f"tabs.py:4:10: {NUM101_MESSAGE}*"],
    ),
    "form-feeds": (
        # Page breaks on lines of their own, as Emacs writes them (in indentation: test_form_feeds_in_*).
        lambda t: (t / "ff.py").write_text(f"import torch\n\x0c\ndef f(x):\n\x0c\n    a = 1\n    return {LSE}\n"),
        [f"ff.py:6:12: {NUM101_MESSAGE}*"],
    ),
    "nul-byte": (
        # CPython refuses NUL bytes, libcst reads them: the finding or a parse error are both clear.
        lambda t: (t / "nul.py").write_bytes(HAZARD.encode() + b"# \x00\n"),
        [(f"nul.py:2:5: {NUM101_MESSAGE}*", "nul.py:*: error: cannot parse*")],
    ),
    "undecodable-bytes": (
        lambda t: (t / "binary.py").write_bytes(b"import torch\n# \xff\xfe\ny = " + LSE.encode() + b"\n"),
        ["binary.py:*: error: cannot decode as utf-8*"],
    ),
    "unknown-coding-cookie": (
        lambda t: (t / "cookie.py").write_bytes(b"# -*- coding: klingon -*-\n" + HAZARD.encode()),
        ["cookie.py:1:1: error: cannot detect the encoding*"],
    ),
    "broken-symlink": (_symlink, ["broken.py:1:1: error: cannot read: No such file or directory"]),
    "directory-named-pkg.py": (_directory, [f"{os.path.join('pkg.py', 'inner.py')}:2:5: {NUM101_MESSAGE}*"]),
    "name-with-spaces-and-unicode": (
        lambda t: (t / "my modèle ünï 名.py").write_text(HAZARD),
        [f"my modèle ünï 名.py:2:5: {NUM101_MESSAGE}*"],
    ),
}


def _case_files(case, folder):
    """The names a case writes, to tell its report lines from the ordinary file's."""
    before = set(os.listdir(folder))
    CASES[case][0](folder)
    return sorted(set(os.listdir(folder)) - before)


def _check_report(lines, patterns, names, prefix=""):
    mine = [line for line in lines if any(line.startswith(prefix + name) for name in names)]
    if patterns == NOTHING:
        assert mine == [], mine
        return
    for pattern in patterns:
        options = pattern if isinstance(pattern, tuple) else (pattern,)
        assert any(fnmatch.fnmatchcase(line, prefix + option) for line in mine for option in options), (pattern, mine)
    # Every line of the file is one finding or one error: nothing else leaks into the report.
    for line in mine:
        assert ": NUM" in line or ": error: " in line, line


@pytest.mark.parametrize("case", list(CASES))
def test_odd_file_beside_an_ordinary_one(tmp_path, case):
    (tmp_path / "ordinary.py").write_text(HAZARD)
    names = _case_files(case, tmp_path)
    code, out, err = concise(".", cwd=tmp_path)
    no_traceback(err)
    assert err == "", err
    lines = out.splitlines()
    assert any(line.startswith(ORDINARY_LINE) for line in lines), out
    _check_report(lines, CASES[case][1], names)
    assert code == 1, (code, out)


def test_every_odd_file_in_one_tree(tmp_path):
    """All the cases at once, in worker processes (used from 8 files on; the tests above run serially)."""
    (tmp_path / "ordinary.py").write_text(HAZARD)
    folders = {}
    for index, case in enumerate(CASES):
        folder = tmp_path / f"case{index:02d}"
        folder.mkdir()
        folders[case] = (folder.name, _case_files(case, folder))
    code, out, err = concise(".", cwd=tmp_path, extra=("-j", "2"))
    no_traceback(err)
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith(ORDINARY_LINE) for line in lines)
    for case, (folder, names) in folders.items():
        _check_report(lines, CASES[case][1], names, prefix=folder + os.sep)


def test_fix_and_diff_over_every_odd_file(tmp_path):
    """`--diff` and `--fix` on the whole tree: no traceback, and every file is either untouched or
    holds exactly the expected rewrite (nothing else in it changed), and compiles."""
    (tmp_path / "ordinary.py").write_text(HAZARD)
    for index, case in enumerate(CASES):
        folder = tmp_path / f"case{index:02d}"
        folder.mkdir()
        _case_files(case, folder)

    def files():
        return {p: p.read_bytes() for p in sorted(tmp_path.rglob("*.py")) if p.is_file()}

    before = files()
    diff = numlint("check", "--diff", ".", "--no-cache", cwd=tmp_path)
    no_traceback(diff.stderr.decode())
    assert files() == before
    fixed = numlint("check", "--fix", ".", "--output-format", "concise", "--no-cache", cwd=tmp_path)
    no_traceback(fixed.stderr.decode())
    after = files()
    assert set(after) == set(before)
    for path, data in after.items():
        if data == before[path]:
            continue
        original = before[path]
        newline = b"\r\n" if b"\r\n" in original else b"\r" if b"\r" in original else b"\n"
        expected = {
            original.replace(LSE.encode(), LSE_FIXED.encode()),
            FIXED.encode().replace(b"\n", newline),
        }
        around = re.search(rb"(\(*)" + re.escape(LSE.encode()) + rb"(\)*)", original)
        if around:  # the hazard's own redundant parentheses go with it: `((log(...)))` -> `logsumexp(...)`
            n = min(len(around.group(1)), len(around.group(2)))
            expected.add(original[:around.start() + len(around.group(1)) - n] + LSE_FIXED.encode()
                         + original[around.end() - len(around.group(2)) + n:])
        assert data in expected, path
        assert compiles(data), path
    fixable = {
        "latin-1-with-cookie", "utf-8-bom", "crlf", "cr-only",
        "mixed-newlines", "tabs", "form-feeds", "directory-named-pkg.py", "name-with-spaces-and-unicode",
    }
    folders = {f"case{index:02d}": case for index, case in enumerate(CASES)}
    changed_cases = {folders[p.relative_to(tmp_path).parts[0]] for p in after
                     if after[p] != before[p] and p.name != "ordinary.py"}
    assert changed_cases - {"nul-byte"} == fixable
    assert after[tmp_path / "ordinary.py"] != before[tmp_path / "ordinary.py"]
    assert not list(tmp_path.rglob(".numlint-*"))


def compiles(data: bytes) -> bool:
    try:
        compile(data, "<test>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


@pytest.mark.parametrize(
    "name, data, code",
    [
        ("empty.py", b"", 0),
        ("clean.py", b"import torch\ny = torch.logsumexp(x, dim=1)\n", 0),
        ("broken.py", b"import torch\ndef f(:\n    return torch.log(torch.softmax(x, -1))\n", 1),
        ("binary.py", b"import torch\n\xff\n", 1),
    ],
)
def test_exit_code_of_one_file(tmp_path, name, data, code):
    (tmp_path / name).write_bytes(data)
    result, out, err = concise(name, cwd=tmp_path)
    no_traceback(err)
    assert result == code, out + err


def test_broken_symlink_and_directory_named_on_the_command_line(tmp_path):
    os.symlink("missing", tmp_path / "broken.py")
    _directory(tmp_path)
    (tmp_path / "ordinary.py").write_text(HAZARD)
    code, out, err = concise("broken.py", "pkg.py", "ordinary.py", cwd=tmp_path)
    no_traceback(err)
    assert code == 1
    assert out.splitlines()[0] == "broken.py:1:1: error: cannot read: No such file or directory"
    assert any(line.startswith(os.path.join("pkg.py", "inner.py") + ":2:5: NUM101") for line in out.splitlines())
    assert any(line.startswith(ORDINARY_LINE) for line in out.splitlines())


def test_unreadable_file(tmp_path):
    target = tmp_path / "secret.py"
    target.write_text(HAZARD)
    target.chmod(0)
    try:
        if os.access(target, os.R_OK):
            pytest.skip("running as a user who can read a chmod 000 file (root)")
        (tmp_path / "ordinary.py").write_text(HAZARD)
        code, out, err = concise(".", cwd=tmp_path)
        no_traceback(err)
        assert code == 1
        assert "secret.py:1:1: error: cannot read: Permission denied" in out.splitlines()
        assert any(line.startswith(ORDINARY_LINE) for line in out.splitlines())
    finally:
        target.chmod(0o644)


def test_unreadable_file_in_process(tmp_path, monkeypatch):
    """The same path as the chmod 000 test, for runs as root: reading fails with EACCES."""
    target = tmp_path / "secret.py"
    target.write_text(HAZARD)

    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(source, "open", refuse, raising=False)
    registry_ = registry()
    result = check_file(target, registry_, frozenset(registry_), Settings(root=tmp_path))
    assert [e.message for e in result.errors] == ["cannot read: Permission denied"]
    assert result.errors[0].code is None  # the user's problem, not numlint's: exit 1
    assert result.findings == ()


def test_huge_file_finishes_and_reports_everything(tmp_path):
    """8,000 lines, 800 of them hazards: a smoke check that nothing is quadratic in lines (a quadratic
    in the flow's reads took this from seconds to minutes; 20,000 lines cost CI 70 s)."""
    lines = ["import torch", "import numpy as np"]
    for i in range(7998):
        if i % 10 == 0:
            lines.append(f"y{i} = torch.log(torch.sum(torch.exp(x{i}), dim=1))")
        else:
            lines.append(f"z{i} = np.mean(x{i} * 2 + {i}) - w[{i}]")
    (tmp_path / "huge.py").write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    code, out, err = concise("huge.py", cwd=tmp_path)
    seconds = time.perf_counter() - started
    no_traceback(err)
    assert code == 1
    assert len(out.splitlines()) == 800
    assert out.splitlines()[0].startswith("huge.py:3:6: NUM101")
    assert seconds < 240, f"took {seconds:.0f} s"  # generous: a smoke check, not a timing target


# -- encodings and newlines under --fix ---------------------------------------------------------------


def _fix(tmp_path, name, data: bytes, *extra):
    target = tmp_path / name
    target.write_bytes(data)
    result = numlint("check", "--fix", name, "--output-format", "concise", *extra, cwd=tmp_path)
    no_traceback(result.stderr.decode())
    return result, target.read_bytes()


def test_fix_keeps_latin1_bytes(tmp_path):
    text = f"# -*- coding: latin-1 -*-\n# café, naïve\nimport torch\ny = {LSE}  # é\n"
    result, written = _fix(tmp_path, "legacy.py", text.encode("latin-1"))
    assert result.returncode == 0, result.stdout
    assert written == text.replace(LSE, LSE_FIXED).encode("latin-1")


def test_fix_keeps_bom(tmp_path):
    result, written = _fix(tmp_path, "bom.py", source.BOM + HAZARD.encode())
    assert result.returncode == 0
    assert written == source.BOM + HAZARD.replace(LSE, LSE_FIXED).encode()


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_fix_keeps_uniform_newlines(tmp_path, newline):
    result, written = _fix(tmp_path, "m.py", HAZARDS.replace("\n", newline).encode())
    assert result.returncode == 0, result.stdout
    assert written == FIXED.replace("\n", newline).encode()


def _join(lines, newlines):
    return "".join(line + newline for line, newline in zip(lines, newlines))


def test_fix_keeps_mixed_newlines_byte_for_byte(tmp_path):
    """Each kept line keeps its own newline; the deleted intermediate line goes with its own."""
    lines = HAZARDS.splitlines()
    newlines = ["\r\n", "\n", "\r", "\r\n", "\r", "\n", "\r\n", "\r", "\n"]
    assert len(lines) == len(newlines)
    original = _join(lines, newlines)
    code, out, _ = concise("m.py", cwd=_write(tmp_path, "m.py", original.encode()))
    assert [line.split(": ")[0] for line in out.splitlines()] == ["m.py:6:11", "m.py:8:12"]
    result, written = _fix(tmp_path, "m.py", original.encode())
    assert result.returncode == 0, result.stdout
    fixed_lines = FIXED.splitlines()
    # FIXED drops line 7 (`probs = ...`): every other line keeps its newline.
    kept = newlines[:6] + newlines[7:]
    assert written == _join(fixed_lines, kept).encode()


def _write(folder, name, data: bytes):
    (folder / name).write_bytes(data)
    return folder


def test_fix_adds_an_import_with_the_files_newline(tmp_path):
    text = "import numpy as np\rfrom scipy.special import expit\r\ry = np.log(expit(x))\r"
    result, written = _fix(tmp_path, "m.py", text.encode())
    assert result.returncode == 0, result.stdout
    assert written == (
        b"import numpy as np\rfrom scipy.special import expit\rfrom scipy.special import log_expit\r\ry = log_expit(x)\r"
    )


MIXED_WITH_HELPER = (
    b"import numpy as np\r\n"
    b"def helper():\r"  # a lone CR, then LF lines: the helper is blanked out by the prefilter
    b"    return 1\n"
    b"\n"
    b"a = np.log(np.abs(np.exp(z)))\n"  # not a hazard
    b"b = np.log(np.sum(np.exp(z)))\n"  # NUM101, row 6
)


def test_mixed_newlines_in_a_blanked_function_keep_rows(tmp_path):
    code, out, err = concise("m.py", cwd=_write(tmp_path, "m.py", MIXED_WITH_HELPER))
    assert len(out.splitlines()) == 1 and out.startswith("m.py:6:5: NUM101 "), out


def test_mixed_newlines_in_a_blanked_function_fix_the_right_line(tmp_path):
    result, written = _fix(tmp_path, "m.py", MIXED_WITH_HELPER)
    assert b"a = np.log(np.abs(np.exp(z)))\n" in written, written
    assert written == MIXED_WITH_HELPER.replace(b"np.log(np.sum(np.exp(z)))", b"np.logaddexp.reduce(z, axis=None)")


FORM_FEED_INDENT = f"import torch\ndef f(x):\n\x0c    a = 1\n    return {LSE}\n"


@pytest.mark.parametrize(
    "text",
    [
        f"import torch\ndef f(x):\n    a = 1\n\x0c    return {LSE}\n",  # not the block's first line
        f"import torch\ndef f(x):\n  \x0c    return {LSE}\n",  # spaces before a form feed count for nothing
        f"import torch\ndef f(x):\n    if x:\n\x0c        a = 1\n        return {LSE}\n",  # libcst refuses it as is
        f"\x0cimport torch\n\x0cy = {LSE}\n",  # top level, and the first line
        f"import torch\ndef f(x):\r\n\x0c    a = '''\r\n\x0c    '''\r\n\x0c    return {LSE}\r\n",  # in a string: kept
    ],
    ids=["second-line", "after-spaces", "nested-block", "top-level", "crlf-and-string"],
)
def test_form_feeds_in_indentation_in_process(text):
    findings, errors = check_text(text, rules())
    assert errors == [] and [f.code for f in findings] == ["NUM101"]
    start = text.index(LSE)
    row = text.count("\n", 0, start) + 1
    column = start - text.rfind("\n", 0, start)
    assert (findings[0].location.row, findings[0].location.column) == (row, column)
    outcome = fix_text(text, lambda t: check_text(t, rules()), unsafe=False)
    assert outcome.text == text.replace(LSE, LSE_FIXED) and not outcome.errors


def test_form_feed_in_indentation_position(tmp_path):
    code, out, err = concise("m.py", cwd=_write(tmp_path, "m.py", FORM_FEED_INDENT.encode()))
    assert out.startswith("m.py:4:12: NUM101 "), out


def test_form_feed_in_indentation_fix(tmp_path):
    result, written = _fix(tmp_path, "m.py", FORM_FEED_INDENT.encode())
    assert written == FORM_FEED_INDENT.replace(LSE, LSE_FIXED).encode(), written


LONE_BACKSLASH = "import torch\n\\\nprobs = torch.softmax(z, dim=-1)\nlog_probs = torch.log(probs)\n\\\n\\\n" + HAZARD.split("\n", 1)[1]


def test_lone_backslash_lines_keep_positions_and_fixes():
    """A line holding only `\\` before a statement: libcst drops it from its tree (every later
    row was off by one, and fixes landed on the wrong line); libcst_text.py blanks it."""
    findings, errors = check_text(LONE_BACKSLASH, rules())
    assert errors == []
    assert [(f.code, f.location.row) for f in findings] == [("NUM102", 4), ("NUM101", 7)]
    outcome = fix_text(LONE_BACKSLASH, lambda t: check_text(t, rules()), unsafe=False)
    assert not outcome.errors
    assert outcome.text == LONE_BACKSLASH.replace(
        "probs = torch.softmax(z, dim=-1)\nlog_probs = torch.log(probs)\n", "log_probs = torch.log_softmax(z, dim=-1)\n"
    ).replace(LSE, LSE_FIXED)


def test_text_libcst_does_not_reproduce_is_not_checked(monkeypatch):
    """The safety net behind libcst_text.py: when libcst's tree does not give back the text it
    parsed, its positions are wrong, so the file gets one internal error and no finding or fix."""
    from numlint import libcst_text

    monkeypatch.setattr(libcst_text, "for_libcst", lambda text: (text, {}))
    findings, errors = check_text(LONE_BACKSLASH, rules())
    assert findings == [] and [e.code for e in errors] == ["internal"]
    assert "libcst does not reproduce it" in errors[0].message


def test_idle_function_at_the_end_is_not_a_round_trip_failure():
    """A function blanked at the end of a module leaves whitespace-only lines, which libcst's code
    generation drops: nothing follows them, so the safety net must not fire (the corpus smoke run
    caught this)."""
    text = HAZARD + "\n\ndef idle(a, b):\n    c = a + b\n    return c\n\n\n"
    findings, errors = check_text(text, rules())
    assert errors == [] and [(f.code, f.location.row) for f in findings] == [("NUM101", 2)]


def test_fix_keeps_tabs_and_form_feeds(tmp_path):
    text = f"import torch\n\x0c\ndef f(x):\n\tif x:\n\t\treturn {LSE}  # \t keep\n\x0c\n"
    result, written = _fix(tmp_path, "m.py", text.encode())
    assert result.returncode == 0
    assert written == text.replace(LSE, LSE_FIXED).encode()


def test_fix_on_a_file_named_with_spaces_and_unicode(tmp_path):
    result, written = _fix(tmp_path, "my modèle ünï 名.py", HAZARD.encode())
    assert result.returncode == 0
    assert written == HAZARD.replace(LSE, LSE_FIXED).encode()


# -- bugs found: files Python rejects but libcst reads; odd paths; stdin; warnings ---------------------


@pytest.mark.parametrize(
    "data",
    [
        HAZARD.encode() + b"# \x00\n",
        HAZARD.encode() + b"return y\n",
        f"import torch\ndef f(a, a):\n    return {LSE}\n".encode(),
    ],
    ids=["nul-byte", "return-outside-function", "duplicate-argument"],
)
def test_fix_on_a_file_python_rejects_is_not_an_internal_error(tmp_path, data):
    result, written = _fix(tmp_path, "m.py", data)
    assert b"please report it" not in result.stdout
    assert result.returncode != 2, result.stdout
    assert written == data  # only what compiles is written
    assert b"error: not fixed: the file does not compile: " in result.stdout, result.stdout
    assert result.returncode == 1


def test_symlink_loop(tmp_path):
    os.symlink("b.py", tmp_path / "a.py")
    os.symlink("a.py", tmp_path / "b.py")
    (tmp_path / "ordinary.py").write_text(HAZARD)
    code, out, err = concise(".", cwd=tmp_path)
    no_traceback(err)
    assert code == 1
    assert any(line.startswith(ORDINARY_LINE) for line in out.splitlines())
    assert any(line.startswith("a.py:1:1: error: cannot read") for line in out.splitlines())


def test_fifo_does_not_hang(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "ordinary.py").write_text(HAZARD)
    result = numlint("check", ".", "--output-format", "concise", "--no-cache", cwd=tmp_path, timeout=8)
    assert ORDINARY_LINE in result.stdout.decode()
    assert "pipe.py" not in result.stdout.decode()  # found by walking: skipped, like any non-file
    # Named on the command line (and with the cache, which hashes the content first): one clear line.
    result = numlint("check", "pipe.py", "ordinary.py", "--output-format", "concise", cwd=tmp_path, timeout=8)
    no_traceback(result.stderr.decode())
    assert result.returncode == 1
    assert result.stdout.decode().splitlines()[0] == "pipe.py:1:1: error: cannot read: not a regular file"


def test_fix_through_a_symlink_keeps_the_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "model.py"
    real.write_text(HAZARD)
    os.symlink(os.path.join("real", "model.py"), tmp_path / "link.py")
    result = numlint("check", "--fix", ".", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "link.py").is_symlink()
    assert real.read_text() == HAZARD.replace(LSE, LSE_FIXED)


@pytest.mark.parametrize(
    "data",
    [
        b"import torch\n# \xff\ny = " + LSE.encode() + b"\n",
        b"# -*- coding: latin-1 -*-\nimport torch\n# caf\xe9\ny = " + LSE.encode() + b"\n",
    ],
    ids=["undecodable", "latin-1-cookie"],
)
def test_stdin_with_non_utf8_bytes(tmp_path, data):
    result = numlint("check", "-", "--stdin-filename", "m.py", "--output-format", "concise", cwd=tmp_path, input=data)
    no_traceback(result.stderr.decode())
    assert result.returncode == 1


def test_fix_prints_no_python_warnings(tmp_path):
    data = f'import torch\ndef f():\n    return "a"()\nassert (x, "msg")\ny = {LSE}\n'.encode()
    result, written = _fix(tmp_path, "m.py", data)
    assert result.returncode == 0
    assert result.stderr == b""


VALID_LONG_SUM = f"import torch\nz = {LSE}\ny = " + " + ".join(["1"] * 1000) + "\n"


def test_long_operator_chain_is_valid_python():
    compile(VALID_LONG_SUM, "<test>", "exec")


def test_long_operator_chain_in_process():
    findings, errors = check_text(VALID_LONG_SUM, rules())
    assert [f.code for f in findings] == ["NUM101"] and errors == []


def test_long_operator_chain_cli_is_contained(tmp_path):
    """Whatever check_text does, the CLI reports the file on one line and goes on."""
    (tmp_path / "long.py").write_text(VALID_LONG_SUM)
    (tmp_path / "ordinary.py").write_text(HAZARD)
    code, out, err = concise(".", cwd=tmp_path)
    no_traceback(err)
    assert code == 1
    assert any(line.startswith("long.py:") for line in out.splitlines())
    assert any(line.startswith(ORDINARY_LINE) for line in out.splitlines())


def test_flake8_survives_a_long_operator_chain(tmp_path):
    """numlint's plugin reports the file's finding and is never what fails. (pyflakes 4.1 gives up on
    this file with its own RecursionError, and flake8 7 then stops the whole run: not ours to fix.)"""
    pytest.importorskip("flake8")
    from numlint.integrations import flake8 as plugin

    reported = list(plugin.Numlint(None, VALID_LONG_SUM.splitlines(keepends=True)).run())
    assert [(row, column, message.split()[0]) for row, column, message, _ in reported] == [(2, 4, "NUM101")]
    (tmp_path / "long.py").write_text(VALID_LONG_SUM)
    (tmp_path / "ordinary.py").write_text(HAZARD)
    result = subprocess.run([sys.executable, "-m", "flake8", "--select", "NUM", "."], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr  # flake8 reports a failing plugin on stdout
    no_traceback(output)
    assert "numlint" not in output, output
    assert "ordinary.py:2:5: NUM101" in output or '"pyflakes[F]" failed' in output


def test_flake8_contains_an_engine_crash(monkeypatch):
    from numlint.integrations import flake8 as plugin

    monkeypatch.setattr(plugin, "check_text", _boom)
    reported = list(plugin.Numlint(None, HAZARD.splitlines(keepends=True)).run())
    assert [(row, column, message.split(" (")[0]) for row, column, message, _ in reported] == [
        (1, 0, "NUM000 numlint failed on this file")
    ]
    assert "please report it" in reported[0][2]


# -- 2. a rule that raises is contained ----------------------------------------------------------------


def _boom(*args, **kwargs):
    raise ZeroDivisionError("injected")


def test_a_crashing_guard_is_contained_in_process(monkeypatch):
    from numlint import predicates

    # NUM101's guards are max_shifted($x) and constant($x); NUM102 uses neither.
    monkeypatch.setitem(predicates.PREDICATES, "max_shifted", _boom)
    findings, errors = check_text(HAZARDS, rules())
    assert len(errors) == 1
    assert errors[0].code == "NUM101"
    assert "rule NUM101 failed (ZeroDivisionError: injected)" in errors[0].message
    assert "please report it" in errors[0].message
    assert [f.code for f in findings] == ["NUM102"]


def test_a_crashing_added_predicate_is_contained(monkeypatch):
    """A new predicate (as a project's rule would name it) that raises, in a rule built at runtime."""
    import dataclasses

    from numlint import predicates
    from numlint.rules import Guard

    monkeypatch.setitem(predicates.PREDICATES, "explodes", _boom)
    base = registry()["NUM101"]
    patterns = tuple(dataclasses.replace(p, unless=(Guard("explodes", "x"),) + p.unless) for p in base.patterns)
    broken = dataclasses.replace(base, code="NUM901", name="exploding-log-sum-exp", patterns=patterns)
    others = [r for code, r in registry().items() if code != "NUM101"]
    findings, errors = check_text(HAZARDS, [broken, *others])
    assert [(e.code, "please report it" in e.message) for e in errors] == [("NUM901", True)]
    assert [f.code for f in findings] == ["NUM102"]


def _check_in_process(tmp_path, monkeypatch):
    """`numlint check .` in this process (so monkeypatched faults apply), concise, serial."""
    from click.testing import CliRunner

    from numlint.cli import main

    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["check", ".", "--output-format", "concise", "--no-cache", "-q", "-j", "1"])


def test_a_crashing_rule_exits_2_and_other_files_are_checked(tmp_path, monkeypatch):
    from numlint import predicates

    (tmp_path / "a.py").write_text(HAZARDS)
    (tmp_path / "b.py").write_text("import torch\ny = torch.log(torch.softmax(x, dim=-1))\n")
    monkeypatch.setitem(predicates.PREDICATES, "max_shifted", _boom)
    result = _check_in_process(tmp_path, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("a.py:1:1: error: rule NUM101 failed (ZeroDivisionError: injected)") and "please report it" in line
        for line in lines
    ), lines
    assert any(line.startswith("a.py:8:12: NUM102") for line in lines)
    assert any(line.startswith("b.py:2:5: NUM102") for line in lines)


def test_an_engine_crash_is_contained_per_file(tmp_path, monkeypatch):
    """A bug outside the rules (here: the whole checker) becomes one error for the file."""
    from numlint import checker

    (tmp_path / "a.py").write_text(HAZARDS)
    (tmp_path / "notes.py").write_text("# nothing numeric\n")
    monkeypatch.setattr(checker.FileChecker, "run", _boom)
    result = _check_in_process(tmp_path, monkeypatch)
    assert result.exit_code == 2, result.output
    assert result.stdout.splitlines() == [
        "a.py:1:1: error: internal error (ZeroDivisionError: injected); this is a numlint bug, please report it"
    ]


# -- 3. --fix safety --------------------------------------------------------------------------------------


def test_write_atomic_interrupted_before_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "m.py"
    target.write_bytes(b"original\n")
    made = []
    real_mkstemp = source.tempfile.mkstemp

    def recording_mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        return fd, name

    def interrupted(src, dst):
        assert os.path.dirname(src) == os.path.dirname(os.path.abspath(dst))  # same folder: same file system
        assert Path(src).read_bytes() == b"new\n"  # fully written before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(source.tempfile, "mkstemp", recording_mkstemp)
    monkeypatch.setattr(source.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        source.write_atomic(str(target), b"new\n")
    assert target.read_bytes() == b"original\n"
    assert len(made) == 1 and Path(made[0]).parent == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def test_write_atomic_disk_full(tmp_path, monkeypatch):
    """A failing write (ENOSPC on fsync) leaves the file and no temporary; the runner reports it."""
    target = tmp_path / "m.py"
    target.write_text(HAZARD)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(source.os, "fsync", full)
    registry_ = registry()
    result = check_file(target, registry_, frozenset(registry_), Settings(root=tmp_path), Mode(fix=True, write=True))
    assert target.read_text() == HAZARD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]
    assert [e.message for e in result.errors] == ["cannot write the fix: [Errno 28] No space left on device"]
    assert result.errors[0].code is None


@pytest.mark.parametrize("mode", [0o640, 0o755, 0o4755], ids=oct)  # 0o444: test_write_safety.py
def test_fix_keeps_permissions(tmp_path, mode):
    target = tmp_path / "m.py"
    target.write_text(HAZARD)
    target.chmod(mode)
    result = numlint("check", "--fix", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert stat.S_IMODE(target.stat().st_mode) == mode
    target.chmod(0o644)
    assert target.read_text() == HAZARD.replace(LSE, LSE_FIXED)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def _finding(text, token, replacement, code="NUM999"):
    start = text.index(token)
    end = start + len(token)
    edit = Edit(start, end, replacement, Position(1, start + 1), Position(1, end + 1))
    return Finding(code, "test", "test", Position(1, start + 1), Position(1, end + 1), Fix(SAFE, "t", (edit,)))


def test_a_fix_that_breaks_the_file_is_not_applied_and_reported():
    text = "a = BAD\n"

    def lint(current):
        return ([_finding(current, "BAD", "(")] if "BAD" in current else []), []

    outcome = fix_text(text, lint, unsafe=False)
    assert outcome.text == text
    assert outcome.applied == 0
    assert len(outcome.errors) == 1
    assert outcome.errors[0].code == "NUM999"
    assert "would break the file and was not applied" in outcome.errors[0].message


def test_a_breaking_fix_does_not_block_the_others():
    text = "a = GOOD\nb = BAD\nc = GOOD2\n"

    def lint(current):
        found = []
        for token, replacement, code in (("GOOD2", "2", "NUM998"), ("GOOD", "1", "NUM997"), ("BAD", "(", "NUM999")):
            if token in current and (token != "GOOD" or "GOOD\n" in current):
                found.append(_finding(current, token + ("\n" if token == "GOOD" else ""),
                                      replacement + ("\n" if token == "GOOD" else ""), code))
        return found, []

    outcome = fix_text(text, lint, unsafe=False)
    assert outcome.text == "a = 1\nb = BAD\nc = 2\n"
    assert outcome.applied == 2
    assert [e.code for e in outcome.errors] == ["NUM999"]


def test_overlapping_fixes_are_applied_in_rounds_until_stable():
    """Each fix unwraps one pair of parentheses; all overlap, so one is applied per round."""
    rounds = []

    def lint(current):
        rounds.append(current)
        if not current.startswith("y = ("):
            return [], []
        inner_start = len("y = ")
        inner_end = current.rindex(")") + 1
        findings = []
        for depth in range(current.count("(")):
            start, end = inner_start + depth, inner_end - depth
            edit = Edit(start, end, current[start + 1:end - 1], Position(1, start + 1), Position(1, end + 1))
            findings.append(Finding("NUM999", "t", "t", Position(1, start + 1), Position(1, end + 1), Fix(SAFE, "t", (edit,))))
        return findings, []

    outcome = fix_text("y = ((((x))))\n", lint, unsafe=False)
    assert outcome.text == "y = x\n"
    assert outcome.applied == 4
    assert rounds == ["y = ((((x))))\n", "y = (((x)))\n", "y = ((x))\n", "y = (x)\n", "y = x\n"]


def test_fixing_stops_after_a_bounded_number_of_rounds():
    """A fix that never converges (a numlint bug) must not loop forever."""
    calls = []

    def lint(current):
        calls.append(current)
        end = len(current)
        edit = Edit(end, end, "#", Position(1, end + 1), Position(1, end + 1))
        return [Finding("NUM999", "t", "t", Position(1, 1), Position(1, 1), Fix(SAFE, "t", (edit,)))], []

    outcome = fix_text("x = 1\n", lint, unsafe=False)
    assert len(calls) == MAX_ROUNDS
    assert outcome.applied == MAX_ROUNDS


def test_real_overlapping_fixes_converge():
    """NUM101 around NUM102: the fixes overlap, the outer one goes first, the inner one next round."""
    text = "import torch\ny = torch.log(torch.sum(torch.exp(torch.log(torch.softmax(x, -1))), dim=1))\n"
    findings, _ = check_text(text, rules())
    assert sorted(f.code for f in findings) == ["NUM101", "NUM102"]
    spans = [(e.start_offset, e.end_offset) for f in findings for e in f.fix.edits]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]  # they overlap
    _, applied = apply_edits(text, [f.fix for f in findings])
    assert applied == 1
    outcome = fix_text(text, lambda t: check_text(t, rules()), unsafe=False)
    assert outcome.text == "import torch\ny = torch.logsumexp(torch.log_softmax(x, -1), dim=1)\n"
    assert outcome.applied == 2 and not outcome.errors
    assert check_text(outcome.text, rules()) == ([], [])


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_second_fix_changes_nothing_on_the_examples(tmp_path, unsafe):
    tree = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", tree)
    extra = ["--unsafe-fixes"] if unsafe else []
    first = numlint("check", "--fix", ".", "--output-format", "concise", "--no-cache", *extra, cwd=tree)
    assert first.returncode in (0, 1), first.stdout
    assert b"please report it" not in first.stdout
    after_first = {p.name: p.read_bytes() for p in sorted(tree.glob("*.py"))}
    assert after_first != {p.name: p.read_bytes() for p in sorted((ROOT / "examples").glob("*.py"))}
    for name, data in after_first.items():
        compile(data, name, "exec")
    second = numlint("check", "--fix", ".", "--output-format", "concise", "--no-cache", *extra, cwd=tree)
    assert second.returncode in (0, 1)
    assert {p.name: p.read_bytes() for p in sorted(tree.glob("*.py"))} == after_first
    assert second.stdout == numlint("check", ".", "--output-format", "concise", "--no-cache", *extra, cwd=tree).stdout
    assert not list(tree.glob(".numlint-*"))
