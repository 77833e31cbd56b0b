"""Private queries on Spark: dp_noise's plan and release around exact statistics that Spark computes.

The plan (every refusal, the cost and every noise scale) is made on the driver from the DataFrame's schema and the
policy, exactly as `janedoe dp query` makes it. Spark then computes the statistics: inside the tasks each Arrow batch
becomes per-row features (the row's group and its clamped value in integer grid steps, dp_noise.RowFeatures) with a
keyed random rank; a window over the privacy-unit column keeps each person's lowest-ranked rows; a groupBy adds the
grid steps as decimal(38, 0), so the sums are exact whatever the partitioning. Only the small per-group totals reach
the driver, where the budget is charged and the noise is drawn once, with dp_noise's samplers: never per partition.

The bounding key travels as a broadcast variable (the plan holds only its id), and the statistics are computed
before the charge: a failed job (a lost executor, an unreadable file) costs no budget, and nothing is drawn or
released unless the charge succeeds. An optional precheck of the planned cost runs before any Spark action, so an
analyst whose budget cannot pay is refused without a job over the whole table (cluster time is not free either).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dp_noise import (
    PrivacyCost,
    QueryAnswer,
    RowFeatures,
    checked_bounding_key,
    parse_query,
    plan_query,
    release_query,
    statistics_from_totals,
)
from janedoe.errors import JaneDoeInputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

RANK = "rank"
_KEPT = "kept_position"


def spark_query(
    frame: DataFrame,
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
    precheck: Callable[[PrivacyCost], object] | None = None,
) -> QueryAnswer:
    """The private answer to EXPRESSION over FRAME (a dp_noise QueryAnswer: value or groups, 95% intervals, noise,
    cost): the same contract and, for the same rng and bounding_key, the same answer as dp_noise.run_query on the same
    rows. `charge(cost, mechanism)` is called once, after Spark has computed the exact statistics and before any noise
    is drawn; if it raises, nothing is released. One Spark action: a window over the person and one groupBy.

    `precheck(cost)` (e.g. a ledger's check_affordable) is called once after planning and before that action; if it
    raises, Spark runs nothing. It only saves work: a spend landing between it and the charge is still refused by the
    charge, which re-checks atomically."""
    from pyspark.sql.pandas.types import to_arrow_schema

    query = parse_query(expression)
    wanted = dict.fromkeys(name for name in (getattr(section, "user_id", None), by, query.column) if name)
    frame = frame.select(*[_column(name) for name in wanted if name in frame.columns])
    try:
        schema = to_arrow_schema(frame.schema)
    except (TypeError, ValueError) as error:
        raise JaneDoeInputError(f"a queried column has a type Arrow cannot carry ({error})", where="input") from None
    plan = plan_query(schema, expression, epsilon=epsilon, delta=delta, section=section,
                      columns_bounds=columns_bounds, by=by)
    key = checked_bounding_key(bounding_key)
    if precheck is not None:
        precheck(plan.cost)
    totals = spark_totals(frame, plan.features, plan.rows_per_user, key)
    statistics = statistics_from_totals(plan.keys, plan.features, totals)
    return release_query(plan, statistics, rng=rng, charge=charge)


def _column(name: str):
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def spark_totals(frame: DataFrame, features: RowFeatures, rows_per_user: int, key: bytes) -> pa.Table:
    """The per-group totals (dp_noise.feature_totals' table) of FRAME's rows, at most rows_per_user per person."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    output = features.output_schema(to_arrow_schema(frame.schema))
    per_person = features.user_id is not None
    if per_person:
        output = output.append(pa.field(RANK, pa.int64()))
        broadcast_key = frame.sparkSession.sparkContext.broadcast(key)

    def batch_features(batches):
        from janedoe.dp_noise import row_ranks

        for batch in batches:
            table = features.compute(batch)
            if per_person:  # rows without a person go; the others get their keyed rank
                table = table.filter(pc.is_valid(table.column(RowFeatures.USER)))
                table = table.append_column(RANK, pa.array(row_ranks(table, broadcast_key.value), pa.int64()))
            yield from table.to_batches()

    rows = frame.mapInArrow(batch_features, from_arrow_schema(output))
    if per_person:
        order = Window.partitionBy(RowFeatures.USER).orderBy(RANK)  # equal ranks are equal rows: any may stay
        rows = rows.withColumn(_KEPT, F.row_number().over(order)).where(F.col(_KEPT) <= rows_per_user)
    rows = rows.where(F.col(RowFeatures.GROUP).isNotNull())
    count_rows = F.count(F.lit(1)).alias("rows")
    if features.aggregate == "quantile":
        return rows.groupBy(RowFeatures.GROUP, RowFeatures.VALUE).agg(count_rows).toArrow()
    totals = [count_rows]
    if features.aggregate != "count":
        totals += [F.count(RowFeatures.VALUE).alias("present"), _exact_sum(RowFeatures.VALUE).alias("total")]
    if features.aggregate == "variance":
        totals.append(_exact_sum(RowFeatures.SQUARE).alias(RowFeatures.SQUARE))
    return rows.groupBy(RowFeatures.GROUP).agg(*totals).toArrow()


def _exact_sum(name: str):
    from pyspark.sql import functions as F

    return F.sum(F.col(name).cast("decimal(38,0)"))  # integers: exact in any order, never a double
