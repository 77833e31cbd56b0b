"""`shuffle` in `db copy`, `db dump` and `db anonymize` permutes the whole column, not each batch: with a batch of 40
rows, values leave their batch; the multiset and the NULLs' rows are kept, foreign keys are untouched, and a resumed
copy ends as an uninterrupted one. Real SQLite and PostgreSQL."""

import collections
import sqlite3
import subprocess

import numpy as np
import psycopg
import pytest
from janedoe.policy import parse_policy
from janedoe.sqldb import anonymize_in_place, copy_database, dump_database

ROWS, BATCH = 1_200, 40
SCHEMA = """
CREATE TABLE parents (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE people (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents(id), v INTEGER, w TEXT);
"""
POLICY = """
version: 1
secret_env: JANEDOE_TEST_SECRET
default: error
tables:
  parents:
    columns:
      id: {mask: keep}
      label: {mask: keep}
  people:
    columns:
      id: {mask: keep}
      parent_id: {mask: keep}
      v: {mask: shuffle}
      w: {mask: shuffle}
"""


def _rows():
    rng = np.random.default_rng(5)
    words = rng.choice(["a", "b", "c", None], size=ROWS, p=[0.5, 0.3, 0.1, 0.1]).tolist()
    # v tells its row, hence its batch; every 7th v is NULL
    return [(i, i % 30, None if i % 7 == 3 else i, words[i]) for i in range(ROWS)]


ORIGINAL = _rows()


def _fill(execute) -> None:
    for statement in SCHEMA.strip().split(";")[:-1]:
        execute(statement)
    for i in range(30):
        execute(f"INSERT INTO parents VALUES ({i}, 'p')")
    values = ", ".join(
        f"({i}, {p}, {'NULL' if v is None else v}, {'NULL' if w is None else repr(w)})" for i, p, v, w in ORIGINAL
    )
    execute(f"INSERT INTO people VALUES {values}")


def _sqlite(path: str) -> str:
    conn = sqlite3.connect(path)
    _fill(conn.execute)
    conn.commit()
    conn.close()
    return path


def _postgres(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        _fill(conn.execute)
    return url


def _read(url: str) -> tuple[list[tuple], list]:
    sql = "SELECT id, parent_id, v, w FROM people ORDER BY id"
    if url.startswith("postgresql"):
        with psycopg.connect(url) as conn:
            rows = conn.execute(sql).fetchall()
            dangling = conn.execute("SELECT count(*) FROM people p LEFT JOIN parents q ON q.id = p.parent_id"
                                    " WHERE q.id IS NULL").fetchall()
            assert dangling == [(0,)]
            return rows, []
    conn = sqlite3.connect(url)
    try:
        return conn.execute(sql).fetchall(), conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()


def _assert_whole_column_shuffle(rows: list[tuple], fk_errors: list) -> None:
    assert fk_errors == []
    assert [(i, p) for i, p, _, _ in rows] == [(i, p) for i, p, _, _ in ORIGINAL]  # keys and references untouched
    for column in (2, 3):
        masked, original = [r[column] for r in rows], [r[column] for r in ORIGINAL]
        assert [m is None for m in masked] == [o is None for o in original]  # NULLs stay in their rows
        assert collections.Counter(masked) == collections.Counter(original)  # the multiset is kept
    pairs = np.array([(i, v) for i, _, v, _ in rows if v is not None])
    same_batch = np.mean(pairs[:, 0] // BATCH == pairs[:, 1] // BATCH)
    # within-batch shuffling keeps every value in its batch (1.0); a whole-column one about 1 in 30 (sd 0.005)
    assert same_batch < 0.07
    assert np.mean(pairs[:, 0] == pairs[:, 1]) < 0.01


@pytest.fixture
def policy(monkeypatch):
    monkeypatch.setenv("JANEDOE_TEST_SECRET", "s" * 32)
    return parse_policy(POLICY, "shuffle-policy.yaml")


def test_sqlite_copy_dump_and_in_place_shuffle_whole_columns_alike(policy, tmp_path):
    source = _sqlite(str(tmp_path / "source.db"))
    copied = str(tmp_path / "copy.db")
    copy_database(policy, source, copied, batch_size=BATCH)
    copy_rows = _read(copied)
    _assert_whole_column_shuffle(*copy_rows)

    dump = tmp_path / "dump.sql"
    dump_database(policy, source, str(dump), batch_size=BATCH)
    loaded = str(tmp_path / "loaded.db")
    subprocess.run(["sqlite3", loaded], input=dump.read_text(), text=True, check=True)
    assert _read(loaded) == copy_rows  # the same snapshot, key and order give the same permutation

    anonymize_in_place(policy, source, batch_size=BATCH, apply=True)
    assert _read(source) == copy_rows


def test_a_resumed_copy_continues_the_same_shuffle(policy, tmp_path):
    source = _sqlite(str(tmp_path / "source.db"))
    reference = str(tmp_path / "reference.db")
    copy_database(policy, source, reference, batch_size=BATCH)
    target = str(tmp_path / "target.db")

    def interrupt(table, done, total):
        if table == "people" and done >= 10 * BATCH:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_database(policy, source, target, batch_size=BATCH, progress=interrupt)
    conn = sqlite3.connect(target)
    written = conn.execute("SELECT count(*) FROM people").fetchone()[0]
    conn.close()
    assert 0 < written < ROWS
    report = copy_database(policy, source, target, batch_size=BATCH)
    assert report.resumed and _read(target) == _read(reference)


@pytest.mark.postgres
def test_postgres_copy_and_in_place_shuffle_whole_columns(policy, postgres_url, second_postgres):
    source = _postgres(postgres_url)
    copy_database(policy, source, second_postgres, batch_size=BATCH, lanes=2)
    copy_rows = _read(second_postgres)
    _assert_whole_column_shuffle(*copy_rows)
    anonymize_in_place(policy, source, batch_size=BATCH, apply=True)
    assert _read(source) == copy_rows
