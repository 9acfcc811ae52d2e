# Source: https://github.com/kornia/kornia/issues/918 (also google-deepmind/optax#1267):
# (1 - p) ** gamma with 0 < gamma < 1: once the sigmoid saturates, 1 - p is exactly 0 and the
# derivative gamma * (1 - p) ** (gamma - 1) is infinite; the backward pass returns NaN.
import torch
import torch.nn.functional as F


def binary_focal_loss_with_logits(logits, target, gamma=0.5):
    probs = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    weight = torch.pow(1.0 - probs, gamma)  # expect: frac-power
    return (weight * ce).mean()
