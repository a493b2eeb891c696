#!/usr/bin/python3
"""The torch side of the wild-model tier (test/wild/run_wild.py): models
the way people deploy them now, built with seeded random weights, exported
with torch.onnx at opsets 11, 13 and 17 with a dynamic batch axis.

    wild_models.py [--models a,b] [--opsets 11,13,17] [--work DIR]

exports every model at every opset into DIR/<model>/opset<N>/<model>.onnx
(with calib.npy and test.npy next to it) and prints one line per export.

Must run under Debian's /usr/bin/python3 (numpy, onnx 1.12, torch 1.13,
torchvision 0.14, python3-skimage). Nothing is downloaded: torchvision
models are built with weights=None, the images are scikit-image's bundled
samples, read by test/zoo/zoo_models.py, whose helpers (image loading and
normalization, BatchNorm statistics, torch runs, FX post-training
quantization, SQNR) this file reuses.

The models (MODELS; what each exercises in the importer and the quantizer):

  vit          torchvision VisionTransformer, image 32, patch 4, 2 layers,
               4 heads, hidden 64, MLP 128, 10 classes: class token Concat,
               nn.MultiheadAttention, LayerNorm, GELU (Erf).
  swin         swin_t's patch embedding and first two stages (window
               attention with relative position bias, shifted windows as
               torch.roll, padding to the 7x7 window, PatchMerging) at
               64x64, then LayerNorm, a mean over the tokens and a Linear.
  convnext     convnext_tiny, whole, at 64x64 (LayerNorm over channels
               between permutes, depthwise 7x7, GELU, layer scale). Its
               layer scales are drawn per channel from U(0.1, 1) (seeded):
               torchvision's 1e-6 would make every block an identity.
  efficientnet efficientnet_b0 at 96x96 (SiLU, squeeze-excitation).
  mobilenetv3  mobilenet_v3_large at 96x96 (HardSwish, hard-sigmoid SE).
  bert         token embedding (an int64 token-id input [batch, 16]),
               position embedding (a buffer of ids sliced to the length),
               LayerNorm, a padding mask from `ids == 0` (Equal), 2
               nn.TransformerEncoder layers (width 64, 4 heads, FFN 128,
               GELU), a classifier on the first token (4 classes).
  yolo         a YOLOv8-style detector at 64x64: Conv+BN+SiLU, C2f blocks
               (Split), SPPF (MaxPool 5x5), a PAN neck (nearest Resize x2,
               Concat), decoupled heads with a Sigmoid on the classes,
               flattened and concatenated over 3 scales: [batch, 12, 336].
  dbnet        a DBNet-style text detector at 64x64: a MobileNetV3-like
               backbone (HardSwish, squeeze-excitation with a hard
               sigmoid), an FPN (1x1 laterals, nearest Resize, adds, 3x3
               smoothing, Resize x2/x4/x8 and Concat), a head Conv+BN+ReLU,
               ConvTranspose k2 s2 + BN + ReLU, ConvTranspose k2 s2,
               Sigmoid: a [batch, 1, 64, 64] probability map.
  crnn         a CRNN/SVTR-style text recognizer on 32x128 lines: a conv
               stem to [batch, 64, 4, 32], a mean over the height, 2
               attention blocks (LayerNorm, q @ k^T and attn @ v as MatMuls
               of two activations, Softmax, GELU MLP), a LayerNorm and a
               Linear per time step: [batch, 32, 37].

Data: image models are calibrated on test/zoo's 16 calibration views of
scikit-image's photographs (zoo_models.calibration_images) at their size,
and tested on the held-out crops of the same photographs
(zoo_models.test_images(..., "crops")); the text recognizer takes a 32-row
horizontal strip out of the middle of those images at 128x128. BatchNorm
statistics are set on the calibration images
(zoo_models.set_batchnorm_statistics). The BERT-style model gets seeded
random token ids in [1, 1000) with a random number of trailing padding
zeros (at least 4 real tokens): 16 calibration sequences and 8 test
sequences from another seed.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "zoo"))
import zoo_models  # noqa: E402  (sets ONEDNN_MAX_CPU_ISA before torch)

SEED = zoo_models.SEED
OPSETS = (11, 13, 17)
VOCAB = 1000
SEQ = 16
CALIB_COUNT = 16
TEST_COUNT = 8

# name -> (input kind, input shape without the batch axis, description).
# "image": float32 NCHW normalized like ImageNet; "tokens": int64 ids.
MODELS = {
    "vit": ("image", (3, 32, 32), "torchvision VisionTransformer 32/4, 2x64"),
    "swin": ("image", (3, 64, 64), "swin_t stages 1-2 + head"),
    "convnext": ("image", (3, 64, 64), "convnext_tiny"),
    "efficientnet": ("image", (3, 96, 96), "efficientnet_b0"),
    "mobilenetv3": ("image", (3, 96, 96), "mobilenet_v3_large"),
    "bert": ("tokens", (SEQ,), "BERT-style encoder, 2 layers of 64"),
    "yolo": ("image", (3, 64, 64), "YOLOv8-style detector"),
    "dbnet": ("image", (3, 64, 64), "DBNet-style text detector"),
    "crnn": ("image", (3, 32, 128), "CRNN/SVTR-style recognizer"),
}


# ------------------------------------------------------------------ data

def _images(shape, calibration, count=None):
    _, h, w = shape
    if h == w:
        if calibration:
            return zoo_models.calibration_images(h)
        return zoo_models.test_images(h, count, "crops")
    # A text line: the middle h rows of the square images of side w.
    full = (zoo_models.calibration_images(w) if calibration
            else zoo_models.test_images(w, count, "crops"))
    top = (w - h) // 2
    return np.ascontiguousarray(full[:, :, top:top + h, :])


def _tokens(count, seed):
    rng = np.random.RandomState(seed)
    ids = rng.randint(1, VOCAB, size=(count, SEQ)).astype(np.int64)
    for i in range(count):
        length = rng.randint(4, SEQ + 1)
        ids[i, length:] = 0
    return ids


def calibration_data(name):
    kind, shape, _ = MODELS[name]
    if kind == "tokens":
        return _tokens(CALIB_COUNT, SEED)
    return _images(shape, True)


def test_data(name, count=TEST_COUNT):
    kind, shape, _ = MODELS[name]
    if kind == "tokens":
        return _tokens(count, SEED + 1)
    return _images(shape, False, count)


# ---------------------------------------------------------------- models

def _torch():
    import torch
    return torch, torch.nn, torch.nn.functional


def _build_vit():
    torch, nn, _ = _torch()
    import torchvision
    m = torchvision.models.VisionTransformer(
        image_size=32, patch_size=4, num_layers=2, num_heads=4,
        hidden_dim=64, mlp_dim=128, num_classes=10)
    # torchvision zeroes the classifier (it is meant to be trained): give
    # it nn.Linear's own random initialization instead.
    m.heads.head.reset_parameters()
    return m


def _build_swin():
    torch, nn, _ = _torch()
    import torchvision

    class SwinStages(nn.Module):
        def __init__(self):
            super().__init__()
            full = torchvision.models.swin_t(weights=None)
            # patch embedding, stage 1, patch merging, stage 2
            self.features = full.features[:4]
            self.norm = nn.LayerNorm(192)
            self.head = nn.Linear(192, 10)

        def forward(self, x):
            x = self.norm(self.features(x))  # [B, H, W, C]
            return self.head(x.mean(dim=(1, 2)))

    return SwinStages()


def _build_convnext():
    torch, nn, _ = _torch()
    import torchvision
    from torchvision.models.convnext import CNBlock
    m = torchvision.models.convnext_tiny(weights=None)
    g = torch.Generator().manual_seed(SEED + 7)
    with torch.no_grad():
        for blk in m.modules():
            if isinstance(blk, CNBlock):
                blk.layer_scale.copy_(
                    0.1 + 0.9 * torch.rand(blk.layer_scale.shape, generator=g))
    return m


def _build_efficientnet():
    import torchvision
    return torchvision.models.efficientnet_b0(weights=None)


def _build_mobilenetv3():
    import torchvision
    return torchvision.models.mobilenet_v3_large(weights=None)


def _build_bert():
    torch, nn, _ = _torch()

    class BertStyle(nn.Module):
        def __init__(self, vocab=VOCAB, seq=SEQ, width=64, heads=4,
                     ffn=128, layers=2, classes=4):
            super().__init__()
            self.tok = nn.Embedding(vocab, width)
            self.pos = nn.Embedding(seq, width)
            self.register_buffer("position_ids",
                                 torch.arange(seq).unsqueeze(0))
            self.norm = nn.LayerNorm(width)
            layer = nn.TransformerEncoderLayer(
                width, heads, ffn, dropout=0.1, activation="gelu",
                batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers,
                                                 enable_nested_tensor=False)
            self.head = nn.Linear(width, classes)

        def forward(self, ids):
            pos = self.position_ids[:, :ids.shape[1]]
            x = self.norm(self.tok(ids) + self.pos(pos))
            x = self.encoder(x, src_key_padding_mask=ids == 0)
            return self.head(x[:, 0])

    return BertStyle()


def _conv_bn(nn, c1, c2, k=1, s=1, act=None, groups=1):
    layers = [nn.Conv2d(c1, c2, k, s, k // 2 if isinstance(k, int) else
                        tuple(d // 2 for d in k), groups=groups, bias=False),
              nn.BatchNorm2d(c2)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


def _build_yolo():
    torch, nn, _ = _torch()

    def cbs(c1, c2, k=1, s=1):
        return _conv_bn(nn, c1, c2, k, s, nn.SiLU)

    class Bottleneck(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.cv1, self.cv2 = cbs(c, c, 3), cbs(c, c, 3)

        def forward(self, x):
            return x + self.cv2(self.cv1(x))

    class C2f(nn.Module):
        def __init__(self, c1, c2, n=1):
            super().__init__()
            self.c = c2 // 2
            self.cv1 = cbs(c1, 2 * self.c)
            self.m = nn.ModuleList(Bottleneck(self.c) for _ in range(n))
            self.cv2 = cbs((2 + n) * self.c, c2)

        def forward(self, x):
            y = list(self.cv1(x).split((self.c, self.c), 1))
            y.extend(m(y[-1]) for m in self.m)
            return self.cv2(torch.cat(y, 1))

    class SPPF(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.cv1, self.cv2 = cbs(c, c // 2), cbs(2 * c, c)
            self.pool = nn.MaxPool2d(5, 1, 2)

        def forward(self, x):
            x = self.cv1(x)
            y1 = self.pool(x)
            y2 = self.pool(y1)
            return self.cv2(torch.cat([x, y1, y2, self.pool(y2)], 1))

    class Detect(nn.Module):
        def __init__(self, chs, nc=8):
            super().__init__()
            self.box = nn.ModuleList(nn.Sequential(
                cbs(c, 32, 3), cbs(32, 32, 3), nn.Conv2d(32, 4, 1))
                for c in chs)
            self.cls = nn.ModuleList(nn.Sequential(
                cbs(c, 32, 3), cbs(32, 32, 3), nn.Conv2d(32, nc, 1))
                for c in chs)

        def forward(self, xs):
            outs = [torch.cat([b(x), c(x).sigmoid()], 1).flatten(2)
                    for x, b, c in zip(xs, self.box, self.cls)]
            return torch.cat(outs, 2)

    class Yolo(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(cbs(3, 16, 3, 2), cbs(16, 32, 3, 2),
                                      C2f(32, 32))          # P3 /4
            self.down4 = nn.Sequential(cbs(32, 64, 3, 2), C2f(64, 64))
            self.down5 = nn.Sequential(cbs(64, 128, 3, 2), C2f(128, 128),
                                       SPPF(128))
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.n4 = C2f(192, 64)
            self.n3 = C2f(96, 32)
            self.d3 = cbs(32, 32, 3, 2)
            self.m4 = C2f(96, 64)
            self.d4 = cbs(64, 64, 3, 2)
            self.m5 = C2f(192, 128)
            self.detect = Detect((32, 64, 128))

        def forward(self, x):
            p3 = self.stem(x)
            p4 = self.down4(p3)
            p5 = self.down5(p4)
            n4 = self.n4(torch.cat([self.up(p5), p4], 1))
            n3 = self.n3(torch.cat([self.up(n4), p3], 1))
            m4 = self.m4(torch.cat([self.d3(n3), n4], 1))
            m5 = self.m5(torch.cat([self.d4(m4), p5], 1))
            return self.detect([n3, m4, m5])

    return Yolo()


def _build_dbnet():
    torch, nn, F = _torch()

    class SE(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.fc1 = nn.Conv2d(c, c // 4, 1)
            self.fc2 = nn.Conv2d(c // 4, c, 1)

        def forward(self, x):
            s = F.adaptive_avg_pool2d(x, 1)
            s = F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))
            return x * s

    class Block(nn.Module):
        def __init__(self, cin, cexp, cout, stride, se):
            super().__init__()
            self.expand = _conv_bn(nn, cin, cexp, 1, 1, nn.Hardswish)
            self.dw = _conv_bn(nn, cexp, cexp, 3, stride, nn.Hardswish,
                               groups=cexp)
            self.se = SE(cexp) if se else nn.Identity()
            self.project = _conv_bn(nn, cexp, cout, 1)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            y = self.project(self.se(self.dw(self.expand(x))))
            return x + y if self.residual else y

    class DBNet(nn.Module):
        def __init__(self, inner=32):
            super().__init__()
            self.stem = _conv_bn(nn, 3, 16, 3, 2, nn.Hardswish)   # /2
            self.b1 = Block(16, 16, 16, 1, False)
            self.b2 = Block(16, 48, 24, 2, False)                # /4
            self.b3 = Block(24, 72, 40, 2, True)                 # /8
            self.b4 = Block(40, 120, 48, 2, True)                # /16
            self.b5 = Block(48, 144, 96, 2, True)                # /32
            self.lat = nn.ModuleList(nn.Conv2d(c, inner, 1, bias=False)
                                     for c in (24, 40, 48, 96))
            self.smooth = nn.ModuleList(
                nn.Conv2d(inner, inner // 4, 3, padding=1, bias=False)
                for _ in range(4))
            self.head = nn.Sequential(
                _conv_bn(nn, inner, inner // 4, 3, 1, nn.ReLU),
                nn.ConvTranspose2d(inner // 4, inner // 4, 2, 2),
                nn.BatchNorm2d(inner // 4), nn.ReLU(),
                nn.ConvTranspose2d(inner // 4, 1, 2, 2))

        def forward(self, x):
            c2 = self.b2(self.b1(self.stem(x)))
            c3 = self.b3(c2)
            c4 = self.b4(c3)
            c5 = self.b5(c4)
            i2, i3, i4, i5 = [l(c) for l, c in zip(self.lat,
                                                   (c2, c3, c4, c5))]
            up = lambda t, s: F.interpolate(t, scale_factor=s,  # noqa: E731
                                            mode="nearest")
            o4 = i4 + up(i5, 2)
            o3 = i3 + up(o4, 2)
            o2 = i2 + up(o3, 2)
            p5 = up(self.smooth[3](i5), 8)
            p4 = up(self.smooth[2](o4), 4)
            p3 = up(self.smooth[1](o3), 2)
            p2 = self.smooth[0](o2)
            return torch.sigmoid(self.head(torch.cat([p5, p4, p3, p2], 1)))

    return DBNet()


def _build_crnn():
    torch, nn, F = _torch()

    class Attention(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.heads = heads
            self.scale = (dim // heads) ** -0.5
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x):
            # Indexing rather than unpacking (as SVTR writes it): PyTorch's
            # FX can trace it.
            b, t, c = x.shape[0], x.shape[1], x.shape[2]
            qkv = self.qkv(x).reshape(b, t, 3, self.heads, c // self.heads)
            qkv = qkv.permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            attn = (q @ k.transpose(-2, -1)) * self.scale
            attn = attn.softmax(dim=-1)
            return self.proj((attn @ v).transpose(1, 2).reshape(b, t, c))

    class Block(nn.Module):
        def __init__(self, dim, heads, hidden):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim)
            self.attn = Attention(dim, heads)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(),
                                     nn.Linear(hidden, dim))

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class Recognizer(nn.Module):
        def __init__(self, dim=64, classes=37):
            super().__init__()
            self.stem = nn.Sequential(
                _conv_bn(nn, 3, 32, 3, 2, nn.ReLU),          # 16 x 64
                _conv_bn(nn, 32, dim, 3, 2, nn.ReLU),        # 8 x 32
                _conv_bn(nn, dim, dim, 3, (2, 1), nn.ReLU))  # 4 x 32
            self.blocks = nn.Sequential(Block(dim, 4, 2 * dim),
                                        Block(dim, 4, 2 * dim))
            self.norm = nn.LayerNorm(dim)
            self.fc = nn.Linear(dim, classes)

        def forward(self, x):
            x = self.stem(x).mean(dim=2).permute(0, 2, 1)  # [B, T, C]
            return self.fc(self.norm(self.blocks(x)))

    return Recognizer()


_BUILDERS = {
    "vit": _build_vit, "swin": _build_swin, "convnext": _build_convnext,
    "efficientnet": _build_efficientnet, "mobilenetv3": _build_mobilenetv3,
    "bert": _build_bert, "yolo": _build_yolo, "dbnet": _build_dbnet,
    "crnn": _build_crnn,
}


def build(name, calib=None):
    """The float model in eval mode: seeded random weights, BatchNorm
    statistics measured on `calib` (calibration_data(name) by default)."""
    import torch
    torch.manual_seed(SEED)
    model = _BUILDERS[name]()
    if calib is None:
        calib = calibration_data(name)
    if MODELS[name][0] == "image":
        zoo_models.set_batchnorm_statistics(model, calib)
    return model.eval()


def export(model, name, path, opset):
    """torch.onnx.export at `opset` with a dynamic batch axis, then
    onnx.checker (raises on failure)."""
    import onnx
    import torch
    kind, shape, _ = MODELS[name]
    if kind == "tokens":
        example = torch.from_numpy(_tokens(1, SEED + 2))
    else:
        example = torch.zeros((1,) + tuple(shape))
    # Not under torch.no_grad(): in eval mode without gradients torch
    # 1.13's nn.MultiheadAttention and nn.TransformerEncoderLayer take their
    # fused fast path (aten::_native_multi_head_attention,
    # aten::_transformer_encoder_layer_fwd), which torch.onnx cannot export.
    torch.onnx.export(model, example, path, opset_version=opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"},
                                    "output": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))


def op_types(path):
    """Sorted op types of an ONNX file's graph."""
    import onnx
    return sorted({n.op_type for n in onnx.load(path).graph.node})


def run_torch(model, x, batch=4):
    return zoo_models.run_torch(model, x, batch)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--opsets", default=",".join(map(str, OPSETS)))
    ap.add_argument("--work", default="/tmp/lowbit-wild")
    args = ap.parse_args()
    names = [m for m in args.models.split(",") if m]
    for n in names:
        if n not in MODELS:
            ap.error("unknown model %r (known: %s)" % (n, ", ".join(MODELS)))
    opsets = [int(o) for o in args.opsets.split(",") if o]
    status = 0
    for name in names:
        calib, test = calibration_data(name), test_data(name)
        model = build(name, calib)
        for opset in opsets:
            d = os.path.join(args.work, name, "opset%d" % opset)
            os.makedirs(d, exist_ok=True)
            np.save(os.path.join(d, "calib.npy"), calib)
            np.save(os.path.join(d, "test.npy"), test)
            path = os.path.join(d, name + ".onnx")
            try:
                export(model, name, path, opset)
            except Exception as e:  # noqa: BLE001 (report, go on)
                status = 1
                print("%s opset %d: export FAILED: %s: %s" % (
                    name, opset, type(e).__name__,
                    str(e).strip().splitlines()[0] if str(e).strip()
                    else ""))
                continue
            print("%s opset %d: %s (%s)" % (name, opset, path,
                                            ", ".join(op_types(path))))
    sys.exit(status)


if __name__ == "__main__":
    main()
