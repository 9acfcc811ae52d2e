#!/usr/bin/env python3
"""Differential fix check on real code: what `--fix` writes, compared with what it read.

    python benchmarks/corpus.py && python benchmarks/research_corpus.py   # once: the corpora
    python benchmarks/differential.py -j 1                                # 20 to 40 minutes on 2 cores
    python benchmarks/differential.py -j 1 --write-docs                   # and the figures into docs/reliability.md

Copies the corpora (../numlint-corpus, ../research-corpus; `--corpus` for others) to a scratch
folder under /tmp, finds every file where numlint offers a fix (`--select ALL --unsafe-fixes`),
and for each of the two modes — safe fixes (`--fix`) and all fixes (`--fix --unsafe-fixes`) —
applies them to a copy of the packages holding such files (naming the files with fixes: fixes
never cross files) and checks each fixed file:

(a) it parses (`ast`) and compiles;
(b) pyflakes finds no undefined name and no unused import that the original did not have (other
    new pyflakes messages are counted too);
(c) the diff touches only the statements of the findings whose fix applied (the statement holding
    the finding, and those holding the fix's edits; for a compound statement only its header), or
    adds import lines;
(d) numlint run again on the fixed tree offers no fix of that mode in the file (and a file
    without a fix of that mode is left unchanged).

Prints a summary (files, fixes applied, failures by kind, with examples) and exits 1 on a
failure. Not a pytest test: it takes minutes. docs/reliability.md has the last figures.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs" / "reliability.md"
DEFAULT_CORPORA = [ROOT.parent / "numlint-corpus", ROOT.parent / "research-corpus"]
BEGIN, END = "<!-- differential:begin -->", "<!-- differential:end -->"
# pyflakes messages (b) fails on; any other new message is counted as "other new pyflakes message"
FAILING_FLAKES = {"UndefinedName": "new undefined name", "UndefinedLocal": "new undefined name",
                  "UndefinedExport": "new undefined name", "UnusedImport": "new unused import"}
MODES = {"safe": ("safe",), "unsafe": ("safe", "unsafe")}
EXAMPLES_PER_KIND = 5
# kinds that are counted and shown but are not failures of (a)-(d)
NOTES = {"other new pyflakes message", "fix not applied (numlint said why)", "file not checked in the first check",
         "file not checked in the fix run", "file not checked in the re-check"}


def numlint(args: List[str], cwd: Path) -> Tuple[list, str, float]:
    """Run the real CLI; its JSON findings, its stderr and its wall time."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "numlint", *args], cwd=cwd, capture_output=True, text=True,
                            env=dict(os.environ, NO_COLOR="1", PYTHONPATH=str(ROOT / "src")))
    seconds = time.perf_counter() - started
    try:
        records = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        records = []
        result.stderr += f"\n(stdout is not JSON: {result.stdout[:200]!r})"
    if result.returncode not in (0, 1):
        result.stderr += f"\n(exit {result.returncode})"
    return records, result.stderr, seconds


def check(tree: Path, targets: List[str], jobs: int, fix: Optional[str] = None) -> Tuple[list, str, float]:
    args = ["check", *targets, "--select", "ALL", "--output-format", "json", "--no-cache", "--exit-zero",
            "-j", str(jobs), "--unsafe-fixes"]
    if fix == "safe":
        args = [a for a in args if a != "--unsafe-fixes"] + ["--fix"]
    elif fix == "unsafe":
        args += ["--fix"]
    return numlint(args, tree)


def copy_corpus(corpus: Path, dest: Path, packages: Optional[Iterable[str]] = None) -> None:
    """The corpus's package folders (not its downloads) under dest/<corpus name>."""
    names = sorted(packages) if packages is not None else sorted(
        p.name for p in corpus.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    for name in names:
        shutil.copytree(corpus / name, dest / corpus.name / name, symlinks=True)


def relative(filename: str, tree: Path) -> str:
    try:
        return str(Path(os.path.realpath(filename)).relative_to(os.path.realpath(tree)))
    except ValueError:
        return filename


def fixes_of(records: list, tree: Path, applicabilities: Tuple[str, ...]) -> Dict[str, list]:
    """file (relative to tree) -> its findings whose fix is of one of these applicabilities."""
    out: Dict[str, list] = defaultdict(list)
    for record in records:
        fix = record.get("fix")
        if fix and fix.get("applicability") in applicabilities:
            out[relative(record["filename"], tree)].append(record)
    return out


# --- (a) and (b) -----------------------------------------------------------------------------------

def compiles(text: str, name: str) -> Optional[str]:
    try:
        compile(text, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def flakes(text: str, name: str) -> Optional[Counter]:
    """pyflakes' messages as (kind, arguments), counted; None when pyflakes cannot read the file."""
    from pyflakes import checker as pyflakes

    try:
        tree = ast.parse(text, filename=name)
        found = pyflakes.Checker(tree, filename=name)
    except (SyntaxError, ValueError, RecursionError):
        return None
    return Counter((type(m).__name__, tuple(str(a) for a in m.message_args)) for m in found.messages)


# --- (c) -------------------------------------------------------------------------------------------

def statement_rows(tree: ast.AST, first: int, last: int) -> Tuple[int, int]:
    """The rows of the innermost statement holding rows first..last (a compound statement: its
    header up to its first body statement)."""
    best = (first, last)
    best_size = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        end = node.end_lineno or node.lineno
        if node.lineno <= first and last <= end:
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt) and body[0].lineno > last:
                end = body[0].lineno - 1  # the header only: `if cond:`, `def f(...):`, `with ...:`
            elif isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                pass  # the span reaches into the body: the whole statement
            size = end - node.lineno
            if best_size is None or size < best_size:
                best, best_size = (node.lineno, max(end, last)), size
    return best


def allowed_rows(text: str, findings: list) -> Set[int]:
    """Rows (1-based) of `text` that a fix of these findings (JSON records) may change."""
    spans = []
    for record in findings:
        spans.append((record["location"]["row"], record["end_location"]["row"]))
        spans += [(e["location"]["row"], e["end_location"]["row"]) for e in record["fix"]["edits"]]
    return _statements(text, spans)


def _statements(text: str, spans: List[Tuple[int, int]]) -> Set[int]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    rows: Set[int] = set()
    for first, last in spans:
        start, end = statement_rows(tree, first, last)
        rows.update(range(start, end + 1))
    return rows


def replayed_rows(text: str, unsafe: bool) -> Tuple[Set[int], Optional[str]]:
    """numlint's fix rounds replayed in this process (`fixes.fix_text`, every rule): the rows of
    the original text that some round's flagged statements map back to, and the final text.

    A later round fixes what an earlier one exposed (`sigma = np.std(...)` made by one fix is then
    divided by, and the division's fix inlines it): its statements are flagged in the intermediate
    text, so each round's rows are carried back to the original's through the diffs between rounds.
    """
    from numlint import checker, fixes
    from numlint.rules import registry

    rules = _RULES.setdefault("all", list(registry().values()))
    rounds: List[Tuple[str, list]] = []

    def lint(current: str):
        found, errors = checker.check_text(current, rules)
        rounds.append((current, found))
        return found, errors

    try:
        outcome = fixes.fix_text(text, lint, unsafe)
    except Exception:  # noqa: BLE001 - the CLI's own result is what is judged; this only widens (c)
        return set(), None
    mapping = {row: {row} for row in range(1, len(text.splitlines()) + 2)}  # a row of this round's text -> original rows
    allowed: Set[int] = set()
    previous = text
    for current, found in rounds:
        if current is not text:
            mapping = _carry(previous, current, mapping)
        spans = []
        for finding in found:
            if finding.fix is not None and fixes.applicable(finding.fix, unsafe):
                spans.append((finding.location.row, finding.end_location.row))
                spans += [(e.location.row, e.end_location.row) for e in finding.fix.edits]
        for row in _statements(current, spans):
            allowed |= mapping.get(row, set())
        previous = current
    return allowed, outcome.text


_RULES: Dict[str, list] = {}


def _carry(old: str, new: str, mapping: Dict[int, Set[int]]) -> Dict[int, Set[int]]:
    """Rows of `new` -> original rows, from the rows of `old` -> original rows."""
    a, b = old.splitlines(), new.splitlines()
    out: Dict[int, Set[int]] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(j2 - j1):
                out[j1 + k + 1] = mapping.get(i1 + k + 1, set())
        else:
            source = set().union(*(mapping.get(i, set()) for i in range(max(i1, 1), i2 + 2)))
            for j in range(j1 + 1, j2 + 1):
                out[j] = source
    return out


_IMPORT = re.compile(r"\s*(import\s+\w|from\s+[\w.]+\s+import\s)")


def outside(original: str, fixed: str, allowed: Set[int]) -> List[str]:
    """The changes of the diff that touch no allowed row and are not added imports."""
    before, after = original.splitlines(), fixed.splitlines()
    stray = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        rows = set(range(i1 + 1, i2 + 1))
        if tag == "insert":
            added = after[j1:j2]
            if all(_IMPORT.match(line) or not line.strip() for line in added):
                continue
            rows = {i1, i1 + 1}  # an insertion between two rows: next to either is fine
            if rows & allowed:
                continue
        elif rows <= allowed:
            continue
        stray.append(f"rows {i1 + 1}-{max(i2, i1 + 1)}: {' / '.join(before[i1:i2])[:100]!r} -> "
                     f"{' / '.join(after[j1:j2])[:100]!r}")
    return stray


# --- the run ---------------------------------------------------------------------------------------

class Report:
    def __init__(self) -> None:
        self.failures: Dict[str, Counter] = defaultdict(Counter)  # mode -> kind -> count
        self.examples: Dict[Tuple[str, str], List[str]] = defaultdict(list)
        self.figures: Dict[str, dict] = defaultdict(dict)

    def fail(self, mode: str, kind: str, example: str) -> None:
        self.failures[mode][kind] += 1
        if len(self.examples[mode, kind]) < EXAMPLES_PER_KIND:
            self.examples[mode, kind].append(example)


def run_mode(mode: str, corpora: List[Path], scratch: Path, original_tree: Path, records: list, jobs: int,
             report: Report) -> None:
    applicabilities = MODES[mode]
    offered = fixes_of(records, original_tree, applicabilities)
    figures = report.figures[mode]
    figures["files with fixes"] = len(offered)
    figures["fixes offered"] = sum(len(v) for v in offered.values())
    tree = scratch / mode
    for corpus in corpora:
        packages = {Path(f).parts[1] for f in offered if Path(f).parts[0] == corpus.name}
        copy_corpus(original_tree / corpus.name, tree, packages)
    # The fix and the re-check name the files with fixes (their project is those files): fixes never
    # cross files, and checking only them keeps a run within minutes on a shared machine.
    targets = sorted(offered)
    if not targets:
        return
    before = {str(p.relative_to(tree)): p.read_bytes() for p in tree.rglob("*")
              if p.suffix in (".py", ".ipynb") and p.is_file() and not p.is_symlink()}
    fixed_records, stderr, seconds = check(tree, targets, jobs, fix=mode)
    figures["fix seconds"] = round(seconds)
    refused = file_errors(fixed_records, tree, mode, "fix run", report)
    for line in stderr.splitlines():
        if line.strip() and "not fixed" in line:
            report.fail(mode, "fix not applied (numlint said why)", line.strip()[:200])
        elif line.strip():
            report.fail(mode, "stderr output of the fix run", line.strip()[:200])
    again, stderr, seconds = check(tree, targets, jobs)
    figures["re-check seconds"] = round(seconds)
    file_errors(again, tree, mode, "re-check", report)
    for line in stderr.splitlines():
        if line.strip():
            report.fail(mode, "stderr output of the re-check", line.strip()[:200])
    still = fixes_of(again, tree, applicabilities)
    changed = []
    for name, old in before.items():
        new = (tree / name).read_bytes()
        if new != old:
            changed.append(name)
            if name not in offered:
                report.fail(mode, "file changed without a fix", name)
    figures["files changed"] = len(changed)
    applied = 0
    lines = 0
    for name in sorted(offered):
        path = tree / name
        if name not in changed:
            if name not in refused:
                report.fail(mode, "fix offered but file unchanged", f"{name}: {offered[name][0]['code']}")
            continue
        original = (original_tree / name).read_bytes().decode("utf-8", "surrogateescape")
        fixed = path.read_bytes().decode("utf-8", "surrogateescape")
        diff = [line for line in difflib.unified_diff(original.splitlines(), fixed.splitlines(), lineterm="", n=0)
                if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        lines += len(diff)
        # (d) idempotence: a fix offered again in the fixed file
        left = still.get(name, [])
        applied += max(0, len(offered[name]) - len(left))
        for record in left:
            report.fail(mode, "fix offered again after fixing (not idempotent)",
                        f"{name}:{record['location']['row']}: {record['code']} {record['fix']['message']}")
        if name.endswith(".ipynb"):
            continue  # (a)-(c) read Python text; notebooks are checked by numlint's own round trip
        # (a)
        problem = compiles(fixed, name)
        if problem:
            report.fail(mode, "fixed file does not compile", f"{name}: {problem}")
            continue
        # (b)
        old_flakes, new_flakes = flakes(original, name), flakes(fixed, name)
        if old_flakes is None or new_flakes is None:
            figures["pyflakes could not read"] = figures.get("pyflakes could not read", 0) + 1
        else:
            for (kind, args), count in (new_flakes - old_flakes).items():
                label = FAILING_FLAKES.get(kind, "other new pyflakes message")
                report.fail(mode, label, f"{name}: {kind} {', '.join(args)}" + (f" (x{count})" if count > 1 else ""))
        # (c): the statements flagged in the original, and (only where the diff reaches past them)
        # those flagged in the texts of later fix rounds
        allowed = allowed_rows(original, offered[name])
        strays = outside(original, fixed, allowed)
        if strays:
            replayed, replay_text = replayed_rows(original, mode == "unsafe")
            figures["files whose fix rounds were replayed"] = figures.get("files whose fix rounds were replayed", 0) + 1
            if replay_text is not None and replay_text != fixed:
                figures["replay differs from the CLI's fix"] = figures.get("replay differs from the CLI's fix", 0) + 1
            strays = outside(original, fixed, allowed | replayed)
        for stray in strays:
            report.fail(mode, "diff outside the flagged statements", f"{name}: {stray}")
    figures["fixes applied"] = applied
    figures["diff lines (+/-)"] = lines


def file_errors(records: list, tree: Path, mode: str, step: str, report: Report) -> Set[str]:
    """The run's per-file error lines (JSON records without a code): a refused fix is a note, a
    file numlint cannot check is counted, an internal error is a failure. Returns the files with
    a refused fix."""
    refused = set()
    for record in records:
        if record.get("code"):
            continue
        message = record.get("message") or ""
        where = f"{relative(record['filename'], tree)}:{record['location']['row']}: {message}"[:240]
        if "please report it" in message or "internal error" in message:
            report.fail(mode, f"internal error in the {step}", where)
        elif message.startswith("not fixed"):
            report.fail(mode, "fix not applied (numlint said why)", where)
            refused.add(relative(record["filename"], tree))
        else:
            report.fail(mode, f"file not checked in the {step}", where)
    return refused


def summary(report: Report, totals: dict) -> str:
    out = [f"corpora: {totals['corpora']}", f"files: {totals['files']:,}, findings: {totals['findings']:,} "
           f"(check: {totals['check seconds']} s)"]
    for mode in MODES:
        figures = report.figures.get(mode, {})
        out.append(f"\n{mode} fixes ({'--fix' if mode == 'safe' else '--fix --unsafe-fixes'}):")
        for key, value in figures.items():
            out.append(f"  {key}: {value:,}" if isinstance(value, int) else f"  {key}: {value}")
        kinds = report.failures.get(mode, Counter())
        if not kinds:
            out.append("  failures: none")
        for kind, count in kinds.most_common():
            out.append(f"  {'note' if kind in NOTES else 'FAIL'} {kind}: {count}")
            for example in report.examples[mode, kind]:
                out.append(f"      {example}")
    return "\n".join(out)


def docs_section(report: Report, totals: dict, commit: str) -> str:
    rows = ["| | safe (`--fix`) | all (`--fix --unsafe-fixes`) |", "|---|---:|---:|"]
    keys = []
    for mode in MODES:
        keys += [k for k in report.figures.get(mode, {}) if k not in keys]
    for key in keys:
        cells = [report.figures.get(mode, {}).get(key, 0) for mode in MODES]
        rows.append(f"| {key} | " + " | ".join(f"{c:,}" if isinstance(c, int) else str(c) for c in cells) + " |")
    kinds = sorted({k for mode in MODES for k in report.failures.get(mode, {})})
    for kind in kinds:
        label = kind if kind in NOTES else f"**{kind}**"
        counts = " | ".join(str(report.failures.get(mode, {}).get(kind, 0)) for mode in MODES)
        rows.append(f"| {label} | {counts} |")
    if not [k for k in kinds if k not in NOTES]:
        rows.append("| failures of (a)–(d) | 0 | 0 |")
    examples = []
    for mode in MODES:
        for kind in report.failures.get(mode, {}):
            for example in report.examples[mode, kind][:3]:
                examples.append(f"- {mode}, {kind}: `{example.replace('`', chr(39))}`")
    text = [BEGIN, "", f"Last run: {time.strftime('%Y-%m-%d')} at commit {commit}, `-j 1`, on the shared 2-core machine "
            f"(other sessions running; seconds are wall time). Corpora: {totals['corpora']}: {totals['files']:,} files, "
            f"{totals['findings']:,} findings with every rule selected (check: {totals['check seconds']} s).", "",
            *rows, ""]
    if examples:
        text += ["Examples:", "", *examples, ""]
    text.append(END)
    return "\n".join(text)


def write_docs(section: str) -> None:
    text = DOCS.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append", help="a corpus folder (default: both corpora)")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--first-check", type=Path, help="reuse the first check's findings (first-check.json of a kept run)")
    parser.add_argument("--write-docs", action="store_true", help="write the figures into docs/reliability.md")
    args = parser.parse_args()
    corpora = [c.resolve() for c in (args.corpus or DEFAULT_CORPORA)]
    missing = [str(c) for c in corpora if not c.is_dir()]
    if missing:
        print(f"no corpus at {', '.join(missing)}: run benchmarks/corpus.py and benchmarks/research_corpus.py",
              file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="numlint-differential-", dir="/tmp"))
    report = Report()
    try:
        original_tree = scratch / "original"
        for corpus in corpora:
            copy_corpus(corpus, original_tree)
        targets = [c.name for c in corpora]
        if args.first_check:
            records, stderr, seconds = json.loads(args.first_check.read_text()), "", 0.0
            for record in records:  # recorded in another scratch folder
                record["filename"] = str(original_tree / record["filename"])
        else:
            records, stderr, seconds = check(original_tree, targets, args.jobs)
            saved = [dict(r, filename=relative(r["filename"], original_tree)) for r in records]
            (scratch / "first-check.json").write_text(json.dumps(saved))
        file_errors(records, original_tree, "safe", "first check", report)
        for line in stderr.splitlines():
            if line.strip():
                report.fail("safe", "stderr output of the first check", line.strip()[:200])
        totals = {"corpora": ", ".join(c.name for c in corpora), "findings": len(records),
                  "files": sum(1 for p in original_tree.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file()),
                  "check seconds": round(seconds)}
        print(f"checked {totals['files']:,} files in {seconds:.0f} s: {len(records):,} findings", flush=True)
        for mode in MODES:
            run_mode(mode, corpora, scratch, original_tree, records, args.jobs, report)
            print(f"{mode}: {dict(report.figures[mode])}", flush=True)
        text = summary(report, totals)
        print("\n" + text)
        if args.write_docs:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                    text=True).stdout.strip()
            write_docs(docs_section(report, totals, commit))
            print(f"\nwrote the figures into {DOCS}")
        failed = any(k not in NOTES for kinds in report.failures.values() for k in kinds)
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
