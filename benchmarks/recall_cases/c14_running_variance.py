# Source: https://github.com/QuantConnect/Lean/pull/2673: a rolling variance from a running sum and
# a running sum of squares, updated in one method and read in another; on a flat price stretch the
# subtraction cancels to a small negative value and the standard deviation is NaN.
import math


class RollingVariance:
    def __init__(self):
        self.n = 0
        self.total = 0.0
        self.total_sq = 0.0

    def update(self, x):
        self.n += 1
        self.total += x
        self.total_sq += x * x

    def std(self):
        mean = self.total / self.n
        var = self.total_sq / self.n - mean * mean  # expect: NUM301
        return math.sqrt(var)
