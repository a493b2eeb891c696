"""Prints whether .npy files hold the same array (exit status 1 if not)."""
import sys

import numpy as np

arrays = [np.load(p) for p in sys.argv[1:]]
first = arrays[0]
for path, a in zip(sys.argv[2:], arrays[1:]):
    if a.shape != first.shape or a.dtype != first.dtype:
        sys.exit("%s: %s %s, expected %s %s" % (path, a.dtype, a.shape,
                                                 first.dtype, first.shape))
    diff = int((a != first).sum())
    if diff:
        sys.exit("%s: %d of %d outputs differ" % (path, diff, a.size))
print("%d outputs, all equal" % first.size)
