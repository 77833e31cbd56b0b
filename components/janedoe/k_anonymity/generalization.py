"""A transformed table in code form: per quasi-identifier, a generalized-value id per record plus its label and
penalty, and which records are suppressed. Both global recoding and Mondrian produce one; the output table,
the utility metrics and the report are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from janedoe.k_anonymity.encoding import group_ids


@dataclass(frozen=True)
class GeneralizedAttribute:
    name: str
    value_ids: np.ndarray  # per record: generalized value id
    labels: np.ndarray  # per generalized value id: its text
    penalty: np.ndarray  # per generalized value id: normalized certainty penalty in [0, 1]
    original_ids: np.ndarray  # per record: original value code (for the non-uniform entropy)


@dataclass(frozen=True)
class Generalization:
    """Per record, or per row of a class frequency table when `weights` (records per row) is given."""

    attributes: list[GeneralizedAttribute]
    suppressed: np.ndarray  # bool per record (row)
    weights: np.ndarray | None = None

    @property
    def records(self) -> int:
        return len(self.suppressed) if self.weights is None else int(self.weights.sum())

    @property
    def suppressed_records(self) -> int:
        if self.weights is None:
            return int(self.suppressed.sum())
        return int(self.weights[self.suppressed].sum())

    def row_weights(self) -> np.ndarray:
        """Records per row (ones for records), as float64 for weighted sums."""
        if self.weights is None:
            return np.ones(len(self.suppressed))
        return self.weights.astype(np.float64)

    def kept_classes(self) -> tuple[np.ndarray, np.ndarray]:
        """(class id per kept row, class sizes in records) of the rows that are not suppressed."""
        kept = ~self.suppressed
        columns = [attribute.value_ids[kept] for attribute in self.attributes]
        radices = [max(len(attribute.labels), 1) for attribute in self.attributes]
        if not kept.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        class_ids, sizes = group_ids(columns, radices)
        if self.weights is not None:
            sizes = np.zeros(len(sizes), dtype=np.int64)
            np.add.at(sizes, class_ids, self.weights[kept])
        return class_ids, sizes

    def apply(self, table: pa.Table) -> pa.Table:
        """The output: quasi-identifiers replaced by their generalized labels, suppressed records removed."""
        kept = ~self.suppressed
        result = table.filter(pa.array(kept)) if self.suppressed.any() else table
        for attribute in self.attributes:
            labels = pa.array(attribute.labels.tolist(), type=pa.string())
            ids = attribute.value_ids[kept] if self.suppressed.any() else attribute.value_ids
            column = labels.take(pa.array(ids.astype(np.int32, copy=False)))
            index = result.column_names.index(attribute.name)
            result = result.set_column(index, pa.field(attribute.name, pa.string()), column)
        return result
