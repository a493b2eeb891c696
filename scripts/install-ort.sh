#!/usr/bin/env bash
# Installs ONNX Runtime 1.30 CPU for node (npm package onnxruntime-node@1.30.0)
# into .deps/ort/ (gitignored), for the ONNX Runtime oracle test tier
# (test/Oracle). Idempotent: does nothing when that version is there and loads.
#
# `npm install --ignore-scripts`: the package's postinstall only downloads
# the optional CUDA/TensorRT execution providers; the CPU binding and
# libonnxruntime.so are bundled under bin/napi-v6/linux/x64 and load as they
# are. The check below requires them to load.
#
# Never fails: without node or npm, or when the registry cannot be reached,
# it says why and exits 0, and the oracle tier reports UNSUPPORTED (lit) /
# SKIPPED (the script) instead of running.
set -uo pipefail
cd "$(dirname "$0")/.."

VERSION=1.30.0
DEST=.deps/ort
MOD="$DEST/node_modules/onnxruntime-node"

# Prints the loaded version, or fails.
probe() {
  node -e '
    const mod = process.argv[1];
    const ort = require(mod);
    const v = require(mod + "/package.json").version;
    if (!ort.InferenceSession || !ort.listSupportedBackends().some((b) => b.name === "cpu"))
      throw new Error("no CPU backend");
    process.stdout.write(v);
  ' "$PWD/$1" 2>&1
}

skip() {
  echo "install-ort: $1; the ONNX Runtime oracle tier (test/Oracle) will be skipped"
  exit 0
}

command -v node >/dev/null 2>&1 || skip "node is not installed"

if [ -f "$MOD/package.json" ]; then
  if have=$(probe "$MOD") && [ "$have" = "$VERSION" ]; then
    echo "install-ort: onnxruntime-node $VERSION present in $DEST"
    exit 0
  fi
  echo "install-ort: $DEST has onnxruntime-node that is not a loadable $VERSION (${have:-?}); reinstalling"
fi

command -v npm >/dev/null 2>&1 || skip "npm is not installed"

# Install into a staging folder and move it into place only once it loads,
# so an interrupted or failed install never leaves a half-installed $DEST.
STAGE="$DEST.tmp.$$"
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$STAGE"
mkdir -p "$STAGE"
printf '{\n  "name": "lowbit-ort-oracle",\n  "private": true\n}\n' >"$STAGE/package.json"

echo "install-ort: npm install --ignore-scripts onnxruntime-node@$VERSION into $DEST"
if ! timeout 600 npm install --prefix "$STAGE" --ignore-scripts --no-audit --no-fund \
    --fetch-retries=2 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 \
    --fetch-timeout=120000 --loglevel=error \
    "onnxruntime-node@$VERSION" >"$STAGE.log" 2>&1; then
  grep -m 4 'npm error' "$STAGE.log" | sed 's/^/install-ort:   /'
  rm -f "$STAGE.log"
  skip "npm install failed"
fi
rm -f "$STAGE.log"

if ! have=$(probe "$STAGE/node_modules/onnxruntime-node") || [ "$have" != "$VERSION" ]; then
  echo "$have" | tail -n 5 | sed 's/^/install-ort:   /'
  skip "onnxruntime-node@$VERSION installed but does not load on $(uname -s)-$(uname -m)"
fi

rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "install-ort: onnxruntime-node $VERSION installed in $DEST (CPU backend loads)"
