# Source: https://github.com/pytorch/pytorch/issues/37154 (cdist NaN gradients): pairwise distances
# through the expansion |x|^2 + |y|^2 - 2 x.y, which rounds below 0 for nearby points; sqrt gives NaN.
import torch


def pairwise_distances(x, y):
    xx = (x * x).sum(-1, keepdim=True)
    yy = (y * y).sum(-1).unsqueeze(0)
    d2 = xx + yy - 2 * x @ y.t()
    return torch.sqrt(d2)  # expect: sqrt-cancellation
