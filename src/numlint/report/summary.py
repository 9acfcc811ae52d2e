"""The lines that close a run in the human formats (full, concise, grouped, `--statistics`):
what was found, what was fixed, what `--fix` would fix, and how many files were checked.

    Found 3 findings in 1 file (12 files checked).
    [*] 2 fixable with `numlint check --fix`.
    1 more fixable with `--fix --unsafe-fixes`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Mapping, Sequence

from numlint.diagnostics import SAFE, UNSAFE, FileResult, Finding


@dataclass(frozen=True)
class RunFacts:
    """What the summary needs besides the results."""

    files_checked: int
    fixing: bool = False  # --fix (or --fix-only) wrote or would write fixes
    unsafe: bool = False  # unsafe fixes are offered (--unsafe-fixes, or `unsafe-fixes = true`)
    unsafe_flag: bool = False  # ... and that came from the command line
    fix_only: bool = False


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def offered(finding: Finding, unsafe: bool) -> bool:
    """Would `--fix` apply this finding's fix (with `unsafe`: `--fix --unsafe-fixes`)?"""
    fix = finding.fix
    return fix is not None and (fix.applicability == SAFE or (unsafe and fix.applicability == UNSAFE))


def lines(results: Sequence[FileResult], facts: RunFacts) -> List[str]:
    findings = [f for r in results for f in r.findings]
    errors = sum(len(r.errors) for r in results)
    applied = sum(r.fixes_applied for r in results)
    checked = f"({plural(facts.files_checked, 'file')} checked)"
    out: List[str] = []
    if facts.fix_only:
        out.append(f"Fixed {plural(applied, 'finding')} {checked}." if applied else f"Nothing to fix {checked}.")
        if errors:
            out.append(f"{plural(errors, 'file error')}.")
        return out
    if findings:
        files = sum(1 for r in results if r.findings)
        out.append(f"Found {plural(len(findings), 'finding')} in {plural(files, 'file')} {checked}.")
    if applied:
        out.append(f"Fixed {plural(applied, 'finding')}" + ("." if out or errors else f" {checked}."))
    safe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == SAFE)
    unsafe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == UNSAFE)
    if facts.unsafe and safe + unsafe:
        command = "numlint check --fix --unsafe-fixes" if facts.unsafe_flag else "numlint check --fix"
        among = f" ({unsafe} of them unsafe)" if unsafe else ""
        out.append(f"[*] {safe + unsafe} fixable with `{command}`{among}.")
    else:
        if safe:
            out.append(f"[*] {safe} fixable with `numlint check --fix`.")
        if unsafe:
            out.append(f"{unsafe} more fixable with `--fix --unsafe-fixes`.")
    if errors:
        out.append(f"{plural(errors, 'file error')}" + (f" {checked}." if not out else "."))
    if not out:
        out.append(f"All checks passed! {checked}")
    return out


def fixes_lines(results: Sequence[FileResult], names: Mapping[str, str]) -> List[str]:
    """`--show-fixes`: what was fixed, per file and rule (as ruff's `--show-fixes`)."""
    fixed = [(r.path, Counter(dict(r.fixed_codes))) for r in results if r.fixes_applied]
    if not fixed:
        return []
    total = sum(r.fixes_applied for r in results)
    out = ["", f"Fixed {plural(total, 'finding')}:"]
    for path, counts in fixed:
        out.append(f"- {path}:")
        width = max(len(str(n)) for n in counts.values()) if counts else 1
        for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"    {count:>{width}} × {code} ({names.get(code, '')})")
    return out


def statistics(results: Sequence[FileResult], names: Mapping[str, str], unsafe: bool) -> List[Dict[str, object]]:
    """Findings per rule, most frequent first: code, name, count, and how many `--fix` would fix."""
    counts: Dict[str, int] = {}
    fixable: Dict[str, int] = {}
    for result in results:
        for finding in result.findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
            if offered(finding, unsafe):
                fixable[finding.code] = fixable.get(finding.code, 0) + 1
    return [
        {"code": code, "name": names.get(code, ""), "count": count, "fixable": fixable.get(code, 0) > 0,
         "fixable_count": fixable.get(code, 0)}
        for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def statistics_lines(rows: Sequence[Dict[str, object]]) -> List[str]:
    width = max((len(str(row["count"])) for row in rows), default=1)
    code_width = max((len(str(row["code"])) for row in rows), default=1)
    return [f"{row['count']:>{width}}\t{row['code']:<{code_width}}\t{'[*]' if row['fixable'] else '[ ]'} {row['name']}"
            for row in rows]
