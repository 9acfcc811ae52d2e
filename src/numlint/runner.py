"""Checking (and fixing) files: what the CLI and the integrations call."""

from __future__ import annotations

import signal
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from numlint import limits, notebook, source
from numlint.checker import ModuleContext, summarize_text
from numlint.reparse import Reparser
from numlint.noqa import check_text  # the checker, and the `noqa` rule (NUM001)
from numlint.project import Project, imports_in
from numlint.prefilter import identifiers
from numlint.summaries import ProjectIndex, called_name, exported_words, interesting
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


def check_source(text: str, rules: Sequence[Rule], display_path: str, mode: Mode = Mode(),
                 context: Optional[ModuleContext] = None, reuse: Optional[Reparser] = None) -> FileResult:
    """Check one file's text; with `mode.fix`, also fix it (the result holds the fixed text).
    `context` places the file in its project (checker.ModuleContext); what the file imports is
    noted in it, for the run's second phase (runner._across_modules). `reuse` (reparse.py) keeps
    the tree of the previous version of the same document, for the language server; a fix's
    rounds never use it (their texts are not versions the editor will send)."""
    if context is not None:
        context.asked |= imports_in(text, context.package)
    if mode.fix:
        outcome = fix_text(text, lambda t: check_text(t, rules, context=context), mode.unsafe)
        findings, errors = outcome.checked or check_text(outcome.text, rules, context=context)
        return FileResult(
            path=display_path,
            findings=tuple(findings),
            errors=tuple(errors) + tuple(outcome.errors),
            source=outcome.text,
            fixed_source=outcome.text if outcome.text != text else None,
            fixes_applied=outcome.applied,
            asked=tuple(sorted(context.asked)) if context is not None else (),
            fixed_codes=tuple(sorted(Counter(outcome.codes).items())),
        )
    findings, errors = check_text(text, rules, context=context, reuse=reuse)
    # The text is kept only where a reporter will show it: it would be most of the memory (and of
    # what worker processes send back) for files without findings.
    return FileResult(display_path, tuple(findings), tuple(errors), source=text if findings or errors else None,
                      asked=tuple(sorted(context.asked)) if context is not None else ())


def read(path: Path):
    """A file to check: a Python file, or a notebook (its code cells as one text, see notebook.py).
    Either has `text` to check and `encode(fixed_text)` for the bytes to write. Files far beyond
    what could be checked are not even read (limits.py: a notebook's outputs may be large)."""
    if notebook.is_notebook(path):
        return notebook.read(str(path), limits.MAX_NOTEBOOK_BYTES)
    return source.read(str(path), limits.MAX_FILE_BYTES)


def check_loaded(file, rules: Sequence[Rule], display_path: str, mode: Mode = Mode(),
                 context: Optional[ModuleContext] = None) -> FileResult:
    result = check_source(file.text, rules, display_path, mode, context)
    return file.finish(result) if isinstance(file, notebook.Notebook) else result


def check_contained(file, rules: Sequence[Rule], display_path: str, mode: Mode = Mode(),
                    context: Optional[ModuleContext] = None) -> FileResult:
    """`check_loaded`, with numlint's own failures reported for this file instead of raised."""
    try:
        return check_loaded(file, rules, display_path, mode, context)
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
    context: Optional[ModuleContext] = None,
) -> FileResult:
    display = str(path)
    try:
        file = read(path)
    except source.SourceError as exc:
        return FileResult(display, errors=(FileError(str(exc)),))
    active = selected - ignored_for(settings, path, rules)
    chosen = [rules[code] for code in sorted(active)]
    result = check_contained(file, chosen, display, mode, context)
    if mode.write and result.fixed_source is not None:
        try:
            # Only over the bytes the fix was computed from: an edit made meanwhile is never lost.
            source.write_atomic(str(path), file.encode(result.fixed_source), expected=file.digest)
        except source.FileChanged as exc:  # what we read is gone: its findings would be stale
            return FileResult(display, errors=(FileError(str(exc)),))
        except (OSError, UnicodeEncodeError, source.SourceError) as exc:
            # The file is as it was: report what is in it, and why it was not fixed.
            message = str(exc) if isinstance(exc, source.NotWritten) else f"cannot write the fix: {exc}"
            unfixed = check_contained(file, chosen, display, replace(mode, fix=False, write=False), context)
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
    project = Project(paths)
    results: List[Optional[FileResult]] = [None] * len(paths)
    contents: Dict[int, str] = {}
    extras: Dict[int, dict] = {}
    todo: List[int] = []
    if cache is not None and not mode.fix:
        for index, path in enumerate(paths):
            try:
                contents[index] = digest(source.read_bytes(str(path)))
            except source.SourceError:
                pass
    for index, path in enumerate(paths):
        if index in contents:
            hit = cache.get(str(path), contents[index])
            extra = cache.extra(str(path), contents[index])
            if hit is not None and _dependencies_unchanged(extra, paths, contents):
                results[index] = hit
                extras[index] = dict(extra)
                if progress is not None:
                    progress()
                continue
        todo.append(index)
    contexts = {index: ModuleContext(package=project.packages[index]) for index in todo}
    for index, result in zip(todo, _run(paths, todo, contexts, rules, selected, settings, mode, jobs, progress)):
        results[index] = result
        extras.pop(index, None)
    rechecked = _across_modules(project, paths, results, todo, extras, cache, contents, rules, selected, settings,
                                mode, jobs)
    if cache is not None:
        for index in set(todo) | rechecked:
            if index in contents and not _worker_died(results[index]):
                cache.put(str(paths[index]), contents[index], results[index], extras.get(index))
        for index, extra in extras.items():  # a summary computed for a file whose result was cached
            if index not in todo and index in contents and "summary" in extra:
                cache.put(str(paths[index]), contents[index], results[index], extra)
    return results  # type: ignore[return-value]


def _dependencies_unchanged(extra: Mapping[str, dict], paths, contents: Dict[int, str]) -> bool:
    """A cached result that used other modules' summaries holds while those files are the same."""
    depends = extra.get("depends", {})
    if not depends:
        return True
    now = {str(paths[i]): c for i, c in contents.items()}
    return all(now.get(path) == content for path, content in depends.items())


def _across_modules(project, paths, results, todo, extras, cache, contents, rules, selected, settings, mode,
                    jobs) -> Set[int]:
    """Check again, with the summaries of the project modules they import, the files whose values
    came from there (`from .model import predict`): phase 2 of a run. Returns the files checked
    again. Summaries are computed only for modules some file asked about, and reused from the
    cache while their file is the same."""
    wanted: Dict[int, List[Tuple[str, str, int]]] = {}  # file -> (qualname, module, module's file)
    for index in todo:
        result = results[index]
        for qualname in result.asked:
            owner = project.owner(qualname, index)
            if owner is not None and owner[1] != index:
                wanted.setdefault(index, []).append((qualname, owner[0], owner[1]))
    if not wanted:
        return set()
    # the functions whose calls a check looked through: their summaries carry shapes
    shaped: Dict[int, Set[str]] = {}
    for items in wanted.values():
        for qualname, module, owner in items:
            local = called_name(qualname[len(module) + 1:])
            if local is not None and "." not in local:
                shaped.setdefault(owner, set()).add(local)
    # Summaries by file: two roots may each have a `model.py` (project.py); an import means the
    # one its own root has.
    summaries: Dict[int, dict] = {}
    depends: Dict[int, Set[int]] = {}  # module's file -> the files its summary read, itself included
    pending = sorted({owner for items in wanted.values() for _, _, owner in items})
    rounds = 0
    while pending and rounds < 3:  # a module's summary may use another's: a few rounds, not a fixpoint
        rounds += 1
        following = []
        for file in pending:
            summary, asked, used = _summary(project, paths, file, _index_near(project, summaries, file), cache,
                                            contents, extras, shaped.get(file, set()))
            summaries[file] = summary
            depends[file] = {file} | used
            for qualname in asked:
                owner = project.owner(qualname, file)
                if owner is not None and owner[1] not in summaries and owner[1] not in pending:
                    following.append(owner[1])
        pending = sorted(set(following))
    rechecked: Set[int] = set()
    again: List[int] = []
    contexts: Dict[int, ModuleContext] = {}
    for file, items in wanted.items():
        useful = [qualname for qualname, module, owner in items
                  if interesting(summaries.get(owner, {}), qualname[len(module) + 1:])]
        used_files = set().union(*(depends.get(owner, {owner}) for _, _, owner in items))
        extras.setdefault(file, {})["depends"] = {
            str(paths[i]): contents[i] for i in sorted(used_files) if i in contents}
        if useful:
            again.append(file)
            index = _index_near(project, summaries, file)
            contexts[file] = ModuleContext(package=project.packages[file], project=index, words=index.words(useful))
    recheck_mode = Mode(unsafe=mode.unsafe)  # fixes never cross files: what comes from there is advice
    for file, result in zip(again, _run(paths, again, contexts, rules, selected, settings, recheck_mode, jobs, None,
                                        texts={i: results[i].fixed_source for i in again if mode.fix and not mode.write})):
        before = results[file]
        if _worker_died(result):
            continue
        results[file] = replace(before, findings=result.findings, errors=before.errors if mode.fix else result.errors,
                                source=before.source if before.source is not None else result.source)
        rechecked.add(file)
    return rechecked | set(wanted)


def _index_near(project, summaries: Dict[int, dict], file: int) -> ProjectIndex:
    """The summaries by module name as `file` imports them: its own root's modules, and the
    modules of one file elsewhere in the run."""
    by_name = {project.names[i]: summary for i, summary in summaries.items()
               if project.names[i] in project.modules and project.modules[project.names[i]] == i}
    root = project.roots[file]
    by_name.update({project.names[i]: summary for i, summary in summaries.items() if project.roots[i] == root})
    return ProjectIndex(by_name)


_EXPORTED_WORDS: List[frozenset] = []


def _exported_words() -> frozenset:
    if not _EXPORTED_WORDS:
        _EXPORTED_WORDS.append(exported_words())
    return _EXPORTED_WORDS[0]


def _summary(project, paths, file: int, index, cache, contents, extras,
             shaped: Set[str] = frozenset()) -> Tuple[dict, Set[str], Set[int]]:
    """The summary of one project file (from the cache while the file and what it read are the same),
    the names it asked other modules for, and their files. The functions in `shaped` carry the
    shapes of what they return (a cached summary is made again when it lacks one)."""
    path = paths[file]
    cached = extras.get(file) or (cache.extra(str(path), contents[file]) if cache is not None and file in contents else {})
    stored = cached.get("summary")
    tried = {n for n in stored.get("shaped", []) if isinstance(n, str)} if isinstance(stored, dict) and \
        isinstance(stored.get("shaped", []), list) else set()
    if isinstance(stored, dict) and isinstance(stored.get("summary"), dict) and shaped <= tried and \
            _dependencies_unchanged({"depends": stored.get("depends", {})}, paths, contents):
        asked = {q for q in stored.get("asked", []) if isinstance(q, str)}
        return stored["summary"], asked, {i for q in asked if (o := project.owner(q, file)) for i in (o[1],)}
    shaped = set(shaped) | tried
    try:
        text = read(path).text
    except source.SourceError:
        return {}, set(), set()
    if notebook.is_notebook(path):
        return {}, set(), set()
    imported = {q for q in imports_in(text, project.packages[file]) if project.owner(q, file) is not None}
    if not imported and not shaped and identifiers(text).isdisjoint(_exported_words()):
        return {"version": 1, "names": {}}, set(), set()  # nothing to tell: not parsed
    local_names = frozenset(q.rpartition(".")[2] for q in imported)
    summary, asked = summarize_text(text, project.packages[file], str(path), index, local_names, frozenset(shaped))
    asked = {q for q in asked if called_name(q) is None}
    used = {o[1] for q in asked if (o := project.owner(q, file)) is not None and o[1] != file}
    record = {"summary": summary, "asked": sorted(asked), "shaped": sorted(shaped),
              "depends": {str(paths[i]): contents[i] for i in sorted(used) if i in contents}}
    extras.setdefault(file, {})["summary"] = record
    return summary, asked, used


# Below this many files per process, starting processes costs more than it saves.
_FILES_PER_PROCESS = 4


def _run(paths, todo, contexts, rules, selected, settings, mode, jobs, progress, texts=None) -> Iterator[FileResult]:
    """Check the files `todo` names (each with its context; `texts`: a text to check instead of
    the file's, for a `--diff` run's fixed text), serially or in worker processes."""
    texts = {i: t for i, t in (texts or {}).items() if t is not None}
    if jobs <= 1 or len(todo) < _FILES_PER_PROCESS * jobs:
        for index in todo:
            yield _check_task((paths[index], contexts.get(index), texts.get(index)), rules, selected, settings, mode)
            if progress is not None:
                progress()
        return
    rule_dirs = tuple(sorted({str(Path(rule.path).parent) for rule in rules.values()} - {str(builtin_rules_dir())}))
    pool = Workers(jobs, _worker_main, (rule_dirs, selected, settings, mode))
    try:
        tasks = [(paths[index], contexts.get(index), texts.get(index)) for index in todo]
        for position, result, death in pool.results(tasks, progress):
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
    for task in tasks:
        yield _check_task(task, rules, selected, settings, mode)


def _check_task(task, rules, selected, settings, mode) -> FileResult:
    path, context, text = task
    if text is None:
        return check_file(path, rules, selected, settings, mode, context)
    active = selected - ignored_for(settings, path, rules)
    chosen = [rules[code] for code in sorted(active)]
    return check_contained(_Loaded(text), chosen, str(path), mode, context)


class _Loaded:
    """A text to check that is not read from its file (a `--diff` run's fixed text)."""

    def __init__(self, text: str) -> None:
        self.text = text


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
