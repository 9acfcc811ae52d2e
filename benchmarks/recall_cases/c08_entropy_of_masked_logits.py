# Source: https://github.com/huggingface/trl/pull/7224 (and #7263): entropy from logits as
# -sum(exp(logp) * logp); a masked token has logp = -inf and 0 * -inf = NaN. xlogy, or zeroing the
# -inf terms, gives the 0 the limit says.
import torch


def entropy_from_logits(logits, vocab_mask):
    logits = logits.masked_fill(~vocab_mask, float("-inf"))
    logps = torch.log_softmax(logits, dim=-1)
    return -(torch.exp(logps) * logps).sum(-1)  # expect: NUM401
