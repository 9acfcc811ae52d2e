"""numlint as a language server (`numlint server`): diagnostics, quick fixes, "fix all" and rule
explanations on hover for the Python files open in an editor, over stdio, built on pygls 2.

Each document is checked as `numlint check` would check it (same pyproject.toml discovery,
selection and per-file-ignores), from the editor's text rather than the file on disk; files the
configuration excludes get no diagnostics.

How it stays responsive (docs/architecture.md):
- Documents are kept here, changed incrementally (`TextDocumentSyncKind.Incremental`).
- A change only marks its document as due; one scheduler task checks due documents one at a time,
  a short quiet time (`DEBOUNCE`) after their last change, always their latest text: versions that
  were overtaken while queued are never checked, and a result for a text that changed meanwhile
  is never published.
- The check runs in a worker process (lsp_worker.py); the event loop only waits on its pipe, so
  hover, code actions and shutdown are answered while a check runs. Hover and code actions that
  need the current text's findings wait for its check; other documents' are answered at once.
- A text that cannot be checked (a syntax error while typing, a lone surrogate, a crash of the
  worker) keeps the findings of the last text that could be checked, moved to where they now are,
  plus one diagnostic that says why.

Everything but the worker's pipe runs on the event loop's thread, so the state needs no locks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

import attrs
import cattrs
from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from numlint import __version__
from numlint.config import ConfigError, Settings, ignored_for, load_settings, matches, select_rules
from numlint.diagnostics import SAFE, UNSAFE, FileError, Finding
from numlint.explain import explain
from numlint.integrations.lsp_text import Lines, Unreadable, apply_change, carry_over, read_file, unreadable
from numlint.integrations.lsp_worker import ProcessWorker, Reply, Request, ThreadWorker, WorkerDied

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from numlint.report import rule_url
from numlint.rules import Rule, RuleError, registry

log = logging.getLogger(__name__)

FIX_ALL = "source.fixAll.numlint"
_PYTHON_SUFFIXES = (".py", ".pyi")

DEBOUNCE = 0.03  # seconds of quiet after a change before its document is checked
CHECK_TIMEOUT = 120.0  # seconds a check may take before the worker is stopped (a hang, not a slow file)

__all__ = ["Lines", "NumlintServer", "server", "start"]


# -- the JSON-RPC layer: every request gets an answer --------------------------------------------


@dataclass(frozen=True)
class _Rejected:
    """A request that cannot be handled as sent; it is answered with this error."""

    id: Any
    code: int
    message: str


_IGNORED = object()  # a malformed notification: nothing to answer


def _request_id(value: Any) -> Any:
    # JSON-RPC ids are numbers or strings; an answer to any other "id" says null.
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, with documents kept by the server (lsp_text.apply_change instead of
    pygls' line-list copy, which splits lines where LSP does not) and no message left unanswered:
    pygls drops a request whose params do not fit the method's type, that arrives after
    shutdown, or that is not JSON-RPC 2.0 at all."""

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        yield self.fm.features[types.TEXT_DOCUMENT_DID_OPEN], (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        yield self.fm.features[types.TEXT_DOCUMENT_DID_CHANGE], (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        yield self.fm.features[types.TEXT_DOCUMENT_DID_CLOSE], (params,), None

    def structure_message(self, data: Dict[str, Any]):
        if "jsonrpc" not in data:
            return data  # a nested object (or a message without "jsonrpc": handle_message answers)
        if "id" in data and "method" not in data and "error" not in data:
            return super().structure_message(data)  # the client's answer to our request
        try:
            if "error" in data:
                return self._converter.structure(data, types.ResponseErrorMessage)
            kind = self.get_message_type(data.get("method", ""))
            if kind is None:
                return super().structure_message(data)  # an unknown method: pygls answers it
            return self._converter.structure(data, kind)
        except Exception as exc:
            method = data.get("method")
            if "id" not in data:
                log.warning("ignoring a malformed %r notification: %s", method, _why(exc))
                return _IGNORED
            return _Rejected(_request_id(data.get("id")), -32602, f"invalid params for {method!r}: {_why(exc)}")

    def handle_message(self, message) -> None:
        if message is _IGNORED:
            return
        if isinstance(message, _Rejected):
            self._send_error(message.id, message.code, message.message)
            return
        if not attrs.has(type(message)):
            # Not a JSON-RPC 2.0 message: a batch, a bare value, an object without "jsonrpc".
            if isinstance(message, dict) and "id" not in message:
                log.warning("ignoring a message that is not JSON-RPC 2.0")
                return
            ident = _request_id(message.get("id")) if isinstance(message, dict) else None
            self._send_error(ident, -32600, "invalid request: not a JSON-RPC 2.0 message")
            return
        method = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if getattr(message, "jsonrpc", None) != self.VERSION:
            if is_request:
                self._send_error(_request_id(message.id), -32600, "invalid request: jsonrpc must be \"2.0\"")
            return
        if is_request and _request_id(message.id) is None:
            self._send_error(None, -32600, f"invalid request to {method!r}: an id must be a number or a string")
            return
        if self._shutdown and is_request and method != types.EXIT:
            self._send_error(message.id, -32600, "the server is shutting down")
            return
        super().handle_message(message)

    def _send_error(self, ident: Any, code: int, message: str) -> None:
        # Written as a plain object: the converter would leave out a null id.
        self._send_data({"jsonrpc": self.VERSION, "id": ident, "error": {"code": code, "message": message}})


def _why(exc: BaseException) -> str:
    cause = exc if isinstance(exc, cattrs.BaseValidationError) else exc.__cause__
    if isinstance(cause, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(cause)[:3])
    return str(exc) or type(exc).__name__


# -- documents and what was found in them ---------------------------------------------------------


@dataclass
class _Document:
    uri: str
    language_id: Optional[str]
    version: Optional[int]
    text: str


@dataclass(frozen=True)
class _Config:
    settings: Settings
    rules: Mapping[str, Rule]
    selected: FrozenSet[str]


@dataclass
class _Checked:
    """One text and what the editor is shown for it; hover and code actions reuse it."""

    text: str
    lines: Lines
    display: str
    rules: Dict[str, Rule]  # the rules run, by code (hover explains them)
    findings: Tuple[Finding, ...]  # this text's own findings (empty when it could not be checked)
    # What is shown, as character spans of `text`: the findings, or those of the last text that
    # could be checked, carried over to this one.
    shown: List[Tuple[int, int, Finding]]
    errors: Tuple[FileError, ...] = ()  # why it could not be checked, or which rule failed
    rule_paths: Tuple[str, ...] = ()  # the configuration's rule folders (a fix runs the same rules)
    ok: bool = True  # checked: its findings are its own and their fixes apply to it
    fixed: Optional[str] = field(default=None)  # the fix-all text, computed on first request


@dataclass
class _State:
    latest: Optional[_Checked] = None  # the last text checked (maybe overtaken since)
    good: Optional[_Checked] = None  # the last text that could be checked
    published: Optional[int] = -1  # the version last published for


class NumlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("numlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=_Protocol)
        # Keyed by pyproject path, mtime and size, so an edited config takes effect without a restart.
        self.configs: Dict[Tuple[Optional[str], Optional[Tuple[int, int]]], _Config] = {}
        self.numlint_tables: Dict[Tuple[str, int, int], bool] = {}  # does this pyproject have one?
        self.documents: Dict[str, _Document] = {}
        self.states: Dict[str, _State] = {}
        self.config_errors: Dict[str, str] = {}  # uri -> the error last shown for it
        self.shutdown_requested = False
        self.due: Dict[str, float] = {}  # uri -> when its check may start (event loop time)
        self.checks_run = 0
        self.worker = ThreadWorker() if os.environ.get("NUMLINT_LSP_WORKER") == "thread" else ProcessWorker()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="numlint-worker-pipe")
        self._wakeup: Optional[asyncio.Event] = None
        self._checked_event: Optional[asyncio.Event] = None  # set (and replaced) after each check
        self._worker_lock: Optional[asyncio.Lock] = None
        self._scheduler: Optional[asyncio.Task] = None

    # -- configuration -----------------------------------------------------------------------

    def root(self) -> Path:
        try:
            return Path(self.workspace.root_path or os.getcwd())
        except RuntimeError:  # not initialized
            return Path(os.getcwd())

    def find_pyproject(self, start: Path) -> Optional[Path]:
        """config.find_pyproject, without parsing every pyproject.toml on the way up on every
        check: whether one has a [tool.numlint] table is remembered by its mtime and size."""
        folder = Path(os.path.realpath(start))
        if not folder.is_dir():
            folder = folder.parent
        for candidate in (folder, *folder.parents):
            path = candidate / "pyproject.toml"
            try:
                info = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            key = (str(path), info.st_mtime_ns, info.st_size)
            if key not in self.numlint_tables:
                try:
                    data = tomllib.loads(read_file(str(path)))
                except Unreadable as exc:
                    raise ConfigError(f"{path}: {exc}") from None
                except tomllib.TOMLDecodeError as exc:
                    raise ConfigError(f"{path}: invalid TOML: {exc}") from None
                tool = data.get("tool", {})
                self.numlint_tables[key] = isinstance(tool, dict) and "numlint" in tool
            if self.numlint_tables[key]:
                return path
        return None

    def config_for(self, path: Optional[Path]) -> _Config:
        workspace = self.root()
        pyproject = self.find_pyproject(path or workspace)
        try:
            info = pyproject.stat() if pyproject else None
        except OSError as exc:
            raise ConfigError(f"{pyproject}: cannot read: {exc}") from None
        key = (str(pyproject) if pyproject else None, (info.st_mtime_ns, info.st_size) if info else None)
        if key not in self.configs:
            # Without a pyproject.toml, exclude patterns are anchored at the workspace root (so a
            # file in site-packages outside it is excluded): one entry serves all such files.
            settings = load_settings(pyproject, workspace)
            rules = registry(settings.rule_paths)
            selected = select_rules(rules, settings.select, settings.extend_select, settings.ignore)
            self.configs[key] = _Config(settings, rules, selected)
        return self.configs[key]

    def rules_for(self, uri: str) -> Optional[Tuple[Dict[str, Rule], Tuple[str, ...], str]]:
        """The rules to run on a document (by code), their extra rule folders, and the path to
        name; None when the configuration is broken (the user is told once)."""
        fs_path = to_fs_path(uri)
        path = Path(fs_path) if fs_path else None
        try:
            config = self.config_for(path)
            codes = config.selected - (ignored_for(config.settings, path, config.rules) if path else frozenset())
        except (ConfigError, RuleError, OSError) as exc:
            self.report_config_error(uri, str(exc))
            return None
        self.config_errors.pop(uri, None)
        settings = config.settings
        if path is not None and matches(settings.exclude + settings.extend_exclude, path, settings.root):
            # Unlike a file named on the command line: a file opened from site-packages by
            # go-to-definition, or a project's excluded fixtures, is not the user's to fix.
            codes = frozenset()
        rules = {code: config.rules[code] for code in sorted(codes)}
        return rules, settings.rule_paths, fs_path or uri

    def report_config_error(self, uri: str, message: str) -> None:
        # Once per document and error, not on every keystroke.
        message = " ".join(message.split())
        if self.config_errors.get(uri) != message:
            self.config_errors[uri] = message
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"numlint: {message}"))

    def encoding(self) -> str:
        try:
            encoding = self.workspace.position_encoding
        except RuntimeError:
            return "utf-16"
        return str(getattr(encoding, "value", encoding) or "utf-16")

    # -- checking ----------------------------------------------------------------------------

    def _loop_objects(self) -> None:
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
            self._checked_event = asyncio.Event()
            self._worker_lock = asyncio.Lock()
        if self._scheduler is None and not self.shutdown_requested:
            self._scheduler = asyncio.get_running_loop().create_task(self._schedule())

    def want_check(self, uri: str, delay: float) -> None:
        """Check `uri`'s latest text once `delay` seconds pass without another change to it."""
        if self.shutdown_requested:
            return
        self._loop_objects()
        due = asyncio.get_running_loop().time() + delay
        # A change pushes the check back; a request that needs it now brings it forward.
        self.due[uri] = due if delay > 0 or uri not in self.due else min(self.due[uri], due)
        self._wakeup.set()

    async def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.shutdown_requested:
            self._wakeup.clear()
            if not self.due:
                await self._wakeup.wait()
                continue
            uri = min(self.due, key=self.due.__getitem__)
            wait = self.due[uri] - loop.time()
            if wait > 0:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), wait)
                except asyncio.TimeoutError:
                    pass
                continue
            del self.due[uri]
            try:
                await self.check_document(uri)
            except Exception as exc:  # a bug here must not stop every later check
                log.exception("numlint failed on %s", uri)
                document = self.documents.get(uri)
                if document is not None:  # the text counts as checked: requests waiting for it go on
                    state = self.states.setdefault(uri, _State())
                    state.latest = self._not_checked(
                        document.text, Lines(document.text, self.encoding()), uri, {}, state.good,
                        FileError(f"internal error ({type(exc).__name__}: {exc}); this is a numlint bug, please "
                                  "report it", code="internal"))
                    self.publish(uri, state.latest, document.version)
            finally:
                event, self._checked_event = self._checked_event, asyncio.Event()
                event.set()

    async def check_document(self, uri: str) -> None:
        document = self.documents.get(uri)
        if document is None or not _is_python(document.language_id, uri):
            return
        state = self.states.setdefault(uri, _State())
        if state.latest is not None and state.latest.text == document.text:
            # Already checked (a hover asked for it while its check ran, or an edit was undone).
            if state.published != document.version:
                self.publish(uri, state.latest, document.version)
            return
        text = document.text
        checked = await self.check_text(uri, text, state.good)
        if self.documents.get(uri) is not document or self.shutdown_requested:
            return  # closed (or reopened) meanwhile
        state.latest = checked
        if checked.ok:
            state.good = checked
        if document.text == text:  # still the editor's text: show it (a newer one is due otherwise)
            self.publish(uri, checked, document.version)

    async def check_text(self, uri: str, text: str, good: Optional[_Checked]) -> _Checked:
        lines = Lines(text, self.encoding())
        plan = self.rules_for(uri)
        if plan is None:  # a broken configuration: nothing shown, the user was told
            return _Checked(text, lines, uri, {}, (), [])
        rules, rule_paths, display = plan
        if not rules:
            return _Checked(text, lines, display, rules, (), [])
        problem = unreadable(text)
        if problem is not None:
            return self._not_checked(text, lines, display, rules, good, problem)
        started = time.perf_counter()
        try:
            reply = await self.call_worker(Request(text, tuple(rules), rule_paths, display, document=uri))
        except WorkerDied as exc:
            log.error("numlint's checker process %s while checking %s; a new one is started", exc, display)
            return self._not_checked(text, lines, display, rules, good, FileError(
                f"cannot check: numlint's checker process {exc} on this text (libcst crashes on some "
                "deeply nested code); earlier findings are kept"))
        except asyncio.TimeoutError:
            log.error("numlint stopped checking %s after %.0f s", display, CHECK_TIMEOUT)
            return self._not_checked(text, lines, display, rules, good, FileError(
                f"cannot check: stopped after {CHECK_TIMEOUT:.0f} s; earlier findings are kept"))
        self.checks_run += 1
        parsed = "" if reply.parsed_rows is None else f", {reply.parsed_rows} rows parsed"
        self.trace(f"checked {uri} ({len(text)} characters) in {1000 * (time.perf_counter() - started):.0f} ms, "
                   f"{1000 * reply.cpu:.0f} ms CPU in the worker{parsed}; check #{self.checks_run}")
        # A file that does not parse reports only that; a rule that failed comes with the others'.
        if any(error.code is None or error.code == "internal" for error in reply.errors) and not reply.findings:
            return self._not_checked(text, lines, display, rules, good, reply.errors[0])
        shown = [(lines.offset_of(f.location), lines.offset_of(f.end_location), f) for f in reply.findings]
        return _Checked(text, lines, display, rules, tuple(reply.findings), shown, tuple(reply.errors), rule_paths)

    @staticmethod
    def _not_checked(text: str, lines: Lines, display: str, rules: Dict[str, Rule], good: Optional[_Checked],
                     error: FileError) -> _Checked:
        shown = carry_over(good.shown, good.text, text) if good is not None else []
        return _Checked(text, lines, display, rules, (), shown, (error,), ok=False)

    async def call_worker(self, request: Request) -> Reply:
        self._loop_objects()
        loop = asyncio.get_running_loop()
        async with self._worker_lock:  # one at a time; the time limit counts from the start
            future = loop.run_in_executor(self._executor, self.worker.call, request)
            try:
                return await asyncio.wait_for(future, CHECK_TIMEOUT)
            except asyncio.TimeoutError:
                self.worker.stop()  # the pipe's reader sees the end and returns
                raise

    async def current(self, uri: str) -> Optional[_Checked]:
        """The check of `uri`'s current text, waiting for it if it is due or running; for a
        file the editor did not open, a check of its text on disk (if it is safe to read)."""
        if uri not in self.documents:
            return await self.check_unopened(uri)
        self._loop_objects()
        while True:
            document = self.documents.get(uri)
            if document is None or not _is_python(document.language_id, uri):
                return None
            state = self.states.get(uri)
            if state is not None and state.latest is not None and state.latest.text == document.text:
                return state.latest
            if self.shutdown_requested:
                return None
            event = self._checked_event
            self.want_check(uri, 0)
            await event.wait()

    async def check_unopened(self, uri: str) -> Optional[_Checked]:
        fs_path = to_fs_path(uri)
        if not fs_path or not fs_path.endswith(_PYTHON_SUFFIXES) or self.shutdown_requested:
            return None
        try:
            text = read_file(fs_path)
        except Unreadable as exc:
            log.warning("not checking %s: %s", fs_path, exc)
            return None
        return await self.check_text(uri, text, None)

    def trace(self, message: str) -> None:
        if self.protocol.trace in (types.TraceValue.Messages, types.TraceValue.Verbose):
            self.log_trace(types.LogTraceParams(message=message))

    # -- what the editor is shown ------------------------------------------------------------

    def publish(self, uri: str, checked: _Checked, version: Optional[int]) -> None:
        if uri in self.states:
            self.states[uri].published = version
        lines = checked.lines
        diagnostics = [self.diagnostic(finding, lines.offsets_range(start, end)) for start, end, finding in checked.shown]
        diagnostics.extend(self.error_diagnostic(error, lines) for error in checked.errors)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    @staticmethod
    def diagnostic(finding: Finding, where: types.Range) -> types.Diagnostic:
        return types.Diagnostic(
            range=where,
            message=finding.message,
            severity=types.DiagnosticSeverity.Warning,
            source="numlint",
            code=finding.code,
            code_description=types.CodeDescription(href=rule_url(finding.code, finding.name)),
        )

    @staticmethod
    def error_diagnostic(error: FileError, lines: Lines) -> types.Diagnostic:
        row, column = error.location.row, error.location.column
        if row > lines.index.rows:
            start = len(lines.text)
        else:  # a column past the end of its line (CPython may say so) means the line's end
            start = lines.index.starts[row - 1] + min(max(column - 1, 0), len(lines.index.line(row)))
        # One character wide, so that editors draw it; none at the end of a line or of the text.
        end = start + 1 if start < len(lines.text) and lines.text[start] not in "\r\n" else start
        return types.Diagnostic(
            range=lines.offsets_range(start, end),
            message=" ".join(error.message.split()),
            severity=types.DiagnosticSeverity.Error,
            source="numlint",
            code=error.code if error.code and error.code != "internal" else None,
        )

    def clear(self, uri: str) -> None:
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- code actions ------------------------------------------------------------------------

    async def code_actions(self, params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        checked = await self.current(uri)
        if checked is None or not checked.ok:  # fixes apply only to the text they were made for
            return []
        lines = checked.lines
        only = params.context.only
        actions: List[types.CodeAction] = []
        if _wanted(types.CodeActionKind.QuickFix, only):
            start, end = sorted((lines.offset(params.range.start), lines.offset(params.range.end)))
            for finding in checked.findings:
                fix = finding.fix
                # Display-only fixes are shown by `numlint check`, never applied: no action.
                if fix is None or fix.applicability not in (SAFE, UNSAFE):
                    continue
                if lines.offset_of(finding.location) > end or lines.offset_of(finding.end_location) < start:
                    continue
                edits = [types.TextEdit(range=lines.range(e.location, e.end_location), new_text=e.content)
                         for e in fix.edits]
                actions.append(types.CodeAction(
                    title=f"{finding.code}: {fix.message}" + (" (unsafe)" if fix.applicability == UNSAFE else ""),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[self.diagnostic(finding, lines.range(finding.location, finding.end_location))],
                    is_preferred=fix.applicability == SAFE,
                    edit=types.WorkspaceEdit(changes={uri: edits}),
                ))
        if _wanted(FIX_ALL, only) and any(f.fix is not None and f.fix.applicability == SAFE for f in checked.findings):
            if checked.fixed is None:
                checked.fixed = await self.fix_all(checked)
            if checked.fixed != checked.text:
                whole = types.Range(start=types.Position(line=0, character=0), end=lines.end())
                actions.append(types.CodeAction(
                    title="Fix all numlint (safe)",
                    kind=FIX_ALL,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=checked.fixed)]}),
                ))
        return actions

    async def fix_all(self, checked: _Checked) -> str:
        request = Request(checked.text, tuple(checked.rules), checked.rule_paths, checked.display, fix=True)
        try:
            reply = await self.call_worker(request)
        except (WorkerDied, asyncio.TimeoutError) as exc:
            log.error("numlint could not fix %s: %s", checked.display, exc)
            return checked.text
        return reply.fixed if reply.fixed is not None and not reply.errors else checked.text

    # -- hover -------------------------------------------------------------------------------

    async def hover(self, params: types.HoverParams) -> Optional[types.Hover]:
        checked = await self.current(params.text_document.uri)
        if checked is None:
            return None
        lines = checked.lines
        offset = lines.offset(params.position)
        hits = [(start, end, f) for start, end, f in checked.shown if start <= offset < end]
        if not hits:
            return None
        parts = []
        for _, _, finding in hits:
            if finding.help:  # this finding's advice (why no fix was written) comes before the rule
                parts.append(f"**{finding.code}:** {finding.help}")
        for code in dict.fromkeys(f.code for _, _, f in hits):
            if code in checked.rules:
                parts.append(explain(checked.rules[code]))
        start, end, _ = hits[0]
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)),
            range=lines.offsets_range(start, end),
        )

    # -- errors pygls reports ----------------------------------------------------------------

    def report_server_error(self, error: Exception, source) -> None:
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
            # A body that is not JSON: JSON-RPC's answer is a parse error with a null id.
            self.protocol._send_error(None, -32700, f"parse error: {error}")
            return
        if source is not FeatureRequestError:  # a request's error went to the client in its answer
            log.error("%s", " ".join(str(error).split()) or type(error).__name__)


def _one_line_for_bad_json(record: logging.LogRecord) -> bool:
    if record.exc_info and isinstance(record.exc_info[1], (json.JSONDecodeError, UnicodeDecodeError)):
        record.msg, record.args = "%s: %s", (record.getMessage(), record.exc_info[1])
        record.exc_info = record.exc_text = None
    return True


def _is_python(language_id: Optional[str], uri: str) -> bool:
    return language_id == "python" or uri.endswith(_PYTHON_SUFFIXES)


def _wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Is `kind` asked for? `only` lists kinds and their parents ("source" covers "source.fixAll.x")."""
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


server = NumlintServer()


@server.feature(types.INITIALIZE)
def _initialize(ls: NumlintServer, params: types.InitializeParams) -> None:
    ls.protocol.trace = params.trace or types.TraceValue.Off
    ls.worker.start()  # it imports numlint while the client opens its first documents


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: NumlintServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    ls.documents[item.uri] = _Document(item.uri, item.language_id, item.version, item.text)
    ls.states.pop(item.uri, None)
    if _is_python(item.language_id, item.uri):
        ls.want_check(item.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: NumlintServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    document = ls.documents.get(uri)
    if document is None:
        log.warning("ignoring a change to %s, which is not open", uri)
        return
    encoding = ls.encoding()
    for change in params.content_changes:
        document.text = apply_change(document.text, change, encoding)
    document.version = params.text_document.version
    if _is_python(document.language_id, uri):
        ls.want_check(uri, DEBOUNCE)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: NumlintServer, params: types.DidSaveTextDocumentParams) -> None:
    # The text may be unchanged, but pyproject.toml may have changed since: check again.
    uri = params.text_document.uri
    if uri in ls.documents:
        ls.states.setdefault(uri, _State()).latest = None
        ls.want_check(uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: NumlintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.pop(uri, None)
    ls.states.pop(uri, None)
    ls.due.pop(uri, None)
    ls.config_errors.pop(uri, None)
    ls.clear(uri)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
async def _code_action(ls: NumlintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
    return await ls.code_actions(params)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def _hover(ls: NumlintServer, params: types.HoverParams) -> Optional[types.Hover]:
    return await ls.hover(params)


@server.feature(types.SHUTDOWN)
def _shutdown(ls: NumlintServer, *args) -> None:
    ls.shutdown_requested = True
    ls.due.clear()
    if ls._wakeup is not None:
        ls._wakeup.set()
    ls.worker.stop()


def start() -> int:
    """Serve on stdin/stdout until the client says exit; the exit code LSP asks for: 0 after a
    shutdown request, 1 without one (pygls swallows its own)."""
    out = sys.stdout.buffer
    # A stray print anywhere would corrupt the JSON-RPC stream: send it to stderr instead.
    sys.stdout = sys.stderr
    # A body that is not JSON is answered (report_server_error); one line in the log says so.
    logging.getLogger("pygls.io_").addFilter(_one_line_for_bad_json)
    try:
        server.start_io(sys.stdin.buffer, out)
    finally:
        server.worker.stop()
    return 0 if server.shutdown_requested else 1
