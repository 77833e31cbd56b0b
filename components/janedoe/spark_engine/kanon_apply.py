"""k-anonymity enforcement on Spark: optimal (or heuristic) global recoding of a policy's table.

One Spark job counts the equivalence-class frequency table of the masked rows; the driver runs the lattice search on
it with janedoe.k_anonymity's code (the table is small: one row per distinct quasi-identifier and sensitive tuple)
and gets back a plan (leaf -> label per quasi-identifier, keys of the suppressed classes). The plan goes to the
executors as a broadcast and recodes every Arrow batch on its own (`mapInArrow`): the rows and the report are the
ones `janedoe kanon apply` gives on one machine.

Row order: on one machine the output is shuffled so that nobody who knows the input's order can link rows back by
position. Spark's partition order is not arbitrary (a file scan keeps the input order within each partition), so
the rows are sorted by a random key drawn per run (HMAC of a CSPRNG key that only lives in a broadcast, so a task
retried gives its rows the same keys), after a repartition on that key. No seed reproduces this order.
Mondrian partitions the records themselves, not the class table, and is refused on Spark.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import config_from_policy, kanon_policy_columns, recode_frequencies
from janedoe.masking import build_table_masker, load_secret, policy_needs_secret
from janedoe.policy import Policy
from janedoe.spark_engine.kanon_measure import column_reference, spark_class_frequencies
from janedoe.spark_engine.masking import mask_dataframe

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ORDER_COLUMN = "__janedoe_order"
ROW_ORDER = "random (sorted on a per-run secret key; not reproducible)"


def spark_anonymize_with_policy(
    policy: Policy,
    table_name: str,
    frame: DataFrame,
    policy_path: str | Path,
    seed: int | None = None,
    *,
    secret: bytes | None = None,
) -> tuple[DataFrame, dict]:
    """(the anonymized DataFrame, its report): the Spark twin of k_anonymity's `anonymize_with_policy`.

    The DataFrame is lazy (nothing runs until it is written or counted): FRAME masked per the policy's rules, its
    quasi-identifiers generalized to the chosen node's labels, the records of failing classes dropped, in a random
    order. The report is the one the single-machine run gives (node, suppression, k/l/t reached, utility, before
    and after), with `row_order` saying how rows are ordered. `secret` is the masking key (default: the policy's
    secret from the environment, when its rules need one); `seed` seeds the masking rules only.
    """
    started = time.perf_counter()
    policy_path = Path(policy_path)
    columns = kanon_policy_columns(policy, table_name, frame.columns, policy_path)
    table_policy = policy.tables[table_name]
    where = f"{policy_path}: tables.{table_name}.k_anonymity"
    assert table_policy.k_anonymity is not None  # kanon_policy_columns refused a table without the section
    if table_policy.k_anonymity.method == "mondrian":
        raise JaneDoeInputError(
            "method 'mondrian' is not available on Spark (use optimal or heuristic, or janedoe kanon apply)",
            where=where,
        )
    for name in columns:
        column = table_policy.columns[name]
        if column.role == "sensitive" and getattr(column.mask, "fresh", False):
            raise JaneDoeInputError(
                "a sensitive column cannot be masked with a fresh rule on Spark (counted and written in two passes, "
                "it would be drawn twice)",
                where=f"{policy_path}: tables.{table_name}.columns.{name}",
            )
    needs_secret = policy_needs_secret(policy, table_name)
    if needs_secret and secret is None:
        secret = load_secret(policy)
    masking_secret = secret if needs_secret else None
    masked = mask_dataframe(frame, policy, table_name, secret=masking_secret, seed=seed)
    rule_names = _rule_names(frame, policy, table_name, masking_secret, seed)
    # columns kept as they are need no masking pass to be counted (and a columnar scan reads only them)
    counted = frame if all(table_policy.columns[name].mask.mask == "keep" for name in columns) else masked
    frequencies = spark_class_frequencies(counted, columns)
    config = config_from_policy(policy, table_name, frequencies, policy_path)
    decided = recode_frequencies(frequencies, config)
    output = _recoded(masked, decided.recoding, config.quasi_identifiers)
    report = decided.report
    report["seconds"] = time.perf_counter() - started
    report["row_order"] = ROW_ORDER
    report["table"] = table_name
    report["masking_rules"] = rule_names
    return output, report


def _rule_names(frame: DataFrame, policy: Policy, table_name: str, secret: bytes | None, seed: int | None) -> dict:
    from pyspark.sql.pandas.types import to_arrow_schema

    masker = build_table_masker(policy, table_name, to_arrow_schema(frame.schema), secret=secret, seed=seed)
    return dict(masker.rule_names)


def _recoded(masked: DataFrame, recoding, quasi_identifiers: list[str]) -> DataFrame:
    """MASKED with the recoding applied in the tasks, then shuffled on the random key and the key dropped."""
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    schema = to_arrow_schema(masked.schema)
    for name in quasi_identifiers:
        schema = schema.set(schema.get_field_index(name), pa.field(name, pa.string()))
    schema = schema.append(pa.field(ORDER_COLUMN, pa.int64(), nullable=False))
    context = masked.sparkSession.sparkContext
    plan = context.broadcast(recoding)
    order_key = context.broadcast(secrets.token_bytes(32))

    def recode_partition(batches):
        from pyspark import TaskContext

        partition = TaskContext.get().partitionId()
        for number, batch in enumerate(batches):
            recoded = plan.value.apply(pa.Table.from_batches([batch]))
            keys = _order_keys(order_key.value, partition, number, recoded.num_rows)
            recoded = recoded.append_column(pa.field(ORDER_COLUMN, pa.int64(), nullable=False), pa.array(keys))
            yield from recoded.to_batches()

    order = column_reference(ORDER_COLUMN)
    recoded = masked.mapInArrow(recode_partition, from_arrow_schema(schema))
    return recoded.repartition(order).sortWithinPartitions(order).drop(ORDER_COLUMN)


def _order_keys(key: bytes, partition: int, batch: int, rows: int) -> np.ndarray:
    """One random int64 per row, a function of (run key, partition, batch, position) only: a retried task's rows
    get the keys they had, so the shuffle on them neither loses nor duplicates rows."""
    stream_key = hmac.digest(key, f"{partition}/{batch}".encode(), "sha256")
    return np.frombuffer(hashlib.shake_256(stream_key).digest(8 * rows), dtype=np.int64)
