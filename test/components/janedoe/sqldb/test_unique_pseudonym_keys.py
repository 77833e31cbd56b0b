"""A natural key (an email primary key) referenced by foreign keys, masked with unique pseudonyms: the same email gets
the same pseudonym in its table, in every referencing column, and in any column masked alike (whose values may be no
member's), whatever the batch size, lane or engine; checked with plain SQL on real SQLite and PostgreSQL databases."""

import sqlite3

import pytest
from janedoe.policy import parse_policy
from janedoe.sqldb import copy_database

SCHEMA = [
    "CREATE TABLE members (email TEXT PRIMARY KEY, member_no INTEGER NOT NULL UNIQUE)",
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, sender TEXT REFERENCES members (email),"
    " recipient TEXT REFERENCES members (email))",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, actor TEXT)",  # no declared key: may name deleted members
]

POLICY = """
version: 1
secret_env: JANEDOE_TEST_SECRET
default: error
tables:
  members:
    columns:
      email: {mask: pseudonymize, kind: email, unique: true, pool_size: 60}
      member_no: {mask: keep}
  messages:
    columns:
      id: {mask: keep}
  audit:
    columns:
      id: {mask: keep}
      actor: {mask: pseudonymize, kind: email, unique: true, pool_size: 60}
"""

MEMBERS = 200  # more than the pool of 60: collisions and derived pseudonyms


def _rows() -> tuple[list, list, list]:
    members = [(f"member{i}@club.example", i) for i in range(MEMBERS)]
    messages = [
        (i, f"member{(i * 7) % MEMBERS}@club.example", f"member{(i * 13 + 5) % MEMBERS}@club.example")
        for i in range(600)
    ]
    audit = [(i, f"member{(i * 11) % MEMBERS}@club.example" if i % 30 else f"gone{i % 90}@club.example")
             for i in range(300)]  # three deleted members' emails among the others
    return members, messages, audit


def _build(conn, marker: str, *, reverse: bool = False) -> None:
    members, messages, audit = _rows()
    for statement in SCHEMA:
        conn.execute(statement)
    cursor = conn.cursor()
    cursor.executemany(f"INSERT INTO members VALUES ({marker}, {marker})", members[::-1] if reverse else members)
    cursor.executemany(f"INSERT INTO messages VALUES ({marker}, {marker}, {marker})", messages)
    cursor.executemany(f"INSERT INTO audit VALUES ({marker}, {marker})", audit)


def _sqlite_source(path) -> str:
    conn = sqlite3.connect(path)
    _build(conn, "?", reverse=True)  # rows stored in another order than the key's
    conn.commit()
    conn.close()
    return str(path)


def _read(url_or_path: str) -> tuple[dict, list]:
    if url_or_path.startswith("postgresql://"):
        import psycopg

        conn = psycopg.connect(url_or_path)
    else:
        conn = sqlite3.connect(url_or_path)
    try:
        by_number = dict(conn.execute("SELECT member_no, email FROM members").fetchall())
        messages = sorted(conn.execute("SELECT id, sender, recipient FROM messages").fetchall())
        audit = sorted(conn.execute("SELECT id, actor FROM audit").fetchall())
    finally:
        conn.close()
    return by_number, messages, audit


@pytest.fixture
def policy(monkeypatch):
    monkeypatch.setenv("JANEDOE_TEST_SECRET", "unique keys test secret, 32 bytes!")
    return parse_policy(POLICY, "policy.yaml")


def test_an_email_key_gets_one_unique_pseudonym_in_every_table_and_any_batch_size(policy, tmp_path):
    source = _sqlite_source(tmp_path / "source.db")
    copy_database(policy, source, str(tmp_path / "small.db"), batch_size=7)
    copy_database(policy, source, str(tmp_path / "large.db"), batch_size=1000)
    assert _read(str(tmp_path / "small.db")) == _read(str(tmp_path / "large.db"))

    source_members, source_messages, source_audit = _read(source)
    members, messages, audit = _read(str(tmp_path / "small.db"))
    pseudonym = {source_members[number]: members[number] for number in source_members}
    assert len(set(pseudonym.values())) == MEMBERS and not set(pseudonym) & set(pseudonym.values())
    for (_, sender, recipient), (_, masked_sender, masked_recipient) in zip(source_messages, messages, strict=True):
        assert (masked_sender, masked_recipient) == (pseudonym[sender], pseudonym[recipient])  # joins still work
    orphan_pseudonyms: dict = {}
    for (_, actor), (_, masked_actor) in zip(source_audit, audit, strict=True):
        if actor in pseudonym:
            assert masked_actor == pseudonym[actor]
        else:
            assert orphan_pseudonyms.setdefault(actor, masked_actor) == masked_actor
    assert len(orphan_pseudonyms) == 3
    # An orphan is part of the key's set: its pseudonym is no member's and no other orphan's.
    assert len(set(orphan_pseudonyms.values())) == 3 and not set(orphan_pseudonyms.values()) & set(members.values())
    assert all("@" in email and " " not in email for email in members.values())


def test_postgresql_in_lanes_gives_the_sqlite_copy_s_pseudonyms(policy, tmp_path, postgres_url, second_postgres):
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        _build(conn, "%s")
    source = _sqlite_source(tmp_path / "source.db")
    copy_database(policy, source, str(tmp_path / "copy.db"), batch_size=50)
    copy_database(policy, postgres_url, second_postgres, batch_size=50, lanes=2)
    assert _read(second_postgres) == _read(str(tmp_path / "copy.db"))
