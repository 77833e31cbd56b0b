"""Exact sums for private aggregates: clamp each value, round it onto a power-of-two grid, add integers exactly.

A float sum of n values is off by up to ~n^2 ulp and depends on the other rows, so one person can move it by more
than the sensitivity that was paid for. Here each row's value becomes an integer number of grid steps 2^e (a per-row
function, bounded by the grid-rounded bounds), and the integers are summed without any rounding: the sum of a
neighbouring table differs by at most the grid-rounded bound, exactly. The grid keeps GRID_BITS significant bits of the
larger bound; numpy adds the integers in float64 only while every partial sum stays below 2^53 (where float64 is
exact), splitting each value into two half-width limbs and summing in row chunks otherwise.
"""

import math
from fractions import Fraction

import numpy as np

GRID_BITS = 40  # a value's rounding is at most 2^-41 of the larger bound: far below any noise
_EXACT_FLOAT = 1 << 53


def grid_exponent(magnitude: float) -> int:
    """e with magnitude / 2^e < 2^GRID_BITS (the grid is 2^e); 0 for a zero magnitude."""
    if magnitude == 0:
        return 0
    return math.frexp(magnitude)[1] - GRID_BITS


def to_grid_units(values: np.ndarray, low: float, high: float, exponent: int) -> np.ndarray:
    """Values clamped to [low, high] as int64 multiples of 2^exponent (round to nearest: exact power-of-two scaling)."""
    low_units, high_units = grid_bounds(low, high, exponent)
    scaled = np.clip(values, low, high)
    if -1022 <= exponent <= 1023:  # multiplying by a normal power of two is exact (the values stay normal or zero)
        scaled *= 2.0**-exponent
    else:
        scaled = np.ldexp(scaled, -exponent)
    np.rint(scaled, out=scaled)
    np.clip(scaled, low_units, high_units, out=scaled)
    return scaled.astype(np.int64)


def grid_bounds(low: float, high: float, exponent: int) -> tuple[int, int]:
    """The bounds in grid steps: every value to_grid_units gives lies between them."""
    return int(np.rint(math.ldexp(low, -exponent))), int(np.rint(math.ldexp(high, -exponent)))


def grid_value(units: int, exponent: int) -> Fraction:
    return Fraction(units) * Fraction(2) ** exponent


def exact_group_sums(units: np.ndarray, groups: np.ndarray, size: int, max_abs: int) -> np.ndarray:
    """sum of units per group (codes 0..size-1) as exact Python ints (object array); max_abs bounds every |unit|."""
    units = np.asarray(units, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    if size == 1:  # one group: int64 sums of row chunks that cannot overflow, added as Python ints
        chunk = max((1 << 62) // max(max_abs, 1), 1)
        return np.array([sum(int(units[i : i + chunk].sum()) for i in range(0, units.size, chunk))], dtype=object)
    if units.size * max(max_abs, 1) < _EXACT_FLOAT:  # every partial sum is an integer float64 holds exactly
        return _as_ints(np.bincount(groups, weights=units.astype(np.float64), minlength=size))
    shift = (max(max_abs, 1).bit_length() + 1) // 2  # units = high * 2^shift + low, |high|, low <= 2^shift
    chunk = _EXACT_FLOAT >> (shift + 1)  # rows per pass: a limb's partial sums stay below 2^52
    high_total = np.zeros(size, dtype=object)
    low_total = np.zeros(size, dtype=object)
    mask = np.int64((1 << shift) - 1)
    for start in range(0, units.size, chunk):
        part, codes = units[start : start + chunk], groups[start : start + chunk]
        high_total += _as_ints(np.bincount(codes, weights=(part >> shift).astype(np.float64), minlength=size))
        low_total += _as_ints(np.bincount(codes, weights=(part & mask).astype(np.float64), minlength=size))
    return high_total * (1 << shift) + low_total


def _as_ints(exact_floats: np.ndarray) -> np.ndarray:
    return np.array([int(v) for v in exact_floats.tolist()], dtype=object).reshape(exact_floats.shape)
