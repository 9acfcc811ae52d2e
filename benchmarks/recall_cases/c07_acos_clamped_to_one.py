# Source: https://github.com/ronghuaiyang/arcface-pytorch/issues/68: ArcFace takes acos of the
# cosine to add an angular margin; clamping the cosine to exactly [-1, 1] keeps it defined, but the
# derivative of acos is infinite at +-1, so a sample aligned with its class centre gives NaN.
import torch
import torch.nn.functional as F


def arc_margin_logits(features, weight, margin=0.5, scale=30.0):
    cosine = F.linear(F.normalize(features), F.normalize(weight))
    theta = torch.acos(cosine.clamp(-1.0, 1.0))  # expect: guard-not-guarding
    return scale * torch.cos(theta + margin)
