"""The exponential mechanism on large scores, long float epsilons and many candidates, against its exact law."""

import math

import numpy as np
import pytest
from janedoe.dp_noise import exponential_mechanism
from janedoe.dp_noise.bernoulli import bernoulli_exp_minus_big, bernoulli_ratio_of_big_integers
from janedoe.dp_noise.randomness import GeneratorSource
from janedoe.errors import JaneDoeInputError
from scipy import stats


def exponential_law(scores, epsilon: float, sensitivity: float) -> np.ndarray:
    """exp(eps * score / (2 sensitivity)) normalised, shifted by the maximum in float (an independent computation)."""
    exponents = epsilon * (np.asarray(scores, dtype=float) - max(scores)) / (2 * sensitivity)
    weights = np.exp(exponents)
    return weights / weights.sum()


def picks(scores, epsilon, sensitivity, draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    chosen = [exponential_mechanism(scores, epsilon, sensitivity, rng) for _ in range(draws)]
    return np.bincount(chosen, minlength=len(scores))


def test_small_candidate_set_matches_the_exponential_law():
    scores = [0.0, 0.7, 1.9, 3.3, 4.0, -2.25]
    counts = picks(scores, 1.1, 0.9, 8_000, 1)
    expected = exponential_law(scores, 1.1, 0.9) * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-4
    # the test has power: the same picks do not pass for a 30% larger epsilon
    assert stats.chisquare(counts, exponential_law(scores, 1.1 * 1.3, 0.9) * counts.sum()).pvalue < 1e-6


def test_large_scores_with_a_long_float_epsilon_and_ten_thousand_candidates():
    epsilon = 0.1 + 0.2  # 0.30000000000000004: an exact rational with a 55-bit numerator
    generator = np.random.default_rng(3)
    scores = np.sort(generator.uniform(5e5, 1e6 - 500, 10_000))  # far below the top three: weights < e^-75
    scores[-3:] = 1e6 + np.array([0.0, 5.25, 10.5])
    counts = picks(scores, epsilon, 1.0, 400, 4)
    assert counts[:-3].sum() == 0
    top = exponential_law(scores[-3:], epsilon, 1.0)
    assert stats.chisquare(counts[-3:], top * counts.sum()).pvalue > 1e-4
    integer_scores = np.rint(scores).astype(np.int64)  # int64 scores take the same path to the same law
    counts = picks(integer_scores, epsilon, 1.0, 400, 5)
    assert counts[:-3].sum() == 0
    assert stats.chisquare(counts[-3:], exponential_law(integer_scores[-3:], epsilon, 1.0) * 400).pvalue > 1e-4


def test_extreme_magnitudes_are_exact():
    # equal huge non-integer scores: a fair choice; a gap of 1e285 at 1e300 is never chosen
    tie = picks([1e15 + 0.5, 1e15 + 0.5, -1e15], 0.3, 1.0, 4_000, 6)
    assert tie[2] == 0 and stats.binomtest(int(tie[0]), 4_000).pvalue > 1e-4
    assert set(np.flatnonzero(picks([1e300 - 1e285, 1e300, -1e300, 5e-324], 1e-200, 1.0, 200, 7))) == {1}
    # a score gap overflowing float64 with an epsilon underflowing it: both candidates stay (almost) equally likely
    halves = picks([1e308, -1e308], 5e-324, 1e300, 2_000, 9)
    assert stats.binomtest(int(halves[0]), 2_000).pvalue > 1e-4
    # unsigned scores past int64: a gap of 4 at epsilon 1 (sensitivity 1) is a weight ratio of e^2
    unsigned = picks(np.array([2**64 - 1, 2**64 - 5], dtype=np.uint64), 1.0, 1.0, 2_000, 10)
    assert stats.binomtest(int(unsigned[0]), 2_000, math.e**2 / (1 + math.e**2)).pvalue > 1e-4
    with pytest.raises(JaneDoeInputError):
        exponential_mechanism([1.0, float("inf")], 1.0, 1.0)
    with pytest.raises(JaneDoeInputError):
        exponential_mechanism([1.0, 2.0], 1.0, 0.0)


def test_big_integer_bernoullis_match_their_probabilities():
    source = GeneratorSource(np.random.default_rng(8))
    denominator = 3**80  # far beyond int64
    numerator = denominator * 2 // 7
    hits = bernoulli_ratio_of_big_integers([numerator] * 200_000, denominator, source).sum()
    assert stats.binomtest(int(hits), 200_000, numerator / denominator).pvalue > 1e-4
    # exp(-(1 + 5/13)), numerator and denominator scaled by 2^70
    hits = bernoulli_exp_minus_big([18 << 70] * 200_000, 13 << 70, source).sum()
    assert stats.binomtest(int(hits), 200_000, math.exp(-18 / 13)).pvalue > 1e-4
    assert bernoulli_ratio_of_big_integers([denominator, 0], denominator, source).tolist() == [True, False]
