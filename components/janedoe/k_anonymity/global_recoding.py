"""A global recoding decided once (on the class frequency table), applied to any slice of the rows on its own.

Full-domain generalization maps each quasi-identifier value to its label at the chosen level, whatever row it is in;
suppression is per class. So a worker that holds this plan (the chosen level's leaf -> label maps and the keys of the
suppressed classes) recodes any batch exactly as the whole table would be, with no view of the other batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity.encoding import EncodedAttribute, text_codes
from janedoe.k_anonymity.generalization import Generalization, GeneralizedAttribute

_KEY_SPAN = 2**62


@dataclass(frozen=True)
class ClassKeyer:
    """One int64 key per class from its label ids: mixed radix, and where the product would overflow, the key so far
    is replaced by its rank among the prefixes that occur in the data (fixed once, so every batch gets equal keys)."""

    radices: tuple[int, ...]
    prefixes: tuple[np.ndarray | None, ...]

    @classmethod
    def fit(cls, columns: list[np.ndarray], radices: list[int]) -> tuple[ClassKeyer, np.ndarray]:
        """The keyer for these rows' classes, and their keys."""
        key = np.zeros(len(columns[0]), dtype=np.int64)
        span = 1
        prefixes: list[np.ndarray | None] = []
        for column, radix in zip(columns, radices, strict=True):
            seen = None
            if span * radix >= _KEY_SPAN:
                seen, key = np.unique(key, return_inverse=True)
                key = key.ravel().astype(np.int64)
                span = max(len(seen), 1)
            prefixes.append(seen)
            key = key * radix + column
            span *= radix
        return cls(tuple(radices), tuple(prefixes)), key

    def keys(self, columns: list[np.ndarray]) -> np.ndarray:
        """Keys of rows whose classes were seen by `fit`."""
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for column, radix, seen in zip(columns, self.radices, self.prefixes, strict=True):
            if seen is not None:
                position = np.minimum(np.searchsorted(seen, key), max(len(seen) - 1, 0))
                if len(key) and (len(seen) == 0 or not np.array_equal(seen[position], key)):
                    raise JaneDoeInputError("rows changed between the frequency count and the recoding pass")
                key = position.astype(np.int64)
            key = key * radix + column
        return key


@dataclass(frozen=True)
class RecodedAttribute:
    """One quasi-identifier at its chosen level: hierarchy leaves, label id per leaf, label texts."""

    name: str
    leaves: np.ndarray
    leaf_labels: np.ndarray
    labels: np.ndarray

    @classmethod
    def at_level(cls, attribute: EncodedAttribute, level: int) -> RecodedAttribute:
        return cls(attribute.name, attribute.hierarchy.leaves, attribute.level_codes[level],
                   attribute.level_labels[level])

    @cached_property
    def leaf_index(self) -> dict[str, int]:
        """Built where the plan is used (once per worker), never shipped."""
        return {leaf: row for row, leaf in enumerate(self.leaves)}

    def label_ids(self, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """(label id, leaf code) per row; values are spelled as text as everywhere in k_anonymity."""
        codes, distinct = text_codes(table, self.name)
        index = self.leaf_index
        to_leaf = np.fromiter((index.get(value, -1) for value in distinct), dtype=np.int64, count=len(distinct))
        if (to_leaf < 0).any():
            raise JaneDoeInputError(
                f"a value of column '{self.name}' is missing from its hierarchy (rows changed since the count)"
            )
        leaves = to_leaf[codes]
        return self.leaf_labels[leaves], leaves


@dataclass(frozen=True)
class GlobalRecoding:
    """The chosen node and the suppressed classes, as a plan to apply to record batches (picklable, small)."""

    attributes: tuple[RecodedAttribute, ...]
    keyer: ClassKeyer
    suppressed_keys: np.ndarray  # sorted keys of the classes whose records are suppressed

    @classmethod
    def from_generalization(
        cls, attributes: list[EncodedAttribute], levels: tuple[int, ...], generalization: Generalization
    ) -> GlobalRecoding:
        """The plan of a generalization decided on frequency-table rows (one row per distinct tuple)."""
        recoded = tuple(RecodedAttribute.at_level(item, level) for item, level in zip(attributes, levels, strict=True))
        columns = [item.value_ids for item in generalization.attributes]
        keyer, keys = ClassKeyer.fit(columns, [len(item.labels) for item in recoded])
        return cls(recoded, keyer, np.unique(keys[generalization.suppressed]))

    def apply(self, table: pa.Table) -> pa.Table:
        """TABLE's rows generalized, those of suppressed classes removed (row order kept)."""
        generalized = []
        for attribute in self.attributes:
            label_ids, leaves = attribute.label_ids(table)
            penalty = np.zeros(len(attribute.labels))
            generalized.append(GeneralizedAttribute(attribute.name, label_ids, attribute.labels, penalty, leaves))
        keys = self.keyer.keys([item.value_ids for item in generalized])
        suppressed = np.isin(keys, self.suppressed_keys)
        return Generalization(attributes=generalized, suppressed=suppressed).apply(table)
