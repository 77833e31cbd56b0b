"""A discrete graphical model on a junction tree, fitted to noisy marginals (Private-PGM, McKenna et al. 2019).

The measured attribute sets are triangulated (greedy elimination by smallest new clique) into maximal cliques joined
by a maximum-weight spanning tree, which has the running-intersection property. The model is exp(sum of clique
log-potentials); exact belief propagation in log space gives its clique marginals, so every marginal it reports comes
from one consistent distribution. Estimation is entropic mirror descent on the potentials with an Armijo line search.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Clique = tuple[int, ...]


def triangulated_cliques(sizes: Sequence[int], attribute_sets: Sequence[Clique]) -> list[Clique]:
    """Maximal cliques of a triangulation of the graph joining attributes measured together (every attribute)."""
    sizes = [int(size) for size in sizes]
    neighbours: list[set[int]] = [set() for _ in sizes]
    for attributes in attribute_sets:
        for a, b in itertools.combinations(attributes, 2):
            neighbours[a].add(b)
            neighbours[b].add(a)
    remaining = set(range(len(sizes)))
    cliques: list[frozenset[int]] = []
    while remaining:
        node = min(remaining, key=lambda n: (sizes[n] * math.prod(sizes[m] for m in neighbours[n]), n))
        clique = frozenset(neighbours[node] | {node})
        for a, b in itertools.combinations(neighbours[node], 2):
            neighbours[a].add(b)
            neighbours[b].add(a)
        for other in neighbours[node]:
            neighbours[other].discard(node)
        remaining.discard(node)
        cliques.append(clique)
    maximal = [c for c in cliques if not any(c < other for other in cliques)]
    return [tuple(sorted(c)) for c in dict.fromkeys(maximal)]


def cells(sizes: Sequence[int], attributes: Clique) -> int:
    return math.prod(int(sizes[a]) for a in attributes)


def model_bytes(sizes: Sequence[int], attribute_sets: Sequence[Clique]) -> int:
    """Memory of the float64 clique tables of the junction tree these attribute sets would need."""
    return 8 * sum(cells(sizes, c) for c in triangulated_cliques(sizes, attribute_sets))


def _logsumexp(values: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Log-sum-exp over `axes`, keeping them as length-1 axes."""
    if not axes:
        return values
    peak = values.max(axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    return np.log(np.exp(values - peak).sum(axis=axes, keepdims=True)) + peak


@dataclass(frozen=True)
class Measurement:
    """Noisy counts on the sorted attribute set `attributes`, with one noise std for every cell."""

    attributes: Clique
    values: np.ndarray
    sigma: float


class JunctionTree:
    """Cliques, a rooted spanning tree over them (BFS order, parent, separator), and belief propagation."""

    def __init__(self, sizes: Sequence[int], attribute_sets: Sequence[Clique]) -> None:
        self.sizes = tuple(int(s) for s in sizes)
        self.cliques = triangulated_cliques(self.sizes, attribute_sets)
        count = len(self.cliques)
        pairs = sorted(((len(set(a) & set(b)), i, j) for (i, a), (j, b) in
                        itertools.combinations(enumerate(self.cliques), 2)), reverse=True)
        component = list(range(count))

        def find(x: int) -> int:
            while component[x] != x:
                component[x] = component[component[x]]
                x = component[x]
            return x

        adjacency: list[list[int]] = [[] for _ in range(count)]
        for _, i, j in pairs:
            if find(i) != find(j):
                component[find(i)] = find(j)
                adjacency[i].append(j)
                adjacency[j].append(i)
        parent = [-1] * count
        order, seen = [0], {0}
        for node in order:
            for other in adjacency[node]:
                if other not in seen:
                    seen.add(other)
                    parent[other] = node
                    order.append(other)
        self.parent = tuple(parent)
        self.order = tuple(order)
        self.separators = tuple(
            tuple(sorted(set(c) & set(self.cliques[p]))) if p >= 0 else () for c, p in zip(self.cliques, parent,
                                                                                          strict=True))
        self.shapes = [tuple(self.sizes[a] for a in c) for c in self.cliques]

    @property
    def nbytes(self) -> int:
        return 8 * sum(int(np.prod(shape)) for shape in self.shapes)

    def home(self, attributes: Clique) -> int | None:
        """A clique containing `attributes` (the smallest), or None."""
        holders = [i for i, c in enumerate(self.cliques) if set(attributes) <= set(c)]
        return min(holders, key=lambda i: np.prod(self.shapes[i])) if holders else None

    def _axes_outside(self, clique: int, attributes: Clique) -> tuple[int, ...]:
        return tuple(k for k, a in enumerate(self.cliques[clique]) if a not in attributes)

    def _broadcast(self, values: np.ndarray, attributes: Clique, clique: int) -> np.ndarray:
        """A table over sorted `attributes` (a subset of the clique) reshaped to broadcast against the clique."""
        return values.reshape([self.sizes[a] if a in attributes else 1 for a in self.cliques[clique]])

    def calibrate(self, potentials: list[np.ndarray]) -> list[np.ndarray]:
        """Normalised log clique marginals of exp(sum of potentials), by two passes of sum-product."""
        inner = [p.copy() for p in potentials]
        upward: dict[int, np.ndarray] = {}
        for child in reversed(self.order):
            parent = self.parent[child]
            if parent < 0:
                continue
            separator = self.separators[child]
            message = _logsumexp(inner[child], self._axes_outside(child, separator))
            upward[child] = message
            inner[parent] = inner[parent] + self._broadcast(message, separator, parent)
        full = [np.empty(0)] * len(self.cliques)
        for node in self.order:
            parent = self.parent[node]
            if parent < 0:
                full[node] = inner[node]
                continue
            separator = self.separators[node]
            rest = full[parent] - self._broadcast(upward[node], separator, parent)
            message = _logsumexp(rest, self._axes_outside(parent, separator))
            full[node] = inner[node] + self._broadcast(message, separator, node)
        return [belief - _logsumexp(belief, tuple(range(belief.ndim))).reshape(()) for belief in full]

    def clique_marginals(self, potentials: list[np.ndarray]) -> list[np.ndarray]:
        """Normalised clique marginals (probabilities) of exp(sum of potentials): Hugin propagation, linear space.

        calibrate()'s result exponentiated, several times cheaper: each clique is exponentiated once (shifted by its
        maximum, so it stays in (0, 1]), messages are rescaled to a maximum of one, and the downward message divides
        the parent's separator marginal by the upward one instead of the whole parent table. This is what mirror
        descent calls at every step, so it sets the speed of an AIM round.
        """
        inner = [np.exp(p - p.max()) for p in potentials]
        upward: dict[int, np.ndarray] = {}
        for child in reversed(self.order):
            parent = self.parent[child]
            if parent < 0:
                continue
            separator = self.separators[child]
            message = inner[child].sum(axis=self._axes_outside(child, separator), keepdims=True)
            message = message / message.max()
            upward[child] = message
            inner[parent] *= self._broadcast(message, separator, parent)
        full = inner
        for node in self.order:
            parent = self.parent[node]
            if parent < 0:
                full[node] = full[node] / full[node].sum()
                continue
            separator = self.separators[node]
            up = upward[node].reshape([self.sizes[a] for a in separator])
            down = full[parent].sum(axis=self._axes_outside(parent, separator)).reshape(up.shape)
            message = np.divide(down, up, out=np.zeros_like(down), where=up > 0)
            belief = full[node] * self._broadcast(message, separator, node)
            full[node] = belief / belief.sum()
        return full

    def project(self, marginals: list[np.ndarray], attributes: Clique) -> np.ndarray:
        """The model's marginal on sorted `attributes` from calibrated clique marginals (probabilities).

        Inside one clique: a sum. Otherwise the model factorises as prod(clique) / prod(separator); leaves that add
        no wanted attribute sum to one and are pruned, and the rest is contracted with einsum.
        """
        home = self.home(attributes)
        if home is not None:
            return marginals[home].sum(axis=self._axes_outside(home, attributes))
        wanted = set(attributes)
        kept = set(range(len(self.cliques)))
        edges = {(c, p) for c, p in enumerate(self.parent) if p >= 0}
        changed = True
        while changed:
            changed = False
            for node in list(kept):
                links = [(c, p) for c, p in edges if node in (c, p)]
                if len(links) > 1 or len(kept) == 1:
                    continue
                if links:
                    child, parent = links[0]
                    shared = set(self.separators[child])
                else:
                    shared = set()
                if not (set(self.cliques[node]) - shared) & wanted:
                    kept.discard(node)
                    edges -= set(links)
                    changed = True
        operands: list = []
        for node in kept:
            operands += [marginals[node], list(self.cliques[node])]
        for child, _ in edges:
            separator = self.separators[child]
            if not separator:
                continue
            table = marginals[child].sum(axis=self._axes_outside(child, separator))
            operands += [np.where(table > 0, 1.0 / np.where(table > 0, table, 1.0), 0.0), list(separator)]
        return np.einsum(*operands, list(attributes), optimize="greedy")


@dataclass
class GraphicalModel:
    """A fitted junction-tree model: its tree, log-potentials, clique marginals (probabilities) and record count."""

    tree: JunctionTree
    potentials: list[np.ndarray]
    marginals: list[np.ndarray]
    total: float

    def project(self, attributes: Clique) -> np.ndarray:
        """Expected counts of the marginal on sorted `attributes`."""
        return self.total * self.tree.project(self.marginals, attributes)


def estimate_total(measurements: Sequence[Measurement]) -> float:
    """Inverse-variance weighted number of records from every measurement's sum."""
    sums = np.array([m.values.sum() for m in measurements])
    variances = np.array([m.values.size * m.sigma**2 for m in measurements])
    return max(1.0, float(np.sum(sums / variances) / np.sum(1.0 / variances)))


def _warm_potentials(tree: JunctionTree, previous: GraphicalModel | None) -> list[np.ndarray]:
    """Zero potentials, plus the previous model's log clique marginals folded into the new cliques that hold them."""
    potentials = [np.zeros(shape) for shape in tree.shapes]
    if previous is None:
        return potentials
    for node, clique in enumerate(previous.tree.cliques):
        home = tree.home(clique)
        if home is None:
            return [np.zeros(shape) for shape in tree.shapes]
        potentials[home] = potentials[home] + tree._broadcast(previous.potentials[node], clique, home)
    return potentials


def estimate_model(sizes: Sequence[int], measurements: Sequence[Measurement], *, iterations: int,
                   previous: GraphicalModel | None = None, total: float | None = None) -> GraphicalModel:
    """The junction-tree model minimising sum over measurements of ||total * marginal - y||^2 / (2 sigma^2)."""
    # the previous model's cliques are kept (as AIM's size check assumes), so its potentials always carry over
    kept = list(previous.tree.cliques) if previous is not None else []
    tree = JunctionTree(sizes, [*kept, *(m.attributes for m in measurements)])
    total = estimate_total(measurements) if total is None else total
    homes = [tree.home(m.attributes) for m in measurements]
    # each measurement's marginal is summed from the smallest measured superset in the same clique (else from the
    # clique), and its residual flows back the same way: a 1-way inside a 3-way costs no pass over a big clique
    by_size = sorted(range(len(measurements)), key=lambda i: -cells(tree.sizes, measurements[i].attributes))
    source: dict[int, int | None] = {}
    for position, i in enumerate(by_size):
        wanted = set(measurements[i].attributes)
        holders = [j for j in by_size[:position] if homes[j] == homes[i] and wanted <= set(measurements[j].attributes)]
        source[i] = min(holders, key=lambda j: cells(tree.sizes, measurements[j].attributes)) if holders else None
    largest_weight = max(1.0 / m.sigma**2 for m in measurements)

    def within(values: np.ndarray, inner: Clique, outer: Clique) -> np.ndarray:
        """A table over `inner` reshaped to broadcast against a table over `outer` (both sorted, inner <= outer)."""
        return values.reshape([tree.sizes[a] if a in inner else 1 for a in outer])

    def evaluate(potentials):
        marginals = tree.clique_marginals(potentials)
        loss = 0.0
        fits: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for i in by_size:
            m, j = measurements[i], source[i]
            if j is None:
                fitted = total * marginals[homes[i]].sum(axis=tree._axes_outside(homes[i], m.attributes))
            else:
                outer = measurements[j].attributes
                fitted = fits[j][0].sum(axis=tuple(k for k, a in enumerate(outer) if a not in m.attributes))
            residual = (fitted - m.values) / m.sigma**2
            loss += 0.5 * float(np.sum((fitted - m.values) * residual))
            fits[i] = (fitted, residual)
        pushed = {i: fits[i][1] for i in by_size}
        gradients = [np.zeros(shape) for shape in tree.shapes]
        for i in reversed(by_size):
            j = source[i]
            if j is None:
                gradients[homes[i]] += tree._broadcast(pushed[i], measurements[i].attributes, homes[i])
            else:
                pushed[j] = pushed[j] + within(pushed[i], measurements[i].attributes, measurements[j].attributes)
        return loss, gradients, marginals, [fits[i] for i in range(len(measurements))]

    potentials = _warm_potentials(tree, previous)
    loss, gradients, marginals, fits = evaluate(potentials)
    step = 1.0 / (total * largest_weight)
    for _ in range(iterations):
        for _attempt in range(30):
            trial = [p - step * g for p, g in zip(potentials, gradients, strict=True)]
            new_loss, new_gradients, new_marginals, new_fits = evaluate(trial)
            # <gradient, total * (old - new) clique marginals>, summed in measurement space (the gradient is a sum
            # of measurement residuals broadcast over their cliques), so no pass over the clique tables
            expected = sum(float(np.sum(residual * (old - new))) for (old, residual), (new, _) in
                           zip(fits, new_fits, strict=True))
            if loss - new_loss >= 0.5 * expected:
                break
            step *= 0.5
        else:
            break
        improvement = loss - new_loss
        potentials, loss, gradients, marginals, fits = trial, new_loss, new_gradients, new_marginals, new_fits
        if improvement <= 1e-9 * max(loss, 1e-12):
            break
        step *= 1.5
    return GraphicalModel(tree, potentials, marginals, total)
