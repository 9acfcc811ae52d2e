"""EM for a Gaussian mixture in NumPy, as it is often first written.

The E-step's responsibilities need log-sum-exp over components; the M-step's variance uses
E[x^2] - E[x]^2. With features measured in the thousands (pixel sums, prices), the variance
cancels to noise or goes negative and the log-likelihood turns into -inf.
"""

import numpy as np


def log_gaussian(x, mean, var):
    return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)


def e_step(x, weights, means, variances):
    # (n, k) log joint of each point and component
    log_joint = np.log(weights) + log_gaussian(x[:, None], means[None, :], variances[None, :])
    log_norm = np.log(np.sum(np.exp(log_joint), axis=1, keepdims=True))
    return np.exp(log_joint - log_norm), log_norm.sum()


def m_step(x, resp):
    nk = resp.sum(axis=0)
    weights = nk / len(x)
    means = (resp * x[:, None]).sum(axis=0) / nk
    second_moment = (resp * x[:, None] ** 2).sum(axis=0) / nk
    variances = second_moment - means ** 2
    return weights, means, variances


def standardize(features):
    mu = features.mean(axis=0)
    sigma = np.sqrt(np.mean(features ** 2, axis=0) - mu ** 2)
    return (features - mu) / sigma


def stable_log_likelihood(log_joint):
    # Max-shifted by hand: silent.
    m = log_joint.max(axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(log_joint - m), axis=1, keepdims=True))).sum()
