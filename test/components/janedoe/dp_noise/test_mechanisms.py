"""Grid (snapping) mechanisms, randomized response, sparse vector, geometric and report-noisy-max."""

import math

import numpy as np
import pytest
from janedoe.dp_noise import (
    gaussian_mechanism,
    geometric_mechanism,
    key_selection_threshold,
    laplace_mechanism,
    randomized_response,
    report_noisy_max,
    sparse_vector,
)
from janedoe.errors import JaneDoeInputError
from scipy import stats


def test_laplace_on_a_grid_outputs_grid_points_with_discrete_laplace_noise():
    values = np.full(200_000, 0.3)
    release = laplace_mechanism(values, sensitivity=1, epsilon=1, rng=np.random.default_rng(1))
    g = release.granularity
    assert math.log2(g).is_integer() and values.size * g <= 1 / 1024
    steps = release.values / g
    assert np.array_equal(steps, np.rint(steps))  # every output is on the grid: no float-Laplace low bits
    noise = steps - round(0.3 / g)
    # noise in grid steps is discrete Laplace with the reported scale (sensitivity 1 + n grid steps, L1)
    scale_steps = release.scale / g
    assert release.scale >= (1 + values.size * g) / 1 * (1 - 1e-12)
    p = math.exp(-1 / scale_steps)
    assert np.mean(np.abs(noise) > 3 * scale_steps) == pytest.approx(
        2 * p ** (math.floor(3 * scale_steps) + 1) / (1 + p), abs=3e-3
    )
    assert stats.binomtest(int((noise > 0).sum()), int((noise != 0).sum())).pvalue > 1e-4


def test_gaussian_on_a_grid_has_the_reported_sigma():
    release = gaussian_mechanism(np.zeros(200_000), sensitivity=10, rho=0.5, rng=np.random.default_rng(2))
    assert release.scale >= 10 / math.sqrt(2 * 0.5)
    assert np.std(release.values) == pytest.approx(release.scale, rel=0.01)
    assert np.mean(np.abs(release.values) <= release.half_width_95) >= 0.95 - 3e-3
    integers = gaussian_mechanism(
        np.array([5, 7]), sensitivity=1, rho=0.1, integer_valued=True, rng=np.random.default_rng(3)
    )
    assert integers.values.dtype == np.int64 and integers.granularity == 1.0


def test_geometric_mechanism_keeps_integers():
    counts = np.array([[10, 20], [30, 40]])
    noisy = geometric_mechanism(counts, epsilon=1.0, rng=np.random.default_rng(4))
    assert noisy.shape == counts.shape and noisy.dtype == np.int64
    with pytest.raises(JaneDoeInputError):
        geometric_mechanism(np.array([1.5]), epsilon=1.0)


@pytest.mark.parametrize("categories", [2, 5])
def test_randomized_response_frequencies(categories):
    epsilon = 0.8
    truth = np.zeros(300_000, dtype=np.int64)
    reported = randomized_response(truth, categories=categories, epsilon=epsilon, rng=np.random.default_rng(5))
    keep = math.exp(epsilon) / (math.exp(epsilon) + categories - 1)
    expected = np.array([keep] + [(1 - keep) / (categories - 1)] * (categories - 1)) * truth.size
    assert stats.chisquare(np.bincount(reported, minlength=categories), expected).pvalue > 1e-4
    booleans = randomized_response(np.ones(10, dtype=bool), epsilon=1.0, rng=np.random.default_rng(6))
    assert booleans.dtype == bool
    with pytest.raises(JaneDoeInputError):
        randomized_response(np.array([3]), categories=2, epsilon=1.0)


def test_sparse_vector_finds_the_clear_positives():
    values = [1, 2, 500, 3, 600, 4]
    found = sparse_vector(
        values, threshold=250, sensitivity=1, epsilon=1.0, max_positives=2, rng=np.random.default_rng(7)
    )
    assert found == [2, 4]
    assert sparse_vector([1, 2, 3], threshold=1000, sensitivity=1, epsilon=1.0, rng=np.random.default_rng(8)) == []


def test_report_noisy_max_picks_a_clear_winner():
    picks = [report_noisy_max([1, 2, 100, 3], 1.0, 1.0, np.random.default_rng(s)) for s in range(50)]
    assert set(picks) == {2}


def test_key_selection_threshold_bounds_the_rare_key_probability():
    threshold, scale = key_selection_threshold(epsilon=1.0, delta=1e-6, max_partitions=1)
    p = math.exp(-1 / float(scale))
    # a key held by one person (count 1) passes only if the noise is >= threshold - 1
    assert p ** (threshold - 1) / (1 + p) <= 1e-6
    with pytest.raises(JaneDoeInputError):
        key_selection_threshold(epsilon=1.0, delta=0.0, max_partitions=1)
