# Source: https://github.com/pytorch/pytorch/pull/131060 (and issues 41508, 103749 linked there)
# A padding mask and a causal mask together can mask every key of a query row; filled with -inf,
# that row's softmax is exp(-inf) / 0 = NaN and the NaN spreads through the attention output.
import torch


def attend(q, k, v, pad_mask, causal_mask):
    scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
    mask = pad_mask | causal_mask
    scores = scores.masked_fill(mask, float("-inf"))  # expect: NUM501
    weights = scores.softmax(dim=-1)
    return weights @ v
