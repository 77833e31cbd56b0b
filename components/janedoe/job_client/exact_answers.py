"""Stage-1 (and review-mode) answers: the exact value of a query on the job's local table, no noise, no budget.

Same query language (janedoe.dp_noise's parser) and the same answer shape as the broker's DP answers, so a job's code
runs unchanged in both stages. Groups are the keys found in the data, sorted; rows with a missing key are in no group,
missing and NaN values are left out of sums, means, variances and quantiles, as the DP answers do. Values are not
clamped to the policy's bounds (the DP answers are): on stage-1 synthetic data every value is inside them anyway.
"""

import math
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from janedoe.dp_noise import parse_query
from janedoe.errors import JaneDoeInputError
from janedoe.job_client.paths import DATA_DIR_ENV, folder

STAGE_ENV = "JANEDOE_JOB_STAGE"
NOTE = {
    "1": "stage 1: the exact answer on the DP synthetic data, without noise and without spending budget",
    "2": "review mode: the exact answer on the mounted data; only checked, approved outputs leave the job",
}


def local_table_path():
    """The only Parquet table in JANEDOE_DATA_DIR (a dataset has one table)."""
    directory = folder(DATA_DIR_ENV)
    try:
        tables = sorted(entry for entry in os.listdir(directory) if entry.endswith(".parquet"))
    except OSError:
        raise JaneDoeInputError("cannot read the data folder", where=DATA_DIR_ENV) from None
    if len(tables) != 1:
        raise JaneDoeInputError(f"expected one .parquet table in the data folder, found {len(tables)}",
                                where=DATA_DIR_ENV)
    return directory / tables[0]


def _check_column(schema: pa.Schema, name: str, numeric: bool) -> None:
    if name not in schema.names:
        raise JaneDoeInputError(f"unknown column {name!r}", where=f"query: {name}")
    kind = schema.field(name).type
    if numeric and not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise JaneDoeInputError(f"column {name!r} is not numeric", where=f"query: {name}")


def _groups(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """(group code of each row, -1 for a missing key; the keys, sorted)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    return codes, encoded.dictionary.take(pa.array(order)).to_pylist()


def _values(column: pa.ChunkedArray) -> np.ndarray:
    """float64 values with NaN where missing."""
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)


def _quantiles(codes: np.ndarray, values: np.ndarray, groups: int, q: float) -> list:
    """Per group, the smallest value with at least q of the group's values at or below it (None for no value)."""
    order = np.lexsort((values, codes))
    codes, values = codes[order], values[order]
    counts = np.bincount(codes, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    positions = starts + np.maximum(np.ceil(q * counts).astype(np.int64) - 1, 0)
    picked = values[np.minimum(positions, max(values.size - 1, 0))] if values.size else np.zeros(groups)
    return [float(picked[g]) if counts[g] else None for g in range(groups)]


def _aggregate(aggregate: str, q, codes: np.ndarray, values: np.ndarray | None, groups: int, integer: bool) -> list:
    if aggregate == "count":
        return np.bincount(codes, minlength=groups).astype(np.int64).tolist()
    assert values is not None  # every aggregate but a count reads a column
    present = ~np.isnan(values)
    codes, values = codes[present], values[present]
    if aggregate == "quantile":
        return _quantiles(codes, values, groups, q)
    counts = np.bincount(codes, minlength=groups)
    sums = np.bincount(codes, weights=values, minlength=groups)
    if aggregate == "sum":
        return [int(s) if integer and math.isfinite(s) else float(s) for s in sums]
    means = np.divide(sums, counts, out=np.zeros(groups), where=counts > 0)
    if aggregate == "mean":
        results = means
    else:  # variance of the values (divided by n, as the DP variance)
        deviations = np.bincount(codes, weights=(values - means[codes]) ** 2, minlength=groups)
        results = np.divide(deviations, counts, out=np.zeros(groups), where=counts > 0)
    return [float(r) if c else None for r, c in zip(results.tolist(), counts.tolist(), strict=True)]


def exact_answer(expression: str, by: str | None) -> dict:
    """The exact answer to `expression` (grouped by `by`) on the local table, in the DP answers' dict shape."""
    query = parse_query(expression)
    aggregate, column = query.aggregate, query.column
    if aggregate == "histogram":
        if by is not None:
            raise JaneDoeInputError("histogram(col) already groups by col; leave out --by", where="by")
        label, aggregate, by, column = str(query), "count", column, None
    else:
        label = str(query) + (f" by {by}" if by else "")
    path = local_table_path()
    schema = pq.read_schema(path)
    if column is not None:
        _check_column(schema, column, numeric=True)
    if by is not None:
        _check_column(schema, by, numeric=False)
    needed = list(dict.fromkeys(name for name in (by, column) if name is not None))
    table = pq.read_table(path, columns=needed)
    if by is None:
        codes, keys = np.zeros(table.num_rows, dtype=np.int64), [None]
    else:
        codes, keys = _groups(table.column(by))
    grouped = codes >= 0
    values = _values(table.column(column))[grouped] if column is not None else None
    kind = schema.field(column).type if column is not None else None
    integer = kind is not None and (pa.types.is_integer(kind) or pa.types.is_boolean(kind))
    results = _aggregate(aggregate, query.q, codes[grouped], values, len(keys), integer)
    stage = os.environ.get(STAGE_ENV, "1")
    answer = {
        "query": label,
        "mechanism": "none (exact)",
        "cost": {"epsilon": 0.0, "delta": 0.0, "rho": 0.0},
        "value": results[0] if by is None else None,
        "ci_95": None,
        "groups": None if by is None else [
            {"key": key, "value": value, "ci_95": None} for key, value in zip(keys, results, strict=True)
        ],
        "noise": [],
        "rows_per_user": 1,
        "notes": [NOTE.get(stage, NOTE["1"])],
        "stage": stage,
    }
    return answer
