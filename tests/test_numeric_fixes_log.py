"""Numeric proofs of the log/exp family's fixes (issue 14: NUM111-NUM119, NUM204-NUM209).

The same proofs as tests/test_numeric_fixes.py (and the same ids, `NUM204-0-torch`), run only on
this family's rules, so that file does not grow with them: ordinary inputs give the original's
value, extreme ones a finite value equal to the float64 reference where the original fails.
"""

from __future__ import annotations

import pytest

import test_numeric_fixes as proofs

def _examples():
    return list(proofs._examples("log"))


@pytest.mark.parametrize("rule, example", _examples())
def test_fix_equals_original_on_ordinary_inputs(rule, example):
    proofs.test_fix_equals_original_on_ordinary_inputs(rule, example)


@pytest.mark.parametrize("rule, example", _examples())
def test_fix_is_finite_and_correct_where_original_fails(rule, example):
    proofs.test_fix_is_finite_and_correct_where_original_fails(rule, example)


@pytest.mark.parametrize("rule, example", [p for p in _examples() if p.values[0].numeric.get("gradient")])
def test_fix_gradient_equals_original_on_ordinary_inputs(rule, example):
    proofs.test_fix_gradient_equals_original_on_ordinary_inputs(rule, example)
