"""Writes masked batches into the target, one transaction per batch, together with the resume state of that batch.

Because the batch and its progress row commit together, an interrupted copy (even kill -9) leaves a target whose
state says exactly which rows are in it. PostgreSQL loads into bare tables with COPY and gets its primary keys,
uniques, foreign keys, indexes and sequences afterwards (as pg_dump does); SQLite gets them in CREATE TABLE with
foreign key enforcement off during the load, then `PRAGMA foreign_key_check` proves them.
"""

import io
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from janedoe.database_access import DatabaseUrl
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.connections import postgres_connect, sqlite_writable, wrap_driver_error
from janedoe.sqldb.reflection import STATE_TABLE
from janedoe.sqldb.snapshot_reader import quote_identifier as q
from janedoe.sqldb.target_schema import bare_table
from janedoe.sqldb.type_map import blob_values, check_sqlite_floats, decimal_text, enum_types
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

META_ROW = ""
STEP_PREFIX = "\x1fstep "  # state rows of post-load steps done (no table name starts with a control character)


@dataclass(frozen=True)
class PostLoadStep:
    """One statement run after the data is in: it may run once every table in `needs` is loaded."""

    sql: str
    needs: tuple[str, ...]
    table: str
    constraint: sa.Constraint | None

    @property
    def foreign_key(self) -> bool:
        return isinstance(self.constraint, sa.ForeignKeyConstraint)


def dialect_of(name: str):
    return pg_dialect.dialect() if name == "postgresql" else sqlite_dialect.dialect()


def ddl(element, dialect_name: str) -> str:
    return str(element.compile(dialect=dialect_of(dialect_name))).strip()


class TargetWriter:
    def __init__(self, url: DatabaseUrl) -> None:
        self.url = url
        self.dialect = url.dialect
        self._blob_columns: dict[str, set[str]] = {}
        self._conn: Any  # sqlite3's or psycopg's connection: each dialect's branch uses its own driver's API
        if self.dialect == "sqlite":
            self._conn = sqlite_writable(url)
        else:
            self._conn = postgres_connect(url, read_only=False)
            self._conn.commit()

    def close(self) -> None:
        try:
            if self.dialect == "postgresql":
                self._conn.rollback()
        finally:
            self._conn.close()

    # --- what is there already -------------------------------------------------------------------------------
    def existing_tables(self) -> list[str]:
        if self.dialect == "sqlite":
            rows = self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        else:
            rows = self._conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchall()
            self._conn.commit()
        return sorted(r[0] for r in rows)

    def read_state(self) -> dict[str, tuple[int, list | None, bool, str]] | None:
        if STATE_TABLE not in self.existing_tables():
            return None
        rows = self._run_query(f"SELECT name, rows_done, last_key, finished, fingerprint FROM {q(STATE_TABLE)}")
        return {r[0]: (int(r[1]), json.loads(r[2]) if r[2] else None, bool(r[3]), r[4]) for r in rows}

    def drop_all(self, names: list[str]) -> None:
        with self._transaction():
            for name in names:
                cascade = " CASCADE" if self.dialect == "postgresql" else ""
                self._execute(f"DROP TABLE IF EXISTS {q(name)}{cascade}")

    # --- schema ------------------------------------------------------------------------------------------------
    def create(self, metadata: sa.MetaData, order: list[str], fingerprint: str) -> None:
        """State table, meta row and every table, in one transaction: a target has all of it or none of it."""
        with self._transaction():
            self._execute(
                f"CREATE TABLE {q(STATE_TABLE)} (name TEXT PRIMARY KEY, rows_done BIGINT NOT NULL, last_key TEXT,"
                f" finished INTEGER NOT NULL, fingerprint TEXT)"
            )
            self._execute(
                f"INSERT INTO {q(STATE_TABLE)} VALUES ({self._p}, 0, NULL, 0, {self._p})", (META_ROW, fingerprint)
            )
            if self.dialect == "postgresql":
                self._create_enum_types(metadata)
            bare = sa.MetaData()
            for name in order:
                table = metadata.tables[name]
                if self.dialect == "postgresql":
                    self._execute(ddl(sa.schema.CreateTable(bare_table(table, bare)), self.dialect))
                else:
                    self._execute(ddl(sa.schema.CreateTable(table), self.dialect))
                self._execute(f"INSERT INTO {q(STATE_TABLE)} VALUES ({self._p}, 0, NULL, 0, NULL)", (name,))

    def _create_enum_types(self, metadata: sa.MetaData) -> None:
        """Enums the target's columns use, unless the target already has a type of that name (e.g. from --replace,
        which drops tables, not types)."""
        for name, labels in enum_types(metadata):
            exists = self._conn.execute(
                "SELECT 1 FROM pg_type WHERE typname = %s AND typnamespace = current_schema()::regnamespace", (name,)
            ).fetchone()
            if not exists:
                self._execute(enum_ddl(name, labels))

    def clear_table(self, name: str) -> None:
        with self._transaction():
            self._execute(f"DELETE FROM {q(name)}")
            self._execute(f"UPDATE {q(STATE_TABLE)} SET rows_done = 0, last_key = NULL WHERE name = {self._p}", (name,))

    # --- data --------------------------------------------------------------------------------------------------
    def write_batch(self, name: str, batch: pa.RecordBatch, rows_done: int, last_key: list | None) -> None:
        state = (rows_done, json.dumps(last_key, default=str) if last_key is not None else None, name)
        with self._transaction():
            if batch.num_rows:
                self._insert(name, batch)
            self._execute(
                f"UPDATE {q(STATE_TABLE)} SET rows_done = {self._p}, last_key = {self._p} WHERE name = {self._p}",
                state,
            )

    def mark_finished(self, name: str) -> None:
        with self._transaction():
            self._execute(f"UPDATE {q(STATE_TABLE)} SET finished = 1 WHERE name = {self._p}", (name,))

    def _insert(self, name: str, batch: pa.RecordBatch) -> None:
        columns = ", ".join(q(c) for c in batch.schema.names)
        try:
            if self.dialect == "postgresql":
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                with self._conn.cursor().copy(f"COPY {q(name)} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(buffer.getbuffer())
            else:
                values = ", ".join("?" for _ in batch.schema.names)
                rows = _sqlite_rows(batch, name, self._sqlite_blob_columns(name))
                self._conn.executemany(f"INSERT INTO {q(name)} ({columns}) VALUES ({values})", rows)
        except sqlite3.IntegrityError as error:
            raise JaneDoeInputError(f"masked rows break a constraint: {error}", where=name) from None
        except Exception as error:
            if _is_psycopg_integrity(error):
                raise wrap_driver_error(error, self.url, where=name) from None
            raise

    def _sqlite_blob_columns(self, name: str) -> set[str]:
        """Columns declared BLOB in the target (the type map's choice for blobs): their hex text goes in as bytes."""
        if name not in self._blob_columns:
            rows = self._conn.execute(f"PRAGMA table_info({q(name)})").fetchall()
            self._blob_columns[name] = {row[1] for row in rows if str(row[2]).upper() == "BLOB"}
        return self._blob_columns[name]

    # --- after the load ----------------------------------------------------------------------------------------
    def post_load_steps(self, metadata: sa.MetaData, order: list[str]) -> list[PostLoadStep]:
        """PostgreSQL: keys, uniques and indexes per table, then foreign keys, as pg_dump's output adds them after
        the data. SQLite has its constraints in CREATE TABLE and checks foreign keys in `finish`."""
        if self.dialect != "postgresql":
            return []
        steps = []
        for name in order:
            table = metadata.tables[name]
            for constraint in sorted(table.constraints, key=_constraint_rank):
                if not isinstance(constraint, sa.ForeignKeyConstraint):
                    sql = ddl(sa.schema.AddConstraint(constraint), self.dialect)
                    steps.append(PostLoadStep(sql, (name,), name, constraint))
            for index in table.indexes:
                steps.append(PostLoadStep(ddl(sa.schema.CreateIndex(index), self.dialect), (name,), name, None))
        for name in order:
            for constraint in metadata.tables[name].foreign_key_constraints:
                sql = ddl(sa.schema.AddConstraint(constraint), self.dialect)
                steps.append(PostLoadStep(sql, (name, constraint.referred_table.name), name, constraint))
        return steps

    def steps_done(self) -> set[str]:
        rows = self._run_query(f"SELECT name FROM {q(STATE_TABLE)} WHERE name LIKE {self._p}", (STEP_PREFIX + "%",))
        return {r[0][len(STEP_PREFIX):] for r in rows}

    def run_step(self, step: PostLoadStep) -> None:
        """One step and its record in the state table commit together, so a resumed copy never repeats one."""
        with self._transaction():
            try:
                self._execute(step.sql)
            except Exception as error:
                if isinstance(step.constraint, sa.schema.ColumnCollectionConstraint) and _is_psycopg_integrity(error):
                    columns = ", ".join(c.name for c in step.constraint.columns)
                    raise JaneDoeInputError(
                        f"the masked values break {type(step.constraint).__name__} ({columns}):"
                        f" {_first_line(error)} (the rule is not one-to-one on these values: use hash,"
                        " keyed_permutation or pseudonymize with unique: true)",
                        where=step.table,
                    ) from None
                raise
            self._execute(
                f"INSERT INTO {q(STATE_TABLE)} VALUES ({self._p}, 0, NULL, 1, NULL)", (STEP_PREFIX + step.sql,)
            )

    def finish(self, metadata: sa.MetaData, order: list[str], serials: list[tuple[str, str]]) -> None:
        """Whatever post-load step is left, then sequences; then the state table goes: a finished target looks like
        any other."""
        done = self.steps_done() if self.dialect == "postgresql" else set()
        for step in self.post_load_steps(metadata, order):
            if step.sql not in done:
                self.run_step(step)
        with self._transaction():
            if self.dialect == "postgresql":
                for table, column in serials:
                    self._restart_sequence(table, column)
            else:
                for name in order:
                    for index in metadata.tables[name].indexes:
                        self._execute(ddl(sa.schema.CreateIndex(index), self.dialect))
                broken = self._conn.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise JaneDoeInputError(
                        f"{len(broken)} rows break a foreign key after masking", where=f"{broken[0][0]}"
                    )
            self._execute(f"DROP TABLE {q(STATE_TABLE)}")

    def _restart_sequence(self, table: str, column: str) -> None:
        sequence = f"{table}_{column}_seq"
        self._execute(f"CREATE SEQUENCE IF NOT EXISTS {q(sequence)} OWNED BY {q(table)}.{q(column)}")
        self._execute(f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} SET DEFAULT nextval('{q(sequence)}')")
        self._execute(
            f"SELECT setval('{q(sequence)}', COALESCE((SELECT max({q(column)}) FROM {q(table)}), 0) + 1, false)"
        )

    # --- plumbing ----------------------------------------------------------------------------------------------
    @property
    def _p(self) -> str:
        return "%s" if self.dialect == "postgresql" else "?"

    def _execute(self, sql: str, params: tuple = ()) -> None:
        self._conn.execute(sql, params)

    def _run_query(self, sql: str, params: tuple = ()) -> list[tuple]:
        rows = self._conn.execute(sql, params).fetchall()
        if self.dialect == "postgresql":
            self._conn.commit()
        return rows

    def _transaction(self):
        return _Transaction(self)


class _Transaction:
    def __init__(self, writer: TargetWriter) -> None:
        self.writer = writer

    def __enter__(self):
        if self.writer.dialect == "sqlite":
            self.writer._conn.execute("BEGIN")

    def __exit__(self, exc_type, exc, tb) -> None:
        conn = self.writer._conn
        if exc_type is None:
            conn.commit() if self.writer.dialect == "postgresql" else conn.execute("COMMIT")
            return
        try:
            conn.rollback() if self.writer.dialect == "postgresql" else conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001  (the original error matters, not the rollback's)
            pass
        if not isinstance(exc, JaneDoeInputError) and _is_driver_error(exc):
            raise wrap_driver_error(exc, self.writer.url) from None


def enum_ddl(name: str, labels: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + label.replace("'", "''") + "'" for label in labels)
    return f"CREATE TYPE {q(name)} AS ENUM ({quoted})"


def _constraint_rank(constraint) -> int:
    return 0 if isinstance(constraint, sa.PrimaryKeyConstraint) else 1


def _sqlite_rows(batch: pa.RecordBatch, table: str, blobs: set[str]):
    """Python rows for sqlite3 (the driver takes nothing else); dates become ISO text, and decimals their exact text
    (a TEXT column from PostgreSQL keeps it; a NUMERIC one from SQLite parses it back to the value it came from);
    blobs their bytes. Floats SQLite would change (NaN, -0.0) are refused."""
    columns = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        where = f"{table}.{name}"
        if name in blobs and pa.types.is_string(column.type):
            columns.append(blob_values(column, where))
            continue
        check_sqlite_floats(column, where)
        if pa.types.is_decimal(column.type):
            column = decimal_text(column)
        elif pa.types.is_temporal(column.type):
            column = column.cast(pa.string())
        columns.append(column.to_pylist())
    return zip(*columns, strict=False)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _is_psycopg_integrity(error: Exception) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, (psycopg.errors.IntegrityError, psycopg.errors.DataError))


def _is_driver_error(error: BaseException | None) -> bool:
    if isinstance(error, sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, psycopg.Error)


