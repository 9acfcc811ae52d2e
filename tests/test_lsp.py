"""`numlint server` as an editor runs it: a real process spoken to in JSON-RPC over stdin/stdout,
with the Content-Length framing written here (no pygls client), and a deadline on every read."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from samples import FIXED, HAZARDS  # noqa: E402  (tests/ is on sys.path under pytest)

TIMEOUT = 30.0  # seconds for any one answer; a hang fails the test instead of blocking CI

LSE = "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"
LSE_FIXED = "import torch\ny = torch.logsumexp(x, dim=1)\n"
CLEAN = "import torch\ny = torch.logsumexp(x, dim=1)\n"
UNSAFE_VAR = "import numpy as np\nv = np.sum(x**2)/n - (np.sum(x)/n)**2\n"


class Server:
    """A `numlint server` process and the messages it sent, read by a thread into a queue."""

    def __init__(self, cwd: Path) -> None:
        self.stderr = open(cwd / "server-stderr.txt", "w+b")  # a file: a full pipe would block the server
        self.process = subprocess.Popen(
            [sys.executable, "-m", "numlint", "server"],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        self.inbox: "queue.Queue[dict | None]" = queue.Queue()
        self.unread: list = []  # messages read while waiting for another one
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)  # the server closed its output
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            self.inbox.put(json.loads(out.read(length)))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def wait_for(self, matches, what: str) -> dict:
        for message in self.unread:
            if matches(message):
                self.unread.remove(message)
                return message
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                message = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {what} within {TIMEOUT}s; stderr:\n{self.log()}") from None
            if message is None:
                raise AssertionError(f"the server exited while waiting for {what}; stderr:\n{self.log()}")
            if "id" in message and "method" in message:  # a request from the server: accept it
                self.send({"id": message["id"], "result": None})
            elif matches(message):
                return message
            else:
                self.unread.append(message)

    def request(self, method: str, params) -> object:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        response = self.wait_for(lambda m: m.get("id") == ident and "method" not in m, f"answer to {method}")
        assert "error" not in response, response
        return response["result"]

    def diagnostics(self, uri: str, version: int) -> list:
        message = self.wait_for(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri and m["params"].get("version") == version,
            f"diagnostics for {uri} version {version}",
        )
        return message["params"]["diagnostics"]

    def initialize(self, root: Path, encodings=None) -> dict:
        capabilities: dict = {"textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}}}
        if encodings:
            capabilities["general"] = {"positionEncodings": encodings}
        result = self.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": capabilities})
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str) -> list:
        uri = path.as_uri()
        self.notify("textDocument/didOpen",
                    {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
        return self.diagnostics(uri, 1)

    def change(self, path: Path, text: str, version: int) -> list:
        uri = path.as_uri()
        self.notify("textDocument/didChange",
                    {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})
        return self.diagnostics(uri, version)

    def code_actions(self, path: Path, start, end, only=None) -> list:
        context: dict = {"diagnostics": []}
        if only is not None:
            context["only"] = only
        return self.request("textDocument/codeAction", {
            "textDocument": {"uri": path.as_uri()},
            "range": {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}},
            "context": context,
        })

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout, self.stderr):
            stream.close()


_CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}


def offset(text: str, position: dict, encoding: str = "utf-16") -> int:
    """The character offset of an LSP position (lines end at \\n here), counted in `encoding` units."""
    codec, width = _CODECS[encoding]
    lines = text.split("\n")
    if position["line"] >= len(lines):
        return len(text)
    start = sum(len(line) + 1 for line in lines[: position["line"]])
    units = 0
    for index, char in enumerate(lines[position["line"]]):
        if units >= position["character"]:
            return start + index
        units += len(char.encode(codec)) // width
    return start + len(lines[position["line"]])


def apply(text: str, edit: dict, uri: str, encoding: str = "utf-16") -> str:
    """Apply a WorkspaceEdit's edits to one document, as an editor does: all against the original."""
    edits = edit["changes"][uri]
    spans = sorted(((offset(text, e["range"]["start"], encoding), offset(text, e["range"]["end"], encoding), e["newText"])
                    for e in edits), reverse=True)
    for (start, end, _), (next_start, _, _) in zip(spans[1:], spans):
        assert end <= next_start, f"overlapping edits: {edits}"
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.numlint]\nextend-exclude = ["vendored"]\n\n[tool.numlint.per-file-ignores]\n"ignored_*.py" = ["NUM101"]\n'
    )
    return tmp_path


@pytest.fixture
def server(project):
    pytest.importorskip("pygls", reason="pygls is not installed (it is in the `lsp` and `test` extras)")
    process = Server(project)
    try:
        yield process
    finally:
        process.close()


def test_diagnostic_quick_fix_hover_and_clean_change(server, project):
    init = server.initialize(project)
    capabilities = init["capabilities"]
    assert capabilities["textDocumentSync"]["change"] == 1  # full
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


def test_syntax_error_gives_no_diagnostics_and_the_server_goes_on(server, project):
    server.initialize(project)
    path = project / "typing.py"
    assert server.open(path, "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1)\n") == []
    assert server.code_actions(path, (1, 0), (1, 10)) == []
    assert [d["code"] for d in server.change(path, LSE, 2)] == ["NUM101"]


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
