"""`generalize` with `as: range` gives a real PostgreSQL range column (int4range ... tstzrange) when `db copy` or
`db anonymize` creates the column in PostgreSQL, text in SQLite; `random_in` picks range literals for a range column.
Real PostgreSQL, values checked with psycopg's Range objects."""

import datetime as dt
import sqlite3
from decimal import Decimal

import psycopg
import pytest
from janedoe.policy import parse_policy
from janedoe.sqldb import anonymize_in_place, copy_database

pytestmark = pytest.mark.postgres

UTC = dt.UTC
ROWS = [
    (1, 34, 5_000_000_123, 7.3, dt.date(1987, 3, 15), dt.datetime(1999, 12, 31, 23, 59), dt.datetime(2024, 2, 29, 23,
     30, tzinfo=UTC), "1987-03-15", "[3,8)"),
    (2, -5, -42, 0.3, dt.date(2000, 1, 1), dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1, tzinfo=UTC), "2011-07-04",
     "[20,30)"),
    (3, None, None, None, None, None, None, None, None),
]
POLICY = """
version: 1
secret_env: JANEDOE_TEST_SECRET
default: error
tables:
  t:
    columns:
      id: {mask: keep}
      age: {mask: generalize, step: 10, as: range}
      big: {mask: generalize, step: 1000, as: range}
      score: {mask: generalize, step: 0.1, as: range}
      born: {mask: generalize, to: month, as: range}
      seen: {mask: generalize, to: year, as: range}
      seen_tz: {mask: generalize, to: day, as: range}
      born_text: {mask: generalize, to: decade, as: range}
      slot: {mask: random_in, values: ['[1,10)', '[10,20)']}
"""
EXPECTED_TYPES = {"id": "integer", "age": "int4range", "big": "int8range", "score": "numrange", "born": "daterange",
                  "seen": "tsrange", "seen_tz": "tstzrange", "born_text": "daterange", "slot": "int4range"}


def _source(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id integer PRIMARY KEY, age integer, big bigint, score double precision,"
                     " born date, seen timestamp, seen_tz timestamptz, born_text text, slot int4range)")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::int4range)", ROWS)


def _types(conn) -> dict[str, str]:
    rows = conn.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                        " WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped").fetchall()
    return dict(rows)


def _assert_ranges(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        assert _types(conn) == EXPECTED_TYPES
        rows = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
        # the columns are ranges to PostgreSQL: its operators work on them
        assert conn.execute("SELECT age @> 34, upper(big), born && daterange('1987-01-01', '1988-01-01')"
                            " FROM t WHERE id = 1").fetchone() == (True, 5_000_001_000, True)
    for masked, original in zip(rows, ROWS, strict=True):
        assert masked[0] == original[0]
        if original[1] is None:
            assert masked[1:] == (None,) * 8  # NULLs stay NULL
            continue
        for index in (1, 2, 4, 5, 6):
            assert original[index] in masked[index], (index, original[index], masked[index])
        assert Decimal(repr(original[3])) in masked[3]  # the double's shortest text: the bounds are printed ones
        assert dt.date.fromisoformat(original[7]) in masked[7]
        assert (masked[8].lower, masked[8].upper) in {(1, 10), (10, 20)}
    first = rows[0]
    assert (first[1].lower, first[1].upper, first[2].upper - first[2].lower) == (30, 40, 1000)
    assert (first[4].lower, first[4].upper) == (dt.date(1987, 3, 1), dt.date(1987, 4, 1))
    assert (first[5].lower, first[5].upper) == (dt.datetime(1999, 1, 1), dt.datetime(2000, 1, 1))
    assert (first[6].lower, first[6].upper) == (dt.datetime(2024, 2, 29, tzinfo=UTC), dt.datetime(2024, 3, 1,
                                                                                                 tzinfo=UTC))
    assert (first[7].lower, first[7].upper) == (dt.date(1980, 1, 1), dt.date(1990, 1, 1))
    assert (rows[1][3].lower, rows[1][3].upper) == (Decimal("0.3"), Decimal("0.4"))


def test_copy_and_in_place_write_real_range_types(postgres_url, second_postgres, secret_env):
    _source(postgres_url)
    policy = parse_policy(POLICY, "ranges.yaml")
    copy_database(policy, postgres_url, second_postgres, batch_size=2)
    _assert_ranges(second_postgres)
    report = anonymize_in_place(policy, postgres_url, apply=True)
    assert report.applied and "t.age" in report.retyped_columns
    _assert_ranges(postgres_url)


def test_a_sqlite_target_gets_the_range_literals_as_text(postgres_url, tmp_path, secret_env):
    _source(postgres_url)
    target = str(tmp_path / "copy.db")
    copy_database(parse_policy(POLICY, "ranges.yaml"), postgres_url, target)
    conn = sqlite3.connect(target)
    declared = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(t)")}
    first = conn.execute("SELECT age, big, score, born, seen, seen_tz, born_text, slot FROM t WHERE id = 1").fetchone()
    conn.close()
    assert declared["age"] == declared["born"] == declared["slot"] == "TEXT"
    assert first[:5] == ("[30,40)", "[5000000000,5000001000)", "[7.3,7.4)", "[1987-03-01,1987-04-01)",
                         "[1999-01-01,2000-01-01)")
    assert first[5:7] == ("[2024-02-29,2024-03-01)", "[1980-01-01,1990-01-01)") and first[7] in ("[1,10)", "[10,20)")
