"""Finding deduplication (`FileChecker._outermost`) is near-linear and keeps exactly what the
quadratic version it replaced kept (issue 11: a 24k-line file with 8k findings took 107 s).

Generated modules nest hazards in each other (same rule, superseding rules, equal spans) and reach
them through names; for each, the new dedupe and the reference below must keep the same hits in
the same order. Speed is measured by `benchmarks/dedupe.py`, not here.
"""

from __future__ import annotations

import random

import pytest

from numlint import checker
from numlint.patterns import subtree
from numlint.rules import registry

RULES = list(registry().values())


def reference(self, hits):
    """The quadratic dedupe of commit 8d96d16, verbatim in behaviour."""
    spans = {id(hit): self.span(hit.node) for hit in hits}
    reported = {(hit.rule.code, id(hit.node)) for hit in hits}
    kept = []
    for hit in hits:
        start, end = spans[id(hit)]
        nested = any(
            other is not hit
            and (other.rule.code == hit.rule.code or hit.rule.code in other.rule.supersedes)
            and spans[id(other)][0] <= start
            and end <= spans[id(other)][1]
            and (spans[id(other)] != (start, end) or hit.rule.code in other.rule.supersedes)
            for other in hits
        )
        through_reported = any(
            (code, id(sub)) in reported
            for code in (hit.rule.code, *hit.rule.supersedes)
            for _, site in hit.env.through
            for sub in subtree(site.value)
        )
        if not nested and not through_reported:
            kept.append(hit)
    return kept


LEAVES = ["x", "z", "p", "(x - m)", "x[0]", "self.w"]


def _expression(rng: random.Random, depth: int) -> str:
    if depth == 0:
        return rng.choice(LEAVES)
    inner = _expression(rng, depth - 1)
    return rng.choice([
        f"torch.log(torch.sum(torch.exp({inner}), dim=1))",
        f"torch.log(torch.softmax({inner}, dim=-1))",
        f"torch.log(torch.sigmoid({inner}))",
        f"torch.log(1 + torch.exp({inner}))",
        f"torch.log(1 + {inner})",
        f"torch.sqrt(torch.mean({inner} ** 2) - torch.mean({inner}) ** 2)",
        f"torch.exp({inner}) - 1",
        f"np.log(np.sum(np.exp({inner})))",
        f"F.nll_loss(torch.log(torch.softmax({inner}, dim=1)), y)",
        f"({inner})",
        f"{inner} + 1",
    ])


def _module(seed: int) -> str:
    rng = random.Random(seed)
    lines = ["import numpy as np", "import torch", "import torch.nn.functional as F", "", "def f(x, z, p, m, y):"]
    names = []
    for i in range(rng.randint(3, 12)):
        expression = _expression(rng, rng.randint(0, 3))
        if names and rng.random() < 0.5:  # reach an earlier value through its name
            name = rng.choice(names)
            expression = expression.replace(rng.choice(["x", "z", "p"]), name, 1)
        target = f"v{i}"
        names.append(target)
        lines.append(f"    {target} = {expression}")
    lines.append(f"    return {', '.join(names)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def compare(monkeypatch):
    compared = []
    fast = checker.FileChecker._outermost

    def both(self, hits):
        kept = fast(self, hits)
        expected = reference(self, hits)
        assert [id(h) for h in kept] == [id(h) for h in expected]
        compared.append((len(hits), len(kept)))
        return kept

    monkeypatch.setattr(checker.FileChecker, "_outermost", both)
    return compared


def test_dedupe_equals_the_reference_on_generated_modules(compare):
    for seed in range(150):
        checker.check_text(_module(seed), RULES)
    hits = sum(n for n, _ in compare)
    dropped = sum(n - k for n, k in compare)
    assert len(compare) >= 140 and hits > 1000 and dropped > 100, (len(compare), hits, dropped)


def test_dedupe_equals_the_reference_on_the_rule_examples(compare):
    for rule in RULES:
        for example in rule.examples:
            for text in (example.bad, example.good, example.fixed):
                if text:
                    checker.check_text(text, RULES)
    assert compare


def test_containers_equal_spans_and_self():
    """Strict spans must be larger; loose (superseding) ones may be equal but not the hit itself."""
    c = checker._Containers([((0, 10), 0), ((2, 8), 1)], [((2, 8), 2), ((3, 5), 3)])
    assert c.holds((2, 8), 1)  # inside (0, 10)
    assert not checker._Containers([((2, 8), 1)], []).holds((2, 8), 1)  # itself, equal span
    assert checker._Containers([((2, 8), 1), ((2, 9), 4)], []).holds((2, 8), 1)  # same start, ends later
    assert checker._Containers([], [((2, 8), 2)]).holds((2, 8), 5)  # an equal superseding span
    assert not checker._Containers([], [((2, 8), 2)]).holds((2, 8), 2)  # but not the hit itself
    assert not c.holds((0, 10), 0)
