"""The torch side of the model-zoo tier (test/zoo/zoo.py): torchvision
models with a fixed seed and no downloaded weights, BatchNorm statistics
measured on real images, the sample images themselves, the ONNX export and
PyTorch's own post-training quantizer (FX graph mode) as a reference.

Must be imported under Debian's /usr/bin/python3 (numpy, torch 1.13,
torchvision 0.14, python3-skimage). Nothing is downloaded: the weights are
torchvision's random initialization and the images are scikit-image's
bundled samples (skimage.data).
"""

import os

import numpy as np

# Debian's PyTorch 1.13 (its bundled oneDNN) corrupts its heap in FX's int8
# kernels when oneDNN picks AMX (Intel Sapphire Rapids and later): the
# process dies with "corrupted size vs. prev_size" on mobilenet_v2's
# reference. Capped at AVX-512 VNNI, which is what the FX figures in
# docs/TESTING.md were measured on (CPUs without AMX), the reference runs.
# oneDNN reads the cap once, before torch first uses it: set it on import,
# which every script of the zoo does before importing torch.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI")

# name -> (torchvision builder name, keyword arguments, kind). Every model is
# built with weights=None (and weights_backbone=None where there is one):
# no download.
MODELS = {
    "resnet18": ("resnet18", {}, "classification"),
    "mobilenet_v2": ("mobilenet_v2", {}, "classification"),
    "mobilenet_v3_small": ("mobilenet_v3_small", {}, "classification"),
    "squeezenet1_1": ("squeezenet1_1", {}, "classification"),
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0", {}, "classification"),
    "efficientnet_b0": ("efficientnet_b0", {}, "classification"),
    "googlenet": ("googlenet", {"aux_logits": False, "init_weights": True},
                  "classification"),
    "densenet121": ("densenet121", {}, "classification"),
    "mnasnet0_5": ("mnasnet0_5", {}, "classification"),
    "regnet_x_400mf": ("regnet_x_400mf", {}, "classification"),
    "lraspp_mobilenet_v3_large": ("lraspp_mobilenet_v3_large",
                                  {"weights_backbone": None},
                                  "segmentation"),
}

SEED = 20261129
OPSET = 13
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)

# Calibration (and BatchNorm statistics) and test images: disjoint sets of
# scikit-image's bundled samples. Grey images are repeated over the three
# channels, an RGBA image is composited on white.
CALIB_IMAGES = ["astronaut", "coffee", "chelsea", "rocket",
                "immunohistochemistry", "camera", "grass", "brick"]
TEST_IMAGES = ["hubble_deep_field", "retina", "colorwheel", "coins", "moon",
               "gravel", "clock", "logo"]


def _load(name):
    import skimage.data
    img = np.asarray(getattr(skimage.data, name)())
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    img = img.astype(np.float32) / float(np.iinfo(img.dtype).max)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.shape[-1] == 4:
        alpha = img[..., 3:4]
        img = img[..., :3] * alpha + (1.0 - alpha)
    return np.clip(img, 0.0, 1.0)


def _square(img, fraction=1.0, flip=False):
    """The centre square (its side `fraction` of the shorter side)."""
    h, w = img.shape[:2]
    s = int(round(min(h, w) * fraction))
    y, x = (h - s) // 2, (w - s) // 2
    img = img[y:y + s, x:x + s]
    return img[:, ::-1] if flip else img


def images(names, size, variants=(("centre", 1.0, False),)):
    """NCHW float32 batch: every image in every variant (name, crop
    fraction, horizontal flip), resized to size x size, normalized with
    ImageNet's mean and standard deviation."""
    from skimage.transform import resize
    out = []
    for name in names:
        img = _load(name)
        for _, fraction, flip in variants:
            sq = _square(img, fraction, flip)
            sq = resize(sq, (size, size), order=1, anti_aliasing=True,
                        preserve_range=True).astype(np.float32)
            out.append(((sq - MEAN) / STD).transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(out), dtype=np.float32)


def calibration_images(size):
    """16 images: the 8 calibration samples, centre square and a flipped
    80% crop of each."""
    return images(CALIB_IMAGES, size,
                  (("centre", 1.0, False), ("crop-flip", 0.8, True)))


def test_images(size, count=None, test_set="photos"):
    """The test batch. "photos": 8 other scikit-image samples, several far
    from the calibration photographs (a colour wheel, a logo, grey coins and
    moon: activations then exceed the calibrated ranges and clipping
    dominates the error). "crops": held-out views of the calibration
    photographs (a 60% corner crop, and the opposite corner flipped), the
    same distribution as the calibration set, so the error measured is the
    quantization's."""
    if test_set == "crops":
        from skimage.transform import resize
        out = []
        for name in CALIB_IMAGES:
            img = _load(name)
            h, w = img.shape[:2]
            s = int(round(min(h, w) * 0.6))
            for y, x, flip in ((0, 0, False), (h - s, w - s, True)):
                sq = img[y:y + s, x:x + s]
                sq = sq[:, ::-1] if flip else sq
                sq = resize(sq, (size, size), order=1, anti_aliasing=True,
                            preserve_range=True).astype(np.float32)
                out.append(((sq - MEAN) / STD).transpose(2, 0, 1))
        out = out[:count] if count else out[:8]
        return np.ascontiguousarray(np.stack(out), dtype=np.float32)
    return images(TEST_IMAGES[:count] if count else TEST_IMAGES, size)


def build(name):
    """The float model in eval mode, seeded; segmentation models return
    their 'out' tensor."""
    import torch
    import torchvision

    builder, kwargs, kind = MODELS[name]
    torch.manual_seed(SEED)
    if kind == "segmentation":
        net = getattr(torchvision.models.segmentation, builder)(
            weights=None, **kwargs)

        class Out(torch.nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def forward(self, x):
                return self.net(x)["out"]

        model = Out(net)
    else:
        model = getattr(torchvision.models, builder)(weights=None, **kwargs)
    return model.eval()


def sqnr(f, q):
    """10 log10(sum f^2 / sum (f - q)^2) in dB, inf when q == f."""
    f = np.asarray(f, np.float64).reshape(-1)
    q = np.asarray(q, np.float64).reshape(-1)
    noise = float(np.sum((f - q) ** 2))
    if noise == 0.0:
        return float("inf")
    return 10.0 * np.log10(float(np.sum(f ** 2)) / noise)


def set_batchnorm_statistics(model, calib, batch=4):
    """Replaces every BatchNorm's running statistics by their cumulative
    average over `calib` (BatchNorm layers in train mode with momentum=None,
    everything else, e.g. dropout, in eval mode), then returns the model in
    eval mode. Left at their defaults (mean 0, variance 1) the statistics
    make the outputs of a randomly initialized network degenerate."""
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm

    model.eval()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    with torch.no_grad():
        for i in range(0, len(calib), batch):
            model(torch.from_numpy(calib[i:i + batch]))
    return model.eval()


def export(model, path, size):
    import torch
    x = torch.zeros(1, 3, size, size)
    torch.onnx.export(model, x, path, opset_version=OPSET,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"},
                                    "output": {0: "batch"}})


def run_torch(model, x, batch=4):
    import torch
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(outs).astype(np.float32)


def fx_quantize(model, calib, backend="x86"):
    """PyTorch's post-training quantization in FX graph mode:
    prepare_fx / convert_fx with get_default_qconfig_mapping(backend),
    calibrated on `calib`. fbgemm and x86: per-channel symmetric int8
    weights, HistogramObserver uint8 activations with reduce_range (7 bits);
    onednn: the same with 8-bit activations; qnnpack: per-tensor weights,
    8-bit activations. Debian's torch has no FBGEMM engine, so the fbgemm /
    x86 models run on the oneDNN engine (the same quantized model; if no
    engine fits, the reference model of convert_to_reference_fx, which
    simulates it in float). Returns (quantized model, engine)."""
    import copy
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import (convert_fx,
                                                   convert_to_reference_fx,
                                                   prepare_fx)

    engines = torch.backends.quantized.supported_engines
    engine = backend if backend in engines else (
        "onednn" if "onednn" in engines and backend != "qnnpack" else None)
    if engine:
        torch.backends.quantized.engine = engine
    m = copy.deepcopy(model).eval()
    example = (torch.from_numpy(calib[:1]),)
    prepared = prepare_fx(m, get_default_qconfig_mapping(backend), example)
    with torch.no_grad():
        for i in range(len(calib)):
            prepared(torch.from_numpy(calib[i:i + 1]))
    if engine:
        return convert_fx(prepared), engine + " engine"
    return convert_to_reference_fx(prepared), "reference model"
