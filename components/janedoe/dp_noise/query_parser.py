"""The small query language: `count`, `sum(col)`, `mean(col)`, `variance(col)`, `median(col)`,
`quantile(col, q)`, `histogram(col)`. Column names are identifiers or "double quoted"."""

import re
from dataclasses import dataclass

from janedoe.errors import JaneDoeInputError

AGGREGATES = ("count", "sum", "mean", "variance", "median", "quantile", "histogram")
_COLUMN = r'(?:[A-Za-z_][A-Za-z0-9_.\-]*|"[^"]+")'
_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_PATTERN = re.compile(
    rf"^\s*(?P<name>[A-Za-z_]+)\s*(?:\(\s*(?P<column>{_COLUMN})?\s*(?:,\s*(?P<q>{_NUMBER})\s*)?\))?\s*$"
)


@dataclass(frozen=True)
class Query:
    aggregate: str
    column: str | None = None
    q: float | None = None

    def __str__(self) -> str:
        if self.column is None:
            return self.aggregate
        return f"{self.aggregate}({self.column}{'' if self.q is None else f', {self.q:g}'})"


def parse_query(expression: str) -> Query:
    """A Query from its text, or JaneDoeInputError naming what is wrong."""
    if not isinstance(expression, str):
        raise JaneDoeInputError("a query must be text such as count or mean(age)", where="query")
    match = _PATTERN.match(expression)
    if match is None:
        raise JaneDoeInputError(
            "malformed query: expected count, sum(col), mean(col), variance(col), median(col), quantile(col, q) "
            "or histogram(col)",
            where="query",
        )
    name = match["name"].lower()
    column = match["column"]
    if column is not None and column.startswith('"'):
        column = column[1:-1]
    if name not in AGGREGATES:
        raise JaneDoeInputError(f"unknown aggregate {name!r}; known: {', '.join(AGGREGATES)}", where="query")
    if name == "count":
        if column is not None or match["q"] is not None:
            raise JaneDoeInputError("count takes no arguments (use --by to count per group)", where="query")
        return Query("count")
    if column is None:
        raise JaneDoeInputError(f"{name} needs a column, e.g. {name}(age)", where="query")
    if name == "quantile":
        if match["q"] is None:
            raise JaneDoeInputError("quantile needs a level, e.g. quantile(age, 0.9)", where="query")
        q = float(match["q"])
        if not 0 <= q <= 1:
            raise JaneDoeInputError("a quantile level must be between 0 and 1", where="query")
        return Query("quantile", column, q)
    if match["q"] is not None:
        raise JaneDoeInputError(f"{name} takes one column", where="query")
    if name == "median":
        return Query("quantile", column, 0.5)
    return Query(name, column)
