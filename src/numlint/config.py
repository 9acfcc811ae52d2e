"""Configuration: `[tool.numlint]` in pyproject.toml, found upward from the checked path, merged
with command-line options, and the rule selection it implies."""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from numlint import smallfile
from numlint.cache import CacheLocationError, contained_dir
from numlint.rules import Rule, did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    """A problem with the user's configuration or options: one line, exit code 2."""


KNOWN_KEYS = frozenset({
    "select", "extend-select", "ignore", "extend-ignore", "per-file-ignores", "exclude",
    "extend-exclude", "rule-paths", "unsafe-fixes", "respect-gitignore", "cache-dir", "force-exclude",
})
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pants.d", ".pytype",
    ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__", "_build", "buck-out", "build",
    "dist", "node_modules", "site-packages", "venv", "__pycache__", ".numlint_cache", ".ipynb_checkpoints",
)


@dataclass(frozen=True)
class Settings:
    root: Path  # the folder that relative patterns are anchored at
    source: Optional[Path] = None  # the pyproject.toml read, if any
    select: Optional[Tuple[str, ...]] = None  # None: the default rule set
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    per_file_ignores: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    rule_paths: Tuple[str, ...] = ()
    unsafe_fixes: bool = False
    respect_gitignore: bool = True
    cache_dir: Optional[Path] = None
    force_exclude: bool = False  # excludes apply to files named on the command line too (pre-commit)
    # Every rule selector of the configuration, with where it was written ("pyproject.toml:
    # [tool.numlint] ignore"), so an unknown code is reported at its real source.
    selectors: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.numlint] table, from `start` upward."""
    start = real_path(start)
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        path = candidate / "pyproject.toml"
        if path.is_file():
            tool = _read_toml(path).get("tool", {})
            if isinstance(tool, dict) and "numlint" in tool:
                return path
    return None


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(smallfile.read_text(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None


def _strings(value, key: str, where: Path) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: [tool.numlint] {key} must be a list of strings")
    return tuple(value)


def _string(value, key: str, where: Path) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: [tool.numlint] {key} must be a string")
    return value


def _cache_dir(table, base: Path, where: Path) -> Optional[Path]:
    """`cache-dir`, which must stay inside the project or the user's cache folder: a repository's
    configuration must not make numlint write (and prune old results) elsewhere."""
    if "cache-dir" not in table:
        return None
    directory = base / _string(table["cache-dir"], "cache-dir", where)
    try:
        return contained_dir(directory, base)
    except CacheLocationError as exc:
        raise ConfigError(f"{where}: [tool.numlint] cache-dir: {exc}") from None


def load_settings(path: Optional[Path], root: Path) -> Settings:
    if path is None:
        return Settings(root=root.resolve())
    tool = _read_toml(path).get("tool", {})
    table = tool.get("numlint", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.numlint] must be a table")
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], KNOWN_KEYS) or f" (known: {', '.join(sorted(KNOWN_KEYS))})"
        raise ConfigError(f"{path}: unknown [tool.numlint] key {unknown[0]!r}{hint}")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{path}: [tool.numlint] per-file-ignores must be a table of pattern = [codes]")
    base = path.parent.resolve()
    for key in ("unsafe-fixes", "respect-gitignore", "force-exclude"):
        if key in table and not isinstance(table[key], bool):
            raise ConfigError(f"{path}: [tool.numlint] {key} must be true or false")
    here = f"{path}: [tool.numlint]"
    selectors = tuple(
        (f"{here} {key}", _strings(table[key], key, path))
        for key in ("select", "extend-select", "ignore", "extend-ignore") if key in table
    ) + tuple((f"{here} per-file-ignores {k!r}", _strings(v, f"per-file-ignores.{k}", path)) for k, v in per_file.items())
    return Settings(
        root=base,
        source=path,
        selectors=selectors,
        select=_strings(table["select"], "select", path) if "select" in table else None,
        extend_select=_strings(table.get("extend-select", []), "extend-select", path),
        ignore=_strings(table.get("ignore", []), "ignore", path) + _strings(table.get("extend-ignore", []), "extend-ignore", path),
        per_file_ignores={k: _strings(v, f"per-file-ignores.{k}", path) for k, v in per_file.items()},
        exclude=_strings(table["exclude"], "exclude", path) + DEFAULT_EXCLUDE if "exclude" in table else DEFAULT_EXCLUDE,
        extend_exclude=_strings(table.get("extend-exclude", []), "extend-exclude", path),
        rule_paths=tuple(str((base / p).resolve()) for p in _strings(table.get("rule-paths", []), "rule-paths", path)),
        unsafe_fixes=bool(table.get("unsafe-fixes", False)),
        respect_gitignore=bool(table.get("respect-gitignore", True)),
        cache_dir=_cache_dir(table, base, path),
        force_exclude=bool(table.get("force-exclude", False)),
    )


# -- selection -----------------------------------------------------------------------------------


def split_codes(values: Iterable[str]) -> Tuple[str, ...]:
    """`--select NUM101,NUM3 --select log-softmax` -> ("NUM101", "NUM3", "log-softmax")."""
    out: List[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(out)


def _expand(selector: str, rules: Mapping[str, Rule], where: str) -> FrozenSet[str]:
    if selector.upper() == "ALL":
        return frozenset(rules)
    matched = {
        code for code, rule in rules.items()
        if code == selector.upper() or rule.name == selector.lower() or code.startswith(selector.upper())
    }
    if not matched:
        hint = did_you_mean(selector.lower(), [rule.name for rule in rules.values()]) or " (see `numlint rules`)"
        raise ConfigError(f"{where}: unknown rule selector {selector!r}{hint}")
    return frozenset(matched)


def check_selectors(settings: Settings, rules: Mapping[str, Rule]) -> None:
    """Every selector of the configuration names a rule; an error names the file and the key."""
    for where, selectors in settings.selectors:
        for selector in selectors:
            _expand(selector, rules, where)


def select_rules(
    rules: Mapping[str, Rule],
    select: Optional[Sequence[str]],
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    where: Tuple[str, str, str] = ("--select", "--extend-select", "--ignore"),
) -> FrozenSet[str]:
    """The codes that run: the default set (or `select`), plus `extend_select`, minus `ignore`.
    `where` names the source of each list in errors (configuration selectors are checked first,
    by `check_selectors`, so what is left to fail comes from the command line)."""
    if select is None:
        chosen = {code for code, rule in rules.items() if rule.default}
    else:
        chosen = set()
        for selector in select:
            chosen |= _expand(selector, rules, where[0])
    for selector in extend_select:
        chosen |= _expand(selector, rules, where[1])
    for selector in ignore:
        chosen -= _expand(selector, rules, where[2])
    return frozenset(chosen)


def real_path(path: Path) -> Path:
    """`path.resolve()`, except that a symlink loop gives the path itself instead of an error
    (Python < 3.13 raises RuntimeError): reading the file then reports the loop."""
    return Path(os.path.realpath(path))


def relative(path: Path, root: Path) -> str:
    try:
        return real_path(path).relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def matches(patterns: Iterable[str], path: Path, root: Path) -> bool:
    """Does a path match a pattern, by its path relative to `root`, any parent, or its name?"""
    rel = relative(path, root)
    parts = rel.split("/")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
            return True
        for end in range(1, len(parts)):
            if fnmatch.fnmatch("/".join(parts[:end]), pattern) or fnmatch.fnmatch(parts[end - 1], pattern):
                return True
    return False


def ignored_for(settings: Settings, path: Path, rules: Mapping[str, Rule]) -> FrozenSet[str]:
    codes: set = set()
    for pattern, selectors in settings.per_file_ignores.items():
        if matches([pattern], path, settings.root):
            for selector in selectors:
                codes |= _expand(selector, rules, f"per-file-ignores {pattern!r}")
    return frozenset(codes)

