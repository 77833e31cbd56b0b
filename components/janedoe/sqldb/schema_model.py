"""What a database's schema is, independent of the engine: the facts copy, subset, dump and scan need."""

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class ColumnSchema:
    name: str
    sql_type: Any  # the SQLAlchemy type instance reflected from the source
    arrow_type: pa.DataType
    nullable: bool
    default: str | None = None
    autoincrement: bool = False  # serial/identity: the target gets its own sequence, moved past the copied keys


@dataclass
class ForeignKey:
    name: str | None
    table: str
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    deferrable: bool = False

    def label(self) -> str:
        return f"{self.table}({', '.join(self.columns)}) -> {self.referred_table}({', '.join(self.referred_columns)})"


@dataclass
class UniqueConstraint:
    name: str | None
    columns: tuple[str, ...]


@dataclass
class IndexSchema:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass
class TableSchema:
    name: str
    columns: list[ColumnSchema]
    primary_key: tuple[str, ...]
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[UniqueConstraint] = field(default_factory=list)
    indexes: list[IndexSchema] = field(default_factory=list)

    def column(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns])


@dataclass
class DatabaseSchema:
    dialect: str
    tables: dict[str, TableSchema]

    def referencing(self, table: str) -> list[ForeignKey]:
        """Every foreign key that points at `table` (including self-references)."""
        return [fk for t in self.tables.values() for fk in t.foreign_keys if fk.referred_table == table]
