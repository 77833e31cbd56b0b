"""`default: null` (privacy by default) on NOT NULL columns: the column's default or a neutral value of its type, so
the copy loads (it used to fail with `NOT NULL constraint failed`) and no source value of those columns survives."""

import datetime as dt
import sqlite3

import psycopg
import pytest
from janedoe.policy import parse_policy
from janedoe.sqldb import copy_database

POLICY = parse_policy(
    "version: 1\ndefault: \"null\"\ntables:\n  people:\n    columns:\n      id: {mask: keep}\n", "privacy.yaml"
)


@pytest.fixture
def sqlite_people(tmp_path):
    path = str(tmp_path / "people.db")
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'unknown',"
        " age INTEGER NOT NULL, born DATE NOT NULL, active BOOLEAN NOT NULL DEFAULT 1, score REAL NOT NULL,"
        " photo BLOB NOT NULL, note TEXT)"
    )
    conn.executemany(
        "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(1, "Ada Lovelace", "vip", 36, "1815-12-10", 0, 9.5, b"\x89PNG", "secret note"),
         (2, "Alan Turing", "banned", 41, "1912-06-23", 0, 7.25, b"\xff", None)],
    )
    conn.commit()
    conn.close()
    return path


def _sqlite_rows(path: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT * FROM people ORDER BY id").fetchall()
    finally:
        conn.close()


def test_not_null_columns_get_their_default_or_a_neutral_value_sqlite(sqlite_people, tmp_path):
    target = str(tmp_path / "copy.db")
    copy_database(POLICY, sqlite_people, target)
    assert _sqlite_rows(target) == [
        (1, "", "unknown", 0, "1970-01-01", 1, 0.0, b"", None),
        (2, "", "unknown", 0, "1970-01-01", 1, 0.0, b"", None),
    ]


def test_not_null_columns_get_their_default_or_a_neutral_value_postgres(sqlite_people, second_postgres):
    copy_database(POLICY, sqlite_people, second_postgres)
    with psycopg.connect(second_postgres) as conn:
        rows = conn.execute("SELECT * FROM people ORDER BY id").fetchall()
    assert rows == [
        (1, "", "unknown", 0, dt.date(1970, 1, 1), True, 0.0, b"", None),
        (2, "", "unknown", 0, dt.date(1970, 1, 1), True, 0.0, b"", None),
    ]


def test_postgres_types_without_an_obvious_zero_get_valid_neutral_values(postgres_url, second_postgres):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
        conn.execute(
            "CREATE TABLE people (id integer PRIMARY KEY, token uuid NOT NULL, doc jsonb NOT NULL,"
            " tags text[] NOT NULL, feeling mood NOT NULL, seen timestamptz NOT NULL DEFAULT now(),"
            " code varchar(5) NOT NULL DEFAULT 'n/a', price numeric(10, 2) NOT NULL DEFAULT 1.50,"
            " wake time NOT NULL, span interval NOT NULL)"
        )
        conn.execute(
            "INSERT INTO people VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"ssn\": \"123\"}',"
            " '{private}', 'happy', '2024-01-01 10:00+00', 'ZZ', 99.99, '07:30', '3 days')"
        )
    copy_database(POLICY, postgres_url, second_postgres)
    with psycopg.connect(second_postgres) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        row = conn.execute("SELECT token::text, doc::text, tags::text, feeling::text, seen, code, price::text,"
                           " wake, span FROM people").fetchone()
    assert row == ("00000000-0000-0000-0000-000000000000", "{}", "{}", "sad",
                   dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "n/a", "1.50", dt.time(0, 0), dt.timedelta(0))
