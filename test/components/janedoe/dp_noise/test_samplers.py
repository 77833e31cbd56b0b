"""The samplers against their exact pmfs (computed here independently), on >= 1e6 draws with fixed seeds."""

import math
from fractions import Fraction

import numpy as np
import pytest
from janedoe.dp_noise import MAX_GAUSSIAN_SIGMA, discrete_gaussian, discrete_laplace, exact_gaussian_sigma
from janedoe.dp_noise.bernoulli import bernoulli_exp_minus, bernoulli_exp_minus_one
from janedoe.dp_noise.randomness import GeneratorSource, UrandomSource
from janedoe.errors import JaneDoeInputError
from scipy import stats

DRAWS = 1_000_000


def laplace_pmf(scale: float, support: np.ndarray) -> np.ndarray:
    ratio = math.exp(-1 / scale)
    return (1 - ratio) / (1 + ratio) * np.exp(-np.abs(support) / scale)


def gaussian_pmf(sigma: float, support: np.ndarray) -> np.ndarray:
    wide = np.arange(-int(60 * sigma) - 60, int(60 * sigma) + 61)
    normaliser = np.exp(-(wide.astype(float) ** 2) / (2 * sigma * sigma)).sum()
    return np.exp(-(support.astype(float) ** 2) / (2 * sigma * sigma)) / normaliser


def chi_square_p_value(draws: np.ndarray, pmf) -> float:
    """Pearson chi-square over the integers, the tails pooled into two bins so every bin expects >= 20 draws."""
    values, counts = np.unique(draws, return_counts=True)
    support = np.arange(values.min(), values.max() + 1)
    observed = np.zeros(support.size)
    observed[values - values.min()] = counts
    central = np.flatnonzero(pmf(support) * draws.size >= 20)
    first, last = support[central[0]], support[central[-1]]
    far = 300_000
    observed_bins = np.concatenate(
        [[observed[: central[0] + 1].sum()], observed[central[0] + 1 : central[-1]], [observed[central[-1] :].sum()]]
    )
    expected_bins = (
        np.concatenate(
            [
                [pmf(np.arange(first - far, first + 1)).sum()],
                pmf(support[central[0] + 1 : central[-1]]),
                [pmf(np.arange(last, last + far)).sum()],
            ]
        )
        * draws.size
    )
    assert abs(expected_bins.sum() - draws.size) < 1e-6 * draws.size  # the pmf is normalised
    return stats.chisquare(observed_bins, expected_bins * observed_bins.sum() / expected_bins.sum()).pvalue


@pytest.mark.parametrize("scale", [1, "0.7", "7/3", 100, 5000])  # 5000: past the tables, CKS20 Algorithm 2
def test_discrete_laplace_matches_its_pmf(scale):
    draws = discrete_laplace(scale, DRAWS, np.random.default_rng(20260101))
    assert draws.dtype == np.int64 and draws.size == DRAWS
    assert chi_square_p_value(draws, lambda x: laplace_pmf(float(Fraction(scale)), x)) > 1e-4


@pytest.mark.parametrize("sigma", [1, "3.7", "1/3", 100])
def test_discrete_gaussian_matches_its_pmf(sigma):
    draws = discrete_gaussian(sigma, DRAWS, np.random.default_rng(20260102))
    assert draws.dtype == np.int64 and draws.size == DRAWS
    assert chi_square_p_value(draws, lambda x: gaussian_pmf(float(Fraction(sigma)), x)) > 1e-4


def test_a_chi_square_on_the_wrong_scale_fails():
    # the test above has power: the same draws do not pass as a slightly different scale
    draws = discrete_laplace(1, DRAWS, np.random.default_rng(7))
    assert chi_square_p_value(draws, lambda x: laplace_pmf(1.02, x)) < 1e-6
    draws = discrete_gaussian(3, DRAWS, np.random.default_rng(7))
    assert chi_square_p_value(draws, lambda x: gaussian_pmf(3.05, x)) < 1e-6


def test_tails_and_symmetry():
    scale = 5
    draws = discrete_laplace(scale, DRAWS, np.random.default_rng(11))
    tail = np.mean(np.abs(draws) >= 20)
    ratio = math.exp(-1 / scale)
    exact_tail = 2 * (1 - ratio) / (1 + ratio) * ratio**20 / (1 - ratio)
    assert abs(tail - exact_tail) < 5 * math.sqrt(exact_tail / DRAWS)
    positive, negative = np.sum(draws > 0), np.sum(draws < 0)
    assert stats.binomtest(int(positive), int(positive + negative)).pvalue > 1e-4
    gauss = discrete_gaussian(2, DRAWS, np.random.default_rng(12))
    positive, negative = np.sum(gauss > 0), np.sum(gauss < 0)
    assert stats.binomtest(int(positive), int(positive + negative)).pvalue > 1e-4
    assert abs(np.mean(np.abs(gauss) >= 6) - 2 * gaussian_pmf(2, np.arange(6, 60)).sum()) < 3e-4


def test_same_seed_same_draws_and_default_source_differs():
    a = discrete_gaussian("2.5", 1000, np.random.default_rng(5))
    b = discrete_gaussian("2.5", 1000, np.random.default_rng(5))
    assert np.array_equal(a, b)
    assert not np.array_equal(discrete_laplace(10, 1000), discrete_laplace(10, 1000))


def test_default_source_is_the_os_csprng_and_has_the_right_law():
    draws = discrete_laplace(1, 200_000)
    assert chi_square_p_value(draws, lambda x: laplace_pmf(1.0, x)) > 1e-4
    words = UrandomSource().integers_below(10, 100_000)
    assert words.min() == 0 and words.max() == 9
    assert stats.chisquare(np.bincount(words, minlength=10)).pvalue > 1e-4
    eights = UrandomSource().integers_below(8, 80_000)
    assert stats.chisquare(np.bincount(eights, minlength=8)).pvalue > 1e-4 and eights.max() == 7
    big = UrandomSource().integers_below(3 * 2**61, 100_000)
    assert stats.chisquare(np.bincount(big // 2**61, minlength=3)).pvalue > 1e-4


def test_bernoulli_exp_minus_one_is_one_over_e():
    hits = bernoulli_exp_minus_one(GeneratorSource(np.random.default_rng(3)), DRAWS).sum()
    assert stats.binomtest(int(hits), DRAWS, math.exp(-1)).pvalue > 1e-4


@pytest.mark.parametrize("numerator,denominator", [(0, 3), (1, 3), (3, 3), (7, 2), (25, 10)])
def test_bernoulli_exp_minus_fraction(numerator, denominator):
    source = GeneratorSource(np.random.default_rng(numerator * 31 + denominator))
    hits = bernoulli_exp_minus(np.full(400_000, numerator), denominator, source).sum()
    assert stats.binomtest(int(hits), 400_000, math.exp(-numerator / denominator)).pvalue > 1e-4


def test_exact_parameters_and_bad_input():
    assert exact_gaussian_sigma(0.1) == Fraction(1, 10)
    long_sigma = exact_gaussian_sigma(2.345678901234567)
    assert long_sigma >= Fraction(2.345678901234567) and long_sigma - Fraction(2.345678901234567) < 0.005
    for bad in (0, -1, float("nan"), "abc", True):
        with pytest.raises(JaneDoeInputError):
            discrete_laplace(bad, 10)
        with pytest.raises(JaneDoeInputError):
            discrete_gaussian(bad, 10)
    with pytest.raises(JaneDoeInputError):
        discrete_gaussian(1, -5)
    with pytest.raises(JaneDoeInputError):
        discrete_gaussian(1e6, 5)
    assert discrete_laplace(1, 0).size == 0
    # the largest parameters still work and keep their law's spread
    assert np.std(discrete_gaussian(MAX_GAUSSIAN_SIGMA, 20_000, np.random.default_rng(1))) == pytest.approx(
        MAX_GAUSSIAN_SIGMA, rel=0.03
    )
    assert exact_gaussian_sigma(MAX_GAUSSIAN_SIGMA - 0.3) >= MAX_GAUSSIAN_SIGMA - 0.3
    huge = discrete_laplace(2**51 - 0.5, 1000, np.random.default_rng(2))
    assert np.abs(huge).max() > 2**45
