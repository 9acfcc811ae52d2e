# Source: https://github.com/huggingface/sentence-transformers/pull/4033 (also pytorch/pytorch#2421):
# Euclidean distance as sqrt(sum(square(a - b))): identical embeddings give distance 0, where the
# sqrt's derivative is infinite, and the triplet loss turns every gradient into NaN.
import torch


def euclidean(anchor, positive):
    diff = anchor - positive
    return torch.sqrt(torch.sum(diff ** 2, dim=-1))  # expect: NUM402


def triplet(anchor, positive, negative, margin=1.0):
    return torch.relu(euclidean(anchor, positive) - euclidean(anchor, negative) + margin).mean()
