"""The write side of `db anonymize`: one transaction that stages the masked rows, then swaps them into the tables.

The tables keep their identity (OID in PostgreSQL, name and rowids in SQLite), so grants, indexes, defaults,
triggers, comments, policies and the views on them stay as they were. Only foreign keys touching the tables are
taken off while the rows are swapped (a referenced key and its references change together) and put back from their
own definition, which checks every row again; a crash or an error before COMMIT leaves the original rows.
"""

from typing import TypeGuard

import sqlalchemy as sa
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.connections import wrap_driver_error
from janedoe.sqldb.snapshot_reader import quote_identifier as q
from janedoe.sqldb.sqlite_retype import CannotRetype, retyped_create_sql
from janedoe.sqldb.table_writer import TargetWriter, ddl, dialect_of

STAGE_PREFIX = "_janedoe_stage_"
ROWID_COLUMN = "_janedoe_rowid"
RETYPE_TABLE = "_janedoe_retype"

# pg_trigger.tgenabled -> the clause that puts a trigger back as it was ('R' triggers do not fire in this session)
_TRIGGER_STATES = {"O": "ENABLE TRIGGER", "A": "ENABLE ALWAYS TRIGGER"}


class InPlaceWriter(TargetWriter):
    """Everything in one open transaction: nothing here commits until `commit`."""

    def __init__(self, url) -> None:
        super().__init__(url)
        self._foreign_keys: list[tuple[str, str, str]] = []
        self._triggers: list[tuple[str, str, str]] = []

    def begin(self, tables: list[str]) -> None:
        """Takes the write locks first, so the snapshot read next is also the last state anyone writes."""
        if self.dialect == "sqlite":
            self._conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed: originals do not linger
            self._conn.execute("BEGIN IMMEDIATE")
        else:
            self._conn.execute(f"LOCK TABLE {', '.join(q(t) for t in tables)} IN EXCLUSIVE MODE")

    def rollback(self) -> None:
        try:
            self._conn.rollback() if self.dialect == "postgresql" else self._conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001  (the error that made us roll back is the one to report)
            pass

    def commit(self) -> None:
        self._conn.commit() if self.dialect == "postgresql" else self._conn.execute("COMMIT")

    # --- staging -------------------------------------------------------------------------------------------------
    def create_stage(self, index: int, table: sa.Table, with_rowid: bool) -> str:
        """A temporary table with the masked columns' types (as `db copy` would create them), no constraints."""
        name = f"{STAGE_PREFIX}{index}"
        columns = [sa.Column(c.name, c.type, nullable=True) for c in table.columns]
        if with_rowid:
            columns.append(sa.Column(ROWID_COLUMN, sa.Integer()))
        stage = sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])
        suffix = " ON COMMIT DROP" if self.dialect == "postgresql" else ""
        self._execute(ddl(sa.schema.CreateTable(stage), self.dialect) + suffix)
        return name

    def stage_batch(self, stage: str, table: str, batch) -> None:
        try:
            self._insert(stage, batch)
        except JaneDoeInputError as error:
            raise JaneDoeInputError(error.detail, where=table) from None
        except Exception as error:
            if is_driver_error(error):
                raise wrap_driver_error(error, self.url, where=table) from None
            raise

    # --- the swap ------------------------------------------------------------------------------------------------
    def detach(self, tables: list[str]) -> None:
        """Foreign keys from or to the tables come off (their definitions kept), user triggers are switched off."""
        if self.dialect == "sqlite":
            self._detach_sqlite_triggers(tables)
            return
        names = [q(t) for t in tables]
        self._foreign_keys = self._conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))"
            " ORDER BY conrelid::regclass::text, conname",
            (names, names),
        ).fetchall()
        for owner, constraint, _ in self._foreign_keys:
            self._execute(f"ALTER TABLE {owner} DROP CONSTRAINT {q(constraint)}")
        self._triggers = self._conn.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger"
            " WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal AND tgenabled IN ('O', 'A')",
            (names,),
        ).fetchall()
        for owner, trigger, _ in self._triggers:
            self._execute(f"ALTER TABLE {owner} DISABLE TRIGGER {q(trigger)}")

    def _detach_sqlite_triggers(self, tables: list[str]) -> None:
        """SQLite cannot switch a trigger off: it is dropped and created again from its own text before COMMIT."""
        marks = ", ".join("?" for _ in tables)
        self._triggers = self._conn.execute(
            f"SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})",
            tables,
        ).fetchall()
        for _, trigger, _ in self._triggers:
            self._execute(f"DROP TRIGGER {q(trigger)}")

    def empty(self, tables: list[str]) -> None:
        """PostgreSQL's TRUNCATE gives the table new files (the originals are not left in dead tuples); SQLite
        zeroes the freed pages (secure_delete)."""
        if self.dialect == "postgresql":
            self._execute(f"TRUNCATE {', '.join(q(t) for t in tables)}")
        else:
            for name in tables:
                self._execute(f"DELETE FROM {q(name)}")

    def change_type(self, table: str, column: str, sql_type: sa.types.TypeEngine) -> None:
        """The table is empty by now: a rule that changes the values' type, e.g. `hash` on an integer key, changes
        the column's type as `db copy` would create it (SQLite: the table is rebuilt, sqlite_retype)."""
        kind = sql_type.compile(dialect=dialect_of(self.dialect))
        if self.dialect == "sqlite":
            self._rebuild_sqlite_table(table, column, kind)
            return
        self._execute(f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} TYPE {kind} USING NULL")

    def _rebuild_sqlite_table(self, table: str, column: str, kind: str) -> None:
        create = self._conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                    (table,)).fetchone()[0]
        indexes = [row[0] for row in self._conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))]
        try:
            rebuilt = retyped_create_sql(create, column, kind, RETYPE_TABLE)
        except CannotRetype as error:
            raise JaneDoeInputError(f"cannot change the column's type: {error}", where=f"{table}.{column}") from None
        self._execute(rebuilt)
        self._execute(f"DROP TABLE {q(table)}")
        self._execute("PRAGMA legacy_alter_table = ON")  # views on the table are not checked while it is renamed
        try:
            self._execute(f"ALTER TABLE {q(RETYPE_TABLE)} RENAME TO {q(table)}")
        finally:
            self._execute("PRAGMA legacy_alter_table = OFF")
        for index in indexes:
            self._execute(index)

    def fill(self, table: str, stage: str, columns: list[str], rowid: str | None) -> None:
        names = ", ".join(q(c) for c in columns)
        if rowid is not None:
            sql = f"INSERT INTO {q(table)} ({rowid}, {names}) SELECT {ROWID_COLUMN}, {names} FROM {q(stage)}"
        else:
            overriding = " OVERRIDING SYSTEM VALUE" if self.dialect == "postgresql" else ""
            sql = f"INSERT INTO {q(table)} ({names}){overriding} SELECT {names} FROM {q(stage)}"
        try:
            self._execute(sql)
        except Exception as error:
            if is_driver_error(error):
                message = wrap_driver_error(error, self.url).detail
                raise JaneDoeInputError(f"the masked rows do not fit the table: {message}", where=table) from None
            raise

    def reattach(self, tables: list[str], serials: list[tuple[str, str]]) -> None:
        """Foreign keys back from their definitions (each checks every row), triggers back as they were, sequences
        moved past the masked keys; SQLite proves its foreign keys with `PRAGMA foreign_key_check`."""
        if self.dialect == "sqlite":
            for _, _, sql in self._triggers:
                self._execute(sql)
            self._check_sqlite_foreign_keys(tables)
            return
        for owner, constraint, definition in self._foreign_keys:
            try:
                self._execute(f"ALTER TABLE {owner} ADD CONSTRAINT {q(constraint)} {definition}")
            except Exception as error:
                if is_driver_error(error):
                    message = wrap_driver_error(error, self.url).detail
                    raise JaneDoeInputError(f"the masked keys break foreign key {constraint}: {message}",
                                            where=owner) from None
                raise
        for owner, trigger, state in self._triggers:
            self._execute(f"ALTER TABLE {owner} {_TRIGGER_STATES[state]} {q(trigger)}")
        for table, column in serials:
            self._move_sequence_past(table, column)

    def _check_sqlite_foreign_keys(self, tables: list[str]) -> None:
        """The tables and every table referencing one of them (a kept key's references are checked too)."""
        rows = self._conn.execute(
            "SELECT m.name, f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"
        ).fetchall()
        checked = sorted(set(tables) | {child for child, parent in rows if parent in tables})
        for name in checked:
            broken = self._conn.execute(f"PRAGMA foreign_key_check({q(name)})").fetchall()
            if broken:
                raise JaneDoeInputError(f"{len(broken)} rows break a foreign key after masking", where=broken[0][0])

    def _move_sequence_past(self, table: str, column: str) -> None:
        sequence = self._conn.execute("SELECT pg_get_serial_sequence(%s, %s)", (q(table), column)).fetchone()[0]
        if sequence is None:
            return
        self._execute(
            f"SELECT setval(%s, m) FROM (SELECT max({q(column)}) AS m FROM {q(table)}) AS keys"
            f" WHERE m > (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence})",
            (sequence,),
        )


def is_driver_error(error: BaseException) -> TypeGuard[Exception]:
    import sqlite3

    if isinstance(error, sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, psycopg.Error)
