# Source: https://github.com/ray-project/ray/pull/65036 (and ray#14878): recovering the pre-squash
# value as atanh(clamp(action, -1 + eps, 1 - eps)) caps it near 7.25, so the log-probability of a
# saturated policy is badly wrong (and large); keeping the pre-tanh sample avoids the inverse.
import torch


def squashed_log_prob(dist, action, eps=1e-6):
    u = torch.atanh(action.clamp(-1 + eps, 1 - eps))  # expect: guard-not-guarding
    return dist.log_prob(u) - torch.log(1 - action.pow(2) + eps)  # expect: tanh-logdet
