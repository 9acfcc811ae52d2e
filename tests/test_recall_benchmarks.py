"""The recall instruments (benchmarks/mutants.py, benchmarks/recall.py) build what they claim.

Tiny and offline: a snippet in a temporary folder stands in for the corpus; numlint is not run.
"""
import ast
import importlib.util
import pathlib
import random
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mutants = _load("mutants")
recall = _load("recall")

SNIPPET = '''\
import numpy as np
import torch
import torch.nn.functional as F


class Head(torch.nn.Module):
    def forward(self, logits, target, scores):
        lp = F.log_softmax(logits, dim=-1)
        loss = F.binary_cross_entropy_with_logits(scores, target)
        return lp, loss


def normaliser(z):
    return torch.logsumexp(z, dim=1)


def spread(x):
    return np.var(x, axis=0)
'''


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "model.py").write_text(SNIPPET)
    found = mutants.scan_file(folder / "model.py", "model.py", set(mutants.OPERATORS))
    return {f.site.op: f for f in found}


def test_sites_are_found_in_each_framework(sites):
    assert {"log_softmax", "bce_with_logits", "logsumexp", "var_std"} <= set(sites)
    assert sites["var_std"].site.fw == "numpy"
    assert sites["log_softmax"].site.fw == "torch"


@pytest.mark.parametrize("distance", mutants.DISTANCES)
@pytest.mark.parametrize("op", ["log_softmax", "bce_with_logits", "logsumexp", "var_std"])
def test_every_distance_builds_valid_python_with_the_naive_form(sites, op, distance):
    m = mutants.build(sites[op], distance, random.Random(0), f"{op}-{distance}", mutants.OPERATORS[op][0])
    assert m is not None
    for text in m.files.values():
        ast.parse(text)
    lines = m.files[m.main].splitlines()
    consumer = lines[max(m.lines) - 1]
    naive = {"log_softmax": "log(", "bce_with_logits": "binary_cross_entropy(", "logsumexp": "log(",
             "var_std": " - "}[op]
    assert naive in consumer
    if distance == "module":
        assert "_nl_helpers.py" in m.files and "from ._nl_helpers import" in m.files[m.main]
    if distance == "self" and op in ("log_softmax", "bce_with_logits"):
        assert "self._nl_p" in consumer  # a method of the class: through self, set in another method


def test_stubbing_keeps_line_numbers_and_the_site():
    text = SNIPPET
    out = mutants.stub_others(text, keep_line=14)
    assert len(out.splitlines()) == len(text.splitlines())
    assert "torch.logsumexp" in out and "log_softmax" not in out
    ast.parse(out)


def test_constant_operands_are_not_mutated(tmp_path):
    (tmp_path / "grid.py").write_text("import numpy as np\n\ndef f():\n    return np.var(np.linspace(0, 1, 5))\n")
    assert mutants.scan_file(tmp_path / "grid.py", "grid.py", {"var_std"}) == []


def test_recall_cases_declare_known_categories():
    cases = sorted((BENCH / "recall_cases").glob("*.py"))
    assert len(cases) >= 20
    for f in cases:
        text = f.read_text()
        assert "Source: https://" in text.splitlines()[0] or "Sources:" in text
        ast.parse(text)
        for m in recall.EXPECT.finditer(text):
            assert recall.family(m[2])


def test_a_finding_counts_within_one_line_and_by_family():
    found = {"a.py": [(10, "NUM203", "cross-entropy-on-probabilities")]}
    assert recall.matches(found, "a.py", 11, "NUM102")
    assert not recall.matches(found, "a.py", 12, "NUM102")
    assert not recall.matches(found, "a.py", 10, "NUM404")


# The operators of the six issue-14 families that had none (docs/families.md): each stable form as
# the corpora spell it, and beside it a spelling the operator must leave alone (no hazard).
FAMILY_SNIPPET = '''\
import math

import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F
from botorch.utils.safe_math import logmeanexp


def log(t, eps=1e-20):
    return torch.log(t.clamp(min=eps))


def gumbel_noise(t):
    noise = torch.zeros_like(t).uniform_(0, 1)
    return -log(-log(noise))


def bound(log_w, candidates):
    a = torch.logsumexp(log_w, 0) - np.log(len(log_w))
    b = logmeanexp(log_w, dim=-1)
    c = log_w.logsumexp(dim=1) - math.log(candidates)
    return a, b, c


def loss(errors, x):
    d = jnp.logaddexp(errors, -errors) - jnp.log(2.0)
    e = x + F.softplus(x * -2.0) - 0.6931471805599453
    return d, e


def loglik(p, w, self_scale):
    f = torch.log(p).sum(-1)
    g = torch.exp(torch.sum(torch.log(w), dim=-1, keepdim=True))
    return f, g


def roots(x, var):
    h = torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)
    i = torch.sqrt(torch.clamp(var, min=0.0))
    j = torch.sqrt(torch.clamp(var, min=1e-6))
    return h, i, j


def confidence(probs, temperature, scores):
    k = torch.log(probs.clamp(1e-20)) + temperature * gumbel_noise(probs)
    u = torch.rand(scores.shape)
    m = (scores - torch.log(-torch.log(u + 1e-20) + 1e-20)).argmax(-1)
    return k, m


def energies(mel, A_log):
    n = mel.float().exp().sum(-1)
    o = -torch.exp(A_log.float())
    return n, o
'''

FAMILY_OPS = {"log_mean_exp": ("torch.log(torch.mean(", 2), "log_cosh": ("cosh(", 2), "log_prod": ("torch.prod(", 1),
              "signed_power": (None, 2), "log_uniform": ("torch.log(", 1), "fp16_exp": (".half()", 1)}


@pytest.fixture(scope="module")
def family_sites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("families")
    (folder / "fam.py").write_text(FAMILY_SNIPPET)
    found = mutants.scan_file(folder / "fam.py", "fam.py", set(FAMILY_OPS))
    by_op = {}
    for f in found:
        by_op.setdefault(f.site.op, []).append(f)
    return by_op


@pytest.mark.parametrize("op", sorted(FAMILY_OPS))
def test_family_operators_take_the_stable_forms_and_leave_the_safe_ones(family_sites, op):
    # what each must not take: a count that is not the axis size (c), exp(sum(log(w))) (g), a
    # floor above 0 (j), Gumbel noise only argmaxed (m), the log-parametrised A_log (o)
    assert len(family_sites.get(op, [])) == FAMILY_OPS[op][1], [f.line for f in family_sites.get(op, [])]


@pytest.mark.parametrize("distance", mutants.DISTANCES)
@pytest.mark.parametrize("op", sorted(FAMILY_OPS))
def test_family_operators_build_every_distance(family_sites, op, distance):
    for found in family_sites[op]:
        m = mutants.build(found, distance, random.Random(0), f"{op}-{distance}", mutants.OPERATORS[op][0])
        assert m is not None
        for text in m.files.values():
            ast.parse(text)
        text = "\n".join(m.files.values())
        naive = FAMILY_OPS[op][0]
        if naive:
            assert naive in text
        else:  # the guard is gone: no sign-and-abs, no floor at 0 (the other sqrt keeps its 1e-6)
            assert "torch.sign(x)" not in text or "clamp(var, min=0.0)" not in text



INLINE = {
    "log_mean_exp": ["a = torch.log(torch.mean(torch.exp(log_w), dim=0))",
                     "b = torch.log(torch.mean(torch.exp(log_w), dim=-1))"],
    "log_cosh": ["d = jnp.log(jnp.cosh(errors))", "e = torch.log(torch.cosh(x))"],
    "log_prod": ["f = torch.log(torch.prod(p, dim=-1))"],
    "signed_power": ["h = (x ** (1.0 / 3.0))", "i = torch.sqrt(var)"],
    "log_uniform": ["return -log(-torch.log(torch.zeros_like(t).uniform_(0, 1)))"],
    "fp16_exp": ["n = torch.exp(mel.half()).sum(-1)"],
}


@pytest.mark.parametrize("op", sorted(FAMILY_OPS))
def test_family_operators_write_the_naive_form_the_rule_names(family_sites, op):
    lines = []
    for found in family_sites[op]:
        m = mutants.build(found, "inline", random.Random(0), f"{op}-inline", mutants.OPERATORS[op][0])
        lines.append(m.files[m.main].splitlines()[max(m.lines) - 1].strip())
    assert lines == INLINE[op]
