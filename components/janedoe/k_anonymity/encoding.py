"""Encode quasi-identifiers once as integer codes, with per-level code maps taken from their hierarchies.

Everything downstream (measurement, lattice search, Mondrian) works on these int arrays: a generalization of a
column to level j is one fancy-indexing `level_codes[j][codes]`, never a Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity.hierarchy import Hierarchy, flat_hierarchy

NULL_LABEL = "NULL"


def column_as_text(table: pa.Table, name: str) -> pa.Array:
    """A column as strings (how hierarchies spell values); nulls become ARX's `NULL`."""
    if name not in table.column_names:
        raise JaneDoeInputError(f"column '{name}' is not in the table")
    column = table.column(name)
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return pc.fill_null(column, NULL_LABEL).combine_chunks()


def dictionary_codes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(codes per row, distinct values) via Arrow's hash-based dictionary encoding."""
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    values = np.array(encoded.dictionary.to_pylist(), dtype=object)
    return codes, values


def text_codes(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(codes per row, distinct values as text): encodes the raw column first, so only distinct values are cast."""
    if name not in table.column_names:
        raise JaneDoeInputError(f"column '{name}' is not in the table")
    encoded = pc.dictionary_encode(table.column(name).combine_chunks(), null_encoding="encode")
    dictionary = encoded.dictionary
    if not pa.types.is_string(dictionary.type) and not pa.types.is_large_string(dictionary.type):
        dictionary = pc.cast(dictionary, pa.string())
    dictionary = pc.fill_null(dictionary, NULL_LABEL)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return codes, np.array(dictionary.to_pylist(), dtype=object)


@dataclass(frozen=True)
class EncodedAttribute:
    """One quasi-identifier: leaf code per record and, per level, leaf -> label id, label texts, leaves per label."""

    name: str
    hierarchy: Hierarchy
    codes: np.ndarray
    level_codes: tuple[np.ndarray, ...]
    level_labels: tuple[np.ndarray, ...]
    level_leaf_counts: tuple[np.ndarray, ...]

    @property
    def height(self) -> int:
        return len(self.level_codes)

    @property
    def domain_size(self) -> int:
        return int(self.hierarchy.labels.shape[0])

    def generalized(self, level: int) -> np.ndarray:
        """Label id per record at `level`."""
        return self.level_codes[level][self.codes]

    def up_map(self, from_level: int, to_level: int) -> np.ndarray:
        """Label id at `from_level` -> label id at `to_level` (well defined: one parent per label)."""
        target = np.zeros(len(self.level_labels[from_level]), dtype=np.int32)
        target[self.level_codes[from_level]] = self.level_codes[to_level]
        return target


def encode_attribute(table: pa.Table, name: str, hierarchy: Hierarchy | None) -> EncodedAttribute:
    codes, distinct = text_codes(table, name)
    if hierarchy is None:
        hierarchy = flat_hierarchy(distinct, source=f"default hierarchy of '{name}'")
    leaf_index = {leaf: row for row, leaf in enumerate(hierarchy.leaves)}
    to_leaf = np.empty(len(distinct), dtype=np.int32)
    missing = []
    for position, value in enumerate(distinct):
        row = leaf_index.get(value)
        if row is None:
            missing.append(position)
            row = -1
        to_leaf[position] = row
    if missing:
        first_row = int(np.flatnonzero(np.isin(codes, missing))[0]) + 1
        raise JaneDoeInputError(
            f"{len(missing)} distinct value(s) of column '{name}' are missing from the hierarchy "
            f"(first at data row {first_row})",
            where=hierarchy.source,
        )
    level_codes, level_labels, leaf_counts = [], [], []
    for level in range(hierarchy.height):
        leaf_to_label, labels = _level_encoding(hierarchy.labels[:, level])
        level_codes.append(leaf_to_label)
        level_labels.append(labels)
        leaf_counts.append(np.bincount(leaf_to_label, minlength=len(labels)))
    return EncodedAttribute(
        name=name,
        hierarchy=hierarchy,
        codes=to_leaf[codes],
        level_codes=tuple(level_codes),
        level_labels=tuple(level_labels),
        level_leaf_counts=tuple(leaf_counts),
    )


def _level_encoding(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label ids in order of first appearance in the hierarchy (keeps siblings together, which Mondrian uses)."""
    index: dict[str, int] = {}
    ids = np.empty(len(labels), dtype=np.int32)
    for row, label in enumerate(labels):
        ids[row] = index.setdefault(label, len(index))
    return ids, np.array(list(index), dtype=object)


def encode_sensitive(table: pa.Table, name: str, *, ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """(code per record, distinct values). Codes follow value order (numbers for ordered numeric columns, else text):
    the ordered EMD needs it, and codes that do not depend on row order make every engine's sums add in one order."""
    column = table.column(name) if name in table.column_names else None
    if column is None:
        raise JaneDoeInputError(f"sensitive column '{name}' is not in the table")
    if ordered and (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        numbers = column.to_numpy().astype(float)
        if np.isnan(numbers).any():
            raise JaneDoeInputError(f"sensitive column '{name}' has missing values; ordered distance needs numbers")
        distinct, codes = np.unique(numbers, return_inverse=True)
        return codes.astype(np.int32), distinct
    codes, distinct = dictionary_codes(column_as_text(table, name))
    order = np.argsort(distinct.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[codes].astype(np.int32), distinct[order]


def combine_keys(columns: list[np.ndarray], radices: list[int]) -> np.ndarray:
    """Mixed-radix int64 key per row; falls back to successive re-encoding when the product would overflow."""
    key = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    span = 1
    for column, radix in zip(columns, radices, strict=True):
        if span * radix >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64)
            span = int(key.max()) + 1 if key.size else 1
        key = key * radix + column
        span *= radix
    return key


def dense_inverse(key: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    """(group id per row in key order, size per group), by counting when the key space is small, else sorting."""
    if span <= max(1 << 22, 2 * len(key)):
        counts = np.bincount(key, minlength=int(span))
        occupied = np.flatnonzero(counts)
        renumber = np.zeros(len(counts), dtype=np.int64)
        renumber[occupied] = np.arange(len(occupied))
        return renumber[key], counts[occupied].astype(np.int64)
    _, inverse, sizes = np.unique(key, return_inverse=True, return_counts=True)
    return inverse.astype(np.int64), sizes.astype(np.int64)


def group_ids(columns: list[np.ndarray], radices: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(group id per row, size per group) of rows equal on every column."""
    if not columns:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = combine_keys(columns, radices)
    return dense_inverse(key, float(np.prod(np.array(radices, dtype=np.float64))))
