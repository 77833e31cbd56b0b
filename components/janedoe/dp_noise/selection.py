"""Choosing one candidate privately: the exponential mechanism (sampled exactly) and report-noisy-max.

The exponential mechanism uses the scores exactly as given. Report-noisy-max (and sparse vector) add integer noise, so
scores that are not all integers are rounded to multiples of 2^-20 there; the rounding is part of the score function
and is paid for by adding 2^-20 to the sensitivity, so the guarantee holds for the scores actually used.
"""

import math
from fractions import Fraction

import numpy as np
from janedoe.dp_noise.bernoulli import bernoulli_exp_minus, bernoulli_exp_minus_big, bernoulli_exp_minus_parts
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


def _exact_scores(scores) -> np.ndarray:
    """Scores as int64, float64 or (huge unsigned) Python ints: each is an exact rational, floats being dyadic."""
    values = np.asarray(scores)
    if values.ndim != 1 or values.size == 0:
        raise JaneDoeInputError("scores must be a non-empty 1-d array", where="scores")
    if values.dtype.kind == "i":
        return values.astype(np.int64)
    if values.dtype.kind == "u":
        return values.astype(np.int64) if values.max() < 2**63 else np.array(values.tolist(), dtype=object)
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise JaneDoeInputError("scores must be numbers", where="scores") from None
    if not np.all(np.isfinite(values)):
        raise JaneDoeInputError("scores must be finite", where="scores")
    return values


def _whole_lower_bound(values: np.ndarray, top, factor: Fraction) -> np.ndarray:
    """An integer L_r <= factor * (top - score_r), from floats with a safety margin; only ever used as a lower bound."""
    if values.dtype == np.int64:
        gaps = (np.int64(top).astype(np.uint64) - values.astype(np.uint64)).astype(np.float64)  # exact mod 2^64
    elif values.dtype == object:
        gaps = np.array([float(top - v) for v in values.tolist()])
    else:
        with np.errstate(over="ignore"):
            gaps = np.float64(top) - values  # may round to inf: the cap below handles it
    factor_float = float(factor) if factor < 2**1000 else 2.0**1000
    with np.errstate(over="ignore", invalid="ignore"):
        estimate = gaps * factor_float * (1 - 2.0**-40)  # three roundings of relative error 2^-53 each, then a margin
    estimate = np.nan_to_num(estimate, nan=0.0)  # inf * 0 when the factor underflows: 0 is always a lower bound
    return np.floor(np.clip(estimate, 0.0, 2.0**62)).astype(np.int64)


def _exact(value) -> Fraction:
    return Fraction(value.item() if isinstance(value, np.generic) else value)


def exponential_mechanism(scores, epsilon, sensitivity, rng=None) -> int:
    """The index r chosen with probability proportional to exp(epsilon * score_r / (2 * sensitivity)), exactly.

    Rejection sampling: propose r uniformly, keep it with probability exp(-x_r), x_r = epsilon (max - score_r) /
    (2 sensitivity), the scores taken as the exact rationals they are. When the x_r do not fit int64 rationals,
    exp(-x_r) = exp(-L_r) exp(-(x_r - L_r)) for an integer L_r <= x_r estimated in floats: the first factor is L_r
    rounds of the int64 Bernoulli(1/e) sampler, and only its few survivors get x_r - L_r as an exact Fraction for the
    big-integer sampler. Nothing overflows and no float decides an outcome. epsilon-DP, (epsilon^2/8)-zCDP.
    """
    eps = positive_fraction(epsilon, "epsilon")
    bound = positive_fraction(sensitivity, "sensitivity")
    values = _exact_scores(scores)
    factor = eps / (2 * bound)  # x_r = factor * (max - score_r)
    top = values.max()
    source = as_source(rng)
    count = values.size
    fits = False
    if values.dtype != object and factor.denominator < _INT64_SAFE and np.all(values == np.rint(values)):
        if np.abs(values).max() < 2**53:
            gaps = (top - values).astype(np.int64)
            fits = int(gaps.max()) * factor.numerator < _INT64_SAFE
    if fits:
        numerators = gaps * factor.numerator

        def keep(proposals):
            return bernoulli_exp_minus(numerators[proposals], factor.denominator, source)

    else:
        lower = _whole_lower_bound(values, top, factor)
        exact_top = _exact(top)

        rests: dict[int, Fraction] = {}

        def rest_of(r: int) -> Fraction:
            if r not in rests:
                rest = factor * (exact_top - _exact(values[r])) - int(lower[r])
                if rest < 0:
                    raise AssertionError("the float lower bound exceeded the exact exponent")
                rests[r] = rest
            return rests[r]

        def keep(proposals):
            kept = bernoulli_exp_minus_parts(lower[proposals], np.zeros(proposals.size, dtype=np.int64), 1, source)
            survivors = np.flatnonzero(kept)
            if survivors.size:
                parts = [rest_of(int(r)) for r in proposals[survivors]]
                common = math.lcm(*(rest.denominator for rest in parts))
                numerators = [rest.numerator * (common // rest.denominator) for rest in parts]
                kept[survivors] = bernoulli_exp_minus_big(numerators, common, source)
            return kept

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
