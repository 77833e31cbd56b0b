"""Private aggregates over Arrow tables: count, sum, mean, variance, quantile and histograms, optionally per group.

Everything the noise depends on (bounds, categories, contribution bound, epsilon) is public and checked before the
budget is charged; the charge happens before any noise is drawn. Bounds are never read from the data: a value
column without bounds in the policy is refused.

Neighbouring tables differ by one person, who has at most `max_rows_per_user` rows (1 when there is no user-id
column). With r rows per person and values clamped to [L, U] (M = max |L|, |U|; half = (U - L) / 2):
count has sensitivity r, sum r*M, centred sums r*half and r*half^2 (L1 and L2 alike, also across groups).
"""

import math
from collections.abc import Callable, Mapping
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dp_noise.accountant import PrivacyCost
from janedoe.dp_noise.answers import GroupAnswer, QueryAnswer
from janedoe.dp_noise.conversions import rho_from_epsilon_delta, rho_of_exponential_mechanism
from janedoe.dp_noise.grid import NoisyRelease, gaussian_mechanism, laplace_half_width, laplace_mechanism
from janedoe.dp_noise.mechanisms import key_selection_threshold
from janedoe.dp_noise.query_parser import Query, parse_query
from janedoe.dp_noise.samplers import discrete_laplace
from janedoe.dp_noise.selection import exponential_mechanism
from janedoe.errors import JaneDoeInputError

_QUANTILE_CANDIDATES = 1025


def _field(spec, name: str):
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return spec.get(name)
    if isinstance(spec, (tuple, list)) and name == "bounds":
        return tuple(spec)
    return getattr(spec, name, None)


def _bounds(columns_bounds: Mapping | None, column: str) -> tuple[float, float]:
    bounds = _field((columns_bounds or {}).get(column), "bounds")
    if bounds is None:
        raise JaneDoeInputError(
            f"column {column!r} has no bounds in the policy; give public clamping bounds (never read from the data)",
            where=f"columns.{column}.bounds",
        )
    try:
        low, high = float(bounds[0]), float(bounds[1])
    except (TypeError, ValueError, IndexError):
        raise JaneDoeInputError("bounds must be two numbers", where=f"columns.{column}.bounds") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise JaneDoeInputError("bounds must be finite with lower <= upper", where=f"columns.{column}.bounds")
    return low, high


def _column(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise JaneDoeInputError(f"unknown column {name!r}", where=f"query: {name}")
    return table.column(name)


def _numeric(table: pa.Table, name: str) -> tuple[np.ndarray, bool]:
    """(values as float64 with NaN for nulls, whether the column is integer-typed)."""
    column = _column(table, name)
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise JaneDoeInputError(f"column {name!r} is not numeric", where=f"query: {name}")
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64), pa.types.is_integer(kind) or pa.types.is_boolean(kind)


def bound_contributions(table: pa.Table, user_id: str | None, rows_per_user: int) -> pa.Table:
    """Keep at most rows_per_user rows per person (the first ones in file order); rows without a user id go."""
    if user_id is None:
        return table
    users = _column(table, user_id)
    keep_rows = pc.is_valid(users).to_numpy(zero_copy_only=False)
    codes = pc.dictionary_encode(users.combine_chunks()).indices.to_numpy(zero_copy_only=False)
    codes = np.where(keep_rows, codes, -1)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, sorted_codes.size]))
    rank = np.empty(codes.size, dtype=np.int64)
    rank[order] = np.arange(codes.size) - run_start
    return table.filter(pa.array(keep_rows & (rank < rows_per_user)))


class _Budget:
    """How a query's epsilon (and delta) is turned into noise: Laplace for pure DP, Gaussian when delta > 0."""

    def __init__(self, epsilon, delta: float, parts: int, *, force_laplace: bool = False) -> None:
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise JaneDoeInputError("epsilon must be a positive number", where="epsilon")
        if not math.isfinite(epsilon):
            raise JaneDoeInputError("epsilon must be finite", where="epsilon")
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 <= delta < 1:
            raise JaneDoeInputError("delta must be in [0, 1)", where="delta")
        self.epsilon, self.delta, self.parts = float(epsilon), float(delta), parts
        self.gaussian = delta > 0 and not force_laplace
        self.rho = rho_from_epsilon_delta(self.epsilon, self.delta) if self.gaussian else None

    @property
    def cost(self) -> PrivacyCost:
        return PrivacyCost(epsilon=self.epsilon, delta=self.delta, rho=self.rho)

    @property
    def mechanism(self) -> str:
        return "discrete gaussian" if self.gaussian else "discrete laplace"

    def release(self, values, sensitivity: float, integer_valued: bool, rng, share: float = 1.0) -> NoisyRelease:
        if self.gaussian:
            rho = self.rho * share / self.parts
            return gaussian_mechanism(values, sensitivity=sensitivity, rho=rho, integer_valued=integer_valued, rng=rng)
        epsilon = Fraction(repr(self.epsilon)) * Fraction(share).limit_denominator(1000) / self.parts
        return laplace_mechanism(
            values, sensitivity=sensitivity, epsilon=epsilon, integer_valued=integer_valued, rng=rng
        )


def _python(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _known_groups(table: pa.Table, by: str, columns_bounds) -> tuple[list, np.ndarray] | None:
    """(keys, per-row group index or -1) from the policy's categories or bins; None when keys are not public."""
    spec = (columns_bounds or {}).get(by)
    categories = _field(spec, "categories")
    column = _column(table, by)
    if categories:
        value_set = pa.array(categories)
        try:
            codes = pc.index_in(column, value_set=value_set.cast(column.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            codes = pc.index_in(pc.cast(column, pa.string()), value_set=pa.array([str(c) for c in categories]))
        codes = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False)
        return list(categories), np.asarray(codes, dtype=np.int64)
    bins = _field(spec, "bins")
    if bins:
        low, high = _bounds(columns_bounds, by)
        values, _ = _numeric(table, by)
        edges = np.linspace(low, high, bins + 1)
        codes = np.clip(np.searchsorted(edges, np.clip(values, low, high), side="right") - 1, 0, bins - 1)
        codes = np.where(np.isnan(values), -1, codes)
        keys = [f"[{edges[i]:g}, {edges[i + 1]:g}{']' if i == bins - 1 else ')'}" for i in range(bins)]
        return keys, codes.astype(np.int64)
    return None


def _observed_groups(table: pa.Table, by: str) -> tuple[list, np.ndarray]:
    encoded = pc.dictionary_encode(_column(table, by).combine_chunks())
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return encoded.dictionary.to_pylist(), np.asarray(codes, dtype=np.int64)


def _select_keys(counts: np.ndarray, epsilon: float, delta: float, rows_per_user: int, rng):
    """Noisy counts for every observed key; keys kept when the noisy count reaches the (epsilon, delta) threshold."""
    threshold, scale = key_selection_threshold(
        epsilon=Fraction(repr(epsilon)),
        delta=delta,
        max_partitions=rows_per_user,
        max_per_partition=rows_per_user,
        l1_sensitivity=rows_per_user,  # a person's rows are capped in total, so counts move by <= r in L1
    )
    noisy = counts + discrete_laplace(scale, counts.size, rng)
    return noisy >= threshold, noisy, scale, threshold


def _interval(release: NoisyRelease, level: float) -> np.ndarray:
    return np.full(release.values.shape, release.half_width(level))


def run_query(
    table: pa.Table,
    expression: str,
    *,
    epsilon,
    delta: float = 0.0,
    section=None,
    columns_bounds: Mapping | None = None,
    by: str | None = None,
    rng=None,
    charge: Callable[[PrivacyCost, str], object] | None = None,
) -> QueryAnswer:
    """Answer one private query. `charge(cost, mechanism)` is called once, after every check and before any noise
    is drawn (pass a ledger's spend there); if it raises, nothing is released."""
    query = parse_query(expression)
    if not isinstance(table, pa.Table):
        raise JaneDoeInputError("the input must be an Arrow table", where="input")
    user_id = getattr(section, "user_id", None)
    rows_per_user = getattr(section, "max_rows_per_user", None) or 1
    if query.aggregate == "histogram":
        if by is not None:
            raise JaneDoeInputError("histogram(col) already groups by col; leave out --by", where="by")
        query, by = Query("count"), query.column
        label = str(parse_query(expression))
    else:
        label = str(query) + (f" by {by}" if by else "")
    if by is not None and by == user_id:
        raise JaneDoeInputError("grouping by the user-id column would release per-person values", where="by")
    # -- every check that can refuse comes before the charge --
    if query.column:
        _numeric(table, query.column)
    if by is not None:
        _column(table, by)
    if user_id is not None:
        _column(table, user_id)
    bounds = _bounds(columns_bounds, query.column) if query.column else None
    known = _known_groups(table, by, columns_bounds) if by else None
    unknown_keys = by is not None and known is None
    if unknown_keys and not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise JaneDoeInputError(
            f"the keys of {by!r} are not listed in the policy (categories or bins): releasing keys found in the data "
            "needs delta > 0",
            where=f"columns.{by}.categories",
        )
    parts = {"count": 1, "sum": 1, "mean": 2, "variance": 3, "quantile": 1}[query.aggregate]
    budget = _Budget(epsilon, delta, parts, force_laplace=unknown_keys or query.aggregate == "quantile")
    if query.aggregate == "quantile":
        cost = PrivacyCost(
            epsilon=budget.epsilon,
            delta=budget.delta if unknown_keys else 0.0,
            rho=None if unknown_keys else rho_of_exponential_mechanism(budget.epsilon),
        )
        mechanism = "exponential"
    else:
        cost, mechanism = budget.cost, budget.mechanism
    if unknown_keys:
        mechanism += " + threshold key selection"
    if charge is not None:
        charge(cost, mechanism)
    # -- from here on, noise --
    table = bound_contributions(table, user_id, rows_per_user)
    if by is None:
        keys, codes = [None], np.zeros(table.num_rows, dtype=np.int64)
    elif known is not None:
        keys, codes = _known_groups(table, by, columns_bounds)
    else:
        keys, codes = _observed_groups(table, by)
    notes = []
    share = 1.0
    selected = np.ones(len(keys), dtype=bool)
    selection_noisy = None
    if unknown_keys:
        row_counts = np.bincount(codes[codes >= 0], minlength=len(keys))
        selection_share = 1.0 if query.aggregate == "count" else 0.5
        selected, selection_noisy, selection_scale, threshold = _select_keys(
            row_counts, budget.epsilon * selection_share, budget.delta, rows_per_user, rng
        )
        share = 1.0 - selection_share
        notes.append(f"keys released only when their noisy count reaches {threshold} (delta = {budget.delta:g})")
    if unknown_keys and query.aggregate == "count":  # the selection's noisy counts are the answer
        values = selection_noisy.astype(np.int64)
        half = laplace_half_width(selection_scale)
        intervals = [(float(v - half), float(v + half)) for v in values]
        noise = [{"distribution": "laplace", "scale": float(selection_scale), "granularity": 1.0}]
    else:
        values, intervals, noise = _aggregate(
            query, table, codes, len(keys), bounds, budget, share, rows_per_user, rng, notes
        )
    if by is None:
        return QueryAnswer(
            query=label,
            mechanism=mechanism,
            cost=cost,
            value=_python(values[0]),
            ci_95=intervals[0],
            noise=noise,
            rows_per_user=rows_per_user,
            notes=notes,
        )
    groups = [
        GroupAnswer(_python(keys[i]), _python(values[i]), intervals[i]) for i in np.flatnonzero(selected).tolist()
    ]
    return QueryAnswer(
        query=label,
        mechanism=mechanism,
        cost=cost,
        groups=groups,
        noise=noise,
        rows_per_user=rows_per_user,
        notes=notes,
    )


def _aggregate(query: Query, table, codes, groups: int, bounds, budget: _Budget, share, rows_per_user, rng, notes):
    """(values per group, 95% intervals per group, noise descriptions)."""
    r = rows_per_user
    in_group = codes >= 0
    if query.aggregate == "count":
        counts = np.bincount(codes[in_group], minlength=groups).astype(np.int64)
        release = budget.release(counts, r, True, rng, share)
        half = release.half_width(0.95)
        return release.values, [(float(v - half), float(v + half)) for v in release.values], [release.describe()]
    low, high = bounds
    raw, integer_typed = _numeric(table, query.column)
    present = in_group & ~np.isnan(raw)
    values = np.clip(raw[present], low, high)
    group_of = codes[present]
    if query.aggregate == "quantile":
        return _quantiles(query.q, values, group_of, groups, low, high, integer_typed, budget, share, r, rng, notes)
    if query.aggregate == "sum":
        magnitude = max(abs(low), abs(high))
        integer_valued = integer_typed and float(low).is_integer() and float(high).is_integer()
        sums = np.bincount(group_of, weights=values, minlength=groups)
        release = budget.release(
            sums.astype(np.int64) if integer_valued else sums, max(r * magnitude, 1e-12), integer_valued, rng, share
        )
        half = release.half_width(0.95)
        return release.values, [(float(v - half), float(v + half)) for v in release.values], [release.describe()]
    middle, half_range = (low + high) / 2, (high - low) / 2
    if half_range == 0:
        raise JaneDoeInputError("bounds must not be equal for mean or variance", where=f"columns.{query.column}.bounds")
    centred = values - middle
    counts = np.bincount(group_of, minlength=groups).astype(np.int64)
    sums = np.bincount(group_of, weights=centred, minlength=groups)
    level = 1 - 0.05 / budget.parts  # union bound: every part inside its interval with probability >= 95%
    count_release = budget.release(counts, r, True, rng, share)
    sum_release = budget.release(sums, r * half_range, False, rng, share)
    noisy_count = np.maximum(count_release.values.astype(np.float64), 1.0)
    count_low = count_release.values - count_release.half_width(level)
    count_high = count_release.values + count_release.half_width(level)
    sum_low = sum_release.values - sum_release.half_width(level)
    sum_high = sum_release.values + sum_release.half_width(level)
    means = np.clip(sum_release.values / noisy_count, -half_range, half_range)
    noise = [count_release.describe(), sum_release.describe()]
    if query.aggregate == "mean":
        intervals = []
        for i in range(groups):
            if count_low[i] < 1:
                intervals.append((low, high))
                continue
            corners = [s / c for s in (sum_low[i], sum_high[i]) for c in (count_low[i], count_high[i])]
            lo = float(np.clip(min(corners), -half_range, half_range) + middle)
            hi = float(np.clip(max(corners), -half_range, half_range) + middle)
            intervals.append((lo, hi))
        return means + middle, intervals, noise
    squares = np.bincount(group_of, weights=centred * centred, minlength=groups)
    square_release = budget.release(squares, r * half_range * half_range, False, rng, share)
    noise.append(square_release.describe())
    square_low = square_release.values - square_release.half_width(level)
    square_high = square_release.values + square_release.half_width(level)
    cap = half_range * half_range
    variances = np.clip(square_release.values / noisy_count - means * means, 0.0, cap)
    intervals = []
    for i in range(groups):
        if count_low[i] < 1:
            intervals.append((0.0, cap))
            continue
        second = [q / c for q in (square_low[i], square_high[i]) for c in (count_low[i], count_high[i])]
        first = [s / c for s in (sum_low[i], sum_high[i]) for c in (count_low[i], count_high[i])]
        first_sq_high = max(f * f for f in first)
        first_sq_low = 0.0 if min(first) <= 0 <= max(first) else min(f * f for f in first)
        lo = float(np.clip(min(second) - first_sq_high, 0.0, cap))
        hi = float(np.clip(max(second) - first_sq_low, 0.0, cap))
        intervals.append((lo, hi))
    return variances, intervals, noise


def _quantiles(q, values, group_of, groups, low, high, integer_typed, budget, share, r, rng, notes):
    if integer_typed and float(low).is_integer() and high - low <= 10_000:
        candidates = np.arange(low, high + 1)
    else:
        candidates = np.linspace(low, high, _QUANTILE_CANDIDATES)
    epsilon = budget.epsilon * share
    results, intervals = [], []
    order = np.argsort(group_of, kind="stable")
    sorted_groups = group_of[order]
    bounds = np.searchsorted(sorted_groups, np.arange(groups + 1))
    for g in range(groups):
        chunk = np.sort(values[order[bounds[g] : bounds[g + 1]]])
        ranks = np.searchsorted(chunk, candidates, side="right")
        scores = -np.abs(ranks - q * chunk.size)
        results.append(float(candidates[exponential_mechanism(scores, epsilon, r, rng)]))
        intervals.append(None)
    rank_error = 2 * r / epsilon * math.log(candidates.size / 0.05)
    notes.append(
        f"with probability >= 95% the answer's rank is within {rank_error:.1f} rows of the requested rank "
        f"({candidates.size} candidates between the bounds); no value interval is released without more budget"
    )
    noise = [
        {"distribution": "exponential mechanism", "epsilon": epsilon, "sensitivity": r, "rank_error_95": rank_error}
    ]
    return np.array(results), intervals, noise
