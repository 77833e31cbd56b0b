"""The PostgreSQL reader streams Arrow batches through ADBC: same rows as a SELECT, any batch size, and a read that
is abandoned or fails leaves the snapshot's connection in a known state."""

import psycopg
import pytest
from janedoe.database_access import parse_database_url
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.reflection import reflect_schema
from janedoe.sqldb.snapshot_reader import SnapshotReader

ROWS = [(i, f"Quinn {i}, \"Q\"\nline two" if i % 7 == 0 else f"Zed{i}", None if i % 5 == 0 else i / 4) for i in
        range(1, 2502)]


@pytest.fixture
def notes_db(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, score DOUBLE PRECISION)")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO notes VALUES (%s, %s, %s)", ROWS[::-1])
    return parse_database_url(postgres_url)


@pytest.mark.parametrize("batch_size", [1, 7, 1000, 5000])
def test_rows_and_batches_match_a_plain_select(notes_db, batch_size):
    table = reflect_schema(notes_db).tables["notes"]
    with SnapshotReader(notes_db) as reader:
        batches = list(reader.read_batches(table, batch_size=batch_size))
    assert all(b.num_rows <= batch_size for b in batches)
    got = [(r["id"], r["body"], r["score"]) for b in batches for r in b.to_pylist()]
    assert got == sorted(ROWS)


def test_abandoned_read_leaves_the_snapshot_usable(notes_db):
    table = reflect_schema(notes_db).tables["notes"]
    with SnapshotReader(notes_db) as reader:
        batches = reader.read_batches(table, batch_size=10)
        assert next(batches).num_rows == 10
        batches.close()
        assert reader.count_rows("notes") == len(ROWS)
        assert sum(b.num_rows for b in reader.read_batches(table, batch_size=100)) == len(ROWS)


def test_server_error_mid_copy_names_the_table(notes_db):
    table = reflect_schema(notes_db).tables["notes"]
    with SnapshotReader(notes_db) as reader:
        with pytest.raises(JaneDoeInputError) as error:
            list(reader.read_batches(table, batch_size=100, where="1 / (id - 2000) IS NOT NULL"))
    assert "notes" in str(error.value)
