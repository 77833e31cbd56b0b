"""Values inside a privately chosen bin: a fine grid cell drawn from the measured (noisy) fine distribution.

Post-processing of already-noisy weights, so it costs no privacy. A bin whose fine weights are all zero (the noise
was clipped away) is drawn uniformly over its cells.
"""

import numpy as np


def within_bin_cumulative(bin_starts: np.ndarray, grid_weights: np.ndarray) -> np.ndarray:
    """Cumulative fine weights normalised inside each bin: bin b spans [b, b + 1) of the returned scale, so a bin
    with a tiny share of the total keeps its precision."""
    grid = grid_weights.size
    bin_of_cell = np.searchsorted(bin_starts, np.arange(grid), side="right") - 1
    weights = np.clip(np.asarray(grid_weights, dtype=np.float64), 0.0, None)
    mass = np.bincount(bin_of_cell, weights=weights, minlength=bin_starts.size)
    empty = mass[bin_of_cell] <= 0.0
    weights = np.where(empty, 1.0, weights)
    mass = np.bincount(bin_of_cell, weights=weights, minlength=bin_starts.size)
    running = np.cumsum(weights / mass[bin_of_cell])  # reaches b + 1 at the end of bin b
    within = running - np.concatenate([[0.0], running[bin_starts[1:] - 1]])[bin_of_cell]
    within[np.append(bin_starts[1:], grid) - 1] = 1.0  # each bin ends exactly at its top, whatever the round-off
    return np.concatenate([[0.0], bin_of_cell + within])


def draw_grid_cells(bins: np.ndarray, bin_starts: np.ndarray, grid_weights: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """A fine grid cell for every sampled bin index, drawn from the fine weights restricted to that bin."""
    bins = np.asarray(bins, dtype=np.int64)
    cumulative = within_bin_cumulative(bin_starts, grid_weights)
    ends = np.append(bin_starts[1:], grid_weights.size)
    targets = bins + rng.random(bins.size)
    cells = np.searchsorted(cumulative, targets, side="right") - 1
    return np.clip(cells, bin_starts[bins], ends[bins] - 1)
