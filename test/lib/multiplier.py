"""(multiplier, shift) of a real scale, as the runtime's computeMultiplier
forms it for lowbit.requant / lowbit.prelu: scale = m 2^-s with |m| in
[2^30, 2^31); a negative scale (a negative PReLU slope) negates m. For the
scripts that write integer IR by hand (bench/fold_prelu.py,
test/Transforms/fold_prelu_numerics.py)."""
import numpy as np


def multiplier(scale):
    sign = -1 if scale < 0 else 1
    mant, exp = np.frexp(abs(scale))  # abs(scale) = mant 2^exp, mant in [0.5, 1)
    m = int(round(mant * 2.0 ** 31))
    s = 31 - int(exp)
    if m == 2 ** 31:
        m, s = m // 2, s - 1
    return sign * m, s
