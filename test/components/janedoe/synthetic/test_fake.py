"""Fake fixture data: reproducible, unique where asked, in range, foreign keys that resolve, clear errors."""

import datetime as dt
import re

import numpy as np
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic import generate_fake, generate_fake_tables

SCHEMA = {
    "tables": {
        "orders": {"rows": 3000, "columns": {
            "customer_id": {"references": "customers.id"},
            "amount": {"type": "float", "min": 1, "max": 500},
            "placed": {"type": "timestamp", "min": "2024-01-01", "max": "2024-01-31"},
        }},
        "customers": {"rows": 1000, "columns": {
            "id": {"type": "int", "unique": True},
            "name": {"faker": "name"},
            "email": {"faker": "email", "unique": True},
            "age": {"type": "int", "min": 18, "max": 90, "null_fraction": 0.1},
            "signup": {"type": "date", "min": "2020-01-01", "max": "2020-12-31"},
            "plan": {"choices": ["free", "pro"], "weights": [0.9, 0.1]},
            "vip": {"type": "bool", "probability": 0.2},
        }},
    }
}


def test_same_seed_same_tables_other_seed_other_tables():
    first = generate_fake_tables(SCHEMA, seed=7)
    assert first["customers"].equals(generate_fake_tables(SCHEMA, seed=7)["customers"])
    assert first["orders"].equals(generate_fake_tables(SCHEMA, seed=7)["orders"])
    assert not first["customers"].equals(generate_fake_tables(SCHEMA, seed=8)["customers"])


def test_constraints_hold():
    tables = generate_fake_tables(SCHEMA, seed=1)
    customers, orders = tables["customers"], tables["orders"]
    assert list(tables) == ["orders", "customers"]  # the schema's order, though customers is built first
    assert customers.num_rows == 1000 and orders.num_rows == 3000
    ids = customers.column("id").to_pylist()
    assert len(set(ids)) == 1000
    emails = customers.column("email").to_pylist()
    assert len(set(emails)) == 1000
    assert all(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", email) for email in emails)
    assert set(orders.column("customer_id").to_pylist()) <= set(ids)
    ages = [a for a in customers.column("age").to_pylist() if a is not None]
    assert min(ages) >= 18 and max(ages) <= 90
    assert 50 < customers.column("age").null_count < 150
    signup = customers.column("signup").to_pylist()
    assert min(signup) >= dt.date(2020, 1, 1) and max(signup) <= dt.date(2020, 12, 31)
    amounts = orders.column("amount").to_numpy()
    assert amounts.min() >= 1 and amounts.max() <= 500
    plans = np.array(customers.column("plan").to_pylist())
    assert 0.85 < (plans == "free").mean() < 0.95
    names = customers.column("name").to_pylist()
    assert len(set(names)) > 500 and all(" " in name for name in names)


def test_single_table_and_unique_ranges():
    table = generate_fake({"columns": {"n": {"type": "int", "min": 5, "max": 14, "unique": True}}}, rows=10, seed=3)
    assert sorted(table.column("n").to_pylist()) == list(range(5, 15))


@pytest.mark.parametrize(
    "schema",
    [
        {"tables": {"t": {"rows": 5, "columns": {"a": {"faker": "no_such_kind"}}}}},
        {"tables": {"t": {"rows": 5, "columns": {"a": {"references": "u.id"}}}}},
        {"tables": {"t": {"rows": 5, "columns": {"a": {"references": "u.id"}}},
                    "u": {"rows": 5, "columns": {"id": {"references": "t.a"}}}}},
        {"tables": {"t": {"rows": 50, "columns": {"a": {"type": "int", "min": 1, "max": 10, "unique": True}}}}},
        {"tables": {"t": {"rows": 5, "columns": {"a": {"choices": [1, 2], "weights": [1.0]}}}}},
        {"tables": {"t": {"rows": 5, "columns": {"a": {"type": "int", "colour": "red"}}}}},
        {"tables": {"t": {"columns": {"a": {"type": "int"}}}}},
    ],
)
def test_bad_schemas_are_input_errors(schema):
    with pytest.raises(JaneDoeInputError) as caught:
        generate_fake_tables(schema, seed=0)
    assert caught.value.where and caught.value.where.startswith(("schema", "tables"))
