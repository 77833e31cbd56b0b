"""Private aggregates over Arrow tables: count, sum, mean, variance, quantile and histograms, optionally per group.

Validate, charge, compute, answer: everything the noise depends on (bounds, categories, contribution bound, epsilon,
delta) is public and checked, and every noise scale, grid and key-selection threshold is computed, before the budget
is charged; what runs after the charge cannot fail on the data (out-of-range values are clamped to the bounds, nulls
and NaN are left out, values outside the declared categories or bins fall in no group). Bounds are never read from
the data: a value column without bounds in the policy is refused.

Sums are exact (fixed_point): each clamped value is rounded onto a power-of-two grid and the integers are added
without rounding, so one person moves a sum by at most the grid-rounded bound, which is the sensitivity paid for.

Neighbouring tables differ by one person, who has at most `max_rows_per_user` rows (1 when there is no user-id
column). With r rows per person and values clamped to [L, U] (M = max |L|, |U|; half = (U - L) / 2):
count has sensitivity r, sum r*M, centred sums r*half and r*half^2 (L1 and L2 alike, also across groups).
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dp_noise.accountant import PrivacyCost
from janedoe.dp_noise.answers import GroupAnswer, QueryAnswer
from janedoe.dp_noise.conversions import rho_from_epsilon_delta, rho_of_exponential_mechanism
from janedoe.dp_noise.fixed_point import exact_group_sums, grid_bounds, grid_exponent, grid_value, to_grid_units
from janedoe.dp_noise.grid import NoisePlan, NoisyRelease, laplace_half_width
from janedoe.dp_noise.mechanisms import key_selection_threshold
from janedoe.dp_noise.query_parser import Query, parse_query
from janedoe.dp_noise.samplers import discrete_laplace
from janedoe.dp_noise.selection import exponential_mechanism
from janedoe.dp_noise.tables import laplace_table
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


MAX_EPSILON = 100.0  # e^100 ~ 10^43: no protection left; larger values only serve to break the arithmetic
MIN_EPSILON = 2.0**-40  # noise over 2^40 sensitivities: the samplers' limit, and nothing but noise anyway
MIN_DELTA = 1e-300  # below this log(1/delta) and the conversions leave float range


class _Budget:
    """How a query's epsilon (and delta) is turned into noise: Laplace for pure DP, Gaussian when delta > 0."""

    def __init__(self, epsilon, delta: float, parts: int, *, force_laplace: bool = False) -> None:
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise JaneDoeInputError("epsilon must be a positive number", where="epsilon")
        if not math.isfinite(epsilon):
            raise JaneDoeInputError("epsilon must be finite", where="epsilon")
        if epsilon > MAX_EPSILON:
            raise JaneDoeInputError(f"epsilon above {MAX_EPSILON:g} gives no privacy; refused", where="epsilon")
        if epsilon < MIN_EPSILON:
            raise JaneDoeInputError(f"epsilon below {MIN_EPSILON:.3g} leaves only noise; refused", where="epsilon")
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 <= delta < 1:
            raise JaneDoeInputError("delta must be in [0, 1)", where="delta")
        if 0 < delta < MIN_DELTA:
            raise JaneDoeInputError(f"delta must be 0 or at least {MIN_DELTA:g}", where="delta")
        self.epsilon, self.delta, self.parts = float(epsilon), float(delta), parts
        self.gaussian = delta > 0 and not force_laplace
        self.rho = rho_from_epsilon_delta(self.epsilon, self.delta) if self.gaussian else None
        if self.gaussian and not self.rho > 0:
            raise JaneDoeInputError("delta is too small for this epsilon: no Gaussian noise fits", where="delta")

    @property
    def cost(self) -> PrivacyCost:
        return PrivacyCost(epsilon=self.epsilon, delta=self.delta, rho=self.rho)

    @property
    def mechanism(self) -> str:
        return "discrete gaussian" if self.gaussian else "discrete laplace"

    def plan(self, sensitivity, integer_valued: bool, touched: int, data_exponent: int, share: float) -> NoisePlan:
        """The noise for one part of the query; touched = how many groups one person's rows can reach."""
        if self.gaussian:
            rho = self.rho * share / self.parts
            return NoisePlan.gaussian(sensitivity=sensitivity, rho=rho, size=touched, integer_valued=integer_valued,
                                      data_exponent=data_exponent)
        epsilon = Fraction(repr(self.epsilon)) * Fraction(share).limit_denominator(1000) / self.parts
        return NoisePlan.laplace(sensitivity=sensitivity, epsilon=epsilon, size=touched,
                                 integer_valued=integer_valued, data_exponent=data_exponent)


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


def _selection_threshold(epsilon: float, delta: float, rows_per_user: int) -> tuple:
    """(threshold, Laplace scale) for releasing keys found in the data; raises for parameters that cannot run."""
    threshold, scale = key_selection_threshold(
        epsilon=Fraction(repr(epsilon)),
        delta=delta,
        max_partitions=rows_per_user,
        max_per_partition=rows_per_user,
        l1_sensitivity=rows_per_user,  # a person's rows are capped in total, so counts move by <= r in L1
    )
    laplace_table(scale)
    return threshold, scale


def _select_keys(counts: np.ndarray, threshold: int, scale, rng):
    """Noisy counts for every observed key; keys kept when the noisy count reaches the (epsilon, delta) threshold."""
    noisy = counts + discrete_laplace(scale, counts.size, rng)
    return noisy >= threshold, noisy


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
    selection_share = 1.0 if query.aggregate == "count" else 0.5
    share = 1.0 - selection_share if unknown_keys else 1.0
    # a person's rows reach at most rows_per_user groups: only their rounding is paid for (exact sums elsewhere agree)
    touched = 1 if by is None else rows_per_user if known is None else min(rows_per_user, len(known[0]))
    # every noise scale and threshold now, so nothing after the charge can refuse
    selection, plan = None, None
    try:
        if unknown_keys:
            selection = _selection_threshold(budget.epsilon * selection_share, budget.delta, rows_per_user)
        if not (unknown_keys and query.aggregate == "count"):
            integer_typed = _is_integer_typed(table, query.column)
            plan = _plan(query, integer_typed, bounds, budget, share, rows_per_user, touched)
    except (ArithmeticError, ValueError) as error:  # float range errors of absurd parameters; nothing was charged
        if isinstance(error, JaneDoeInputError):
            raise
        message = "epsilon or delta is outside the range the mechanisms support"
        raise JaneDoeInputError(message, where="epsilon") from None
    if charge is not None:
        charge(cost, mechanism)
    # -- from here on, exact aggregates and noise; nothing below refuses --
    table = bound_contributions(table, user_id, rows_per_user)
    if by is None:
        keys, codes = [None], np.zeros(table.num_rows, dtype=np.int64)
    elif known is not None:
        keys, codes = _known_groups(table, by, columns_bounds)
    else:
        keys, codes = _observed_groups(table, by)
    notes = []
    selected = np.ones(len(keys), dtype=bool)
    selection_noisy = None
    if unknown_keys:
        threshold, selection_scale = selection
        row_counts = np.bincount(codes[codes >= 0], minlength=len(keys))
        selected, selection_noisy = _select_keys(row_counts, threshold, selection_scale, rng)
        notes.append(f"keys released only when their noisy count reaches {threshold} (delta = {budget.delta:g})")
    if unknown_keys and query.aggregate == "count":  # the selection's noisy counts are the answer
        values = selection_noisy.astype(np.int64)
        half = laplace_half_width(selection_scale)
        intervals = [(float(v - half), float(v + half)) for v in values]
        noise = [{"distribution": "laplace", "scale": float(selection_scale), "granularity": 1.0}]
    else:
        values, intervals, noise = _aggregate(query, plan, table, codes, len(keys), bounds, budget.parts, rng, notes)
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


@dataclass(frozen=True)
class _AggregatePlan:
    """Everything an aggregate's release needs, fixed before the charge: the noise of each part and the value grids."""

    rows_per_user: int
    count: NoisePlan | None = None
    total: NoisePlan | None = None  # the sum, or the centred sum of mean and variance
    squares: NoisePlan | None = None
    exponent: int = 0  # the summed values are multiples of 2^exponent
    square_exponent: int = 0
    integer_typed: bool = False
    quantile_epsilon: float = 0.0


def _is_integer_typed(table: pa.Table, name: str | None) -> bool:
    if name is None:
        return False
    kind = table.schema.field(name).type
    return pa.types.is_integer(kind) or pa.types.is_boolean(kind)


def _centre(bounds: tuple[float, float], column: str) -> tuple[float, float]:
    low, high = bounds
    middle, half_range = low / 2 + high / 2, high / 2 - low / 2  # halves first: no overflow near the float limit
    if half_range == 0:
        raise JaneDoeInputError("bounds must not be equal for mean or variance", where=f"columns.{column}.bounds")
    if not math.isfinite(half_range * half_range):
        raise JaneDoeInputError("bounds are too wide for a variance", where=f"columns.{column}.bounds")
    return middle, half_range


def _plan(query: Query, integer_typed: bool, bounds, budget: _Budget, share: float, r: int, touched: int):
    if query.aggregate == "count":
        return _AggregatePlan(r, count=budget.plan(r, True, touched, 0, share))
    if query.aggregate == "quantile":
        return _AggregatePlan(r, integer_typed=integer_typed, quantile_epsilon=budget.epsilon * share)
    low, high = bounds
    if query.aggregate == "sum":
        magnitude = max(abs(low), abs(high))
        integer_valued = integer_typed and float(low).is_integer() and float(high).is_integer() and magnitude < 2**53
        exponent = 0 if integer_valued else grid_exponent(magnitude)
        low_units, high_units = grid_bounds(low, high, exponent)
        sensitivity = r * grid_value(max(abs(low_units), abs(high_units), 1), exponent)
        total = budget.plan(sensitivity, integer_valued, touched, exponent, share)
        return _AggregatePlan(r, total=total, exponent=exponent, integer_typed=integer_valued)
    _middle, half_range = _centre(bounds, query.column)
    exponent = grid_exponent(half_range)
    count = budget.plan(r, True, touched, 0, share)
    total = budget.plan(r * grid_value(grid_bounds(-half_range, half_range, exponent)[1], exponent), False, touched,
                        exponent, share)
    if query.aggregate == "mean":
        return _AggregatePlan(r, count=count, total=total, exponent=exponent)
    square_exponent = grid_exponent(half_range * half_range)
    square_bound = grid_bounds(0.0, half_range * half_range, square_exponent)[1]
    squares = budget.plan(r * grid_value(square_bound, square_exponent), False, touched, square_exponent, share)
    return _AggregatePlan(r, count=count, total=total, squares=squares, exponent=exponent,
                          square_exponent=square_exponent)


def _intervals(release: NoisyRelease) -> list:
    half = release.half_width(0.95)
    return [(float(v - half), float(v + half)) for v in release.values]


def _aggregate(query: Query, plan: _AggregatePlan, table, codes, groups: int, bounds, parts: int, rng, notes):
    """(values per group, 95% intervals per group, noise descriptions), from exact sums and the planned noise."""
    in_group = codes >= 0
    if query.aggregate == "count":
        release = plan.count.draw_exact(np.bincount(codes[in_group], minlength=groups), 0, rng)
        return release.values, _intervals(release), [release.describe()]
    low, high = bounds
    raw, _ = _numeric(table, query.column)
    present = in_group & ~np.isnan(raw)
    group_of = codes[present]
    if query.aggregate == "quantile":
        values = np.clip(raw[present], low, high)
        return _quantiles(query.q, values, group_of, groups, low, high, plan, rng, notes)
    if query.aggregate == "sum":
        low_units, high_units = grid_bounds(low, high, plan.exponent)
        units = to_grid_units(raw[present], low, high, plan.exponent)
        sums = exact_group_sums(units, group_of, groups, max(abs(low_units), abs(high_units)))
        release = plan.total.draw_exact(sums, plan.exponent, rng)
        return release.values, _intervals(release), [release.describe()]
    middle, half_range = _centre(bounds, query.column)
    centred = np.clip(raw[present], low, high) - middle
    centred_units = to_grid_units(centred, -half_range, half_range, plan.exponent)
    bound_units = grid_bounds(-half_range, half_range, plan.exponent)[1]
    counts = np.bincount(group_of, minlength=groups)
    sums = exact_group_sums(centred_units, group_of, groups, bound_units)
    level = 1 - 0.05 / parts  # union bound: every part inside its interval with probability >= 95%
    count_release = plan.count.draw_exact(counts, 0, rng)
    sum_release = plan.total.draw_exact(sums, plan.exponent, rng)
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
    cap = half_range * half_range
    grid_centred = np.ldexp(centred_units.astype(np.float64), plan.exponent)
    square_units = to_grid_units(grid_centred * grid_centred, 0.0, cap, plan.square_exponent)
    square_bound = grid_bounds(0.0, cap, plan.square_exponent)[1]
    squares = exact_group_sums(square_units, group_of, groups, square_bound)
    square_release = plan.squares.draw_exact(squares, plan.square_exponent, rng)
    noise.append(square_release.describe())
    square_low = square_release.values - square_release.half_width(level)
    square_high = square_release.values + square_release.half_width(level)
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


def _quantiles(q, values, group_of, groups, low, high, plan: _AggregatePlan, rng, notes):
    if plan.integer_typed and float(low).is_integer() and high - low <= 10_000:
        candidates = np.arange(low, high + 1)
    else:
        candidates = np.linspace(low, high, _QUANTILE_CANDIDATES)
    epsilon, r = plan.quantile_epsilon, plan.rows_per_user
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
