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
