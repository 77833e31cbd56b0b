"""Belief propagation against brute-force enumeration; estimation recovers consistent marginals; rounding sums."""

import itertools

import numpy as np
import pytest
from janedoe.synthetic.sampling import rounded_counts
from janedoe.synthetic.tree_model import ColumnForest, Measurement, estimate_tree_model


def _brute_force(sizes, forest, node_theta, edge_theta):
    """The joint by enumerating every cell: exp(sum of potentials), normalised."""
    joint = np.zeros(sizes)
    for cell in itertools.product(*(range(s) for s in sizes)):
        score = sum(node_theta[i][cell[i]] for i in range(len(sizes)))
        score += sum(edge_theta[c][cell[p], cell[c]] for c, p in enumerate(forest.parent) if p >= 0)
        joint[cell] = np.exp(score)
    return joint / joint.sum()


@pytest.mark.parametrize("edges", [[(0, 1), (1, 2), (1, 3)], [(2, 0), (0, 3)], []])
def test_belief_propagation_matches_enumeration(edges):
    rng = np.random.default_rng(0)
    sizes = (2, 3, 4, 2)
    forest = ColumnForest(sizes, edges)
    node_theta = [rng.normal(size=s) for s in sizes]
    edge_theta = {c: rng.normal(size=(sizes[p], sizes[c])) for c, p in enumerate(forest.parent) if p >= 0}
    node_log, edge_log = forest.log_marginals(node_theta, edge_theta)
    joint = _brute_force(sizes, forest, node_theta, edge_theta)
    for i in range(len(sizes)):
        others = tuple(j for j in range(len(sizes)) if j != i)
        np.testing.assert_allclose(np.exp(node_log[i]), joint.sum(axis=others), atol=1e-12)
    for child, parent in enumerate(forest.parent):
        if parent >= 0:
            others = tuple(j for j in range(len(sizes)) if j not in (parent, child))
            pair = joint.sum(axis=others)
            pair = pair if parent < child else pair.T
            np.testing.assert_allclose(np.exp(edge_log[child]), pair, atol=1e-12)


def test_a_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        ColumnForest((2, 2, 2), [(0, 1), (1, 2), (2, 0)])


def test_noisy_measurements_become_a_consistent_model_closer_to_the_truth():
    """Mirror descent: the fitted marginals are consistent and fit the measurements better than the warm start."""
    rng = np.random.default_rng(1)
    truth = rng.dirichlet(np.ones(12)).reshape(3, 4) * 5000
    noisy_pair = truth + rng.normal(0, 30, truth.shape)
    noisy_a = truth.sum(1) + rng.normal(0, 30, 3)
    noisy_b = truth.sum(0) + rng.normal(0, 30, 4)
    measurements = [Measurement((0,), noisy_a, np.full(3, 30.0)), Measurement((1,), noisy_b, np.full(4, 30.0)),
                    Measurement((0, 1), noisy_pair, np.full((3, 4), 30.0))]
    model = estimate_tree_model((3, 4), [(0, 1)], measurements, iterations=500)
    pair = model.edge_marginals[1]
    np.testing.assert_allclose(pair.sum(1), model.node_marginals[0], atol=1e-9)
    np.testing.assert_allclose(pair.sum(0), model.node_marginals[1], atol=1e-9)
    assert (pair >= 0).all() and pair.sum() == pytest.approx(1.0)

    def loss(fitted_pair):
        counts = model.total * fitted_pair
        return (((counts - noisy_pair) ** 2).sum() + ((counts.sum(1) - noisy_a) ** 2).sum()
                + ((counts.sum(0) - noisy_b) ** 2).sum())

    clipped = np.clip(noisy_pair, 0, None) + 0.01
    unpolished = loss(clipped / clipped.sum())
    assert loss(pair) < unpolished
    # and it is a least-squares fit: no nearby consistent distribution does better
    for _ in range(50):
        nudged = np.clip(pair + rng.normal(0, 1e-4, pair.shape), 0, None)
        assert loss(pair) <= loss(nudged / nudged.sum()) + 1e-6


@pytest.mark.parametrize("total", [0, 1, 7, 1000])
def test_randomized_rounding_sums_and_stays_within_one(total):
    rng = np.random.default_rng(total)
    probabilities = rng.dirichlet(np.ones(9))
    counts = rounded_counts(probabilities, total, rng)
    assert counts.sum() == total
    expected = probabilities * total
    assert np.all(counts >= np.floor(expected)) and np.all(counts <= np.ceil(expected))
