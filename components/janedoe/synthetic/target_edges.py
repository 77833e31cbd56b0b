"""MST's edges beyond the tree: what the tree says about a pair of columns, and the model once extra edges are added.

A tree model answers any pair's 2-way marginal by chaining conditionals along the path between them, which is how
the extra edges are scored. With extra edges the graph has cycles, so the model becomes a junction-tree model
(junction_tree.py), started from the tree's own factorisation: prod(edge marginals) / prod(node marginals^(deg-1)).
"""

from collections.abc import Sequence

import numpy as np
from janedoe.synthetic.junction_tree import GraphicalModel, JunctionTree, estimate_model
from janedoe.synthetic.junction_tree import Measurement as CliqueMeasurement
from janedoe.synthetic.tree_model import Measurement, TreeModel

_FLOOR = 1e-12  # keeps the logs of cells the model gives no mass finite


def _edge_joint(tree: TreeModel, a: int, b: int) -> np.ndarray:
    """P(a, b) for a tree edge, shaped (sizes[a], sizes[b])."""
    if tree.parent[b] == a:
        return tree.edge_marginals[b]
    return tree.edge_marginals[a].T


def pair_from_tree(tree: TreeModel, a: int, b: int) -> np.ndarray:
    """The tree model's P(a, b) (probabilities, shaped (sizes[a], sizes[b])): P(a) carried along the path to b."""
    neighbours: dict[int, list[int]] = {node: [] for node in range(len(tree.sizes))}
    for child, parent in enumerate(tree.parent):
        if parent >= 0:
            neighbours[child].append(parent)
            neighbours[parent].append(child)
    joint = {a: np.diag(tree.node_marginals[a])}
    queue = [a]
    while queue and b not in joint:
        node = queue.pop(0)
        for other in neighbours[node]:
            if other in joint:
                continue
            edge = _edge_joint(tree, node, other)
            row = edge.sum(axis=1, keepdims=True)
            conditional = np.divide(edge, row, out=np.zeros_like(edge), where=row > 0)
            joint[other] = joint[node] @ conditional
            queue.append(other)
    if b not in joint:  # different trees of a forest: independent
        return np.outer(tree.node_marginals[a], tree.node_marginals[b])
    return joint[b]


def _tree_as_graph(tree: TreeModel) -> GraphicalModel:
    """The tree model as junction-tree potentials (cliques = its edges), for warm-starting the bigger model."""
    edges = [(parent, child) if parent < child else (child, parent)
             for child, parent in enumerate(tree.parent) if parent >= 0]
    junction = JunctionTree(tree.sizes, [*edges, *((n,) for n in range(len(tree.sizes)))])
    potentials = [np.zeros(shape) for shape in junction.shapes]
    for a, b in edges:
        home = junction.home((a, b))
        assert home is not None  # every edge is one of the junction tree's cliques
        potentials[home] += junction._broadcast(np.log(np.maximum(_edge_joint(tree, a, b), _FLOOR)), (a, b), home)
    degree = np.bincount(np.array(edges, dtype=np.int64).ravel(), minlength=len(tree.sizes)) if edges else None
    for node, marginal in enumerate(tree.node_marginals):
        extra = (degree[node] - 1) if degree is not None else -1
        if extra:
            home = junction.home((node,))
            assert home is not None  # every node is one of the junction tree's cliques
            potentials[home] -= extra * junction._broadcast(np.log(np.maximum(marginal, _FLOOR)), (node,), home)
    return GraphicalModel(junction, potentials, [], tree.total)


def fit_with_extra_edges(tree: TreeModel, measurements: Sequence[Measurement], *, iterations: int) -> GraphicalModel:
    """A junction-tree model fitted to MST's measurements (tree and extra edges), warm-started from `tree`.

    Each measurement keeps one sigma (the junction-tree estimator's): a merged rare cell, whose noise is larger,
    weighs as much as the others.
    """
    converted = []
    for m in measurements:
        values = m.values if list(m.columns) == sorted(m.columns) else m.values.T
        converted.append(CliqueMeasurement(tuple(sorted(m.columns)), values, float(np.min(m.std))))
    return estimate_model(tree.sizes, converted, iterations=iterations, previous=_tree_as_graph(tree))
