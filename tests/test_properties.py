"""Property-based tests: numlint never raises, never reports an internal error, and every fix it
writes parses, is stable, and lands exactly where CPython says the hazard is.

Programs come from hypothesmith (random programs from Python's grammar and from libcst's node
types) with numeric imports before them and a hazard after them, and from a strategy of our own
that composes NumPy/PyTorch ops (log, exp, sum, mean, sqrt, softmax, sigmoid, arithmetic, `** 2`)
into statements with random layout (comments, line breaks and backslashes inside brackets),
assignment forms and newline styles: that one exercises the matcher, the dataflow and the renderer
far more than random grammar does. A last property runs the programs with real NumPy and PyTorch:
wherever the original is finite, the safe fixes give the same value.

Hypothesis runs derandomized (same programs every run, no example database in the repository);
`NUMLINT_PROPERTY_EXAMPLES=2000 pytest tests/test_properties.py` explores further.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
import types
import warnings

from hypothesis import configuration

# Hypothesis keeps caches (and, on failure, patches) in ./.hypothesis: not in the repository.
configuration.set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "numlint-hypothesis"))

import hypothesmith  # noqa: E402  (after the storage folder is set: it builds strategies on import)
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from numlint.checker import check_text  # noqa: E402
from numlint.fixes import fix_text  # noqa: E402
from numlint.rules import registry  # noqa: E402

SCALE = int(os.environ.get("NUMLINT_PROPERTY_EXAMPLES", "0"))

# hypothesmith compiles what it generates; its programs call literals and assert tuples.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


def examples(n: int) -> settings:
    return settings(
        max_examples=SCALE or n,
        deadline=None,
        derandomize=not SCALE,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


RULES = list(registry().values())  # every rule, opt-in ones too
IMPORTS = "import numpy as np\nimport torch\nimport torch.nn.functional as F\n"
HAZARD_LINES = [
    "y = np.log(np.sum(np.exp(x)))",
    "y = torch.log(torch.softmax(x, dim=-1))",
    "y = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)",
    "y = np.mean(x ** 2) - np.mean(x) ** 2",
    "y = torch.log(1 + torch.exp(x))",
    "y = x.exp().sum(-1).log()",
]


def lint(text):
    return check_text(text, RULES)


def compiles(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, "<property>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def ast_spans(text: str):
    """(row, column, end row, end column) of every expression, as CPython's parser places them;
    rows 1-based, columns 0-based in characters (ast counts UTF-8 bytes)."""
    lines = _LINE_BREAK.split(text)

    def column(row, byte_offset):
        return len(lines[row - 1].encode("utf-8")[:byte_offset].decode("utf-8", "replace"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    return {
        (n.lineno, column(n.lineno, n.col_offset), n.end_lineno, column(n.end_lineno, n.end_col_offset))
        for n in ast.walk(tree) if isinstance(n, ast.expr)
    }


def assert_robust(text: str) -> int:
    """The properties every program must have; returns the number of findings."""
    findings, errors = lint(text)  # never raises
    assert not [e for e in errors if e.code], errors  # no internal error
    if not compiles(text):
        return len(findings)
    spans = ast_spans(text)
    for finding in findings:
        where = (finding.location.row, finding.location.column - 1, finding.end_location.row, finding.end_location.column - 1)
        assert where in spans, f"{finding.code} at {where} is not an expression's span in:\n{text}"
    for unsafe in (False, True):
        outcome = fix_text(text, lint, unsafe)
        assert not outcome.errors, (outcome.errors, text)
        assert compiles(outcome.text), f"fixed text does not compile:\n{outcome.text}\nfrom:\n{text}"
        again = fix_text(outcome.text, lint, unsafe)
        assert again.text == outcome.text and again.applied == 0, f"not idempotent:\n{outcome.text}\n->\n{again.text}"
    return len(findings)


def normalise_newlines(text: str) -> str:
    # CPython reads `\r` and `\r\n` as `\n` too, so this compiles exactly when `text` does.
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- random programs from the grammar -----------------------------------------------------------------


@examples(120)
@given(source=hypothesmith.from_grammar(), hazard=st.sampled_from(HAZARD_LINES))
def test_programs_from_the_grammar(source, hazard):
    text = IMPORTS + source + "\n" + hazard + "\n"
    found = assert_robust(text)
    if compiles(text):
        assert found >= 1  # the hazard appended at the end is found whatever comes before it


@examples(60)
@given(source=hypothesmith.from_node(), hazard=st.sampled_from(HAZARD_LINES))
def test_programs_from_libcst_nodes(source, hazard):
    """libcst's node types give odd layout: backslashes, CRs, semicolons, decorators, classes."""
    text = IMPORTS + source + "\n" + hazard + "\n"
    assert_robust(text)


# -- random compositions of our ops ----------------------------------------------------------------


SPELLINGS = {
    "np": {
        "log": "np.log({})", "exp": "np.exp({})", "sqrt": "np.sqrt({})", "sum": "np.sum({})",
        "sum1": "np.sum({}, axis=1)", "sumk": "np.sum({}, axis=-1, keepdims=True)", "mean": "np.mean({})",
        "mean0": "np.mean({}, axis=0)", "log1p": "np.log1p({})", "max": "np.max({}, axis=-1, keepdims=True)",
    },
    "torch": {
        "log": "torch.log({})", "exp": "torch.exp({})", "sqrt": "torch.sqrt({})", "sum": "torch.sum({})",
        "sum1": "torch.sum({}, dim=1)", "sumk": "torch.sum({}, dim=-1, keepdim=True)", "mean": "torch.mean({})",
        "mean0": "{}.mean(0)", "log1p": "torch.log1p({})", "max": "{}.max(dim=-1, keepdim=True).values",
        "softmax": "torch.softmax({}, dim=-1)", "fsoftmax": "F.softmax({}, dim=1)", "sigmoid": "torch.sigmoid({})",
        "mexp": "{}.exp()", "mlog": "{}.log()", "msum": "{}.sum(-1)", "msoftmax": "{}.softmax(-1)",
    },
}
# Chains of ops, outermost first, that spell hazards (and near misses).
CHAINS = [
    ("log", "sum", "exp"), ("log", "sum1", "exp"), ("mlog", "msum", "mexp"), ("log", "softmax"), ("mlog", "fsoftmax"),
    ("log", "sigmoid"), ("sqrt", "exp"), ("log", "exp"), ("log1p", "exp"), ("log", "msoftmax"), ("log", "mean", "exp"),
    ("sqrt", "sum"), ("log", "max", "exp"),
]
# Shapes with two holes; `{f}` is the framework module.
SHAPES = [
    "{f}.exp({a}) / {f}.sum({f}.exp({a}), {ax}=-1, {kd}=True)",
    "{f}.exp({a}) / {f}.sum({f}.exp({a}))",
    "{f}.exp({a} - {f}.max({a})) / {f}.sum({f}.exp({a} - {f}.max({a})))",
    "{f}.mean({a} ** 2) - {f}.mean({a}) ** 2",
    "{f}.mean({a} * {a}, {ax}=0) - {f}.mean({a}, {ax}=0) ** 2",
    "{f}.sqrt({f}.mean({a} ** 2) - {f}.mean({a}) ** 2)",
    "{f}.sum({a} ** 2) / {b} - ({f}.sum({a}) / {b}) ** 2",
    "{f}.log(1 + {f}.exp({a}))",
    "{f}.log(1 - {f}.exp({a}))",
    "1 / (1 + {f}.exp(-{a}))",
    "{f}.exp({a}) / (1 + {f}.exp({a}))",
    "{f}.exp({a}) - 1",
    "{f}.sqrt({f}.mean({a})) + 1e-8",
    "{f}.sqrt({f}.sum(({a} - {b}) ** 2))",
    "{f}.sqrt({a} ** 2 + {b} ** 2)",
    "{f}.log({f}.exp({a}) + {f}.exp({b}))",
    "{f}.log(1 + {a})",
    "{a} == {f}.nan",
]
LEAVES = ["x", "y", "logits", "2.0", "x[0]", "self.w", "(x - y)"]


def _atom(text: str) -> str:
    """Parenthesise `text` unless it is a name, call, attribute or subscript chain."""
    depth = 0
    for char in text:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and char in " +-*/=":
            return f"({text})"
    return f"({text})" if text[:1] == "-" else text


def _chain(framework: str, ops, inner: str):
    out = inner
    for op in reversed(ops):
        template = SPELLINGS[framework].get(op)
        if template is None:
            return None
        out = template.format(_atom(out) if template.startswith("{}") else out)
    return out


def _shape(framework: str, shape: str, a: str, b: str) -> str:
    axis, keepdims = ("axis", "keepdims") if framework == "np" else ("dim", "keepdim")
    return shape.format(f=framework, a=_atom(a), b=_atom(b), ax=axis, kd=keepdims)


def expressions(names, depth: int, frameworks=("np", "torch"), shapes=tuple(SHAPES)):
    leaves = st.sampled_from(LEAVES + list(names))
    if depth == 0:
        return leaves
    sub = expressions(names, depth - 1, frameworks, shapes)
    framework = st.sampled_from(frameworks)
    chain = st.builds(_chain, framework, st.sampled_from(CHAINS), sub).filter(lambda e: e is not None)
    single = st.builds(_chain, framework, st.sampled_from(sorted(SPELLINGS["torch"])).map(lambda op: (op,)), sub)
    shape = st.builds(_shape, framework, st.sampled_from(shapes), sub, sub)
    binary = st.builds(lambda a, op, b: f"{a} {op} {_atom(b)}", sub, st.sampled_from(["+", "-", "*", "/"]), sub)
    square = sub.map(lambda e: f"{_atom(e)} ** 2")
    return st.one_of(leaves, chain, shape, shape, single.filter(lambda e: e is not None), binary, square)


@st.composite
def layout(draw, expression: str) -> str:
    """Line breaks, comments and backslashes where Python allows them: after `(` and `,`."""
    out = []
    for char in expression:
        out.append(char)
        if char in "(,":
            kind = draw(st.integers(0, 6))
            if kind == 1:
                out.append("\n        ")
            elif kind == 2:
                out.append("  # a comment (with parentheses)\n    ")
            elif kind == 3:
                out.append(" \\\n ")
            elif kind == 4:
                out.append("  ")
            elif kind == 5:
                out.append("  # shape (\n    ")
    return "".join(out)


@st.composite
def programs(draw, frameworks=("np", "torch"), odd_layout=True, shapes=tuple(SHAPES)):
    count = draw(st.integers(1, 5))
    lines, names = [], []
    for index in range(count):
        expression = draw(expressions(names, draw(st.integers(1, 3)), frameworks, shapes))
        if odd_layout:
            expression = draw(layout(expression))
        form = draw(st.integers(0, 7)) if odd_layout else 0
        name = f"v{index}"
        if form == 1 and names:
            lines.append(f"{names[-1]} += {expression}")
        elif form == 2:
            lines.append(f"{name} = w{index} = {expression}")
        elif form == 3 and names:
            lines.append(f"{name} = {expression}; {names[0]} = {name}")
        elif form == 4:
            lines.append(f"{name}, z{index} = {expression}, 1")
        elif form == 5:
            lines.append(f"{name} = {expression}  # trailing comment")
        else:
            lines.append(f"{name} = {expression}")
        names.append(name)
    uses = draw(st.lists(st.sampled_from(names), max_size=2))
    body = lines + [f"sink({use})" for use in uses] + [f"result = {draw(st.sampled_from(names))}"]
    function = draw(st.booleans())
    if function:
        # A form feed in indentation resets the column for Python; libcst needs help with it (libcst_text.py).
        indents = st.sampled_from(["    ", "\f    ", "  \f    "] if odd_layout else ["    "])
        body = (["def f(x, y, logits):"] + [draw(indents) + line.replace("\n", "\n    ") for line in body]
                + [draw(indents) + "return result"])
    if odd_layout and draw(st.booleans()):
        # A helper that mentions no op: the prefilter blanks it out line for line.
        body = ["def helper(a):", "    b = a + 1", "", "    return b"] + body
    text = IMPORTS + "\n".join(body) + "\n"
    if odd_layout:
        newline = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
        if newline == "mixed":
            parts = text.split("\n")
            text = "".join(part + draw(st.sampled_from(["\n", "\r\n", "\r"])) for part in parts[:-1]) + parts[-1]
        else:
            text = text.replace("\n", newline)
    return text


def test_the_op_strategy_finds_hazards():
    """A guard for the strategy itself: most of its programs hold findings."""
    found = []

    @examples(60)
    @given(programs(odd_layout=False))
    def count(text):
        found.append(bool(lint(text)[0]))

    count()
    assert sum(found) > len(found) / 3, f"{sum(found)} of {len(found)} programs have a finding"


@examples(200)
@given(programs())
def test_compositions_of_ops(text):
    assert_robust(text)


# -- numeric equivalence of safe fixes ----------------------------------------------------------------


@st.composite
def runnable(draw):
    framework = draw(st.sampled_from(["np", "torch"]))
    # Floating-point values only: `x == nan` makes booleans, on which torch's fused ops (softmax,
    # softplus, logsigmoid) raise where exp/sum promoted (docs/reliability.md, known limits).
    shapes = tuple(shape for shape in SHAPES if "==" not in shape)
    return framework, draw(programs(frameworks=(framework,), odd_layout=draw(st.booleans()), shapes=shapes))


def _run(text: str, framework: str):
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    values = {name: rng.normal(size=(3, 4)) for name in ("x", "y", "logits")}
    if framework == "torch":
        values = {name: torch.tensor(value) for name, value in values.items()}
    namespace = dict(values, self=types.SimpleNamespace(w=values["y"]), sink=lambda value: None)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        exec(compile(text, "<property>", "exec"), namespace)
        result = namespace["f"](**values) if "f" in namespace else namespace["result"]
    if isinstance(result, torch.Tensor):
        result = result.detach().numpy()
    return np.asarray(result, dtype=float)


@examples(250)
@given(runnable())
def test_safe_fixes_keep_the_value(case):
    """Run the program before and after `--fix` with real NumPy / PyTorch on ordinary inputs."""
    import numpy as np

    framework, text = case
    try:
        before = _run(text, framework)
    except Exception:  # shapes that do not broadcast, ops on a float: not a program we can compare
        return
    if not np.all(np.isfinite(before)):
        return
    outcome = fix_text(text, lint, unsafe=False)
    assert not outcome.errors
    if not outcome.applied:
        return
    after = _run(outcome.text, framework)  # must not raise: no name lost, no call moved wrongly
    assert after.shape == before.shape
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-9, err_msg=f"{text}\n->\n{outcome.text}")


@pytest.mark.parametrize(
    "text",
    [
        # Comment ending in `(` right before a parenthesised hazard: the fix must keep the real `(`.
        "import torch\nv = (  # shape (\n  torch.exp(y) / torch.sum(torch.exp(y), dim=-1, keepdim=True))\n",
        "import torch\nv = (  # see (\n  torch.log(torch.sum(torch.exp(y), dim=1)))\n",
    ],
    ids=["num201", "num101"],
)
def test_comment_ending_in_a_parenthesis_before_a_parenthesised_hazard(text):
    """Found by the layout strategy above, whose comments now end in `(` too."""
    assert_robust(text)
