"""Choosing one candidate privately: the exponential mechanism (sampled exactly) and report-noisy-max.

Scores that are not all integers are rounded to multiples of 2^-20 first; the rounding is part of the score function
and is paid for by adding 2^-20 to the sensitivity, so the guarantee holds for the scores actually used.
"""

from fractions import Fraction

import numpy as np
from janedoe.dp_noise.bernoulli import bernoulli_exp_minus
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


def exponential_mechanism(scores, epsilon, sensitivity, rng=None) -> int:
    """The index r chosen with probability proportional to exp(epsilon * score_r / (2 * sensitivity)), exactly.

    Rejection sampling: propose r uniformly, keep it with probability exp(-epsilon (max - score_r) / (2 sensitivity))
    decided by the exact Bernoulli sampler. epsilon-DP, and (epsilon^2/8)-zCDP (rho_of_exponential_mechanism).
    """
    eps = positive_fraction(epsilon, "epsilon")
    values, bound = integer_scores(scores, sensitivity)
    factor = eps / (2 * bound)
    gaps = values.max() - values
    if int(gaps.max()) * factor.numerator >= _INT64_SAFE or factor.denominator >= _INT64_SAFE:
        raise JaneDoeInputError("score range is too wide for the exact sampler", where="scores")
    numerators = gaps * factor.numerator
    source = as_source(rng)
    count = values.size
    while True:
        proposals = source.integers_below(count, count) if count > 1 else np.zeros(1, dtype=np.int64)
        kept = bernoulli_exp_minus(numerators[proposals], factor.denominator, source)
        hits = np.flatnonzero(kept)
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
