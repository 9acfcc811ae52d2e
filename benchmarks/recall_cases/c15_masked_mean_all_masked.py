# Source: https://github.com/verl-project/verl/pull/782 (also hiyouga/EasyR1#181): the masked mean
# of a per-token loss, sum(loss * mask) / sum(mask); a batch where every token is masked on purpose
# divides 0 by 0.
import torch


def masked_mean(values, mask, dim=None):
    return (values * mask).sum(dim=dim) / mask.sum(dim=dim)  # expect: NUM404


def policy_loss(ratio, advantages, response_mask):
    per_token = -ratio * advantages
    return masked_mean(per_token, response_mask)
