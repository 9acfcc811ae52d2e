# Source: https://github.com/pytorch/pytorch/issues/24933 (BCELossWithLogits(input) != BCELoss(Sigmoid(input))):
# binary cross-entropy written out on a sigmoid: log(1 - sigmoid(x)) is -inf once x > 17 in float32.
import torch


def bce(x, y):
    p = torch.sigmoid(x)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()  # expect: NUM103
