#!/usr/bin/python3
"""Trains the bundled Fashion-MNIST CNN and exports it to ONNX (opset 13).

The model has what lowbit's quantizer must handle in a real network:
convolutions with BatchNorm, per-channel PReLU, max and average pooling and
fully connected layers. Training is deterministic (fixed seeds, 2 threads)
and takes a few minutes on 2 cores; the exported fashion_cnn.onnx is checked
in next to this script, so users do not need to retrain.

Usage: /usr/bin/python3 examples/fashion_mnist/train.py [--epochs N] [--out PATH]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.PReLU(16),
            nn.MaxPool2d(2),                       # 14x14
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.PReLU(32),
            nn.MaxPool2d(2),                       # 7x7
            nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False),  # depthwise
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.AvgPool2d(7),                       # 1x1
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32, 64),
            nn.PReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(torch.tensor(x[i:i + 1000]))
                            for i in range(0, len(x), 1000)])
    return float((logits.argmax(1).numpy() == y).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "fashion_cnn.onnx"))
    args = ap.parse_args()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    train_x, train_y = data.load("train")
    test_x, test_y = data.load("test")
    model = FashionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        perm = np.random.permutation(len(train_x))
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model(torch.tensor(train_x[idx])),
                           torch.tensor(train_y[idx]))
            loss.backward()
            opt.step()
        sched.step()
        print("epoch %d: loss %.3f, test accuracy %.4f (%.0f s)"
              % (epoch + 1, float(loss), accuracy(model, test_x, test_y),
                 time.time() - t0), flush=True)
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), args.out,
                      opset_version=13, input_names=["image"],
                      output_names=["logits"], do_constant_folding=True)
    print("float test accuracy %.4f; wrote %s"
          % (accuracy(model, test_x, test_y), args.out))


if __name__ == "__main__":
    main()
