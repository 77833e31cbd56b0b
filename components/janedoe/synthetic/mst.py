"""MST (McKenna, Miklau, Sheldon 2021): noisy 1-ways, a privately selected maximum spanning tree, noisy 2-ways on it.

The zCDP budget rho (from epsilon, delta by the exact conversion) is split in thirds: 1-way marginals of every column,
the exponential mechanism choosing the d-1 tree edges (each round eps = sqrt(8 rho/3 / (d-1))), and the 2-way
marginals of the chosen edges. Counts get integer noise from the exact discrete Gaussian. Rare cells (noisy count
below 3 sigma) are merged into one cell per column as MST does; sampling spreads that cell uniformly back.

With a target (or a workload, see workload.py), a tree keeps only one path from each column to the target, which
loses what a classifier needs. So k = min(TARGET_EDGES, focus pairs) edges beyond the tree are chosen among the focus
pairs (target x column, pairs within workload sets) inside the same budget: the selection third is split over
d - 1 + k rounds and the 2-way third planned over d - 1 + k edges. After the tree's edges are measured, each extra
round picks, by the exponential mechanism, the focus pair the tree model gets most wrong (L1 between its exact 2-way
and the model's, floored: sensitivity 1) whose junction tree stays within MAX_MODEL_MB; the rho left then measures
the extra edges (or, if none fits, re-measures the tree's focus edges), so the spent rho is the budget. The model is
then a junction-tree model (Private-PGM's estimator, warm-started from the tree) instead of a tree.

With private bins (dp_binning.py), the pairs of numeric and date columns join the focus pairs, with (m - 1)(m - 2)/2
more rounds for m such columns, the pairs no tree can hold (numeric_focus): on CPS 1988 the tree hangs education and
experience on wage, and the extra round brings their pair back (bench/results/synthetic_numeric.md).
"""

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
from janedoe.dp_noise import (
    MAX_GAUSSIAN_SIGMA,
    discrete_gaussian,
    exact_gaussian_sigma,
    exponential_mechanism,
    rho_from_epsilon_delta,
)
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.domain import Domain, build_domain
from janedoe.synthetic.junction_sampling import sample_model
from janedoe.synthetic.junction_tree import GraphicalModel, model_bytes
from janedoe.synthetic.marginal_source import BatchSource, MarginalQuery, marginal_source, total_cells
from janedoe.synthetic.private_model import PrivateModel
from janedoe.synthetic.sampling import sample_tree
from janedoe.synthetic.target_edges import fit_with_extra_edges, pair_from_tree
from janedoe.synthetic.tree_model import Measurement, TreeModel, estimate_tree_model
from janedoe.synthetic.workload import resolve_focus

# edges beyond the tree for a table with a target or workload (at most; fewer when there are fewer focus pairs)
TARGET_EDGES = 4
# the junction tree's float64 clique tables an extra edge may grow the model to
MAX_MODEL_MB = 4.0


@dataclass(frozen=True)
class NoiseRecord:
    """One use of the private data: a Gaussian measurement (sigma) or an exponential-mechanism round (epsilon)."""

    mechanism: str
    columns: tuple[str, ...]
    sigma: float = 0.0
    epsilon: float = 0.0

    @property
    def rho(self) -> float:
        """zCDP cost: 1/(2 sigma^2) for a sensitivity-1 count vector, eps^2/8 for the exponential mechanism."""
        if self.mechanism == "discrete_gaussian":
            return 1.0 / (2.0 * self.sigma**2)
        return self.epsilon**2 / 8.0


@dataclass(frozen=True)
class Compression:
    """Original cells kept as their own compressed cell, and the rare ones merged into the last compressed cell."""

    to_compressed: np.ndarray
    rare: np.ndarray

    @property
    def size(self) -> int:
        return int(self.to_compressed.max()) + 1


@dataclass(frozen=True)
class FittedModel(PrivateModel):
    """A fitted MST model: everything in it is differentially private (it never holds a row of the input)."""

    domain: Domain
    schema: pa.Schema
    compressions: tuple[Compression, ...]
    tree: TreeModel
    edges: tuple[tuple[str, str], ...]
    epsilon: float
    delta: float
    rho: float
    noise: tuple[NoiseRecord, ...]
    # with a target: the edges beyond the tree, and the junction-tree model that replaces the tree for sampling
    extra_edges: tuple[tuple[str, str], ...] = ()
    graph: GraphicalModel | None = None

    @property
    def estimated_rows(self) -> int:
        return max(1, int(round(self.graph.total if self.graph is not None else self.tree.total)))

    def sample_codes(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        compressed = sample_tree(self.tree, rows, rng) if self.graph is None else sample_model(self.graph, rows, rng)
        codes = np.empty_like(compressed)
        for position, compression in enumerate(self.compressions):
            codes[:, position] = _expand(compressed[:, position], compression, rng)
        return codes


def _expand(compressed: np.ndarray, compression: Compression, rng: np.random.Generator) -> np.ndarray:
    """Compressed cells back to original cells; the rare cell becomes a uniform choice among the rare originals."""
    kept = np.flatnonzero(~np.isin(np.arange(compression.to_compressed.size), compression.rare))
    lookup = np.empty(compression.size, dtype=np.int64)
    lookup[: kept.size] = kept
    codes = lookup[np.minimum(compressed, compression.size - 1)]
    if compression.rare.size:
        is_rare = compressed == compression.size - 1
        codes[is_rare] = compression.rare[rng.integers(0, compression.rare.size, size=int(is_rare.sum()))]
    return codes


def _compress(values: np.ndarray, sigma: float) -> tuple[Compression, np.ndarray, np.ndarray]:
    """MST's domain compression: returns the map and the measurement re-expressed on the compressed cells."""
    supported = values >= 3.0 * sigma
    rare = np.flatnonzero(~supported)
    to_compressed = np.cumsum(supported) - 1
    kept_count = int(supported.sum())
    to_compressed[rare] = kept_count
    std = np.full(kept_count + (1 if rare.size else 0), sigma)
    compressed_values = values[supported]
    if rare.size:
        compressed_values = np.append(compressed_values, values[rare].sum())
        std[-1] = sigma * math.sqrt(rare.size)
    return Compression(to_compressed.astype(np.int64), rare), compressed_values.astype(np.float64), std


class _DisjointSets:
    def __init__(self, count: int) -> None:
        self.parent = list(range(count))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _dyadic_below(epsilon: float, largest_gap: float) -> Fraction:
    """epsilon rounded down onto a power-of-two grid fine enough to be exact yet keep the sampler's integers in int64.

    The spent epsilon is what is recorded, so rounding down only ever spends (negligibly) less than allotted.
    """
    bits = 60
    while bits > 0 and ((largest_gap + 1.0) * math.floor(epsilon * 2.0**bits) >= 2.0**60
                        or math.floor(epsilon * 2.0**bits) >= 2**52):
        bits -= 1
    return Fraction(math.floor(epsilon * 2.0**bits), 2**bits)


MAX_EPSILON = 1e5  # already no privacy; far larger values stall the model estimate on noise-free measurements


def validate_budget(epsilon: float, delta: float) -> None:
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise JaneDoeInputError("epsilon must be a positive number", where="epsilon")
    if epsilon > MAX_EPSILON:
        raise JaneDoeInputError(f"epsilon above {MAX_EPSILON:g} gives no privacy; refused", where="epsilon")
    if not (isinstance(delta, int | float) and 0 < delta < 1):
        raise JaneDoeInputError("delta must be between 0 and 1 (exclusive)", where="delta")


def numeric_focus(domain: Domain) -> tuple[list[tuple[int, int]], int]:
    """With private bins, the pairs of numeric or temporal columns and how many of them no tree can hold.

    Such columns are often chained (experience = age - education - 6), and with private bins the tree tends to hang
    them all on one hub, so the pair between two others is lost. A tree holds at most m - 1 of the m (m - 1) / 2
    pairs, so (m - 1) (m - 2) / 2 extra rounds choose among them by the same private selection as the target's
    edges. Which columns are numeric comes from the policy, never from the data."""
    if not any(column.grid > 0 for column in domain.columns):
        return [], 0
    numeric = [position for position, column in enumerate(domain.columns) if column.kind != "category"]
    count = len(numeric)
    return list(itertools.combinations(numeric, 2)), (count - 1) * (count - 2) // 2


def check_mst(domain: Domain, epsilon: float, delta: float, *, target=None, workload=None) -> None:
    """Refuse a budget, target or workload MST cannot work with; needs no data, so it runs before anything is
    charged."""
    validate_budget(epsilon, delta)
    resolve_focus(domain.names, target, workload)
    width = len(domain.names)
    rho = float(rho_from_epsilon_delta(epsilon, delta))
    rho_one_way = rho if width == 1 else rho / 3.0
    if not rho > 0 or math.sqrt(width / (2.0 * rho_one_way)) > MAX_GAUSSIAN_SIGMA:  # the largest sigma MST uses
        raise JaneDoeInputError("epsilon is too small for this many columns: the noise would swamp every count",
                                where="epsilon")


# Below this many cells in all pairwise tables together (32 MB of int64), every 1- and 2-way count is taken in one
# pass over the data and the 2-ways are compressed afterwards; above it, a second pass counts on compressed cells.
ONE_PASS_CELLS = 1 << 22


def _compressed_pair(counts: np.ndarray, first: Compression, second: Compression) -> np.ndarray:
    """A 2-way count table on original cells summed onto compressed cells (exact: integer sums below 2^53)."""
    target = first.to_compressed[:, None] * second.size + second.to_compressed[None, :]
    summed = np.bincount(target.ravel(), weights=counts.ravel(), minlength=first.size * second.size)
    return summed.reshape(first.size, second.size)


def fit_mst(data: BatchSource, domain_spec: Mapping | Domain, *, epsilon: float, delta: float,
            schema: pa.Schema | None = None, rng: np.random.Generator | None = None,
            iterations: int = 300, one_pass_cells: int = ONE_PASS_CELLS, target=None, workload=None,
            target_edges: int = TARGET_EDGES) -> FittedModel:
    """Fit MST under (epsilon, delta)-DP. rng=None draws the noise from the OS CSPRNG; a Generator is for tests.

    target (a column or a list) and workload (lists of columns) add up to `target_edges` edges beyond the tree.

    data is an Arrow table, a MarginalSource (e.g. the Spark engine's), or (for inputs larger than memory) a callable
    that returns a fresh iterator of record batches each time it is called, with `schema` given. The data is read
    once, holding only marginal counts; twice when the pairwise tables would exceed `one_pass_cells` cells.
    """
    validate_budget(epsilon, delta)
    source = marginal_source(data, schema)
    schema = source.schema
    domain = domain_spec if isinstance(domain_spec, Domain) else build_domain(schema, domain_spec)
    check_mst(domain, epsilon, delta, target=target, workload=workload)
    names = domain.names
    width = len(names)
    focus_pairs = resolve_focus(names, target, workload).pairs(width)
    numeric_pairs, numeric_rounds = numeric_focus(domain)
    numeric_rounds = max(0, numeric_rounds - len(set(focus_pairs) & set(numeric_pairs)))  # not counted twice
    extra_rounds = min(int(target_edges), len(focus_pairs) + numeric_rounds) if width > 2 else 0
    focus_pairs = list(dict.fromkeys([*focus_pairs, *numeric_pairs]))
    rho = float(rho_from_epsilon_delta(epsilon, delta))
    rho_one_way = rho if width == 1 else rho / 3.0
    pairs = list(itertools.combinations(range(width), 2))
    one_pass = total_cells(domain.sizes, pairs) <= one_pass_cells
    marginals: list[tuple[int, ...]] = [(p,) for p in range(width)]
    if one_pass:
        marginals += pairs
    first = source.count(MarginalQuery(domain, tuple(marginals)))
    one_way = [counts.astype(np.float64) for counts in first.arrays[:width]]
    noise: list[NoiseRecord] = []

    sigma_one_way = exact_gaussian_sigma(math.sqrt(width / (2.0 * rho_one_way)))
    compressions, measurements = [], []
    for position, name in enumerate(names):
        counts = one_way[position]
        noisy = counts + discrete_gaussian(sigma_one_way, counts.size, rng=rng)
        noise.append(NoiseRecord("discrete_gaussian", (name,), sigma=float(sigma_one_way)))
        compression, values, std = _compress(noisy, float(sigma_one_way))
        compressions.append(compression)
        measurements.append(Measurement((position,), values, std))
    compressed_sizes = [c.size for c in compressions]

    edges: list[tuple[int, int]] = []
    if width > 1:
        if one_pass:
            two_way = {(a, b): _compressed_pair(counts, compressions[a], compressions[b])
                       for (a, b), counts in zip(pairs, first.arrays[width:], strict=True)}
        else:
            second = source.count(MarginalQuery(domain, tuple(pairs), tuple(c.to_compressed for c in compressions)))
            if second.rows != first.rows:
                raise JaneDoeInputError("the input changed between the two passes over it")
            two_way = {pair: counts.astype(np.float64) for pair, counts in zip(pairs, second.arrays, strict=True)}
        independent = estimate_tree_model(compressed_sizes, [], measurements, iterations=iterations)
        weights = {}
        for (a, b), exact in two_way.items():
            product = independent.total * np.outer(independent.node_marginals[a], independent.node_marginals[b])
            # floor keeps sensitivity 1 (|a - b| <= 1 implies |floor a - floor b| <= 1) and makes scores exact integers
            weights[a, b] = float(np.floor(np.abs(exact - product).sum()))
        largest_gap = max(weights.values()) - min(weights.values())
        selection_epsilon = _dyadic_below(math.sqrt(8.0 * (rho / 3.0) / (width - 1 + extra_rounds)), largest_gap)
        components = _DisjointSets(width)
        for _ in range(width - 1):
            candidates = [pair for pair in weights if components.find(pair[0]) != components.find(pair[1])]
            scores = np.array([weights[pair] for pair in candidates])
            chosen = candidates[int(exponential_mechanism(scores, selection_epsilon, 1.0, rng=rng))]
            pair_names = (names[chosen[0]], names[chosen[1]])
            noise.append(NoiseRecord("exponential", pair_names, epsilon=float(selection_epsilon)))
            components.union(*chosen)
            edges.append(chosen)
        sigma_two_way = exact_gaussian_sigma(math.sqrt((width - 1 + extra_rounds) / (2.0 * (rho / 3.0))))

        def measure_edge(a: int, b: int, sigma) -> None:
            counts = two_way[min(a, b), max(a, b)]
            counts = counts if a < b else counts.T
            noisy = counts + discrete_gaussian(sigma, counts.size, rng=rng).reshape(counts.shape)
            noise.append(NoiseRecord("discrete_gaussian", (names[a], names[b]), sigma=float(sigma)))
            measurements.append(Measurement((a, b), noisy, np.full(counts.shape, float(sigma))))

        for a, b in edges:
            measure_edge(a, b, sigma_two_way)

    tree = estimate_tree_model(compressed_sizes, edges, measurements, iterations=iterations)
    extra: list[tuple[int, int]] = []
    graph = None
    if extra_rounds:
        in_tree = {tuple(sorted(edge)) for edge in edges}
        limit = MAX_MODEL_MB * 2.0**20
        for _ in range(extra_rounds):
            candidates = [(p[0], p[1]) for p in focus_pairs if p not in in_tree and p not in extra
                          and model_bytes(compressed_sizes, [*edges, *extra, p]) <= limit]
            if not candidates:
                break
            scores = np.array([float(np.floor(np.abs(two_way[p] - tree.total * pair_from_tree(tree, *p)).sum()))
                               for p in candidates])
            epsilon_used = _dyadic_below(math.sqrt(8.0 * (rho / 3.0) / (width - 1 + extra_rounds)),
                                         float(scores.max() - scores.min()))
            chosen = candidates[int(exponential_mechanism(scores, epsilon_used, 1.0, rng=rng))]
            noise.append(NoiseRecord("exponential", (names[chosen[0]], names[chosen[1]]), epsilon=float(epsilon_used)))
            extra.append(chosen)
        # the rest of the budget: the extra edges, else the tree's focus edges again (else all of its edges)
        remeasured = extra or [e for e in edges if tuple(sorted(e)) in set(focus_pairs)] or edges
        left = rho - sum(record.rho for record in noise)
        sigma_extra = exact_gaussian_sigma(math.sqrt(len(remeasured) / (2.0 * left)))
        for a, b in remeasured:
            measure_edge(a, b, sigma_extra)
        # warm-started from the fitted tree, only the extra edges' fit is left: a third of the steps
        graph = fit_with_extra_edges(tree, measurements, iterations=max(1, iterations // 3))
    return FittedModel(
        domain=domain,
        schema=pa.schema([schema.field(name) for name in names]),
        compressions=tuple(compressions),
        tree=tree,
        edges=tuple((names[a], names[b]) for a, b in edges),
        epsilon=float(epsilon),
        delta=float(delta),
        rho=rho,
        noise=tuple(noise),
        extra_edges=tuple((names[a], names[b]) for a, b in extra),
        graph=graph,
    )
