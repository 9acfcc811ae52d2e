"""The engine on the spellings real code uses: aliases, from-imports, method chains, local names,
and the cases where looking through a name would be wrong."""

from __future__ import annotations

import textwrap

import pytest

from numlint.checker import check_text
from numlint.fixes import fix_text
from numlint.rules import registry

RULES = list(registry().values())


def findings(code: str):
    found, errors = check_text(textwrap.dedent(code), RULES)
    assert errors == []
    return found


def fixed(code: str, unsafe: bool = False) -> str:
    outcome = fix_text(textwrap.dedent(code), lambda t: check_text(t, RULES), unsafe)
    assert outcome.errors == []
    return outcome.text


@pytest.mark.parametrize(
    "code, expected",
    [
        pytest.param(
            "import torch as T\ny = T.log(T.sum(T.exp(x), 1))\n",
            "import torch as T\ny = T.logsumexp(x, 1)\n",
            id="import-torch-as-T",
        ),
        pytest.param(
            "from torch import log, exp, sum as tsum\ny = log(tsum(exp(x), 1))\n",
            "from torch import log, exp, sum as tsum\nfrom torch import logsumexp\ny = logsumexp(x, 1)\n",
            id="from-torch-import-log",
        ),
        pytest.param(
            "import numpy\ny = numpy.log(numpy.exp(x).sum(axis=0))\n",
            "import numpy\ny = numpy.logaddexp.reduce(x, axis=0)\n",
            id="plain-import-numpy-method-inside",
        ),
        pytest.param(
            "import torch\ny = (a - b).exp().sum(-1).log()\n",
            "import torch\ny = (a - b).logsumexp(-1)\n",
            id="parenthesised-receiver-stays",
        ),
        pytest.param(
            "import torch\ny = torch.log(torch.exp(a - b).sum(1))\n",
            "import torch\ny = torch.logsumexp(a - b, 1)\n",
            id="mixed-function-and-method",
        ),
        pytest.param(
            "import torch.nn.functional as F\nimport torch\ny = torch.log(torch.nn.functional.softmax(z, dim=1))\n",
            "import torch.nn.functional as F\nimport torch\ny = F.log_softmax(z, dim=1)\n",
            id="shortest-alias-for-fix",
        ),
        pytest.param(
            "import tensorflow.compat.v1 as tf\ny = tf.log(tf.nn.softmax(logits))\n",
            "import tensorflow.compat.v1 as tf\ny = tf.nn.log_softmax(logits)\n",
            id="tf-compat-v1",
        ),
        pytest.param(
            "import torch\ny = torch.log(\n    torch.sum(\n        torch.exp(scores),  # raw scores\n        dim=1,\n    )\n)\n",
            "import torch\ny = torch.logsumexp(scores, dim=1)\n",
            id="multi-line",
        ),
        pytest.param(
            "import torch\nv = torch.mean(torch.pow(x, 2), dim=0) - torch.pow(torch.mean(x, dim=0), 2)\n",
            "import torch\nv = torch.var(x, dim=0, correction=0)\n",
            id="pow-2-is-square",
        ),
        pytest.param(
            "import torch\ndef f(x):\n    m1 = x.mean(1)\n    m2 = (x * x).mean(1)\n    return torch.sqrt(m2 - m1 ** 2)\n",
            "import torch\ndef f(x):\n    return torch.std(x, 1, correction=0)\n",
            id="two-names-both-removed",
        ),
        pytest.param(
            "import torch\nimport torch.nn.functional as F\ny = torch.log(torch.sum(torch.exp(torch.log(F.softmax(x, 1))), 1))\n",
            "import torch\nimport torch.nn.functional as F\ny = torch.logsumexp(F.log_softmax(x, 1), 1)\n",
            id="nested-hazards-fixed-in-rounds",
        ),
        pytest.param(
            '"""Doc."""\nfrom __future__ import annotations\nimport jax.numpy as jnp\n\n\ndef f(x):\n    return jnp.log(jnp.sum(jnp.exp(x)))\n',
            '"""Doc."""\nfrom __future__ import annotations\nimport jax.numpy as jnp\nimport jax.nn\n\n\ndef f(x):\n    return jax.nn.logsumexp(x)\n',
            id="import-added-after-imports",
        ),
        pytest.param(
            "import torch\nfor batch in loader:\n    p = torch.softmax(model(batch), -1)\n    q = torch.log(p)\n",
            "import torch\nfor batch in loader:\n    q = torch.log_softmax(model(batch), -1)\n",
            id="call-on-the-line-before-moves",
        ),
        pytest.param(
            "import torch\np = torch.softmax(model(x), -1)\nprint(p)\nq = torch.log(p)\n",
            None,
            id="call-with-other-use-no-fix",
        ),
        pytest.param(
            "import torch\np = torch.softmax(model(x), -1)\nmodel.eval()\nq = torch.log(p)\n",
            None,
            id="call-not-adjacent-no-fix",
        ),
        pytest.param(
            "import torch\np = torch.softmax(model(x), -1)\nq = (torch.log(p))\n",
            "import torch\nq = torch.log_softmax(model(x), -1)\n",
            id="parenthesised-use-of-a-moved-call",
        ),
    ],
)
def test_fix(code, expected):
    result = fixed(code)
    if expected is None:
        assert result == code
        assert findings(code) and findings(code)[0].fix is None
    else:
        assert result == expected


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import torch\np = torch.softmax(x, 1)\np = p * mask\ny = torch.log(p)\n", id="two-assignments"),
        pytest.param("import torch\ny = self.softmax(x).log()\n", id="self-method-is-a-module"),
        pytest.param("import numpy as np\ny = np.log(np.sum(np.exp(x), axis=1, dtype=np.float64))\n", id="unknown-extra-argument"),
        pytest.param("import numpy as np\ndef log(v):\n    return v\ny = log(sum(np.exp(x)))\n", id="user-defined-log"),
        pytest.param("import torch\ny = torch.log(torch.sum(torch.exp(x - x.max(1, keepdim=True)[0]), 1))\n", id="max-subscript-shift"),
        pytest.param("import torch\nx_max = get()\ny = torch.log(torch.exp(x - x_max).sum(1))\n", id="name-says-max"),
        pytest.param("import numpy as np\ny = np.log(np.sum(np.exp([1.0, 2.0])))\n", id="constants"),
        pytest.param("y = log(sum(exp(x)))\n", id="no-numeric-import"),
        pytest.param("import torch\ny = torch.mean(x ** 2, 1) - torch.mean(x, 0) ** 2\n", id="variance-axes-differ"),
        pytest.param("import torch\ny = torch.mean(x ** 3) - torch.mean(x) ** 2\n", id="not-a-square"),
    ],
)
def test_silent(code):
    assert findings(code) == []


def test_a_global_is_followed_and_kept():
    """`global p; p = softmax(x); log(p)`: the log is fixed, the global (read elsewhere) stays."""
    code = "import torch\ndef f():\n    global p\n    p = torch.softmax(x, 1)\n    return torch.log(p)\n"
    assert fixed(code) == code.replace("torch.log(p)", "torch.log_softmax(x, 1)")


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            "import torch\nfor t in range(3):\n    if t:\n        y = torch.log(p)\n    p = torch.softmax(x, 1)\n",
            id="assigned-on-the-previous-turn-of-a-loop",
        ),
        pytest.param(
            "import torch\ndef outer(x):\n    p = torch.softmax(x, 1)\n    def inner():\n        return torch.log(p)\n    return inner\n",
            id="closure-over-the-enclosing-function",
        ),
    ],
)
def test_values_reaching_from_elsewhere_are_found_with_advice(code):
    """A value that reaches the log on some path is a hazard; the fix belongs where it is made."""
    (finding,) = findings(code)
    assert finding.code == "NUM102" and finding.fix is None and finding.help


def test_ambiguous_method_framework_gives_advice():
    code = "import numpy as np\nimport torch\nv = (x ** 2).mean() - x.mean() ** 2\n"
    (finding,) = findings(code)
    assert finding.code == "NUM301" and finding.fix is None
    assert "could be any of torch, numpy" in finding.help


def test_one_finding_per_hazard():
    """sqrt(E[x²]-E[x]²) is one std hazard, not a std and a var finding."""
    code = "import numpy as np\ns = np.sqrt(np.mean(x ** 2) - np.mean(x) ** 2)\n"
    assert [f.code for f in findings(code)] == ["NUM301"]
    code = "import numpy as np\nv = np.mean(x ** 2) - np.mean(x) ** 2\ns = np.sqrt(v)\n"
    assert [(f.code, f.location.row) for f in findings(code)] == [("NUM301", 2)]


def test_positions_are_one_based_characters():
    code = "import torch\nétiquette = torch.log(torch.softmax(x, 1))\n"
    (finding,) = findings(code)
    assert (finding.location.row, finding.location.column) == (2, 13)
    # like ruff, the end column is one past the last character
    assert (finding.end_location.row, finding.end_location.column) == (2, 43)


def test_latest_assignment_in_the_same_block_is_followed():
    """`s = s.masked_fill(...)` style rebinding: the assignment just before the use is followed."""
    code = "import torch\ns = x * 2\ns = torch.softmax(s, -1)\ny = torch.log(s)\n"
    (finding,) = findings(code)
    assert finding.code == "NUM102" and finding.fix is None  # `s` is rebound: nothing to inline
    # on the path where `flag` is false, `s` is still the softmax: a hazard, but no fix fits both paths
    branchy = "import torch\ns = torch.softmax(x, -1)\nif flag:\n    s = s * mask\ny = torch.log(s)\n"
    (finding,) = findings(branchy)
    assert finding.code == "NUM102" and finding.fix is None and "several places" in finding.help
