"""The inverse question: how much epsilon does a query need for a 95% interval of a given half-width?

Uses the same noise parameters (grid, rounding, sensitivity) a real release would, so the promise holds.
"""

import math
from collections.abc import Mapping

from janedoe.dp_noise.conversions import rho_from_epsilon_delta
from janedoe.dp_noise.fp_safe_mechanisms import (
    gaussian_half_width,
    gaussian_parameters,
    laplace_half_width,
    laplace_parameters,
)
from janedoe.dp_noise.query_parser import parse_query
from janedoe.dp_noise.query_plan import clamping_bounds
from janedoe.errors import JaneDoeInputError


def _half_width(epsilon: float, delta: float, sensitivity: float, integer_valued: bool, parts: int, level: float):
    if delta > 0:
        rho = rho_from_epsilon_delta(epsilon, delta) / parts
        k, sigma = gaussian_parameters(sensitivity=sensitivity, rho=rho, size=1, integer_valued=integer_valued)
        return gaussian_half_width(sigma, level) * 2.0**k
    k, scale = laplace_parameters(
        sensitivity=sensitivity, epsilon=epsilon / parts, size=1, integer_valued=integer_valued
    )
    return laplace_half_width(scale, level) * 2.0**k


def epsilon_for_accuracy(
    expression: str,
    half_width: float,
    *,
    delta: float = 0.0,
    columns_bounds: Mapping | None = None,
    max_rows_per_user: int = 1,
    rows: int | None = None,
) -> float:
    """Smallest epsilon (to 0.1%) whose 95% interval is at most +-half_width, for count, sum, histogram and mean.

    mean needs `rows`, the expected number of rows (public or a planning guess): its interval depends on it.
    """
    query = parse_query(expression)
    if not (isinstance(half_width, (int, float)) and math.isfinite(half_width) and half_width > 0):
        raise JaneDoeInputError("the requested half-width must be a positive number", where="half_width")
    r = max_rows_per_user
    sensitivity: float
    if query.aggregate in ("count", "histogram"):
        sensitivity, integer_valued, parts = r, True, 1

        def width(epsilon):
            return _half_width(epsilon, delta, sensitivity, integer_valued, parts, 0.95)

    elif query.aggregate == "sum":
        assert query.column is not None  # parse_query gives every aggregate but a count its column
        low, high = clamping_bounds(columns_bounds, query.column)
        sensitivity = r * max(abs(low), abs(high))

        def width(epsilon):
            return _half_width(epsilon, delta, sensitivity, False, 1, 0.95)

    elif query.aggregate == "mean":
        if not rows or rows < 1:
            raise JaneDoeInputError("planning a mean needs the expected number of rows", where="rows")
        assert query.column is not None
        low, high = clamping_bounds(columns_bounds, query.column)
        half_range = (high - low) / 2

        def width(epsilon):
            count_half = _half_width(epsilon, delta, r, True, 2, 0.975)
            sum_half = _half_width(epsilon, delta, r * half_range, False, 2, 0.975)
            if count_half >= rows:
                return math.inf
            return (sum_half + half_range * count_half) / (rows - count_half)

    else:
        raise JaneDoeInputError("accuracy planning covers count, sum, mean and histogram", where="query")
    low_eps, high_eps = 1e-6, 1e6
    if width(high_eps) > half_width:
        raise JaneDoeInputError("no epsilon up to 1e6 reaches that accuracy", where="half_width")
    while high_eps / low_eps > 1.001:
        middle = math.sqrt(low_eps * high_eps)
        if width(middle) <= half_width:
            high_eps = middle
        else:
            low_eps = middle
    return high_eps
