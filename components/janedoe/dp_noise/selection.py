"""Choosing one candidate privately: the exponential mechanism (sampled exactly) and report-noisy-max.

The exponential mechanism uses the scores exactly as given. Report-noisy-max (and sparse vector) add integer noise, so
scores that are not all integers are rounded to multiples of 2^-20 there; the rounding is part of the score function
and is paid for by adding 2^-20 to the sensitivity, so the guarantee holds for the scores actually used.
"""

from fractions import Fraction

import numpy as np
from janedoe.dp_noise.bernoulli import bernoulli_exp_minus, bernoulli_exp_minus_big_parts
from janedoe.dp_noise.randomness import as_source
from janedoe.dp_noise.rationals import positive_fraction
from janedoe.dp_noise.samplers import discrete_laplace
from janedoe.errors import JaneDoeInputError

_SCORE_GRID_BITS = 20
_INT64_SAFE = 1 << 62


def integer_scores(scores, sensitivity) -> tuple[np.ndarray, Fraction]:
    """Scores as int64 on a grid, and the sensitivity in grid units (grid 1 when the scores are integers)."""
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise JaneDoeInputError("scores must be a non-empty 1-d array", where="scores")
    if not np.all(np.isfinite(values)):
        raise JaneDoeInputError("scores must be finite", where="scores")
    bound = positive_fraction(sensitivity, "sensitivity")
    if np.all(values == np.rint(values)) and np.abs(values).max() < 2**53:
        return values.astype(np.int64), bound
    scaled = np.rint(values * 2.0**_SCORE_GRID_BITS)  # exact: a power-of-two scale, then round to an integer
    if np.abs(scaled).max() >= 2**53:
        raise JaneDoeInputError("scores are too large for the exact sampler", where="scores")
    return scaled.astype(np.int64), bound * 2**_SCORE_GRID_BITS + 1


def _scores_times_power_of_two(scores) -> tuple[list[int] | np.ndarray, int]:
    """(integers, shift) with score_r = integer_r / 2^shift exactly: every finite float is a dyadic rational."""
    values = np.asarray(scores)
    if values.ndim != 1 or values.size == 0:
        raise JaneDoeInputError("scores must be a non-empty 1-d array", where="scores")
    if values.dtype.kind in "iu":
        return values.astype(np.int64) if values.dtype.kind == "i" else [int(v) for v in values.tolist()], 0
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise JaneDoeInputError("scores must be numbers", where="scores") from None
    if not np.all(np.isfinite(values)):
        raise JaneDoeInputError("scores must be finite", where="scores")
    if np.all(values == np.rint(values)) and np.abs(values).max() < 2**53:
        return values.astype(np.int64), 0
    ratios = [v.as_integer_ratio() for v in values.tolist()]
    shift = max(d.bit_length() - 1 for _, d in ratios)  # denominators are powers of two
    return [n << (shift - d.bit_length() + 1) for n, d in ratios], shift


def exponential_mechanism(scores, epsilon, sensitivity, rng=None) -> int:
    """The index r chosen with probability proportional to exp(epsilon * score_r / (2 * sensitivity)), exactly.

    Rejection sampling: propose r uniformly, keep it with probability exp(-epsilon (max - score_r) / (2 sensitivity)).
    Scores are shifted by their maximum and taken as the exact rationals they are (floats are dyadic), so the
    exponents are non-negative rationals of any size and the exact Bernoulli sampler never overflows; int64 is used
    when everything fits, Python integers otherwise. epsilon-DP, and (epsilon^2/8)-zCDP (rho_of_exponential_mechanism).
    """
    eps = positive_fraction(epsilon, "epsilon")
    bound = positive_fraction(sensitivity, "sensitivity")
    values, shift = _scores_times_power_of_two(scores)
    factor = eps / (2 * bound) / (1 << shift)  # exponent_r = factor * (max - integer_r)
    source = as_source(rng)
    count = len(values)
    if isinstance(values, np.ndarray) and factor.denominator < _INT64_SAFE:
        gaps = values.max() - values  # integers below 2^54
        fits = int(gaps.max()) * factor.numerator < _INT64_SAFE
    else:
        fits = False
    if fits:
        numerators = gaps * factor.numerator

        def keep(proposals):
            return bernoulli_exp_minus(numerators[proposals], factor.denominator, source)

    else:
        top = max(int(v) for v in values)
        parts = [divmod((top - int(v)) * factor.numerator, factor.denominator) for v in values]
        whole = np.array([w for w, _ in parts], dtype=object)
        fraction = np.array([f for _, f in parts], dtype=object)

        def keep(proposals):
            return bernoulli_exp_minus_big_parts(whole[proposals], fraction[proposals], factor.denominator, source)

    while True:
        proposals = source.integers_below(count, count) if count > 1 else np.zeros(1, dtype=np.int64)
        hits = np.flatnonzero(keep(proposals))
        if hits.size:
            return int(proposals[hits[0]])


def report_noisy_max(scores, epsilon, sensitivity, rng=None) -> int:
    """The index of the largest score after adding discrete Laplace noise of scale 2 * sensitivity / epsilon.

    epsilon-DP for any scores of that sensitivity. Ties go to the lowest index.
    """
    eps = positive_fraction(epsilon, "epsilon")
    values, bound = integer_scores(scores, sensitivity)
    noisy = values + discrete_laplace(2 * bound / eps, values.size, rng)
    return int(np.argmax(noisy))
