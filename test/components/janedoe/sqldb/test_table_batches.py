"""iter_table_batches against a real SQLite file and a real PostgreSQL: same rows as a plain SELECT, bounded batches."""

import hashlib
import sqlite3

import psycopg
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.sqldb import iter_table_batches, table_row_count

ROWS = [(i, f"Zed{i} Quuxley", None if i % 5 == 0 else i * 1.5, i % 3 == 0) for i in range(1, 1038)]
CREATE = "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score DOUBLE PRECISION, vip BOOLEAN)"


@pytest.fixture
def sqlite_people(tmp_path):
    path = str(tmp_path / "people.db")
    with sqlite3.connect(path) as conn:
        conn.execute(CREATE)
        conn.executemany("INSERT INTO people VALUES (?, ?, ?, ?)", ROWS[::-1])  # stored out of key order
        conn.execute("CREATE TABLE empty_one (id INTEGER PRIMARY KEY, note TEXT)")
    conn.close()
    return path


@pytest.fixture
def postgres_people(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(CREATE)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO people VALUES (%s, %s, %s, %s)", ROWS[::-1])
        conn.execute("CREATE TABLE empty_one (id INTEGER PRIMARY KEY, note TEXT)")
    return postgres_url


def _plain_select(dialect: str, location: str) -> list[tuple]:
    if dialect == "sqlite":
        conn = sqlite3.connect(location)
        rows = conn.execute("SELECT id, name, score, vip FROM people ORDER BY id").fetchall()
        conn.close()
        return [(i, n, s, bool(v) if v is not None else None) for i, n, s, v in rows]
    with psycopg.connect(location) as conn:
        return conn.execute("SELECT id, name, score, vip FROM people ORDER BY id").fetchall()


def _tuples(batches: list[pa.RecordBatch]) -> list[tuple]:
    table = pa.Table.from_batches(batches)
    return list(zip(*(table.column(name).to_pylist() for name in ("id", "name", "score", "vip")), strict=True))


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.mark.parametrize("batch_size", [1, 100, 65_536])
def test_sqlite_rows_equal_a_plain_select_and_the_file_is_unchanged(sqlite_people, batch_size):
    before = _sha256(sqlite_people)
    batches = list(iter_table_batches(f"sqlite:///{sqlite_people}", "people", batch_size=batch_size))
    assert _tuples(batches) == _plain_select("sqlite", sqlite_people)
    assert all(b.num_rows == batch_size for b in batches[:-1]) and 0 < batches[-1].num_rows <= batch_size
    assert table_row_count(sqlite_people, "people") == len(ROWS)
    assert _sha256(sqlite_people) == before


def test_postgres_rows_equal_a_plain_select(postgres_people):
    batches = list(iter_table_batches(postgres_people, "people", batch_size=250))
    assert [b.num_rows for b in batches] == [250, 250, 250, 250, 37]
    assert _tuples(batches) == _plain_select("postgresql", postgres_people)
    assert table_row_count(postgres_people, "people") == len(ROWS)


def test_an_empty_table_yields_one_empty_batch_with_the_schema(sqlite_people, postgres_people):
    for url in (sqlite_people, postgres_people):
        batches = list(iter_table_batches(url, "empty_one"))
        assert len(batches) == 1 and batches[0].num_rows == 0
        assert batches[0].schema.names == ["id", "note"]


def test_an_unknown_table_is_not_found_and_names_the_table(sqlite_people, postgres_people):
    for url in (sqlite_people, postgres_people):
        with pytest.raises(NotFoundError, match="no_such_table"):
            list(iter_table_batches(url, "no_such_table"))


def test_messages_never_contain_the_password(postgres_people):
    password = "Hunter2-Secret"
    with_password = postgres_people.replace("postgres@", f"postgres:{password}@", 1)
    with pytest.raises(NotFoundError) as found:
        list(iter_table_batches(with_password, "nope"))
    assert password not in str(found.value) and "***" in str(found.value)
    unreachable = with_password.rsplit(":", 1)[0].rsplit("@", 1)[0] + "@127.0.0.1:1/x"  # nothing listens on port 1
    with pytest.raises(JaneDoeInputError) as refused:
        list(iter_table_batches(unreachable, "people", connect_timeout=2))
    assert password not in str(refused.value)
    assert "postgres:***@" in str(refused.value)


def test_a_missing_sqlite_file_and_an_unparsable_url_are_input_errors(tmp_path):
    with pytest.raises(JaneDoeInputError):
        list(iter_table_batches(str(tmp_path / "missing.db"), "people"))
    with pytest.raises(JaneDoeInputError) as bad_port:
        list(iter_table_batches("postgresql://u:Hunter2@host:notaport/db", "people"))
    assert "Hunter2" not in str(bad_port.value)
