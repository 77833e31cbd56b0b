"""Private bins for numeric and temporal columns, paid from the synthesizer's own budget.

Equal-width bins over wide public bounds put most records in one or two bins. So a column declared with bounds but
no `bins:` (under discretize="private", the policy's default) is measured first: its counts on a fine equal-width
grid (PRIVATE_GRID_CELLS cells between the bounds, one per value for a shorter integer range), with discrete Gaussian
noise. The budget split: BINNING_SHARE of the zCDP budget rho, spread evenly over the m measured columns (each
histogram has sensitivity 1, sigma = sqrt(m / (2 * BINNING_SHARE * rho))); MST or AIM then spend exactly the rest,
and the model's noise records list both, so the rho recomputed from them is the declared budget.

From the noisy histogram (post-processing, no further cost), a fine distribution by multi-resolution thresholding: a
grid cell whose noisy count reaches RARE_SIGMAS sigma keeps it (4: MST keeps cells above 3 sigma, but some 2 x grid
cells and blocks are tested here, and a false find in a wide block is costly); the cells left are grouped in dyadic
blocks of 2, 4, 8, ... cells, and a block whose summed count (noise sigma * sqrt(cells)) reaches RARE_SIGMAS times
that spreads its sum evenly over its cells; what no block claims gets 0. So the noise of long empty stretches (a
wage's tail up to its public bound) takes neither bins nor values, while mass spread thinly over many cells is still
found. Bin edges cut its cumulative sum into k bins of roughly equal mass, each at least one grid cell and the last
one holding the last cell with mass; it is kept, normalised, as the distribution values are drawn from inside a bin
(uniform inside a bin without mass). The bins' own counts are measured again by MST or AIM.

Bins are never read from the data without paying: declared bins, categories and integer ranges of at most 64 values
(one cell per value, see domain.py) cost nothing and measure nothing.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from janedoe.dp_noise import (
    MAX_GAUSSIAN_SIGMA,
    discrete_gaussian,
    epsilon_from_rho_delta,
    exact_gaussian_sigma,
    rho_from_epsilon_delta,
)
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.domain import ColumnDomain, Domain
from janedoe.synthetic.marginal_source import MarginalQuery, MarginalSource
from janedoe.synthetic.mst import NoiseRecord

BINNING_SHARE = 0.1
RARE_SIGMAS = 4.0  # over the ~2 x grid cells and blocks tested, a false find stays unlikely (~7% a histogram)


def pending_columns(domain: Domain) -> list[int]:
    """Positions of the columns whose bins are still to be measured."""
    return [position for position, column in enumerate(domain.columns) if column.needs_private_bins]


def _binning_sigma(columns: int, rho: float) -> float:
    return math.sqrt(columns / (2.0 * BINNING_SHARE * rho))


def epsilon_for_synthesizer(domain: Domain, epsilon: float, delta: float) -> float:
    """The epsilon MST or AIM may spend once the bins are measured (at most this much is spent on them); refuses a
    budget too small for the bins' noise. Reads no data: runs before anything is charged."""
    pending = pending_columns(domain)
    if not pending:
        return epsilon
    rho = rho_from_epsilon_delta(epsilon, delta)
    if not rho > 0 or _binning_sigma(len(pending), rho) > MAX_GAUSSIAN_SIGMA:
        raise JaneDoeInputError("epsilon is too small for this many private bins: declare bins, or more epsilon",
                                where="epsilon")
    return _epsilon_within(rho * (1.0 - BINNING_SHARE), delta)


def _epsilon_within(rho: float, delta: float) -> float:
    """An epsilon whose zCDP budget (by rho_from_epsilon_delta, as MST and AIM convert it) does not exceed rho."""
    epsilon = epsilon_from_rho_delta(rho, delta)
    while rho_from_epsilon_delta(epsilon, delta) > rho:
        epsilon *= 1.0 - 1e-12
    return epsilon


def bin_starts_from_histogram(weights: np.ndarray, bins: int) -> np.ndarray:
    """The first grid cell of each of `bins` bins of roughly equal mass (strictly increasing, from 0)."""
    grid = weights.size
    cumulative = np.maximum.accumulate(np.cumsum(np.clip(weights.astype(np.float64), 0.0, None)))
    total = cumulative[-1]
    if not total > 0:
        return np.floor(np.arange(bins) * grid / bins).astype(np.int64)
    # a bin ends after the grid cell where the cumulative mass reaches its share
    cuts = np.searchsorted(cumulative, total * np.arange(1, bins) / bins, side="left") + 1
    steps = np.arange(bins - 1)
    cuts = np.maximum.accumulate(np.maximum(cuts, 1) - steps) + steps  # strictly increasing, at least one cell each
    top = int(np.flatnonzero(weights > 0)[-1]) + 1 if (weights > 0).any() else grid
    top = top if top >= bins else grid  # the last bin holds the last cell with mass when there is room
    cuts = np.minimum(cuts, top - (bins - 1) + steps)  # room for the bins above
    return np.concatenate([[0], cuts]).astype(np.int64)


def fine_weights(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """The multi-resolution thresholded histogram (module docstring), normalised; uniform if nothing is found."""
    grid = noisy.size
    residual = noisy.astype(np.float64)
    weights = np.zeros(grid)
    open_cells = np.ones(grid, dtype=bool)
    size = 1
    while size < 2 * grid and open_cells.any():
        block = np.arange(grid) // size
        sums = np.bincount(block, weights=np.where(open_cells, residual, 0.0))
        counts = np.bincount(block, weights=open_cells.astype(np.float64))
        found = (counts > 0) & (sums >= RARE_SIGMAS * sigma * np.sqrt(np.maximum(counts, 1.0)))
        claimed = open_cells & found[block]
        weights[claimed] = (sums / np.maximum(counts, 1.0))[block[claimed]]
        open_cells &= ~claimed
        size *= 2
    total = weights.sum()
    return weights / total if total > 0 else np.full(grid, 1.0 / grid)


@dataclass(frozen=True)
class PrivateBins:
    """The measured domain, the noise the bins cost, and the epsilon left for the synthesizer."""

    domain: Domain
    noise: tuple[NoiseRecord, ...]
    epsilon: float
    declared_epsilon: float
    declared_rho: float

    def account(self, model):
        """The fitted model with the bins' noise in its records and the declared budget as its own."""
        if not self.noise:
            return model
        return replace(model, epsilon=self.declared_epsilon, rho=self.declared_rho, noise=(*self.noise, *model.noise))


def _grid_column(column: ColumnDomain) -> ColumnDomain:
    return column.grid_domain if column.needs_private_bins else column


def measure_private_bins(source: MarginalSource, domain: Domain, *, epsilon: float, delta: float,
                         rng: np.random.Generator | None = None) -> PrivateBins:
    """Measure the pending columns' fine histograms (one pass over the data) and fix their bins.

    rng=None draws the noise from the OS CSPRNG; a Generator is for tests.
    """
    pending = pending_columns(domain)
    rho = rho_from_epsilon_delta(epsilon, delta)
    if not pending:
        return PrivateBins(domain, (), epsilon, epsilon, rho)
    epsilon_for_synthesizer(domain, epsilon, delta)  # refuses a budget too small before any noise is drawn
    grid_domain = Domain(tuple(_grid_column(column) for column in domain.columns))
    counts = source.count(MarginalQuery(grid_domain, tuple((position,) for position in pending)))
    sigma = exact_gaussian_sigma(_binning_sigma(len(pending), rho))
    columns = list(domain.columns)
    noise = []
    for position, exact in zip(pending, counts.arrays, strict=True):
        column = columns[position]
        noisy = exact.astype(np.int64) + discrete_gaussian(sigma, exact.size, rng=rng)
        noise.append(NoiseRecord("discrete_gaussian", (column.name,), sigma=float(sigma)))
        # a nullable column's null cell is not part of the grid
        weights = fine_weights(noisy[: column.grid], float(sigma))
        columns[position] = replace(
            column, bin_starts=tuple(int(s) for s in bin_starts_from_histogram(weights, column.cells)),
            grid_weights=tuple(float(w) for w in weights))
    spent = sum(record.rho for record in noise)
    return PrivateBins(Domain(tuple(columns)), tuple(noise), _epsilon_within(rho - spent, delta), epsilon, rho)


def private_domain_options(discretize: str | None, private_bins: int | None) -> Mapping:
    """build_domain's keyword arguments for a policy's discretize and private_bins (None: the defaults)."""
    options: dict[str, str | int] = {"discretize": discretize or "private"}
    if private_bins is not None:
        options["private_bins"] = private_bins
    return options
