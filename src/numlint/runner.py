"""Checking (and fixing) files: what the CLI and the integrations call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Mapping, Optional, Sequence

from numlint import source
from numlint.checker import check_text
from numlint.config import Settings, ignored_for
from numlint.diagnostics import FileError, FileResult
from numlint.fixes import fix_text
from numlint.rules import Rule


@dataclass(frozen=True)
class Mode:
    fix: bool = False  # compute fixes and apply them to the text
    write: bool = False  # write fixed text back to the file
    unsafe: bool = False


def check_source(text: str, rules: Sequence[Rule], display_path: str, mode: Mode = Mode()) -> FileResult:
    """Check one file's text; with `mode.fix`, also fix it (the result holds the fixed text)."""
    if mode.fix:
        outcome = fix_text(text, lambda t: check_text(t, rules), mode.unsafe)
        findings, errors = check_text(outcome.text, rules)
        return FileResult(
            path=display_path,
            findings=tuple(findings),
            errors=tuple(errors) + tuple(outcome.errors),
            source=outcome.text,
            fixed_source=outcome.text if outcome.text != text else None,
            fixes_applied=outcome.applied,
        )
    findings, errors = check_text(text, rules)
    return FileResult(display_path, tuple(findings), tuple(errors), source=text)


def check_file(
    path: Path,
    rules: Mapping[str, Rule],
    selected: FrozenSet[str],
    settings: Settings,
    mode: Mode = Mode(),
) -> FileResult:
    display = str(path)
    try:
        file = source.read(str(path))
    except source.SourceError as exc:
        return FileResult(display, errors=(FileError(str(exc)),))
    active = selected - ignored_for(settings, path, rules)
    chosen = [rules[code] for code in sorted(active)]
    try:
        result = check_source(file.text, chosen, display, mode)
    except RecursionError:
        return FileResult(display, errors=(FileError("too deeply nested to check"),), source=file.text)
    except Exception as exc:  # numlint's own bug: report it for this file and go on
        return FileResult(display, errors=(FileError(
            f"internal error ({type(exc).__name__}: {exc}); this is a numlint bug, please report it", code="internal",
        ),), source=file.text)
    if mode.write and result.fixed_source is not None:
        try:
            source.write_atomic(str(path), file.encode(result.fixed_source))
        except (OSError, UnicodeEncodeError) as exc:
            return FileResult(display, result.findings, result.errors + (FileError(f"cannot write the fix: {exc}"),),
                              result.source, None, 0)
    return result


def check_files(
    paths: Sequence[Path],
    rules: Mapping[str, Rule],
    selected: FrozenSet[str],
    settings: Settings,
    mode: Mode = Mode(),
    progress=None,
) -> List[FileResult]:
    results = []
    for path in paths:
        results.append(check_file(path, rules, selected, settings, mode))
        if progress is not None:
            progress()
    return results


def original_text(path: Path) -> Optional[str]:
    try:
        return source.read(str(path)).text
    except source.SourceError:
        return None


def summary_counts(results: Sequence[FileResult]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for result in results:
        for finding in result.findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
