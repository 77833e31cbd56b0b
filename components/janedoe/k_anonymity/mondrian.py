"""Mondrian multidimensional partitioning (strict, LeFevre et al.) on integer codes, all partitions at once.

Instead of recursing partition by partition, every round splits all open partitions together: per-partition
ranges with `reduceat`, medians from one lexsort by (partition, value), side sizes with `bincount`. A partition
is cut at the median of its widest dimension (width normalized by the attribute's whole range); when that cut
would leave a side smaller than k (or not l-diverse / t-close), the next widest dimension is tried.
Identical records always fall on the same side, so the work is done on distinct tuples with counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from janedoe.k_anonymity.criteria import SensitiveRequirement, class_sensitive


@dataclass(frozen=True)
class MondrianInput:
    codes: np.ndarray  # (tuples, dims) int64, ordered codes per dimension
    weights: np.ndarray  # records per tuple
    extents: np.ndarray  # per dimension: largest code - smallest code over the table (>= 1)
    sensitive: np.ndarray | None  # per tuple sensitive code
    sensitive_value_count: int
    overall: np.ndarray | None


def _side_passes(
    data: MondrianInput,
    requirement: SensitiveRequirement,
    tuple_index: np.ndarray,
    side_ids: np.ndarray,
    sides: int,
) -> np.ndarray:
    assert data.sensitive is not None  # called only when a sensitive requirement is checked
    profile = class_sensitive(
        side_ids, data.sensitive[tuple_index], data.weights[tuple_index].astype(np.float64), sides,
        data.sensitive_value_count, data.overall,
    )
    return requirement.class_passes(profile)


def mondrian_partition(data: MondrianInput, k: int, requirement: SensitiveRequirement) -> np.ndarray:
    """Partition id per tuple."""
    tuples, dims = data.codes.shape
    partition = np.zeros(tuples, dtype=np.int64)
    open_partitions = np.array([0], dtype=np.int64)
    partition_count = 1
    check_sensitive = requirement.active and data.sensitive is not None
    while len(open_partitions):
        is_open = np.zeros(partition_count, dtype=bool)
        is_open[open_partitions] = True
        members = np.flatnonzero(is_open[partition])
        members = members[np.argsort(partition[members], kind="stable")]
        member_partition = partition[members]
        starts = np.flatnonzero(np.r_[True, member_partition[1:] != member_partition[:-1]])
        present = member_partition[starts]
        local = np.zeros(partition_count, dtype=np.int64)
        local[present] = np.arange(len(present))
        member_codes = data.codes[members]
        widths = (np.maximum.reduceat(member_codes, starts, axis=0) - np.minimum.reduceat(member_codes, starts, axis=0))
        widths = widths / data.extents
        ranking = np.argsort(-widths, axis=1, kind="stable")
        sizes = np.add.reduceat(data.weights[members], starts)
        pending = np.ones(len(present), dtype=bool) & (sizes >= 2 * k)
        next_open = []
        for rank in range(dims):
            candidates = pending & (widths[np.arange(len(present)), ranking[:, rank]] > 0)
            if not candidates.any():
                break
            chosen_dim = ranking[:, rank]
            rows = np.flatnonzero(candidates[local[member_partition]])
            tuple_index = members[rows]
            owner = local[member_partition[rows]]
            values = data.codes[tuple_index, chosen_dim[owner]]
            order = np.lexsort((values, owner))
            tuple_index, owner, values = tuple_index[order], owner[order], values[order]
            weight = data.weights[tuple_index]
            cumulative = np.cumsum(weight)
            group_start = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            before = np.where(group_start > 0, cumulative[group_start - 1], 0)
            within = cumulative - np.repeat(before, np.diff(np.r_[group_start, len(owner)]))
            target = (sizes[owner] + 1) // 2
            # running weight is increasing within a group: the lower median is at the first position reaching half
            not_reached = np.bincount(owner, weights=within < target, minlength=len(present)).astype(np.int64)
            median = np.zeros(len(present), dtype=np.int64)
            has_rows = np.zeros(len(present), dtype=bool)
            has_rows[owner[group_start]] = True
            median_position = np.zeros(len(present), dtype=np.int64)
            median_position[owner[group_start]] = group_start
            median_position += not_reached
            median[has_rows] = values[median_position[has_rows]]
            chosen = np.zeros(len(present), dtype=bool)
            left_rule = np.zeros(len(present), dtype=np.int8)  # 1: left is <= median, 2: left is < median
            for rule in (1, 2):
                left = values <= median[owner] if rule == 1 else values < median[owner]
                left_size = np.bincount(owner, weights=weight * left, minlength=len(present))
                right_size = sizes - left_size
                allowed = candidates & ~chosen & (left_size >= k) & (right_size >= k)
                if check_sensitive and allowed.any():
                    in_allowed = allowed[owner]
                    side = owner[in_allowed] * 2 + (~left[in_allowed]).astype(np.int64)
                    passes = _side_passes(data, requirement, tuple_index[in_allowed], side, 2 * len(present))
                    allowed &= passes[0::2] & passes[1::2]
                left_rule[allowed] = rule
                chosen |= allowed
            if chosen.any():
                split_group = chosen[owner]
                rule_of = left_rule[owner]
                goes_right = split_group & np.where(rule_of == 1, values > median[owner], values >= median[owner])
                split_local = np.flatnonzero(chosen)
                new_ids = np.zeros(len(present), dtype=np.int64)
                new_ids[split_local] = partition_count + np.arange(len(split_local))
                partition_count += len(split_local)
                partition[tuple_index[goes_right]] = new_ids[owner[goes_right]]
                next_open.append(present[split_local])
                next_open.append(new_ids[split_local])
                pending &= ~chosen
        open_partitions = np.concatenate(next_open) if next_open else np.zeros(0, dtype=np.int64)
    return partition
