"""Every rule's own examples are its tests, collected from `rules/` (nothing to keep in sync).

What each example must satisfy is in `numlint.ruletest`, which `numlint test-rule` runs too.
"""

from __future__ import annotations

import pytest

from numlint.ruletest import check_example
from numlint.rules import registry

RULES = registry()
ALL = list(RULES.values())


def _cases():
    for rule in ALL:
        for index, example in enumerate(rule.examples):
            kind = "bad" if example.bad else "good"
            yield pytest.param(rule, index, id=f"{rule.code}-{index}-{kind}-{example.framework}")


@pytest.mark.parametrize("rule, index", list(_cases()))
def test_example(rule, index):
    failure = check_example(rule, index, ALL)
    assert failure is None, str(failure)


def test_codes_and_names_are_unique_and_every_rule_has_both_kinds_of_example():
    assert len({r.name for r in ALL}) == len(ALL)
    for rule in ALL:
        assert any(e.bad for e in rule.examples) and any(e.good for e in rule.examples), rule.code
        assert len({e.framework for e in rule.examples if e.bad}) >= 2, f"{rule.code}: bad examples in one framework"


def test_a_wrong_example_is_caught():
    """The checks can fail: a rule whose fixed form is wrong is reported."""
    import dataclasses

    rule = RULES["NUM101"]
    broken = dataclasses.replace(rule.examples[0], fixed=rule.examples[0].fixed.replace("dim=1", "dim=0"))
    wrong = dataclasses.replace(rule, examples=(broken,) + rule.examples[1:])
    others = [r for r in ALL if r.code != "NUM101"]
    failure = check_example(wrong, 0, others + [wrong])
    assert failure is not None and "the fix writes" in failure.problem
