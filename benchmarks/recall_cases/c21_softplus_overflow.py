# Source: https://github.com/rushter/MLAlgorithms/pull/31 (and borgwang/tinynn#7): softplus as
# log(1 + exp(z)) overflows for z > 709 in float64; the first fix, z + log(1 + 1/exp(z)), divided by
# zero for very negative z. np.logaddexp(0, z) is exact.
import numpy as np


def softplus(z):
    return np.log(1 + np.exp(z))  # expect: NUM104


def softplus_first_fix(z):
    return z + np.log(1 + 1 / np.exp(z))  # expect: div-by-zero
