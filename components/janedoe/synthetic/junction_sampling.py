"""Ancestral sampling from a junction-tree model with randomized rounding, clique by clique.

The root clique's attributes get joint counts rounded from its marginal. Each later clique is filled group by group,
a group being the rows whose *sampled* separator values are the same, with counts rounded from P(new attributes |
separator) and shuffled within the group: the attributes a clique adds depend on the rest only through its
separator, which is the model's conditional independence (the MST sampler's care, generalised to cliques).
"""

import numpy as np
from janedoe.synthetic.junction_tree import GraphicalModel
from janedoe.synthetic.sampling import rounded_counts


def _rounded_cells(probabilities: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    values = np.repeat(np.arange(probabilities.size), rounded_counts(probabilities, total, rng))
    rng.shuffle(values)
    return values


def sample_model(model: GraphicalModel, rows: int, rng: np.random.Generator) -> np.ndarray:
    """An (rows, attributes) matrix of cells drawn from the model, cliques in BFS order from the root."""
    tree = model.tree
    codes = np.zeros((rows, len(tree.sizes)), dtype=np.int64)
    if rows == 0:
        return codes
    for node in tree.order:
        clique = tree.cliques[node]
        separator = tree.separators[node] if tree.parent[node] >= 0 else ()
        new = tuple(a for a in clique if a not in separator)
        # the clique marginal as (separator cells, new cells)
        axes = [clique.index(a) for a in separator] + [clique.index(a) for a in new]
        separator_shape = tuple(tree.sizes[a] for a in separator)
        new_shape = tuple(tree.sizes[a] for a in new)
        joint = np.transpose(model.marginals[node], axes).reshape(int(np.prod(separator_shape, dtype=np.int64)), -1)
        if separator:
            keys = np.ravel_multi_index(tuple(codes[:, a] for a in separator), separator_shape)
        else:
            keys = np.zeros(rows, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        group_sizes = np.bincount(keys, minlength=joint.shape[0])
        filled = np.empty(rows, dtype=np.int64)
        start = 0
        for key in np.flatnonzero(group_sizes):
            size = int(group_sizes[key])
            row = joint[key]
            probabilities = row if row.sum() > 0 else np.ones_like(row)
            filled[start : start + size] = _rounded_cells(probabilities, size, rng)
            start += size
        unravelled = np.unravel_index(filled, new_shape)
        for attribute, values in zip(new, unravelled, strict=True):
            codes[order, attribute] = values
    return codes
