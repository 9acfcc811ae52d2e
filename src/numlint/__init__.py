"""numlint: find and fix numerical hazards in Python array code.

The Python API, for tools that want findings rather than text:

    >>> import numlint
    >>> findings = numlint.check_source("import numpy as np\\ny = np.log(np.sum(np.exp(x)))\\n")
    >>> [(f.code, f.location.row, f.location.column) for f in findings]
    [('NUM101', 2, 5)]

    >>> for result in numlint.check_paths(["src/"]):       # [tool.numlint] applies, as on the command line
    ...     for finding in result.findings:
    ...         print(result.path, finding.code, finding.message)

Findings, fixes and results are the frozen values of `numlint.diagnostics`. Importing `numlint`
is cheap: the engine loads on the first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Union

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it from here)

if TYPE_CHECKING:  # pragma: no cover
    from os import PathLike

    from numlint.diagnostics import FileResult, Finding

__all__ = ["__version__", "CheckError", "check_paths", "check_source"]


class CheckError(ValueError):
    """The options or configuration are wrong (an unknown rule, a bad `pyproject.toml`), or a
    text given to `check_source` cannot be checked (a syntax error). One line, like the CLI's."""


def _selection(select, extend_select, ignore, settings):
    from numlint.config import ConfigError, check_selectors, select_rules
    from numlint.rules import RuleError, registry

    try:
        rules = registry(settings.rule_paths)
        check_selectors(settings, rules)
        chosen = select_rules(
            rules,
            list(select) if select is not None else settings.select,
            list(extend_select or ()) + list(settings.extend_select),
            list(ignore or ()) + list(settings.ignore),
            where=("select", "extend_select", "ignore"),
        )
    except (ConfigError, RuleError) as exc:
        raise CheckError(str(exc)) from None
    if not chosen:
        raise CheckError("no rule is selected: the selection and ignores leave nothing to check")
    return rules, chosen


def _settings(anchor, config):
    from pathlib import Path

    from numlint.config import ConfigError, find_pyproject, load_settings

    anchor = Path(anchor)
    try:
        path = Path(config) if config is not None else find_pyproject(anchor)
        if path is not None and not path.is_file():
            raise ConfigError(f"{path}: no such file")
        return load_settings(path, anchor if anchor.is_dir() else anchor.parent)
    except ConfigError as exc:
        raise CheckError(str(exc)) from None


def check_source(
    source: str,
    *,
    filename: str = "<source>",
    select: Optional[Sequence[str]] = None,
    extend_select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    config: Union[str, "PathLike[str]", None] = None,
) -> List["Finding"]:
    """The findings in one file's text, in order. Rules are chosen as on the command line
    (`select`, `extend_select`, `ignore` take codes, prefixes or names); `[tool.numlint]` is read
    only from `config`, when given (its selection and the `per-file-ignores` for `filename`).
    `# noqa` comments apply. Raises `CheckError` when the text cannot be checked."""
    from pathlib import Path

    from numlint.config import Settings, ignored_for
    from numlint.runner import Mode, check_source as check_text

    settings = _settings(Path(config).parent, config) if config is not None else Settings(root=Path.cwd())
    rules, chosen = _selection(select, extend_select, ignore, settings)
    if filename != "<source>":
        chosen = chosen - ignored_for(settings, Path(filename), rules)
    result = check_text(source, [rules[c] for c in sorted(chosen)], filename, Mode())
    if result.errors:
        error = result.errors[0]
        raise CheckError(f"{filename}:{error.location.row}:{error.location.column}: {error.message}")
    return list(result.findings)


def check_paths(
    paths: Iterable[Union[str, "PathLike[str]"]],
    *,
    select: Optional[Sequence[str]] = None,
    extend_select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    config: Union[str, "PathLike[str]", None] = None,
    jobs: int = 1,
) -> List["FileResult"]:
    """Check files and folders as `numlint check PATHS` does — the nearest `pyproject.toml` with a
    `[tool.numlint]` above the first path (or `config`), its excludes, per-file ignores and
    `.gitignore` — and return one `FileResult` per file checked: its `path`, `findings` and
    `errors` (a file that could not be read or parsed). Nothing is written and no cache is used."""
    from pathlib import Path

    from numlint.config import ConfigError
    from numlint.discovery import discover
    from numlint.runner import Mode, check_files

    names = [str(p) for p in paths] or ["."]
    settings = _settings(Path(names[0]), config)
    rules, chosen = _selection(select, extend_select, ignore, settings)
    try:
        files = discover(names, settings)
    except ConfigError as exc:
        raise CheckError(str(exc)) from None
    return check_files(files, rules, chosen, settings, Mode(), max(1, jobs))
