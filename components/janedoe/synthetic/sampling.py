"""Ancestral sampling from a tree model with randomized rounding, as MST publishes it.

Each root column gets counts rounded from its marginal; each child column is filled group by group, a group being
the rows whose *sampled* parent value is the same, with counts rounded from P(child | that parent value) and
shuffled within the group. Grouping on the actually sampled parent value is what keeps the tree's conditional
independences (mbi 1.1.0 broke this and introduced spurious correlations).
"""

import numpy as np
from janedoe.synthetic.tree_model import TreeModel


def rounded_counts(probabilities: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Integer counts summing to `total`: floors, plus one extra for cells drawn by their fractional parts."""
    expected = probabilities * (total / probabilities.sum())
    counts = np.floor(expected).astype(np.int64)
    extra = total - int(counts.sum())
    if extra > 0:
        fractions = expected - counts
        candidates = np.flatnonzero(fractions > 0)
        if candidates.size < extra:  # float round-off: fall back to the largest cells
            candidates = np.argsort(-expected)[: max(extra, candidates.size)]
            fractions = np.ones_like(expected)
        weights = fractions[candidates] / fractions[candidates].sum()
        counts[rng.choice(candidates, size=extra, replace=False, p=weights)] += 1
    return counts


def _rounded_column(probabilities: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    values = np.repeat(np.arange(probabilities.size), rounded_counts(probabilities, total, rng))
    rng.shuffle(values)
    return values


def sample_tree(tree: TreeModel, rows: int, rng: np.random.Generator) -> np.ndarray:
    """An (rows, columns) matrix of cells drawn from the tree model, parents before children."""
    codes = np.zeros((rows, len(tree.sizes)), dtype=np.int64)
    if rows == 0:
        return codes
    for node in tree.order:
        parent = tree.parent[node]
        if parent < 0:
            codes[:, node] = _rounded_column(tree.node_marginals[node], rows, rng)
            continue
        conditional = tree.conditional(node)
        order = np.argsort(codes[:, parent], kind="stable")
        group_sizes = np.bincount(codes[:, parent], minlength=tree.sizes[parent])
        filled = np.empty(rows, dtype=np.int64)
        start = 0
        for parent_value in np.flatnonzero(group_sizes):
            size = int(group_sizes[parent_value])
            filled[start : start + size] = _rounded_column(conditional[parent_value], size, rng)
            start += size
        codes[order, node] = filled
    return codes
