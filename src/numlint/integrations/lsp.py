"""numlint as a language server (`numlint server`): diagnostics, quick fixes, "fix all" and rule
explanations on hover for the Python files open in an editor, over stdio, built on pygls 2.

Each document is checked as `numlint check` would check it (same pyproject.toml discovery,
selection and per-file-ignores), from the editor's text rather than the file on disk; files the
configuration excludes get no diagnostics. Handlers run one at a time on pygls' event loop, so the
caches below need no locks.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from numlint import __version__
from numlint.config import ConfigError, Settings, find_pyproject, ignored_for, load_settings, matches, select_rules
from numlint.diagnostics import SAFE, UNSAFE, Finding, Position
from numlint.explain import explain
from numlint.report import rule_url
from numlint.rules import Rule, RuleError, registry
from numlint.runner import Mode, check_source
from numlint.source import LineIndex

log = logging.getLogger(__name__)

FIX_ALL = "source.fixAll.numlint"
_PYTHON_SUFFIXES = (".py", ".pyi")

# LSP counts characters in code units of the negotiated encoding (UTF-16 unless the client offers
# another); numlint counts code points. "surrogatepass": a lone surrogate is one unit, not a crash.
_UNITS: Dict[str, Callable[[str], int]] = {
    "utf-8": lambda s: len(s.encode("utf-8", "surrogatepass")),
    "utf-16": lambda s: len(s.encode("utf-16-le", "surrogatepass")) // 2,
    "utf-32": len,
}


class Lines:
    """One text's positions in both conventions: numlint's 1-based rows and 1-based code-point
    columns, and LSP's 0-based lines and 0-based code units. Lines end at \\r\\n, \\r or \\n in both
    (pygls' own codec uses str.splitlines, which also splits at form feeds and U+2028)."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.index = LineIndex(text)
        self.units = _UNITS.get(encoding, _UNITS["utf-16"])

    def to_lsp(self, position: Position) -> types.Position:
        if position.row > self.index.rows:  # past the last line: the end of the text
            return self.end()
        line = self.index.line(position.row)
        return types.Position(line=position.row - 1, character=self.units(line[: position.column - 1]))

    def range(self, start: Position, end: Position) -> types.Range:
        return types.Range(start=self.to_lsp(start), end=self.to_lsp(end))

    def end(self) -> types.Position:
        return self.to_lsp(self.index.position(len(self.text)))

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position; past a line's end means its end (as in LSP)."""
        if position.line >= self.index.rows:
            return len(self.text)
        start = self.index.starts[position.line]
        units = 0
        for index, char in enumerate(self.index.line(position.line + 1)):
            if units >= position.character:
                return start + index
            units += self.units(char)
        return start + len(self.index.line(position.line + 1))

    def offset_of(self, position: Position) -> int:
        return self.index.offset(position.row, position.column - 1)


@dataclass(frozen=True)
class _Config:
    settings: Settings
    rules: Mapping[str, Rule]
    selected: FrozenSet[str]


@dataclass
class _Checked:
    """A document's findings for one text; code actions and hover reuse them."""

    text: str
    display: str
    rules: Dict[str, Rule]
    findings: Tuple[Finding, ...]
    fixed: Optional[str] = field(default=None)  # the fix-all text, computed on first request


class NumlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("numlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        # Keyed by pyproject path, mtime and size, so an edited config takes effect without a restart.
        self.configs: Dict[Tuple[Optional[Path], Optional[Tuple[int, int]]], _Config] = {}
        self.checked: Dict[str, _Checked] = {}
        self.config_errors: Dict[str, str] = {}  # uri -> the error last shown for it
        self.shutdown_requested = False

    # -- checking --------------------------------------------------------------------------------

    def config_for(self, path: Optional[Path]) -> _Config:
        workspace = Path(self.workspace.root_path or os.getcwd())
        pyproject = find_pyproject(path or workspace)
        try:
            stat = pyproject.stat() if pyproject else None
            key = (pyproject, (stat.st_mtime_ns, stat.st_size) if stat else None)
        except OSError as exc:
            raise ConfigError(f"{pyproject}: cannot read: {exc}") from None
        if key not in self.configs:
            # Without a pyproject.toml, exclude patterns are anchored at the workspace root (so a
            # file in site-packages outside it is excluded): one entry serves all such files.
            settings = load_settings(pyproject, workspace)
            rules = registry(settings.rule_paths)
            selected = select_rules(rules, settings.select, settings.extend_select, settings.ignore)
            self.configs[key] = _Config(settings, rules, selected)
        return self.configs[key]

    def check(self, uri: str) -> Optional[_Checked]:
        """The document's findings, or None when it cannot be checked (bad config, internal error)."""
        document = self.workspace.get_text_document(uri)
        if not _is_python(document.language_id, uri):
            return None
        try:
            text = document.source  # read from disk when the client never opened it
        except (OSError, UnicodeDecodeError):
            return None
        previous = self.checked.get(uri)
        if previous is not None and previous.text == text:
            return previous
        fs_path = to_fs_path(uri)
        path = Path(fs_path) if fs_path else None
        try:
            config = self.config_for(path)
            codes = config.selected - (ignored_for(config.settings, path, config.rules) if path else frozenset())
        except (ConfigError, RuleError) as exc:
            self.report_config_error(uri, str(exc))
            return None
        self.config_errors.pop(uri, None)
        settings = config.settings
        if path is not None and matches(settings.exclude + settings.extend_exclude, path, settings.root):
            # Unlike a file named on the command line: a file opened from site-packages by
            # go-to-definition, or a project's excluded fixtures, is not the user's to fix.
            codes = frozenset()
        rules = {code: config.rules[code] for code in sorted(codes)}
        display = fs_path or uri
        try:
            # Errors (a file that does not parse while the user types) are left out: not ours to show.
            result = check_source(text, list(rules.values()), display, Mode())
        except Exception:  # a numlint bug must not take the editor's server down
            log.exception("numlint failed on %s", display)
            return None
        checked = _Checked(text, display, rules, result.findings)
        self.checked[uri] = checked
        return checked

    def report_config_error(self, uri: str, message: str) -> None:
        # Once per document and error, not on every keystroke.
        if self.config_errors.get(uri) != message:
            self.config_errors[uri] = message
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"numlint: {message}"))

    def lines(self, text: str) -> Lines:
        encoding = self.workspace.position_encoding
        return Lines(text, str(getattr(encoding, "value", encoding) or "utf-16"))

    def publish(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        if not _is_python(document.language_id, uri):
            return
        checked = self.check(uri)
        # Nothing to show (a bad config, a numlint bug) still clears what an earlier text showed.
        diagnostics = [] if checked is None else [self.diagnostic(f, self.lines(checked.text)) for f in checked.findings]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version)
        )

    @staticmethod
    def diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
        return types.Diagnostic(
            range=lines.range(finding.location, finding.end_location),
            message=finding.message,
            severity=types.DiagnosticSeverity.Warning,
            source="numlint",
            code=finding.code,
            code_description=types.CodeDescription(href=rule_url(finding.code, finding.name)),
        )

    # -- code actions ----------------------------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        checked = self.check(uri)
        if checked is None:
            return []
        lines = self.lines(checked.text)
        only = params.context.only
        actions: List[types.CodeAction] = []
        if _wanted(types.CodeActionKind.QuickFix, only):
            start, end = lines.offset(params.range.start), lines.offset(params.range.end)
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
                    diagnostics=[self.diagnostic(finding, lines)],
                    is_preferred=fix.applicability == SAFE,
                    edit=types.WorkspaceEdit(changes={uri: edits}),
                ))
        if _wanted(FIX_ALL, only) and any(f.fix is not None and f.fix.applicability == SAFE for f in checked.findings):
            if checked.fixed is None:
                try:
                    result = check_source(checked.text, list(checked.rules.values()), checked.display, Mode(fix=True))
                    checked.fixed = result.source if result.source is not None else checked.text
                except Exception:
                    log.exception("numlint failed to fix %s", checked.display)
                    checked.fixed = checked.text
            if checked.fixed != checked.text:
                whole = types.Range(start=types.Position(line=0, character=0), end=lines.end())
                actions.append(types.CodeAction(
                    title="Fix all numlint (safe)",
                    kind=FIX_ALL,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=checked.fixed)]}),
                ))
        return actions

    # -- hover -----------------------------------------------------------------------------------

    def hover(self, params: types.HoverParams) -> Optional[types.Hover]:
        checked = self.check(params.text_document.uri)
        if checked is None:
            return None
        lines = self.lines(checked.text)
        offset = lines.offset(params.position)
        hits = [f for f in checked.findings
                if lines.offset_of(f.location) <= offset < lines.offset_of(f.end_location)]
        if not hits:
            return None
        parts = []
        for finding in hits:
            if finding.help:  # this finding's advice (why no fix was written) comes before the rule
                parts.append(f"**{finding.code}:** {finding.help}")
        for code in dict.fromkeys(f.code for f in hits):
            parts.append(explain(checked.rules[code]))
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)),
            range=lines.range(hits[0].location, hits[0].end_location),
        )


def _is_python(language_id: Optional[str], uri: str) -> bool:
    return language_id == "python" or uri.endswith(_PYTHON_SUFFIXES)


def _wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Is `kind` asked for? `only` lists kinds and their parents ("source" covers "source.fixAll.x")."""
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


server = NumlintServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: NumlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: NumlintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: NumlintServer, params: types.DidSaveTextDocumentParams) -> None:
    # The text may be unchanged, but pyproject.toml may have changed since: check again.
    ls.checked.pop(params.text_document.uri, None)
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: NumlintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.checked.pop(uri, None)
    ls.config_errors.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
def _code_action(ls: NumlintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
    return ls.code_actions(params)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: NumlintServer, params: types.HoverParams) -> Optional[types.Hover]:
    return ls.hover(params)


@server.feature(types.SHUTDOWN)
def _shutdown(ls: NumlintServer, *args) -> None:
    ls.shutdown_requested = True


def start() -> int:
    """Serve on stdin/stdout until the client says exit; the exit code LSP asks for: 0 after a
    shutdown request, 1 without one (pygls swallows its own)."""
    out = sys.stdout.buffer
    # A stray print anywhere would corrupt the JSON-RPC stream: send it to stderr instead.
    sys.stdout = sys.stderr
    server.start_io(sys.stdin.buffer, out)
    return 0 if server.shutdown_requested else 1
