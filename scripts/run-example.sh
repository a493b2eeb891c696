#!/usr/bin/env bash
# The main job on the bundled example: calibrate and quantize the
# Fashion-MNIST CNN (examples/fashion_mnist/fashion_cnn.onnx) to integer-only
# C++ on the lowbit runtime, build it with g++, classify the 10,000 test
# images, and print float accuracy, int8 accuracy, their difference, the
# weight bytes and the arena bytes. Extra arguments go to lowbitc, e.g.
#   ./scripts/run-example.sh --weight-bits=4 --range-estimator=sqnr
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh --target lowbitc lowbit_runtime
/usr/bin/python3 examples/fashion_mnist/run.py -- "$@"
