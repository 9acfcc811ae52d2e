# Source: https://github.com/tskit-dev/tsdate/pull/171 (also scikit-learn/scikit-learn#6205):
# log-likelihoods brought back to linear space to be summed, r += exp(x); for x below -745 (float64)
# every term underflows and log(r) is -inf.
import numpy as np


def combine_log_likelihoods(log_values):
    r = 0.0
    for x in log_values:
        r += np.exp(x)
    return np.log(r)  # expect: NUM101
