"""Mondrian as local recoding: prepare ordered codes per quasi-identifier and turn partitions into labels.

Numeric columns are cut on their values and labelled `[min-max]`; text columns with a hierarchy are ordered by
the hierarchy (siblings next to each other) and labelled with the lowest hierarchy label covering the partition;
text columns without one are labelled with the set of their values `{a,b}`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.k_anonymity.criteria import SensitiveRequirement, reference_distribution
from janedoe.k_anonymity.encoding import combine_keys, encode_attribute
from janedoe.k_anonymity.generalization import Generalization, GeneralizedAttribute
from janedoe.k_anonymity.hierarchy import Hierarchy
from janedoe.k_anonymity.mondrian import MondrianInput, mondrian_partition


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class _Dimension:
    """One quasi-identifier: ordered code per record and how to label a range of codes."""

    def __init__(self, table: pa.Table, name: str, hierarchy: Hierarchy | None) -> None:
        self.name = name
        kind = table.column(name).type
        self.numeric = (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and table.column(name).null_count == 0
        if self.numeric:
            # hash-encode the column, then sort only its distinct values
            encoded = pc.dictionary_encode(table.column(name).combine_chunks())
            values = encoded.dictionary.to_numpy(zero_copy_only=False).astype(np.float64)
            order = np.argsort(values, kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            self.distinct = values[order]
            self.codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
            self.original = self.codes
            self.attribute = None
        else:
            self.attribute = encode_attribute(table, name, hierarchy)
            # rank the leaves present in the data in hierarchy order
            present = np.flatnonzero(np.bincount(self.attribute.codes, minlength=self.attribute.domain_size))
            rank = np.zeros(self.attribute.domain_size, dtype=np.int64)
            rank[present] = np.arange(len(present))
            self.distinct = present
            self.codes = rank[self.attribute.codes]
            self.original = self.attribute.codes
        self.codes = self.codes.astype(np.int64)
        self.has_hierarchy = hierarchy is not None

    @property
    def extent(self) -> int:
        return max(len(self.distinct) - 1, 1)

    def labels(
        self, low: np.ndarray, high: np.ndarray, tuple_codes: np.ndarray, tuple_partition: np.ndarray, members_of
    ) -> tuple[list, np.ndarray]:
        """(label per partition, penalty per partition); partitions span codes low..high of this dimension."""
        if self.numeric:
            lo, hi = self.distinct[low], self.distinct[high]
            span = self.distinct[-1] - self.distinct[0]
            penalty = (hi - lo) / span if span > 0 else np.zeros(len(lo))
            pairs, inverse = np.unique(np.stack([lo, hi], axis=1), axis=0, return_inverse=True)
            texts = [_format(a) if a == b else f"[{_format(a)}-{_format(b)}]" for a, b in pairs]
            return [texts[i] for i in inverse.ravel()], penalty
        attribute = self.attribute
        assert attribute is not None  # set for every dimension that is not numeric
        domain = max(attribute.domain_size - 1, 1)
        if self.has_hierarchy:
            labels = np.empty(len(low), dtype=object)
            penalty = np.ones(len(low))
            undecided = np.ones(len(low), dtype=bool)
            for level in range(attribute.height):
                ids = attribute.level_codes[level][self.distinct[tuple_codes]]
                smallest = np.full(len(low), np.iinfo(np.int64).max)
                largest = np.full(len(low), -1)
                np.minimum.at(smallest, tuple_partition, ids)
                np.maximum.at(largest, tuple_partition, ids)
                decided = undecided & (smallest == largest)
                labels[decided] = attribute.level_labels[level][smallest[decided]]
                penalty[decided] = (attribute.level_leaf_counts[level][smallest[decided]] - 1) / domain
                undecided &= ~decided
            return list(labels), penalty
        leaves = attribute.hierarchy.leaves
        present = len(self.distinct)
        if present <= 62:
            # a partition's set of values as a bit mask: label only the distinct sets, not every partition
            masks = np.zeros(len(low), dtype=np.int64)
            np.bitwise_or.at(masks, tuple_partition, np.left_shift(np.int64(1), tuple_codes.astype(np.int64)))
            distinct_masks, mask_of_partition = np.unique(masks, return_inverse=True)
            set_labels, set_penalty = [], []
            for mask in distinct_masks.tolist():
                values = sorted(leaves[self.distinct[[bit for bit in range(present) if mask >> bit & 1]]])
                set_labels.append(values[0] if len(values) == 1 else "{" + ",".join(values) + "}")
                set_penalty.append((len(values) - 1) / max(present - 1, 1))
            mask_of_partition = mask_of_partition.ravel()
            return [set_labels[i] for i in mask_of_partition], np.array(set_penalty)[mask_of_partition]
        set_of_partition: list[str] = []
        penalty = np.empty(len(low))
        for p, m in enumerate(members_of()):
            values = sorted(leaves[self.distinct[m]])
            set_of_partition.append(values[0] if len(values) == 1 else "{" + ",".join(values) + "}")
            penalty[p] = (len(values) - 1) / max(present - 1, 1)
        return set_of_partition, penalty


def mondrian_generalization(
    table: pa.Table,
    quasi_identifiers: list[str],
    hierarchies: dict[str, Hierarchy],
    k: int,
    requirement: SensitiveRequirement,
    sensitive_codes: np.ndarray | None,
    sensitive_value_count: int,
) -> Generalization:
    dimensions = [_Dimension(table, name, hierarchies.get(name)) for name in quasi_identifiers]
    columns = [dimension.codes for dimension in dimensions]
    radices = [len(dimension.distinct) for dimension in dimensions]
    sensitive = sensitive_codes if requirement.active else None
    if sensitive is not None:
        columns.append(sensitive.astype(np.int64))
        radices.append(sensitive_value_count)
    key = combine_keys(columns, radices)
    _, first, tuple_of_record, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    overall = reference_distribution(sensitive, sensitive_value_count) if sensitive is not None else None
    data = MondrianInput(
        codes=np.stack([dimension.codes[first] for dimension in dimensions], axis=1),
        weights=counts.astype(np.int64),
        extents=np.array([dimension.extent for dimension in dimensions], dtype=np.float64),
        sensitive=sensitive[first] if sensitive is not None else None,
        sensitive_value_count=sensitive_value_count,
        overall=overall,
    )
    partition_of_tuple = mondrian_partition(data, k, requirement)
    partitions = int(partition_of_tuple.max()) + 1
    partition_of_record = partition_of_tuple[tuple_of_record.ravel()]
    order = np.argsort(partition_of_tuple, kind="stable")
    boundaries = np.searchsorted(partition_of_tuple[order], np.arange(partitions + 1))
    attributes = []
    for position, dimension in enumerate(dimensions):
        codes = data.codes[:, position]
        low = np.full(partitions, np.iinfo(np.int64).max)
        high = np.full(partitions, -1)
        np.minimum.at(low, partition_of_tuple, codes)
        np.maximum.at(high, partition_of_tuple, codes)
        sorted_codes = codes[order]

        def members_of(sorted_codes=sorted_codes) -> list[np.ndarray]:
            return [np.unique(sorted_codes[boundaries[p] : boundaries[p + 1]]) for p in range(partitions)]

        labels, penalty = dimension.labels(low, high, codes, partition_of_tuple, members_of)
        distinct_labels, label_of_partition = np.unique(np.array(labels, dtype=object), return_inverse=True)
        label_penalty = np.zeros(len(distinct_labels))
        label_penalty[label_of_partition.ravel()] = penalty
        attributes.append(
            GeneralizedAttribute(
                name=dimension.name,
                value_ids=label_of_partition.ravel()[partition_of_record],
                labels=distinct_labels,
                penalty=label_penalty,
                original_ids=dimension.original,
            )
        )
    return Generalization(attributes=attributes, suppressed=np.zeros(table.num_rows, dtype=bool))
