"""Where the language server's checks run: a persistent worker process (`python -m
numlint.integrations.lsp_worker`), one check at a time, spoken to over its stdin/stdout.

A check is CPU-bound Python and libcst's native parser; run on a thread of the server it holds the
GIL, and a crash in libcst (deep nesting segfaults it) would end the server. In a process of its
own it does neither: the server's message loop only waits on a pipe, and a worker that dies is
reported for the text it was checking and replaced (docs/architecture.md has the measurements).

Messages are pickles framed by an 8-byte length, both ways, between a server and the worker it
started (never anything else: the worker reads only its own stdin). The worker keeps the rule
registry it loaded, so a check costs only the check, and the trees of the last documents it
checked (reparse.py), so the next version of a document parses only the top-level statements its
edit touched: a tree equal to a full parse's, so the same findings.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional, Tuple

_HEADER = struct.Struct(">Q")


@dataclass(frozen=True)
class Request:
    text: str
    codes: Tuple[str, ...]  # the rules to run
    rule_paths: Tuple[str, ...]  # the directories of rules beyond the built-in ones
    display: str  # the path to name in messages
    fix: bool = False  # also apply the safe fixes (the "fix all" action)
    document: Optional[str] = None  # the editor's document (its URI): its previous tree is reused


@dataclass(frozen=True)
class Reply:
    findings: tuple = ()
    errors: tuple = ()  # FileError values: the text could not be checked (or a rule failed)
    fixed: Optional[str] = None  # with Request.fix: the text with every safe fix applied
    cpu: float = 0.0  # CPU seconds the check took in the worker
    parsed_rows: Optional[int] = None  # rows libcst parsed (fewer than the text's when a tree was reused)


# The trees kept for the documents checked last (about 0.25 MB of memory per 1,000 characters):
# at most this many documents, and this many characters in all (the latest is always kept).
KEPT_DOCUMENTS = 8
KEPT_CHARACTERS = 1_048_576
FULL_COLLECTION_EVERY = 50  # checks between full garbage collections in the worker


class WorkerDied(Exception):
    """The worker ended while checking a text (a crash in libcst, the OOM killer, a kill)."""


class WorkerTimeout(Exception):
    """The worker did not answer within the time limit and was stopped."""


class Engine:
    """Runs requests; the same code in the worker process and, for comparison, on a thread."""

    def __init__(self) -> None:
        self._froze = False
        self._trees: "OrderedDict[str, tuple]" = OrderedDict()  # document -> (Reparser, characters)

    def _reparser(self, document: str, size: int):
        from numlint.reparse import Reparser

        entry = self._trees.pop(document, None)
        reparser = entry[0] if entry is not None else Reparser()
        self._trees[document] = (reparser, size)
        total = sum(chars for _, chars in self._trees.values())
        while len(self._trees) > 1 and (len(self._trees) > KEPT_DOCUMENTS or total > KEPT_CHARACTERS):
            _, (_, chars) = self._trees.popitem(last=False)
            total -= chars
        return reparser

    def rules(self, request: Request) -> dict:
        from numlint.rules import registry

        rules = registry(request.rule_paths)  # loaded once per directory set, as in the server
        if not self._froze:
            # The modules and rules live as long as the worker: keep them out of the garbage
            # collector's full passes, which a check's many small libcst objects trigger.
            gc.freeze()
            self._froze = True
        return rules

    def run(self, request: Request) -> Reply:
        from numlint.diagnostics import FileError
        from numlint.runner import Mode, check_source

        started = time.process_time()
        reuse = None
        try:
            registry = self.rules(request)
            chosen = [registry[code] for code in request.codes if code in registry]
            if request.document is not None and not request.fix:  # a fix's rounds are not versions
                reuse = self._reparser(request.document, len(request.text))
                reuse.parsed_rows = None
            result = check_source(request.text, chosen, request.display, Mode(fix=request.fix), reuse=reuse)
            fixed = result.source if request.fix else None
            return Reply(result.findings, result.errors, fixed, time.process_time() - started,
                         reuse.parsed_rows if reuse is not None else None)
        except RecursionError:
            errors = (FileError("cannot check: too deeply nested"),)
        except Exception as exc:  # numlint's own bug: one diagnostic, and the traceback in the log
            traceback.print_exc(file=sys.stderr)
            errors = (FileError(f"internal error ({type(exc).__name__}: {exc}); this is a numlint bug, please "
                                "report it", code="internal"),)
        if reuse is not None:
            reuse.forget()  # whatever went wrong, the next version is parsed whole
        return Reply((), errors, None, time.process_time() - started)


def _read_message(stream: BinaryIO):
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(stream, _HEADER.unpack(header)[0])
    if body is None:
        return None
    return pickle.loads(body)


def _read_exactly(stream: BinaryIO, size: int) -> Optional[bytes]:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_message(stream: BinaryIO, message) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def main() -> int:
    """The worker: answer requests from stdin on stdout until stdin closes (the server ended)."""
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the replies
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in the editor's terminal is for the server
    engine = Engine()
    # The garbage collector runs between checks, not during them: a check makes some hundred
    # thousand objects, which started about 25 collections per check of a 2,000-line module (a
    # fifth of its time), each also walking the trees kept for the next version. The youngest
    # objects (all of the last check's) are collected once its reply is sent; everything now
    # and then.
    gc.disable()
    checks = 0
    while True:
        request = _read_message(requests)
        if request is None:
            return 0
        _write_message(replies, engine.run(request))
        checks += 1
        gc.collect(2 if checks % FULL_COLLECTION_EVERY == 0 else 1)


class ProcessWorker:
    """The server's handle on its worker process; `call` blocks (run it off the event loop)."""

    def __init__(self) -> None:
        self._process: Optional[subprocess.Popen] = None
        self._lock = threading.Lock()  # one request at a time on the pipe
        self.started = 0  # processes started so far

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        package_root = str(Path(__file__).resolve().parents[2])  # where `numlint` is importable from
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "numlint.integrations.lsp_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
        )
        self.started += 1

    def call(self, request: Request) -> Reply:
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                self.start()  # not started yet, or died between checks: not this text's doing
                process = self._process
            try:
                _write_message(process.stdin, request)
            except (BrokenPipeError, OSError):
                # It died before reading this text: start another and ask it once more.
                self._reap(process)
                self.start()
                process = self._process
                _write_message(process.stdin, request)
            try:
                reply = _read_message(process.stdout)
            except Exception as exc:  # a reply cut short or garbled: this worker cannot be trusted
                self._reap(process)
                self._process = None
                raise WorkerDied(f"sent a reply that could not be read ({type(exc).__name__}: {exc})") from None
            if reply is None:
                code = self._reap(process)
                self._process = None
                raise WorkerDied(_describe(code))
            return reply

    def stop(self) -> None:
        """Kill the worker (the check it runs is abandoned); the next call starts a new one."""
        process = self._process
        if process is not None:
            self._reap(process)

    @staticmethod
    def _reap(process: subprocess.Popen) -> Optional[int]:
        if process.poll() is None:
            process.kill()
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that survives SIGKILL
            code = None
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return code


class ThreadWorker:
    """The same engine on a thread of the server: kept to measure the choice against
    (`NUMLINT_LSP_WORKER=thread`, benchmarks/lsp_latency.py); a crash here ends the server."""

    started = 1
    pid = None

    def __init__(self) -> None:
        self._engine = Engine()
        self._lock = threading.Lock()

    def start(self) -> None:
        pass

    def call(self, request: Request) -> Reply:
        with self._lock:
            return self._engine.run(request)

    def stop(self) -> None:
        pass


def _describe(code: Optional[int]) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return "exited" if code is None else f"exited with code {code}"


if __name__ == "__main__":
    # Through the module's own name, so that what is pickled names `numlint.integrations.lsp_worker`.
    from numlint.integrations import lsp_worker

    sys.exit(lsp_worker.main())
