"""A linear-chain CRF in PyTorch: the forward algorithm and a token classifier loss.

Runs fine on small random weights; once the emission scores grow past ~88 during training, the
partition function overflows and the loss becomes inf, then NaN.
"""

import torch
import torch.nn.functional as F


class LinearChainCRF(torch.nn.Module):
    def __init__(self, num_tags: int):
        super().__init__()
        self.transitions = torch.nn.Parameter(torch.randn(num_tags, num_tags) * 0.1)

    def log_partition(self, emissions: torch.Tensor) -> torch.Tensor:
        """log Z for each sequence: emissions is (batch, seq_len, num_tags)."""
        alpha = emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            scores = alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1)
            alpha = torch.log(torch.sum(torch.exp(scores), dim=1))
        return alpha.exp().sum(-1).log()

    def stable_log_partition(self, emissions: torch.Tensor) -> torch.Tensor:
        # Written with the max-shift trick: numlint stays silent here.
        alpha = emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            scores = alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1)
            m = scores.max(dim=1, keepdim=True).values
            alpha = (m + torch.log(torch.sum(torch.exp(scores - m), dim=1, keepdim=True))).squeeze(1)
        return torch.logsumexp(alpha, dim=-1)


def token_nll(logits: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
    probs = F.softmax(logits, dim=-1)
    log_probs = torch.log(probs)
    return -log_probs.gather(-1, tags.unsqueeze(-1)).mean()
