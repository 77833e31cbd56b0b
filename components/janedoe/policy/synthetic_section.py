"""The policy's synthetic-data part: a table's `synthetic:` section and the per-column fields synthesis adds.

Owned by the synthetic work; the root model in this brick imports it. Per-column bounds, categories and bins come
from BoundsColumnFields (dp_section.py); SyntheticColumnFields adds what only synthesis needs.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SyntheticSection(BaseModel):
    """How to make a differentially private synthetic copy of the table: the method and its whole budget."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["mst", "aim"] = "mst"
    epsilon: float = Field(gt=0, allow_inf_nan=False)
    delta: float = Field(default=1e-9, gt=0, lt=1)
    rows: int | None = Field(default=None, ge=1)
    # AIM only: the junction tree's size limit in MB (float64 clique tables); None = the synthetic brick's default
    max_model_mb: float | None = Field(default=None, gt=0)


class SyntheticColumnFields(BaseModel):
    """Mixed into a column's policy: whether missing values are part of the column's public domain."""

    model_config = ConfigDict(extra="forbid")
    nullable: bool | None = None
