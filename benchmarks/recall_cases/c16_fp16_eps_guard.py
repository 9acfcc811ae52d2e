# Source: https://github.com/lightonai/pylate/issues/239 (also pyg-team/pytorch_geometric#2106):
# min-max normalisation guarded by + 1e-8; under float16 autocast 1e-8 rounds to exactly 0, so a
# group of equal scores divides by zero and every gradient is NaN.
import torch


def normalize_scores(scores):
    with torch.autocast("cuda", dtype=torch.float16):
        scores = scores.half()
        lo = scores.min(dim=-1, keepdim=True).values
        hi = scores.max(dim=-1, keepdim=True).values
        return (scores - lo) / (hi - lo + 1e-8)  # expect: NUM502
