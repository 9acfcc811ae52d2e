"""Values that travel the way they do in research code: through `self.attr` set in one method and
read in another, through the return value of a function or method of the module, through a
model instance's forward pass, and out of layers whose output is known (the end of a Sequential,
`activation="softmax"`). And the cases where following them would be wrong."""

from __future__ import annotations

import textwrap

import pytest

from numlint.checker import check_text
from numlint.fixes import fix_text
from numlint.rules import registry

RULES = list(registry().values())


def found(code: str):
    findings, errors = check_text(textwrap.dedent(code), RULES)
    assert errors == []
    return [(f.code, f.location.row) for f in findings]


def only(code: str):
    """The one finding in `code`, as (code, row, fix or None, help)."""
    findings, errors = check_text(textwrap.dedent(code), RULES)
    assert errors == [] and len(findings) == 1, findings
    finding = findings[0]
    return finding.code, finding.location.row, finding.fix, finding.help


TF1_MODEL_FUNCTION = """
    import tensorflow as tf

    def model(x):
        h = tf.nn.relu(tf.matmul(x, W1) + b1)
        return tf.nn.softmax(tf.matmul(h, W2) + b2)

    y_conv = model(x)
    cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))
"""


def test_tf1_softmax_returned_by_a_module_function():
    code, row, fix, help_text = only(TF1_MODEL_FUNCTION)
    assert (code, row) == ("NUM203", 9)
    # the logits are in the other function: no fix here, and the help says where to look
    assert fix is None and "line 6" in help_text and "`model(x)`" in help_text


def test_softmax_in_forward_reaches_the_loss_through_the_instance():
    assert found("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(10, 3)

            def forward(self, x):
                return F.softmax(self.fc(x), dim=1)

        net = Net()
        out = net(data)
        loss = F.nll_loss(torch.log(out), target)
    """) == [("NUM203", 16)]


def test_attribute_set_in_one_method_and_logged_in_another():
    code, row, fix, _ = only("""
        import torch

        class Attention:
            def scores(self, q, k):
                self.p = torch.softmax(q @ k.T, dim=-1)

            def entropy(self):
                return -(self.p * torch.log(self.p)).sum(-1)
    """)
    assert (code, row, fix) == ("NUM203", 9, None)


def test_method_return_value():
    assert found("""
        import torch

        class Head:
            def probs(self, h):
                return torch.sigmoid(h @ self.w)

            def loss(self, h, y):
                p = self.probs(h)
                return torch.nn.functional.binary_cross_entropy(p, y)
    """) == [("NUM203", 10)]


def test_module_attribute_built_in_init_and_called_in_forward():
    assert found("""
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.classifier = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.Softmax(dim=1))
                self.criterion = nn.NLLLoss()

            def forward(self, x, t):
                probs = self.classifier(x)
                return self.criterion(torch.log(probs), t)
    """) == [("NUM203", 13)]


def test_instance_held_in_an_attribute():
    assert found("""
        import torch
        import torch.nn as nn

        class Scorer(nn.Module):
            def forward(self, x):
                return torch.softmax(x, dim=-1)

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.scorer = Scorer()

            def forward(self, x):
                return torch.log(self.scorer(x))
    """) == [("NUM102", 15)]


def test_keras_sequential_ending_in_a_softmax_layer():
    code, row, fix, help_text = only("""
        import tensorflow as tf
        from tensorflow import keras

        model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
        probs = model(x)
        loss = -tf.reduce_mean(tf.reduce_sum(y * tf.math.log(probs), axis=-1))
    """)
    assert (code, row, fix) == ("NUM203", 7, None)
    assert "last layer" in help_text


@pytest.mark.parametrize("activation", ['"softmax"', "tf.nn.softmax", "keras.activations.softmax"])
def test_keras_dense_with_a_softmax_activation(activation):
    assert found(f"""
        import tensorflow as tf
        from tensorflow import keras

        out = keras.layers.Dense(10, activation={activation})(h)
        loss = keras.losses.categorical_crossentropy(y, out)
    """) == [("NUM203", 6)]


def test_activation_layer_keeps_its_input_and_is_fixed():
    code = textwrap.dedent("""
        import tensorflow as tf
        from tensorflow.keras import layers

        p = layers.Activation("softmax")(z)
        logp = tf.math.log(p)
    """)
    outcome = fix_text(code, lambda t: check_text(t, RULES), False)
    assert outcome.errors == []
    assert "logp = tf.nn.log_softmax(z)" in outcome.text


@pytest.mark.parametrize(
    "code",
    [
                pytest.param("""
            import torch

            class A:
                def setup(self, x):
                    self.p = torch.softmax(x, dim=-1)
                    self.p += 1e-6

                def loss(self):
                    return torch.log(self.p)
        """, id="attribute-augmented"),
                        pytest.param("""
            import torch

            def model(x):
                return torch.softmax(x, dim=-1)

            def model(x):
                return x

            y = torch.log(model(x))
        """, id="function-redefined"),
        pytest.param("""
            import torch

            def model(x):
                return torch.softmax(x, dim=-1)

            def train(model, x):
                return torch.log(model(x))
        """, id="parameter-shadows-the-function"),
        pytest.param("""
            import torch
            import torch.nn as nn

            head = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1), nn.Linear(3, 3))
            y = torch.log(head(x))
        """, id="sequential-not-ending-in-a-softmax"),
        pytest.param("""
            import tensorflow as tf
            from tensorflow import keras

            out = keras.layers.Dense(10, activation="relu")(h)
            y = tf.math.log(out)
        """, id="dense-relu"),
        pytest.param("""
            import torch

            class A:
                def probs(self, x):
                    return torch.softmax(x, dim=-1)

            class B:
                def loss(self, x):
                    return torch.log(self.probs(x))
        """, id="method-of-another-class"),
    ],
)
def test_silent(code):
    assert found(code) == []


@pytest.mark.parametrize(
    "code, row",
    [
        pytest.param("""
            import torch

            class A:
                def setup(self, x):
                    self.p = torch.softmax(x, dim=-1)

                def smooth(self):
                    self.p = self.p * 0.9 + 0.01

                def loss(self):
                    return torch.log(self.p)
        """, 12, id="attribute-smoothed-in-a-method-that-may-not-run"),
        pytest.param("""
            import torch

            class A:
                def loss(self, x):
                    a = torch.log(self.p)
                    self.p = torch.softmax(x, dim=-1)
                    return a
        """, 6, id="attribute-set-by-the-previous-call"),
        pytest.param("""
            import torch

            def probs(x, logits=False):
                if logits:
                    return x
                return torch.softmax(x, dim=-1)

            y = torch.log(probs(x))
        """, 9, id="one-of-two-returns"),
    ],
)
def test_some_path_brings_the_hazard(code, row):
    """Joined where paths meet: a hazard when some path brings the value (advice: the fix belongs
    where it is made)."""
    code_, row_, fix, help_text = only(code)
    assert (code_, row_) == ("NUM102", row) and fix is None and help_text


def test_fix_never_reaches_into_another_function():
    """`log(softmax(h))` with `h` local to the other function: writing `log_softmax(h)` here would
    name a variable that does not exist."""
    code = textwrap.dedent("""
        import torch

        def scores(q, k):
            h = q @ k.T
            return torch.softmax(h, dim=-1)

        out = torch.log(scores(q, k))
    """)
    outcome = fix_text(code, lambda t: check_text(t, RULES), True)
    assert outcome.text == code


# -- sums built with `+=` ---------------------------------------------------------------------------

def test_a_sum_accumulated_in_a_loop_is_a_sum_of_its_terms():
    code, row, fix, help_text = only("""
        import numpy as np

        def combine(log_values):
            r = 0.0
            for x in log_values:
                r += np.exp(x)
            return np.log(r)
    """)
    assert (code, row, fix) == ("NUM101", 8, None) and "line 7" in help_text


def test_running_sums_set_in_one_method_and_read_in_another():
    assert found("""
        import math

        class Stats:
            def __init__(self):
                self.n = 0
                self.s = 0.0
                self.s2 = 0.0

            def add(self, x):
                self.n += 1
                self.s += x
                self.s2 += x * x

            def var(self):
                m = self.s / self.n
                return self.s2 / self.n - m * m
    """) == [("NUM301", 17)]


@pytest.mark.parametrize("body", [
    "r = 0.0\nr += np.exp(a)\ny = np.log(r)\n",  # one term, no loop: a log of an exp
    "r = 0.0\nfor x in xs:\n    r += np.exp(x)\n    r *= 0.5\ny = np.log(r)\n",  # not only additions
    "r = 1.0\nfor x in xs:\n    r += np.exp(x)\ny = np.log(r)\n",  # starts from 1, not 0
    "r = 0.0\nfor x in xs:\n    r += np.exp(x - m)\ny = m + np.log(r)\n",  # max-shifted terms
])
def test_what_is_not_a_plain_sum_of_exps_is_silent(body):
    assert [c for c, _ in found("import numpy as np\nm = max(xs)\n" + body) if c == "NUM101"] == []


def test_a_jax_array_keeps_its_producer_through_its_reshape_method():
    # jax arrays have NumPy's value-keeping methods: `p = p.reshape(p.shape)` between the
    # sigmoid and the log (a file importing only jax) is the same value
    assert found("""
        import jax
        import jax.numpy as jnp

        def loss(logits):
            p = jax.nn.sigmoid(logits)
            p = p.reshape(p.shape)
            return jnp.log(p)
    """) == [("NUM103", 8)]


def test_a_read_out_value_must_be_read_out_on_every_use():
    # `.data` on one read is no gradient there; another read of the same value still carries one
    code = """
        import torch

        def init(self, z):
            s_init = -torch.log(z.std(dim=0, keepdim=True) + 1e-6)
            self.s.data = s_init.data
            {extra}
    """
    rules = [r for r in RULES if r.code == "NUM403"]
    quiet, _ = check_text(textwrap.dedent(code.format(extra="")), rules)
    loud, _ = check_text(textwrap.dedent(code.format(extra="self.t = s_init.detach() + s_init")), rules)
    assert quiet == [] and [(f.code, f.location.row) for f in loud] == [("NUM403", 5)]
