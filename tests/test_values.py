"""The value analysis, fact by fact: what `analysis.Analysis.value` knows of an expression, and how
values flow through statements, branches, loops, tuples, attributes, calls and layers.

Each snippet ends with `probe(<expression>)`; the test reads the facts of that expression.
"""

from __future__ import annotations

import math
import textwrap

import libcst as cst
import pytest

from numlint import flow
from numlint.analysis import Analysis
from numlint.values import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, UNKNOWN_DTYPE


def probe(code: str):
    module = cst.parse_module(textwrap.dedent(code))
    facts = flow.collect(module)
    analysis = Analysis(facts)
    calls = [site.node for site in facts.candidates
             if isinstance(site.node, cst.Call) and isinstance(site.node.func, cst.Name) and site.node.func.value == "probe"]
    assert calls, "the snippet must call probe(...)"
    return analysis.value(calls[-1].args[0].value)


def producers(value):
    return sorted({p.op for p in value.producers})


# -- producer -------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, ops", [
    pytest.param("import torch\nprobe(torch.softmax(x, -1))", ["softmax"], id="direct"),
    pytest.param("import torch\np = torch.sigmoid(x)\nprobe(p)", ["sigmoid"], id="through-a-name"),
    pytest.param("import torch\np = torch.softmax(x, -1)\np = p.gather(-1, i).squeeze(-1)\np = p[keep]\nprobe(p)",
                 ["softmax"], id="reassigned-through-gather-squeeze-indexing"),
    pytest.param("import torch\np = torch.softmax(x, -1).view(-1).contiguous().to(device).float()\nprobe(p)",
                 ["softmax"], id="reshape-move-cast"),
    pytest.param("import torch\np = torch.cat([torch.sigmoid(a), torch.sigmoid(b)], 0)\nprobe(p)", ["sigmoid"],
                 id="concatenation"),
    pytest.param("import torch\np = torch.softmax(x, -1).sum(-1)\nprobe(p)", ["sum"], id="a-reduction-is-another-op"),
    pytest.param("import torch\np = torch.softmax(x, -1).clamp(min=1e-6)\nprobe(p)", ["clamp"], id="a-clamp-is-another-op"),
    pytest.param("import numpy as np\nu = np.random.rand(3)\nprobe(u)", ["uniform"], id="random-draw"),
])
def test_producer(code, ops):
    assert producers(probe(code)) == ops


def test_producers_join_over_branches():
    value = probe("""
        import torch
        if flag:
            p = torch.softmax(x, -1)
        else:
            p = torch.sigmoid(x)
        probe(p)
    """)
    assert producers(value) == ["sigmoid", "softmax"]


# -- range and sign -------------------------------------------------------------------------------

@pytest.mark.parametrize("code, check", [
    pytest.param("import torch\nprobe(torch.softmax(x, -1))", lambda v: v.range.probability and v.underflows, id="softmax-in-0-1"),
    pytest.param("import torch\nprobe(x.norm(dim=-1))", lambda v: v.range.nonnegative and v.zero, id="norm-may-be-0"),
    pytest.param("import torch\nprobe(x.norm(dim=-1) + 1e-8)", lambda v: v.range.positive and not v.zero, id="plus-eps-is-positive"),
    pytest.param("import torch\nprobe(x.norm(dim=-1).clamp(min=1e-8))", lambda v: v.range.positive, id="clamp-min-refines"),
    pytest.param("import torch\nprobe(counts.clamp(min=1))", lambda v: v.range.at_least_one, id="clamp-min-1-at-least-1"),
    pytest.param("n = len(xs)\nprobe(max(n, 1))", lambda v: v.range.at_least_one, id="builtin-max-at-least-1"),
    pytest.param("import torch\nprobe(1 - torch.sigmoid(x))", lambda v: v.range.probability and v.underflows, id="one-minus-probability"),
    pytest.param("import torch\nprobe(-x.abs())", lambda v: v.range.nonpositive, id="minus-abs-nonpositive"),
    pytest.param("import torch\nprobe(x - x.max(dim=1, keepdim=True)[0])", lambda v: v.shift is not None and v.shift.axis == "1",
                 id="max-shifted-along-its-axis"),
    pytest.param("import torch\nprobe(torch.nn.functional.cosine_similarity(a, b))", lambda v: v.range.within(-1, 1, exactly=False)
                 and v.range.rounded, id="cosine-may-exceed-1-by-rounding"),
    pytest.param("import torch\nprobe(torch.clamp(c, -1, 1))", lambda v: v.range.within(-1, 1), id="clamped-cosine"),
    pytest.param("import torch\nprobe(torch.randn(3))", lambda v: v.nonzero, id="gaussian-almost-surely-nonzero"),
    pytest.param("import torch\nprobe(torch.rand(3))", lambda v: v.zero and v.range.lo == 0, id="uniform-can-be-exactly-0"),
    pytest.param("import torch\nu, s, vh = torch.linalg.svd(a)\nprobe(u[:, 0])", lambda v: v.unit_norm, id="svd-vectors-unit-norm"),
    pytest.param("import torch\nu, s, vh = torch.linalg.svd(a)\nprobe(s)", lambda v: v.range.nonnegative, id="singular-values"),
    pytest.param("import torch\nimport torch.nn.functional as F\nprobe(F.normalize(x, dim=-1))", lambda v: v.unit_norm,
                 id="normalize-unit-norm"),
    pytest.param("import torch\nprobe(c / c.sum(-1, keepdim=True))", lambda v: v.zero, id="normalised-counts-may-be-0"),
    pytest.param("import torch\nprobe(torch.exp(x) / torch.exp(x).sum(-1))", lambda v: not v.zero, id="normalised-exps-are-not"),
    pytest.param("import torch\nprobe((labels != pad).float())", lambda v: "mask" in v.tags, id="mask"),
    pytest.param("import torch\nprobe((labels != pad).float().sum(-1))", lambda v: v.zero and "count" in v.tags,
                 id="mask-count-may-be-0"),
])
def test_range_and_sign(code, check):
    assert check(probe(code))


def test_guard_only_when_every_path_guards():
    guarded = probe("import torch\nif a:\n    n = x.norm() + 1e-6\nelse:\n    n = x.norm().clamp(min=1e-6)\nprobe(n)")
    assert guarded.range.positive
    partly = probe("import torch\nif a:\n    n = x.norm() + 1e-6\nelse:\n    n = x.norm()\nprobe(n)")
    assert not partly.range.positive and partly.zero


# -- dtype ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, dtypes", [
    pytest.param("import torch\nprobe(x.half())", {FLOAT16}, id="half-method"),
    pytest.param("import torch\nprobe(x.to(torch.bfloat16))", {BFLOAT16}, id="to-dtype"),
    pytest.param("import numpy as np\nprobe(x.astype(np.float16))", {FLOAT16}, id="astype"),
    pytest.param("import tensorflow as tf\nprobe(tf.cast(x, tf.float16))", {FLOAT16}, id="tf-cast"),
    pytest.param("import torch\nprobe(torch.zeros(3, dtype=torch.float16))", {FLOAT16}, id="dtype-argument"),
    pytest.param("import numpy as np\nprobe(np.random.randn(3))", {FLOAT64}, id="numpy-default"),
    pytest.param("import torch\nprobe(torch.randn(3))", {FLOAT32}, id="torch-default"),
    pytest.param("import torch\nh = x.half()\nprobe(torch.exp(h) + 1)", {FLOAT16}, id="carried-through-ops"),
    pytest.param("import torch\nwith torch.autocast('cuda', dtype=torch.float16):\n    probe(model(x))", {FLOAT16},
                 id="autocast-region"),
    pytest.param("import torch\nprobe(x.float())", {FLOAT32}, id="float-method"),
])
def test_dtype(code, dtypes):
    assert probe(code).dtypes == dtypes


def test_dtype_unknown_when_the_code_does_not_show_it():
    assert probe("import torch\nprobe(torch.exp(x))").dtypes == {UNKNOWN_DTYPE}


# -- gradients ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, grad", [
    pytest.param("import torch\nwith torch.no_grad():\n    s = x.std()\nprobe(s)", False, id="no-grad-region"),
    pytest.param("import torch\n@torch.no_grad()\ndef f(x):\n    probe(x.std())", False, id="no-grad-decorator"),
    pytest.param("import torch\nprobe(x.std().detach())", False, id="detach"),
    pytest.param("import jax\nimport jax.numpy as jnp\nprobe(jax.lax.stop_gradient(jnp.sqrt(x)))", False, id="stop-gradient"),
    pytest.param("import numpy as np\nprobe(np.sqrt(x))", False, id="numpy-has-no-autograd"),
    pytest.param("import torch\nw = torch.nn.Parameter(torch.randn(3))\nprobe(w.norm())", True, id="a-parameter"),
    pytest.param("""
        import torch
        class F(torch.autograd.Function):
            @staticmethod
            def backward(ctx, g):
                probe(g.sqrt())
    """, False, id="custom-backward"),
    pytest.param("import torch\nprobe(x.sqrt())", None, id="unknown"),
])
def test_gradient(code, grad):
    assert probe(code).grad is grad


# -- flow -----------------------------------------------------------------------------------------

def test_loop_to_a_fixpoint():
    value = probe("""
        import torch
        p = torch.softmax(x, -1)
        for _ in range(n):
            p = p * 0.5 + q
        probe(p)
    """)
    assert producers(value) == ["add", "softmax"]  # before the first turn, or after some


def test_try_handler_sees_every_state_of_the_body():
    value = probe("""
        import torch
        p = torch.exp(x)
        try:
            p = torch.sigmoid(x)
            p = risky(p)
        except ValueError:
            probe(p)
    """)
    assert producers(value) == ["exp", "sigmoid"]


def test_return_ends_a_path():
    value = probe("""
        import torch
        def f(x, ok):
            p = torch.softmax(x, -1)
            if ok:
                p = p.clamp(min=1e-6)
            else:
                return None
            probe(p)
    """)
    assert producers(value) == ["clamp"]


def test_tuples_packed_and_unpacked():
    value = probe("""
        import torch
        def f(x):
            probs = torch.sigmoid(x)
            return x.mean(), (probs, x)
        m, (p, _) = f(x)
        probe(p)
    """)
    assert producers(value) == ["sigmoid"]


def test_parameter_every_call_site_passes_a_probability():
    value = probe("""
        import torch
        def entropy(p):
            probe(p)
        entropy(torch.softmax(a, -1))
        entropy(torch.softmax(b, -1))
    """)
    assert producers(value) == ["softmax"]


def test_parameter_default_when_no_call_passes_it():
    assert probe("def f(x, eps=1e-8):\n    probe(eps)\nf(3)").constant == 1e-8


def test_self_attribute_joined_over_methods_and_killed_within_one():
    value = probe("""
        import torch
        class A:
            def setup(self, x):
                self.p = torch.softmax(x, -1)
                self.p = self.p.clamp(min=1e-6)
            def reset(self, x):
                self.p = torch.sigmoid(x)
            def loss(self):
                probe(self.p)
    """)
    assert producers(value) == ["clamp", "sigmoid"]


def test_sequential_built_with_a_branch_and_append():
    value = probe("""
        import torch
        import torch.nn as nn
        class D(nn.Module):
            def __init__(self, logits=False):
                super().__init__()
                layers = [nn.Linear(784, 1)]
                if not logits:
                    layers.append(nn.Sigmoid())
                self.model = nn.Sequential(*layers)
            def forward(self, x):
                return self.model(x), x.mean()
        d = D().to(device)
        d = nn.DataParallel(d)
        d.eval()
        pred, _ = d(images)
        probe(pred.squeeze(1))
    """)
    assert producers(value) == ["sigmoid"]
    (producer,) = value.producers
    assert producer.layer


def test_a_value_that_depends_on_itself_is_unknown():
    value = probe("def f(x):\n    return g(x)\ndef g(x):\n    return f(x)\nprobe(f(1))")
    assert not value.producers and not value.range.known


def test_comprehension_and_lambda_read_their_own_names():
    assert producers(probe("import torch\nps = [torch.sigmoid(v) for v in xs]\nprobe(ps[0])")) == ["sigmoid"]
    assert producers(probe("import torch\nps = [f(v) for v in xs]\nprobe(ps[0])")) == []
    assert producers(probe("import torch\nprobe((lambda z: torch.exp(z))(x))")) == ["exp"]


def test_constants_and_literals():
    value = probe("NEAR_INF = 1e9\ndef f():\n    probe(-NEAR_INF)")
    assert value.constant == -1e9 and value.literal
    assert probe("import math\nprobe(math.inf)").constant == math.inf
