"""Every rule's own examples are its tests, collected from `rules/` (nothing to keep in sync).

- a bad example produces exactly one finding, of its rule, and nothing else;
- its `fixed` form is exactly what `--fix` (with unsafe fixes where the rule's fix is unsafe)
  writes, and fixing that again changes nothing; a bad example without `fixed` offers no fix;
- a good example produces no finding of any rule.
"""

from __future__ import annotations

import pytest

from numlint.checker import check_text
from numlint.fixes import fix_text
from numlint.rules import registry

RULES = registry()
ALL = list(RULES.values())


def _cases(kind):
    for rule in ALL:
        for index, example in enumerate(rule.examples):
            if getattr(example, kind):
                label = f"{rule.code}-{index}-{example.framework}"
                yield pytest.param(rule, example, id=label)


def _text(snippet: str) -> str:
    return snippet.lstrip("\n")


@pytest.mark.parametrize("rule, example", list(_cases("bad")))
def test_bad_example_is_found(rule, example):
    findings, errors = check_text(_text(example.bad), ALL)
    assert errors == []
    assert [f.code for f in findings] == [rule.code], [f"{f.code} {f.message}" for f in findings]


@pytest.mark.parametrize("rule, example", list(_cases("bad")))
def test_bad_example_fix(rule, example):
    text = _text(example.bad)
    findings, _ = check_text(text, ALL)
    finding = findings[0]
    if example.fixed is None:
        assert finding.fix is None, finding.fix
        assert finding.help, "a finding without a fix must say what to do"
        return
    assert finding.fix is not None, finding.help
    outcome = fix_text(text, lambda t: check_text(t, ALL), unsafe=True)
    assert outcome.errors == []
    assert outcome.text == _text(example.fixed)
    assert check_text(outcome.text, ALL) == ([], [])
    again = fix_text(outcome.text, lambda t: check_text(t, ALL), unsafe=True)
    assert again.text == outcome.text and again.applied == 0


@pytest.mark.parametrize("rule, example", list(_cases("bad")))
def test_bad_example_fix_is_marked_safe_or_unsafe(rule, example):
    """Without --unsafe-fixes an unsafe fix is not applied."""
    text = _text(example.bad)
    finding = check_text(text, ALL)[0][0]
    if finding.fix is None:
        return
    outcome = fix_text(text, lambda t: check_text(t, ALL), unsafe=False)
    if finding.fix.applicability == "safe":
        assert outcome.text == _text(example.fixed)
    else:
        assert outcome.text == text


@pytest.mark.parametrize("rule, example", list(_cases("good")))
def test_good_example_is_silent(rule, example):
    assert check_text(_text(example.good), ALL) == ([], [])
