# Source: https://github.com/HKUDS/SSLRec/issues/26 (also pytorch/pytorch#4517, chainer/chainer#1839):
# Gumbel noise as -log(-log(u)) with u = rand(...); rand draws from [0, 1) and can return exactly 0,
# giving -inf noise and an inf loss.
import torch


def gumbel_scores(scores, temperature):
    noise = torch.rand(scores.shape)
    gumbel = -torch.log(-torch.log(noise))  # expect: log-uniform
    return torch.softmax((scores + gumbel) / temperature, dim=-1)
