"""The `when:` condition of a conditional rule (PostgreSQL Anonymizer's ternary): a small declarative test on another
column of the same row. Never an expression string: nothing in a policy is evaluated as code.

    {column: is_public, equals: false}   {column: country, in: [FR, DE]}   {column: email, is_null: true}
    {not: {...}}   {all: [{...}, {...}]}   {any: [{...}, {...}]}
"""

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

ConditionValue = bool | int | float | dt.datetime | dt.date | str


class Condition(BaseModel):
    """A rule's `when:` test on one row: declarative (a column compared, or not/all/any of tests), never code."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    column: str | None = Field(default=None, min_length=1)
    equals: ConditionValue | None = None
    in_: list[ConditionValue] | None = Field(default=None, alias="in", min_length=1)
    is_null: bool | None = None
    not_: "Condition | None" = Field(default=None, alias="not")
    all: "list[Condition] | None" = Field(default=None, min_length=1)
    any: "list[Condition] | None" = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_test(self):
        tests = [name for name in ("equals", "in_", "is_null", "not_", "all", "any") if getattr(self, name) is not None]
        if len(tests) != 1:
            raise ValueError("a condition is exactly one of equals, in, is_null (with column), not, all, any")
        on_column = tests[0] in ("equals", "in_", "is_null")
        if on_column != (self.column is not None):
            raise ValueError("equals, in and is_null need a column; not, all and any take conditions, not a column")
        return self

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler):
        return {name: value for name, value in handler(self).items() if value is not None}

    @property
    def columns(self) -> set[str]:
        """Every column this condition reads."""
        names = {self.column} if self.column is not None else set()
        for inner in [self.not_] + list(self.all or []) + list(self.any or []):
            if inner is not None:
                names |= inner.columns
        return names


Condition.model_rebuild()
