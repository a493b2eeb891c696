"""Helpers shared by the scripts that build PyTorch models for the tests.

Must be imported under Debian's /usr/bin/python3 (torch 1.13).
"""


def random_batchnorm(c, mean_range=0.5):
    """A BatchNorm2d in eval mode that is not the identity: running mean in
    [-mean_range, mean_range], variance in [0.5, 2], weight in [0.5, 1.5],
    bias in [-0.3, 0.3], drawn from torch's global generator in that order
    (so a fixed torch.manual_seed gives fixed parameters)."""
    import torch
    from torch import nn

    b = nn.BatchNorm2d(c)
    with torch.no_grad():
        b.running_mean.uniform_(-mean_range, mean_range)
        b.running_var.uniform_(0.5, 2.0)
        b.weight.uniform_(0.5, 1.5)
        b.bias.uniform_(-0.3, 0.3)
    return b
