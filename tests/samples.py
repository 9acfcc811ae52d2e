"""Source texts the CLI and reporter tests share."""

import textwrap

HAZARDS = textwrap.dedent(
    """\
    import torch
    import torch.nn.functional as F


    def loss(x):
        lse = torch.log(torch.sum(torch.exp(x), dim=1))
        probs = F.softmax(x, dim=1)
        logp = torch.log(probs)
        return lse, logp
    """
)
FIXED = textwrap.dedent(
    """\
    import torch
    import torch.nn.functional as F


    def loss(x):
        lse = torch.logsumexp(x, dim=1)
        logp = F.log_softmax(x, dim=1)
        return lse, logp
    """
)
CLEAN = "import torch\n\n\ndef f(x):\n    return torch.logsumexp(x, dim=1)\n"
