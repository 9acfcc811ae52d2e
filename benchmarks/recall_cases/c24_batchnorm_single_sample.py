# Source: https://github.com/pytorch/pytorch/issues/1381 (also torch/nn#1271, digantamisra98/EvoNorm#4):
# normalising by the unbiased standard deviation of a batch that has one sample: std of one value is
# NaN (n - 1 = 0), and a constant batch divides by 0.
import torch


def normalize_batch(x):
    mean = x.mean(dim=0, keepdim=True)
    std = x.std(dim=0, keepdim=True)
    return (x - mean) / std  # expect: NUM404
