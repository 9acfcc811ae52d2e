"""Blanking idle functions (prefilter.py) must give libcst a text it reproduces exactly.

The checker refuses a file whose libcst tree does not give back the text it parsed (its
positions could not be trusted). Blanking must never be what causes that: a file whose last
function is idle and is followed by comment lines was refused with "libcst does not reproduce it"
once it had a finding, because the blanked function became `def name(): pass` plus whitespace-only
lines, and libcst drops such lines (and a blank line before an indented comment) at the end of a
module.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import libcst as cst
import pytest

from numlint import prefilter
from numlint.checker import check_text
from numlint.rules import OPERATOR_WORDS, registry

RULES = list(registry().values())
HAZARD = "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"

IDLE = [
    "def idle():\n    return 1\n",
    "def idle(a,\n         b):\n    c = a + b\n\n    return c\n",
    "@decorator\ndef idle():\n    '''doc'''\n    return 1\n",
    "def idle(): return 1\n",
    "class Idle:\n    def method(self):\n        return 1\n",
    "class Holder:\n    def forward(self, x):\n        return torch.exp(x)\n\n    def idle(self):\n        return 1\n",
    "def idle():\n\treturn 1\n",
]
TAILS = [
    "# trailing comment\n# another\n",
    "    # an indented comment\n",
    "\n    # after a blank line\n",
    "\n\n\n# after blank lines\n",
    "        # deeper\n    # less deep\n",
    "\n",
    "",
    "# no newline at the end",
]


def _texts():
    for idle, tail in itertools.product(IDLE, TAILS):
        text = HAZARD + "\n\n" + idle + tail
        # libcst 1.9 itself drops a blank row before an indented comment that ends a module after a
        # one-line block (`def f(): return 1`, or a tab-indented body): not the blanking's doing.
        if cst.parse_module(text).code == text:
            yield text


@pytest.mark.parametrize("text", list(_texts()))
def test_blanked_text_round_trips_through_libcst(text):
    reduced = prefilter.reduce(text, RULES)
    assert reduced != text, "the idle function must be blanked"
    assert len(prefilter._LINE.findall(reduced)) == len(prefilter._LINE.findall(text))  # rows kept
    compile(reduced, "<blanked>", "exec")
    assert cst.parse_module(reduced).code == reduced


@pytest.mark.parametrize("text", list(_texts()))
def test_idle_last_function_with_trailing_comments_is_checked(text):
    findings, errors = check_text(text, RULES)
    assert errors == []
    assert [(f.code, f.location.row) for f in findings] == [("NUM101", 2)]


def test_blanking_keeps_cr_and_lf_rows_apart():
    """An emptied LF row after a CR row would read as one CRLF: every later row would move."""
    text = "import torch\rdef idle():\r    a = 1\n    return a\n" + HAZARD.split("\n", 1)[1] + "# end\n"
    reduced = prefilter.reduce(text, RULES)
    assert reduced != text
    assert len(prefilter._LINE.findall(reduced)) == len(prefilter._LINE.findall(text))
    assert cst.parse_module(reduced).code == reduced


def test_cli_fixes_a_file_whose_idle_last_function_is_followed_by_comments(tmp_path):
    text = HAZARD + "\n\ndef idle():\n    return 1\n    # a comment kept after the body\n"
    (tmp_path / "m.py").write_text(text)
    result = subprocess.run([sys.executable, "-m", "numlint", "check", "--fix", "--no-cache", "m.py",
                             "--output-format", "concise"], cwd=tmp_path, capture_output=True, text=True,
                            env=dict(os.environ, NO_COLOR="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "libcst does not reproduce" not in result.stdout
    assert (tmp_path / "m.py").read_text() == text.replace(
        "torch.log(torch.sum(torch.exp(x), dim=1))", "torch.logsumexp(x, dim=1)")


def test_operator_only_patterns_keep_the_units_that_write_their_operator():
    # NUM408's `$x ** $p` and NUM404's `$i / ($a + $b - $i)` have no trigger names: they used to
    # turn blanking (and skipping) off for every file. Their operators' text is their trigger now.
    words = set(OPERATOR_WORDS.values())
    operator_only = [r for r in RULES if any(p.triggers and all(t & words for t in p.triggers) for p in r.patterns)]
    assert operator_only, "the test needs a rule written with operators only"
    text = ("import torch\n\n\ndef idle():\n    return 1\n\n\n"
            "def iou(inter, a, b):\n    return inter / (a + b - inter)\n\n\n"
            "def root(x, p):\n    return (x - 1) ** p\n")
    reduced = prefilter.reduce(text, RULES)
    assert "return 1" not in reduced
    assert "inter / (a + b - inter)" in reduced and "(x - 1) ** p" in reduced
    assert len(reduced.splitlines()) == len(text.splitlines())


def test_a_caller_that_passes_a_kept_functions_argument_is_kept():
    # `g` names no trigger, but what it passes is `f`'s parameter: blanking it lost the finding.
    text = ("import torch\n\n\ndef f(p):\n    return torch.log(p)\n\n\n"
            "def helper(z):\n    return torch.softmax(z, dim=-1)\n\n\n"
            "def g(z):\n    return f(helper(z))\n")
    assert prefilter.reduce(text, RULES) == text
    findings, errors = check_text(text, RULES)
    assert errors == [] and [(f.code, f.location.row) for f in findings] == [("NUM102", 5)]
