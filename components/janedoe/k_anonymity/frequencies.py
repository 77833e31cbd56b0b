"""The equivalence-class frequency table: each distinct combination of the quasi-identifiers (and sensitive values)
with its record count.

Every measure and every global-recoding decision is a function of this table alone, so any engine that can group
and count (numpy here, Spark in spark_engine) produces it and the same driver code takes it from there.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity.encoding import combine_keys

FREQUENCY_COLUMN = "__janedoe_records"


def frequency_columns(quasi_identifiers: list[str], sensitive: list[str]) -> list[str]:
    """The columns to group by: quasi-identifiers, then sensitive columns, each once."""
    return list(dict.fromkeys([*quasi_identifiers, *sensitive]))


def class_frequencies(table: pa.Table, columns: list[str]) -> pa.Table:
    """COLUMNS' distinct combinations (nulls included) with their record counts in FREQUENCY_COLUMN."""
    codes, radices = [], []
    for name in columns:
        if name not in table.column_names:
            raise JaneDoeInputError(f"column '{name}' is not in the table")
        encoded = pc.dictionary_encode(table.column(name).combine_chunks(), null_encoding="encode")
        codes.append(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False))
        radices.append(max(len(encoded.dictionary), 1))
    if not columns:
        raise JaneDoeInputError("at least one column is needed")
    first, counts = _one_row_per_key(combine_keys(codes, radices), float(np.prod(np.array(radices, np.float64))))
    distinct = table.select(columns).take(pa.array(first))
    return distinct.append_column(FREQUENCY_COLUMN, pa.array(counts.astype(np.int64)))


def _one_row_per_key(key: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    """(a row index holding each distinct key, rows per key): by counting when the key space is small."""
    if span <= max(1 << 22, 2 * len(key)):
        counts = np.bincount(key, minlength=int(span))
        occupied = np.flatnonzero(counts)
        holder = np.zeros(int(span), dtype=np.int64)
        holder[key] = np.arange(len(key))  # any writer wins: every one holds that key
        return holder[occupied], counts[occupied]
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return first, counts


def frequency_weights(frequencies: pa.Table) -> np.ndarray:
    """Records per row of a frequency table (int64)."""
    if FREQUENCY_COLUMN not in frequencies.column_names:
        raise JaneDoeInputError(f"a class frequency table needs its '{FREQUENCY_COLUMN}' column")
    return frequencies.column(FREQUENCY_COLUMN).to_numpy().astype(np.int64, copy=False)
