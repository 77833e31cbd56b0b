"""Private aggregates over Arrow tables: count, sum, mean, variance, quantile and histograms, optionally per group.

Plan, compute, release: the plan (query_plan) checks everything and fixes every noise scale from the schema and the
policy; the statistics are exact per-group totals of the rows each person may contribute (row_features, bounded by
contribution_bounding, summed by query_statistics); the release (query_release) charges the budget and then draws the
noise. Spark (janedoe.spark_engine) runs the same plan and release around statistics it computes itself.

Sums are exact (fixed_point): each clamped value is rounded onto a power-of-two grid and the integers are added
without rounding, so one person moves a sum by at most the grid-rounded bound, which is the sensitivity paid for.
"""

from collections.abc import Callable, Mapping

import pyarrow as pa
from janedoe.dp_noise.accountant import PrivacyCost
from janedoe.dp_noise.answers import QueryAnswer
from janedoe.dp_noise.contribution_bounding import bound_contributions, checked_bounding_key
from janedoe.dp_noise.query_parser import parse_query
from janedoe.dp_noise.query_plan import plan_query
from janedoe.dp_noise.query_release import release_query
from janedoe.dp_noise.query_statistics import feature_totals, statistics_from_totals
from janedoe.dp_noise.row_features import USER
from janedoe.errors import JaneDoeInputError

__all__ = ["bound_contributions", "run_query"]


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
    bounding_key: bytes | None = None,
) -> QueryAnswer:
    """Answer one private query. `charge(cost, mechanism)` is called once, after every check and before any noise
    is drawn (pass a ledger's spend there); if it raises, nothing is released. `bounding_key` picks which rows of a
    person with too many rows are kept (the same key keeps the same rows here and on Spark); None: a fresh key."""
    parse_query(expression)
    if not isinstance(table, pa.Table):
        raise JaneDoeInputError("the input must be an Arrow table", where="input")
    plan = plan_query(table.schema, expression, epsilon=epsilon, delta=delta, section=section,
                      columns_bounds=columns_bounds, by=by)
    key = checked_bounding_key(bounding_key)
    features = plan.features.compute(table.select(plan.features.input_columns))
    features = bound_contributions(features, USER if plan.features.user_id else None, plan.rows_per_user,
                                   bounding_key=key)
    statistics = statistics_from_totals(plan.keys, plan.features, feature_totals(plan.features, features))
    return release_query(plan, statistics, rng=rng, charge=charge)
