"""A parent table and its child table as the two tables related synthesis fits, each person's share bounded.

The privacy unit is a parent row (a person). A parent key that repeats keeps its first row (a person is one row);
rows without a key, and children whose foreign key matches no parent, are left out (no person answers for them).
Each parent keeps at most max_children children, chosen by the project's keyed random rank of the child row
(dp_noise's bound_contributions): with a fresh key the kept children are a uniformly random subset, so truncation
does not favour early or late orders the way "the first ones by file order" would, and which rows a person keeps
depends on that person's rows only. Afterwards adding or removing one person changes one row of the parent table
(augmented with the person's child count) and at most max_children rows of the child table (augmented with that
person's context columns), which is what the accounting in multi_table.py charges for.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dp_noise import bound_contributions

COUNT_COLUMN = "__children__"  # the parent's number of children, clipped to max_children
CONTEXT_PREFIX = "__parent__."  # a child row's copy of its parent's column, e.g. "__parent__.segment"


def context_name(column: str) -> str:
    return CONTEXT_PREFIX + column


@dataclass(frozen=True)
class RelatedRows:
    """Private rows, only ever read by the fits: one row per person, and the bounded children with context."""

    parents: pa.Table
    children: pa.Table


def _distinct_parents(parents: pa.Table, parent_key: str) -> pa.Table:
    keyed = parents.filter(pc.is_valid(parents.column(parent_key)))
    keys = keyed.column(parent_key).combine_chunks()
    first = pc.index_in(keys, value_set=keys).to_numpy(zero_copy_only=False)
    return keyed.filter(pa.array(first == np.arange(len(keys))))


def _parent_positions(children: pa.Table, foreign_key: str, keys: pa.Array) -> np.ndarray:
    """Each child's parent row, -1 for a child without one."""
    found = pc.index_in(children.column(foreign_key), value_set=keys)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def related_rows(parents: pa.Table, children: pa.Table, *, parent_key: str, foreign_key: str,
                 parent_columns: Sequence[str], child_columns: Sequence[str], context: Sequence[str],
                 max_children: int, bounding_key: bytes | None = None) -> RelatedRows:
    """The parent columns plus COUNT_COLUMN, and the child columns plus each child's parent's context columns."""
    key_type, reference_type = parents.schema.field(parent_key).type, children.schema.field(foreign_key).type
    if key_type != reference_type:  # two integer types (the check allows no other mismatch): compare as int64
        parents = parents.set_column(parents.schema.get_field_index(parent_key), parent_key,
                                     parents.column(parent_key).cast(pa.int64()))
        children = children.set_column(children.schema.get_field_index(foreign_key), foreign_key,
                                       children.column(foreign_key).cast(pa.int64()))
    parents = _distinct_parents(parents, parent_key)
    keys = parents.column(parent_key).combine_chunks()
    position = _parent_positions(children, foreign_key, keys)
    children = children.filter(pa.array(position >= 0))
    children = bound_contributions(children, foreign_key, max_children, bounding_key=bounding_key)
    position = _parent_positions(children, foreign_key, keys)
    counts = np.bincount(position, minlength=parents.num_rows).astype(np.int64)
    parent_table = parents.select(list(parent_columns)).append_column(COUNT_COLUMN, pa.array(counts))
    child_table = children.select(list(child_columns))
    taken = pa.array(position)
    for column in context:
        child_table = child_table.append_column(
            pa.field(context_name(column), parents.schema.field(column).type), parents.column(column).take(taken))
    return RelatedRows(parent_table, child_table)
