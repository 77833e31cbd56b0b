"""The policy's differential-privacy parts: a table's `dp:` section and per-column bounds.

Owned by the dp_noise work; the root model in this brick imports these.
"""

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DpSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epsilon: float | None = Field(default=None, gt=0)
    delta: float | None = Field(default=None, ge=0, lt=1)
    rho: float | None = Field(default=None, gt=0)
    user_id: str | None = None
    max_rows_per_user: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _a_budget_is_given(self):
        if self.epsilon is None and self.rho is None:
            raise ValueError("a dp budget needs epsilon (optionally with delta) or rho")
        return self


class BoundsColumnFields(BaseModel):
    """Mixed into a column's policy: public bounds and categories, never read from the private data."""

    model_config = ConfigDict(extra="forbid")
    bounds: tuple[float, float] | tuple[str, str] | None = None
    categories: list[str | int | float | bool] | None = None
    bins: int | None = Field(default=None, ge=1)
