"""Optimal full-domain generalization: search of the generalization lattice with pruning, as ARX's Flash/OLA.

A node is one hierarchy level per quasi-identifier. It is anonymous when the records in classes that fail the
privacy models (smaller than k, or not l-diverse / t-close) number at most the suppression limit.

Why the search is exact yet evaluates few nodes:
- predictive tagging: the records in classes smaller than k can only grow when specializing, so a node failing
  k marks every specialization as failing without evaluating it;
- bounds: loss and non-uniform entropy without suppression depend on each attribute's level only (full-domain
  recoding), are monotone, and suppression only adds to them; so they are exact per-node lower bounds computed
  for the whole lattice up front. Discernibility's bound is n^2 / (possible classes), raised by evaluated
  specializations (sum of squared class sizes only grows when classes merge) and by evaluated generalizations
  (records in classes smaller than k only grow when specializing, and each costs n).
- the search stops once every node whose bound is below the best anonymous node found is evaluated or tagged.
Candidates are taken from the top of the lattice down (largest height first), so anonymous nodes are met early,
tighten the bound, and failing nodes tag large parts of the lattice.

Evaluating a node never touches rows: the input is reduced once to its distinct quasi-identifier tuples (plus the
sensitive value) with counts, and a node's classes come from fancy-indexed level maps combined into one int64 key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity.criteria import SensitiveRequirement, class_sensitive, reference_distribution
from janedoe.k_anonymity.encoding import EncodedAttribute, combine_keys

_Total = TypeVar("_Total", np.ndarray, float)  # a metric for many nodes or one

METRICS = ("loss", "discernibility", "entropy")
MAX_LATTICE_NODES = 5_000_000
_DENSE_KEY_MIN = 1 << 16

UNKNOWN, FAILING, EVALUATED = 0, 1, 2


@dataclass(frozen=True)
class NodeResult:
    levels: tuple[int, ...]
    anonymous: bool
    failing_records: int
    metric: float


@dataclass
class SearchResult:
    best: NodeResult | None
    optimal: bool
    evaluated_nodes: int
    lattice_nodes: int
    seconds: float
    tagged_nodes: int = 0
    notes: list[str] = field(default_factory=list)


class NodeEvaluator:
    """Evaluates lattice nodes on the distinct (quasi-identifier tuple, sensitive value) combinations."""

    def __init__(
        self,
        attributes: list[EncodedAttribute],
        k: int,
        max_suppressed_records: int,
        requirement: SensitiveRequirement,
        sensitive_codes: np.ndarray | None,
        sensitive_value_count: int,
        metric: str,
        weights: np.ndarray | None = None,
    ) -> None:
        """`weights`: records per row when the codes are a class frequency table's rows rather than records."""
        if metric not in METRICS:
            raise JaneDoeInputError(f"unknown metric '{metric}' for the lattice search (one of {', '.join(METRICS)})")
        self.attributes = attributes
        self.k = k
        self.max_suppressed = max_suppressed_records
        self.requirement = requirement
        self.metric = metric
        columns = [attribute.codes for attribute in attributes]
        radices = [attribute.domain_size for attribute in attributes]
        sensitive = sensitive_codes if requirement.active else None
        if sensitive is not None:
            columns.append(sensitive)
            radices.append(sensitive_value_count)
        key = combine_keys(columns, radices)
        self.weight: np.ndarray
        if weights is None:
            _, first, counts = np.unique(key, return_index=True, return_counts=True)
            self.weight = counts.astype(np.float64)
        else:
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            self.weight = np.bincount(inverse.ravel(), weights=weights, minlength=len(first))
        self.records = int(round(self.weight.sum()))
        self.sensitive = sensitive[first] if sensitive is not None else None
        self.sensitive_value_count = sensitive_value_count
        self.overall = None
        if sensitive is not None:
            self.overall = reference_distribution(sensitive, sensitive_value_count, weights)
        self.tuples = len(first)
        # per attribute, per level: generalized label id of each distinct tuple, and its cost
        self.tuple_labels: list[list[np.ndarray]] = []
        self.tuple_cost: list[list[np.ndarray]] = []
        self.suppressed_cost: list[np.ndarray] = []
        self.level_totals: list[np.ndarray] = []
        self.level_sizes: list[np.ndarray] = []
        for attribute in attributes:
            base = attribute.codes[first]
            labels_per_level = [attribute.level_codes[level][base] for level in range(attribute.height)]
            self.tuple_labels.append(labels_per_level)
            self.level_sizes.append(np.array([len(labels) for labels in attribute.level_labels], dtype=np.float64))
            costs, full = self._costs(attribute, base, labels_per_level)
            self.tuple_cost.append(costs)
            self.suppressed_cost.append(full)
            self.level_totals.append(np.array([(cost * self.weight).sum() for cost in costs]))

    def _costs(
        self, attribute: EncodedAttribute, base: np.ndarray, labels_per_level: list[np.ndarray]
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Per level, each tuple's metric cost in this attribute; and its cost when suppressed."""
        if self.metric == "entropy":
            leaf_counts = np.bincount(base, weights=self.weight, minlength=attribute.domain_size)
            costs = []
            for level, labels in enumerate(labels_per_level):
                label_counts = np.bincount(
                    attribute.level_codes[level], weights=leaf_counts, minlength=len(attribute.level_labels[level])
                )
                costs.append(-np.log2(leaf_counts[base] / label_counts[labels]))
            return costs, -np.log2(leaf_counts[base] / self.records)
        denominator = max(attribute.domain_size - 1, 1)
        costs = [
            (attribute.level_leaf_counts[level][labels] - 1) / denominator
            for level, labels in enumerate(labels_per_level)
        ]
        return costs, np.ones(len(base))

    def lower_bounds(self, nodes: np.ndarray) -> np.ndarray:
        """Metric of every node ignoring suppression: an exact lower bound, monotone in the lattice."""
        if self.metric == "discernibility":
            possible = np.ones(len(nodes))
            for position, sizes in enumerate(self.level_sizes):
                possible *= sizes[nodes[:, position]]
            possible = np.minimum(possible, self.tuples)
            return self.records**2 / possible
        total = np.zeros(len(nodes))
        for position, totals in enumerate(self.level_totals):
            total += totals[nodes[:, position]]
        return self._scale(total)

    def _scale(self, total: _Total) -> _Total:
        if self.metric == "loss":
            return total / (self.records * len(self.attributes))
        return total

    def classes(self, levels: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(class id per distinct tuple, class sizes)."""
        columns = [self.tuple_labels[position][level] for position, level in enumerate(levels)]
        radices = [int(self.level_sizes[position][level]) for position, level in enumerate(levels)]
        span = float(np.prod(np.array(radices, dtype=np.float64)))
        key = combine_keys(columns, radices)
        if span <= max(_DENSE_KEY_MIN, 4 * self.tuples):
            dense = np.bincount(key, weights=self.weight, minlength=int(span))
            occupied = np.flatnonzero(dense)
            renumber = np.zeros(int(span), dtype=np.int64)
            renumber[occupied] = np.arange(len(occupied))
            return renumber[key], dense[occupied]
        _, inverse = np.unique(key, return_inverse=True)
        return inverse, np.bincount(inverse, weights=self.weight)

    def failing_classes(self, class_ids: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, int]:
        """(bool per class: fails a privacy model, records in classes smaller than k)."""
        small = sizes < self.k
        k_failing = int(sizes[small].sum())
        if not self.requirement.active or self.sensitive is None:
            return small, k_failing
        profile = class_sensitive(
            class_ids, self.sensitive, self.weight, len(sizes), self.sensitive_value_count, self.overall
        )
        return small | ~self.requirement.class_passes(profile), k_failing

    def evaluate(self, levels: tuple[int, ...]) -> tuple[NodeResult, int, float]:
        """(result, records in classes < k, discernibility without suppression)."""
        class_ids, sizes = self.classes(levels)
        failing, k_failing = self.failing_classes(class_ids, sizes)
        failing_records = int(sizes[failing].sum())
        squares = float((sizes**2).sum())
        if self.metric == "discernibility":
            metric = float((sizes[~failing] ** 2).sum() + failing_records * self.records)
        else:
            total = sum(totals[level] for totals, level in zip(self.level_totals, levels, strict=True))
            if failing_records:
                suppressed = np.flatnonzero(failing[class_ids])
                extra = np.zeros(len(suppressed))
                for position, level in enumerate(levels):
                    extra += self.suppressed_cost[position][suppressed]
                    extra -= self.tuple_cost[position][level][suppressed]
                total += float(extra @ self.weight[suppressed])
            metric = float(self._scale(total))
        result = NodeResult(levels, failing_records <= self.max_suppressed, failing_records, metric)
        return result, k_failing, squares


def lattice_nodes(heights: list[int]) -> np.ndarray:
    size = int(np.prod(np.array(heights, dtype=np.float64)))
    if size > MAX_LATTICE_NODES:
        raise JaneDoeInputError(
            f"the generalization lattice has {size} nodes, too many for the optimal search; "
            "use method 'heuristic' or 'mondrian', or fewer quasi-identifiers"
        )
    grids = np.indices(heights, dtype=np.int8).reshape(len(heights), -1).T
    return np.ascontiguousarray(grids)


def optimal_search(evaluator: NodeEvaluator, *, time_limit: float | None = None) -> SearchResult:
    """Exact search (or anytime search that stops at `time_limit` seconds, then not proven optimal)."""
    started = time.perf_counter()
    heights = [attribute.height for attribute in evaluator.attributes]
    nodes = lattice_nodes(heights)
    bound = evaluator.lower_bounds(nodes)
    height = nodes.sum(axis=1, dtype=np.int64)
    state = np.zeros(len(nodes), dtype=np.int8)
    order = np.lexsort((bound, -height))
    best: NodeResult | None = None
    best_metric = np.inf
    evaluated = 0
    optimal = True
    tolerance = 1e-9
    while True:
        limit = best_metric - tolerance * max(1.0, abs(best_metric)) if best is not None else np.inf
        open_nodes = (state[order] == UNKNOWN) & (bound[order] < limit)
        if not open_nodes.any():
            break
        if time_limit is not None and time.perf_counter() - started > time_limit and best is not None:
            optimal = False
            break
        index = order[int(np.argmax(open_nodes))]
        levels = tuple(int(level) for level in nodes[index])
        result, k_failing, squares = evaluator.evaluate(levels)
        evaluated += 1
        state[index] = EVALUATED
        if k_failing > evaluator.max_suppressed:
            below = np.all(nodes <= nodes[index], axis=1) & (state == UNKNOWN)
            state[below] = FAILING
        if evaluator.metric == "discernibility":
            # generalizations only merge classes: their squared sizes sum to at least this node's
            above = np.all(nodes >= nodes[index], axis=1)
            bound[above] = np.maximum(bound[above], squares)
            # specializations have at least as many records in small classes, each suppressed at cost n,
            # and every kept class has at least k records
            below = np.all(nodes <= nodes[index], axis=1)
            n, k = evaluator.records, evaluator.k
            bound[below] = np.maximum(bound[below], k * n + (n - k) * k_failing)
        if result.anonymous and result.metric < best_metric:
            best, best_metric = result, result.metric
    return SearchResult(
        best=best,
        optimal=optimal,
        evaluated_nodes=evaluated,
        lattice_nodes=len(nodes),
        seconds=time.perf_counter() - started,
        tagged_nodes=int((state == FAILING).sum()),
    )


def greedy_search(evaluator: NodeEvaluator, *, time_limit: float | None = None) -> SearchResult:
    """Best-effort climb for lattices too large to enumerate: from the bottom, generalize one attribute at a time,
    choosing the step that leaves the fewest failing records (then the lowest metric), until anonymous."""
    started = time.perf_counter()
    heights = [attribute.height for attribute in evaluator.attributes]
    current = tuple(0 for _ in heights)
    result, _, _ = evaluator.evaluate(current)
    evaluated = 1
    while not result.anonymous:
        steps = []
        for position, top in enumerate(heights):
            if current[position] + 1 < top:
                levels = current[:position] + (current[position] + 1,) + current[position + 1 :]
                steps.append(evaluator.evaluate(levels)[0])
                evaluated += 1
        if not steps:
            break
        anonymous = [step for step in steps if step.anonymous]
        pool = anonymous or steps
        result = min(pool, key=lambda step: (0 if step.anonymous else step.failing_records, step.metric))
        current = result.levels
        if time_limit is not None and time.perf_counter() - started > time_limit:
            highest = tuple(height - 1 for height in heights)
            result = evaluator.evaluate(highest)[0] if not result.anonymous else result
            evaluated += 1
            break
    lattice = int(np.prod(np.array(heights, dtype=np.float64)))
    return SearchResult(
        best=result if result.anonymous else None,
        optimal=False,
        evaluated_nodes=evaluated,
        lattice_nodes=lattice,
        seconds=time.perf_counter() - started,
    )
