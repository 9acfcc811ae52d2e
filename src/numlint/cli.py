"""The `numlint` command line."""

from __future__ import annotations

import difflib
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import click

from numlint import __version__, notebook, source
from numlint.cache import Cache, CacheLocationError, contained_dir, fingerprint, user_secret
from numlint.config import (
    ConfigError, Settings, check_selectors, find_pyproject, ignored_for, load_settings, parse_inline, select_rules,
    split_codes,
)
from numlint.diagnostics import FileError, FileResult
from numlint.discovery import EXTENSIONS, discover, excluded, outside, write_roots
from numlint.report import FORMATS, HUMAN_FORMATS, concise, summary
from numlint.report.full import make_console
from numlint.report.paths import place
from numlint.report.text import printable
from numlint.rules import RuleError, registry
from numlint.runner import Mode, check_contained, check_files, original_text, read

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Each worker process holds the rules and a parsed file: beyond this, more processes only cost
# memory (and `-j 100000` would fork that many at once).
MAX_JOBS = 64
# Piped or in CI, a progress line on stderr this often (seconds); NUMLINT_PROGRESS_INTERVAL changes it.
PROGRESS_INTERVAL = 5.0


class DefaultGroup(click.Group):
    """`numlint PATHS` means `numlint check PATHS`, as with ruff; a word that is neither a command
    nor a path (`numlint chek src`) is an unknown command, not a missing file."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        if not args or (args[0] not in self.commands and _is_check_argument(args[0])):
            args = ["check", *args]
        elif args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            hint = difflib.get_close_matches(args[0], list(self.commands), n=1, cutoff=0.5)
            tip = f" (did you mean '{hint[0]}'?)" if hint else f" (commands: {', '.join(sorted(self.commands))})"
            _fail(f"no such command {args[0]!r}{tip}; to check a file or folder, name one that exists")
        return super().parse_args(ctx, args)


def _is_check_argument(arg: str) -> bool:
    """An option of `check`, standard input (`-`), or something that is or looks like a path."""
    if arg in ("--help", "-h", "--version"):
        return False
    if arg.startswith("-") or os.path.lexists(arg):
        return True
    return "/" in arg or os.sep in arg or arg.endswith(EXTENSIONS) or arg.startswith(".") or "." in arg


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="numlint")
def main() -> None:
    """Find and fix numerical hazards (overflow, underflow, cancellation, NaN) in array code."""
    _ensure_standard_streams()


_STDIN_CLOSED = False


def _ensure_standard_streams() -> None:
    """A closed standard stream (`numlint check . >&-`, `<&-`) becomes /dev/null: output goes
    nowhere instead of raising, and no file numlint opens later takes fd 0, 1 or 2 by accident."""
    global _STDIN_CLOSED
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
            _STDIN_CLOSED = _STDIN_CLOSED or fd == 0
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False, encoding="utf-8", errors="backslashreplace"))


def _read_stdin() -> bytes:
    if _STDIN_CLOSED or sys.stdin is None:
        raise source.SourceError("cannot read: standard input is closed")
    try:
        return sys.stdin.buffer.read()
    except OSError as exc:
        raise source.SourceError(f"cannot read standard input: {exc.strerror or exc}") from None


def _write_out(write: Callable[[], None], stream: Optional[TextIO] = None) -> None:
    """One output step. A reader that went away (`numlint check . | head -1`) ends the output
    quietly: the exit code stays the run's."""
    try:
        write()
        (stream or sys.stdout).flush()
    except BrokenPipeError:
        # Later writes, and the interpreter's own flush at exit, go to /dev/null instead of raising.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


@dataclass
class _Options:
    color: Optional[bool]
    unsafe: bool = False  # unsafe fixes are offered: they get the `[*]` mark too


def _fail(message: str) -> None:
    click.echo(f"numlint: error: {printable(message)}", err=True)
    sys.exit(EXIT_ERROR)


def _warn(message: str) -> None:
    click.echo(f"numlint: warning: {printable(message)}", err=True)


def _info(message: str) -> None:
    click.echo(f"numlint: {printable(message)}", err=True)


def _config_sources(values: Sequence[str]) -> Tuple[Optional[str], Dict[str, object]]:
    """`--config` values: one file (a path that exists, or names a .toml file) and any number of
    inline `key = value` settings, as ruff takes them."""
    files: List[str] = []
    overrides: Dict[str, object] = {}
    for value in values:
        if os.path.isfile(value) or (value.endswith(".toml") and "=" not in value):
            files.append(value)
        elif "=" in value:
            overrides.update(parse_inline(value))
        else:
            raise ConfigError(f"--config {value!r}: no such file, and not a `key = value` setting")
    if len(files) > 1:
        raise ConfigError(f"--config: one configuration file at most (got {', '.join(map(repr, files))})")
    return (files[0] if files else None), overrides


@dataclass
class _Run:
    """What the command line resolved before checking anything."""

    settings: Settings
    rules: dict
    selected: frozenset
    config_file: Optional[Path]


def _resolve(paths, from_stdin, stdin_filename, config_values, force_exclude, select, extend_select, ignore,
             extend_ignore) -> _Run:
    anchor = Path(stdin_filename or ".") if from_stdin else Path(paths[0] if paths else ".")
    config_path, overrides = _config_sources(config_values)
    config_file = Path(config_path) if config_path else find_pyproject(anchor)
    if config_path and not config_file.is_file():
        raise ConfigError(f"{config_path}: no such file")
    settings = load_settings(config_file, anchor if anchor.is_dir() else anchor.parent, overrides)
    if force_exclude is not None:
        settings = replace(settings, force_exclude=force_exclude)
    rules = registry(settings.rule_paths)
    check_selectors(settings, rules)
    if select and not split_codes(select):
        raise ConfigError(f"--select {' '.join(map(repr, select))}: selects no rule")
    selected = select_rules(
        rules,
        split_codes(select) if select else settings.select,
        split_codes(extend_select) + settings.extend_select,
        split_codes(ignore) + split_codes(extend_ignore) + settings.ignore,
    )
    if not selected:
        raise ConfigError("no rule is selected: the selection and ignores leave nothing to check")
    return _Run(settings, rules, selected, config_file)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="Also apply (or offer) fixes that may change values.")
@click.option("--fix-only", is_flag=True, help="Apply fixes and report only what was fixed, not what remains.")
@click.option("--show-fixes", is_flag=True, help="After fixing, list the fixes applied, per file and rule.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when a fix was applied, even if nothing remains.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: CODE` to every line with a finding.")
@click.option("--select", multiple=True, help="Rules to run: codes, prefixes (NUM1) or names, comma-separated.")
@click.option("--extend-select", multiple=True, help="Rules to add to the selection.")
@click.option("--ignore", multiple=True, help="Rules to leave out.")
@click.option("--extend-ignore", multiple=True, help="Rules to leave out, besides those ignored already.")
@click.option("--output-format", type=click.Choice(sorted(FORMATS)), default="full", show_default=True)
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the report to this file, not stdout.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--config", "config_values", multiple=True,
              help="The pyproject.toml to read, or a `key = value` setting of [tool.numlint] (repeatable).")
@click.option("--stdin-filename", help="The path of the file read from standard input, for messages and config.")
@click.option("--color/--no-color", default=None, help="Colour the output (default: only on a terminal).")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help=f"Processes to use (default: one per core; at most {MAX_JOBS}).")
@click.option("--no-cache", is_flag=True, help="Check every file, ignoring results cached by earlier runs.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Where to keep cached results (default: .numlint_cache).")
@click.option("--force-exclude/--no-force-exclude", default=None,
              help="Apply `exclude` to files named on the command line too (for pre-commit).")
@click.option("--show-settings", is_flag=True, help="Print the settings in effect for the first path, and exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be checked, and exit.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings only: no summary, no progress.")
@click.option("-s", "--silent", is_flag=True, help="Print nothing; the exit code tells.")
@click.option("-v", "--verbose", is_flag=True, help="Also say on stderr what was read, found and cached, and how long it took.")
def check(paths, fix, unsafe_fixes, fix_only, show_fixes, exit_non_zero_on_fix, diff, add_noqa, select, extend_select,
          ignore, extend_ignore, output_format, output_file, statistics, exit_zero, config_values, stdin_filename, color,
          jobs, no_cache, cache_dir, force_exclude, show_settings, show_files, quiet, silent, verbose) -> None:
    """Check PATHS (files or folders; default: the current folder) for numerical hazards."""
    started = time.monotonic()
    fix = fix or fix_only
    quiet = quiet or silent
    from_stdin = paths == ("-",) or (not paths and stdin_filename is not None)
    if add_noqa and (fix or diff):
        _fail("--add-noqa cannot be combined with --fix, --fix-only or --diff")
    if add_noqa and from_stdin:
        _fail("--add-noqa writes files: it cannot be used with standard input")
    try:
        run = _resolve(paths, from_stdin, stdin_filename, config_values, force_exclude, select, extend_select, ignore,
                       extend_ignore)
    except (ConfigError, RuleError) as exc:
        _fail(str(exc))
        return
    settings, rules, selected = run.settings, run.rules, run.selected
    if verbose:
        _info(f"configuration: {run.config_file or 'none found (defaults)'}; patterns are anchored at {settings.root}")
        _info(f"{len(selected)} rules selected: {', '.join(sorted(selected))}")
    unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    mode = Mode(fix=fix or diff, write=fix and not diff and not from_stdin, unsafe=unsafe)
    if show_settings:
        _write_out(lambda: click.echo(_settings_text(run, paths, stdin_filename, unsafe), nl=False))
        sys.exit(EXIT_CLEAN)
    if from_stdin:
        _check_stdin(run, stdin_filename, mode, fix, diff, exit_zero, output_format, output_file, color, unsafe,
                     unsafe_fixes, statistics, quiet, silent, show_files)
        return
    try:
        files = discover(paths or ["."], settings)
    except ConfigError as exc:
        _fail(str(exc))
        return
    if show_files:
        _write_out(lambda: click.echo("".join(printable(str(f)) + "\n" for f in sorted(files, key=str)), nl=False))
        sys.exit(EXIT_CLEAN)
    if not files and not silent:
        _warn("no Python files found under the given paths")
    cache = None if no_cache or mode.fix or add_noqa else _open_cache(cache_dir, settings, rules, selected)
    hits = [0]
    if cache is not None:
        cache.get = _counting(cache.get, hits)
    with _progress(len(files), quiet) as advance:
        results = _check_within_roots(files, paths or ["."], rules, selected, settings, mode, jobs or _cores(),
                                      cache, advance)
    if cache is not None:
        cache.save()
    if verbose:
        cached = f", {hits[0]} from the cache" if cache is not None else " (no cache)"
        _info(f"checked {len(files)} files{cached} in {time.monotonic() - started:.2f} s")
    if add_noqa:
        _add_noqa(results, paths or ["."], settings, silent)
        return
    originals = {r.path: original_text(Path(r.path)) for r in results if diff and r.fixed_source}
    facts = summary.RunFacts(len(files), fixing=fix, unsafe=unsafe, unsafe_flag=bool(unsafe_fixes), fix_only=fix_only)
    _report(results, rules, facts, diff, originals, output_format, output_file, statistics, color, quiet, silent,
            show_fixes, exit_zero, exit_non_zero_on_fix)


def _counting(get, hits: List[int]):
    def counted(*args, **kwargs):
        hit = get(*args, **kwargs)
        hits[0] += hit is not None
        return hit
    return counted


def _check_stdin(run: _Run, stdin_filename, mode, fix, diff, exit_zero, output_format, output_file, color, unsafe,
                 unsafe_flag, statistics, quiet, silent, show_files) -> None:
    settings, rules, selected = run.settings, run.rules, run.selected
    if stdin_filename and settings.force_exclude and excluded(Path(stdin_filename), settings):
        try:
            data = _read_stdin()  # an excluded file: nothing to report, and --fix gives it back as is
        except source.SourceError:
            data = b""
        if fix and not diff:
            _write_out(lambda: sys.stdout.buffer.write(data))
        sys.exit(EXIT_CLEAN)
    if show_files:
        _write_out(lambda: click.echo(printable(stdin_filename or "-")))
        sys.exit(EXIT_CLEAN)
    stdin_name = stdin_filename or "-"
    stdin_file = None
    try:
        decode = notebook.loads if notebook.is_notebook(stdin_name) else source.decode
        stdin_file = decode(_read_stdin())
    except source.SourceError as exc:  # like an undecodable file: reported, exit 1
        results = [FileResult(stdin_name, errors=(FileError(str(exc)),))]
    if stdin_file is not None:
        # The file's own per-file-ignores apply, as they would to the file on disk.
        active = selected - ignored_for(settings, Path(stdin_filename), rules) if stdin_filename else selected
        chosen = [rules[c] for c in sorted(active)]
        results = [check_contained(stdin_file, chosen, stdin_name, mode)]
    originals = {results[0].path: stdin_file.text} if stdin_file is not None else {}
    if fix and not diff and stdin_file is not None:
        fixed = stdin_file.encode(results[0].fixed_source or stdin_file.text)
        _write_out(lambda: sys.stdout.buffer.write(fixed))
        # stdout is the file; what is left to say (errors, remaining findings) goes to stderr
        if not silent:
            for line in concise.lines(results):
                click.echo(line, err=True)
        sys.exit(EXIT_CLEAN if exit_zero or not (results[0].findings or results[0].errors) else EXIT_FINDINGS)
    facts = summary.RunFacts(1, fixing=fix, unsafe=unsafe, unsafe_flag=bool(unsafe_flag))
    _report(results, rules, facts, diff, originals, output_format, output_file, statistics, color, quiet, silent,
            False, exit_zero, False)


def _report(results, rules, facts: summary.RunFacts, diff, originals, output_format, output_file, statistics, color,
            quiet, silent, show_fixes, exit_zero, exit_non_zero_on_fix) -> None:
    if diff:
        changed = sum(1 for r in results if r.fixed_source is not None and originals.get(r.path) is not None)
        internal = any(e.code for r in results for e in r.errors)
        _write_out(lambda: _print_diffs(results, originals, silent))
        sys.exit(EXIT_ERROR if internal else EXIT_FINDINGS if changed and not exit_zero else EXIT_CLEAN)
    names = {code: rule.name for code, rule in rules.items()}
    if silent:
        sys.exit(_exit_code(results, exit_zero, facts.fix_only, exit_non_zero_on_fix))
    try:
        stream = open(output_file, "w", encoding="utf-8", newline="") if output_file else sys.stdout
    except OSError as exc:
        _fail(f"--output-file {output_file}: {exc.strerror or exc}")
        return
    options = _Options(color=False if output_file else color, unsafe=facts.unsafe)
    shown = results
    if facts.fix_only:  # what remains is not reported; files numlint could not check still are
        shown = [replace(r, findings=()) for r in results]
    emit = lambda lines: stream.write("".join(line + "\n" for line in lines))  # noqa: E731
    try:
        if statistics:
            rows = summary.statistics(shown, names, facts.unsafe)
            if output_format in ("json", "json-lines"):
                _write_out(lambda: stream.write(json.dumps(rows, indent=2) + "\n"), stream)
            else:
                _write_out(lambda: emit(summary.statistics_lines(rows)), stream)
                if not quiet:
                    _write_out(lambda: emit(summary.lines(shown, facts)), stream)
        else:
            _write_out(lambda: FORMATS[output_format](shown, stream, options), stream)
            if output_format in HUMAN_FORMATS and not quiet and (facts.files_checked or any(r.errors for r in results)):
                _write_out(lambda: emit(summary.lines(shown, facts)), stream)
        if show_fixes and output_format in HUMAN_FORMATS:
            _write_out(lambda: emit(summary.fixes_lines(results, names)), stream)
    finally:
        if output_file:
            stream.close()
    sys.exit(_exit_code(results, exit_zero, facts.fix_only, exit_non_zero_on_fix))


def _settings_text(run: _Run, paths, stdin_filename, unsafe: bool) -> str:
    settings = run.settings
    first = stdin_filename or (paths[0] if paths and paths[0] != "-" else ".")
    lines = [
        f"Resolved settings for: {first}",
        f"Settings path: {run.config_file or '(none: the defaults)'}",
        "",
        f"root = {str(settings.root)!r}",
        f"select = {sorted(run.selected)!r}",
        f"per-file-ignores = {dict(sorted((k, list(v)) for k, v in settings.per_file_ignores.items()))!r}",
        f"exclude = {list(settings.exclude)!r}",
        f"extend-exclude = {list(settings.extend_exclude)!r}",
        f"force-exclude = {str(settings.force_exclude).lower()}",
        f"respect-gitignore = {str(settings.respect_gitignore).lower()}",
        f"rule-paths = {list(settings.rule_paths)!r}",
        f"unsafe-fixes = {str(unsafe).lower()}",
        f"cache-dir = {str(settings.cache_dir or settings.root / '.numlint_cache')!r}",
    ]
    return "".join(printable(line) + "\n" for line in lines)


def _check_within_roots(files, paths, rules, selected, settings, mode, jobs, cache, advance) -> List[FileResult]:
    """`check_files`, except that `--fix` never writes a file that resolves outside the folders
    being checked (a symlink a repository ships): such a file is checked without fixing and
    reported."""
    away = {}  # index of a file -> where it really is
    if mode.write:
        roots = write_roots(paths, settings)
        for index, file in enumerate(files):
            target = outside(file, roots)
            if target is not None:
                away[index] = target
    if not away:
        return check_files(files, rules, selected, settings, mode, jobs, cache, advance)
    inside = [i for i in range(len(files)) if i not in away]
    results: List[Optional[FileResult]] = [None] * len(files)
    for index, result in zip(inside, check_files([files[i] for i in inside], rules, selected, settings, mode, jobs,
                                                 cache, advance)):
        results[index] = result
    checked = check_files([files[i] for i in away], rules, selected, settings, Mode(unsafe=mode.unsafe), jobs, cache,
                          advance)
    for index, result in zip(away, checked):
        note = FileError(f"not fixed: it resolves to {away[index]}, outside the folders being checked")
        results[index] = replace(result, errors=result.errors + (note,))
    return results  # type: ignore[return-value]


def _add_noqa(results: Sequence[FileResult], paths, settings: Settings, silent: bool) -> None:
    """`--add-noqa`: `# noqa: CODE` on each line with a finding, written like a fix."""
    from numlint.noqa import add_directives

    roots = write_roots(paths, settings)
    added = 0
    failed = False
    for result in results:
        findings = [f for f in result.findings if f.code != "NUM001"]  # never suppress the noqa check itself
        for error in result.errors:
            failed = True
            if not silent:
                click.echo(printable(f"{place(result, error.location)}: error: {error.message}"), err=True)
        if not findings:
            continue
        path = Path(result.path)
        target = outside(path, roots)
        if target is not None:
            failed = True
            if not silent:
                click.echo(printable(f"{result.path}: not changed: it resolves to {target}, outside the folders "
                                     "being checked"), err=True)
            continue
        try:
            file = read(path)
            text, count, refused = add_directives(file.text, findings)
            if count:
                data = file.encode(text)
                source.write_atomic(str(path), data)
        except (OSError, UnicodeEncodeError, source.SourceError) as exc:
            failed = True
            if not silent:
                click.echo(printable(f"{result.path}: error: cannot add noqa comments: {exc}"), err=True)
            continue
        added += count
        for row in refused:
            failed = True
            if not silent:
                at = place(result, next(f.location for f in findings if f.noqa_row == row))
                click.echo(printable(f"{at}: error: no `# noqa` added: the line continues (a backslash or a "
                                     "string), so a comment cannot end it"), err=True)
    if not silent:
        click.echo(f"Added {summary.plural(added, 'noqa directive')}.")
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _open_cache(cache_dir, settings, rules, selected) -> Optional[Cache]:
    if cache_dir:  # named on the command line: the user's own choice, wherever it is
        directory = Path(cache_dir)
    else:
        # From the project (its configuration, or a committed `.numlint_cache` symlink): it must
        # not lead numlint to write or delete outside the project.
        try:
            directory = contained_dir(settings.cache_dir or settings.root / ".numlint_cache", settings.root)
        except CacheLocationError as exc:
            _warn(f"not using the results cache: {exc}")
            return None
    secret = user_secret()
    if secret is None:  # no private key to name the index by: a guessable name could be planted
        return None
    parts = [",".join(sorted(selected)), repr(sorted(settings.per_file_ignores.items())), str(settings.root)]
    parts += [Path(rule.path).read_text(encoding="utf-8") for rule in rules.values()]
    return Cache(directory, fingerprint(parts, secret))


@contextmanager
def _progress(total: int, quiet: bool):
    """A progress bar on a terminal for long runs; piped or in CI, a line on stderr every few
    seconds (a log keeps lines, not a redrawn bar), so a long run never looks hung."""
    if quiet or total == 0:
        yield None
        return
    if sys.stderr.isatty() and not os.environ.get("CI"):
        if total < 200:
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=make_console(sys.stderr, None), transient=True) as bar:
            task = bar.add_task("check", total=total)
            yield lambda: bar.advance(task)
        return
    try:
        interval = float(os.environ.get("NUMLINT_PROGRESS_INTERVAL", PROGRESS_INTERVAL))
    except ValueError:
        interval = PROGRESS_INTERVAL
    state = {"done": 0, "next": time.monotonic() + interval}

    def advance() -> None:
        state["done"] += 1
        now = time.monotonic()
        if now >= state["next"] and state["done"] < total:
            state["next"] = now + interval
            try:
                sys.stderr.write(f"numlint: checked {state['done']} of {total} files ({100 * state['done'] // total}%)\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    yield advance


def _exit_code(results: Sequence[FileResult], exit_zero: bool, fix_only: bool = False,
               exit_non_zero_on_fix: bool = False) -> int:
    if any(error.code for result in results for error in result.errors):
        return EXIT_ERROR  # numlint itself failed somewhere
    if exit_non_zero_on_fix and any(r.fixes_applied for r in results):
        return EXIT_FINDINGS
    if exit_zero:
        return EXIT_CLEAN
    if fix_only:  # what remains is not this run's business; files that could not be read are
        return EXIT_FINDINGS if any(r.errors for r in results) else EXIT_CLEAN
    if any(result.findings or result.errors for result in results):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _print_diffs(results: Sequence[FileResult], originals, silent: bool = False) -> int:
    changed = 0
    # The diff is the files' own text, to be applied (`git apply`); on a terminal it is shown
    # with control characters escaped, like everything else numlint prints there.
    terminal = sys.stdout.isatty()
    write = sys.stdout.writelines if not terminal else lambda lines: sys.stdout.writelines(_shown(lines))
    for result in results:
        before = originals.get(result.path)
        if result.fixed_source is None or before is None:
            continue
        changed += 1
        if silent:
            continue
        if result.cells is not None:  # a notebook: a diff of each changed cell's source
            numbers = result.cells.cells
            pairs = zip(notebook.cell_texts(before, numbers), notebook.cell_texts(result.fixed_source, numbers))
            for (number, old), (_, new) in pairs:
                write(_unified(old, new, f"{result.path}:cell {number}"))
            continue
        write(_unified(before, result.fixed_source, result.path))
    if silent:
        return changed
    for result in results:
        for error in result.errors:
            click.echo(printable(f"{place(result, error.location)}: error: {error.message}"), err=True)
    if changed:
        click.echo(f"Would fix {sum(r.fixes_applied for r in results)} finding(s) in {changed} file(s).", err=True)
    return changed


def _unified(before: str, after: str, name: str):
    return difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=_diff_name("a", name), tofile=_diff_name("b", name),
    )


def _diff_name(side: str, path: str) -> str:
    # git-style a/ b/ prefixes for relative paths, so `git apply` and `patch -p1` take the diff.
    # A newline in a name would end the header line: names are escaped like everywhere else.
    return printable(path if Path(path).is_absolute() else f"{side}/{Path(path).as_posix()}")


def _shown(lines):
    for line in lines:
        body = line.rstrip("\r\n")
        yield printable(body) + line[len(body):]


@main.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json", "markdown", "readme"]), default="text", show_default=True,
              help="markdown: the full rule reference, as in docs/rules.md; readme: README.md's rule table.")
@click.option("--update", "update", type=click.Path(dir_okay=False), default=None,
              help="Write the output into this file instead of printing it: for readme, between the file's "
                   "rule-table marker lines (the rest of the file is kept); otherwise the whole file.")
def list_rules(output_format: str, update: Optional[str]) -> None:
    """List every rule: code, name, fix availability and summary."""
    from numlint.explain import rules_json, rules_markdown, rules_readme, rules_table, update_readme

    try:
        rules = registry()
    except RuleError as exc:
        _fail(str(exc))
        return
    render = {"json": rules_json, "markdown": rules_markdown, "readme": rules_readme, "text": rules_table}[output_format]
    if update is None:
        _write_out(lambda: click.echo(render(rules), nl=False))
        return
    try:
        text = render(rules)
        if output_format == "readme":
            with open(update, encoding="utf-8", newline="") as handle:
                text = update_readme(handle.read(), text)
        with open(update, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _fail(f"{update}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")


@main.command("test-rule")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def test_rule(paths) -> None:
    """Check rule files (TOML) against their own examples, with the built-in rules switched on."""
    from numlint.rules import load_rule
    from numlint.ruletest import check_rule

    try:
        builtin = registry()
        rules = []
        for path in paths:
            rule = load_rule(Path(path))
            if rule.code in builtin and Path(builtin[rule.code].path).resolve() != Path(path).resolve():
                raise RuleError(f"{path}: code {rule.code} is already a built-in rule")
            rules.append(rule)
    except RuleError as exc:
        _fail(str(exc))
        return
    codes = {r.code for r in rules}
    everything = [r for c, r in builtin.items() if c not in codes] + rules
    failed = False
    for rule in rules:
        failures = check_rule(rule, everything)
        if failures:
            failed = True
            for failure in failures:
                click.echo(printable(f"FAIL {failure}"))
        click.echo(f"{rule.code} {rule.name}: {len(rule.examples) - len(failures)} of {len(rule.examples)} examples pass")
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


@main.command("rule")
@click.argument("selector", required=False)
@click.option("--all", "every", is_flag=True, help="Explain every rule.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_rule(selector: Optional[str], every: bool, output_format: str) -> None:
    """Explain a rule (by code or name): why it breaks, with numbers, and its examples."""
    from numlint.explain import explain, rule_record

    if every == (selector is not None):
        _fail("name one rule (`numlint rule NUM101`) or give --all")
    try:
        rules = registry()
    except RuleError as exc:
        _fail(str(exc))
        return
    if every:
        chosen = list(rules.values())
    else:
        chosen = [r for r in rules.values() if r.code == selector.upper() or r.name == selector.lower()]
        if not chosen:
            hint = difflib.get_close_matches(selector.lower(), [r.name for r in rules.values()], n=1, cutoff=0.6)
            _fail(f"unknown rule {selector!r}" + (f" (did you mean {hint[0]!r}?)" if hint else " (see `numlint rules`)"))
    if output_format == "json":
        records = [rule_record(r) for r in chosen]
        document = records if every else records[0]
        _write_out(lambda: click.echo(json.dumps(document, indent=2, ensure_ascii=False)))
        return
    _write_out(lambda: click.echo("\n".join(explain(r) for r in chosen), nl=False))


@main.command("server")
def server() -> None:
    """Run the language server on stdin/stdout, for editors (needs the `lsp` extra)."""
    try:
        from numlint.integrations import lsp
    except ImportError as exc:
        # Only a missing (or too old) pygls is the user's to fix; anything else is our bug.
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs"):
            raise
        _fail("numlint server needs pygls: pip install 'numlint[lsp]'")
        return
    sys.exit(lsp.start())


if __name__ == "__main__":  # pragma: no cover
    main()
