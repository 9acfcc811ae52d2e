"""Numeric proofs of the domain and division rules' fixes (issue 14: NUM302-NUM309, NUM401-NUM419).

The same proofs as `test_numeric_fixes.py`, named the same way (`{code}-{index}-{framework}`), run
on this family's rules only, so the family's cost is measured on its own.
"""

from __future__ import annotations

import pytest

import test_numeric_fixes as proofs

FAMILY = frozenset({"NUM405"} | {f"NUM{n}" for n in range(302, 310)} | {f"NUM{n}" for n in range(406, 420)})
# rules this family extended: the examples it added (from this index on)
EXTENDED = {"NUM404": 14}


def _family(params):
    out = []
    for p in params:
        code, index = p.values[0].code, int(p.id.split("-")[1])
        if code in FAMILY or (code in EXTENDED and index >= EXTENDED[code]):
            out.append(p)
    return out


_EXAMPLES = _family(list(proofs._examples()))
_GRADIENT = [p for p in _EXAMPLES if p.values[0].numeric.get("gradient")]


@pytest.mark.parametrize("rule, example", _EXAMPLES)
def test_fix_equals_original_on_ordinary_inputs(rule, example):
    proofs.test_fix_equals_original_on_ordinary_inputs(rule, example)


@pytest.mark.parametrize("rule, example", _EXAMPLES)
def test_fix_is_finite_and_correct_where_original_fails(rule, example):
    proofs.test_fix_is_finite_and_correct_where_original_fails(rule, example)


@pytest.mark.parametrize("rule, example", _GRADIENT)
def test_fix_gradient_equals_original_on_ordinary_inputs(rule, example):
    proofs.test_fix_gradient_equals_original_on_ordinary_inputs(rule, example)
