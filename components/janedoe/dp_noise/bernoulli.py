"""Exact Bernoulli(exp(-x)) for rational x, vectorized (Canonne, Kamath, Steinke 2020, Algorithm 1).

Every outcome is decided by comparing uniform integers; no floating-point exp or log touches the result.
"""

import math

import numpy as np

_FACTORIALS = [math.factorial(m) for m in range(13)]
_INT64_SAFE = 1 << 62


def bernoulli_exp_minus_one(source, size: int) -> np.ndarray:
    """Bernoulli(1/e) from one uniform integer in [0, 12!) per draw.

    Algorithm 1 with x = 1 draws A_k ~ Bernoulli(1/k) (k = 1, 2, ...) until one fails and returns whether that k is
    odd. The mixed-radix digits of a uniform R in [0, 12!) are independent uniforms in [0, k), so "A_2..A_m all
    succeed" is exactly "m! divides R"; only R = 0 (probability 1/12!) needs fresh draws past k = 12.
    """
    draws = source.integers_below(_FACTORIALS[12], size)
    odd = np.zeros(size, dtype=bool)  # the failing k is odd <=> an odd number of m in 2..12 with m! | R, or more
    index = np.flatnonzero((draws & 1) == 0)
    odd[index] = True
    remaining = draws[index]
    for m in range(3, 13):
        hit = remaining % _FACTORIALS[m] == 0
        index = index[hit]
        if index.size == 0:
            return odd
        remaining = remaining[hit]
        odd[index] ^= True
    k = 13
    while index.size:  # R was 0: continue Algorithm 1 with A_k ~ Bernoulli(1/k)
        index = index[source.integers_below(k, index.size) == 0]
        odd[index] ^= True
        k += 1
    return odd


def bernoulli_exp_minus_fraction_at_most_one(numerators: np.ndarray, denominator: int, source) -> np.ndarray:
    """Bernoulli(exp(-n/d)) for each n in numerators, 0 <= n <= d (Algorithm 1: the stopping K is odd)."""
    size = numerators.size
    result = np.ones(size, dtype=bool)
    if size == 0 or not numerators.any():
        return result
    # K = 1: A ~ Bernoulli(n / d); a failure here means K = 1, odd.
    index = np.flatnonzero(source.integers_below(denominator, size) < numerators)
    active_numerators = numerators[index]
    k = 2
    while index.size:
        # A ~ Bernoulli(n / (d k)); every element still going shares the same k.
        if denominator * k < _INT64_SAFE:
            success = source.integers_below(denominator * k, index.size) < active_numerators
        else:
            success = (source.integers_below(k, index.size) == 0) & (
                source.integers_below(denominator, index.size) < active_numerators
            )
        result[index[~success]] = k % 2 == 1
        index = index[success]
        active_numerators = active_numerators[success]
        k += 1
    return result


def bernoulli_exp_minus(numerators: np.ndarray, denominator: int, source) -> np.ndarray:
    """Bernoulli(exp(-n/d)) for any n >= 0."""
    whole, fraction = np.divmod(np.asarray(numerators, dtype=np.int64), denominator)
    return bernoulli_exp_minus_parts(whole, fraction, denominator, source)


def bernoulli_exp_minus_parts(whole: np.ndarray, fraction: np.ndarray, denominator: int, source) -> np.ndarray:
    """Bernoulli(exp(-(w + f/d))): exp(-w) as w Bernoulli(1/e) rounds, times Bernoulli(exp(-f/d)), 0 <= f < d."""
    result = bernoulli_exp_minus_fraction_at_most_one(fraction, denominator, source)
    index = np.flatnonzero(result & (whole > 0))
    left = whole[index]
    while index.size:
        ok = bernoulli_exp_minus_one(source, index.size)
        result[index[~ok]] = False
        left = left - 1
        going = ok & (left > 0)
        index = index[going]
        left = left[going]
    return result


def geometric_exp_minus_one(source, size: int) -> np.ndarray:
    """Successes of Bernoulli(1/e) before the first failure: P(V >= v) = e^-v."""
    counts = np.zeros(size, dtype=np.int64)
    index = np.flatnonzero(bernoulli_exp_minus_one(source, size))
    while index.size:
        counts[index] += 1
        index = index[bernoulli_exp_minus_one(source, index.size)]
    return counts


_DIGIT_BITS = 62
_WHOLE_CAP = 1 << 62


def bernoulli_ratio_of_big_integers(numerators, denominator: int, source) -> np.ndarray:
    """Bernoulli(n/d) for Python-int n, d of any size, 0 <= n <= d.

    A uniform real U in [0, 1) is compared with n/d 62 bits at a time: U < n/d is decided by the first digit where
    they differ, and a tie (probability 2^-62 per digit) moves on to the next digits of both, so nothing is rounded.
    """
    rest = [int(n) for n in numerators]
    result = np.zeros(len(rest), dtype=bool)
    index = np.arange(len(rest))
    while index.size:
        shifted = [n << _DIGIT_BITS for n in rest]
        digits = np.array([s // denominator for s in shifted], dtype=np.int64)  # n/d in [digit, digit + 1) / 2^62
        draws = source.integers_below(1 << _DIGIT_BITS, index.size)
        result[index[draws < digits]] = True
        tie = np.flatnonzero(draws == digits)
        rest = [shifted[i] - int(digits[i]) * denominator for i in tie]
        index = index[tie]
    return result


def bernoulli_exp_minus_big(numerators, denominator: int, source) -> np.ndarray:
    """Bernoulli(exp(-n/d)) for Python-int n >= 0 and d > 0 of any size (Algorithm 1, no int64 overflow anywhere)."""
    whole = np.array([int(n) // denominator for n in numerators], dtype=object)
    fraction = np.array([int(n) % denominator for n in numerators], dtype=object)
    return bernoulli_exp_minus_big_parts(whole, fraction, denominator, source)


def bernoulli_exp_minus_big_parts(whole: np.ndarray, fraction: np.ndarray, denominator: int, source) -> np.ndarray:
    """Bernoulli(exp(-(w + f/d))) for object arrays of Python ints, 0 <= f < d.

    exp(-w) goes first (w rounds of Bernoulli(1/e), in int64 chunks of at most 2^62 rounds), because it is cheap and
    kills most candidates with a large exponent before the big-integer fraction part has to run.
    """
    size = len(whole)
    capped = np.fromiter((min(w, _WHOLE_CAP) for w in whole), dtype=np.int64, count=size)
    result = bernoulli_exp_minus_parts(capped, np.zeros(size, dtype=np.int64), 1, source)
    beyond = [i for i in np.flatnonzero(result) if whole[i] > _WHOLE_CAP]  # survived e^-(2^62): unreachable
    for i in beyond:
        result[i] = bernoulli_exp_minus_big([whole[i] - _WHOLE_CAP], 1, source)[0]
    # exp(-f/d): the first k with A_k ~ Bernoulli(f / (d k)) failing is odd
    alive = np.flatnonzero(result)
    index = alive[bernoulli_ratio_of_big_integers(fraction[alive], denominator, source)]
    k = 2
    while index.size:
        success = (source.integers_below(k, index.size) == 0) & bernoulli_ratio_of_big_integers(
            fraction[index], denominator, source
        )
        result[index[~success]] = k % 2 == 1
        index = index[success]
        k += 1
    return result
