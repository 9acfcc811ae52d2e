# Source: https://github.com/Lightning-AI/torchmetrics/issues/1029 (also uber/causalml#167,
# google-deepmind/optax#1786): KL divergence as sum(p * log(p / q)); a zero in p gives 0 * log(0) = NaN
# instead of 0 (xlogy), and a where() guard still differentiates the untaken log branch.
import torch


def kl_divergence(p, q):
    return torch.sum(p * torch.log(p / q), dim=-1)  # expect: kl-zero-term
