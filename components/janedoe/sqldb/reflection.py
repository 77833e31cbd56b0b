"""Reads a database's schema through SQLAlchemy's inspector: tables, columns, keys, uniques, indexes."""

from collections.abc import Callable

import sqlalchemy as sa
from janedoe.database_access import DatabaseUrl
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.connections import sqlalchemy_engine, wrap_driver_error
from janedoe.sqldb.schema_model import (
    ColumnSchema,
    DatabaseSchema,
    ForeignKey,
    IndexSchema,
    TableSchema,
    UniqueConstraint,
)
from janedoe.sqldb.type_map import transit_type

STATE_TABLE = "_janedoe_copy_state"


def reflect_schema(url: DatabaseUrl) -> DatabaseSchema:
    """The source's schema (default schema only); read through a read-only connection."""
    engine = sqlalchemy_engine(url, read_only=True)
    try:
        with engine.connect() as conn:  # one connection for every inspector query (the engine does not pool)
            inspector = sa.inspect(conn)
            names = [n for n in inspector.get_table_names() if n != STATE_TABLE and not n.startswith("sqlite_")]
            reflected = _reflect_all(inspector, names)
            tables = {name: _reflect_table(reflected, name, inspector.default_schema_name, url.dialect)
                      for name in names}
            if url.dialect == "sqlite":
                for table in tables.values():
                    _add_sqlite_column_uniques(conn, table)
    except sa.exc.DBAPIError as error:
        raise wrap_driver_error(error.orig or error, url) from None
    except sa.exc.OperationalError as error:  # pragma: no cover - covered by DBAPIError on both drivers
        raise wrap_driver_error(error, url) from None
    finally:
        engine.dispose()
    schema = DatabaseSchema(url.dialect, tables)
    _check_references(schema)
    return schema


def _reflect_all(inspector: sa.Inspector, names: list[str]) -> dict[str, dict]:
    """Each kind of schema object for all tables at once: one catalog query per kind, not one per table and kind."""
    if not names:
        return {}
    kinds: dict[str, Callable[..., dict]] = {
        "columns": inspector.get_multi_columns,
        "pk": inspector.get_multi_pk_constraint,
        "fks": inspector.get_multi_foreign_keys,
        "uniques": inspector.get_multi_unique_constraints,
        "indexes": inspector.get_multi_indexes,
    }
    found = {kind: {key[1]: value for key, value in get(filter_names=names).items()} for kind, get in kinds.items()}
    return {name: {kind: found[kind].get(name) for kind in kinds} for name in names}


def _reflect_table(reflected: dict[str, dict], name: str, default_schema: str | None, dialect: str) -> TableSchema:
    info_of = reflected[name]
    columns = []
    for info in info_of["columns"] or []:
        default = info.get("default")
        serial = bool(default and "nextval(" in str(default)) or bool(info.get("identity"))
        columns.append(
            ColumnSchema(
                name=info["name"],
                sql_type=info["type"],
                arrow_type=transit_type(info["type"], dialect),
                nullable=bool(info.get("nullable", True)),
                default=None if serial or default is None else str(default),
                autoincrement=serial,
            )
        )
    pk = tuple((info_of["pk"] or {}).get("constrained_columns") or ())
    fks = []
    for info in info_of["fks"] or []:
        if info.get("referred_schema") not in (None, default_schema):
            continue
        options = info.get("options") or {}
        fks.append(
            ForeignKey(
                name=info.get("name"),
                table=name,
                columns=tuple(info["constrained_columns"]),
                referred_table=info["referred_table"],
                referred_columns=tuple(info["referred_columns"]),
                deferrable=bool(options.get("deferrable")),
            )
        )
    uniques = [
        UniqueConstraint(info.get("name"), tuple(info["column_names"]))
        for info in info_of["uniques"] or []
    ]
    unique_sets = {u.columns for u in uniques} | {pk}
    indexes = []
    for info in info_of["indexes"] or []:
        columns_of_index = tuple(c for c in info.get("column_names") or () if c is not None)
        if info.get("duplicates_constraint") or not columns_of_index or len(columns_of_index) != len(
            info.get("column_names") or ()
        ):
            continue  # expression indexes are left out: documented
        if info.get("unique") and columns_of_index not in unique_sets:
            uniques.append(UniqueConstraint(None, columns_of_index))
            unique_sets.add(columns_of_index)
        elif not info.get("unique"):
            indexes.append(IndexSchema(info["name"], columns_of_index, False))
    return TableSchema(name, columns, pk, fks, uniques, indexes)


def _check_references(schema: DatabaseSchema) -> None:
    for table in schema.tables.values():
        for fk in table.foreign_keys:
            if fk.referred_table not in schema.tables:
                raise JaneDoeInputError(
                    f"foreign key {fk.label()} points at a table outside the default schema", where=table.name
                )


def _add_sqlite_column_uniques(conn, table: TableSchema) -> None:
    """SQLite's inline `col UNIQUE` lives only in an automatic index, which the inspector does not report."""
    known = {u.columns for u in table.uniques} | {table.primary_key}
    quoted = table.name.replace("'", "''")
    for row in conn.exec_driver_sql(f"PRAGMA index_list('{quoted}')").fetchall():
        index_name, unique, origin = row[1], row[2], row[3]
        if not unique or origin != "u":
            continue
        escaped = index_name.replace("'", "''")
        columns = tuple(r[2] for r in conn.exec_driver_sql(f"PRAGMA index_info('{escaped}')").fetchall())
        if columns and None not in columns and columns not in known:
            table.uniques.append(UniqueConstraint(None, columns))
            known.add(columns)
