"""Applying fixes to a file's text: in rounds, never overlapping, always re-parsing.

Each round lints the current text, applies every applicable fix whose edits do not overlap an
earlier fix's, and checks that the result still parses; a round whose result does not parse is
retried fix by fix so one bad fix cannot block the others. Rounds repeat until nothing changes
(bounded), so fixes exposed by earlier fixes are applied too and a second `--fix` changes nothing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import libcst as cst

from numlint import libcst_text
from numlint.diagnostics import SAFE, UNSAFE, Edit, FileError, Finding, Fix, Position

MAX_ROUNDS = 10


def applicable(fix: Fix, unsafe: bool) -> bool:
    return fix.applicability == SAFE or (unsafe and fix.applicability == UNSAFE)


def apply_edits(text: str, fixes: Sequence[Fix], applied_out: Optional[List[Fix]] = None) -> Tuple[str, int]:
    """Apply the fixes whose edits do not overlap those of a fix applied before; return the count
    (and, given `applied_out`, append the fixes applied to it)."""
    taken: List[Tuple[int, int]] = []
    chosen: List[Edit] = []
    applied = 0
    for fix in sorted(fixes, key=lambda f: min(e.start_offset for e in f.edits)):
        edits = [e for e in fix.edits if not _duplicate(e, chosen)]
        if any(_overlaps(e, taken) for e in edits) or _self_overlapping(edits):
            continue
        chosen.extend(edits)
        taken.extend((e.start_offset, e.end_offset) for e in edits)
        applied += 1
        if applied_out is not None:
            applied_out.append(fix)
    out = text
    for edit in sorted(chosen, key=lambda e: (e.start_offset, e.end_offset), reverse=True):
        out = out[: edit.start_offset] + edit.content + out[edit.end_offset:]
    return out, applied


def _self_overlapping(edits: List[Edit]) -> bool:
    return any(_overlaps(edit, [(e.start_offset, e.end_offset) for e in edits[:i]]) for i, edit in enumerate(edits))


def _duplicate(edit: Edit, chosen: List[Edit]) -> bool:
    # Two fixes that both add `import jax.nn` at the same place need it once.
    return any(
        e.start_offset == e.end_offset == edit.start_offset == edit.end_offset and e.content == edit.content
        for e in chosen
    )


def _overlaps(edit: Edit, taken: List[Tuple[int, int]]) -> bool:
    a_start, a_end = edit.start_offset, edit.end_offset
    for b_start, b_end in taken:
        if a_start < b_end and b_start < a_end:
            return True  # the ranges share text
        if a_start == a_end and b_start < a_start < b_end:
            return True  # an insertion inside a replaced range
        if b_start == b_end and a_start < b_start < a_end:
            return True
        if a_start == a_end == b_start == b_end:
            return True  # two insertions at one point: their order would be arbitrary
    return False


def parses(text: str) -> bool:
    return why_broken(text) is None


def why_broken(text: str) -> Optional[FileError]:
    """Why CPython's compiler or libcst refuses `text` (one line, placed), or None when both take it."""
    try:  # first: CPython's compiler is the faster
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the user's own SyntaxWarnings are not ours to print
            compile(text, "<numlint-fix>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return FileError(f"does not compile: {exc.msg}", Position(exc.lineno or 1, max(exc.offset or 1, 1)))
    except ValueError as exc:  # a NUL byte
        return FileError(f"does not compile: {exc}")
    except (RecursionError, MemoryError):
        return FileError("does not compile: too deeply nested for Python's compiler")
    try:
        cst.parse_module(libcst_text.for_libcst(text)[0])
    except cst.ParserSyntaxError as exc:
        return FileError(f"cannot be parsed by libcst: {' '.join(exc.message.split())}", Position(exc.raw_line, exc.raw_column + 1))
    except Exception as exc:
        return FileError(f"cannot be parsed by libcst: {type(exc).__name__}")
    return None


@dataclass
class FixOutcome:
    text: str
    applied: int = 0
    errors: List[FileError] = field(default_factory=list)
    checked: Optional[Tuple[List[Finding], List[FileError]]] = None  # `lint(text)`, when already known
    codes: List[str] = field(default_factory=list)  # the rule of each fix applied (`--show-fixes`)


def fix_text(
    text: str,
    lint: Callable[[str], Tuple[List[Finding], List[FileError]]],
    unsafe: bool,
) -> FixOutcome:
    """Fix `text` until stable. `lint` returns a text's findings (with their fixes).

    Only text that libcst and CPython's compiler both accept is ever returned as fixed. A fix that
    breaks a file that was fine is a numlint bug; a file Python already refuses (a NUL byte,
    `return` outside a function, syntax of a newer Python) is left as it is, said in one line,
    unless a fix is what makes it compile.
    """
    outcome = FixOutcome(text)
    rejected: set = set()
    for _ in range(MAX_ROUNDS):
        findings, lint_errors = lint(outcome.text)
        outcome.checked = (findings, lint_errors)
        fixes = [
            f.fix for f in findings
            if f.fix is not None and applicable(f.fix, unsafe) and _key(f) not in rejected
        ]
        if not fixes:
            break
        taken: List[Fix] = []
        new_text, applied = apply_edits(outcome.text, fixes, taken)
        rule_of = {id(f.fix): f.code for f in findings if f.fix is not None}
        codes = [rule_of[id(fix)] for fix in taken]
        if not parses(new_text):
            # Some fix breaks the file: take the first one that does not, reject those that do.
            broken = why_broken(outcome.text)
            new_text, applied = outcome.text, 0
            for finding in findings:
                if finding.fix is None or finding.fix not in fixes:
                    continue
                candidate, _ = apply_edits(outcome.text, [finding.fix])
                if parses(candidate):
                    new_text, applied = candidate, 1
                    codes = [finding.code]
                    break
                rejected.add(_key(finding))
                if broken is None:
                    outcome.errors.append(FileError(
                        f"the fix for {finding.code} at {finding.location.row}:{finding.location.column} "
                        "would break the file and was not applied; this is a numlint bug, please report it",
                        finding.location,
                        finding.code,
                    ))
            if broken is not None and applied == 0:
                outcome.errors.append(FileError(f"not fixed: the file {broken.message}", broken.location))
        if applied == 0 or new_text == outcome.text:
            break
        outcome.text = new_text
        outcome.checked = None
        outcome.applied += applied
        outcome.codes.extend(codes)
    return outcome


def _key(finding: Finding) -> Tuple[str, str]:
    return finding.code, finding.fix.edits[0].content if finding.fix else ""
