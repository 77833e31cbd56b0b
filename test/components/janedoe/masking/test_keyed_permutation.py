import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError

from .helpers import mask_column

RULE = {"mask": "keyed_permutation"}


def test_is_a_bijection_within_each_digit_count():
    values = np.arange(0, 100_000)
    out = np.array(mask_column(pa.array(values), RULE).to_pylist())
    assert np.array_equal(np.sort(out), values)
    digits = np.char.str_len(values.astype(str))
    assert np.array_equal(np.char.str_len(out.astype(str)), digits)
    assert np.mean(out == values) < 0.01


def test_negative_keys_stay_negative_and_unique():
    values = np.arange(-9999, 10000)  # whole digit classes, so the set maps onto itself
    out = np.array(mask_column(pa.array(values), RULE).to_pylist())
    assert np.array_equal(np.sort(out), values)
    assert np.array_equal(out < 0, values < 0)


def test_explicit_domain_and_big_keys():
    values = np.arange(500, 1500)
    out = np.array(mask_column(pa.array(values), {"mask": "keyed_permutation", "min": 500, "max": 1499}).to_pylist())
    assert np.array_equal(np.sort(out), values)
    big = np.array([2**62, 2**63 - 1, 10**18, 9 * 10**18], dtype=np.int64)
    out = np.array(mask_column(pa.array(big), RULE).to_pylist())
    assert len(set(out.tolist())) == 4 and np.all(out >= 10**18)
    with pytest.raises(JaneDoeInputError, match="outside the rule's"):
        mask_column(pa.array([10]), {"mask": "keyed_permutation", "min": 500, "max": 1499})


def test_same_key_maps_the_same_way_in_every_table_and_width():
    ids = pa.array([1, 42, 1042, 99999, None])
    customers = mask_column(ids, RULE, table="customers", column="id")
    orders = mask_column(ids.cast(pa.int32()), RULE, table="orders", column="customer_id")
    assert customers.to_pylist() == orders.to_pylist()
    other = mask_column(pa.array(np.arange(1000, 2000)), RULE, secret=b"another key of 16+ bytes").to_pylist()
    mine = mask_column(pa.array(np.arange(1000, 2000)), RULE).to_pylist()
    assert sum(a != b for a, b in zip(mine, other, strict=True)) > 900


def test_needs_an_integer_column():
    with pytest.raises(JaneDoeInputError, match="needs an integer column"):
        mask_column(pa.array(["1"]), RULE)
