"""Small mechanisms on integers and categories: geometric, randomized response, sparse vector, key selection."""

import math
from fractions import Fraction

import numpy as np
from janedoe.dp_noise.bernoulli import bernoulli_exp_minus
from janedoe.dp_noise.randomness import as_source
from janedoe.dp_noise.rationals import positive_fraction
from janedoe.dp_noise.samplers import discrete_laplace, exact_laplace_scale
from janedoe.dp_noise.selection import integer_scores
from janedoe.errors import JaneDoeInputError


def geometric_mechanism(counts, *, sensitivity: int = 1, epsilon, rng=None) -> np.ndarray:
    """epsilon-DP integer counts: two-sided geometric (= discrete Laplace) noise of scale L1-sensitivity / epsilon."""
    values = np.asarray(counts)
    if values.dtype.kind not in "iu":
        raise JaneDoeInputError("the geometric mechanism takes integer counts", where="counts")
    scale = positive_fraction(sensitivity, "sensitivity") / positive_fraction(epsilon, "epsilon")
    return values.astype(np.int64) + discrete_laplace(scale, values.size, rng).reshape(values.shape)


def _bernoulli_exp_minus_epsilon(epsilon: Fraction, size: int, source) -> np.ndarray:
    return bernoulli_exp_minus(np.full(size, epsilon.numerator, dtype=np.int64), epsilon.denominator, source)


def randomized_response(values, *, categories: int = 2, epsilon, rng=None) -> np.ndarray:
    """epsilon-DP local randomization of category codes 0..categories-1 (2 = yes/no).

    The true code is kept with probability e^eps / (e^eps + categories - 1), otherwise a uniformly chosen other code
    is reported. Sampled exactly: each round picks a uniform slot; slot 0 keeps the truth, any other slot is taken
    only with probability e^-eps, else the round repeats.
    """
    eps = positive_fraction(epsilon, "epsilon")
    if isinstance(categories, bool) or not isinstance(categories, int) or categories < 2:
        raise JaneDoeInputError("randomized response needs at least 2 categories", where="categories")
    codes = np.asarray(values)
    boolean = codes.dtype == bool
    codes = codes.astype(np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= categories):
        raise JaneDoeInputError("codes must be in 0..categories-1", where="values")
    source = as_source(rng)
    flat = codes.ravel()
    out: np.ndarray = flat.copy()
    pending = np.arange(flat.size)
    while pending.size:
        slot = source.integers_below(categories, pending.size)
        keep = slot == 0
        take_other = ~keep & _bernoulli_exp_minus_epsilon(eps, pending.size, source)
        chosen = pending[take_other]
        out[chosen] = (flat[chosen] + slot[take_other]) % categories  # a uniform code other than the true one
        pending = pending[~(keep | take_other)]
    out = out.reshape(codes.shape)
    return out.astype(bool) if boolean else out


def sparse_vector(values, *, threshold: float, sensitivity, epsilon, max_positives: int = 1, rng=None) -> list[int]:
    """AboveThreshold / sparse vector (Lyu, Su, Li 2017, Alg. 1): indices whose noisy value passes a noisy threshold.

    epsilon-DP in total, for queries of the given sensitivity, answered in order until max_positives are found;
    half the budget noises the threshold (drawn once), half the queries (scale 2 c sensitivity / (epsilon / 2)).
    Scores are snapped to the same grid as the exponential mechanism (exact integers); the noise is discrete Laplace.
    """
    eps = positive_fraction(epsilon, "epsilon")
    if isinstance(max_positives, bool) or not isinstance(max_positives, int) or max_positives < 1:
        raise JaneDoeInputError("max_positives must be a positive integer", where="max_positives")
    scores, bound = integer_scores(np.append(np.asarray(values, dtype=np.float64), float(threshold)), sensitivity)
    queries, limit = scores[:-1], int(scores[-1])
    threshold_scale = exact_laplace_scale(bound / (eps / 2))
    query_scale = exact_laplace_scale(2 * max_positives * bound / (eps / 2))
    positives: list[int] = []
    noisy_threshold = limit + int(discrete_laplace(threshold_scale, 1, rng)[0])
    start = 0
    while start < queries.size and len(positives) < max_positives:
        block = queries[start:]
        noisy = block + discrete_laplace(query_scale, block.size, rng)
        above = np.flatnonzero(noisy >= noisy_threshold)
        if above.size == 0:
            break
        positives.append(start + int(above[0]))
        start += int(above[0]) + 1  # the threshold keeps its noise: Lyu et al.'s proof covers one draw of it
    return positives


def key_selection_threshold(
    *, epsilon, delta: float, max_partitions: int, max_per_partition: int = 1, l1_sensitivity: int | None = None
) -> tuple:
    """(threshold, laplace scale) for releasing keys not known in advance (Korolova et al. 2009; Wilson et al. 2020).

    Each person touches at most max_partitions keys with at most max_per_partition rows each. A key is released when
    its count plus discrete Laplace noise (scale L1/epsilon) reaches the threshold; a key that only the differing
    person has (true count <= max_per_partition) passes with probability <= delta / max_partitions. L1 defaults to
    max_partitions * max_per_partition; pass a smaller one when a person's rows are capped in total.
    """
    eps = positive_fraction(epsilon, "epsilon")
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise JaneDoeInputError("releasing keys that are not known in advance needs 0 < delta < 1", where="delta")
    l1 = l1_sensitivity or max_partitions * max_per_partition
    scale = exact_laplace_scale(Fraction(l1) / eps)
    p = math.exp(-1 / float(scale))
    # P(Z >= m) = p^m / (1 + p) <= delta / max_partitions
    margin = max(math.ceil(math.log(delta * (1 + p) / max_partitions) / math.log(p)), 1) + 1
    return max_per_partition + margin, scale
