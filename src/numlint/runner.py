"""Checking (and fixing) files: what the CLI and the integrations call."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence

from numlint import limits, notebook, source
from numlint.checker import check_text
from numlint.config import Settings, ignored_for
from numlint.diagnostics import FileError, FileResult
from numlint.fixes import fix_text
from numlint.cache import Cache, digest
from numlint.rules import Rule, builtin_rules_dir, registry
from numlint.workers import Workers


@dataclass(frozen=True)
class Mode:
    fix: bool = False  # compute fixes and apply them to the text
    write: bool = False  # write fixed text back to the file
    unsafe: bool = False


def check_source(text: str, rules: Sequence[Rule], display_path: str, mode: Mode = Mode()) -> FileResult:
    """Check one file's text; with `mode.fix`, also fix it (the result holds the fixed text)."""
    if mode.fix:
        outcome = fix_text(text, lambda t: check_text(t, rules), mode.unsafe)
        findings, errors = outcome.checked or check_text(outcome.text, rules)
        return FileResult(
            path=display_path,
            findings=tuple(findings),
            errors=tuple(errors) + tuple(outcome.errors),
            source=outcome.text,
            fixed_source=outcome.text if outcome.text != text else None,
            fixes_applied=outcome.applied,
        )
    findings, errors = check_text(text, rules)
    # The text is kept only where a reporter will show it: it would be most of the memory (and of
    # what worker processes send back) for files without findings.
    return FileResult(display_path, tuple(findings), tuple(errors), source=text if findings or errors else None)


def read(path: Path):
    """A file to check: a Python file, or a notebook (its code cells as one text, see notebook.py).
    Either has `text` to check and `encode(fixed_text)` for the bytes to write. Files far beyond
    what could be checked are not even read (limits.py: a notebook's outputs may be large)."""
    if notebook.is_notebook(path):
        return notebook.read(str(path), limits.MAX_NOTEBOOK_BYTES)
    return source.read(str(path), limits.MAX_FILE_BYTES)


def check_loaded(file, rules: Sequence[Rule], display_path: str, mode: Mode = Mode()) -> FileResult:
    result = check_source(file.text, rules, display_path, mode)
    return file.finish(result) if isinstance(file, notebook.Notebook) else result


def check_contained(file, rules: Sequence[Rule], display_path: str, mode: Mode = Mode()) -> FileResult:
    """`check_loaded`, with numlint's own failures reported for this file instead of raised."""
    try:
        return check_loaded(file, rules, display_path, mode)
    except RecursionError:
        return FileResult(display_path, errors=(FileError("too deeply nested to check"),), source=file.text)
    except Exception as exc:  # numlint's own bug: report it for this file and go on
        return FileResult(display_path, errors=(FileError(
            f"internal error ({type(exc).__name__}: {exc}); this is a numlint bug, please report it", code="internal",
        ),), source=file.text)


def check_file(
    path: Path,
    rules: Mapping[str, Rule],
    selected: FrozenSet[str],
    settings: Settings,
    mode: Mode = Mode(),
) -> FileResult:
    display = str(path)
    try:
        file = read(path)
    except source.SourceError as exc:
        return FileResult(display, errors=(FileError(str(exc)),))
    active = selected - ignored_for(settings, path, rules)
    chosen = [rules[code] for code in sorted(active)]
    result = check_contained(file, chosen, display, mode)
    if mode.write and result.fixed_source is not None:
        try:
            # Only over the bytes the fix was computed from: an edit made meanwhile is never lost.
            source.write_atomic(str(path), file.encode(result.fixed_source), expected=file.digest)
        except source.FileChanged as exc:  # what we read is gone: its findings would be stale
            return FileResult(display, errors=(FileError(str(exc)),))
        except (OSError, UnicodeEncodeError, source.SourceError) as exc:
            # The file is as it was: report what is in it, and why it was not fixed.
            message = str(exc) if isinstance(exc, source.NotWritten) else f"cannot write the fix: {exc}"
            unfixed = check_contained(file, chosen, display, replace(mode, fix=False, write=False))
            return replace(unfixed, errors=unfixed.errors + (FileError(message),))
    return result


def check_files(
    paths: Sequence[Path],
    rules: Mapping[str, Rule],
    selected: FrozenSet[str],
    settings: Settings,
    mode: Mode = Mode(),
    jobs: int = 1,
    cache: Optional[Cache] = None,
    progress: Optional[Callable[[], None]] = None,
) -> List[FileResult]:
    """Check files, reusing cached results of unchanged ones and spreading the rest over `jobs`
    processes. Results come back in the order of `paths`.

    Called on the main thread, SIGINT, SIGTERM and SIGHUP end the run cleanly: workers are
    stopped, a file being written is finished first, and the process exits with 128 + the signal
    number after one line on stderr."""
    with _ending_cleanly_on_signals():
        return _check_files(paths, rules, selected, settings, mode, jobs, cache, progress)


def _check_files(paths, rules, selected, settings, mode, jobs, cache, progress) -> List[FileResult]:
    results: List[Optional[FileResult]] = [None] * len(paths)
    contents: Dict[int, str] = {}
    todo: List[int] = []
    for index, path in enumerate(paths):
        if cache is not None and not mode.fix:
            try:
                contents[index] = digest(source.read_bytes(str(path)))
            except source.SourceError:
                pass
            else:
                hit = cache.get(str(path), contents[index])
                if hit is not None:
                    results[index] = hit
                    if progress is not None:
                        progress()
                    continue
        todo.append(index)
    for index, result in zip(todo, _run(paths, todo, rules, selected, settings, mode, jobs, progress)):
        results[index] = result
        if cache is not None and index in contents and not _worker_died(result):
            cache.put(str(paths[index]), contents[index], result)
    return results  # type: ignore[return-value]


# Below this many files per process, starting processes costs more than it saves.
_FILES_PER_PROCESS = 4


def _run(paths, todo, rules, selected, settings, mode, jobs, progress) -> Iterator[FileResult]:
    if jobs <= 1 or len(todo) < _FILES_PER_PROCESS * jobs:
        for index in todo:
            yield check_file(paths[index], rules, selected, settings, mode)
            if progress is not None:
                progress()
        return
    rule_dirs = tuple(sorted({str(Path(rule.path).parent) for rule in rules.values()} - {str(builtin_rules_dir())}))
    pool = Workers(jobs, _worker_main, (rule_dirs, selected, settings, mode))
    try:
        for position, result, death in pool.results([paths[index] for index in todo], progress):
            yield result if death is None else _died(paths[todo[position]], death)
    finally:
        pool.stop()


_DIED = "the worker process checking this file died"


def _died(path: Path, how: str) -> FileResult:
    if how.startswith("internal error"):
        message = f"{how}; this is a numlint bug, please report it"
    else:
        message = f"internal error: {_DIED} ({how}); the other files were checked; this is a numlint bug, please report it"
    return FileResult(str(path), errors=(FileError(message, code="internal"),))


def _worker_died(result: FileResult) -> bool:
    return any(error.code == "internal" and _DIED in error.message for error in result.errors)


def _worker_main(tasks, rule_dirs, selected, settings, mode) -> Iterator[FileResult]:
    """What a worker process runs (workers.py): each path it is sent, checked (and fixed)."""
    rules = registry(rule_dirs)
    for path in tasks:
        yield check_file(path, rules, selected, settings, mode)


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP reached the main process: the run ends (a BaseException, so no
    `except Exception` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def _ending_cleanly_on_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # a host (the language server) runs us on a thread: its signals are its own
        return

    def end(signum, frame):
        if source.defer_if_writing(signum):
            return  # a file is being written: the signal comes back once it is whole
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, end) for signum in _ENDING_SIGNALS}
    try:
        yield
    except Interrupted as exc:
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the goodbye
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            sys.stderr.write(f"numlint: interrupted ({signal.Signals(exc.signum).name}): files already "
                             "fixed stay fixed, the others are as they were\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        raise SystemExit(128 + exc.signum) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def original_text(path: Path) -> Optional[str]:
    try:
        return read(path).text
    except source.SourceError:
        return None


def summary_counts(results: Sequence[FileResult]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for result in results:
        for finding in result.findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
