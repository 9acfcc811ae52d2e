"""Every rule example with a fix has a numeric proof, or a stated reason why it cannot have one.

A proof is a test of a `tests/test_numeric_fixes*.py` file (the shared one, and the
`test_numeric_fixes_<family>.py` files added with new rule families) whose parametrisation id
names the example as `test_numeric_fixes.py` does: `<rule code>-<example index>-<framework>`,
the index counting the rule's `[[examples]]` from 0 (`NUM101-0-torch`). The ids are read from
pytest's own collection of those files, so a proof counts however its file builds its
parameters, and a file that no longer collects fails here too.

An example that cannot be proven numerically goes in UNPROVABLE with its reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from numlint.rules import registry

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# "<code>-<index>-<framework>": why no numeric proof is possible. An empty reason is a failure.
_NOT_ON_CI = "; its rendering is the same op as the proven NumPy and PyTorch examples (bindings tables)"
UNPROVABLE: dict = {
    "NUM001-0-numpy": "a rule about `# noqa` comments: its fix edits a comment, no value changes",
    "NUM001-1-torch": "a rule about `# noqa` comments: its fix edits a comment, no value changes",
    "NUM001-2-torch": "a rule about `# noqa` comments: its fix edits a comment, no value changes",
    "NUM101-17-cupy": "CuPy runs only on a CUDA GPU (CI has none)" + _NOT_ON_CI,
    "NUM101-18-mlx": "MLX runs only on Apple silicon" + _NOT_ON_CI,
    "NUM102-16-paddle": "PaddlePaddle is not in the test extra (a second deep-learning framework to install)" + _NOT_ON_CI,
    "NUM102-17-theano": "Theano does not install beside NumPy 2 (unmaintained; its successors Aesara/PyTensor share the binding)" + _NOT_ON_CI,
}

# A proof's id inside its brackets: `[NUM101-0-torch]`, or one part of a longer id (`[NUM101-0-torch-float16]`).
_ID = re.compile(r"(?<![A-Za-z0-9])([A-Z]+[0-9]+)-([0-9]+)-([a-z]+)(?![a-z])")


def _examples_with_fixes():
    """'<code>-<index>-<framework>' for every example of every rule that has a bad and a fixed form."""
    out = {}
    for rule in registry().values():
        for index, example in enumerate(rule.examples):
            if example.bad and example.fixed:
                out[f"{rule.code}-{index}-{example.framework}"] = rule.path
    return out


@pytest.fixture(scope="module")
def proofs():
    """The example ids named by the collected tests of every numeric-proof file."""
    files = sorted(TESTS.glob("test_numeric_fixes*.py"))
    assert files, "no tests/test_numeric_fixes*.py file"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    assert collected.returncode == 0, f"the proof files do not collect:\n{collected.stdout[-3000:]}{collected.stderr[-2000:]}"
    named = {}
    for line in collected.stdout.splitlines():
        if "::" not in line or "[" not in line:
            continue
        test, _, params = line.partition("[")
        for match in _ID.finditer(params):
            named.setdefault("-".join(match.groups()), []).append(test)
    return named


def _missing(examples: dict, proofs: dict, unprovable: dict) -> list:
    return [f"{key} ({path})" for key, path in examples.items() if key not in proofs and key not in unprovable]


def test_every_example_with_a_fix_has_a_numeric_proof(proofs):
    missing = _missing(_examples_with_fixes(), proofs, UNPROVABLE)
    assert not missing, (
        "rule examples with a fix but no numeric proof in tests/test_numeric_fixes*.py (add a proof whose "
        "test id names `<code>-<index>-<framework>`, or an entry with its reason in UNPROVABLE):\n  "
        + "\n  ".join(missing))


def test_every_proof_names_an_existing_example(proofs):
    """A proof whose id names no example (an index shifted by an inserted example, a renamed code)
    proves nothing any more."""
    examples = _examples_with_fixes()
    stale = [f"{key}: {', '.join(sorted(set(tests)))}" for key, tests in proofs.items() if key not in examples]
    assert not stale, "proofs of examples that do not exist (or have no fix):\n  " + "\n  ".join(stale)


def _allowlist_problems(examples: dict, proofs: dict, unprovable: dict) -> list:
    problems = []
    for key, reason in unprovable.items():
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{key}: no reason given")
        if key not in examples:
            problems.append(f"{key}: no such example with a fix")
        elif key in proofs:
            problems.append(f"{key}: it has a proof now ({', '.join(sorted(set(proofs[key])))}); remove the entry")
    return problems


def test_unprovable_entries_have_reasons_and_are_needed(proofs):
    problems = _allowlist_problems(_examples_with_fixes(), proofs, UNPROVABLE)
    assert not problems, "\n".join(problems)


def test_the_checks_fail_where_they_should():
    """On made-up examples: an unproven example, an empty reason, a stale entry."""
    examples = {"NUM1-0-torch": "rules/a.toml", "NUM1-1-numpy": "rules/a.toml", "NUM2-0-jax": "rules/b.toml"}
    proofs = {"NUM1-0-torch": ["tests/test_numeric_fixes.py::test_x"]}
    assert _missing(examples, proofs, {"NUM2-0-jax": "needs a GPU"}) == ["NUM1-1-numpy (rules/a.toml)"]
    assert _missing(examples, proofs, {"NUM1-1-numpy": "r", "NUM2-0-jax": "r"}) == []
    assert _allowlist_problems(examples, proofs, {"NUM1-1-numpy": "  "}) == ["NUM1-1-numpy: no reason given"]
    assert _allowlist_problems(examples, proofs, {"NUM1-1-numpy": None}) == ["NUM1-1-numpy: no reason given"]
    assert _allowlist_problems(examples, proofs, {"NUM9-0-torch": "gone"}) == ["NUM9-0-torch: no such example with a fix"]
    assert _allowlist_problems(examples, proofs, {"NUM1-0-torch": "was hard"})[0].startswith("NUM1-0-torch: it has a proof now")


def test_the_link_reads_ids_as_the_proofs_write_them():
    """The id pattern, on the forms a parametrised proof's id takes."""
    def ids(text):
        return ["-".join(m.groups()) for m in _ID.finditer(text)]

    assert ids("[rule0-NUM101-0-torch]") == ["NUM101-0-torch"]
    assert ids("[NUM101-12-numpy-float16]") == ["NUM101-12-numpy"]
    assert ids("[NUM404-3-tensorflow]") == ["NUM404-3-tensorflow"]
    assert ids("[xNUM101-0-torch]") == []  # part of a longer word, not a code
