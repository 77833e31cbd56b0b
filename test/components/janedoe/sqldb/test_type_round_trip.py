"""Kept columns of every type arrive exactly, with extreme values, for every pair of engines and in both dump
dialects (each dump loaded into a fresh database by sqlite3 or psql). Compared exactly: floats by their bits,
numerics as decimals or the server's text, everything PostgreSQL sends to SQLite as text against the server's text."""

import datetime as dt
import glob
import shutil
import sqlite3
import struct
import subprocess
from decimal import Decimal

import psycopg
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.policy import parse_policy
from janedoe.sqldb import copy_database, dump_database

KEEP = parse_policy("version: 1\ndefault: keep\ntables: {}\n", "keep.yaml")
SESSION = ("SET TIME ZONE 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'iso_8601'")

# --- PostgreSQL source -------------------------------------------------------------------------------------------
PG_COLUMNS = """
    id integer PRIMARY KEY, small smallint, normal integer, big bigint, single real, double double precision,
    exact numeric(38, 10), whole numeric(38, 0), free numeric, flag boolean, body text, code varchar(20),
    day date, clock time, moment timestamp, instant timestamptz, token uuid, doc json, docb jsonb,
    numbers integer[], words text[], blob bytea, feeling mood, span interval
"""
PG_ROWS = [
    "(1, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308,"
    " 9999999999999999999999999999.9999999999, 99999999999999999999999999999999999999,"
    " 123456789012345678901234567890.123456789012345678901234567890, true,"
    " 'Quinn \"Q\", O''Hara \\ back' || E'\\nline two 😀𝄞', 'x', '9999-12-31', '23:59:59.999999',"
    " '9999-12-31 23:59:59.999999', '2024-02-29 12:00:00.123456+05:30', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
    " '{\"b\": 1,  \"a\": [1, 2, {\"c\": null}]}', '{\"z\": \"é😀\", \"a\": 1}', '{1,NULL,3}',"
    " '{\"a b\",\"c,d\",NULL,\"😀\"}', '\\xdeadbeef00', 'happy', '1 year 2 mons 3 days 04:05:06.7')",
    "(2, -32768, -2147483648, -9223372036854775808, 1.1754944e-38, 2.2250738585072014e-308,"
    " -9999999999999999999999999999.9999999999, -99999999999999999999999999999999999999, -1e-30, false, '',"
    " '', '0001-01-01', '00:00:00', '0001-01-01 00:00:00', '1970-01-01 00:00:00+00',"
    " '00000000-0000-0000-0000-000000000000',"
    " '[]', 'null', '{}', '{}', '', 'sad', '-00:00:01')",
    "(3, 0, 0, 1234567890123456789, 1e-45, 5e-324, 0.0000000001, 0, 0.1, NULL, '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀', 'NULL',"
    " '2024-02-29', '12:34:56.5', '2024-02-29 12:00:00.5', '1900-01-01 00:00:00.000001+00', NULL, '\"\"', '{}',"
    " '{{1,2},{3,4}}', '{\"\"}', '\\x00', NULL, '0')",
    "(4, NULL, NULL, -1234567890123456789, 'Infinity', '-Infinity', 1, 1, 'Infinity', NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(5, NULL, NULL, NULL, '-Infinity', 'Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(6, NULL, NULL, NULL, -1.4e-45, -2.2250738585072009e-308, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
]
PG_ONLY_ROWS = [  # SQLite cannot store these (NaN becomes NULL, -0.0 becomes 0.0): refused there, tested below
    "(7, NULL, NULL, NULL, 'NaN', 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL)",
    "(8, NULL, NULL, NULL, '-0', '-0', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL)",
]
# How each PostgreSQL column must read back from SQLite (README, "Types").
PG_TO_SQLITE = {
    "id": "int", "small": "int", "normal": "int", "big": "int", "single": "float", "double": "float",
    "exact": "pg_text", "whole": "pg_text", "free": "pg_text", "flag": "bool", "body": "text", "code": "text",
    "day": "date", "clock": "time", "moment": "timestamp", "instant": "timestamptz", "token": "pg_text",
    "doc": "pg_text", "docb": "pg_text", "numbers": "pg_text", "words": "pg_text", "blob": "bytes",
    "feeling": "pg_text", "span": "pg_text",
}


def _build_postgres(url: str, rows: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
        conn.execute(f"CREATE TABLE kinds ({PG_COLUMNS})")
        for row in rows:
            conn.execute(f"INSERT INTO kinds VALUES {row}")


def _postgres_text_rows(url: str) -> list[str]:
    """Every row as the server prints it (floats in their shortest exact form since PostgreSQL 12)."""
    with psycopg.connect(url) as conn:
        for statement in SESSION:
            conn.execute(statement)
        return [r[0] for r in conn.execute("SELECT k::text FROM kinds k ORDER BY id")]


def _postgres_values(url: str, kinds: dict[str, str]) -> list[tuple]:
    with psycopg.connect(url) as conn:
        for statement in SESSION:
            conn.execute(statement)
        casts = {"pg_text": "::text", "float": "::float8"}  # float4 to float8 widens exactly; its text would not
        selected = ", ".join(f"{c}{casts.get(kind, '')}" for c, kind in kinds.items())
        return [tuple(r) for r in conn.execute(f"SELECT {selected} FROM kinds ORDER BY id")]


def _sqlite_values(path: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT * FROM kinds ORDER BY id").fetchall()
    finally:
        conn.close()


def _sqlite_typed_rows(path: str) -> list[tuple]:
    """Values with SQLite's storage class of each, floats as bits: equal only if stored identically."""
    conn = sqlite3.connect(path)
    try:
        names = [r[1] for r in conn.execute("PRAGMA table_info(kinds)")]
        selected = ", ".join(f'"{n}", typeof("{n}")' for n in names)
        return [tuple(_bits(v) for v in row) for row in conn.execute(f"SELECT {selected} FROM kinds ORDER BY id")]
    finally:
        conn.close()


def _bits(value):
    return ("float", struct.pack(">d", value)) if isinstance(value, float) else value


def _as_read_from_sqlite(value, kind: str):
    """A SQLite value in the form PostgreSQL's driver gives the same value (SQLite keeps dates as ISO text)."""
    if value is None:
        return None
    if kind == "float":
        return _bits(value)
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    if kind in ("timestamp", "timestamptz"):
        return dt.datetime.fromisoformat(value)
    return value


def _pg_as_expected(value, kind: str):
    if value is None:
        return None
    if kind == "float":
        return _bits(float(value))
    if kind == "bytes":
        return bytes(value)
    return value


def _psql() -> str:
    return shutil.which("psql") or sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]


def _load_dump(dump: str, target: str) -> None:
    if target.startswith("postgresql://"):
        result = subprocess.run([_psql(), "-v", "ON_ERROR_STOP=1", "-q", "-d", target, "-f", dump],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-800:]
    else:
        conn = sqlite3.connect(target)
        with open(dump, encoding="utf-8") as handle:
            conn.executescript(handle.read())
        conn.close()


def test_postgres_to_postgres_copy_and_dump_are_exact(postgres_url, second_postgres, postgres_server, tmp_path):
    _build_postgres(postgres_url, PG_ROWS + PG_ONLY_ROWS)
    copy_database(KEEP, postgres_url, second_postgres, batch_size=3)  # the enum type is created in the target
    expected = _postgres_text_rows(postgres_url)
    assert len(expected) == 8
    assert _postgres_text_rows(second_postgres) == expected
    dump = str(tmp_path / "kinds.sql")
    dump_database(KEEP, postgres_url, dump, dialect="postgresql", batch_size=3)
    fresh = _fresh_postgres(postgres_server)
    _load_dump(dump, fresh)
    assert _postgres_text_rows(fresh) == expected


def test_postgres_to_sqlite_copy_and_dump_are_exact(postgres_url, tmp_path):
    _build_postgres(postgres_url, PG_ROWS)
    target = str(tmp_path / "copy.db")
    copy_database(KEEP, postgres_url, target, batch_size=4)
    source = _postgres_values(postgres_url, PG_TO_SQLITE)
    kinds = list(PG_TO_SQLITE.values())
    want = [tuple(_pg_as_expected(v, k) for v, k in zip(row, kinds, strict=True)) for row in source]
    got = [tuple(_as_read_from_sqlite(v, k) for v, k in zip(row, kinds, strict=True)) for row in _sqlite_values(target)]
    for want_row, got_row in zip(want, got, strict=True):
        for name, a, b in zip(PG_TO_SQLITE, want_row, got_row, strict=True):
            assert a == b, (name, a, b)
    dump = str(tmp_path / "kinds.sql")
    dump_database(KEEP, postgres_url, dump, dialect="sqlite", batch_size=4)
    loaded = str(tmp_path / "loaded.db")
    _load_dump(dump, loaded)
    assert _sqlite_typed_rows(loaded) == _sqlite_typed_rows(target)


# --- SQLite source -----------------------------------------------------------------------------------------------
SQLITE_COLUMNS = """
    id INTEGER PRIMARY KEY, whole INTEGER, big BIGINT, r REAL, d DOUBLE, money NUMERIC(12, 2), wide NUMERIC(38, 0),
    free NUMERIC, flag BOOLEAN, body TEXT, code VARCHAR(5), blob BLOB, day DATE, moment DATETIME, doc JSON, clock TIME
"""
SQLITE_ROWS = [
    (1, 9223372036854775807, 1234567890123456789, 1.7976931348623157e308, 2.2250738585072014e-308, 12345.67,
     9223372036854775807, 10**18 + 1, 1, "😀𝄞 non-BMP, O'Hara", "longer than five", b"\x00\xff\xde\xad", "2024-02-29",
     "2024-02-29 12:00:00.500000", '{"b": 1,  "a": [1, 2]}', "23:59:59.999999"),
    (2, -9223372036854775808, -1234567890123456789, 5e-324, -2.2250738585072009e-308, -0.01,
     "-100000000000000000000", 0.1, 0, "", "", b"", "0001-01-01", "0001-01-01 00:00:00.000000", "null",
     "00:00:00.000000"),
    (3, 0, 0, float("inf"), float("-inf"), 9999999999.99, 0, 1e300, None, None, None, None, "9999-12-31",
     "9999-12-31 23:59:59.999999", "[]", None),
    (4, None, None, float("-inf"), 1 / 3, None, None, 2**53 + 1, None, None, None, None, None, None, None, None),
    (5, None, None, None, None, None, None, None, None, None, None, None, None, None, None, None),
]
# How each SQLite column must read back from PostgreSQL.
SQLITE_TO_PG = {
    "id": "int", "whole": "int", "big": "int", "r": "float", "d": "float", "money": "decimal", "wide": "decimal",
    "free": "decimal", "flag": "bool", "body": "text", "code": "text", "blob": "bytes", "day": "date",
    "moment": "timestamp", "doc": "pg_text", "clock": "time",  # json keeps the text as written
}


def _build_sqlite(path: str, rows: list[tuple], columns: str = SQLITE_COLUMNS) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE kinds ({columns})")
    marks = ", ".join("?" for _ in rows[0])
    conn.executemany(f"INSERT INTO kinds VALUES ({marks})", rows)
    conn.commit()
    conn.close()


def _sqlite_as_postgres_reads_it(value, kind: str):
    if value is None:
        return None
    if kind == "float":
        return _bits(value)
    if kind == "decimal":
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "timestamp":
        return dt.datetime.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    return value


def _fresh_postgres(server: str) -> str:
    import uuid

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def test_sqlite_to_sqlite_copy_and_dump_are_exact(tmp_path):
    source = str(tmp_path / "source.db")
    _build_sqlite(source, SQLITE_ROWS)
    target = str(tmp_path / "copy.db")
    copy_database(KEEP, source, target, batch_size=2)
    assert _sqlite_typed_rows(target) == _sqlite_typed_rows(source)
    dump = str(tmp_path / "kinds.sql")
    dump_database(KEEP, source, dump, batch_size=2)
    loaded = str(tmp_path / "loaded.db")
    _load_dump(dump, loaded)
    assert _sqlite_typed_rows(loaded) == _sqlite_typed_rows(source)


def test_sqlite_to_postgres_copy_and_dump_are_exact(second_postgres, postgres_server, tmp_path):
    source = str(tmp_path / "source.db")
    _build_sqlite(source, SQLITE_ROWS)
    copy_database(KEEP, source, second_postgres, batch_size=2)
    kinds = list(SQLITE_TO_PG.values())
    want = [tuple(_sqlite_as_postgres_reads_it(v, k) for v, k in zip(row, kinds, strict=True))
            for row in _sqlite_values(source)]
    got = [tuple(_pg_as_expected(v, k) for v, k in zip(row, kinds, strict=True))
           for row in _postgres_values(second_postgres, SQLITE_TO_PG)]
    for want_row, got_row in zip(want, got, strict=True):
        for name, a, b in zip(SQLITE_TO_PG, want_row, got_row, strict=True):
            assert a == b, (name, a, b)
    with psycopg.connect(second_postgres) as conn:
        types = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns"
                                  " WHERE table_name = 'kinds'").fetchall())
    assert types["r"] == types["d"] == "double precision" and types["whole"] == "bigint"
    assert types["blob"] == "bytea" and types["money"] == "numeric" and types["code"] == "text"
    dump = str(tmp_path / "kinds.sql")
    dump_database(KEEP, source, dump, dialect="postgresql", batch_size=2)
    fresh = _fresh_postgres(postgres_server)
    _load_dump(dump, fresh)
    assert _postgres_text_rows(fresh) == _postgres_text_rows(second_postgres)


def test_sqlite_real_amounts_arrive_bit_for_bit_in_postgres(second_postgres, tmp_path):
    """The issue's case: 5,000 amounts in a SQLite REAL column used to arrive as 4-byte `real` and 4,799 changed."""
    import random

    draw = random.Random(17)
    amounts = [round(draw.uniform(0, 10_000), 2) for _ in range(5_000)]
    source = str(tmp_path / "shop.db")
    _build_sqlite(source, [(i, a) for i, a in enumerate(amounts)], "id INTEGER PRIMARY KEY, amount REAL")
    copy_database(KEEP, source, second_postgres)
    with psycopg.connect(second_postgres) as conn:
        # ::float8 reads the stored value itself (a 4-byte real's text would parse back to the original double)
        copied = [r[0] for r in conn.execute("SELECT amount::float8 FROM kinds ORDER BY id")]
        kind = conn.execute("SELECT data_type FROM information_schema.columns WHERE column_name = 'amount'").fetchone()
    assert sum(1 for a, b in zip(amounts, copied, strict=True) if _bits(a) != _bits(b)) == 0
    assert kind == ("double precision",)


# --- refused, never narrowed -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "shown"), [("'NaN'", "NaN"), ("'-0'", "-0.0")])
def test_floats_sqlite_cannot_store_are_refused_naming_the_column(postgres_url, tmp_path, value, shown):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE readings (id integer PRIMARY KEY, level double precision)")
        conn.execute(f"INSERT INTO readings VALUES (1, 1.5), (2, {value})")
    with pytest.raises(JaneDoeInputError) as copied:
        copy_database(KEEP, postgres_url, str(tmp_path / "copy.db"))
    assert copied.value.where == "readings.level" and shown in str(copied.value)
    with pytest.raises(JaneDoeInputError) as dumped:
        dump_database(KEEP, postgres_url, str(tmp_path / "d.sql"), dialect="sqlite")
    assert dumped.value.where == "readings.level"
    assert not (tmp_path / "d.sql").exists()


def test_sqlite_numeric_value_that_does_not_fit_its_scale_is_refused(second_postgres, tmp_path):
    source = str(tmp_path / "source.db")
    _build_sqlite(source, [(1, 1.5), (2, 1.005)], "id INTEGER PRIMARY KEY, price NUMERIC(12, 2)")
    with pytest.raises(JaneDoeInputError) as refused:
        copy_database(KEEP, source, second_postgres)
    assert refused.value.where == "kinds.price" and "NUMERIC(12, 2)" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_sqlite_column_without_a_declared_type_is_refused(tmp_path, postgres_url):
    source = str(tmp_path / "source.db")
    _build_sqlite(source, [(1, "a"), (2, 5)], "id INTEGER PRIMARY KEY, anything")
    for target in (str(tmp_path / "copy.db"), postgres_url):
        with pytest.raises(JaneDoeInputError) as refused:
            copy_database(KEEP, source, target)
        assert refused.value.where == "kinds.anything"
