"""Exact discrete Laplace and discrete Gaussian samplers.

Parameters are exact fractions. Draws come from exact inverse-CDF tables (tables.py), one uniform word each; Laplace
scales too large for a table use Canonne, Kamath, Steinke 2020, Algorithm 2, with candidates drawn in numpy batches
and accepted by integer comparisons only.
"""

import math
from fractions import Fraction

import numpy as np
from janedoe.dp_noise.bernoulli import bernoulli_exp_minus_fraction_at_most_one, geometric_exp_minus_one
from janedoe.dp_noise.randomness import as_source
from janedoe.dp_noise.rationals import positive_fraction, round_up_dyadic
from janedoe.dp_noise.tables import gaussian_table, laplace_table, sample_symmetric
from janedoe.errors import JaneDoeInputError

_LAPLACE_MAX_NUMERATOR = 1 << 52
_GAUSSIAN_MAX_DENOMINATOR = 1 << 56
MAX_GAUSSIAN_SIGMA = 1 << 13  # its exact table (tables.py) stays under MAX_ENTRIES rows
MAX_LAPLACE_SCALE = 1 << 51


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise JaneDoeInputError("size must be a non-negative integer", where="size")
    return int(size)


def exact_laplace_scale(scale) -> Fraction:
    """The scale the sampler really uses: the given one, rounded up onto a dyadic grid only when it is too long."""
    value = positive_fraction(scale, "scale")
    if value > MAX_LAPLACE_SCALE:
        raise JaneDoeInputError("scale is too large for the exact sampler (max 2^51)", where="scale")
    bits = 60
    while value.numerator >= _LAPLACE_MAX_NUMERATOR:
        bits -= 1
        value = round_up_dyadic(value, bits)
    return value


def _gaussian_denominator(sigma: Fraction) -> int:
    t = math.floor(sigma) + 1
    return 2 * sigma.numerator**2 * sigma.denominator**2 * t * t


def exact_gaussian_sigma(sigma) -> Fraction:
    """The sigma the sampler really uses: the given one, rounded up onto a dyadic grid only when it is too long."""
    value = positive_fraction(sigma, "sigma")
    if value > MAX_GAUSSIAN_SIGMA:
        raise JaneDoeInputError(
            "sigma is too large for the exact int64 sampler (max 8192); add noise on a grid instead", where="sigma"
        )
    bits = 40
    while _gaussian_denominator(value) >= _GAUSSIAN_MAX_DENOMINATOR:
        bits -= 1
        value = round_up_dyadic(value, bits)
    return value


def _laplace_batch(numerator: int, denominator: int, count: int, source) -> np.ndarray:
    """Algorithm 2 on `count` candidates with scale numerator/denominator; returns the accepted draws."""
    # One draw in [0, 2t) gives both U in [0, t) and the sign bit, independent and uniform.
    draws = source.integers_below(2 * numerator, count)
    negative = draws >= numerator
    uniform = draws - numerator * negative
    accepted = bernoulli_exp_minus_fraction_at_most_one(uniform, numerator, source)
    uniform = uniform[accepted]
    negative = negative[accepted]
    magnitude = uniform + numerator * geometric_exp_minus_one(source, uniform.size)
    if denominator != 1:
        magnitude //= denominator
    keep = ~(negative & (magnitude == 0))
    return np.where(negative, -magnitude, magnitude)[keep]


def _laplace_acceptance(scale: Fraction) -> float:
    """Rough acceptance rate, used only to size batches (never to decide an outcome)."""
    t = scale.numerator
    uniform_rate = (1 - math.exp(-1)) / (t * (1 - math.exp(-1 / t)))
    zero_rate = 1 - math.exp(-1 / float(scale))
    return max(uniform_rate * (1 - zero_rate / 2), 0.05)


_CHUNK = 1 << 16  # candidates per round: big enough to amortise numpy call overhead, small enough for cache


def _fill(size: int, rate: float, draw) -> np.ndarray:
    out = np.empty(size, dtype=np.int64)
    filled = 0
    while filled < size:
        need = size - filled
        batch = draw(min(int(need / rate * 1.03) + 64, _CHUNK))
        take = min(need, batch.size)
        out[filled : filled + take] = batch[:take]
        filled += take
    return out


def discrete_laplace(scale, size: int, rng=None) -> np.ndarray:
    """Integers with P(x) proportional to exp(-|x| / scale), exactly.

    rng: None (the OS CSPRNG, for releases) or a numpy Generator (reproducible, for tests).
    """
    size = _check_size(size)
    value = exact_laplace_scale(scale)
    source = as_source(rng)
    table = laplace_table(value)
    if table is not None:  # scales up to ~2340: one word per draw, no rejection
        return sample_symmetric(table, size, source)
    t, s = value.numerator, value.denominator
    return _fill(size, _laplace_acceptance(value), lambda count: _laplace_batch(t, s, count, source))


def discrete_gaussian(sigma, size: int, rng=None) -> np.ndarray:
    """Integers with P(x) proportional to exp(-x^2 / (2 sigma^2)), exactly (for the sigma `exact_gaussian_sigma` gives).

    rng: None (the OS CSPRNG, for releases) or a numpy Generator (reproducible, for tests).
    """
    size = _check_size(size)
    value = exact_gaussian_sigma(sigma)
    table = gaussian_table(value)
    if table is None:  # cannot happen: MAX_GAUSSIAN_SIGMA keeps the table under tables.MAX_ENTRIES rows
        raise JaneDoeInputError("sigma is too large for the exact sampler", where="sigma")
    return sample_symmetric(table, size, as_source(rng))
