#!/usr/bin/python3
"""Trains the bias-free residual denoiser and exports it to ONNX (opset 17).

The network (DEPTH 3x3 convolutions of WIDTH channels, ReLU between them,
no biases anywhere, y = x + last_conv(...)) is positively homogeneous:
f(a x) = a f(x) for a > 0, like Mohan et al.'s bias-free CNNs. Adaptive
bit depth control feeds a dark block unshifted, i.e. up to 4x brighter than
its 10-bit normalized value; a homogeneous network gives the same 10-bit
result whatever the gain, so only the noise level relative to the signal
varies with brightness. Training covers that range: each 16x16 patch of
a training image (exposed to full scale, 8-bit white at 1023) is darkened
by 2^-u (u uniform in [0, 2]), noised at the darkened level
(images.add_noise), and normalized as the adaptive path would
(x / (255 * 2^s)), in float. The loss is the squared error in 10-bit units
(a block's weight does not depend on the shift it was normalized with).
16x16 patches with zero padding are what the network sees at inference:
non-overlapping blocks, each run on its own.

The ONNX model takes x [1, 1, 16, 16] (a K-bit block / (2^K - 1)) and
returns y of the same shape and units. Training is deterministic (seeds,
one thread); it prints the float PSNR of each path on the test images.

About 2 minutes on one core (4000 steps of 64 patches).

Usage: nice -n 19 /usr/bin/python3 examples/denoise/train.py [OUTDIR]
       [--steps N] [--seed S] [--width C] [--depth L]
       (writes OUTDIR/denoiser.onnx; OUTDIR defaults to this directory)
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import images  # noqa: E402

WIDTH = 20
DEPTH = 5
B = images.BLOCK


class Denoiser(nn.Module):
    def __init__(self, width=WIDTH, depth=DEPTH):
        super().__init__()
        layers = [nn.Conv2d(1, width, 3, padding=1, bias=False), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1, bias=False),
                       nn.ReLU()]
        layers.append(nn.Conv2d(width, 1, 3, padding=1, bias=False))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        # An Add, not a Sub: lowbit lowers an add of two activations to an
        # integer lowbit.add (the last layer learns minus the noise).
        return x + self.body(x)


def make_batch(rng, clean, n):
    """n training patches: (x, target, 2^s) as float32 arrays."""
    noisy = np.empty((n, 1, B, B))
    target = np.empty((n, 1, B, B))
    for i in range(n):
        img = clean[rng.randint(len(clean))]
        r = rng.randint(img.shape[0] - B + 1)
        c = rng.randint(img.shape[1] - B + 1)
        patch = img[r:r + B, c:c + B]
        if rng.rand() < 0.5:
            patch = patch[:, ::-1]
        patch = np.rot90(patch, rng.randint(4)) * 2.0 ** -rng.uniform(0, 2)
        target[i, 0] = patch
        noisy[i, 0] = images.add_noise(patch, rng)
    s = images.shifts(noisy.astype(np.uint16), "adaptive")
    norm = (255.0 * np.exp2(s))[:, None, None, None]
    return ((noisy / norm).astype(np.float32),
            (target / norm).astype(np.float32),
            np.exp2(s)[:, None, None, None].astype(np.float32))


def run_blocks(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def float_psnrs(model, clean, noisy):
    """{path: PSNR of the float network's result} on one test image."""
    blocks = images.to_blocks(noisy)
    out = {}
    for path in images.PATHS:
        x, s = images.path_input(blocks, path)
        y10 = images.path_output(run_blocks(model, x), s, path)
        out[path] = images.psnr(clean, images.from_blocks(y10, *clean.shape))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", nargs="?", default=HERE)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=WIDTH)
    ap.add_argument("--depth", type=int, default=DEPTH)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.RandomState(args.seed)
    clean = images.train_images(exposure=1.0)
    test_clean, test_noisy = images.test_images()
    model = Denoiser(args.width, args.depth)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    t0 = time.time()
    running = 0.0
    for step in range(1, args.steps + 1):
        x, t, gain = (torch.from_numpy(a) for a in make_batch(rng, clean,
                                                               args.batch))
        # 10-bit units: a block normalized by 255 * 2^s, times 2^s * 255.
        loss = (((model(x) - t) * gain * 255.0) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running += float(loss)
        if step % 500 == 0:
            p = float_psnrs(model.eval(), test_clean, test_noisy)
            model.train()
            print("step %5d: train MSE %.2f (10-bit units^2), test PSNR "
                  "none %.2f, truncate %.2f, adaptive %.2f dB (%.0f s)"
                  % (step, running / 500, p["none"], p["truncate"],
                     p["adaptive"], time.time() - t0), flush=True)
            running = 0.0
    model.eval()
    os.makedirs(args.outdir, exist_ok=True)
    out = os.path.join(args.outdir, "denoiser.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, B, B), out, opset_version=17,
                      input_names=["x"], output_names=["y"],
                      do_constant_folding=True)
    p = float_psnrs(model, test_clean, test_noisy)
    print("trained %d steps in %.0f s; float network on the test images "
          "(%dx%d): noisy input %.2f dB, 10 bit (none) %.2f dB, truncated 8 "
          "bit %.2f dB, ABC 8 bit %.2f dB; wrote %s"
          % (args.steps, time.time() - t0, test_clean.shape[0],
             test_clean.shape[1], images.psnr(test_clean, test_noisy),
             p["none"], p["truncate"], p["adaptive"], out))


if __name__ == "__main__":
    main()
