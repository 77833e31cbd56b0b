"""generalize with non-integer steps and `as: range` (PostgreSQL range literals)."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError

from .helpers import mask_column, policy_for


def _bounds(label: str) -> tuple[float, float]:
    low, high = label[1:-1].split(",")
    return float(low), float(high)


def test_non_integer_steps_are_half_open_ranges_that_contain_their_value():
    rule = {"mask": "generalize", "step": 2.5}
    out = mask_column(pa.array([0.1, 2.5, 4.99, 5.0, -0.1, None], pa.float64()), rule)
    assert out.to_pylist() == ["[0, 2.5)", "[2.5, 5)", "[2.5, 5)", "[5, 7.5)", "[-2.5, 0)", None]


@pytest.mark.parametrize("step", [0.1, 0.01, 0.05, 2.5])
def test_every_value_falls_in_its_printed_range_even_at_the_boundaries(step):
    values = np.round(np.arange(-2_000, 2_000) * step, 6)  # every boundary, where x / step is off by one ulp
    out = mask_column(pa.array(values), {"mask": "generalize", "step": step, "as": "range"}).to_pylist()
    bounds = np.array([_bounds(label) for label in out])
    assert np.all(bounds[:, 0] <= values) and np.all(values < bounds[:, 1])
    assert np.allclose(bounds[:, 1] - bounds[:, 0], step)
    assert len(set(out)) == len(values)  # each boundary value starts its own range


def test_integer_steps_as_range_are_int4range_literals():
    out = mask_column(pa.array([31, 40, -1, None], pa.int32()), {"mask": "generalize", "step": 10, "as": "range"})
    assert out.to_pylist() == ["[30,40)", "[40,50)", "[-10,0)", None]
    text = mask_column(pa.array([31, None], pa.int32()), {"mask": "generalize", "step": 10, "as": "text"})
    assert text.to_pylist() == ["30-39", None]


def test_decimal_columns_generalize_with_decimal_steps():
    values = pa.array([Decimal("12.34"), None], pa.decimal128(6, 2))
    assert mask_column(values, {"mask": "generalize", "step": 0.5, "as": "range"}).to_pylist() == ["[12,12.5)", None]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("day", "[1987-03-15,1987-03-16)"),
        ("week", "[1987-03-09,1987-03-16)"),
        ("month", "[1987-03-01,1987-04-01)"),
        ("year", "[1987-01-01,1988-01-01)"),
        ("decade", "[1980-01-01,1990-01-01)"),
        ("century", "[1900-01-01,2000-01-01)"),
    ],
)
def test_date_levels_as_range_are_daterange_literals(level, expected):
    rule = {"mask": "generalize", "to": level, "as": "range"}
    assert mask_column(pa.array([dt.date(1987, 3, 15), None]), rule).to_pylist() == [expected, None]
    stamps = pa.array([dt.datetime(1987, 3, 15, 23, 59), None], pa.timestamp("us"))
    assert mask_column(stamps, rule).to_pylist() == [expected, None]
    assert mask_column(pa.array(["1987-03-15", None]), rule).to_pylist() == [expected, None]


def test_iso_week_range_crosses_the_year():
    rule = {"mask": "generalize", "to": "week", "as": "range"}
    assert mask_column(pa.array([dt.date(2021, 1, 3)]), rule).to_pylist() == ["[2020-12-28,2021-01-04)"]


def test_an_unknown_rendering_is_a_one_line_policy_error():
    with pytest.raises(JaneDoeInputError) as error:
        policy_for({"c": {"mask": "generalize", "step": 1, "as": "int4range"}})
    assert "tables.t.columns.c" in str(error.value) and "\n" not in str(error.value)


def test_the_rule_dumps_as_it_is_written():
    rule = policy_for({"c": {"mask": "generalize", "step": 2.5, "as": "range"}}).tables["t"].columns["c"].mask
    assert rule.model_dump(mode="json")["as"] == "range"
