"""The `numlint` command line."""

from __future__ import annotations

import difflib
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import click

from numlint import __version__, notebook, source
from numlint.cache import Cache, CacheLocationError, contained_dir, fingerprint, user_secret
from numlint.config import ConfigError, check_selectors, find_pyproject, load_settings, select_rules, split_codes
from numlint.diagnostics import SAFE, UNSAFE, FileError, FileResult
from numlint.discovery import discover, excluded, outside, write_roots
from numlint.report import FORMATS, concise
from numlint.report.full import make_console
from numlint.report.paths import place
from numlint.report.text import printable
from numlint.rules import RuleError, registry
from numlint.runner import Mode, check_contained, check_files, original_text, summary_counts

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Each worker process holds the rules and a parsed file: beyond this, more processes only cost
# memory (and `-j 100000` would fork that many at once).
MAX_JOBS = 64


class DefaultGroup(click.Group):
    """`numlint PATHS` means `numlint check PATHS`, as with ruff."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


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


def _write_out(write: Callable[[], None]) -> None:
    """One output step. A reader that went away (`numlint check . | head -1`) ends the output
    quietly: the exit code stays the run's."""
    try:
        write()
        sys.stdout.flush()
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


def _fail(message: str) -> None:
    click.echo(f"numlint: error: {printable(message)}", err=True)
    sys.exit(EXIT_ERROR)


def _warn(message: str) -> None:
    click.echo(f"numlint: warning: {printable(message)}", err=True)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="Also apply (or offer) fixes that may change values.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--select", multiple=True, help="Rules to run: codes, prefixes (NUM1) or names, comma-separated.")
@click.option("--extend-select", multiple=True, help="Rules to add to the selection.")
@click.option("--ignore", multiple=True, help="Rules to leave out.")
@click.option("--output-format", type=click.Choice(sorted(FORMATS)), default="full", show_default=True)
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="The pyproject.toml to read.")
@click.option("--stdin-filename", help="The path of the file read from standard input, for messages and config.")
@click.option("--color/--no-color", default=None, help="Colour the output (default: only on a terminal).")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help=f"Processes to use (default: one per core; at most {MAX_JOBS}).")
@click.option("--no-cache", is_flag=True, help="Check every file, ignoring results cached by earlier runs.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Where to keep cached results (default: .numlint_cache).")
@click.option("--force-exclude/--no-force-exclude", default=None,
              help="Apply `exclude` to files named on the command line too (for pre-commit).")
def check(paths, fix, unsafe_fixes, diff, select, extend_select, ignore, output_format, statistics,
          exit_zero, config_path, stdin_filename, color, jobs, no_cache, cache_dir, force_exclude) -> None:
    """Check PATHS (files or folders; default: the current folder) for numerical hazards."""
    try:
        from_stdin = paths == ("-",) or (not paths and stdin_filename is not None)
        anchor = Path(stdin_filename or ".") if from_stdin else Path(paths[0] if paths else ".")
        config_file = Path(config_path) if config_path else find_pyproject(anchor)
        if config_path and not config_file.is_file():
            raise ConfigError(f"{config_path}: no such file")
        settings = load_settings(config_file, anchor if anchor.is_dir() else anchor.parent)
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
            split_codes(ignore) + settings.ignore,
        )
        if not selected:
            raise ConfigError("no rule is selected: the selection and ignores leave nothing to check")
        unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
        mode = Mode(fix=fix or diff, write=fix and not diff and not from_stdin, unsafe=unsafe)
        if from_stdin and stdin_filename and settings.force_exclude and excluded(Path(stdin_filename), settings):
            try:
                data = _read_stdin()  # an excluded file: nothing to report, and --fix gives it back as is
            except source.SourceError:
                data = b""
            if fix and not diff:
                _write_out(lambda: sys.stdout.buffer.write(data))
            sys.exit(EXIT_CLEAN)
        if from_stdin:
            stdin_name = stdin_filename or "-"
            try:
                decode = notebook.loads if notebook.is_notebook(stdin_name) else source.decode
                stdin_file = decode(_read_stdin())
            except source.SourceError as exc:  # like an undecodable file: reported, exit 1
                stdin_file = None
                results = [FileResult(stdin_name, errors=(FileError(str(exc)),))]
            if stdin_file is not None:
                chosen = [rules[c] for c in sorted(selected)]
                results = [check_contained(stdin_file, chosen, stdin_name, mode)]
            originals = {results[0].path: stdin_file.text} if stdin_file is not None else {}
            if fix and not diff and stdin_file is not None:
                fixed = stdin_file.encode(results[0].fixed_source or stdin_file.text)
                _write_out(lambda: sys.stdout.buffer.write(fixed))
                # stdout is the file; what is left to say (errors, remaining findings) goes to stderr
                for line in concise.lines(results):
                    click.echo(line, err=True)
                sys.exit(EXIT_CLEAN if exit_zero or not (results[0].findings or results[0].errors) else EXIT_FINDINGS)
        else:
            files = discover(paths or ["."], settings)
            cache = None if no_cache or mode.fix else _open_cache(cache_dir, settings, rules, selected)
            with _progress(len(files), output_format) as advance:
                results = _check_within_roots(files, paths or ["."], rules, selected, settings, mode, jobs or _cores(),
                                              cache, advance)
            if cache is not None:
                cache.save()
            originals = {r.path: original_text(Path(r.path)) for r in results if diff and r.fixed_source}
    except (ConfigError, RuleError) as exc:
        _fail(str(exc))
        return
    options = _Options(color=color)
    if diff:
        changed = sum(1 for r in results if r.fixed_source is not None and originals.get(r.path) is not None)
        internal = any(e.code for r in results for e in r.errors)
        _write_out(lambda: _print_diffs(results, originals))
        sys.exit(EXIT_ERROR if internal else EXIT_FINDINGS if changed and not exit_zero else EXIT_CLEAN)
    if statistics:
        _write_out(lambda: _print_statistics(results, rules))
    else:
        _write_out(lambda: FORMATS[output_format](results, sys.stdout, options))
        if output_format == "full":
            _write_out(lambda: _print_summary(results, fix, unsafe))
    sys.exit(_exit_code(results, exit_zero))


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
def _progress(total: int, output_format: str):
    """A progress bar on a terminal for long runs; nothing when piped or in CI."""
    if total < 200 or not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=make_console(sys.stderr, None), transient=True) as bar:
        task = bar.add_task("check", total=total)
        yield lambda: bar.advance(task)


def _exit_code(results: Sequence[FileResult], exit_zero: bool) -> int:
    if any(error.code for result in results for error in result.errors):
        return EXIT_ERROR  # numlint itself failed somewhere
    if exit_zero:
        return EXIT_CLEAN
    if any(result.findings or result.errors for result in results):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _print_diffs(results: Sequence[FileResult], originals) -> int:
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
        if result.cells is not None:  # a notebook: a diff of each changed cell's source
            numbers = result.cells.cells
            pairs = zip(notebook.cell_texts(before, numbers), notebook.cell_texts(result.fixed_source, numbers))
            for (number, old), (_, new) in pairs:
                write(_unified(old, new, f"{result.path}:cell {number}"))
            continue
        write(_unified(before, result.fixed_source, result.path))
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


def _print_statistics(results: Sequence[FileResult], rules) -> None:
    fixable = {f.code for r in results for f in r.findings if f.fix is not None and f.fix.applicability == SAFE}
    for code, count in summary_counts(results).items():
        mark = "[*]" if code in fixable else "   "
        click.echo(f"{count:>5}\t{code}\t{mark} {rules[code].name}")


def _print_summary(results: Sequence[FileResult], fixed: bool, unsafe: bool) -> None:
    findings = [f for r in results for f in r.findings]
    errors = sum(len(r.errors) for r in results)
    applied = sum(r.fixes_applied for r in results)
    parts = []
    if findings:
        files = sum(1 for r in results if r.findings)
        parts.append(f"Found {len(findings)} finding{'s' * (len(findings) != 1)} in {files} file{'s' * (files != 1)}.")
    elif not errors:
        parts.append("All checks passed!" if not applied else "")
    if applied:
        parts.append(f"Fixed {applied} finding{'s' * (applied != 1)}.")
    safe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == SAFE)
    more = sum(1 for f in findings if f.fix is not None and f.fix.applicability == UNSAFE)
    if safe:
        parts.append(f"[*] {safe} fixable with `numlint check --fix`.")
    if more and not unsafe:
        parts.append(f"{more} more fixable with `--fix --unsafe-fixes`.")
    if errors:
        parts.append(f"{errors} file error{'s' * (errors != 1)}.")
    text = "\n".join(p for p in parts if p)
    if text:
        click.echo(text)


@main.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="markdown: the full rule reference, as in docs/rules.md.")
def list_rules(output_format: str) -> None:
    """List every rule: code, name, fix availability and summary."""
    from numlint.explain import rules_json, rules_markdown, rules_table

    try:
        rules = registry()
    except RuleError as exc:
        _fail(str(exc))
        return
    render = {"json": rules_json, "markdown": rules_markdown, "text": rules_table}[output_format]
    _write_out(lambda: click.echo(render(rules), nl=False))


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
@click.argument("selector")
def explain_rule(selector: str) -> None:
    """Explain a rule (by code or name): why it breaks, with numbers, and its examples."""
    from numlint.explain import explain

    try:
        rules = registry()
    except RuleError as exc:
        _fail(str(exc))
        return
    matches = [r for r in rules.values() if r.code == selector.upper() or r.name == selector.lower()]
    if not matches:
        _fail(f"unknown rule {selector!r} (see `numlint rules`)")
    _write_out(lambda: click.echo(explain(matches[0]), nl=False))



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
