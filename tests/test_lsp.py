"""`numlint server` as an editor runs it (tests/lsp_client.py): diagnostics, quick fixes, hover,
configuration, incremental changes, and texts that cannot be checked."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from lsp_client import TIMEOUT, apply, apply_edits, change, make_project, running_server  # noqa: E402  (tests/ is on sys.path)
from samples import FIXED, HAZARDS  # noqa: E402

LSE = "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"
LSE_FIXED = "import torch\ny = torch.logsumexp(x, dim=1)\n"
CLEAN = "import torch\ny = torch.logsumexp(x, dim=1)\n"
UNSAFE_VAR = "import numpy as np\nv = np.sum(x**2)/n - (np.sum(x)/n)**2\n"


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


@pytest.fixture
def server(project):
    yield from running_server(project)


def test_diagnostic_quick_fix_hover_and_clean_change(server, project):
    init = server.initialize(project)
    capabilities = init["capabilities"]
    assert capabilities["textDocumentSync"]["change"] == 2  # incremental
    assert capabilities["hoverProvider"]
    assert set(capabilities["codeActionProvider"]["codeActionKinds"]) == {"quickfix", "source.fixAll.numlint"}

    path = project / "model.py"
    uri = path.as_uri()
    [diagnostic] = server.open(path, LSE)
    assert diagnostic["range"] == {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 45}}
    assert diagnostic["severity"] == 2 and diagnostic["source"] == "numlint" and diagnostic["code"] == "NUM101"
    assert diagnostic["codeDescription"]["href"].endswith("#num101-log-sum-exp")
    assert diagnostic["message"].startswith("`log(sum(exp(x)))` overflows to inf")

    # Without `only`, the source action comes too (editors keep it out of the lightbulb themselves).
    action, fix_all = server.code_actions(path, (1, 4), (1, 45))
    assert fix_all["kind"] == "source.fixAll.numlint"
    assert action["kind"] == "quickfix" and action["isPreferred"] is True
    assert action["title"] == "NUM101: Replace with `torch.logsumexp(x, dim=1)`"
    assert action["diagnostics"][0]["code"] == "NUM101"
    assert apply(LSE, action["edit"], uri) == LSE_FIXED
    assert server.code_actions(path, (0, 0), (0, 5), only=["quickfix"]) == []  # the import line has none

    hover = server.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 10}})
    assert hover["contents"]["kind"] == "markdown"
    assert "NUM101 log-sum-exp" in hover["contents"]["value"] and "Why is this bad?" in hover["contents"]["value"]
    assert hover["range"] == diagnostic["range"]
    assert server.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}}) is None

    assert server.change(path, CLEAN, 2) == []
    assert server.code_actions(path, (1, 0), (1, 10)) == []


def test_fix_all_and_a_fix_of_several_edits(server, project):
    server.initialize(project)
    path = project / "model.py"
    uri = path.as_uri()
    diagnostics = server.open(path, HAZARDS)
    assert sorted(d["code"] for d in diagnostics) == ["NUM101", "NUM102"]

    [fix_all] = server.code_actions(path, (0, 0), (0, 0), only=["source.fixAll"])
    assert fix_all["kind"] == "source.fixAll.numlint" and fix_all["title"] == "Fix all numlint (safe)"
    assert apply(HAZARDS, fix_all["edit"], uri) == FIXED

    # NUM102's fix deletes `probs = ...` and rewrites the next line: two edits in one action.
    start = next(d for d in diagnostics if d["code"] == "NUM102")["range"]["start"]
    [action] = server.code_actions(path, (start["line"], start["character"]), (start["line"], start["character"]),
                                   only=["quickfix"])
    assert len(action["edit"]["changes"][uri]) == 2
    fixed = apply(HAZARDS, action["edit"], uri)
    assert "F.log_softmax(x, dim=1)" in fixed and "probs" not in fixed and "torch.log(torch.sum" in fixed


def test_unsafe_fix_is_marked_and_not_preferred(server, project):
    server.initialize(project)
    path = project / "stats.py"
    [diagnostic] = server.open(path, UNSAFE_VAR)
    assert diagnostic["code"] == "NUM301"
    [action] = server.code_actions(path, (1, 4), (1, 4))
    assert action["title"].endswith("(unsafe)") and action["isPreferred"] is False
    assert apply(UNSAFE_VAR, action["edit"], path.as_uri()) == "import numpy as np\nv = np.var(x)\n"
    # Fix-all applies safe fixes only: nothing to offer here.
    assert server.code_actions(path, (0, 0), (0, 0), only=["source"]) == []


@pytest.mark.parametrize("encodings, encoding, character", [
    (None, "utf-16", 14),  # the emoji is two UTF-16 code units
    (["utf-32", "utf-16"], "utf-32", 13),  # one code point
    (["utf-8"], "utf-8", 16),  # four bytes
])
def test_positions_after_a_character_outside_the_bmp(server, project, encodings, encoding, character):
    init = server.initialize(project, encodings)
    assert init["capabilities"].get("positionEncoding", "utf-16") == encoding
    text = 'import torch\ns = "😀"; y = torch.log(torch.sum(torch.exp(x), dim=1))\n'
    path = project / "emoji.py"
    [diagnostic] = server.open(path, text)
    assert diagnostic["range"]["start"] == {"line": 1, "character": character}
    assert diagnostic["range"]["end"] == {"line": 1, "character": character + 41}
    [action] = server.code_actions(path, (1, character), (1, character), only=["quickfix"])
    expected = 'import torch\ns = "😀"; y = torch.logsumexp(x, dim=1)\n'
    assert apply(text, action["edit"], path.as_uri(), encoding) == expected


def test_per_file_ignores_and_excludes_from_pyproject(server, project):
    server.initialize(project)
    assert server.open(project / "ignored_model.py", LSE) == []
    assert server.open(project / "vendored" / "model.py", LSE) == []
    assert server.open(project / ".venv" / "lib" / "site-packages" / "lib.py", LSE) == []  # a default exclude
    assert [d["code"] for d in server.open(project / "model.py", LSE)] == ["NUM101"]


def test_without_pyproject_defaults_apply_and_site_packages_is_skipped(server, tmp_path_factory):
    bare = tmp_path_factory.mktemp("bare")  # no pyproject.toml above it
    (bare / "workspace").mkdir()
    server.initialize(bare / "workspace")
    # as a go-to-definition into an installed library opens it
    assert server.open(bare / "env" / "lib" / "site-packages" / "lib.py", LSE) == []
    assert [d["code"] for d in server.open(bare / "workspace" / "model.py", LSE)] == ["NUM101"]


def test_bad_config_shows_a_message_and_publishes_nothing(server, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[tool.numlint]\nselct = ['NUM1']\n")
    server.initialize(broken)
    path = broken / "model.py"
    assert server.open(path, LSE) == []
    shown = server.wait_for(lambda m: m.get("method") == "window/showMessage", "window/showMessage")
    assert shown["params"]["type"] == 1
    assert "unknown [tool.numlint] key 'selct'" in shown["params"]["message"]
    assert "\n" not in shown["params"]["message"]
    # Still serving: the fixed config is read on the next check (it is cached by mtime).
    (broken / "pyproject.toml").write_text("[tool.numlint]\nselect = ['NUM1']\n")
    assert [d["code"] for d in server.change(path, LSE + "\n", 2)] == ["NUM101"]


def test_shutdown_then_exit_ends_with_0(server, project):
    server.initialize(project)
    assert server.request("shutdown", None) is None
    server.notify("exit", None)
    assert server.process.wait(timeout=TIMEOUT) == 0, server.log()


def test_exit_without_shutdown_ends_with_1(server, project):
    server.initialize(project)
    server.notify("exit", None)
    assert server.process.wait(timeout=TIMEOUT) == 1, server.log()


def test_without_pygls_a_one_line_error(monkeypatch):
    from numlint.cli import main

    monkeypatch.setitem(sys.modules, "pygls", None)  # makes `import pygls` fail
    monkeypatch.delitem(sys.modules, "numlint.integrations.lsp", raising=False)
    result = CliRunner().invoke(main, ["server"])
    assert result.exit_code == 2
    assert "numlint server needs pygls: pip install 'numlint[lsp]'" in result.output


# -- incremental changes ----------------------------------------------------------------------

LSE_EXPR = "torch.log(torch.sum(torch.exp(x), dim=1))"
LSE_EXPR_FIXED = "torch.logsumexp(x, dim=1)"


def expected_ranges(text: str) -> list:
    """Where each `LSE_EXPR` of `text` is, in LSP's UTF-16 positions (the reference here is the
    test client's own offset arithmetic, independent of the server's)."""
    import re

    ranges = []
    for match in re.finditer(re.escape(LSE_EXPR), text):
        ranges.append({"start": position(text, match.start()), "end": position(text, match.end())})
    return ranges


def position(text: str, index: int) -> dict:
    import re

    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    line = max(i for i, start in enumerate(starts) if start <= index)
    units = len(text[starts[line]:index].encode("utf-16-le", "surrogatepass")) // 2
    return {"line": line, "character": units}


def run_steps(server, path, text: str, steps) -> str:
    """Send each step's ranged changes as one didChange; after each, the diagnostics must sit
    where the client's own copy of the text has the hazards. Returns the client's final text."""
    version = 1
    for edits in steps:
        version += 1
        server.send_change(path, edits, version)
        for edit in edits:  # in order: each change applies to the text the previous one left
            text = apply_edits(text, [edit])
        diagnostics = server.diagnostics(path.as_uri(), version)
        assert [d["range"] for d in diagnostics] == expected_ranges(text), (edits, text)
    assert server.fixed_text(path) == text.replace(LSE_EXPR, LSE_EXPR_FIXED)  # the server's copy, fixed
    return text


def test_incremental_changes_in_utf16_multi_line_and_at_the_end(server, project):
    init = server.initialize(project)
    assert init["capabilities"]["textDocumentSync"]["change"] == 2
    path = project / "model.py"
    # U+2028 and a form feed are not line ends in LSP (str.splitlines says they are).
    text = f"import torch\n# 😀 note\u2028more\x0cx\ny = {LSE_EXPR}\n"
    assert [d["range"] for d in server.open(path, text)] == expected_ranges(text)
    final = run_steps(server, path, text, [
        [change(1, 4, 1, 4, "!")],  # after the emoji, which is two UTF-16 units
        [change(1, 0, 1, 0, "a = 1\nb = 2\n"), change(1, 4, 2, 3, "3\nc = 4\nd =")],  # two, multi-line
        [change(5, 0, 5, 0, f"w = {LSE_EXPR}\n")],  # insert a line before the hazard's line
        [change(7, 0, 7, 0, f"z = {LSE_EXPR}")],  # at the end of the text (the empty last line)
        [change(7, 4, 7, 99, f"{LSE_EXPR}  # end")],  # past the end of the last line means its end
        [change(1000, 0, 1000, 0, "\nv = 1\n")],  # past the last line means the end of the text
        [change(3, 0, 5, 0, "")],  # delete two whole lines
        [change(2, 3, 2, 3, "")],  # an empty change
    ])
    assert final.count(LSE_EXPR) == 3


def test_incremental_changes_to_crlf_and_cr_lines(server, project):
    server.initialize(project)
    path = project / "windows.py"
    text = f"import torch\r\nn = 1\ry = {LSE_EXPR}\r\n"
    assert [d["range"] for d in server.open(path, text)] == expected_ranges(text)
    run_steps(server, path, text, [
        [change(1, 5, 2, 0, "; ")],  # join a CR-ended line to the next
        [change(1, 5, 1, 7, "\r\n")],  # and split it again with CRLF
        [change(0, 40, 0, 40, "  # c")],  # past the end of a CRLF line: before its \r\n
        [change(2, 1, 2, 1, f"2 = {LSE_EXPR}\r\ny")],  # a multi-line insert in the middle of a line
        [change(0, 17, 1, 0, "\r\n\r\n")],  # replace a CRLF with two
    ])


# -- texts that cannot be checked -------------------------------------------------------------


def test_a_text_that_does_not_parse_keeps_its_findings_and_says_where(server, project):
    server.initialize(project)
    path = project / "typing.py"
    uri = path.as_uri()
    [finding] = server.open(path, LSE)
    # Typing an unfinished line below the hazard: it stays; the syntax error is shown where it is.
    server.send_change(path, [change(2, 0, 2, 0, "z = (")], 2)
    kept, error = server.diagnostics(uri, 2)
    assert kept == finding
    assert error["severity"] == 1 and error["source"] == "numlint"
    assert error["message"] == "cannot parse: '(' was never closed"
    assert error["range"] == {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 5}}
    assert server.code_actions(path, (1, 4), (1, 45)) == []  # no fix for a text that does not parse
    # An unfinished line above it: the finding moves down with its line.
    server.send_change(path, [change(2, 0, 2, 5, ""), change(0, 0, 0, 0, "def f(:\n")], 3)
    moved, error = server.diagnostics(uri, 3)
    assert moved["range"] == {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 45}}
    assert {k: v for k, v in moved.items() if k != "range"} == {k: v for k, v in finding.items() if k != "range"}
    assert error["range"]["start"]["line"] == 0 and error["message"].startswith("cannot parse:")
    hover = server.hover(path, 2, 10)  # the kept finding still explains itself
    assert "NUM101 log-sum-exp" in hover["contents"]["value"]
    # An edit inside the hazard drops it (it is being edited); fixing the syntax brings it back.
    server.send_change(path, [change(2, 10, 2, 10, "(")], 4)
    [error] = server.diagnostics(uri, 4)
    assert error["severity"] == 1
    server.send_change(path, [change(0, 0, 1, 0, ""), change(1, 10, 1, 11, "")], 5)
    assert server.diagnostics(uri, 5) == [finding]
    assert "Traceback" not in server.log()


def test_never_checked_text_that_does_not_parse_is_one_diagnostic(server, project):
    server.initialize(project)
    path = project / "typing.py"
    [error] = server.open(path, "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1)\n")
    assert error["message"] == "cannot parse: '(' was never closed" and error["range"]["start"]["line"] == 1
    assert server.code_actions(path, (1, 0), (1, 10)) == []
    assert [d["code"] for d in server.change(path, LSE, 2)] == ["NUM101"]


def test_a_lone_surrogate_or_nul_is_one_diagnostic_and_no_traceback(server, project):
    server.initialize(project)
    path = project / "model.py"
    uri = path.as_uri()
    [finding] = server.open(path, LSE)
    # JSON can carry a lone surrogate ("\ud800"); no UTF-8 file can hold one.
    server.send_change(path, [change(2, 0, 2, 0, 's = "\ud800"\n')], 2)
    kept, error = server.diagnostics(uri, 2)
    assert kept == finding
    assert error["severity"] == 1 and "lone surrogate (U+D800)" in error["message"]
    assert error["range"] == {"start": {"line": 2, "character": 5}, "end": {"line": 2, "character": 6}}
    server.send_change(path, [change(2, 5, 2, 6, "\0")], 3)
    kept, error = server.diagnostics(uri, 3)
    assert kept == finding and error["message"] == "cannot parse: the text holds a NUL character"
    assert error["range"]["start"] == {"line": 2, "character": 5}
    [alone] = server.open(project / "other.py", 's = "\udfff"\n' + LSE)  # never checked: only that
    assert "lone surrogate (U+DFFF)" in alone["message"]
    assert server.hover(project / "other.py", 0, 5) is None
    server.send_change(path, [change(2, 0, 3, 0, "")], 4)
    assert server.diagnostics(uri, 4) == [finding]
    assert "Traceback" not in server.log(), server.log()


def test_a_text_past_the_size_limit_is_one_diagnostic(server, project):
    from numlint.integrations.lsp_text import MAX_DOCUMENT_CHARS

    server.initialize(project)
    path = project / "huge.py"
    [error] = server.open(path, LSE + "x = 1\n" * (MAX_DOCUMENT_CHARS // 6 + 1))
    assert error["message"].startswith("not checked: the text is 2.0 M characters")
    assert [d["code"] for d in server.change(path, LSE, 2)] == ["NUM101"]


def test_edits_reuse_the_tree_and_publish_what_numlint_check_finds(server, project):
    """The worker parses only what an edit touched (reparse.py); what it publishes after each
    edit is exactly what `numlint check` finds in the same text."""
    import re
    from pathlib import Path

    from numlint.checker import check_text
    from numlint.config import find_pyproject, load_settings, select_rules
    from numlint.rules import registry

    settings = load_settings(find_pyproject(project), project)
    every = registry(settings.rule_paths)
    rules = [every[code] for code in sorted(select_rules(every, settings.select, settings.extend_select,
                                                          settings.ignore))]
    server.initialize(project, trace="messages")
    path = project / "attention.py"
    text = (Path(__file__).resolve().parents[1] / "examples" / "torch_contrastive_attention.py").read_text()
    rows = text.count("\n")

    def expected(current: str) -> list:
        findings, _ = check_text(current, rules)
        starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", current)]
        def at(row: int, column: int) -> tuple:
            where = position(current, starts[row - 1] + column - 1)
            return where["line"], where["character"]

        return sorted((f.code, at(f.location.row, f.location.column), at(f.end_location.row, f.end_location.column))
                      for f in findings)

    def published(diagnostics: list) -> list:
        return sorted((d["code"], (d["range"]["start"]["line"], d["range"]["start"]["character"]),
                       (d["range"]["end"]["line"], d["range"]["end"]["character"])) for d in diagnostics)

    assert published(server.open(path, text)) == expected(text)
    last = text.splitlines()[-1]
    steps = [
        [change(rows, 0, rows, 0, f"\n\ndef extra(z):\n    return torch.log(torch.softmax(z, dim=-1))\n")],
        [change(rows + 3, 0, rows + 3, 0, f"    w = {LSE_EXPR}\n")],  # into the new function
        [change(rows + 3, 0, rows + 4, 0, "")],  # and out again
        [change(rows - 1, 0, rows - 1, len(last), last + "  # edited")],
    ]
    version = 1
    for edits in steps:
        version += 1
        server.send_change(path, edits, version)
        for edit in edits:
            text = apply_edits(text, [edit])
        assert published(server.diagnostics(path.as_uri(), version)) == expected(text), edits
    parsed = [int(m.group(1)) for m in re.finditer(r"(\d+) rows parsed", "\n".join(
        message["params"]["message"] for message in server.seen if message.get("method") == "$/logTrace"))]
    assert parsed and max(parsed[1:]) < rows / 2, parsed  # the edits were parsed in part
