"""`db anonymize` (anonymize_in_place): the masked tables equal what `db copy` writes, keys stay valid, the tables'
grants, indexes, defaults and triggers survive, and any failure leaves the original rows. Real SQLite and PostgreSQL,
checked with plain SQL."""

import sqlite3

import psycopg
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.policy import parse_policy
from janedoe.sqldb import anonymize_in_place, copy_database


def _sqlite_policy(shop):
    """The shop policy with rules that keep each column's type (type changes: test_in_place_sqlite_retype.py)."""
    text = shop.POLICY.replace("id: {mask: hash}", "id: {mask: keyed_permutation}").replace(
        "{mask: generalize, to: year}", "{mask: noise, interval: '30 days'}"
    )
    return parse_policy(text, "shop-policy.yaml")


def _rows(db, table: str) -> list[str]:
    return sorted(repr(row) for row in db.rows(f"SELECT * FROM {table}"))


def _assert_same_rows(shop, first: str, second: str) -> None:
    a, b = shop.Database(first), shop.Database(second)
    try:
        for table in shop.TABLES:
            assert _rows(a, table) == _rows(b, table), table
    finally:
        a.close()
        b.close()


def test_sqlite_in_place_equals_copy_keeps_keys_indexes_and_triggers(shop_module, sqlite_shop, secret_env, tmp_path):
    shop, policy = shop_module, _sqlite_policy(shop_module)
    conn = sqlite3.connect(sqlite_shop)
    conn.executescript(
        "CREATE TABLE audit (what TEXT);"
        "CREATE TRIGGER customers_audit AFTER INSERT ON customers BEGIN INSERT INTO audit VALUES (new.email); END;"
    )
    conn.close()
    original = shop.Database(sqlite_shop)
    before_ids = {r[0] for r in original.rows("SELECT id FROM customers")}
    schema_before = original.rows("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    original.close()
    copied = str(tmp_path / "copy.db")
    copy_database(policy, sqlite_shop, copied, tables=shop.TABLES, batch_size=37)

    report = anonymize_in_place(policy, sqlite_shop, tables=shop.TABLES, batch_size=37, apply=True)

    assert report.applied and sum(report.rows.values()) > 1000
    _assert_same_rows(shop, sqlite_shop, copied)
    db = shop.Database(sqlite_shop)
    assert db.rows("PRAGMA foreign_key_check") == []
    assert shop.dangling_references(db) == {} and shop.duplicate_keys(db) == {}
    assert {r[0] for r in db.rows("SELECT id FROM customers")} != before_ids  # the keys were really masked
    assert db.rows("SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema_before  # indexes, trigger
    assert db.rows("SELECT count(*) FROM audit") == [(0,)]  # the trigger was off during the swap...
    db.conn.execute("INSERT INTO customers (id, email, full_name, created_at) VALUES (-1, 'a@b.c', 'x', '2020-01-01')")
    assert db.rows("SELECT what FROM audit") == [("a@b.c",)]  # ...and is back on
    db.close()


def test_postgres_in_place_equals_copy_and_keeps_constraints_grants_indexes_defaults(
    shop_module, postgres_shop, second_postgres, policy
):
    """The shop policy hashes orders.id (integer -> text): the column and its references change type, as in a copy."""
    shop = shop_module
    db = shop.Database(postgres_shop)
    db.conn.execute("DO $$ BEGIN CREATE ROLE janedoe_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    db.conn.execute("GRANT SELECT ON customers, orders TO janedoe_reader")
    db.conn.execute("ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new'")
    db.conn.execute("CREATE INDEX customers_name ON customers (full_name)")
    db.conn.execute("CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN NEW.full_name := upper(NEW.full_name); RETURN NEW; END $$")
    db.conn.execute("CREATE TRIGGER customers_shout BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION shout()")

    def catalog():
        return {
            "constraints": sorted(db.rows("SELECT conrelid::regclass::text, conname, contype, convalidated,"
                                          " pg_get_constraintdef(oid) FROM pg_constraint"
                                          " WHERE connamespace = 'public'::regnamespace")),
            "indexes": sorted(db.rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")),
            "grants": sorted(db.rows("SELECT table_name, privilege_type FROM information_schema.role_table_grants"
                                     " WHERE grantee = 'janedoe_reader'")),
            "defaults": sorted(db.rows("SELECT table_name, column_name, column_default FROM information_schema.columns"
                                       " WHERE table_schema = 'public' AND column_default IS NOT NULL")),
            "triggers": db.rows("SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal"),
            "oids": sorted(db.rows("SELECT relname, oid::bigint FROM pg_class WHERE relkind = 'r'"
                                   " AND relnamespace = 'public'::regnamespace")),
        }

    before = catalog()
    copy_database(policy, postgres_shop, second_postgres, batch_size=41)

    anonymize_in_place(policy, postgres_shop, batch_size=41, apply=True)

    assert catalog() == before
    _assert_same_rows(shop, postgres_shop, second_postgres)
    copied = shop.Database(second_postgres)
    types = ("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"
             " ORDER BY 1, 2")
    assert db.rows(types) == copied.rows(types)
    assert db.value("SELECT data_type FROM information_schema.columns WHERE table_name = 'payments'"
                    " AND column_name = 'order_id'") == "text"
    copied.close()
    assert shop.dangling_references(db) == {} and shop.duplicate_keys(db) == {}
    assert sum(1 for c in before["constraints"] if c[2] == "f" and c[3]) == len(shop.FOREIGN_KEYS)
    assert db.value("SELECT count(*) FROM customers WHERE full_name = upper(full_name)") < 5  # trigger stayed off
    # The sequence is past the masked keys: the application can insert again, and the trigger fires again.
    new_id, name = db.rows("INSERT INTO customers (email, full_name, created_at) VALUES ('n@example.org', 'ann',"
                           " now()) RETURNING id, full_name")[0]
    assert new_id > db.value(f"SELECT max(id) FROM customers WHERE id <> {new_id}") and name == "ANN"
    db.close()


def _unique_breaking_policy(shop, sqlite: bool):
    """Emails pseudonymized from a pool of 3: the UNIQUE constraint on customers.email fails when the rows go back,
    after the tables were emptied inside the transaction."""
    base = _sqlite_policy(shop) if sqlite else parse_policy(shop.POLICY, "p.yaml")
    text = base.model_dump_json()
    return parse_policy(text.replace('"unique":true', '"unique":false').replace('"pool_size":1000', '"pool_size":3'),
                        "p.json")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_failure_after_the_tables_were_emptied_leaves_the_original_rows(shop_module, secret_env, tmp_path,
                                                                          postgres_url, engine):
    shop = shop_module
    if engine == "sqlite":
        url = str(tmp_path / "shop.db")
        shop.build_sqlite(url, customers=40)
    else:
        url = postgres_url
        shop.build_postgres(url, customers=40)
    db = shop.Database(url)
    before = shop.table_hashes(db)
    constraints = "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
    foreign_keys = db.value(constraints) if engine == "postgresql" else None

    with pytest.raises(JaneDoeInputError, match="customers") as error:
        anonymize_in_place(_unique_breaking_policy(shop, engine == "sqlite"), url, batch_size=10, apply=True)

    assert "unique" in str(error.value).lower()
    assert shop.table_hashes(db) == before
    if engine == "postgresql":
        assert db.value(constraints) == foreign_keys
    db.close()


def test_postgres_value_too_long_in_the_third_batch_leaves_the_table_untouched(postgres_url, secret_env):
    """Names pseudonymized into varchar(6): rows 1-20 are NULL (two batches stage fine), row 21 overflows."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE people (id integer PRIMARY KEY, nick varchar(6))")
        conn.execute("INSERT INTO people SELECT i, CASE WHEN i > 20 THEN 'bob' END FROM generate_series(1, 40) i")
    policy = parse_policy("version: 1\nsecret_env: JANEDOE_TEST_SECRET\ntables:\n  people:\n    columns:\n"
                          "      id: {mask: keep}\n      nick: {mask: pseudonymize, kind: name}\n", "p.yaml")
    with pytest.raises(JaneDoeInputError, match="people.*too long"):
        anonymize_in_place(policy, postgres_url, batch_size=10, apply=True)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*), count(nick), min(nick) FROM people").fetchone() == (40, 20, "bob")


def test_sqlite_unreadable_value_in_the_third_batch_leaves_the_file_untouched(shop_module, tmp_path, secret_env):
    path = str(tmp_path / "people.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, born DATE)")
    conn.executemany("INSERT INTO people VALUES (?, ?, ?)",
                     [(i, f"person {i}", "not a date" if i == 25 else "1990-01-02") for i in range(1, 41)])
    conn.commit()
    conn.close()
    before = shop_module.file_digest(path)
    policy = parse_policy("version: 1\nsecret_env: JANEDOE_TEST_SECRET\ndefault: keep\ntables:\n  people:\n"
                          "    columns:\n      name: {mask: pseudonymize, kind: name}\n", "p.yaml")
    with pytest.raises(JaneDoeInputError, match="people.born"):
        anonymize_in_place(policy, path, batch_size=10, apply=True)
    assert shop_module.file_digest(path) == before


def test_tables_without_a_primary_key_sqlite_keeps_rowids_postgres_rewrites(tmp_path, postgres_url, secret_env):
    policy = parse_policy("version: 1\nsecret_env: JANEDOE_TEST_SECRET\ntables:\n  visits:\n    columns:\n"
                          "      who: {mask: pseudonymize, kind: name}\n      page: {mask: keep}\n", "p.yaml")
    path = str(tmp_path / "visits.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE visits (who TEXT NOT NULL, page TEXT)")
    conn.executemany("INSERT INTO visits VALUES (?, ?)", [(f"person {i}", f"/p{i}") for i in range(30)])
    conn.execute("DELETE FROM visits WHERE rowid % 4 = 0")  # gaps: rowids are not just 1..n
    conn.commit()
    rowids = conn.execute("SELECT rowid, page FROM visits ORDER BY rowid").fetchall()
    conn.close()
    copy_database(policy, path, str(tmp_path / "copy.db"))
    anonymize_in_place(policy, path, batch_size=7, apply=True)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT rowid, page FROM visits ORDER BY rowid").fetchall() == rowids
    masked = sorted(conn.execute("SELECT who, page FROM visits").fetchall())
    conn.close()
    copied = sqlite3.connect(tmp_path / "copy.db")
    assert masked == sorted(copied.execute("SELECT who, page FROM visits").fetchall())
    copied.close()
    assert not any(who.startswith("person ") for who, _ in masked)

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE visits (who text NOT NULL, page text)")
        conn.execute("INSERT INTO visits SELECT 'person ' || i, '/p' || i FROM generate_series(1, 30) i")
    anonymize_in_place(policy, postgres_url, batch_size=7, apply=True)
    with psycopg.connect(postgres_url) as conn:
        rows = sorted(conn.execute("SELECT who, page FROM visits").fetchall())
    assert len(rows) == 30 and not any(who.startswith("person ") for who, _ in rows)
    assert {page for _, page in rows} == {f"/p{i}" for i in range(1, 31)}


def test_refusals_name_the_problem_and_change_nothing(shop_module, sqlite_shop, policy):
    before = shop_module.file_digest(sqlite_shop)
    # (A rule that changes a SQLite column's type rebuilds its table: test_in_place_sqlite_retype.py.)
    # A table left out whose references would dangle: customers.id is permuted, orders and tickets refer to it.
    with pytest.raises(JaneDoeInputError, match=r"--table: \w+\(customer_id\) -> customers\(id\) would dangle"):
        anonymize_in_place(_sqlite_policy(shop_module), sqlite_shop, tables=["customers", "addresses"], apply=True)
    with pytest.raises(JaneDoeInputError, match=r"--table: .*\(addresses\): add them to --table"):
        anonymize_in_place(_sqlite_policy(shop_module), sqlite_shop, tables=["customers"], apply=True)
    # Without apply: a report of what would change, nothing written.
    report = anonymize_in_place(_sqlite_policy(shop_module), sqlite_shop)
    assert not report.applied and report.rows["customers"] == 120 and "email" in report.masked_columns["customers"]
    assert shop_module.file_digest(sqlite_shop) == before


PRIVACY = "version: 1\ndefault: \"null\"\ntables:\n  people:\n    columns:\n      id: {mask: keep}\n"


def test_privacy_by_default_fills_not_null_columns_in_place_like_copy(tmp_path, postgres_url, second_postgres):
    """`default: null` on NOT NULL columns: the column's default or its type's neutral value, never a failure."""
    policy = parse_policy(PRIVACY, "privacy.yaml")
    path = str(tmp_path / "people.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT"
                 " 'unknown', age INTEGER NOT NULL, born DATE NOT NULL, photo BLOB NOT NULL, note TEXT)")
    conn.execute("INSERT INTO people VALUES (1, 'Ada', 'vip', 36, '1815-12-10', x'89', 'secret')")
    conn.commit()
    conn.close()
    copy_database(policy, path, str(tmp_path / "copy.db"))
    anonymize_in_place(policy, path, apply=True)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT * FROM people").fetchall() == [(1, "", "unknown", 0, "1970-01-01", b"", None)]
    conn.close()

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE people (id integer PRIMARY KEY, name text NOT NULL, status varchar(9) NOT NULL"
                     " DEFAULT 'unknown', token uuid NOT NULL, seen timestamptz NOT NULL DEFAULT now(), note text)")
        conn.execute("INSERT INTO people VALUES (1, 'Ada', 'vip', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
                     " '2024-01-01 10:00+00', 'secret')")
    copy_database(policy, postgres_url, second_postgres)
    anonymize_in_place(policy, postgres_url, apply=True)
    query = "SELECT id, name, status, token::text, seen::text, note FROM people"
    with psycopg.connect(postgres_url) as conn, psycopg.connect(second_postgres) as copied:
        conn.execute("SET TIME ZONE 'UTC'")
        copied.execute("SET TIME ZONE 'UTC'")
        rows = conn.execute(query).fetchall()
        assert rows == copied.execute(query).fetchall()
    assert rows == [(1, "", "unknown", "00000000-0000-0000-0000-000000000000", "1970-01-01 00:00:00+00", None)]


def test_postgres_error_from_the_server_is_one_line_and_leaves_the_rows(postgres_url, secret_env):
    """A view on a column whose type the rule changes: PostgreSQL refuses ALTER TYPE, after the table was emptied."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id integer PRIMARY KEY, owner text)")
        conn.execute("INSERT INTO accounts SELECT i, 'owner ' || i FROM generate_series(1, 25) i")
        conn.execute("CREATE VIEW account_ids AS SELECT id FROM accounts")
    policy = parse_policy("version: 1\nsecret_env: JANEDOE_TEST_SECRET\ntables:\n  accounts:\n    columns:\n"
                          "      id: {mask: hash}\n      owner: {mask: keep}\n", "p.yaml")
    with pytest.raises(JaneDoeInputError, match="view") as error:
        anonymize_in_place(policy, postgres_url, batch_size=10, apply=True)
    assert "\n" not in str(error.value)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*), min(id), max(owner) FROM accounts").fetchone() == (25, 1, "owner 9")


def test_sqlite_orphan_reference_fails_the_foreign_key_check_and_changes_nothing(shop_module, tmp_path, secret_env):
    """SQLite does not enforce foreign keys by default: an orphan reference is found by `PRAGMA foreign_key_check`
    inside the transaction, and the run is rolled back."""
    path = str(tmp_path / "orphans.db")
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT);"
                       "CREATE TABLE pets (id INTEGER PRIMARY KEY, owner_id INTEGER REFERENCES owners(id));"
                       "INSERT INTO owners VALUES (1, 'Ada'); INSERT INTO pets VALUES (1, 1), (2, 99);")
    conn.close()
    before = shop_module.file_digest(path)
    policy = parse_policy("version: 1\nsecret_env: JANEDOE_TEST_SECRET\ndefault: keep\ntables:\n  owners:\n"
                          "    columns:\n      name: {mask: pseudonymize, kind: name}\n", "p.yaml")
    with pytest.raises(JaneDoeInputError, match="pets: 1 rows break a foreign key"):
        anonymize_in_place(policy, path, apply=True)
    assert shop_module.file_digest(path) == before
