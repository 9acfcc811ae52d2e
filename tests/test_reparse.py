"""reparse.py: a new version of a text, parsed again only where an edit touched it, is the tree a
full parse gives (node for node), and a check through it gives exactly the findings of a full
check: over random edits of real files, and over named edits at the places where libcst decides
which rows a statement owns."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import libcst as cst
import pytest

from numlint.checker import check_text
from numlint.reparse import Reparser
from numlint.rules import registry

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.py"))
RULES = list(registry().values())

# Rows an editor session inserts: code, comments at every depth, blank rows, and what breaks the
# text for a while (an open bracket or string, a stray backslash, an `else:` without its `if`).
SNIPPETS = [
    "x = 1", "    y = torch.log(torch.sum(torch.exp(y), dim=1))", "# comment", "    # indented comment",
    "        # deeper", "", "   ", "def g(z):\n    return torch.exp(z)", "@decorator", "class K:",
    "class K:\n    pass", "if x:", "    pass", "z = (1,", ")", '"""', "s = '''a", "\\", "x = 1; y = 2",
    "\tq = 1", "async def h(): pass", "try:\n    pass\nfinally:\n    pass", "x = 1  # trailing", "else:",
    "    p = torch.softmax(z, dim=-1)\n    return torch.log(p)",
]


def _edit(rows, rng):
    """One edit at a random row (mostly past the imports, where an editor's edits mostly are)."""
    at = rng.randrange(len(rows) // 4, len(rows) + 1)
    kind = rng.random()
    if kind < 0.45:
        rows[at:at] = [line + "\n" for line in rng.choice(SNIPPETS).split("\n")]
    elif kind < 0.75 and rows:
        del rows[at:at + rng.randrange(1, 4)]
    elif rows:
        at = min(at, len(rows) - 1)
        row = rows[at]
        column = rng.randrange(len(row) + 1)
        rows[at] = row[:column] + rng.choice(["(", ")", " ", "x", ":", "#", "'", "\n"]) + row[column:]
    return rows


def _full(text):
    try:
        return cst.parse_module(text)
    except Exception as exc:  # noqa: BLE001 - the reparser must raise the same
        return exc


def _versions(path: Path, steps: int, seed: int):
    """Successive versions of a file under random edits: an edit that breaks the text is one
    version, and the next edit starts again from the last version that parsed."""
    rng = random.Random(seed)
    good = path.read_text().splitlines(keepends=True)
    for _ in range(steps):
        rows = _edit(list(good), rng)
        text = "".join(rows)
        yield text
        try:
            compile(text, "<version>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError):
            continue
        good = rows


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_random_edits_give_the_full_parse(path):
    reparser = Reparser()
    reparser.parse(path.read_text())
    again = 0
    for text in _versions(path, 40, seed=len(path.name)):
        expected = _full(text)
        try:
            got = reparser.parse(text)
        except Exception as exc:  # noqa: BLE001
            got = exc
        if isinstance(expected, Exception):
            assert type(got) is type(expected), text
            continue
        assert not isinstance(got, Exception), (got, text)
        assert got.deep_equals(expected), text
        assert got.code == expected.code
        again += reparser.parsed_rows < len(text.splitlines())
    assert again >= 3, "too few versions were parsed in part: the test would prove little"


def _findings(result):
    findings, errors = result
    return [(f.code, f.location, f.end_location, f.message, f.help, f.fix) for f in findings], errors


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_random_edits_give_the_findings_of_a_full_check(path):
    """The non-negotiable part: the language server's findings are `numlint check`'s."""
    reparser = Reparser()
    check_text(path.read_text(), RULES, reuse=reparser)
    found = 0
    for text in _versions(path, 6, seed=7 * len(path.name)):
        full = _findings(check_text(text, RULES))
        assert _findings(check_text(text, RULES, reuse=reparser)) == full, text
        found += bool(full[0])
    assert found, "no version had a finding: the comparison would prove little"


# `first` holds the module's first indented block (which sets its default indentation).
TWO_FUNCTIONS = (
    "import torch\n\n\ndef first():\n    pass\n\n\ndef f(x):\n    return x\n\n\n# about g\ndef g(x):\n"
    "    return torch.exp(x)\n\n\nz = 1\n"
)
EDITS = {
    # The language server benchmark's edit: a statement typed between two functions, then removed.
    "a statement between functions": (TWO_FUNCTIONS, ("\n\n# about g\n", "\n\nw = 2\n\n# about g\n"), 5),
    "a statement removed": (TWO_FUNCTIONS.replace("\n\n# about g\n", "\n\nw = 2\n# about g\n"),
                            ("\n\nw = 2\n# about g\n", "\n\n# about g\n"), 7),
    # A comment indented under the last body now belongs to that function's block, not to `g`.
    "an indented comment after a body": (TWO_FUNCTIONS, ("    return x\n\n", "    return x\n    # more of f\n\n"), 9),
    "a blank row before an indented comment": (TWO_FUNCTIONS, ("    return x\n\n", "    return x\n\n    # f\n"), 9),
    "a simple statement becomes a block": (
        TWO_FUNCTIONS.replace("\n\n# about g", "\n\nw = 2\n    # c\n# about g"), ("w = 2\n", "if w:\n    pass\n"), 12),
    "the last statement": (TWO_FUNCTIONS, ("z = 1\n", "z = torch.log(torch.sum(torch.exp(z), dim=1))\n"), 3),
    "comments at the end": (TWO_FUNCTIONS, ("z = 1\n", "z = 1\n\n# end\n    # indented end\n"), 6),
    "no newline at the end": (TWO_FUNCTIONS, ("z = 1\n", "z = 1"), 3),
    "crlf rows": (TWO_FUNCTIONS.replace("\n", "\r\n"), ("return x\r\n", "return x + 1\r\n"), 9),
    "a decorator typed before a function": (TWO_FUNCTIONS, ("def g(x):", "@torch.no_grad()\ndef g(x):"), 8),
}


@pytest.mark.parametrize("text, edit, at_most", list(EDITS.values()), ids=list(EDITS))
def test_named_edits_give_the_full_parse(text, edit, at_most):
    old, new = edit
    assert old in text
    edited = text.replace(old, new, 1)
    reparser = Reparser()
    reparser.parse(text)
    got = reparser.parse(edited)
    assert got.deep_equals(cst.parse_module(edited))
    assert got.code == edited
    assert reparser.parsed_rows <= at_most, reparser.parsed_rows  # parsed in part, not whole


def test_an_edit_that_does_not_parse_is_the_full_parse_error_and_the_next_reuses_the_last_good():
    reparser = Reparser()
    reparser.parse(TWO_FUNCTIONS)
    broken = TWO_FUNCTIONS.replace("    return x\n", '    return """x\n')
    with pytest.raises(cst.ParserSyntaxError):
        reparser.parse(broken)
    fixed = TWO_FUNCTIONS.replace("    return x\n", "    return x + 1\n")
    assert reparser.parse(fixed).deep_equals(cst.parse_module(fixed))
    assert reparser.parsed_rows < len(fixed.splitlines())


def test_an_edit_before_the_first_block_is_parsed_whole():
    """The first indented block sets the module's default indentation: not reused across it."""
    reparser = Reparser()
    reparser.parse(TWO_FUNCTIONS)
    edited = TWO_FUNCTIONS.replace("def first():\n    pass", "def first():\n  pass")
    got = reparser.parse(edited)
    assert got.deep_equals(cst.parse_module(edited)) and got.default_indent == "  "
    assert reparser.parsed_rows == len(edited.splitlines())
