"""Configuration: `[tool.numlint]` in pyproject.toml, found upward from the checked path, merged
with command-line options, and the rule selection it implies."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

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

    @property
    def excludes(self) -> Tuple[str, ...]:
        """What is excluded: `exclude` (the defaults unless the configuration replaced them) and
        `extend-exclude`."""
        return self.exclude + self.extend_exclude


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


def _strings(value, key: str, where) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: [tool.numlint] {key} must be a list of strings")
    return tuple(value)


def _string(value, key: str, where) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: [tool.numlint] {key} must be a string")
    return value


def _cache_dir(table, base: Path, where) -> Optional[Path]:
    """`cache-dir`, which must stay inside the project or the user's cache folder: a repository's
    configuration must not make numlint write (and prune old results) elsewhere."""
    if "cache-dir" not in table:
        return None
    directory = base / _string(table["cache-dir"], "cache-dir", where)
    try:
        return contained_dir(directory, base)
    except CacheLocationError as exc:
        raise ConfigError(f"{where}: [tool.numlint] cache-dir: {exc}") from None


def parse_inline(value: str) -> Dict[str, object]:
    """`--config "select = ['NUM1']"`: one TOML `key = value` setting of `[tool.numlint]`."""
    try:
        table = tomllib.loads(value)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {value!r}: neither a file nor a `key = value` TOML setting ({exc})") from None
    except RecursionError:
        raise ConfigError(f"--config {value!r}: nested too deeply") from None
    if not table:
        raise ConfigError(f"--config {value!r}: neither a file nor a `key = value` TOML setting")
    return table


def load_settings(path: Optional[Path], root: Path, overrides: Mapping[str, object] = {}) -> Settings:
    """The settings of `[tool.numlint]` in `path` (none: the defaults, anchored at `root`), with
    `overrides` (inline `--config` settings) taking precedence, key by key."""
    if overrides:
        # Checked on their own first, so an error in one names `--config`, not the file.
        _settings_from(dict(overrides), "--config", root.resolve() if path is None else path.parent.resolve(), None)
    if path is None:
        if not overrides:
            return Settings(root=root.resolve())
        return _settings_from(dict(overrides), "--config", root.resolve(), None)
    tool = _read_toml(path).get("tool", {})
    table = tool.get("numlint", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.numlint] must be a table")
    merged = {**table, **overrides}
    labels = {key: "--config" for key in overrides}
    return _settings_from(merged, str(path), path.parent.resolve(), path, labels)


def _settings_from(table: dict, where: str, base: Path, source: Optional[Path],
                   labels: Mapping[str, str] = {}) -> Settings:
    """`table` (the keys of `[tool.numlint]`) checked and read; errors name `where` (or, for a
    key given inline, `--config`)."""
    def at(key: str) -> str:
        return labels.get(key.split(".")[0], where)

    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], KNOWN_KEYS) or f" (known: {', '.join(sorted(KNOWN_KEYS))})"
        raise ConfigError(f"{at(unknown[0])}: unknown [tool.numlint] key {unknown[0]!r}{hint}")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{at('per-file-ignores')}: [tool.numlint] per-file-ignores must be a table of pattern = [codes]")
    for key in ("unsafe-fixes", "respect-gitignore", "force-exclude"):
        if key in table and not isinstance(table[key], bool):
            raise ConfigError(f"{at(key)}: [tool.numlint] {key} must be true or false")

    def strings(key: str, default=()) -> Tuple[str, ...]:
        return _strings(table[key], key, at(key)) if key in table else tuple(default)

    selectors = tuple(
        (f"{at(key)}: [tool.numlint] {key}", strings(key))
        for key in ("select", "extend-select", "ignore", "extend-ignore") if key in table
    ) + tuple((f"{at('per-file-ignores')}: [tool.numlint] per-file-ignores {k!r}",
               _strings(v, f"per-file-ignores.{k}", at("per-file-ignores"))) for k, v in per_file.items())
    return Settings(
        root=base,
        source=source,
        selectors=selectors,
        select=strings("select") if "select" in table else None,
        extend_select=strings("extend-select"),
        ignore=strings("ignore") + strings("extend-ignore"),
        per_file_ignores={k: _strings(v, f"per-file-ignores.{k}", at("per-file-ignores")) for k, v in per_file.items()},
        # As in ruff: `exclude` replaces the built-in list, `extend-exclude` adds to it.
        exclude=strings("exclude", DEFAULT_EXCLUDE),
        extend_exclude=strings("extend-exclude"),
        rule_paths=tuple(str((base / p).resolve()) for p in strings("rule-paths")),
        unsafe_fixes=bool(table.get("unsafe-fixes", False)),
        respect_gitignore=bool(table.get("respect-gitignore", True)),
        cache_dir=_cache_dir(table, base, at("cache-dir")),
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


class PathPatterns:
    """Exclude or per-file-ignore patterns (fnmatch globs), compiled once into one expression.

    A pattern matches a path by its path relative to the configuration's folder or by its name
    (`build` matches every folder called build; `tests/fixtures`, `*_pb2.py` as written)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        cleaned = [p.rstrip("/") for p in patterns]
        self.patterns = tuple(p for p in cleaned if p)
        expression = "|".join(fnmatch.translate(os.path.normcase(p)) for p in self.patterns)
        self._match = re.compile(expression).match if expression else None

    def __bool__(self) -> bool:
        return self._match is not None

    def entry(self, rel: str, name: str) -> bool:
        """Does one path match, by `rel` (relative to the root, `/`-separated) or its `name`? Its
        folders are not looked at: a walk prunes excluded folders before it enters them."""
        match = self._match
        return match is not None and (match(os.path.normcase(rel)) is not None or match(os.path.normcase(name)) is not None)

    def matches(self, path: Path, root: Path) -> bool:
        """Does a path match, by its path relative to `root`, any folder above it, or its name?"""
        if self._match is None:
            return False
        rel = relative(path, root)
        if self.entry(rel, path.name):
            return True
        parts = rel.split("/")
        return any(self.entry("/".join(parts[:end]), parts[end - 1]) for end in range(1, len(parts)))


@functools.lru_cache(maxsize=256)
def compiled(patterns: Tuple[str, ...]) -> PathPatterns:
    return PathPatterns(patterns)


def matches(patterns: Iterable[str], path: Path, root: Path) -> bool:
    """Does a path match a pattern, by its path relative to `root`, any parent, or its name?"""
    return compiled(tuple(patterns)).matches(path, root)


def ignored_for(settings: Settings, path: Path, rules: Mapping[str, Rule]) -> FrozenSet[str]:
    codes: set = set()
    for pattern, selectors in settings.per_file_ignores.items():
        if matches([pattern], path, settings.root):
            for selector in selectors:
                codes |= _expand(selector, rules, f"per-file-ignores {pattern!r}")
    return frozenset(codes)

