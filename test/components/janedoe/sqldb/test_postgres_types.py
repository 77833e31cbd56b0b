"""`keep` columns of every common PostgreSQL type arrive in a copy exactly as they left (compared as the server's own
text form of each row), and masked columns of those types still load."""

import psycopg
from janedoe.policy import parse_policy
from janedoe.sqldb import copy_database

COLUMNS = """
    id integer PRIMARY KEY, small smallint, big bigint, single real, double double precision,
    money_like numeric(12, 2), free_numeric numeric, flag boolean, body text, code varchar(20), fixed char(3),
    day date, clock time, moment timestamp, instant timestamptz, span interval, token uuid, doc json, docb jsonb,
    numbers integer[], words text[], blob bytea, address inet, mood mood
"""

ROWS = [
    "(1, -32768, 9223372036854775807, 1.5, 2.25e-300, 12345.67, 123456789012345678901234567890.123456789, true,"
    " 'Quinn \"Q\", O''Hara' || E'\\nline two', 'x', 'ab', '1999-12-31', '23:59:59.999999', '2024-02-29 12:00:00.5',"
    " '2024-02-29 12:00:00.123456+05:30', '1 year 2 mons 3 days 04:05:06.7', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
    " '{\"a\": [1, 2, {\"b\": null}]}', '{\"z\": \"é\", \"a\": 1}', '{1,NULL,3}', '{\"a b\",\"c,d\",NULL}',"
    " '\\xdeadbeef00', '192.168.0.1/24', 'happy')",
    "(2, NULL, NULL, NULL, 'NaN', NULL, 'NaN', false, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " '{}', '{}', '', NULL, NULL)",
    "(3, 0, -1, '-Infinity', 'Infinity', -0.01, -1e-20, NULL, 'ünïcødé 😀 ∑', 'NULL', 'n\"l', '0001-01-01',"
    " '00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', '-00:00:01', '00000000-0000-0000-0000-000000000000',"
    " '[]', 'null', '{{1,2},{3,4}}', '{\"\"}', '\\x', '::1', 'sad')",
]


def _build(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
        conn.execute(f"CREATE TABLE kinds ({COLUMNS})")
        for row in ROWS:
            conn.execute(f"INSERT INTO kinds VALUES {row}")


def _rows_as_text(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return [r[0] for r in conn.execute("SELECT k::text FROM kinds k ORDER BY id")]


def test_kept_columns_of_every_type_round_trip_exactly(postgres_url, second_postgres):
    _build(postgres_url)
    with psycopg.connect(second_postgres, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")  # a copy recreates tables, not types
    policy = parse_policy("version: 1\ndefault: keep\ntables: {}\n", "keep.yaml")
    report = copy_database(policy, postgres_url, second_postgres, batch_size=2)
    assert report.rows == {"kinds": len(ROWS)}
    assert _rows_as_text(second_postgres) == _rows_as_text(postgres_url)


def test_masked_columns_of_these_types_load(postgres_url, second_postgres, monkeypatch):
    _build(postgres_url)
    with psycopg.connect(second_postgres, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
    monkeypatch.setenv("TYPES_SECRET", "a test secret of 16+ bytes")
    policy = parse_policy(
        """
version: 1
secret_env: TYPES_SECRET
default: keep
tables:
  kinds:
    columns:
      money_like: {mask: noise, ratio: 0.1}
      instant: {mask: generalize, to: month}
      token: {mask: "null"}
      docb: {mask: "null"}
      body: {mask: hash}
      code: {mask: partial, prefix: 1, padding: "***", suffix: 0}
""",
        "types.yaml",
    )
    copy_database(policy, postgres_url, second_postgres, batch_size=2)
    with psycopg.connect(second_postgres) as conn:
        rows = conn.execute("SELECT body, token, docb, code FROM kinds ORDER BY id").fetchall()
    originals = {"Quinn \"Q\", O'Hara\nline two", "", "ünïcødé 😀 ∑"}
    assert not {r[0] for r in rows} & originals
    assert all(r[1] is None and r[2] is None for r in rows)
    assert rows[2][3] == "N***"  # partial kept one leading character of the text "NULL"
