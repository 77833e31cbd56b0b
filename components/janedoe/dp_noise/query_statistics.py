"""A query's sufficient statistics: exact per-group totals of the bounded rows' features, in a canonical key order.

Every engine reduces the features (row_features) of the rows it kept to one small table of totals, one row per group
(and per quantile candidate): `group`, [`value` for quantiles], `rows`, [`present`, `total`, `square`], with counts
as int64 and sums of grid steps as decimal128(38, 0). The release reads only these totals, through
statistics_from_totals, so one process and Spark release from identical numbers. Keys found in the data are put in
sorted order (never in order of appearance, which depends on the engine and the partitioning), so the noise drawn
for the k-th key is the same everywhere.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dp_noise.fixed_point import exact_group_sums
from janedoe.dp_noise.row_features import GROUP, SQUARE, VALUE, RowFeatures

EXACT_SUM = pa.decimal128(38, 0)  # 10^38 > 2^126: rows x 2^53 grid steps fit with room to spare


@dataclass(frozen=True)
class QueryStatistics:
    """Per group: rows, rows with a value, exact sums of grid steps, and quantile candidate counts (sparse)."""

    keys: list
    rows: np.ndarray
    present: np.ndarray
    sums: np.ndarray  # Python ints
    squares: np.ndarray  # Python ints
    histogram: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (group, candidate, rows), sorted


def feature_totals(features: RowFeatures, table: pa.Table) -> pa.Table:
    """The totals table of the (already bounded) feature rows of TABLE, computed in this process."""
    encoded = pc.dictionary_encode(table.column(GROUP).combine_chunks())
    keys = encoded.dictionary
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    size = len(keys)
    grouped = codes >= 0
    if features.aggregate == "quantile":
        buckets = table.column(VALUE).combine_chunks()
        bucket = pc.fill_null(buckets, -1).to_numpy(zero_copy_only=False)[grouped]
        pairs, rows = np.unique(codes[grouped] * (1 << 32) + (bucket + 1), return_counts=True)
        values = (pairs & ((1 << 32) - 1)) - 1
        return pa.table({
            GROUP: keys.take(pa.array(pairs >> 32)),
            VALUE: pa.array(values, mask=values < 0),
            "rows": pa.array(rows.astype(np.int64)),
        })
    columns = {GROUP: keys, "rows": pa.array(np.bincount(codes[grouped], minlength=size).astype(np.int64))}
    if features.aggregate != "count":
        present = grouped & pc.is_valid(table.column(VALUE)).to_numpy(zero_copy_only=False)
        group_of = codes[present]
        columns["present"] = pa.array(np.bincount(group_of, minlength=size).astype(np.int64))
        value_bound, square_bound = features.value_bound()
        units = _filled(table.column(VALUE))[present]
        columns["total"] = pa.array(exact_group_sums(units, group_of, size, value_bound).tolist(), EXACT_SUM)
        if features.aggregate == "variance":
            squares = _filled(table.column(SQUARE))[present]
            columns[SQUARE] = pa.array(exact_group_sums(squares, group_of, size, square_bound).tolist(), EXACT_SUM)
    return pa.table(columns)


def _filled(column) -> np.ndarray:
    return pc.fill_null(column, 0).to_numpy(zero_copy_only=False).astype(np.int64)


def statistics_from_totals(keys: list | None, features: RowFeatures, totals: pa.Table) -> QueryStatistics:
    """The statistics of a totals table; KEYS: the policy's keys in order, or None to take the keys found, sorted."""
    groups = totals.column(GROUP).combine_chunks()
    if keys is None:
        distinct = pc.unique(groups.drop_null())
        distinct = distinct.take(pc.sort_indices(distinct))
        index = pc.index_in(groups, value_set=distinct)
        keys = distinct.to_pylist()
    else:
        index = groups
    valid = pc.is_valid(index).to_numpy(zero_copy_only=False)
    index = pc.fill_null(index, 0).to_numpy(zero_copy_only=False).astype(np.int64)[valid]
    size = len(keys)
    column = {name: totals.column(name).combine_chunks().filter(pa.array(valid)) for name in totals.column_names}
    rows = np.zeros(size, dtype=np.int64)
    np.add.at(rows, index, column["rows"].to_numpy(zero_copy_only=False).astype(np.int64))
    present = np.zeros(size, dtype=np.int64)
    sums = np.array([0] * size, dtype=object)
    squares = np.array([0] * size, dtype=object)
    histogram = None
    if features.aggregate == "quantile":
        bucket = column[VALUE]
        has_value = pc.is_valid(bucket).to_numpy(zero_copy_only=False)
        counts = column["rows"].to_numpy(zero_copy_only=False).astype(np.int64)[has_value]
        groups_of = index[has_value]
        candidates = pc.fill_null(bucket, 0).to_numpy(zero_copy_only=False).astype(np.int64)[has_value]
        np.add.at(present, groups_of, counts)
        order = np.lexsort((candidates, groups_of))
        histogram = (groups_of[order], candidates[order], counts[order])
    elif features.aggregate != "count":
        np.add.at(present, index, column["present"].to_numpy(zero_copy_only=False).astype(np.int64))
        for name, out in (("total", sums), (SQUARE, squares)):
            if name in column:
                for i, value in zip(index.tolist(), column[name].to_pylist(), strict=True):
                    out[i] += int(value or 0)
    return QueryStatistics(keys=list(keys), rows=rows, present=present, sums=sums, squares=squares,
                           histogram=histogram)
