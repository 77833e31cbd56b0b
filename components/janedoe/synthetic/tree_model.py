"""A consistent tree-structured model fitted to noisy marginals (Private-PGM's estimator, specialised to a forest).

The noisy 1-way and 2-way counts contradict each other and go negative; the model is the distribution, Markov with
respect to the selected tree, whose marginals minimise the noise-weighted squared error to the measurements. It is
found by entropic mirror descent on the log-potentials with exact belief propagation on the tree at every step
(McKenna, Sheldon, Miklau 2019). Because on a tree the marginal polytope equals the local polytope, the closed-form
tree factorisation of the clipped measurements is an excellent starting point; mirror descent then polishes it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Measurement:
    """Noisy counts of the marginal on `columns` (one or two positions), with the per-cell noise std."""

    columns: tuple[int, ...]
    values: np.ndarray
    std: np.ndarray


@dataclass(frozen=True)
class TreeModel:
    """A forest-structured distribution: roots, BFS order, parent of every node, node and parent-edge marginals."""

    sizes: tuple[int, ...]
    order: tuple[int, ...]
    parent: tuple[int, ...]
    node_marginals: tuple[np.ndarray, ...]
    edge_marginals: dict[int, np.ndarray]
    total: float

    def conditional(self, child: int) -> np.ndarray:
        """P(child | parent) as a (parent cells, child cells) row-stochastic matrix."""
        joint = self.edge_marginals[child]
        row = joint.sum(axis=1, keepdims=True)
        uniform = np.full_like(joint, 1.0 / joint.shape[1])
        return np.where(row > 0, joint / np.where(row > 0, row, 1.0), uniform)


def _logsumexp(values: np.ndarray, axis: int | None) -> np.ndarray:
    peak = values.max(axis=axis, keepdims=True)
    summed = np.log(np.exp(values - peak).sum(axis=axis, keepdims=True)) + peak
    return summed.squeeze(axis=axis) if axis is not None else summed.reshape(())


class ColumnForest:
    """Rooted forest over the columns; edge potentials are stored per child as (parent cells, child cells)."""

    def __init__(self, sizes: Sequence[int], edges: Sequence[tuple[int, int]]) -> None:
        self.sizes = tuple(int(size) for size in sizes)
        neighbours: list[list[int]] = [[] for _ in self.sizes]
        for a, b in edges:
            neighbours[a].append(b)
            neighbours[b].append(a)
        parent = [-2] * len(self.sizes)
        order: list[int] = []
        for root in range(len(self.sizes)):
            if parent[root] != -2:
                continue
            parent[root] = -1
            queue = [root]
            while queue:
                node = queue.pop(0)
                order.append(node)
                for neighbour in neighbours[node]:
                    if parent[neighbour] == -2:
                        parent[neighbour] = node
                        queue.append(neighbour)
                    elif neighbour != parent[node]:
                        raise ValueError("the selected edges contain a cycle")
        self.parent = tuple(parent)
        self.order = tuple(order)

    def log_marginals(self, node_theta: list[np.ndarray], edge_theta: dict[int, np.ndarray]):
        """Exact sum-product on the forest, in log space: normalised node and parent-edge log-marginals."""
        inner = [theta.copy() for theta in node_theta]
        upward: dict[int, np.ndarray] = {}
        for child in reversed(self.order):
            parent = self.parent[child]
            if parent >= 0:
                upward[child] = _logsumexp(edge_theta[child] + inner[child][None, :], axis=1)
                inner[parent] += upward[child]
        full: list[np.ndarray] = [np.empty(0)] * len(self.sizes)
        edge_log: dict[int, np.ndarray] = {}
        for node in self.order:
            parent = self.parent[node]
            if parent < 0:
                full[node] = inner[node]
                continue
            parent_rest = full[parent] - upward[node]
            full[node] = inner[node] + _logsumexp(edge_theta[node] + parent_rest[:, None], axis=0)
            joint = edge_theta[node] + parent_rest[:, None] + inner[node][None, :]
            edge_log[node] = joint - _logsumexp(joint, axis=None)
        node_log = [belief - _logsumexp(belief, axis=None) for belief in full]
        return node_log, edge_log


def estimate_total(measurements: Sequence[Measurement]) -> float:
    """Inverse-variance weighted estimate of the number of records from every measurement's sum."""
    sums = np.array([m.values.sum() for m in measurements])
    variances = np.array([float(np.sum(np.broadcast_to(m.std, m.values.shape) ** 2)) for m in measurements])
    weights = 1.0 / variances
    return max(1.0, float(np.sum(weights * sums) / np.sum(weights)))


def _warm_start(forest: ColumnForest, node_measurements, edge_measurements):
    """Log-potentials of the tree factorisation of the clipped measurements: exact when they are consistent."""
    node_theta = []
    for node, size in enumerate(forest.sizes):
        if node_measurements.get(node):
            counts = np.clip(node_measurements[node][0][0], 0.0, None) + 0.01
            node_theta.append(np.log(counts / counts.sum()))
        else:
            node_theta.append(np.zeros(size))
    edge_theta = {}
    for child, parent in enumerate(forest.parent):
        if parent < 0:
            continue
        shape = (forest.sizes[parent], forest.sizes[child])
        if edge_measurements.get(child):
            joint = np.clip(edge_measurements[child][0][0], 0.0, None) + 0.01
            joint /= joint.sum()
            edge_theta[child] = np.log(joint) - np.log(joint.sum(1))[:, None] - np.log(joint.sum(0))[None, :]
        else:
            edge_theta[child] = np.zeros(shape)
    return node_theta, edge_theta


def estimate_tree_model(sizes: Sequence[int], edges: Sequence[tuple[int, int]],
                        measurements: Sequence[Measurement], *, iterations: int = 300) -> TreeModel:
    """Fit the tree model to the measurements (1-way on any node, 2-way only on tree edges)."""
    forest = ColumnForest(sizes, edges)
    total = estimate_total(measurements)
    node_measurements: dict[int, list] = {}
    edge_measurements: dict[int, list] = {}
    for measurement in measurements:
        std = np.broadcast_to(measurement.std, measurement.values.shape)
        weight = 1.0 / std**2
        if len(measurement.columns) == 1:
            node_measurements.setdefault(measurement.columns[0], []).append((measurement.values, weight))
            continue
        a, b = measurement.columns
        if forest.parent[b] == a:
            edge_measurements.setdefault(b, []).append((measurement.values, weight))
        elif forest.parent[a] == b:
            edge_measurements.setdefault(a, []).append((measurement.values.T, weight.T))
        else:
            raise ValueError("a 2-way measurement is not on a tree edge")

    def loss_and_gradient(node_log, edge_log):
        loss = 0.0
        node_gradient = [np.zeros(size) for size in forest.sizes]
        edge_gradient = {child: np.zeros_like(theta) for child, theta in edge_log.items()}
        for node, items in node_measurements.items():
            fitted = total * np.exp(node_log[node])
            for values, weight in items:
                difference = fitted - values
                loss += 0.5 * float(np.sum(weight * difference**2))
                node_gradient[node] += weight * difference
        for child, items in edge_measurements.items():
            fitted = total * np.exp(edge_log[child])
            for values, weight in items:
                difference = fitted - values
                loss += 0.5 * float(np.sum(weight * difference**2))
                edge_gradient[child] += weight * difference
        return loss, node_gradient, edge_gradient

    def fitted_counts(node_log, edge_log):
        return [total * np.exp(x) for x in node_log], {c: total * np.exp(x) for c, x in edge_log.items()}

    node_theta, edge_theta = _warm_start(forest, node_measurements, edge_measurements)
    node_log, edge_log = forest.log_marginals(node_theta, edge_theta)
    loss, node_gradient, edge_gradient = loss_and_gradient(node_log, edge_log)
    all_weights = [w for items in (*node_measurements.values(), *edge_measurements.values()) for _, w in items]
    step = 1.0 / (total * max(float(w.max()) for w in all_weights)) if all_weights else 0.0
    for _ in range(iterations if all_weights else 0):
        old_nodes, old_edges = fitted_counts(node_log, edge_log)
        for _attempt in range(30):
            new_node_theta = [t - step * g for t, g in zip(node_theta, node_gradient, strict=True)]
            new_edge_theta = {c: t - step * edge_gradient[c] for c, t in edge_theta.items()}
            new_node_log, new_edge_log = forest.log_marginals(new_node_theta, new_edge_theta)
            new_loss, new_node_gradient, new_edge_gradient = loss_and_gradient(new_node_log, new_edge_log)
            new_nodes, new_edges = fitted_counts(new_node_log, new_edge_log)
            expected = sum(float(np.sum(g * (o - n))) for g, o, n in zip(node_gradient, old_nodes, new_nodes,
                                                                       strict=True))
            expected += sum(float(np.sum(edge_gradient[c] * (old_edges[c] - new_edges[c]))) for c in old_edges)
            if loss - new_loss >= 0.5 * expected:
                break
            step *= 0.5
        else:
            break
        improvement = loss - new_loss
        node_theta, edge_theta, node_log, edge_log = new_node_theta, new_edge_theta, new_node_log, new_edge_log
        loss, node_gradient, edge_gradient = new_loss, new_node_gradient, new_edge_gradient
        if improvement <= 1e-9 * max(loss, 1e-12):
            break
        step *= 1.5
    return TreeModel(
        sizes=forest.sizes,
        order=forest.order,
        parent=forest.parent,
        node_marginals=tuple(np.exp(x) for x in node_log),
        edge_marginals={child: np.exp(x) for child, x in edge_log.items()},
        total=total,
    )
