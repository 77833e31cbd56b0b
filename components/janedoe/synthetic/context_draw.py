"""Synthetic children handed to synthetic parents by matching context: post-processing, costs no privacy.

The child model is sampled once, as many rows as the parents' counts ask for (a pool whose context columns follow the
child model's own estimate of them). Each child slot of a parent takes a pool row with the parent's context cells:
within a context, pool rows are dealt out in random order without replacement while they last (so the children keep
the child model's conditional distribution given the context), then drawn with replacement. A context the pool lacks
falls back to the pool rows matching its leading context columns, down to any pool row; the context columns are
therefore listed most important first.
"""

from collections.abc import Sequence

import numpy as np

_KEY_LIMIT = 1 << 62


def _group_keys(codes: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """One int64 per row, equal exactly when the rows' cells are equal (mixed radix, re-densified before overflow)."""
    keys = np.zeros(codes.shape[0], dtype=np.int64)
    span = 1
    for column, size in enumerate(sizes):
        if span * int(size) >= _KEY_LIMIT:
            distinct, keys = np.unique(keys, return_inverse=True)
            span = distinct.size
        keys = keys * int(size) + codes[:, column]
        span *= int(size)
    return keys


def _ranks_within_groups(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order of the rows sharing each key: 0 for one of them, 1 for another, ..."""
    shuffled = rng.permutation(keys.size)
    order = shuffled[np.argsort(keys[shuffled], kind="stable")]
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_keys)) + 1] if keys.size else np.zeros(0, dtype=np.int64)
    run_start = np.repeat(starts, np.diff(np.r_[starts, keys.size]))
    ranks = np.empty(keys.size, dtype=np.int64)
    ranks[order] = np.arange(keys.size) - run_start
    return ranks


def _deal(wanted: np.ndarray, offered: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each wanted key, an offered row with that key (-1 when none has it)."""
    shuffled = rng.permutation(offered.size)
    order = shuffled[np.argsort(offered[shuffled], kind="stable")]  # grouped by key, random within a group
    sorted_keys = offered[order]
    start = np.searchsorted(sorted_keys, wanted, side="left")
    size = np.searchsorted(sorted_keys, wanted, side="right") - start
    rank = _ranks_within_groups(wanted, rng)
    again = np.floor(rng.random(wanted.size) * size).astype(np.int64)
    position = start + np.where(rank < size, rank, again)
    return np.where(size > 0, order[np.minimum(position, max(offered.size - 1, 0))], -1)


def draw_by_context(wanted: np.ndarray, offered: np.ndarray, sizes: Sequence[int],
                    rng: np.random.Generator) -> np.ndarray:
    """Index of an offered row for every wanted row; both are (rows, len(sizes)) cell matrices of the context columns.

    offered must not be empty when anything is wanted.
    """
    chosen = np.full(wanted.shape[0], -1, dtype=np.int64)
    if wanted.shape[0] == 0:
        return chosen
    if offered.shape[0] == 0:
        raise ValueError("no offered rows to draw from")
    for width in range(len(sizes), -1, -1):
        open_rows = np.flatnonzero(chosen < 0)
        if open_rows.size == 0:
            break
        keys = _group_keys(np.concatenate([wanted[open_rows, :width], offered[:, :width]]), sizes[:width])
        chosen[open_rows] = _deal(keys[: open_rows.size], keys[open_rows.size :], rng)
    return chosen
