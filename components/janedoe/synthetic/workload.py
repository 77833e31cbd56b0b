"""What the synthetic data is for: target columns to predict and marginals analysts need, checked against the table.

A policy's `target:` (one column or a list) and `workload:` (lists of column names) become a Focus of column
positions in the domain. Both are public (they come from the policy, never from the data), so fits may spend budget
on them first.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from janedoe.errors import JaneDoeInputError

Marginal = tuple[int, ...]


@dataclass(frozen=True)
class Focus:
    """Target columns and workload marginals as sorted column positions."""

    targets: tuple[int, ...] = ()
    workload: tuple[Marginal, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.targets or self.workload)

    def marginals(self, width: int, degree: int) -> list[Marginal]:
        """The focus marginals: every 2- to `degree`-way set holding a target, then the workload (no repeats)."""
        sets = [q for k in range(2, degree + 1) for q in itertools.combinations(range(width), k)
                if set(q) & set(self.targets)]
        return list(dict.fromkeys([*sets, *self.workload]))

    def pairs(self, width: int) -> list[Marginal]:
        """The 2-way marginals inside the focus: target x every other column, and the pairs within workload sets."""
        pairs = [tuple(sorted((t, x))) for t in self.targets for x in range(width) if x != t]
        pairs += [p for q in self.workload for p in itertools.combinations(q, 2)]
        return list(dict.fromkeys(pairs))


def _as_list(value, where: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence):
        raise JaneDoeInputError("expected a column name or a list of them", where=where)
    return list(value)


def resolve_focus(names: Sequence[str], target=None, workload=None) -> Focus:
    """The section's target and workload as positions in `names`; an unknown or repeated column is refused."""
    position = {name: i for i, name in enumerate(names)}

    def column(name, where: str) -> int:
        if not isinstance(name, str) or name not in position:
            raise JaneDoeInputError(f"no column {name!r} in the table", where=where)
        return position[name]

    targets = [column(name, "synthetic.target") for name in _as_list(target, "synthetic.target")]
    if len(set(targets)) != len(targets):
        raise JaneDoeInputError("a target column is named twice", where="synthetic.target")
    marginals = []
    for i, entry in enumerate(_as_list(workload, "synthetic.workload")):
        where = f"synthetic.workload[{i}]"
        columns = [column(name, where) for name in _as_list(entry, where)]
        if len(set(columns)) != len(columns):
            raise JaneDoeInputError("a workload marginal names a column twice", where=where)
        if not columns:
            raise JaneDoeInputError("a workload marginal needs at least one column", where=where)
        marginals.append(tuple(sorted(columns)))
    return Focus(tuple(sorted(targets)), tuple(dict.fromkeys(marginals)))
