"""`numlint server` against what an editor, a broken client or a hostile tree can send it: bad
requests, files that are not files, checks that crash, and requests while a check runs.

Where a test needs a check to be running, it stops the worker process (SIGSTOP): the check then
cannot finish until the test lets it, so nothing here depends on timing."""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from lsp_client import (  # noqa: E402  (tests/ is on sys.path)
    TIMEOUT, Server, change, make_project, process_state, running_server, stop, wait_until_gone,
)

LSE = "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sends signals")


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


@pytest.fixture
def server(project):
    yield from running_server(project)


def error_code(server, method: str, params) -> int:
    response = server.request_message(method, params)
    assert "error" in response, response
    return response["error"]["code"]


def hover_params(uri: str, line, character) -> dict:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def test_every_bad_request_gets_an_error_or_an_empty_answer(server, project):
    server.initialize(project)
    path = project / "model.py"
    uri = path.as_uri()
    [finding] = server.open(path, LSE)
    invalid_params = -32602
    assert error_code(server, "textDocument/hover", hover_params(uri, -1, 0)) == invalid_params
    assert error_code(server, "textDocument/hover", hover_params(uri, "one", 0)) == invalid_params
    assert error_code(server, "textDocument/hover", hover_params(uri, 0, 2**40)) == invalid_params  # not a uinteger
    assert error_code(server, "textDocument/hover", {"textDocument": {"uri": uri}}) == invalid_params
    assert error_code(server, "textDocument/hover", None) == invalid_params
    assert error_code(server, "textDocument/codeAction", {"textDocument": {"uri": uri}}) == invalid_params
    assert error_code(server, "textDocument/definitely-not-a-method", {}) == -32601
    # Positions past a line's end or past the last line are the line's end or the text's end.
    assert server.request("textDocument/hover", hover_params(uri, 10**6, 0)) is None
    assert server.request("textDocument/hover", hover_params(uri, 1, 10**6)) is None
    assert "NUM101" in server.request("textDocument/hover", hover_params(uri, 1, 10))["contents"]["value"]
    # A range whose end comes before its start covers the same text.
    [action] = server.code_actions(path, (1, 45), (1, 4), only=["quickfix"])
    assert action["title"].startswith("NUM101")
    # Documents that are not open, not files or not Python: nothing to say.
    assert server.hover(project / "missing.py", 0, 0) is None
    assert server.code_actions(project / "missing.py", (0, 0), (0, 0)) == []
    assert server.request("textDocument/hover", hover_params("untitled:Untitled-1", 0, 0)) is None
    assert server.request("textDocument/hover", hover_params("not a uri", 0, 0)) is None
    # Notifications that cannot be applied are dropped; the server goes on.
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri}})  # no text
    server.send_change(project / "never-opened.py", [change(0, 0, 0, 0, "x")], 2)
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": "two"}, "contentChanges": []})
    assert server.hover(path, 1, 10)["range"] == finding["range"]  # the document is as it was

    # Messages that are not JSON-RPC requests at all: an error whose id is null when none can be read.
    server.send_bytes(b"{this is not json")
    server.send({"id": {"not": "an id"}, "method": "textDocument/hover", "params": hover_params(uri, 0, 0)})
    server.send_bytes(json.dumps({"id": 77, "method": "textDocument/hover", "params": hover_params(uri, 0, 0)}).encode())
    server.send_bytes(json.dumps({"jsonrpc": "1.0", "id": 78, "method": "shutdown"}).encode())
    server.send_bytes(b"[1, 2]")
    parse_error = server.wait_for(lambda m: m.get("error", {}).get("code") == -32700, "a parse error")
    assert parse_error["id"] is None
    bad_id = server.wait_for(lambda m: "error" in m and m["id"] is None and "an id must" in m["error"]["message"],
                             "the answer to a request with an invalid id")
    assert bad_id["error"]["code"] == -32600
    assert server.answer(77, "the answer to a request without jsonrpc")["error"]["code"] == -32600
    assert server.answer(78, "the answer to a JSON-RPC 1.0 request")["error"]["code"] == -32600
    server.wait_for(lambda m: "error" in m and m["id"] is None and "not a JSON-RPC 2.0" in m["error"]["message"],
                    "a batch's answer")

    # After shutdown every request but exit is refused, and answered.
    assert server.request("shutdown", None) is None
    assert error_code(server, "textDocument/hover", hover_params(uri, 1, 10)) == -32600
    server.notify("exit", None)
    assert server.process.wait(timeout=TIMEOUT) == 0, server.log()


@linux
def test_files_the_editor_did_not_open_are_read_only_when_they_are_regular_and_small(server, project):
    server.initialize(project)
    fifo = project / "x.py"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    assert server.hover(fifo, 0, 0) is None
    zero = project / "zero.py"
    zero.symlink_to("/dev/zero")  # reading it would never end
    assert server.hover(zero, 0, 0) is None
    assert server.code_actions(zero, (0, 0), (0, 0)) == []
    big = project / "big.py"
    big.write_text(LSE + "#" * 2**23)  # 8 MB: past the limit (lsp_text.MAX_DOCUMENT_CHARS)
    assert server.hover(big, 1, 10) is None
    on_disk = project / "disk.py"
    on_disk.write_text(LSE)  # a regular file: read and checked as before
    assert "NUM101 log-sum-exp" in server.hover(on_disk, 1, 10)["contents"]["value"]
    link = project / "link.py"
    link.symlink_to(on_disk)
    assert "NUM101 log-sum-exp" in server.hover(link, 1, 10)["contents"]["value"]
    assert [d["code"] for d in server.open(project / "model.py", LSE)] == ["NUM101"]


DEEP = "z = " + "(" * 1500 + "torch.exp(x)" + ")" * 1500 + "\n"


def test_deep_nesting_is_one_diagnostic_and_the_server_goes_on(server, project):
    # libcst's parser segfaults on 1,500 nested brackets: the worker dies, or (once the engine
    # refuses such depth before libcst) reports it. Either way: one diagnostic, and on we go.
    server.initialize(project)
    path = project / "model.py"
    uri = path.as_uri()
    [finding] = server.open(path, LSE)
    server.send_change(path, [change(2, 0, 2, 0, DEEP)], 2)
    kept, error = server.diagnostics(uri, 2)
    assert kept == finding and error["severity"] == 1 and error["message"].startswith("cannot ")
    assert server.hover(path, 1, 10)["range"] == finding["range"]
    assert server.change(path, LSE + "w = 1\n", 3) == [finding]


CRASHING_CHECKER = """
import os, signal
import numlint.checker as checker

_check_text = checker.check_text


def check_text(text, *args, **kwargs):
    if "CRASH-HERE" in text:  # as libcst's native parser does on deeply nested code
        os.kill(os.getpid(), signal.SIGSEGV)
    return _check_text(text, *args, **kwargs)


checker.check_text = check_text
"""


@linux
def test_a_checker_that_crashes_mid_check_is_one_diagnostic_and_the_server_goes_on(project, tmp_path_factory):
    pytest.importorskip("pygls")
    hooks = tmp_path_factory.mktemp("hooks")
    (hooks / "sitecustomize.py").write_text(CRASHING_CHECKER)  # runs in every process started below
    path_entries = [str(hooks)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    server = Server(project, env={"PYTHONPATH": os.pathsep.join(path_entries)})
    try:
        server.initialize(project)
        path = project / "model.py"
        uri = path.as_uri()
        [finding] = server.open(path, LSE)
        first = server.worker_pid()
        server.send_change(path, [change(2, 0, 2, 0, "# CRASH-HERE\n")], 2)
        kept, error = server.diagnostics(uri, 2)
        assert kept == finding
        assert error["severity"] == 1 and "killed by SIGSEGV" in error["message"]
        assert error["range"]["start"] == {"line": 0, "character": 0}
        assert process_state(first) in (None, "Z")
        # A new worker checks the next text; a second crash is one diagnostic again.
        assert server.change(path, LSE + "w = 1\n", 3) == [finding]
        assert server.worker_pid() != first
        server.send_change(path, [change(0, 0, 0, 0, "# CRASH-HERE\n")], 4)
        [error] = server.diagnostics(uri, 4)[1:]
        assert "killed by SIGSEGV" in error["message"]
        assert "NUM101" in server.hover(path, 2, 10)["contents"]["value"]
        assert server.request("shutdown", None) is None
        server.notify("exit", None)
        assert server.process.wait(timeout=TIMEOUT) == 0, server.log()
        assert "Traceback" not in server.log()
    finally:
        server.close()


@linux
def test_a_worker_killed_between_checks_is_replaced_without_a_word(server, project):
    server.initialize(project)
    path = project / "model.py"
    [finding] = server.open(path, LSE)
    first = server.worker_pid()
    os.kill(first, signal.SIGKILL)
    wait_until_gone(first)
    assert server.change(path, LSE + "w = 1\n", 2) == [finding]  # not this text's fault: no crash shown
    assert server.worker_pid() != first


@linux
def test_requests_are_answered_while_a_check_runs_and_a_burst_is_checked_once(server, project):
    server.initialize(project, trace="messages")
    other = project / "other.py"
    [other_finding] = server.open(other, LSE)
    path = project / "model.py"
    uri = path.as_uri()
    [finding] = server.open(path, LSE)
    before = len(server.checks())
    worker = server.worker_pid()
    stop(worker)  # from here on, a check that starts cannot end
    try:
        text_lines = 3
        for version in range(2, 22):  # twenty quick edits, each a line typed at the end
            server.send_change(path, [change(text_lines - 1, 0, text_lines - 1, 0, f"v{version} = 1\n")], version)
            text_lines += 1
        server.sync()  # every edit is in
        # At most one check is waiting on the stopped worker; everything else is answered now.
        assert server.hover(other, 1, 10)["range"] == other_finding["range"]
        [action] = server.code_actions(other, (1, 4), (1, 4), only=["quickfix"])
        assert action["title"].startswith("NUM101")
        assert server.published(uri) == [1]
    finally:
        os.kill(worker, signal.SIGCONT)
    assert server.diagnostics(uri, 21) == [finding]
    server.sync()
    assert server.published(uri) == [1, 21]  # no version in between, and never a stale result
    # One check of the latest text, plus at most the one that had started when the worker stopped.
    assert 1 <= len(server.checks()) - before <= 2


@linux
def test_shutdown_is_answered_while_a_check_runs_and_the_worker_ends_with_the_server(server, project):
    server.initialize(project)
    path = project / "model.py"
    server.open(path, LSE)
    worker = server.worker_pid()
    stop(worker)
    server.send_change(path, [change(2, 0, 2, 0, "w = 1\n")], 2)
    server.send({"id": 500, "method": "textDocument/hover", "params": hover_params(path.as_uri(), 1, 10)})
    assert server.request("shutdown", None) is None  # while the hover waits for a check that cannot end
    assert "id" in server.answer(500, "the hover's answer")  # cancelled by the shutdown: still answered
    server.notify("exit", None)
    assert server.process.wait(timeout=TIMEOUT) == 0, server.log()
    wait_until_gone(worker)


@linux
def test_the_worker_ends_when_the_server_is_killed(server, project):
    server.initialize(project)
    server.open(project / "model.py", LSE)
    worker = server.worker_pid()
    server.process.kill()
    wait_until_gone(worker)  # its stdin closed: it leaves


def test_checks_on_a_thread_of_the_server_still_work(project):
    # The model kept for comparison (benchmarks/lsp_latency.py --worker thread).
    pytest.importorskip("pygls")
    server = Server(project, env={"NUMLINT_LSP_WORKER": "thread"})
    try:
        server.initialize(project)
        assert [d["code"] for d in server.open(project / "model.py", LSE)] == ["NUM101"]
    finally:
        server.close()
