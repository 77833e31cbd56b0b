"""Small pure pieces: URL redaction and dependency order with cycles."""

import pytest
from janedoe.database_access import parse_database_url, redact_url
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb import order_tables
from janedoe.sqldb.schema_model import ColumnSchema, DatabaseSchema, ForeignKey, TableSchema


def test_password_never_in_the_printable_url():
    url = parse_database_url("postgresql://alice:s3cr%40t@db.example:5433/prod")
    assert "s3cr" not in url.redacted and "s3cr" not in repr(url) and "s3cr" not in str(url)
    assert url.redacted == "postgresql://alice:***@db.example:5433/prod"
    assert redact_url("postgresql://bob@h/db") == "postgresql://bob@h/db"


def test_unsupported_urls_are_user_errors_without_the_password():
    with pytest.raises(JaneDoeInputError) as error:
        parse_database_url("mysql://root:hunter2@localhost/x", where="--from")
    assert "hunter2" not in str(error.value) and "--from" in str(error.value)


def test_connection_failure_does_not_print_the_password(shop_module, postgres_server):
    from janedoe.sqldb import reflect_schema

    host = postgres_server.split("@", 1)[1].rsplit("/", 1)[0]
    url = parse_database_url(f"postgresql://nobody:topsecretpw@{host}/no_such_db")
    with pytest.raises(JaneDoeInputError) as error:
        reflect_schema(url)
    assert "topsecretpw" not in str(error.value)


def _schema(edges: dict[str, list[str]]) -> DatabaseSchema:
    tables = {}
    for name, parents in edges.items():
        fks = [ForeignKey(None, name, (f"{p}_id",), p, ("id",)) for p in parents]
        columns = [ColumnSchema("id", None, None, False)] + [ColumnSchema(f"{p}_id", None, None, True) for p in parents]
        tables[name] = TableSchema(name, columns, ("id",), fks)
    return DatabaseSchema("sqlite", tables)


def test_parents_come_before_children_and_cycles_are_reported():
    edges = {"a": [], "b": ["a"], "c": ["b", "d"], "d": ["c"], "e": ["e", "a"], "f": ["c"]}
    order = order_tables(_schema(edges))
    position = {name: i for i, name in enumerate(order.tables)}
    cyclic = {(fk.table, fk.referred_table) for fk in order.cyclic_foreign_keys}
    assert cyclic == {("c", "d"), ("d", "c"), ("e", "e")}
    for child, parents in edges.items():
        for parent in parents:
            if (child, parent) not in cyclic:
                assert position[parent] < position[child], (parent, child)
    assert sorted(order.tables) == sorted(edges)
