"""Finding the files to check: Python files and Jupyter notebooks under the given paths, minus
excludes and, in a git work tree, minus what git ignores. A path named on the command line — a
file or a folder — is always checked (in a folder, what lies inside it is still matched against
`exclude`), unless `force-exclude` is set (pre-commit names every staged file) and it or a folder
above it matches `exclude`, as in ruff.

The walk is the cost of a warm run (a cached tree is otherwise checked in a blink), so it does
the least per entry: excludes are one compiled expression matched against the entry's relative
path and name (an excluded folder is never entered, so its files need no test), paths are built
by joining names rather than resolved through the file system, and `os.scandir`'s file types
spare a `stat` for every regular file."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Set, Tuple

from numlint.config import ConfigError, PathPatterns, Settings, compiled, real_path, relative

EXTENSIONS = (".py", ".pyi", ".ipynb")


def discover(paths: Iterable[str], settings: Settings) -> List[Path]:
    found: List[Path] = []
    seen: Set[str] = set()
    patterns = compiled(settings.excludes)
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise ConfigError(f"{raw}: no such file or directory")
        if settings.force_exclude and excluded(path, settings):
            continue
        if path.is_dir():
            visible = _git_visible(path) if settings.respect_gitignore else None
            for file, key in _walk(path, patterns, settings, visible):
                if key not in seen:
                    seen.add(key)
                    found.append(file)
        else:
            key = str(real_path(path) if path.exists() else path.absolute())
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found


def write_roots(paths: Iterable[str], settings: Settings) -> List[Path]:
    """The folders `--fix` may write in: the project's, each folder checked, and the folder of each
    file named. A file found in them may still resolve elsewhere (a committed symlink
    `innocent.py -> ../outside/important.py`): see `outside`."""
    roots = [real_path(settings.root)]
    for raw in paths:
        path = Path(raw)
        roots.append(real_path(path) if path.is_dir() else real_path(path.absolute().parent))
    return roots


def outside(path: Path, roots: Iterable[Path]) -> Optional[Path]:
    """Where `path` really is, when that lies outside every one of `roots`; None when inside."""
    target = real_path(path)
    if any(target == root or root in target.parents for root in roots):
        return None
    return target


def excluded(path: Path, settings: Settings) -> bool:
    """Does `exclude` match a named path? Judged below the configuration's folder, or else below the
    working directory (where pre-commit runs), so folders above the project never match."""
    patterns = compiled(settings.excludes)
    for base in (settings.root, Path.cwd()):
        try:
            path.resolve().relative_to(base.resolve())
        except (ValueError, OSError, RuntimeError):  # outside it, or a symlink loop
            continue
        return patterns.matches(path, base.resolve())
    return patterns.entry(path.name, path.name)


def _walk(top: Path, patterns: PathPatterns, settings: Settings,
          visible: Optional[Set[str]]) -> Iterator[Tuple[Path, str]]:
    """The files to check under `top`, each with the key that tells two names of one file apart
    (its real path), in the order of a sorted `os.walk`: a folder's files, then its folders.

    `visible`: the paths relative to `top` that git lists, or None outside a git work tree."""
    top_rel = relative(top, settings.root)
    real_top = str(real_path(top))
    # (folder, its path relative to the root, relative to `top`)
    stack: List[Tuple[str, str, str]] = [(str(top), "" if top_rel == "." else top_rel + "/", "")]
    while stack:
        folder, rel_root, rel_top = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:  # unreadable or vanished: skipped, as os.walk does
            continue
        folders = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                # A symlink to a folder is not followed (a loop, or a tree outside the project).
                if not entry.is_symlink() and not patterns.entry(rel_root + name, name):
                    folders.append((entry.path, rel_root + name + "/", rel_top + name + "/"))
                continue
            if not name.endswith(EXTENSIONS) or patterns.entry(rel_root + name, name):
                continue
            if visible is not None and rel_top + name not in visible:
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                if _special(path):
                    continue
                yield path, str(real_path(path))
            elif entry.is_file(follow_symlinks=False):  # a regular file: the file type said so, no stat
                yield path, f"{real_top}/{rel_top}{name}"
            # else a FIFO, socket or device named *.py: reading it could block, so it is skipped
        stack.extend(reversed(folders))


def _special(path: Path) -> bool:
    """A FIFO, socket or device named *.py: reading it could block forever, so it is skipped.
    A broken symlink or a symlink loop is kept, to be reported as unreadable."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


# `git ls-files` in a stranger's repository runs with that repository's `.git/config`, which can
# name commands: `core.fsmonitor` runs a program on every index read. Settings given with `-c`
# outrank every configuration file (and `include.path`), so these switch off each setting
# ls-files consults that could run something or write to the repository. `ls-files` is a
# built-in, so `[alias]` entries (`!cmd`) are never consulted; it runs no hooks, filters or pager.
_GIT_SAFE = (
    "-c", "core.fsmonitor=false",  # a hook program (or daemon) run on index reads
    "-c", "core.untrackedCache=false",  # would write the index (and `feature.manyFiles` turns it on)
    "-c", "core.pager=cat",
)
# The user's environment may carry git settings too (`GIT_CONFIG_COUNT`/`_KEY_n`/`_VALUE_n`,
# `GIT_CONFIG_PARAMETERS`, an external diff or ssh program): none is needed to list files.
_GIT_ENV_DROPPED = ("GIT_CONFIG", "GIT_EXTERNAL_DIFF", "GIT_SSH", "GIT_ASKPASS", "GIT_EDITOR", "GIT_PAGER",
                    "GIT_EXEC_PATH", "GIT_TRACE")


def _git_environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_GIT_ENV_DROPPED)}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",  # the system configuration is not needed to list files
        GIT_OPTIONAL_LOCKS="0",  # never refresh (write) the index of the tree being checked
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        PAGER="cat",
    )
    return env


def _find_git() -> Optional[str]:
    """The `git` program on PATH, by absolute directories only: a relative PATH entry (`.`, or an
    empty one) — or Windows' habit of trying the current folder first — would run a `git` planted
    in the repository being checked."""
    names = ["git"]
    if os.name == "nt":
        names = ["git" + ext.lower() for ext in os.environ.get("PATHEXT", ".EXE").split(os.pathsep) if ext]
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not folder or not os.path.isabs(folder):
            continue
        for name in names:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def _git_visible(folder: Path) -> Optional[Set[str]]:
    """Files git tracks or would track under `folder`, as paths relative to it (`/`-separated);
    None when it is not in a git work tree."""
    git = _find_git()
    if git is None:
        return None
    try:
        result = subprocess.run(
            [git, *_GIT_SAFE, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "."],
            cwd=folder, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, env=_git_environment(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return {name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name}
