#!/usr/bin/python3
"""10-bit RAW-like noisy images from skimage.data, blocks and the ABC paths.

Data (deterministic, no downloads: the images ship with Debian's skimage):
  clean10 = round(((img / 255) ** 2.2) * 1023 * EXPOSURE): a gamma-expanded
  8-bit photograph (linear light, as a sensor sees it, so much of it is
  dark), exposed with half a stop of highlight headroom (EXPOSURE = 2^-0.5:
  8-bit white lands at 723), as cameras expose to keep highlights (the
  paper's HDR+ raw bursts are underexposed by design).
  noisy10 = clip(round(clean10 + n), 0, 1023), n ~ N(0, a * clean10 + b) with
  a = 0.1, b = 1 (shot noise of a 10 e-/DN sensor plus 1 DN read noise),
  seeded.

  train_images(exposure) -> list of float64 clean10 images (not rounded)
  test_images(exposure)  -> (clean10, noisy10), uint16 [128, 256]: 128x128
                        crops of `camera` and `astronaut` (downsampled 2x)
                        side by side
  calibration_blocks(n, exposure) -> uint16 [n, 1, 16, 16] noisy blocks of
                        the training images (never the test images)

Blocks and the three input paths (N = 10 bit data, K = 8 bit network input):
  to_blocks(img) / from_blocks(blocks, H, W)   non-overlapping BxB blocks
  shifts(blocks, path) -> s per block: none 0 (and K = N), truncate N - K,
                        adaptive max(0, bitlen(block max) - K)
  path_input(blocks, path) -> (x float32 in [0, 1], s): x = (x10 >> s) /
                        (2^K - 1), or x10 / 1023 for path none
  path_output(y, s, path[, mid]) -> uint16 10-bit:
                        clip(round(y * (2^K - 1) * 2^s [+ (2^s - 1) / 2]))
  psnr(ref10, out10)  peak 1023

`images.py OUTDIR` writes test_noisy10.npy and test_clean10.npy (uint16
[128, 256]) and calib_noisy10.npy (uint16 [512, 1, 16, 16]).
"""
import os
import sys

import numpy as np

N_BITS = 10
K_BITS = 8
BLOCK = 16
PEAK = (1 << N_BITS) - 1
NOISE_A = 0.1   # shot noise: variance a * level (10-bit units)
NOISE_B = 1.0   # read noise: variance b
GAMMA = 2.2
EXPOSURE = 2 ** -0.5  # 8-bit white -> 723: half a stop of highlight headroom

# name -> downsampling factor (block mean) applied before cropping to a
# multiple of 16. Synthetic images (checkerboard, logo, ...) are left out.
TRAIN = {
    "moon": 2, "coins": 1, "page": 1, "text": 1, "brick": 2, "grass": 2,
    "gravel": 2, "coffee": 2, "chelsea": 1, "rocket": 2, "clock": 1,
    "cell": 2, "hubble_deep_field": 2, "immunohistochemistry": 2,
}
# name -> (factor, top, left) of a 128x128 crop
TEST = {"camera": (2, 48, 64), "astronaut": (2, 16, 96)}
TEST_SIZE = 128
TEST_SEED = 1234
CALIB_SEED = 99


def _gray(name):
    from skimage import color, data
    img = getattr(data, name)()
    if img.ndim == 3:
        img = color.rgb2gray(img[..., :3]) * 255.0
    return img.astype(np.float64)


def _downsample(img, f):
    if f == 1:
        return img
    h, w = img.shape[0] // f * f, img.shape[1] // f * f
    return img[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))


def to_linear10(img8, exposure=EXPOSURE):
    """8-bit gamma-encoded gray -> 10-bit linear light (float)."""
    return (np.clip(img8, 0, 255) / 255.0) ** GAMMA * PEAK * exposure


def add_noise(clean10, rng, a=NOISE_A, b=NOISE_B):
    """Signal-dependent Gaussian noise, rounded and clipped: uint16."""
    clean10 = np.asarray(clean10, np.float64)
    sigma = np.sqrt(a * np.maximum(clean10, 0) + b)
    noisy = np.round(clean10 + sigma * rng.standard_normal(clean10.shape))
    return np.clip(noisy, 0, PEAK).astype(np.uint16)


def train_images(exposure=EXPOSURE):
    out = []
    for name, f in TRAIN.items():
        img = _downsample(_gray(name), f)
        h, w = img.shape[0] // BLOCK * BLOCK, img.shape[1] // BLOCK * BLOCK
        out.append(to_linear10(img[:h, :w], exposure))
    return out


def test_images(exposure=EXPOSURE):
    crops = []
    for name, (f, top, left) in TEST.items():
        img = _downsample(_gray(name), f)
        crops.append(img[top:top + TEST_SIZE, left:left + TEST_SIZE])
    clean = np.round(to_linear10(np.concatenate(crops, axis=1), exposure))
    noisy = add_noise(clean, np.random.RandomState(TEST_SEED))
    return clean.astype(np.uint16), noisy


def to_blocks(img, b=BLOCK):
    h, w = img.shape
    assert h % b == 0 and w % b == 0, "image size must be a multiple of %d" % b
    return (img.reshape(h // b, b, w // b, b).transpose(0, 2, 1, 3)
            .reshape(-1, 1, b, b))


def from_blocks(blocks, h, w):
    b = blocks.shape[-1]
    return (blocks.reshape(h // b, w // b, b, b).transpose(0, 2, 1, 3)
            .reshape(h, w))


def calibration_blocks(n=512, exposure=EXPOSURE):
    """n noisy 10-bit blocks drawn from the training images (seeded)."""
    rng = np.random.RandomState(CALIB_SEED)
    blocks = np.concatenate([to_blocks(add_noise(np.round(c), rng))
                             for c in train_images(exposure)])
    return blocks[np.sort(rng.choice(len(blocks), n, replace=False))]


PATHS = ("none", "truncate", "adaptive")


def shifts(blocks10, path, n=N_BITS, k=K_BITS):
    """Right shift of each block: [B] int."""
    nb = len(blocks10)
    if path == "none":
        return np.zeros(nb, np.int64)
    if path == "truncate":
        return np.full(nb, n - k, np.int64)
    if path == "adaptive":
        m = blocks10.reshape(nb, -1).max(axis=1).astype(np.int64)
        bitlen = np.array([int(v).bit_length() for v in m], np.int64)
        return np.maximum(0, bitlen - k)
    raise ValueError("unknown path %r" % path)


def input_bits(path, n=N_BITS, k=K_BITS):
    return n if path == "none" else k


def path_input(blocks10, path):
    """10-bit blocks [B,1,b,b] -> (network input float32 in [0, 1], s)."""
    s = shifts(blocks10, path)
    xk = blocks10.astype(np.int64) >> s[:, None, None, None]
    x = xk / float((1 << input_bits(path)) - 1)
    return x.astype(np.float32), s


def path_output(y, s, path, mid=False):
    """Network output (same units as its input) -> uint16 10-bit blocks.

    mid=True adds (2^s - 1) / 2 before rounding: x10 >> s drops s LSBs,
    (2^s - 1) / 2 on average, which a bias-free network cannot put back."""
    s = np.asarray(s)[:, None, None, None]
    v = np.asarray(y, np.float64) * ((1 << input_bits(path)) - 1) * np.exp2(s)
    if mid:
        v = v + (np.exp2(s) - 1) / 2
    return np.clip(np.round(v), 0, PEAK).astype(np.uint16)


def psnr(ref10, out10, peak=PEAK):
    d = np.asarray(ref10, np.float64) - np.asarray(out10, np.float64)
    return 10 * np.log10(peak * peak / np.mean(d * d))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    clean, noisy = test_images()
    np.save(os.path.join(out, "test_noisy10.npy"), noisy)
    np.save(os.path.join(out, "test_clean10.npy"), clean)
    calib = calibration_blocks()
    np.save(os.path.join(out, "calib_noisy10.npy"), calib)
    s = shifts(to_blocks(noisy), "adaptive")
    print("test %dx%d (%d blocks, ABC shifts 0/1/2: %d/%d/%d), noisy PSNR "
          "%.2f dB; %d calibration blocks (max %d); wrote %s"
          % (noisy.shape + (s.size,) + tuple(np.bincount(s, minlength=3))
             + (psnr(clean, noisy), len(calib), calib.max(), out)))


if __name__ == "__main__":
    main()
