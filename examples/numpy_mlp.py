"""A NumPy classifier with one hidden layer, as a first prototype often is: raw pixel-like
features, weights drawn from N(0, 1) without scaling, softmax and cross-entropy written by hand.

Run it: the first logits are in the thousands, `exp` overflows in float32, and the loss is NaN from
the first step on. Run `numlint check --fix examples/numpy_mlp.py` and run it again: the same
network, data and learning rate train to about 99% accuracy.
"""

import numpy as np


def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits, onehot):
    # log(sum_j exp(z_j)) - z_true, averaged over the batch
    log_norm = np.log(np.sum(np.exp(logits), axis=1))
    return np.mean(log_norm - np.sum(onehot * logits, axis=1))


def make_data(rng, n=600, classes=3, features=8):
    centers = rng.uniform(0.0, 255.0, size=(classes, features))  # raw pixel-like intensities
    labels = rng.integers(0, classes, size=n)
    x = (centers[labels] + rng.normal(size=(n, features)) * 25.0).astype(np.float32)
    return x, labels, np.eye(classes, dtype=np.float32)[labels]


def train(steps=300, lr=5e-5, seed=0):
    rng = np.random.default_rng(seed)
    x, labels, onehot = make_data(rng)
    w1 = rng.normal(size=(x.shape[1], 32)).astype(np.float32)
    w2 = rng.normal(size=(32, onehot.shape[1])).astype(np.float32)
    for step in range(steps):
        hidden = np.maximum(x @ w1, 0.0)
        logits = hidden @ w2
        loss = cross_entropy(logits, onehot)
        grad_logits = (softmax(logits) - onehot) / len(x)
        grad_w2 = hidden.T @ grad_logits
        grad_w1 = x.T @ ((grad_logits @ w2.T) * (hidden > 0))
        w1 -= lr * grad_w1
        w2 -= lr * grad_w2
        accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {loss:9.4f}  accuracy {accuracy:.2f}")
    return float(loss), accuracy


if __name__ == "__main__":
    with np.errstate(over="ignore", invalid="ignore"):
        train()
