# Source: https://github.com/bentrevett/pytorch-seq2seq/issues/191 (also facebookresearch/fairseq#3575,
# NVIDIA/apex#1105, openai/gpt-2#122): a "large negative" mask value of -1e10 does not fit float16
# (max 65504), so under half precision the fill overflows (an error, or -inf and a NaN row).
import torch


class Attention(torch.nn.Module):
    def forward(self, energy, mask):
        energy = energy.half()
        energy = energy.masked_fill(mask == 0, -1e10)  # expect: fp16-overflow
        return torch.softmax(energy, dim=-1)
