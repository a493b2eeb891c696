"""Helpers shared by the scripts that build PyTorch models for the tests.

Must be imported under Debian's /usr/bin/python3 (numpy, torch 1.13).
"""

import numpy as np


def structured_images(n, seed, shape):
    """Images that look more like images than white noise: per channel a sum
    of random oriented sinusoids, a few Gaussian blobs and some pixel noise,
    roughly zero mean and unit variance; `shape` is (C, H, W)."""
    rng = np.random.default_rng(seed)
    c, h, w = shape
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    out = np.zeros((n, c, h, w), np.float64)
    for i in range(n):
        for ch in range(c):
            img = np.zeros((h, w))
            for _ in range(3):
                fy, fx = rng.uniform(-6, 6, 2)
                img += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * (fy * yy + fx * xx) + rng.uniform(0, 2 * np.pi))
            for _ in range(2):
                cy, cx = rng.uniform(0, 1, 2)
                s = rng.uniform(0.05, 0.2)
                img += rng.uniform(-1.5, 1.5) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
            img += 0.2 * rng.standard_normal((h, w))
            out[i, ch] = img
    out = (out - out.mean()) / out.std()
    return out.astype(np.float32)


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
