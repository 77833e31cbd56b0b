"""Planning a private query from the table's schema and the policy alone: every refusal, cost and noise scale.

Everything the noise depends on (bounds, categories, contribution bound, epsilon, delta) is public and checked here,
and every noise scale, grid and key-selection threshold is computed here, before the data is read and before the
budget is charged; what runs after cannot refuse. Bounds are never read from the data: a value column without bounds
in the policy is refused. The plan depends on the schema only, so every engine (Arrow in one process, Spark) runs the
same plan and gets the same answer from the same statistics. The cost needs not even the schema (query_cost), so a
ledger can refuse before the data is opened.

Neighbouring tables differ by one person, who has at most `max_rows_per_user` rows (1 when there is no user-id
column). With r rows per person and values clamped to [L, U] (M = max |L|, |U|; half = (U - L) / 2):
count has sensitivity r, sum r*M, centred sums r*half and r*half^2 (L1 and L2 alike, also across groups).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
from janedoe.dp_noise.accountant import PrivacyCost
from janedoe.dp_noise.conversions import rho_from_epsilon_delta, rho_of_exponential_mechanism
from janedoe.dp_noise.fixed_point import grid_bounds, grid_exponent, grid_value
from janedoe.dp_noise.fp_safe_mechanisms import NoisePlan
from janedoe.dp_noise.mechanisms import key_selection_threshold
from janedoe.dp_noise.query_parser import Query, parse_query
from janedoe.dp_noise.row_features import RowFeatures, centre
from janedoe.dp_noise.tables import laplace_table
from janedoe.errors import JaneDoeInputError

MAX_EPSILON = 100.0  # e^100 ~ 10^43: no protection left; larger values only serve to break the arithmetic
MIN_EPSILON = 2.0**-40  # noise over 2^40 sensitivities: the samplers' limit, and nothing but noise anyway
MIN_DELTA = 1e-300  # below this log(1/delta) and the conversions leave float range


def _field(spec, name: str):
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return spec.get(name)
    if isinstance(spec, (tuple, list)) and name == "bounds":
        return tuple(spec)
    return getattr(spec, name, None)


def clamping_bounds(columns_bounds: Mapping | None, column: str) -> tuple[float, float]:
    """The policy's public clamping bounds of a column (shared with accuracy.py: the promise uses the same ones)."""
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


def _column_type(schema: pa.Schema, name: str) -> pa.DataType:
    if name not in schema.names:
        raise JaneDoeInputError(f"unknown column {name!r}", where=f"query: {name}")
    return schema.field(name).type


def _numeric_type(schema: pa.Schema, name: str) -> bool:
    """Whether the column is integer-typed; refuses a column that is not numeric."""
    kind = _column_type(schema, name)
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise JaneDoeInputError(f"column {name!r} is not numeric", where=f"query: {name}")
    return pa.types.is_integer(kind) or pa.types.is_boolean(kind)


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
        if self.rho is not None and not self.rho > 0:  # rho is set exactly when the noise is Gaussian
            raise JaneDoeInputError("delta is too small for this epsilon: no Gaussian noise fits", where="delta")

    @property
    def cost(self) -> PrivacyCost:
        return PrivacyCost(epsilon=self.epsilon, delta=self.delta, rho=self.rho)

    @property
    def mechanism(self) -> str:
        return "discrete gaussian" if self.gaussian else "discrete laplace"

    def plan(self, sensitivity, integer_valued: bool, touched: int, data_exponent: int, share: float) -> NoisePlan:
        """The noise for one part of the query; touched = how many groups one person's rows can reach."""
        if self.rho is not None:  # Gaussian
            rho = self.rho * share / self.parts
            return NoisePlan.gaussian(sensitivity=sensitivity, rho=rho, size=touched, integer_valued=integer_valued,
                                      data_exponent=data_exponent)
        epsilon = Fraction(repr(self.epsilon)) * Fraction(share).limit_denominator(1000) / self.parts
        return NoisePlan.laplace(sensitivity=sensitivity, epsilon=epsilon, size=touched,
                                 integer_valued=integer_valued, data_exponent=data_exponent)


@dataclass(frozen=True)
class AggregatePlan:
    """Everything an aggregate's release needs, fixed before the charge: the noise of each part and the value grids."""

    rows_per_user: int
    count: NoisePlan | None = None
    total: NoisePlan | None = None  # the sum, or the centred sum of mean and variance
    squares: NoisePlan | None = None
    exponent: int = 0  # the summed values are multiples of 2^exponent
    square_exponent: int = 0
    integer_typed: bool = False
    quantile_epsilon: float = 0.0


@dataclass(frozen=True)
class QueryPlan:
    """A checked query: what it costs, the noise it gets, and the per-row features its statistics are made of."""

    query: Query
    label: str
    by: str | None
    keys: list | None  # the policy's keys in order ([None] without --by); None when keys are read from the data
    bounds: tuple[float, float] | None
    rows_per_user: int
    budget: _Budget
    cost: PrivacyCost
    mechanism: str
    selection: tuple | None  # (threshold, Laplace scale) when keys come from the data
    aggregate: AggregatePlan | None  # None when the selection's noisy counts are the answer
    features: RowFeatures

    @property
    def unknown_keys(self) -> bool:
        return self.keys is None


def _known_keys(schema: pa.Schema, by: str, columns_bounds) -> tuple[list, dict] | None:
    """(keys, how rows find their key) from the policy's categories or bins; None when the keys are not public."""
    spec = (columns_bounds or {}).get(by)
    categories = _field(spec, "categories")
    kind = _column_type(schema, by)
    if categories:
        try:
            pa.array(list(categories)).cast(kind)
            as_text = False
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            as_text = True
        return list(categories), {"categories": tuple(categories), "categories_as_text": as_text}
    bins = _field(spec, "bins")
    if bins:
        low, high = clamping_bounds(columns_bounds, by)
        _numeric_type(schema, by)
        edges = np.linspace(low, high, bins + 1)
        keys = [f"[{edges[i]:g}, {edges[i + 1]:g}{']' if i == bins - 1 else ')'}" for i in range(bins)]
        return keys, {"bins": bins, "bin_bounds": (low, high)}
    return None


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


def _grouped_query(expression: str, by: str | None, section) -> tuple[Query, str | None, str]:
    """(query, grouping column, label): histogram(col) is a count by col; grouping by the person is refused."""
    query = parse_query(expression)
    if query.aggregate == "histogram":
        if by is not None:
            raise JaneDoeInputError("histogram(col) already groups by col; leave out --by", where="by")
        query, by = Query("count"), query.column
        label = str(parse_query(expression))
    else:
        label = str(query) + (f" by {by}" if by else "")
    if by is not None and by == getattr(section, "user_id", None):
        raise JaneDoeInputError("grouping by the user-id column would release per-person values", where="by")
    return query, by, label


def _keys_unknown(columns_bounds: Mapping | None, by: str | None) -> bool:
    """Whether the groups' keys must be found in the data (the policy lists no categories or bins for --by)."""
    spec = (columns_bounds or {}).get(by) if by is not None else None
    return by is not None and not (_field(spec, "categories") or _field(spec, "bins"))


def _priced(query: Query, by: str | None, columns_bounds: Mapping | None, epsilon, delta) -> tuple:
    """(budget, cost, mechanism): the only place a query's cost is worked out. It depends on the aggregate, whether
    the keys are public, epsilon and delta; never on the schema or the data."""
    unknown_keys = _keys_unknown(columns_bounds, by)
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
    return budget, cost, mechanism


def query_cost(
    expression: str,
    *,
    epsilon,
    delta: float = 0.0,
    section=None,
    columns_bounds: Mapping | None = None,
    by: str | None = None,
) -> PrivacyCost:
    """What plan_query charges for this query on any table, without the table: a ledger can refuse an analyst who
    cannot pay before the data is opened (inferring a CSV's schema reads all of it). Raises the refusals that need no
    schema; the others (unknown or non-numeric columns, missing bounds) come from plan_query."""
    query, by, _label = _grouped_query(expression, by, section)
    return _priced(query, by, columns_bounds, epsilon, delta)[1]


def plan_query(
    schema: pa.Schema,
    expression: str,
    *,
    epsilon,
    delta: float = 0.0,
    section=None,
    columns_bounds: Mapping | None = None,
    by: str | None = None,
) -> QueryPlan:
    """The query's plan for a table with this schema; JaneDoeInputError for anything that cannot be answered."""
    query, by, label = _grouped_query(expression, by, section)
    user_id = getattr(section, "user_id", None)
    rows_per_user = getattr(section, "max_rows_per_user", None) or 1
    integer_typed = _numeric_type(schema, query.column) if query.column else False
    if by is not None:
        _column_type(schema, by)
    if user_id is not None:
        _column_type(schema, user_id)
    bounds = clamping_bounds(columns_bounds, query.column) if query.column else None
    known = _known_keys(schema, by, columns_bounds) if by else ([None], {})
    unknown_keys = known is None
    assert unknown_keys == _keys_unknown(columns_bounds, by)  # the cost below is priced without the schema
    budget, cost, mechanism = _priced(query, by, columns_bounds, epsilon, delta)
    selection_share = 1.0 if query.aggregate == "count" else 0.5
    share = 1.0 - selection_share if unknown_keys else 1.0
    # a person's rows reach at most rows_per_user groups: only their rounding is paid for (exact sums elsewhere agree)
    touched = 1 if by is None else rows_per_user if known is None else min(rows_per_user, len(known[0]))
    # every noise scale and threshold now, so nothing after the charge can refuse
    selection, aggregate = None, None
    try:
        if unknown_keys:
            selection = _selection_threshold(budget.epsilon * selection_share, budget.delta, rows_per_user)
        if not (unknown_keys and query.aggregate == "count"):
            aggregate = _plan(query, integer_typed, bounds, budget, share, rows_per_user, touched)
    except (ArithmeticError, ValueError) as error:  # float range errors of absurd parameters; nothing was charged
        if isinstance(error, JaneDoeInputError):
            raise
        message = "epsilon or delta is outside the range the mechanisms support"
        raise JaneDoeInputError(message, where="epsilon") from None
    features = RowFeatures(
        user_id=user_id,
        by=by,
        column=query.column,
        aggregate=query.aggregate,
        bounds=bounds,
        exponent=aggregate.exponent if aggregate else 0,
        square_exponent=aggregate.square_exponent if aggregate else 0,
        integer_typed=integer_typed,
        **({} if known is None else known[1]),
    )
    return QueryPlan(
        query=query,
        label=label,
        by=by,
        keys=None if known is None else known[0],
        bounds=bounds,
        rows_per_user=rows_per_user,
        budget=budget,
        cost=cost,
        mechanism=mechanism,
        selection=selection,
        aggregate=aggregate,
        features=features,
    )


def _plan(query: Query, integer_typed: bool, bounds, budget: _Budget, share: float, r: int, touched: int):
    if query.aggregate == "count":
        return AggregatePlan(r, count=budget.plan(r, True, touched, 0, share))
    if query.aggregate == "quantile":
        return AggregatePlan(r, integer_typed=integer_typed, quantile_epsilon=budget.epsilon * share)
    assert query.column is not None  # every aggregate but a count reads a column
    low, high = bounds
    if query.aggregate == "sum":
        magnitude = max(abs(low), abs(high))
        integer_valued = integer_typed and float(low).is_integer() and float(high).is_integer() and magnitude < 2**53
        exponent = 0 if integer_valued else grid_exponent(magnitude)
        low_units, high_units = grid_bounds(low, high, exponent)
        sensitivity = r * grid_value(max(abs(low_units), abs(high_units), 1), exponent)
        total = budget.plan(sensitivity, integer_valued, touched, exponent, share)
        return AggregatePlan(r, total=total, exponent=exponent, integer_typed=integer_valued)
    _middle, half_range = centre(bounds, query.column)
    exponent = grid_exponent(half_range)
    count = budget.plan(r, True, touched, 0, share)
    total = budget.plan(r * grid_value(grid_bounds(-half_range, half_range, exponent)[1], exponent), False, touched,
                        exponent, share)
    if query.aggregate == "mean":
        return AggregatePlan(r, count=count, total=total, exponent=exponent)
    square_exponent = grid_exponent(half_range * half_range)
    square_bound = grid_bounds(0.0, half_range * half_range, square_exponent)[1]
    squares = budget.plan(r * grid_value(square_bound, square_exponent), False, touched, square_exponent, share)
    return AggregatePlan(r, count=count, total=total, squares=squares, exponent=exponent,
                         square_exponent=square_exponent)
