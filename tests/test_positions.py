"""positions.py gives every node the position libcst's PositionProvider gives it, computing one
top-level statement at a time (and reusing a memo of statements it already did)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from numlint.positions import Positions, StatementMemo

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))

TRICKY = {
    "crlf": "import torch\r\n\r\ndef f(x):\r\n    return torch.exp(x)\r\n",
    "cr": "import torch\rx = torch.exp(1)\r",
    "mixed newlines": "# head\r\nimport torch\n\ndef f(x):\r\n    y = (x +\n         1)\r\n    return y\n",
    "no trailing newline": "import torch\ndef f(x):\n    return torch.log(x)",
    "header and footer comments": "# a\n\n# b\nx = 1\n\n\n# end\n    # indented end\n",
    "tabs and a string over lines": "def f():\n\ts = '''a\n\nb'''\n\treturn s\nclass A:\n\tdef g(self): return 1\n",
    "decorators and semicolons": "@d\n\n@e(1,\n  2)\ndef f(): a = 1; b = 2\nx = 1; y = [\n 2]\n",
    "only comments": "# nothing\n\n# at all\n",
    "empty": "",
    "continuation": "x = 1 + \\\n    2\nif x:\n    pass\nelse:\n    y = 3\n",
}


def _cases():
    for path in EXAMPLES:
        yield pytest.param(path.read_text(), id=path.name)
    for name, text in TRICKY.items():
        yield pytest.param(text, id=name)


@pytest.mark.parametrize("text", list(_cases()))
def test_every_node_has_libcsts_position(text):
    module = cst.parse_module(text)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(module)
    # Asked in reverse order of the statements: each lookup must find its own statement.
    for node in reversed(list(expected)):
        assert positions[node] == expected[node], node
    assert positions.code().rstrip() == module.code.rstrip()


def test_a_memo_reuses_statements_of_another_module():
    """The language server's case: the next version reuses statement nodes at other lines."""
    text = EXAMPLES[0].read_text()
    module = cst.parse_module(text)
    memo = StatementMemo()
    before = Positions(module, memo)
    first = module.body[0]
    for node in MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider):
        before[node]
    # The same statements after three new lines at the top.
    moved = module.with_changes(body=[cst.parse_statement("a = 1"), cst.parse_statement("b = 2"),
                                      cst.parse_statement("c = 3"), *module.body])
    assert moved.body[3] is first
    expected = MetadataWrapper(moved, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(moved, memo)
    for node in expected:
        assert positions[node] == expected[node]
    memo.keep_only(moved.body)
    assert positions.code() == moved.code


def test_a_node_of_another_tree_is_a_key_error():
    positions = Positions(cst.parse_module("x = 1\n"))
    with pytest.raises(KeyError):
        positions[cst.Name("x")]
