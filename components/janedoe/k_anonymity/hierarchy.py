"""Generalization hierarchies: ARX's CSV format, or built from a rule (intervals, masking, dates, groupings).

A hierarchy is a matrix of labels, one row per original value (level 0) and one column per level, the top level
being a single label (`*`). Every label must have exactly one parent, otherwise full-domain generalization would
not be a function; errors name the hierarchy file, the line and the offending hierarchy label.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from janedoe.errors import JaneDoeInputError

TOP_LABEL = "*"


@dataclass(frozen=True)
class Hierarchy:
    """Labels per (original value, level); `source` names where it came from, for error messages."""

    labels: np.ndarray  # shape (values, levels), dtype object (str)
    source: str

    @property
    def leaves(self) -> np.ndarray:
        return self.labels[:, 0]

    @property
    def height(self) -> int:
        """Number of levels, original values included."""
        return int(self.labels.shape[1])


def hierarchy_from_rows(rows: list[list[str]], source: str) -> Hierarchy:
    """Validate rows (ragged, duplicate leaves, two parents for one label) and build the hierarchy."""
    rows = [row for row in rows if row and any(cell != "" for cell in row)]
    if not rows:
        raise JaneDoeInputError("hierarchy is empty", where=source)
    width = len(rows[0])
    for line, row in enumerate(rows, start=1):
        if len(row) != width:
            raise JaneDoeInputError(
                f"ragged hierarchy: row for '{row[0]}' has {len(row)} levels, the first row has {width}",
                where=f"{source}:{line}",
            )
    labels = np.array(rows, dtype=object)
    _check_unique_leaves(labels, source)
    _check_single_parent(labels, source)
    if width > 1 and len(set(labels[:, -1])) != 1:
        labels = np.column_stack([labels, np.full(len(labels), TOP_LABEL, dtype=object)])
    if width == 1:
        labels = np.column_stack([labels, np.full(len(labels), TOP_LABEL, dtype=object)])
    return Hierarchy(labels=labels, source=source)


def _check_unique_leaves(labels: np.ndarray, source: str) -> None:
    seen: dict[str, int] = {}
    for line, leaf in enumerate(labels[:, 0], start=1):
        if leaf in seen:
            raise JaneDoeInputError(
                f"value '{leaf}' appears twice in the hierarchy (also line {seen[leaf]})", where=f"{source}:{line}"
            )
        seen[leaf] = line


def _check_single_parent(labels: np.ndarray, source: str) -> None:
    """A label at level j must map to one label at level j+1 (monotone generalization)."""
    for level in range(labels.shape[1] - 1):
        parent_of: dict[str, tuple[str, int]] = {}
        for line, (child, parent) in enumerate(zip(labels[:, level], labels[:, level + 1], strict=True), start=1):
            known = parent_of.get(child)
            if known is None:
                parent_of[child] = (parent, line)
            elif known[0] != parent:
                raise JaneDoeInputError(
                    f"non-monotone hierarchy: label '{child}' at level {level} generalizes to '{known[0]}' "
                    f"(line {known[1]}) and to '{parent}'",
                    where=f"{source}:{line}",
                )


def read_hierarchy_csv(path: str | Path, *, delimiter: str = ";") -> Hierarchy:
    """Read ARX's hierarchy format: one row per value, one column per level, `*` at the top."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [[cell.strip() for cell in row] for row in csv.reader(handle, delimiter=delimiter)]
    except FileNotFoundError:
        raise JaneDoeInputError("hierarchy file not found", where=str(path)) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise JaneDoeInputError(f"unreadable hierarchy file ({type(error).__name__})", where=str(path)) from None
    return hierarchy_from_rows(rows, str(path))


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def interval_hierarchy(values: np.ndarray, width: float, *, source: str = "interval rule") -> Hierarchy:
    """Numeric intervals aligned on multiples of `width`, the width doubling per level until one interval is left.

    `values` are the column's values as text (the leaves keep that spelling). Integer data with an integer width
    gets closed labels `[30-34]`, anything else half-open `[30.5-35.5[`.
    """
    leaves = np.array(sorted({str(v) for v in values}), dtype=object)
    if leaves.size == 0:
        raise JaneDoeInputError("cannot build an interval hierarchy for an empty column", where=source)
    try:
        distinct = np.array([float(v) for v in leaves])
    except ValueError:
        raise JaneDoeInputError("interval rule needs a numeric column", where=source) from None
    if not np.all(np.isfinite(distinct)):
        raise JaneDoeInputError("interval rule needs finite numbers", where=source)
    integral = bool(np.all(distinct == np.round(distinct))) and float(width).is_integer()
    columns = [leaves]
    level_width = float(width)
    while True:
        low = np.floor(distinct / level_width) * level_width
        if integral:
            labels = [f"[{_format_number(lo)}-{_format_number(lo + level_width - 1)}]" for lo in low]
        else:
            labels = [f"[{_format_number(lo)}-{_format_number(lo + level_width)}[" for lo in low]
        columns.append(np.array(labels, dtype=object))
        if len(np.unique(low)) <= 1 or len(columns) > 64:
            break
        level_width *= 2
    columns.append(np.full(len(distinct), TOP_LABEL, dtype=object))
    return Hierarchy(labels=_drop_repeated_top(np.column_stack(columns)), source=source)


def mask_right_hierarchy(values: np.ndarray, per_level: int, *, source: str = "mask_right rule") -> Hierarchy:
    """Replace `per_level` more characters from the right by `*` at each level (ZIP codes), then `*`."""
    distinct = sorted({str(v) for v in values})
    if not distinct:
        raise JaneDoeInputError("cannot build a masking hierarchy for an empty column", where=source)
    longest = max(len(v) for v in distinct)
    steps = math.ceil(longest / per_level)
    columns = [np.array(distinct, dtype=object)]
    for step in range(1, steps):
        masked = [v[: max(len(v) - step * per_level, 0)] + "*" * min(step * per_level, len(v)) for v in distinct]
        columns.append(np.array(masked, dtype=object))
    columns.append(np.full(len(distinct), TOP_LABEL, dtype=object))
    return Hierarchy(labels=_drop_repeated_top(np.column_stack(columns)), source=source)


_DATE_UNITS = ("day", "month", "year", "decade")


def date_hierarchy(values: np.ndarray, to: str, *, source: str = "date rule") -> Hierarchy:
    """Truncate ISO dates/timestamps level by level (day, month, year, decade) up to `to`, then `*`."""
    distinct = sorted({str(v) for v in values})
    if not distinct:
        raise JaneDoeInputError("cannot build a date hierarchy for an empty column", where=source)
    parsed = []
    for position, text in enumerate(distinct):
        try:
            parsed.append(dt.datetime.fromisoformat(text))
        except ValueError:
            raise JaneDoeInputError(
                f"date rule needs ISO dates; distinct value #{position + 1} is not one", where=source
            ) from None
    formatters = {
        "day": lambda d: d.strftime("%Y-%m-%d"),
        "month": lambda d: d.strftime("%Y-%m"),
        "year": lambda d: d.strftime("%Y"),
        "decade": lambda d: f"{d.year // 10 * 10}s",
    }
    columns = [np.array(distinct, dtype=object)]
    for unit in _DATE_UNITS[: _DATE_UNITS.index(to) + 1]:
        column = np.array([formatters[unit](d) for d in parsed], dtype=object)
        if not np.array_equal(column, columns[-1]):
            columns.append(column)
    columns.append(np.full(len(distinct), TOP_LABEL, dtype=object))
    return Hierarchy(labels=np.column_stack(columns), source=source)


def grouping_hierarchy(
    values: np.ndarray, levels: list[dict[str, list[str]]], *, source: str = "groups rule"
) -> Hierarchy:
    """Explicit groupings: each level maps every label of the level below to a group label."""
    distinct = sorted({str(v) for v in values})
    columns = [np.array(distinct, dtype=object)]
    for number, grouping in enumerate(levels, start=1):
        parent_of: dict[str, str] = {}
        for group, members in grouping.items():
            for member in members:
                if member in parent_of and parent_of[member] != group:
                    raise JaneDoeInputError(
                        f"non-monotone grouping: '{member}' is in groups '{parent_of[member]}' and '{group}'",
                        where=f"{source}: level {number}",
                    )
                parent_of[member] = str(group)
        below = columns[-1]
        missing = sorted({label for label in below if label not in parent_of})
        if missing:
            raise JaneDoeInputError(
                f"{len(missing)} label(s) of level {number - 1} are in no group",
                where=f"{source}: level {number}",
            )
        columns.append(np.array([parent_of[label] for label in below], dtype=object))
    columns.append(np.full(len(distinct), TOP_LABEL, dtype=object))
    return Hierarchy(labels=_drop_repeated_top(np.column_stack(columns)), source=source)


def flat_hierarchy(values: np.ndarray, *, source: str = "default") -> Hierarchy:
    """Value or `*`: what a quasi-identifier without a hierarchy can be generalized to."""
    distinct = sorted({str(v) for v in values})
    leaves = np.array(distinct, dtype=object)
    return Hierarchy(labels=np.column_stack([leaves, np.full(len(leaves), TOP_LABEL, dtype=object)]), source=source)


def _drop_repeated_top(labels: np.ndarray) -> np.ndarray:
    """Remove levels that are already a single label below the final `*` (they add lattice nodes, not choices)."""
    keep = [0]
    for level in range(1, labels.shape[1] - 1):
        if len(set(labels[:, level])) > 1:
            keep.append(level)
    keep.append(labels.shape[1] - 1)
    return labels[:, keep]
