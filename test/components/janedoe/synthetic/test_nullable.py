"""A policy column declared `nullable: true` synthesizes, and its missing values keep their share."""

import numpy as np
import pyarrow as pa
import pytest
from janedoe.policy import parse_policy
from janedoe.synthetic import synthesize

POLICY = """
version: 1
tables:
  people:
    synthetic: {method: mst, epsilon: 1000, rows: 20000}
    columns:
      age: {bounds: [18, 90], bins: 8}
      city: {categories: [north, south, east], nullable: true}
"""


def _people(rows: int) -> pa.Table:
    rng = np.random.default_rng(12)
    city = rng.choice(np.array(["north", "south", "east"], dtype=object), rows)
    missing = rng.random(rows) < 0.25
    return pa.table({
        "age": pa.array(rng.integers(18, 91, rows), pa.int64()),
        "city": pa.array([None if m else c for m, c in zip(missing, city, strict=True)], pa.string()),
    })


@pytest.mark.parametrize("method", ["mst", "aim"])
def test_nullable_policy_column_keeps_a_plausible_null_share(method):
    entry = parse_policy(POLICY.replace("method: mst", f"method: {method}")).tables["people"]
    assert entry.columns["city"].nullable is True
    real = _people(20000)
    result = synthesize(real, entry.synthetic, entry.columns, seed=13)
    city = result.table.column("city")
    assert result.table.schema == real.schema and result.table.num_rows == 20000
    assert city.null_count / len(city) == pytest.approx(real.column("city").null_count / real.num_rows, abs=0.02)
    assert set(city.drop_null().to_pylist()) == {"north", "south", "east"}


def test_records_missing_a_value_in_a_column_not_declared_nullable_are_dropped():
    entry = parse_policy(POLICY.replace(", nullable: true", "")).tables["people"]
    real = _people(20000)
    result = synthesize(real, entry.synthetic, entry.columns, rows=None, seed=14)
    complete = real.num_rows - real.column("city").null_count
    assert result.model.estimated_rows == pytest.approx(complete, rel=0.01)
    assert result.table.column("city").null_count == 0
