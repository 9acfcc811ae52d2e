"""The framework binding tables agree with each other, checked when they load: a rendering row that
names a method the framework's METHODS lacks was a `KeyError` at check time (`rule NUM503 failed
(KeyError: 'isnan')`), now it is an error naming the framework and the row before any file is read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from numlint import bindings
from numlint.bindings import BindingError, Render, check_tables, load_framework


def _framework(**tables):
    module = SimpleNamespace(FRAMEWORK="toy", MODULES=("toy",), FUNCTIONS={"toy.log": ("log", "x")},
                             METHODS={"log": ("log", "")}, RENDER={"log": [Render(function="toy.log", method="log")]})
    for name, value in tables.items():
        setattr(module, name, value)
    return load_framework(module)


def test_the_shipped_tables_agree():
    check_tables(bindings.FRAMEWORKS)


def test_every_render_row_of_the_shipped_tables_resolves():
    for framework in bindings.FRAMEWORKS.values():
        for op, rows in framework.render.items():
            for row in rows:
                if row.method:
                    assert framework.methods[row.method].op == op
                if row.function:
                    assert bindings.FUNCTIONS[row.function].op == op


@pytest.mark.parametrize("tables, message", [
    pytest.param({"RENDER": {"isnan": [Render(function="toy.log", method="isnan")]}},
                 "toy: RENDER['isnan'][0] renders 'isnan' with function 'toy.log', which is bound to 'log'", id="wrong-op"),
    pytest.param({"RENDER": {"log": [Render(method="isnan")]}},
                 "toy: RENDER['log'][0] names method 'isnan', which toy's METHODS lacks", id="missing-method"),
    pytest.param({"RENDER": {"log": [Render(function="toy.nope")]}},
                 "toy: RENDER['log'][0] names function 'toy.nope', which no FUNCTIONS has", id="missing-function"),
    pytest.param({"RENDER": {"log": [Render(module="toy.Log")]}},
                 "toy: RENDER['log'][0] names module class 'toy.Log', which no MODULE_CLASSES has", id="missing-module"),
    pytest.param({"RENDER": {"log": [Render()]}}, "toy: RENDER['log'][0] names no function", id="empty-row"),
    pytest.param({"RENDER": {"log": Render(function="toy.log")}}, "toy: RENDER['log'] must be a list", id="not-a-list"),
])
def test_a_bad_table_is_rejected_naming_framework_and_row(tables, message):
    framework = _framework(**tables)
    with pytest.raises(BindingError) as caught:
        check_tables({**bindings.FRAMEWORKS, "toy": framework})
    assert str(caught.value).startswith(message)


def test_a_malformed_row_is_rejected_naming_it():
    with pytest.raises(BindingError, match=r"toy: METHODS\['log'\] must be"):
        _framework(METHODS={"log": ("log",)})
