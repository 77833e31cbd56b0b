"""The policy's synthetic-data part: a table's `synthetic:` section and the per-column fields synthesis adds.

Owned by the synthetic work; the root model in this brick imports it. Per-column bounds, categories and bins come
from BoundsColumnFields (dp_section.py); SyntheticColumnFields adds what only synthesis needs.
"""

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from janedoe.errors import JaneDoeInputError
from pydantic import BaseModel, ConfigDict, Field, field_validator


class SyntheticSection(BaseModel):
    """How to make a differentially private synthetic copy of the table: the method and its whole budget."""

    model_config = ConfigDict(extra="forbid")
    # also with a target: MST with the target's extra edges predicted as well as AIM on Adult at a tenth of the CPU
    # time (bench/results/synthetic_target.md)
    method: Literal["mst", "aim"] = "mst"
    epsilon: float = Field(gt=0, allow_inf_nan=False)
    delta: float = Field(default=1e-9, gt=0, lt=1)
    rows: int | None = Field(default=None, ge=1)
    # AIM only: the junction tree's size limit in MB (float64 clique tables); None = the synthetic brick's default
    max_model_mb: float | None = Field(default=None, gt=0)
    # numeric and date columns without declared `bins:`: "private" bins of roughly equal noisy mass, chosen from a
    # noisy fine histogram paid from 10% of this budget (none spent when every column declares bins or categories),
    # or "uniform" equal-width bins between the bounds (no budget; most rows can land in one bin)
    discretize: Literal["private", "uniform"] = "private"
    # how many private bins per such column; None = the synthetic brick's default (16)
    private_bins: int | None = Field(default=None, ge=2, le=256)
    # columns the synthetic data will be used to predict (one or a list): AIM measures their marginals first, MST
    # adds their strongest edges beyond the tree; checked against the table's columns when synthesis starts
    target: list[str] | None = None
    # marginals the analysts need (lists of column names), favoured like the target's
    workload: list[list[str]] | None = None

    @field_validator("target", mode="before")
    @classmethod
    def _one_target_or_a_list(cls, value):
        return [value] if isinstance(value, str) else value


class SyntheticColumnFields(BaseModel):
    """Mixed into a column's policy: whether missing values are part of the column's public domain."""

    model_config = ConfigDict(extra="forbid")
    nullable: bool | None = None


class SyntheticRelation(BaseModel):
    """A child table synthesized with its parent by `janedoe synth fit-related` (an entry of the policy's top-level
    `relations:`). The person is the parent row: the parent's synthetic: section is the budget for both tables, and
    the child has no synthetic: section of its own (fitted alone it would protect rows, not people)."""

    model_config = ConfigDict(extra="forbid")
    parent: str
    child: str
    parent_key: str
    foreign_key: str
    # children kept per parent: the child fit's sensitivity (a person's extra children are dropped)
    max_children: int = Field(ge=1)
    # parent columns the children depend on, most important first
    context: list[str] = Field(default_factory=list)
    # the child's own key, renumbered in the output (None: the child table has none)
    child_key: str | None = None
    # share of the zCDP budget for the parent fit, the child fit getting the rest; None = the synthetic brick's (0.5)
    parent_share: float | None = Field(default=None, gt=0, lt=1)


class _Table(Protocol):
    @property
    def columns(self) -> Mapping[str, object]: ...

    @property
    def synthetic(self) -> SyntheticSection | None: ...


def relation_problem(tables: Mapping[str, _Table], relations: Sequence[SyntheticRelation]) -> tuple[tuple, str] | None:
    """The first name in `relations:` that does not fit the policy's tables, as (field path, message); else None.

    Key columns need not be declared (they are not synthesized): fit-related checks them against the files."""
    seen: dict[str, int] = {}
    for index, relation in enumerate(relations):
        at = ("relations", index)
        if relation.parent == relation.child:
            return (*at, "child"), "a table cannot be its own child"
        for field in ("parent", "child"):
            name = getattr(relation, field)
            if name not in tables:
                return (*at, field), f"table {name!r} is not in the policy's tables"
            if name in seen:
                return (*at, field), f"table {name!r} is already in relations.{seen[name]}: one pair per table"
            seen[name] = index
        parent, child = tables[relation.parent], tables[relation.child]
        if parent.synthetic is None:
            return (*at, "parent"), f"table {relation.parent!r} needs a synthetic: section (the budget for the pair)"
        if child.synthetic is not None:
            return (*at, "child"), (f"table {relation.child!r} has a synthetic: section of its own, which would "
                                    "protect its rows, not people: synthesize it with its parent")
        if relation.child_key is not None and relation.child_key == relation.foreign_key:
            return (*at, "child_key"), "the child's key and foreign key are the same column"
        for position, column in enumerate(relation.context):
            if column not in parent.columns:
                return (*at, "context", position), f"{column!r} is not a column of table {relation.parent!r}"
            if column == relation.parent_key or column in relation.context[:position]:
                return (*at, "context", position), f"{column!r} is the parent key or repeated"
    return None


def choose_relation(relations: Sequence[SyntheticRelation], parent: str | None, child: str | None,
                    parent_input: str, child_input: str, *, where: str) -> tuple[int, SyntheticRelation] | None:
    """The relation `fit-related` reads, with its index in relations:. Tables named (--parent-table, --child-table)
    pick the relation holding them; else the one whose child, then parent, is the input file's name; else the only
    one. None: no relation fits, the command's flags say everything."""
    indexed = list(enumerate(relations))
    if parent is None and child is None:
        found = ([item for item in indexed if item[1].child == child_input]
                 or [item for item in indexed if item[1].parent == parent_input]
                 or (indexed if len(indexed) == 1 else []))
        return found[0] if found else None
    for index, relation in indexed:
        if child in (None, relation.child) and parent in (None, relation.parent):
            return index, relation
        if relation.child == child or relation.parent == parent:
            raise JaneDoeInputError(f"the policy pairs parent {relation.parent!r} with child {relation.child!r}",
                                    where=f"{where}: relations.{index}")
    return None
