"""The policy's k-anonymity parts: a table's `k_anonymity:` section and the per-column `role` / `hierarchy` fields.

Owned by the k_anonymity work; the root model in this brick imports these. A column's `hierarchy` is either a
file in ARX's format (a path relative to the policy file) or a rule that builds one from the data.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnRole = Literal["quasi_identifier", "sensitive", "identifying", "insensitive"]


class IntervalHierarchyRule(BaseModel):
    """A numeric quasi-identifier's hierarchy as doubling intervals, so ages need no hand-written table."""

    model_config = ConfigDict(extra="forbid")
    interval: float = Field(gt=0, description="width of the first level's intervals; each level doubles it")


class MaskRightHierarchyRule(BaseModel):
    """A code's hierarchy by masking characters from the right (94107 -> 9410* -> 941**), as for ZIP codes."""

    model_config = ConfigDict(extra="forbid")
    mask_right: int = Field(ge=1, description="characters masked from the right per level (ZIP codes)")


class DateHierarchyRule(BaseModel):
    """A date's hierarchy up to the calendar level `to` (day, month, year, decade)."""

    model_config = ConfigDict(extra="forbid")
    to: Literal["day", "month", "year", "decade"]


class GroupsHierarchyRule(BaseModel):
    """Explicit groupings, one mapping per level: group label -> the labels of the level below it covers."""

    model_config = ConfigDict(extra="forbid")
    groups: list[dict[str, list[str]]] = Field(min_length=1)


HierarchyRule = IntervalHierarchyRule | MaskRightHierarchyRule | DateHierarchyRule | GroupsHierarchyRule


class KAnonymityColumnFields(BaseModel):
    """Mixed into a column's policy: its role for re-identification and how to generalize it."""

    model_config = ConfigDict(extra="forbid")
    role: ColumnRole | None = None
    hierarchy: str | HierarchyRule | None = None


class KAnonymitySection(BaseModel):
    """What `janedoe kanon apply` enforces on the table's quasi-identifiers (columns with role quasi_identifier)."""

    model_config = ConfigDict(extra="forbid")
    k: int = Field(ge=1)
    l: float | None = Field(default=None, ge=1)  # noqa: E741  (the model's own name for it)
    l_variant: Literal["distinct", "entropy", "recursive"] = "distinct"
    c: float = Field(default=3.0, gt=0, description="the c of recursive (c,l)-diversity")
    t: float | None = Field(default=None, gt=0, le=1)
    t_distance: Literal["auto", "equal", "ordered"] = "auto"
    max_suppression: float = Field(default=0.0, ge=0, le=1)
    method: Literal["optimal", "heuristic", "mondrian"] = "optimal"
    metric: Literal["loss", "discernibility", "entropy"] = "loss"
    time_limit_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _integral_l(self):
        if self.l is not None and self.l_variant != "entropy" and not float(self.l).is_integer():
            raise ValueError("l must be a whole number unless l_variant is entropy")
        return self
