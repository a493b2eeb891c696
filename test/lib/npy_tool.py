#!/usr/bin/python3
"""Small .npy helper for lit tests.

  npy_tool.py save OUT.npy DTYPE SHAPE VALUES
      SHAPE is like 1x3x8x8 ("scalar" for 0-d); VALUES is a comma list that
      is repeated to fill the shape, or "randn:SEED" / "arange".
  npy_tool.py print FILE.npy
      Prints "dtype shape" and the values, one row per line.
  npy_tool.py garbage OUT [N]
      Writes N bytes that are not a .npy file.
  npy_tool.py hugeheader OUT
      Writes a .npy whose header claims an enormous shape.
  npy_tool.py truncate IN OUT N
      Copies the first N bytes of IN to OUT.
"""
import sys

import numpy as np


def main():
    cmd = sys.argv[1]
    if cmd == "save":
        out, dtype, shape, values = sys.argv[2:6]
        shape = () if shape == "scalar" else tuple(int(d) for d in shape.split("x"))
        n = int(np.prod(shape)) if shape else 1
        if values.startswith("randn:"):
            data = np.random.RandomState(int(values[6:])).randn(n)
        elif values == "arange":
            data = np.arange(n)
        else:
            vals = [float(v) for v in values.split(",")]
            data = np.resize(np.array(vals), n)
        np.save(out, np.asarray(data).astype(dtype).reshape(shape))
    elif cmd == "print":
        a = np.load(sys.argv[2])
        print(a.dtype, "x".join(str(d) for d in a.shape) or "scalar")
        np.set_printoptions(precision=6, suppress=True, linewidth=200,
                            threshold=10000)
        flat = a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(1, -1)
        for row in flat:
            print(" ".join(("%.6g" % v) if a.dtype.kind == "f" else str(v)
                           for v in row))
    elif cmd == "garbage":
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 64
        with open(sys.argv[2], "wb") as f:
            f.write(bytes((i * 37 + 11) % 256 for i in range(n)))
    elif cmd == "hugeheader":
        # A valid header that claims an enormous shape, with 16 data bytes.
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }"
        header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
        with open(sys.argv[2], "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                    + header.encode() + bytes(16))
    elif cmd == "truncate":
        with open(sys.argv[2], "rb") as f:
            data = f.read()
        with open(sys.argv[3], "wb") as f:
            f.write(data[: int(sys.argv[4])])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
