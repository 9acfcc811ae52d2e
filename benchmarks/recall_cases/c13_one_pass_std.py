# Source: https://github.com/OPM/ResInsight/issues/14627 (also TA-Lib/ta-lib#202, BIC-MNI/minc-tools#79):
# standard deviation as sqrt(n * sum(x*x) - sum(x)**2) / n; for near-constant data the difference is
# rounding noise, negative about half the time, and sqrt returns NaN.
import numpy as np


def basic_statistics(values):
    n = len(values)
    s = np.sum(values)
    s2 = np.sum(values * values)
    dev = np.sqrt(n * s2 - s * s) / n  # expect: NUM301
    return s / n, dev
