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


def test_postgres_types_whose_text_has_no_empty_value_get_valid_neutral_values_in_copy_and_in_place(
    postgres_url, second_postgres
):
    """'' is not an inet, a macaddr, a bit(3), a range, a timetz or an oid: each gets the zero of its type."""
    from janedoe.sqldb import anonymize_in_place

    columns = {"addr": ("inet", "'10.1.2.3'"), "net": ("cidr", "'10.0.0.0/8'"),
               "mac": ("macaddr", "'08:00:2b:01:02:03'"), "mac8": ("macaddr8", "'08:00:2b:01:02:03:04:05'"),
               "flags": ("bit(3)", "B'101'"),
               "stay": ("daterange", "'[2020-01-01,2020-02-01)'"), "ages": ("int4multirange", "'{[1,3)}'"),
               "wake": ("timetz", "'10:00+02'"), "ref": ("oid", "5")}
    definition = ", ".join(f"{name} {kind} NOT NULL" for name, (kind, _) in columns.items())
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE people (id integer PRIMARY KEY, {definition})")
        conn.execute(f"INSERT INTO people VALUES (1, {', '.join(value for _, value in columns.values())})")
    copy_database(POLICY, postgres_url, second_postgres)
    anonymize_in_place(POLICY, postgres_url, apply=True)
    query = f"SELECT {', '.join(f'{name}::text' for name in columns)} FROM people"
    expected = [("0.0.0.0/32", "0.0.0.0/32", "00:00:00:00:00:00", "00:00:00:00:00:00:00:00", "000", "empty", "{}",
                 "00:00:00+00", "0")]
    for url in (second_postgres, postgres_url):
        with psycopg.connect(url) as conn:
            assert conn.execute(query).fetchall() == expected, url
