"""The policy's k-anonymity parts: a table's `k_anonymity:` section and the per-column `role` / `hierarchy` fields.

Owned by the k_anonymity work; the root model in this brick imports these.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ColumnRole = Literal["quasi_identifier", "sensitive", "identifying", "insensitive"]


class IntervalHierarchyRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval: float = Field(gt=0, description="width of the first level's intervals; each level doubles it")


class MaskRightHierarchyRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mask_right: int = Field(ge=1, description="characters masked from the right per level (ZIP codes)")


class DateHierarchyRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["day", "month", "year", "decade"]


HierarchyRule = IntervalHierarchyRule | MaskRightHierarchyRule | DateHierarchyRule


class KAnonymityColumnFields(BaseModel):
    """Mixed into a column's policy: its role for re-identification and how to generalize it."""

    model_config = ConfigDict(extra="forbid")
    role: ColumnRole | None = None
    hierarchy: str | HierarchyRule | None = None


class KAnonymitySection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    k: int = Field(ge=1)
    l: int | None = Field(default=None, ge=1)  # noqa: E741  (the model's own name for it)
    t: float | None = Field(default=None, gt=0, le=1)
    sensitive_l_variant: Literal["distinct", "entropy", "recursive"] = "distinct"
    max_suppression: float = Field(default=0.0, ge=0, le=1)
    method: Literal["optimal", "heuristic", "mondrian"] = "optimal"
    metric: Literal["loss", "discernibility", "aecs", "entropy"] = "loss"
    time_limit_seconds: float | None = Field(default=None, gt=0)
