"""`db anonymize` on SQLite with rules that change a column's type (hash on an integer key and its references,
generalize to range text on an integer): the tables are rebuilt in the one transaction, with the rows `db copy`
writes, the masked values stored as text, and constraints, indexes, views and triggers kept; a column a rebuild
cannot take (an AUTOINCREMENT key) is refused up front with one line naming it, and nothing changes."""

import sqlite3

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.policy import parse_policy
from janedoe.sqldb import anonymize_in_place, copy_database

SCHEMA = """
CREATE TABLE customers (
  "id" INTEGER PRIMARY KEY,
  age INTEGER NOT NULL CHECK (age >= 0), -- a comment, with a comma
  email VARCHAR(200) NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), total REAL);
CREATE INDEX customers_age ON customers (age);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE VIEW adults AS SELECT id, age FROM customers WHERE age >= '18';
CREATE TABLE audit (what TEXT);
CREATE TRIGGER customers_audit AFTER INSERT ON customers BEGIN INSERT INTO audit VALUES (new.email); END;
"""
POLICY = """
version: 1
secret_env: JANEDOE_TEST_SECRET
default: error
tables:
  customers:
    columns:
      id: {mask: hash, length: 12}
      age: {mask: generalize, step: 10, as: range}
      email: {mask: keep}
  orders:
    columns:
      id: {mask: keep}
      total: {mask: keep}
  audit:
    columns:
      what: {mask: keep}
"""


def _database(path: str, autoincrement: bool = False) -> str:
    conn = sqlite3.connect(path)
    schema = SCHEMA.replace('"id" INTEGER PRIMARY KEY', '"id" INTEGER PRIMARY KEY AUTOINCREMENT') if autoincrement \
        else SCHEMA
    conn.executescript(schema)
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?)", [(i, 17 + i % 60, f"c{i}@x.org") for i in range(1, 301)])
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, 1 + i % 300, i / 4) for i in range(1, 901)])
    conn.execute("DELETE FROM audit")
    conn.commit()
    conn.close()
    return path


def _dump(path: str, sql: str) -> list:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


ROWS = "SELECT * FROM customers ORDER BY email"
ORDERS = "SELECT * FROM orders ORDER BY id"


def test_type_changing_rules_rebuild_the_tables_like_a_copy(tmp_path, secret_env):
    source = _database(str(tmp_path / "shop.db"))
    policy = parse_policy(POLICY, "retype.yaml")
    copied = str(tmp_path / "copy.db")
    copy_database(policy, source, copied, batch_size=64)
    objects = "SELECT type, name FROM sqlite_master ORDER BY name"
    before = _dump(source, objects)

    report = anonymize_in_place(policy, source, batch_size=64, apply=True)

    assert report.applied and report.retyped_columns == ["customers.id", "customers.age", "orders.customer_id"]
    assert _dump(source, ROWS) == _dump(copied, ROWS) and _dump(source, ORDERS) == _dump(copied, ORDERS)
    assert _dump(source, "SELECT DISTINCT typeof(id), typeof(age) FROM customers") == [("text", "text")]
    assert _dump(source, "SELECT DISTINCT typeof(customer_id) FROM orders") == [("text",)]
    assert _dump(source, "SELECT age FROM customers WHERE email = 'c1@x.org'") == [("[10,20)",)]
    assert _dump(source, "PRAGMA foreign_key_check") == [] and _dump(source, "PRAGMA integrity_check") == [("ok",)]
    # indexes, the view and the trigger are back; a TEXT primary key is no rowid alias: SQLite indexes it
    assert _dump(source, objects) == sorted([*before, ("index", "sqlite_autoindex_customers_2")], key=lambda o: o[1])
    create = _dump(source, "SELECT sql FROM sqlite_master WHERE name = 'customers'")[0][0]
    assert "age TEXT NOT NULL CHECK (age >= 0)" in create and "UNIQUE COLLATE NOCASE" in create
    assert _dump(source, "SELECT count(*) FROM adults") == [(300,)]  # the view reads the rebuilt table
    conn = sqlite3.connect(source)
    with pytest.raises(sqlite3.IntegrityError):  # the UNIQUE (case-insensitive) constraint is still there
        conn.execute("INSERT INTO customers VALUES ('x', '[0,10)', 'C1@X.ORG')")
    conn.execute("INSERT INTO customers VALUES ('y', '[0,10)', 'new@x.org')")
    assert conn.execute("SELECT what FROM audit").fetchall() == [("new@x.org",)]  # the trigger fires again
    conn.close()


def test_an_autoincrement_key_is_refused_up_front_and_nothing_changes(tmp_path, secret_env):
    source = _database(str(tmp_path / "shop.db"), autoincrement=True)
    before = _dump(source, ROWS), _dump(source, "SELECT sql FROM sqlite_master ORDER BY name")
    policy = parse_policy(POLICY, "retype.yaml")
    for apply in (False, True):
        with pytest.raises(JaneDoeInputError) as refused:
            anonymize_in_place(policy, source, apply=apply)
        assert refused.value.where == "customers.id" and "AUTOINCREMENT" in str(refused.value)
        assert "\n" not in str(refused.value)
    assert (_dump(source, ROWS), _dump(source, "SELECT sql FROM sqlite_master ORDER BY name")) == before


def test_the_shop_policy_in_place_equals_a_copy(shop_module, sqlite_shop, policy, tmp_path):
    """The shop's hashed orders.id (referenced by three tables, one through a composite key) and its birth_date
    generalized to a year: five columns change type, every table equals the copy, foreign keys hold."""
    copied = str(tmp_path / "copy.db")
    copy_database(policy, sqlite_shop, copied, tables=shop_module.TABLES, batch_size=37)
    report = anonymize_in_place(policy, sqlite_shop, tables=shop_module.TABLES, batch_size=37, apply=True)
    assert "orders.id" in report.retyped_columns and "support_tickets.order_id" in report.retyped_columns
    for table in shop_module.TABLES:
        query = f"SELECT * FROM {table}"
        assert sorted(map(repr, _dump(sqlite_shop, query))) == sorted(map(repr, _dump(copied, query))), table
    assert _dump(sqlite_shop, "PRAGMA foreign_key_check") == []
    assert _dump(sqlite_shop, "SELECT DISTINCT typeof(order_id) FROM payments") == [("text",)]
