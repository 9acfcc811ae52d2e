# Source: https://github.com/yudi-mars/daisyRec/pull/15 and NVIDIA-Merlin/models#1175:
# BCEWithLogitsLoss applies the sigmoid itself; feeding it a sigmoid output squashes twice, so the
# loss never reaches 0 and the gradient is tiny. Not an overflow, but a probability passed where
# logits belong: the mirror image of NUM203.
import torch
import torch.nn.functional as F


def recommend_loss(user, item, label):
    score = (user * item).sum(-1)
    prob = torch.sigmoid(score)
    return F.binary_cross_entropy_with_logits(prob, label)  # expect: double-activation
