"""Values across the modules of a project, through the real CLI: a probability made in
`model.py` is known where `train.py` imports it; the cached result of `train.py` goes stale when
`model.py` changes; and what other modules do not show stays unknown."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MODEL = """
    import torch
    import torch.nn as nn

    def predict(x, net):
        return torch.sigmoid(net(x))

    def logits(x, net):
        return net(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1))

        def forward(self, x):
            return self.body(x), x.mean()
"""

TRAIN = """
    import torch
    import torch.nn.functional as F
    from .model import predict, logits, Net
    from . import model as m

    def step(x, y, net):
        loss = F.binary_cross_entropy(predict(x, net), y)
        probs, _ = Net()(x)
        nll = -(y * torch.log(probs)).sum()
        other = F.binary_cross_entropy(m.predict(x, net), y)
        fine = F.binary_cross_entropy_with_logits(logits(x, net), y)
        return loss + nll + other + fine
"""


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def check(root: Path, *args: str) -> list:
    result = subprocess.run(
        [sys.executable, "-m", "numlint", "check", "--output-format", "json", "--exit-zero", *args, "."],
        cwd=root, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return [(Path(f["filename"]).as_posix().split("/")[-1], f["location"]["row"], f["code"], f["message"], f.get("fix"))
            for f in json.loads(result.stdout)]


def test_a_sigmoid_made_in_another_module_reaches_the_loss(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/model.py": MODEL, "pkg/train.py": TRAIN})
    found = check(tmp_path, "--no-cache")
    assert [(name, row, code) for name, row, code, _, _ in found] == [
        ("train.py", 8, "NUM203"),   # predict(x, net): the sigmoid of model.py
        ("train.py", 10, "NUM203"),  # -(y * log(probs)): the softmax at the end of Net's Sequential
        ("train.py", 11, "NUM203"),  # m.predict through `from . import model as m`
    ]
    assert all(fix is None for *_, fix in found)  # a fix never crosses files


def test_the_place_it_is_made_is_named(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/model.py": MODEL, "pkg/train.py": TRAIN})
    result = subprocess.run([sys.executable, "-m", "numlint", "check", "--no-cache", "--output-format", "full", "."],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "the sigmoid made at" in result.stdout and "model.py:6" in result.stdout


def test_scripts_side_by_side_import_each_other(tmp_path):
    write(tmp_path, {
        "model.py": "import torch\ndef probs(x):\n    return torch.softmax(x, dim=-1)\n",
        "train.py": "import torch\nfrom model import probs\nloss = -torch.log(probs(x)).mean()\n",
    })
    assert [(n, r, c) for n, r, c, _, _ in check(tmp_path, "--no-cache")] == [("train.py", 3, "NUM102")]


def test_a_module_name_two_files_could_be_is_not_guessed(tmp_path):
    train = "import torch\nfrom model import probs\nloss = -torch.log(probs(x)).mean()\n"
    write(tmp_path, {
        "a/model.py": "import torch\ndef probs(x):\n    return torch.softmax(x, dim=-1)\n",
        "b/model.py": "import torch\ndef probs(x):\n    return x\n",
        "a/train.py": train,  # run as a script: `model` is the one beside it (Python's sys.path[0])
        "c/train.py": "\n" + train,  # neither is beside it (which one depends on how it is run): row 4
    })
    assert [(row, code) for _, row, code, _, _ in check(tmp_path, "--no-cache")] == [(3, "NUM102")]


def test_a_cached_result_goes_stale_when_the_module_it_imports_changes(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/model.py": MODEL.replace("torch.sigmoid(net(x))", "net(x)"),
                     "pkg/train.py": TRAIN})
    cache = ["--cache-dir", str(tmp_path / ".numlint_cache")]
    first = check(tmp_path, *cache)
    assert [r for _, r, _, _, _ in first] == [10]  # only Net's softmax: predict returns logits
    assert check(tmp_path, *cache) == first  # warm: the same
    write(tmp_path, {"pkg/model.py": MODEL})  # predict now returns a sigmoid; train.py is unchanged
    assert [r for _, r, _, _, _ in check(tmp_path, *cache)] == [8, 10, 11]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_serial_and_parallel_runs_agree(tmp_path, jobs):
    files = {"pkg/__init__.py": "", "pkg/model.py": MODEL, "pkg/train.py": TRAIN}
    for i in range(6):  # enough files for worker processes to be used
        files[f"pkg/other{i}.py"] = "import torch\nfrom .model import predict\ny = torch.log(predict(x, n))\n"
    write(tmp_path, files)
    found = check(tmp_path, "--no-cache", "-j", jobs)
    assert sorted((n, r, c) for n, r, c, _, _ in found) == sorted(
        [("train.py", 8, "NUM203"), ("train.py", 10, "NUM203"), ("train.py", 11, "NUM203")]
        + [(f"other{i}.py", 3, "NUM103") for i in range(6)])


def test_a_summary_is_data_not_code(tmp_path):
    """A planted cache entry with a made-up summary is validated like every entry: a producer it
    claims must have the shape of one, and anything else is ignored."""
    from numlint.summaries import decode

    assert decode({"producers": [{"op": 3}], "callee": {"kind": "__import__"}, "range": ["a", None, 1, 2, 3]}).producers == ()
    value = decode({"callee": {"kind": "function", "output": {"producers": [{"op": "sigmoid", "at": "m.py:3"}]}}})
    assert value.callee.output.producers[0].elsewhere == "m.py:3"


def test_a_notebook_beside_a_module_reads_its_values(tmp_path):
    write(tmp_path, {"model.py": MODEL})
    cells = [["import torch.nn.functional as F\n", "from model import predict, logits\n"],
             ["loss = F.binary_cross_entropy(predict(x, net), y)\n"],
             ["fine = F.binary_cross_entropy_with_logits(logits(x, net), y)\n"]]
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
                          for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "train.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    assert [(name, code) for name, _, code, _, _ in check(tmp_path, "--no-cache")] == [("train.ipynb", "NUM203")]


def test_two_copies_of_a_package_each_read_their_own_module(tmp_path):
    helper = "import torch\n\ndef h(z):\n    return torch.softmax(z, dim=-1)\n"
    train = "import torch\nfrom ._helpers import h\n\ndef f(z):\n    return torch.log(h(z))\n"
    write(tmp_path, {
        "a/pkg/__init__.py": "", "a/pkg/_helpers.py": helper, "a/pkg/train.py": train,
        "b/pkg/__init__.py": "", "b/pkg/_helpers.py": "def h(z):\n    return z\n", "b/pkg/train.py": train,
        "c/lib/__init__.py": "", "c/lib/model.py": "import torch\n\ndef p(z):\n    return torch.sigmoid(z)\n",
        "tests/test_model.py": "import torch\nfrom lib.model import p\ny = torch.log(p(x))\n",
    })
    for args in (("--no-cache",), (), ()):  # cold, then cached twice
        found = sorted((Path(name).name, row, code) for name, row, code, _, _ in check(tmp_path, *args))
        # a/pkg/train.py's helper makes a softmax, b's copy does not; tests/ finds the one lib.model
        assert found == [("test_model.py", 3, "NUM103"), ("train.py", 5, "NUM102")], args
