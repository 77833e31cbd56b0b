"""The policy's synthetic-data part: a table's `synthetic:` section.

Owned by the synthetic work; the root model in this brick imports it.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SyntheticSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["mst", "aim"] = "mst"
    epsilon: float = Field(gt=0)
    delta: float = Field(default=1e-9, gt=0, lt=1)
    rows: int | None = Field(default=None, ge=1)
