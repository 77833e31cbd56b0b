"""Measure a table as it is: k, class sizes, l-diversity, t-closeness and re-identification risk.

Quasi-identifier values are compared as text (exact equality), so the same function measures raw inputs and
generalized outputs. Everything is computed from rows that carry a record count: a table of records is its own
frequency table with every count 1, and `measure_frequencies` measures an equivalence-class frequency table
(frequencies.py) such as the one Spark builds with one groupBy, with the same code and the same result.
One dictionary encoding per column and one mixed-radix key: no row loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity.criteria import (
    class_sensitive,
    distinct_l,
    entropy_l,
    recursive_l,
    t_distance,
)
from janedoe.k_anonymity.encoding import (
    column_as_text,
    combine_keys,
    dense_inverse,
    dictionary_codes,
    encode_sensitive,
    text_codes,
)
from janedoe.k_anonymity.frequencies import frequency_weights
from janedoe.k_anonymity.risk import population_risk, prosecutor_risk, sample_uniques


@dataclass(frozen=True)
class SensitiveMeasurement:
    column: str
    distinct_l: int
    entropy_l: float
    recursive_l: int
    recursive_c: float
    t: float
    t_distance: str

    def to_dict(self) -> dict:
        return {
            "column": self.column,
            "distinct_l": self.distinct_l,
            "entropy_l": self.entropy_l,
            "recursive_c_l": {"c": self.recursive_c, "l": self.recursive_l},
            "t": self.t,
            "t_distance": self.t_distance,
        }


@dataclass(frozen=True)
class Measurement:
    records: int
    quasi_identifiers: list[str]
    classes: int
    k: int
    class_sizes: dict[int, int]  # class size -> number of classes of that size
    required_k: int | None
    records_below_k: int | None
    prosecutor: dict
    uniques: dict
    sensitive: list[SensitiveMeasurement] = field(default_factory=list)
    population: dict | None = None

    @property
    def k_met(self) -> bool:
        return self.required_k is None or self.k >= self.required_k

    def to_dict(self) -> dict:
        below = None
        if self.required_k is not None and self.records_below_k is not None:  # both are set together
            below = {
                "k": self.required_k,
                "records": self.records_below_k,
                "share": self.records_below_k / self.records if self.records else 0.0,
            }
        return {
            "records": self.records,
            "quasi_identifiers": list(self.quasi_identifiers),
            "classes": self.classes,
            "k": self.k,
            "k_met": self.k_met,
            "below_k": below,
            "class_size_distribution": [
                {"size": size, "classes": count, "records": size * count} for size, count in self.class_sizes.items()
            ],
            "risk": {"prosecutor": self.prosecutor, "sample_uniques": self.uniques, "population": self.population},
            "sensitive": [item.to_dict() for item in self.sensitive],
        }


def _qi_codes(tables: list[pa.Table], quasi_identifiers: list[str]) -> list[np.ndarray]:
    """Codes per table, consistent across the given tables (so a sample and its population share keys)."""
    per_table: list[list[np.ndarray]] = [[] for _ in tables]
    radices = []
    for name in quasi_identifiers:
        if len(tables) == 1:
            codes, distinct = text_codes(tables[0], name)
            radices.append(max(len(distinct), 1))
            per_table[0].append(codes)
            continue
        texts = [column_as_text(table, name) for table in tables]
        combined = pa.chunked_array(texts).combine_chunks() if len(texts) > 1 else texts[0]
        codes, distinct = dictionary_codes(combined)
        radices.append(max(len(distinct), 1))
        start = 0
        for position, text in enumerate(texts):
            per_table[position].append(codes[start : start + len(text)])
            start += len(text)
    keys = []
    for columns in per_table:
        keys.append(combine_keys(columns, radices) if columns else np.zeros(0, dtype=np.int64))
    return keys


def measure(
    table: pa.Table,
    quasi_identifiers: list[str],
    sensitive: list[str] | str | None = None,
    k: int | None = None,
    *,
    recursive_c: float = 3.0,
    ordered_sensitive: list[str] | None = None,
    population: pa.Table | None = None,
    risk_threshold: float = 0.2,
) -> Measurement:
    """k, l, t and risk of `table` for the given quasi-identifiers (and sensitive columns).

    `ordered_sensitive` lists sensitive columns measured with the ordered distance; by default numeric columns are.
    """
    if not quasi_identifiers:
        raise JaneDoeInputError("at least one quasi-identifier is needed")
    if table.num_rows == 0:
        raise JaneDoeInputError("the table has no rows")
    sensitive_columns = [sensitive] if isinstance(sensitive, str) else list(sensitive or [])
    for name in sensitive_columns:
        if name not in table.column_names:
            raise JaneDoeInputError(f"sensitive column '{name}' is not in the table")
    population_rows = None if population is None else (population, np.ones(population.num_rows, dtype=np.int64))
    return _measure_rows(
        table, np.ones(table.num_rows, dtype=np.int64), quasi_identifiers, sensitive_columns, k,
        recursive_c=recursive_c, ordered_sensitive=ordered_sensitive, population=population_rows,
        risk_threshold=risk_threshold,
    )


def measure_frequencies(
    frequencies: pa.Table,
    quasi_identifiers: list[str],
    sensitive: list[str] | str | None = None,
    k: int | None = None,
    *,
    recursive_c: float = 3.0,
    ordered_sensitive: list[str] | None = None,
    population: pa.Table | None = None,
    risk_threshold: float = 0.2,
) -> Measurement:
    """`measure` from an equivalence-class frequency table (see frequencies.py) instead of the records.

    `population`, when given, is the population's frequency table over the quasi-identifiers.
    """
    if not quasi_identifiers:
        raise JaneDoeInputError("at least one quasi-identifier is needed")
    sensitive_columns = [sensitive] if isinstance(sensitive, str) else list(sensitive or [])
    population_rows = None if population is None else (population, frequency_weights(population))
    return _measure_rows(
        frequencies, frequency_weights(frequencies), quasi_identifiers, sensitive_columns, k,
        recursive_c=recursive_c, ordered_sensitive=ordered_sensitive, population=population_rows,
        risk_threshold=risk_threshold,
    )


def _measure_rows(
    rows: pa.Table,
    weights: np.ndarray,
    quasi_identifiers: list[str],
    sensitive_columns: list[str],
    k: int | None,
    *,
    recursive_c: float,
    ordered_sensitive: list[str] | None,
    population: tuple[pa.Table, np.ndarray] | None,
    risk_threshold: float,
) -> Measurement:
    """The one implementation: ROWS each standing for WEIGHTS records (all 1 for records)."""
    if not weights.sum():
        raise JaneDoeInputError("the table has no rows")
    tables = [rows] if population is None else [rows, population[0]]
    keys = _qi_codes(tables, quasi_identifiers)
    inverse, _ = dense_inverse(keys[0], float(keys[0].max()) + 1)
    row_weights = None if (weights == 1).all() else weights.astype(np.float64)  # records: plain counts, faster
    sizes = _weighted_counts(inverse, weights)
    population_result = None
    if population is not None:
        sample_keys = np.unique(keys[0])
        population_keys, population_inverse = np.unique(keys[1], return_inverse=True)
        population_sizes = _weighted_counts(population_inverse.ravel(), population[1])
        position = np.searchsorted(population_keys, sample_keys)
        position = np.minimum(position, max(len(population_keys) - 1, 0))
        found = population_keys[position] == sample_keys if len(population_keys) else np.zeros(len(sample_keys), bool)
        matched = np.where(found, population_sizes[position] if len(population_keys) else 0, 0)
        population_result = population_risk(sizes, matched)
    sensitive_codes = []
    for name in sensitive_columns:
        ordered = _is_ordered(rows, name, ordered_sensitive)
        codes, distinct = encode_sensitive(rows, name, ordered=ordered)
        sensitive_codes.append(SensitiveCodes(name, codes, max(len(distinct), 1), ordered))
    return measure_classes(
        inverse, sizes, quasi_identifiers, sensitive_codes, k, weights=row_weights,
        recursive_c=recursive_c, risk_threshold=risk_threshold, population=population_result,
    )


def _weighted_counts(group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Records per group, exact (integer sums)."""
    if (weights == 1).all():
        return np.bincount(group).astype(np.int64)
    counts = np.zeros(int(group.max()) + 1 if len(group) else 0, dtype=np.int64)
    np.add.at(counts, group, weights)
    return counts


@dataclass(frozen=True)
class SensitiveCodes:
    """A sensitive column already encoded: code per record, number of values, whether the values are ordered, and
    the t-closeness reference (None: the distribution over these records)."""

    name: str
    codes: np.ndarray
    value_count: int
    ordered: bool
    reference: np.ndarray | None = None


def measure_classes(
    class_ids: np.ndarray,
    sizes: np.ndarray,
    quasi_identifiers: list[str],
    sensitive: list[SensitiveCodes],
    k: int | None,
    *,
    weights: np.ndarray | None = None,
    recursive_c: float = 3.0,
    risk_threshold: float = 0.2,
    population: dict | None = None,
) -> Measurement:
    """The measurement from equivalence classes already formed (class id per row, class sizes in records);
    `weights`: records per row when the rows are a frequency table's, not records."""
    size_values, size_counts = np.unique(sizes, return_counts=True)
    below = int(sizes[sizes < k].sum()) if k is not None else None
    measured_sensitive = []
    for item in sensitive:
        name, codes, ordered = item.name, item.codes, item.ordered
        profile = class_sensitive(class_ids, codes, weights, len(sizes), item.value_count, item.reference)
        distance = t_distance(profile, ordered)
        measured_sensitive.append(
            SensitiveMeasurement(
                column=name,
                distinct_l=int(distinct_l(profile).min()),
                entropy_l=float(entropy_l(profile).min()),
                recursive_l=int(recursive_l(profile, recursive_c).min()),
                recursive_c=recursive_c,
                t=float(distance.max()),
                t_distance="ordered" if ordered else "equal",
            )
        )
    return Measurement(
        records=int(sizes.sum()),
        quasi_identifiers=list(quasi_identifiers),
        classes=len(sizes),
        k=int(sizes.min()),
        class_sizes={int(s): int(c) for s, c in zip(size_values, size_counts, strict=True)},
        required_k=k,
        records_below_k=below,
        prosecutor=prosecutor_risk(sizes, risk_threshold),
        uniques=sample_uniques(sizes),
        sensitive=measured_sensitive,
        population=population,
    )


def _is_ordered(table: pa.Table, name: str, ordered_sensitive: list[str] | None) -> bool:
    if ordered_sensitive is not None:
        return name in ordered_sensitive
    if name not in table.column_names:
        raise JaneDoeInputError(f"sensitive column '{name}' is not in the table")
    kind = table.column(name).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)

