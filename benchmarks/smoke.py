#!/usr/bin/env python3
"""Corpus smoke test for "never crash, never corrupt": check and fix every file of the corpus.

    python benchmarks/corpus.py      # once: downloads the pinned packages
    python benchmarks/smoke.py       # about 12 minutes on 2 cores

Copies the pinned corpus (benchmarks/corpus.py) to a temporary folder and runs the real CLI on it:

1. `numlint check` (every rule, `--select ALL`): the findings, and which had a fix;
2. `numlint check --fix --unsafe-fixes`: writes every fix;
3. `numlint check` again: a finding that had a safe or unsafe fix before must be gone;
4. `numlint check --fix --unsafe-fixes` again: must change no file (fixing is idempotent).

It fails (exit 1) on any internal error (`rule ... failed`, `internal error`, a fix that "would
break the file"), any stderr output or unexpected exit code, any changed file that does not
compile or lost its encoding, BOM or newline style, any fixable finding left after the fix, and
any change made by the second fix. Not a pytest test: it takes minutes. docs/reliability.md has
the last figures.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from corpus import corpus_files, default_dest  # noqa: E402
from numlint import source  # noqa: E402

INTERNAL = ("please report it", "internal error", "error: rule", "failed (")


def run(args: List[str], cwd: Path) -> Tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "numlint", *args], cwd=cwd, capture_output=True, text=True,
        env=dict(os.environ, NO_COLOR="1"),
    )
    return result, time.perf_counter() - started


def check_json(tree: Path, select: List[str], fix: bool = False) -> Tuple[list, subprocess.CompletedProcess, float]:
    args = ["check", ".", "--output-format", "json", "--no-cache", "--exit-zero", *select]
    if fix:
        args += ["--fix", "--unsafe-fixes"]
    result, seconds = run(args, tree)
    try:
        records = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        records = []
    return records, result, seconds


def snapshot(tree: Path) -> Dict[str, str]:
    return {
        str(p.relative_to(tree)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in tree.rglob("*.py") if p.is_file() and not p.is_symlink()
    }


def relpath(filename: str, tree: Path) -> str:
    try:
        return str(Path(filename).resolve().relative_to(tree.resolve()))
    except ValueError:
        return filename


def fixable(record: dict) -> bool:
    return record["code"] is not None and record["fix"] is not None and record["fix"]["applicability"] in ("safe", "unsafe")


def newline_style(text: str) -> Optional[str]:
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    counts = {"\r\n": crlf, "\r": cr, "\n": lf}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=default_dest())
    parser.add_argument("--default-rules", action="store_true", help="only the default rule set (default: --select ALL)")
    parser.add_argument("--keep", action="store_true", help="keep the fixed copy and print where it is")
    args = parser.parse_args()

    files = corpus_files(args.corpus)
    if not files:
        print(f"smoke: error: no corpus at {args.corpus}; run benchmarks/corpus.py first", file=sys.stderr)
        return 2
    select = [] if args.default_rules else ["--select", "ALL"]
    workdir = Path(tempfile.mkdtemp(prefix="numlint-smoke-"))
    tree = workdir / "corpus"
    problems: List[str] = []
    try:
        for path in files:
            target = tree / path.relative_to(args.corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        print(f"corpus: {len(files)} files, {lines} lines, copied to {tree}")
        originals = {str(p.relative_to(args.corpus)): p.read_bytes() for p in files}

        def step(name: str, records: list, result: subprocess.CompletedProcess, seconds: float) -> None:
            internal = [r for r in records if r["code"] is None and any(s in r["message"] for s in INTERNAL)]
            errors = [r for r in records if r["code"] is None]
            findings = [r for r in records if r["code"] is not None]
            print(f"{name}: {len(findings)} findings, {len(errors)} file errors "
                  f"({len(internal)} internal), exit {result.returncode}, {seconds:.0f} s")
            for record in errors:
                print(f"  {relpath(record['filename'], tree)}:{record['location']['row']}: error: {record['message']}")
            for record in internal:
                problems.append(f"{name}: internal error: {relpath(record['filename'], tree)}:"
                                f"{record['location']['row']}: {record['message']}")
            if result.returncode not in (0,):  # --exit-zero: only an internal error gives 2
                problems.append(f"{name}: exit code {result.returncode}")
            if result.stderr.strip():
                problems.append(f"{name}: stderr: {result.stderr.strip()[:2000]}")

        before, result, seconds = check_json(tree, select)
        step("check", before, result, seconds)
        start = snapshot(tree)

        after_fix, result, seconds = check_json(tree, select, fix=True)
        step("check --fix --unsafe-fixes", after_fix, result, seconds)
        fixed = snapshot(tree)
        changed = sorted(name for name in fixed if fixed[name] != start.get(name))
        added = sorted(set(fixed) - set(start))
        if added:
            problems.append(f"--fix left new files: {added[:10]}")
        leftovers = [p for p in tree.rglob(".numlint-*") if p.is_file()]
        if leftovers:
            problems.append(f"--fix left temporary files: {leftovers[:10]}")
        print(f"files changed by the fix: {len(changed)}")
        diff_lines = 0
        for name in changed:
            path = tree / name
            data = path.read_bytes()
            old = source.decode(originals[name])
            try:
                new = source.decode(data)
            except source.SourceError as exc:
                problems.append(f"{name}: the fixed file cannot be decoded: {exc}")
                continue
            if (new.encoding, new.bom) != (old.encoding, old.bom):
                problems.append(f"{name}: encoding/BOM changed from {old.encoding}/{old.bom} to {new.encoding}/{new.bom}")
            if newline_style(new.text) != newline_style(old.text):
                problems.append(f"{name}: newline style changed")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    compile(data, name, "exec", dont_inherit=True)
                except (SyntaxError, ValueError) as exc:
                    problems.append(f"{name}: the fixed file does not compile: {exc}")
            diff_lines += sum(
                1 for line in difflib.unified_diff(old.text.splitlines(), new.text.splitlines(), lineterm="", n=0)
                if line[:1] in "+-" and not line.startswith(("+++", "---"))
            )
        print(f"diff lines (+/-) written by the fix: {diff_lines}")

        after, result, seconds = check_json(tree, select)
        step("re-check", after, result, seconds)

        again, result, seconds = check_json(tree, select, fix=True)
        step("second --fix", again, result, seconds)
        second = snapshot(tree)
        rechanged = sorted(name for name in second if second[name] != fixed.get(name))
        print(f"files changed by the second fix: {len(rechanged)}")
        for name in rechanged:
            problems.append(f"{name}: changed again by a second --fix")

        # Per rule: findings before (and how many had a safe/unsafe fix), findings after.
        had_fix = Counter(r["code"] for r in before if fixable(r))
        total_before = Counter(r["code"] for r in before if r["code"])
        total_after = Counter(r["code"] for r in after if r["code"])
        fixable_after = Counter(r["code"] for r in after if fixable(r))
        print()
        print("| rule | findings before | with a fix | findings after | fixable after |")
        print("|---|---:|---:|---:|---:|")
        for code in sorted(set(total_before) | set(total_after)):
            print(f"| {code} | {total_before[code]} | {had_fix[code]} | {total_after[code]} | {fixable_after[code]} |")
        print(f"| all | {sum(total_before.values())} | {sum(had_fix.values())} | "
              f"{sum(total_after.values())} | {sum(fixable_after.values())} |")
        for record in after:
            if fixable(record):
                problems.append(f"fixable finding left after --fix: {relpath(record['filename'], tree)}:"
                                f"{record['location']['row']}: {record['code']}")
        print()
        if problems:
            print(f"FAILED: {len(problems)} problem(s)")
            for problem in problems:
                print(f"  {problem}")
        else:
            print("OK: no internal error, every fixed file compiles, nothing fixable left, second fix changed nothing")
        return 1 if problems else 0
    finally:
        if args.keep:
            print(f"kept: {tree}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
