"""Fidelity and privacy-risk metrics for any two tables (real versus synthetic), vectorized over whole columns.

This reads the real data freely: it is an assessment for the data owner, not a release. Both tables are put on
shared cells first: few-valued columns keep their values, many-valued numeric columns get quantile bins of the real
data; nulls are a cell of their own.
"""

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.marginals import marginal_counts
from janedoe.synthetic.prediction_utility import prediction_utility, split_rows

MAX_TRIPLES = 400


@dataclass(frozen=True)
class SharedCells:
    """Both tables as cell indices over the same cells, with a printable label per cell."""

    names: list[str]
    real: np.ndarray
    synthetic: np.ndarray
    sizes: list[int]
    labels: list[list[str]]


def _is_numeric(arrow_type: pa.DataType) -> bool:
    return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_temporal(arrow_type)


def _numeric(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_temporal(column.type):
        column = column.cast(pa.int64()) if not pa.types.is_date32(column.type) else column.cast(pa.int32())
    return column.cast(pa.float64()).fill_null(np.nan).to_numpy()


def _column_cells(real: pa.ChunkedArray, synthetic: pa.ChunkedArray, max_bins: int):
    distinct = pc.unique(pa.chunked_array(real.chunks + synthetic.cast(real.type).chunks, type=real.type).drop_null())
    if _is_numeric(real.type) and len(distinct) > max_bins:
        values = _numeric(real)
        finite = values[np.isfinite(values)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, max_bins + 1)[1:-1])) if finite.size else np.array([])
        labels = [f"< {edges[0]:.4g}"] if edges.size else ["all"]
        labels += [f"{low:.4g} to {high:.4g}" for low, high in zip(edges[:-1], edges[1:], strict=True)]
        labels += [f">= {edges[-1]:.4g}"] if edges.size else []

        def cells(column):
            numbers = _numeric(column)
            codes = np.searchsorted(edges, numbers, side="right")
            return np.where(np.isnan(numbers), len(labels), codes)
    else:
        distinct = distinct.sort() if _is_numeric(real.type) or pa.types.is_string(real.type) else distinct
        labels = [str(value) for value in distinct.to_pylist()]

        def cells(column):
            index = pc.index_in(column.cast(real.type), value_set=distinct)
            return index.fill_null(len(labels)).to_numpy(zero_copy_only=False).astype(np.int64)
    real_cells, synthetic_cells = cells(real), cells(synthetic)  # missing values get code len(labels)
    return real_cells, synthetic_cells, [*labels, "(missing)"]


def shared_cells(real: pa.Table, synthetic: pa.Table, *, max_bins: int = 20) -> SharedCells:
    names = [name for name in real.column_names if name in synthetic.column_names]
    if not names:
        raise JaneDoeInputError("the real and synthetic tables share no column")
    if real.num_rows == 0 or synthetic.num_rows == 0:
        raise JaneDoeInputError("both tables need rows to be compared")
    real_codes, synthetic_codes, labels = [], [], []
    for name in names:
        try:
            a, b, column_labels = _column_cells(real.column(name), synthetic.column(name), max_bins)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
            raise JaneDoeInputError("the column's types differ between the tables", where=name) from error
        real_codes.append(a)
        synthetic_codes.append(b)
        labels.append(column_labels)
    return SharedCells(names, np.column_stack(real_codes), np.column_stack(synthetic_codes),
                       [len(x) for x in labels], labels)


def total_variation(cells: SharedCells, columns: tuple[int, ...]) -> float:
    real = marginal_counts(cells.real, cells.sizes, columns)
    synthetic = marginal_counts(cells.synthetic, cells.sizes, columns)
    return 0.5 * float(np.abs(real / real.sum() - synthetic / synthetic.sum()).sum())


def marginal_errors(cells: SharedCells, way: int, *, max_sets: int = MAX_TRIPLES, seed: int = 0) -> dict:
    """Mean and max TV over all `way`-column marginals (a seeded random subset when there are more than max_sets)."""
    sets = list(itertools.combinations(range(len(cells.names)), way))
    if not sets:
        return {"mean": None, "max": None, "count": 0}
    if len(sets) > max_sets:
        chosen = np.random.default_rng(seed).choice(len(sets), size=max_sets, replace=False)
        sets = [sets[i] for i in sorted(chosen)]
    errors = np.array([total_variation(cells, columns) for columns in sets])
    worst = int(np.argmax(errors))
    return {
        "mean": float(errors.mean()),
        "max": float(errors.max()),
        "count": len(sets),
        "worst": [cells.names[i] for i in sets[worst]],
        "by_marginal": {"|".join(cells.names[i] for i in s): float(e) for s, e in zip(sets, errors, strict=True)},
    }


def correlation_difference(real: pa.Table, synthetic: pa.Table, names: list[str]) -> dict:
    """Pearson correlations of the numeric columns: mean and max absolute difference between the two tables."""
    numeric = [name for name in names if _is_numeric(real.column(name).type)]
    if len(numeric) < 2:
        return {"mean": None, "max": None, "columns": numeric}

    def correlations(table):
        matrix = np.column_stack([_numeric(table.column(name)) for name in numeric])
        matrix = matrix[~np.isnan(matrix).any(axis=1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nan_to_num(np.corrcoef(matrix, rowvar=False))

    upper = np.triu_indices(len(numeric), 1)
    difference = np.abs(correlations(real) - correlations(synthetic))[upper]
    return {"mean": float(difference.mean()), "max": float(difference.max()), "columns": numeric}


def _naive_bayes(features: np.ndarray, labels: np.ndarray, sizes: list[int], classes: int):
    """Categorical naive Bayes with add-one smoothing: a dependency-free classifier for train-on-synthetic tests."""
    prior = np.log(np.bincount(labels, minlength=classes) + 1.0)
    tables = []
    for j, size in enumerate(sizes):
        counts = np.zeros((classes, size)) + 1.0
        np.add.at(counts, (labels, features[:, j]), 1.0)
        tables.append(np.log(counts / counts.sum(axis=1, keepdims=True)))

    def predict(rows: np.ndarray) -> np.ndarray:
        scores = np.broadcast_to(prior, (rows.shape[0], classes)).copy()
        for j, table in enumerate(tables):
            scores += table[:, rows[:, j]].T
        return scores.argmax(axis=1)

    return predict


def utility(cells: SharedCells, target: str, *, seed: int = 0, train: np.ndarray | None = None,
            test: np.ndarray | None = None) -> dict:
    """Train-on-synthetic/test-on-real accuracy against train-on-real, on the real `test` rows (by default a seeded
    30% split of the real rows)."""
    if target not in cells.names:
        raise JaneDoeInputError("the target column is not in both tables", where="target")
    t = cells.names.index(target)
    others = [j for j in range(len(cells.names)) if j != t]
    if train is None or test is None:
        train, test = split_rows(cells.real.shape[0], seed)
    if test.size == 0 or train.size == 0:
        raise JaneDoeInputError("the real table is too small for a train/test split", where="target")
    feature_sizes = [cells.sizes[j] for j in others]
    classes = cells.sizes[t]

    def accuracy(source: np.ndarray) -> float:
        predict = _naive_bayes(source[:, others], source[:, t], feature_sizes, classes)
        return float(np.mean(predict(cells.real[test][:, others]) == cells.real[test, t]))

    majority = np.bincount(cells.real[train, t], minlength=classes).argmax()
    return {
        "target": target,
        "classifier": "categorical naive Bayes",
        "train_real_accuracy": accuracy(cells.real[train]),
        "train_synthetic_accuracy": accuracy(cells.synthetic),
        "majority_accuracy": float(np.mean(cells.real[test, t] == majority)),
    }


def _nearest_hamming(queries: np.ndarray, reference: np.ndarray, chunk: int = 64) -> np.ndarray:
    distances = np.empty(queries.shape[0], dtype=np.int64)
    for start in range(0, queries.shape[0], chunk):
        block = queries[start : start + chunk]
        distances[start : start + chunk] = (block[:, None, :] != reference[None, :, :]).sum(axis=2).min(axis=1)
    return distances


def distance_to_closest_record(cells: SharedCells, *, sample: int = 1000, reference_rows: int = 10000,
                               seed: int = 0) -> dict:
    """Hamming distance on shared cells to the nearest real record: synthetic rows versus held-out real rows.

    The real rows are split in halves: a reference half and a holdout half. Synthetic rows that sit much closer to
    the reference than genuinely unseen rows do suggest memorisation.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(cells.real.shape[0])
    half = len(order) // 2
    reference = cells.real[order[:half][:reference_rows]] if half else cells.real
    holdout = cells.real[order[half:][:sample]]
    synthetic = cells.synthetic[rng.permutation(cells.synthetic.shape[0])[:sample]]
    synthetic_distance = _nearest_hamming(synthetic, reference)
    holdout_distance = _nearest_hamming(holdout, reference)
    return {
        "synthetic_median": float(np.median(synthetic_distance)),
        "holdout_median": float(np.median(holdout_distance)),
        "synthetic_zero_fraction": float(np.mean(synthetic_distance == 0)),
        "holdout_zero_fraction": float(np.mean(holdout_distance == 0)),
    }


def _row_keys(real: pa.Table, synthetic: pa.Table, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit key per row over the exact values (random multipliers: collisions are negligible)."""
    multipliers = np.random.default_rng(12345).integers(1, 2**63 - 1, size=len(names), dtype=np.uint64) | 1
    keys = [np.zeros(real.num_rows, dtype=np.uint64), np.zeros(synthetic.num_rows, dtype=np.uint64)]
    for name, multiplier in zip(names, multipliers, strict=True):
        a = real.column(name)
        b = synthetic.column(name).cast(a.type)
        distinct = pc.unique(pa.chunked_array(a.chunks + b.chunks, type=a.type))
        for position, column in enumerate((a, b)):
            codes = pc.index_in(column, value_set=distinct).fill_null(-1).to_numpy(zero_copy_only=False)
            shifted = codes.astype(np.uint64) + np.uint64(1)
            keys[position] = keys[position] * np.uint64(1_000_003) + shifted * multiplier
    return keys[0], keys[1]


def exact_copy_rate(real: pa.Table, synthetic: pa.Table, names: list[str], *, seed: int = 0) -> dict:
    """Share of synthetic rows equal to some real row, next to the same share for held-out real rows."""
    real_keys, synthetic_keys = _row_keys(real, synthetic, names)
    order = np.random.default_rng(seed).permutation(real_keys.size)
    half = order.size // 2
    return {
        "synthetic": float(np.isin(synthetic_keys, real_keys).mean()),
        "holdout_baseline": float(np.isin(real_keys[order[half:]], real_keys[order[:half]]).mean()) if half else None,
    }


def evaluate(real: pa.Table, synthetic: pa.Table, *, target: str | None = None, max_bins: int = 20,
             seed: int = 0, holdout: pa.Table | None = None) -> dict:
    """All metrics in one JSON-ready dict: 1/2/3-way TV, correlation difference, TSTR, DCR, exact copies.

    The prediction tests train on `real` and on `synthetic` and test on `holdout` (real rows the synthesizer never
    saw), or, without one, on a seeded 30% of `real` (then trained on the other 70%).
    """
    with np.errstate(over="ignore"):
        cells = shared_cells(real, synthetic, max_bins=max_bins)
        result = {
            "columns": cells.names,
            "rows": {"real": real.num_rows, "synthetic": synthetic.num_rows},
            "tv_1way": marginal_errors(cells, 1, seed=seed),
            "tv_2way": marginal_errors(cells, 2, seed=seed),
            "tv_3way": marginal_errors(cells, 3, seed=seed),
            "correlation_difference": correlation_difference(real, synthetic, cells.names),
            "distance_to_closest_record": distance_to_closest_record(cells, seed=seed),
            "exact_copy_rate": exact_copy_rate(real, synthetic, cells.names, seed=seed),
        }
        if target is not None:
            train = test = None
            if holdout is not None:
                cells = shared_cells(pa.concat_tables([real, holdout.select(real.column_names).cast(real.schema)]),
                                     synthetic, max_bins=max_bins)
                train, test = np.arange(real.num_rows), np.arange(real.num_rows, cells.real.shape[0])
            result["utility"] = utility(cells, target, seed=seed, train=train, test=test)
            result["prediction"] = prediction_utility(cells, target, seed=seed, train=train, test=test)
    return result
