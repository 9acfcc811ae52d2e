"""Checking a rule against its own examples: what `numlint test-rule` and the test suite run.

- a bad example produces exactly one finding, of its rule, and nothing else;
- its `fixed` form is exactly what fixing writes (unsafe fixes included), and fixing that again
  changes nothing; a bad example without `fixed` gets no fix, only advice;
- without unsafe fixes, a safe fix is still applied and an unsafe one is not;
- a good example produces no finding of any rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

from numlint.noqa import check_text  # the checker, and the `noqa` rule (NUM001)
from numlint.diagnostics import SAFE
from numlint.fixes import fix_text
from numlint.rules import Example, Rule


@dataclass(frozen=True)
class Failure:
    rule: str
    index: int  # the example's position in the rule file, from 0
    framework: str
    problem: str

    def __str__(self) -> str:
        return f"{self.rule} example {self.index} ({self.framework}): {self.problem}"


def _text(snippet: str) -> str:
    return snippet.lstrip("\n")


def check_bad(rule: Rule, example: Example, rules: Sequence[Rule]) -> Optional[str]:
    text = _text(example.bad)
    findings, errors = check_text(text, rules)
    if errors:
        return f"error: {errors[0].message}"
    codes = [f.code for f in findings]
    if codes != [rule.code]:
        return f"expected exactly one {rule.code} finding, got {codes or 'none'}"
    finding = findings[0]
    if example.fixed is None:
        if finding.fix is not None:
            return f"expected no fix (the example has no `fixed`), got: {finding.fix.message}"
        if not finding.help:
            return "a finding without a fix must say what to do (`help`)"
        return None
    if finding.fix is None:
        return f"expected a fix, got none ({finding.help})"
    lint = lambda t: check_text(t, rules)  # noqa: E731
    outcome = fix_text(text, lint, unsafe=True)
    if outcome.errors:
        return outcome.errors[0].message
    if outcome.text != _text(example.fixed):
        return f"the fix writes:\n{outcome.text}\nbut the example says:\n{_text(example.fixed)}"
    remaining = check_text(outcome.text, rules)
    if remaining != ([], []):
        return f"the fixed code still has findings: {[f.code for f in remaining[0]]}"
    if fix_text(outcome.text, lint, unsafe=True).applied:
        return "fixing the fixed code changes it again"
    safe_only = fix_text(text, lint, unsafe=False).text
    expected = outcome.text if finding.fix.applicability == SAFE else text
    if safe_only != expected:
        return f"without --unsafe-fixes a {finding.fix.applicability} fix must {'' if expected != text else 'not '}apply"
    return None


def check_good(example: Example, rules: Sequence[Rule]) -> Optional[str]:
    findings, errors = check_text(_text(example.good), rules)
    if errors:
        return f"error: {errors[0].message}"
    if findings:
        return f"expected no finding, got {[f'{f.code} at {f.location.row}:{f.location.column}' for f in findings]}"
    return None


def check_example(rule: Rule, index: int, rules: Sequence[Rule]) -> Optional[Failure]:
    example = rule.examples[index]
    problem = check_bad(rule, example, rules) if example.bad else check_good(example, rules)
    return Failure(rule.code, index, example.framework, problem) if problem else None


def check_rule(rule: Rule, rules: Sequence[Rule]) -> List[Failure]:
    """Every example of `rule`, checked with `rules` (which include it) all switched on."""
    failures = []
    for index in range(len(rule.examples)):
        failure = check_example(rule, index, rules)
        if failure is not None:
            failures.append(failure)
    return failures
