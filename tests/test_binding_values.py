"""Binding rows that keep or make a value's facts, through the real CLI: Keras' reshape keeps a
softmax a softmax, PyTorch's in-place `uniform_` is a uniform draw."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def codes(tmp_path, code: str):
    path = tmp_path / "case.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "numlint", "check", "--no-cache", "--select", "NUM",
                             "--output-format", "json", "--exit-zero", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [(f["code"], f["location"]["row"]) for f in json.loads(result.stdout)]


def test_a_keras_reshape_keeps_the_softmax(tmp_path):
    assert codes(tmp_path, """
        import keras

        def log_probs(x):
            p = keras.ops.softmax(x)
            p = keras.ops.reshape(p, keras.ops.shape(p))
            return keras.ops.log(p)
    """) == [("NUM102", 7)]


def test_a_keras_reshape_of_a_log_softmax_is_silent(tmp_path):
    assert codes(tmp_path, """
        import keras

        def log_probs(x):
            p = keras.ops.log_softmax(x)
            return keras.ops.reshape(p, (-1,))
    """) == []


def test_torch_uniform_in_place_is_a_draw(tmp_path):
    assert codes(tmp_path, """
        import torch

        def gumbel(logits):
            u = torch.zeros_like(logits).uniform_(0, 1)
            return logits - torch.log(-torch.log(u))
    """) == [("NUM205", 6)]


def test_torch_uniform_in_place_away_from_zero_is_silent(tmp_path):
    assert codes(tmp_path, """
        import torch

        def draw(logits):
            u = torch.zeros_like(logits).uniform_(0.5, 1)
            return torch.log(u)
    """) == []
