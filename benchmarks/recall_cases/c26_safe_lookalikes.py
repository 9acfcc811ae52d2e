# Safe look-alikes next to the bugs above (each guard visible in the code), for precision.
# Sources: the fixes of the same reports (verl#782, TextAttack#804, pytorch#131060, trl#7224).
import torch


def masked_mean(values, mask):
    return (values * mask).sum() / mask.sum().clamp(min=1)  # safe: NUM404


def angle(a, b):
    cos = torch.nn.functional.cosine_similarity(a, b, dim=-1)
    return torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))  # safe: NUM405


def causal_attention(scores):
    n = scores.shape[-1]
    causal = torch.ones(n, n, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(causal, float("-inf"))  # safe: NUM501
    return scores.softmax(dim=-1)


def entropy(logits):
    p = torch.softmax(logits, dim=-1)
    return -torch.special.xlogy(p, p).sum(-1)  # safe: NUM401
