"""The target's tables as SQLAlchemy objects, for DDL in either engine (copy) or as text (dump).

A kept column gets the type map's type for the pair of engines (type_map.py). A column whose masked values change
type (an integer id masked by `hash` becomes text) gets the masked type, and so does every column that references it,
because they are masked by the same rule.
"""

import pyarrow as pa
import sqlalchemy as sa
from janedoe.sqldb.arrow_types import same_storage, sql_type_for
from janedoe.sqldb.range_types import postgres_range_type
from janedoe.sqldb.schema_model import DatabaseSchema, TableSchema
from janedoe.sqldb.type_map import kept_type


def build_target_metadata(
    schema: DatabaseSchema, tables: list[str], output_schemas: dict[str, pa.Schema], target_dialect: str,
    rules: dict[str, dict] | None = None,
) -> sa.MetaData:
    """`rules`: each table's rule per column (a `generalize` to ranges gets a range type in PostgreSQL)."""
    metadata = sa.MetaData()
    chosen = set(tables)
    for name in tables:
        table = schema.tables[name]
        output = output_schemas[name]
        table_rules = (rules or {}).get(name, {})
        columns = [_column(table, column.name, output, schema.dialect, target_dialect, table_rules.get(column.name))
                   for column in table.columns]
        constraints: list[sa.schema.SchemaItem] = []
        if table.primary_key:
            constraints.append(sa.PrimaryKeyConstraint(*table.primary_key))
        for unique in table.uniques:
            constraints.append(sa.UniqueConstraint(*unique.columns, name=unique.name))
        for fk in table.foreign_keys:
            if fk.referred_table not in chosen:
                continue
            constraints.append(
                sa.ForeignKeyConstraint(
                    list(fk.columns),
                    [f"{fk.referred_table}.{c}" for c in fk.referred_columns],
                    name=fk.name,
                    use_alter=True,
                    deferrable=True if fk.deferrable else None,
                    initially="DEFERRED" if fk.deferrable else None,
                )
            )
        sa_table = sa.Table(name, metadata, *columns, *constraints)
        for index in table.indexes:
            sa.Index(index.name, *[sa_table.c[c] for c in index.columns], unique=index.unique)
    return metadata


def _column(table: TableSchema, name: str, output: pa.Schema, source_dialect: str, target_dialect: str,
            rule=None) -> sa.Column:
    column = table.column(name)
    masked_type = output.field(name).type
    range_type = postgres_range_type(rule, column.arrow_type) if target_dialect == "postgresql" else None
    if range_type is not None:
        sql_type = range_type
    elif same_storage(column.arrow_type, masked_type):
        sql_type = kept_type(table.name, name, column.sql_type, source_dialect, target_dialect)
    else:
        sql_type = sql_type_for(masked_type)
    same_dialect = source_dialect == target_dialect
    default = sa.text(column.default) if column.default is not None and same_dialect else None
    return sa.Column(
        name,
        sql_type,
        nullable=column.nullable,
        autoincrement=False,  # sequences are recreated after the load (see table_writer), past the copied keys
        server_default=default,
    )


def serial_columns(schema: DatabaseSchema, tables: list[str], output_schemas: dict[str, pa.Schema]) -> list[tuple]:
    """(table, column) pairs that had a sequence in the source and still hold integers after masking."""
    return [
        (name, column.name)
        for name in tables
        for column in schema.tables[name].columns
        if column.autoincrement and pa.types.is_integer(output_schemas[name].field(column.name).type)
    ]


def bare_table(table: sa.Table, metadata: sa.MetaData) -> sa.Table:
    """The same columns without any constraint: PostgreSQL loads fastest that way (as pg_dump does)."""
    columns = [
        sa.Column(
            c.name,
            c.type,
            nullable=c.nullable,
            autoincrement=False,
            # reflection gives every server default as a DefaultClause, whose `arg` is the default's SQL text
            server_default=sa.DefaultClause(c.server_default.arg)  # type: ignore[attr-defined]
            if c.server_default is not None
            else None,
        )
        for c in table.columns
    ]
    return sa.Table(table.name, metadata, *columns)
