"""Checking (and fixing) files: what the CLI and the integrations call."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Tuple

from numlint import notebook, source
from numlint.noqa import check_text  # the checker, and the `noqa` rule (NUM001)
from numlint.config import Settings, ignored_for
from numlint.diagnostics import FileError, FileResult
from numlint.fixes import fix_text
from numlint.cache import Cache, digest
from numlint.rules import Rule, builtin_rules_dir, registry


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
            fixed_codes=tuple(sorted(Counter(outcome.codes).items())),
        )
    findings, errors = check_text(text, rules)
    # The text is kept only where a reporter will show it: it would be most of the memory (and of
    # what worker processes send back) for files without findings.
    return FileResult(display_path, tuple(findings), tuple(errors), source=text if findings or errors else None)


def read(path: Path):
    """A file to check: a Python file, or a notebook (its code cells as one text, see notebook.py).
    Either has `text` to check and `encode(fixed_text)` for the bytes to write."""
    return notebook.read(str(path)) if notebook.is_notebook(path) else source.read(str(path))


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
            source.write_atomic(str(path), file.encode(result.fixed_source))
        except (OSError, UnicodeEncodeError, source.SourceError) as exc:
            return replace(result, errors=result.errors + (FileError(f"cannot write the fix: {exc}"),),
                           fixed_source=None, fixes_applied=0, fixed_codes=())
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
    processes. Results come back in the order of `paths`."""
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
        if cache is not None and index in contents:
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
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(rule_dirs,)) as pool:
        tasks = [(paths[index], selected, settings, mode) for index in todo]
        for result in pool.map(_check_in_worker, tasks, chunksize=max(1, min(16, len(tasks) // (jobs * 8)))):
            yield result
            if progress is not None:
                progress()


_WORKER_RULES: Mapping[str, Rule] = {}


def _init_worker(rule_dirs: Tuple[str, ...]) -> None:
    global _WORKER_RULES
    _WORKER_RULES = registry(rule_dirs)


def _check_in_worker(task) -> FileResult:
    path, selected, settings, mode = task
    return check_file(path, _WORKER_RULES, selected, settings, mode)


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
