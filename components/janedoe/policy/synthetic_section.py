"""The policy's synthetic-data part: a table's `synthetic:` section and the per-column fields synthesis adds.

Owned by the synthetic work; the root model in this brick imports it. Per-column bounds, categories and bins come
from BoundsColumnFields (dp_section.py); SyntheticColumnFields adds what only synthesis needs.
"""

from typing import Literal

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
