"""A language-server client for the tests: `numlint server` as an editor runs it, a real process
spoken to in JSON-RPC over stdin/stdout, with the Content-Length framing written here (no pygls
client), and a deadline on every read."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

TIMEOUT = 30.0  # seconds for any one answer; a hang fails the test instead of blocking CI


class Server:
    """A `numlint server` process and the messages it sent, read by a thread into a queue."""

    def __init__(self, cwd: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.stderr = open(cwd / "server-stderr.txt", "w+b")  # a file: a full pipe would block the server
        self.process = subprocess.Popen(
            [sys.executable, "-m", "numlint", "server"],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
            env={**os.environ, **(env or {})},
        )
        self.inbox: "queue.Queue[dict | None]" = queue.Queue()
        self.unread: list = []  # messages read while waiting for another one
        self.seen: List[dict] = []  # every message the server sent, in order
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
            message = json.loads(out.read(length))
            self.seen.append(message)
            self.inbox.put(message)

    def send_bytes(self, body: bytes) -> None:
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8"))

    def notify(self, method: str, params) -> None:
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

    def answer(self, ident, what: str) -> dict:
        return self.wait_for(lambda m: m.get("id") == ident and "method" not in m, what)

    def request_message(self, method: str, params) -> dict:
        """The whole answer to a request: a `result` or an `error`."""
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        return self.answer(ident, f"answer to {method}")

    def request(self, method: str, params) -> object:
        response = self.request_message(method, params)
        assert "error" not in response, response
        return response["result"]

    def diagnostics(self, uri: str, version: int) -> list:
        message = self.wait_for(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri and m["params"].get("version") == version,
            f"diagnostics for {uri} version {version}",
        )
        return message["params"]["diagnostics"]

    def published(self, uri: str) -> List[Optional[int]]:
        """The versions of every publishDiagnostics for `uri` so far, in order."""
        return [m["params"].get("version") for m in self.seen
                if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri]

    def initialize(self, root: Path, encodings=None, trace: Optional[str] = None) -> dict:
        capabilities: dict = {"textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}}}
        if encodings:
            capabilities["general"] = {"positionEncodings": encodings}
        params = {"processId": None, "rootUri": root.as_uri(), "capabilities": capabilities}
        if trace:
            params["trace"] = trace
        result = self.request("initialize", params)
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> list:
        uri = path.as_uri()
        self.notify("textDocument/didOpen",
                    {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}})
        return self.diagnostics(uri, version)

    def change(self, path: Path, text: str, version: int) -> list:
        self.send_change(path, [{"text": text}], version)
        return self.diagnostics(path.as_uri(), version)

    def send_change(self, path: Path, changes: list, version: int) -> None:
        self.notify("textDocument/didChange",
                    {"textDocument": {"uri": path.as_uri(), "version": version}, "contentChanges": changes})

    def hover(self, path: Path, line: int, character: int):
        return self.request("textDocument/hover",
                            {"textDocument": {"uri": path.as_uri()}, "position": {"line": line, "character": character}})

    def code_actions(self, path: Path, start, end, only=None) -> list:
        context: dict = {"diagnostics": []}
        if only is not None:
            context["only"] = only
        return self.request("textDocument/codeAction", {
            "textDocument": {"uri": path.as_uri()},
            "range": {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}},
            "context": context,
        })

    def fixed_text(self, path: Path) -> Optional[str]:
        """The server's own copy of the document with every safe fix applied (fix-all)."""
        actions = self.code_actions(path, (0, 0), (0, 0), only=["source.fixAll"])
        if not actions:
            return None
        [action] = actions
        [edit] = action["edit"]["changes"][path.as_uri()]
        return edit["newText"]

    def sync(self) -> None:
        """Returns once the server has handled every message sent before: a request it answers
        without checking anything (hover over a file that is not Python)."""
        self.request("textDocument/hover", {"textDocument": {"uri": "untitled:sync.txt"},
                                            "position": {"line": 0, "character": 0}})

    def checks(self) -> List[int]:
        """The numbers of the checks the server reported in $/logTrace (initialize with trace)."""
        found = []
        for message in self.seen:
            if message.get("method") == "$/logTrace":
                match = re.search(r"check #(\d+)", message["params"]["message"])
                if match:
                    found.append(int(match.group(1)))
        return found

    def worker_pid(self) -> int:
        """The server's worker process (Linux: /proc lists a process's children per thread)."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            children = []
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                try:
                    children += (task / "children").read_text().split()
                except OSError:
                    pass
            alive = [int(pid) for pid in children if process_state(int(pid)) not in (None, "Z")]
            if alive:
                assert len(alive) == 1, alive
                return alive[0]
            time.sleep(0.05)
        raise AssertionError(f"no worker process within {TIMEOUT}s; stderr:\n{self.log()}")

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout, self.stderr):
            stream.close()


def process_state(pid: int) -> Optional[str]:
    """A process's state letter (R, S, T for stopped, Z for a zombie), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def wait_until_gone(pid: int) -> None:
    """Until `pid` has ended (a zombie counts: it runs no more)."""
    deadline = time.monotonic() + TIMEOUT
    while process_state(pid) not in (None, "Z"):
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} still runs after {TIMEOUT}s")
        time.sleep(0.02)


def stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + TIMEOUT
    while process_state(pid) != "T":  # stopped for sure before the test goes on
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} did not stop")
        time.sleep(0.01)


_CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}
_LINE = re.compile(r"[^\r\n]*(\r\n|\r|\n|$)")


def offset(text: str, position: dict, encoding: str = "utf-16") -> int:
    """The character offset of an LSP position: lines end at \\r\\n, \\r or \\n; characters are
    counted in `encoding` units; past a line's end is its end, past the last line the text's end."""
    codec, width = _CODECS[encoding]
    start = 0
    for number, match in enumerate(_LINE.finditer(text)):
        if number == position["line"]:
            line = match.group()[: len(match.group()) - len(match.group(1))]
            units = 0
            for index, char in enumerate(line):
                if units >= position["character"]:
                    return start + index
                units += len(char.encode(codec, "surrogatepass")) // width
            return start + len(line)
        start = match.end()
        if match.end() == len(text):
            break
    return len(text)


def apply(text: str, edit: dict, uri: str, encoding: str = "utf-16") -> str:
    """Apply a WorkspaceEdit's edits to one document, as an editor does: all against the original."""
    return apply_edits(text, edit["changes"][uri], encoding)


def apply_edits(text: str, edits: list, encoding: str = "utf-16") -> str:
    spans = sorted(((offset(text, e["range"]["start"], encoding), offset(text, e["range"]["end"], encoding),
                     e.get("newText", e.get("text"))) for e in edits), reverse=True)
    for (start, end, _), (next_start, _, _) in zip(spans[1:], spans):
        assert end <= next_start, f"overlapping edits: {edits}"
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def change(start_line: int, start_char: int, end_line: int, end_char: int, text: str) -> dict:
    """A ranged TextDocumentContentChangeEvent."""
    return {"range": {"start": {"line": start_line, "character": start_char},
                      "end": {"line": end_line, "character": end_char}}, "text": text}



def make_project(folder: Path) -> Path:
    """A project with a pyproject.toml that excludes `vendored` and ignores NUM101 in `ignored_*.py`."""
    (folder / "pyproject.toml").write_text(
        '[tool.numlint]\nextend-exclude = ["vendored"]\n\n[tool.numlint.per-file-ignores]\n"ignored_*.py" = ["NUM101"]\n'
    )
    return folder


def running_server(project: Path):
    """A server in `project` for a fixture to yield, closed afterwards."""
    pytest.importorskip("pygls", reason="pygls is not installed (it is in the `lsp` and `test` extras)")
    process = Server(project)
    try:
        yield process
    finally:
        process.close()
