# Source: https://github.com/pytorch/pytorch/pull/2211 (numerically stable logsigmoid):
# log(sigmoid(x)) = -log(1 + exp(-x)) overflows for x = -300 (inf), where the exact value is -300.
import torch


def log_sigmoid(x):
    return -torch.log(1 + torch.exp(-x))  # expect: NUM104
