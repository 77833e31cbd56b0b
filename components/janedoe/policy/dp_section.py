"""The policy's differential-privacy parts: a table's `dp:` section and per-column bounds.

Owned by the dp_noise work; the root model in this brick imports these. Bounds and categories are public knowledge
written by the data owner: queries refuse to run without them rather than read them from the private data.
"""

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DpSection(BaseModel):
    """The table's total privacy budget (epsilon with optional delta, or rho) and how much one person may contribute."""

    model_config = ConfigDict(extra="forbid")
    epsilon: float | None = Field(default=None, gt=0)
    delta: float | None = Field(default=None, ge=0, lt=1)
    rho: float | None = Field(default=None, gt=0)
    user_id: str | None = Field(default=None, min_length=1)
    max_rows_per_user: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_kind_of_budget(self):
        if self.epsilon is None and self.rho is None:
            raise ValueError("a dp budget needs epsilon (optionally with delta) or rho")
        if self.epsilon is not None and self.rho is not None:
            raise ValueError("a dp budget gives epsilon (optionally with delta) or rho, not both")
        if self.rho is not None and self.delta:
            raise ValueError("delta goes with epsilon, not with rho")
        if self.max_rows_per_user is not None and self.user_id is None:
            raise ValueError("max_rows_per_user needs user_id (the column that identifies a person)")
        return self

    @property
    def rows_per_user(self) -> int:
        """How many rows one person may contribute: 1 when each row is a different person."""
        return self.max_rows_per_user or 1


class BoundsColumnFields(BaseModel):
    """Mixed into a column's policy: public bounds and categories, never read from the private data."""

    model_config = ConfigDict(extra="forbid")
    bounds: tuple[float, float] | tuple[str, str] | None = None
    categories: list[str | int | float | bool] | None = None
    bins: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bounds_in_order(self):
        if self.bounds is not None and self.bounds[0] > self.bounds[1]:
            raise ValueError("bounds must be [lower, upper] with lower <= upper")
        if self.bins is not None and self.bounds is None:
            raise ValueError("bins needs bounds")
        return self
