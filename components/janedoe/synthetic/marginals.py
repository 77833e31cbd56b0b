"""Exact marginal counts of a coded table (one bincount per marginal, no row loops)."""

from collections.abc import Sequence

import numpy as np


def marginal_counts(codes: np.ndarray, sizes: Sequence[int], columns: Sequence[int]) -> np.ndarray:
    """Counts over the cells of `columns` (positions in `codes`), shaped (sizes[c] for c in columns)."""
    shape = tuple(int(sizes[column]) for column in columns)
    if not columns:
        return np.array(float(codes.shape[0]))
    flat = np.zeros(codes.shape[0], dtype=np.int64)
    for column, size in zip(columns, shape, strict=True):
        flat = flat * size + codes[:, column]
    return np.bincount(flat, minlength=int(np.prod(shape))).astype(np.float64).reshape(shape)
